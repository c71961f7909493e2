#pragma once
// Everything the store says to each table, in one place per table (pg_tables.cpp): the merge
// statement of batched writes, the encoding of a record into its columns, the prepared readers
// and updates, and the decoding of their rows. The tables themselves are defined by
// sql/migrations.

#include <span>
#include <string_view>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/core/records.h"

#include "pg_batch.h"

namespace stacklens::connect::detail {

/// How a batch reaches a table: one prepared INSERT ... SELECT ... FROM unnest(<one array per
/// column>) WITH ORDINALITY ... ON CONFLICT, atomic on its own and one round trip.
struct BatchTable {
  std::string_view name;              ///< target table, for messages
  std::span<const ColumnType> types;  ///< element types of mergeSql's array parameters, in order
  std::string_view mergeName;         ///< prepared statement name of mergeSql
  std::string_view mergeSql;          ///< the merge; affected rows = rows new or changed
  /// Optional fast path for tables whose merge only skips rows already there (DO NOTHING): the
  /// same INSERT without ON CONFLICT, tried first. It spares the server the arbiter index probe
  /// before every row; a batch that meets a row already stored fails whole (unique violation)
  /// and goes again through mergeSql, so the outcome is the merge's either way.
  std::string_view insertName = {};
  std::string_view insertSql = {};

  /// The parameter types to prepare mergeSql with (arrays of `types`).
  std::vector<unsigned int> parameterTypes() const;
};

extern const BatchTable kMetricsTable;
extern const BatchTable kAnomaliesTable;
extern const BatchTable kPatternsTable;
extern const BatchTable kTrendsTable;
extern const BatchTable kForecastsTable;
extern const BatchTable kAlertsTable;
extern const BatchTable kModelsTable;

/// Appends one record to the batch. Throws PgError(kInput)
/// naming the table, record and field when the record cannot be stored.
void encodeRow(ColumnBatch& out, std::size_t index, const core::ServiceMetrics& row);
void encodeRow(ColumnBatch& out, std::size_t index, const core::AnomalyRecord& row);
void encodeRow(ColumnBatch& out, std::size_t index, const core::PatternRecord& row);
void encodeRow(ColumnBatch& out, std::size_t index, const core::TrendRecord& row);
void encodeRow(ColumnBatch& out, std::size_t index, const core::ForecastRecord& row);
void encodeRow(ColumnBatch& out, std::size_t index, const core::PredictiveAlert& row);

/// A model version as saveModels writes it.
struct ModelRow {
  const core::ModelRecord* record;
  bool active;                 ///< the version to leave active (the record's flag may be overridden)
  std::string service;  ///< for splitting a batch by service
};
/// The rows to write for `models` so that the outcome is that of saving them one by one in
/// order, and the one-active index holds after each row: of repeated ids the last, only the
/// last active version of each service and model type active, the inactive rows first.
std::vector<ModelRow> modelRowsInWriteOrder(std::span<const core::ModelRecord> models);
void encodeRow(ColumnBatch& out, std::size_t index, const ModelRow& model);

/// A statement prepared on every pooled connection.
struct Statement {
  std::string_view name;
  std::string_view sql;
};

// Names of the prepared readers and updates (parameters in the comments).
inline constexpr std::string_view kLoadHistory = "load_history";                       // service, from, to
inline constexpr std::string_view kHistoryServices = "history_services";               // from, to
inline constexpr std::string_view kLoadAnomalies = "load_anomalies";                   // service, from, to
inline constexpr std::string_view kSetAnomalyResolved = "set_anomaly_resolved";        // id, resolved, note
inline constexpr std::string_view kLoadActiveModel = "load_active_model";              // service, type
inline constexpr std::string_view kLoadModels = "load_models";                         // service
inline constexpr std::string_view kLoadAlerts = "load_alerts";                         // service, since, unsent, limit
inline constexpr std::string_view kMarkAlertsSent = "mark_alerts_sent";                // ids (text[])
inline constexpr std::string_view kMarkAlertMaterialized = "mark_alert_materialized";  // id, when
inline constexpr std::string_view kRecordForecastActual = "record_forecast_actual";    // service, metric, t, value
inline constexpr std::string_view kLoadOpenAlerts = "load_open_alerts";                // service, at, limit
inline constexpr std::string_view kRollUpAnomalyStats = "roll_up_anomaly_stats";       // (none)
inline constexpr std::string_view kMarkAlertsMaterialized =
    "mark_alerts_materialized";  // ids (text[]), whens (bigint[])

/// The readers and updates to prepare on every connection, and the batch tables (whose merges
/// are prepared too).
std::span<const Statement> preparedStatements();
std::span<const BatchTable* const> batchTables();


core::ServiceMetrics decodeMetrics(const PgResult& result, int row);
core::AnomalyRecord decodeAnomaly(const PgResult& result, int row);
core::ModelRecord decodeModel(const PgResult& result, int row);
core::PredictiveAlert decodeAlert(const PgResult& result, int row);

}  // namespace stacklens::connect::detail
