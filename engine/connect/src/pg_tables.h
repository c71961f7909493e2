#pragma once
// Everything the store says to each table, in one place per table (pg_tables.cpp): the staging
// table and merge statement of batched writes, the COPY encoding of a record, the prepared
// readers and updates, and the decoding of their rows. The tables themselves are defined by
// sql/migrations.

#include <span>
#include <string_view>

#include "pg_copy.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/core/records.h"

namespace stacklens::connect::detail {

/// How a batch reaches a table: COPY into a session-private staging table (emptied at every
/// commit), then one prepared INSERT ... SELECT ... ON CONFLICT that merges it.
struct CopyTable {
  std::string_view name;       ///< target table, for messages
  std::string_view stageDdl;   ///< creates the staging table (once per connection)
  std::string_view copySql;    ///< COPY stage (ord, columns...) FROM STDIN
  std::string_view mergeName;  ///< prepared statement name of mergeSql
  std::string_view mergeSql;   ///< the merge; affected rows = rows new or changed
};

extern const CopyTable kMetricsTable;
extern const CopyTable kAnomaliesTable;
extern const CopyTable kPatternsTable;
extern const CopyTable kTrendsTable;
extern const CopyTable kForecastsTable;
extern const CopyTable kAlertsTable;

/// Appends one record as a COPY row (its position in the batch first). Throws PgError(kInput)
/// naming the table, record and field when the record cannot be stored.
void encodeRow(CopyBuffer& out, std::size_t index, const core::ServiceMetrics& row);
void encodeRow(CopyBuffer& out, std::size_t index, const core::AnomalyRecord& row);
void encodeRow(CopyBuffer& out, std::size_t index, const core::PatternRecord& row);
void encodeRow(CopyBuffer& out, std::size_t index, const core::TrendRecord& row);
void encodeRow(CopyBuffer& out, std::size_t index, const core::ForecastRecord& row);
void encodeRow(CopyBuffer& out, std::size_t index, const core::PredictiveAlert& row);

/// A statement prepared on every pooled connection.
struct Statement {
  std::string_view name;
  std::string_view sql;
};

// Names of the prepared readers and updates (parameters in the comments).
inline constexpr std::string_view kLoadHistory = "load_history";                  // service, from, to
inline constexpr std::string_view kHistoryServices = "history_services";          // from, to
inline constexpr std::string_view kLoadAnomalies = "load_anomalies";              // service, from, to
inline constexpr std::string_view kSetAnomalyResolved = "set_anomaly_resolved";   // id, resolved, note
inline constexpr std::string_view kLoadActiveModel = "load_active_model";         // service, type
inline constexpr std::string_view kLoadModels = "load_models";                    // service
inline constexpr std::string_view kDeactivateModels = "deactivate_models";        // service, type, id
inline constexpr std::string_view kUpsertModel = "upsert_model";                  // see pg_tables.cpp
inline constexpr std::string_view kLoadAlerts = "load_alerts";                    // service, since, unsent, limit
inline constexpr std::string_view kMarkAlertsSent = "mark_alerts_sent";           // ids (text[])
inline constexpr std::string_view kMarkAlertMaterialized = "mark_alert_materialized";  // id, when
inline constexpr std::string_view kRecordForecastActual = "record_forecast_actual";    // service, metric, t, value

/// Every prepared statement, the merges of the COPY tables included, and every staging DDL.
std::span<const Statement> preparedStatements();
std::span<const CopyTable* const> copyTables();

/// Parameters of kUpsertModel, in order.
std::vector<std::string> modelParameters(const core::ModelRecord& model);

core::ServiceMetrics decodeMetrics(const PgResult& result, int row);
core::AnomalyRecord decodeAnomaly(const PgResult& result, int row);
core::ModelRecord decodeModel(const PgResult& result, int row);
core::PredictiveAlert decodeAlert(const PgResult& result, int row);

}  // namespace stacklens::connect::detail
