#pragma once
// The PostgreSQL store of StackLens: batched, idempotent writes of every record of
// stacklens/core/records.h and the readers the services need (history windows, models, alerts,
// anomalies), over a pool of prepared connections.
//
// Writes: a prepared INSERT ... SELECT ... FROM unnest(<one array parameter per column, in
// PostgreSQL's binary format>) ... ON CONFLICT on the record's natural key, so replaying a batch
// never duplicates a row. Anomalies and predictive alerts keep their first version (their
// resolved / sent / materialized state belongs to the operators; an archived anomaly is not
// written again); metrics, patterns, trends and forecasts take the latest version (within a
// batch, the last occurrence; a forecast keeps its recorded actual value). A batch of fewer than
// 512 rows is one statement, so one transaction. A larger one is split by service into up to
// PgSettings::writeConnections parts of at least 256 rows, sent at once on as many pooled
// connections (fewer when the pool has no more free) so that the server works on them in
// parallel; each part is one transaction, and no two parts share a service (nor its aggregate
// rows). A call returns once every part has committed: what it acknowledged is stored. If a part
// fails, the parts already committed stay; the retry or a replay of the batch completes it
// without duplicates. Cost: one round trip per part, O(rows) on the server.
//
// Aggregates: inserting anomalies logs their per-(service, hour) deltas (a trigger, so every
// writer does). After anomaly writes, a thread of the store folds the log into
// ml_anomaly_stats_hourly/daily once per PgSettings::statsRollupInterval (many batches at once);
// with an interval of 0, writeAnomalies folds before it returns. A failed roll-up does not fail a
// write: the deltas stay logged for the next one (Statistics::failedRollups counts them). After a
// roll-up the store vacuums the log (at most once a second), so that the next roll-up does not
// scan the versions this one deleted.
//
// Failures: when the server goes away (restart, failover, network), the call reconnects and
// retries the whole transaction with exponential backoff (PgSettings::retry); because writes
// are idempotent, a retry after an unknown commit outcome cannot duplicate. Anything else
// (a refused value, a constraint) throws PgError at once, naming the table, record and field.
// Thread-safe: calls from several threads use different pooled connections.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stacklens/connect/pg_settings.h"
#include "stacklens/core/records.h"

namespace stacklens::core::pipeline {
struct AlertMaterialization;
}

namespace stacklens::connect {

class PgConnection;
class PgPool;
namespace detail {
struct BatchTable;
}

/// The samples of one service in (from, to], oldest first (`analytics_metrics_1hour`).
struct HistoryWindow {
  /// Fewest samples a model may be trained on (the original: "> 100 samples required").
  static constexpr std::size_t kMinTrainingSamples = 100;

  std::string service;
  core::EpochSeconds from = 0;  ///< exclusive
  core::EpochSeconds to = 0;    ///< inclusive
  std::vector<core::ServiceMetrics> samples;

  /// True with at least kMinTrainingSamples samples (the original's "> 100 samples required
  /// for model training", read as ">= 100").
  bool sufficientForTraining() const { return samples.size() >= kMinTrainingSamples; }
};

/// Which predictive alerts to read: newest first.
struct AlertQuery {
  std::string service;                  ///< empty: every service
  core::EpochSeconds createdSince = 0;  ///< created_at >= this
  bool unsentOnly = false;              ///< only alerts with alert_sent = false
  int limit = 1000;
};

class PgStore {
 public:
  /// The default history window: 7 days, as the original service trains on.
  static constexpr std::chrono::hours kDefaultHistorySpan{24 * 7};

  /// Opens the pool (with the retry policy, so a service may start before its database) and
  /// checks that the schema is at this binary's version. Throws PgError: settings, connection
  /// (after the retry budget), or "run `stacklens db migrate`".
  explicit PgStore(PgSettings settings);
  ~PgStore();
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  // ---- writes: one transaction per call; returns the rows that were new or changed ----
  std::size_t writeMetrics(std::span<const core::ServiceMetrics> rows);
  std::size_t writeAnomalies(std::span<const core::AnomalyRecord> rows);
  std::size_t writePatterns(std::span<const core::PatternRecord> rows);
  std::size_t writeTrends(std::span<const core::TrendRecord> rows);
  std::size_t writeForecasts(std::span<const core::ForecastRecord> rows);
  std::size_t writeAlerts(std::span<const core::PredictiveAlert> rows);
  /// Folds the aggregate deltas that anomaly writes logged into ml_anomaly_stats_hourly/daily
  /// (ml_rollup_anomaly_stats(), one transaction); returns how many log rows it folded.
  std::size_t rollUpAnomalyStats();
  /// Inserts or replaces one model version; when it is active, the service's other versions of
  /// the same model type are deactivated in the same transaction.
  void saveModel(const core::ModelRecord& model);
  /// Saves many model versions in one statement, as saveModel() on each in order would: of
  /// repeated ids the last wins, and per service and model type the last active version stays
  /// active. Returns the rows written.
  std::size_t saveModels(std::span<const core::ModelRecord> models);

  // ---- status changes ----
  /// Sets resolved (the history trigger records it with `note`). False when the id is unknown or
  /// the anomaly already had that status.
  bool setAnomalyResolved(const std::string& anomalyId, bool resolved, const std::string& note = {});
  /// Marks alerts as sent; returns how many changed.
  std::size_t markAlertsSent(std::span<const std::string> alertIds);
  /// Marks an alert as materialized at `when`. False when the id is unknown.
  bool markAlertMaterialized(const std::string& alertId, core::EpochSeconds when);
  /// Marks many alerts materialized in one transaction (the earliest time when an id repeats);
  /// alerts already materialized or unknown are left alone. Returns how many changed.
  std::size_t markAlertsMaterialized(std::span<const core::pipeline::AlertMaterialization> rows);
  /// Records the observed value for forecasts of (service, metric) targeting `targetTime`.
  std::size_t recordForecastActual(const std::string& service, const std::string& metric, core::EpochSeconds targetTime,
                                   double actual);

  // ---- readers ----
  /// The service's samples in (end - span, end]. O(samples) via the primary key index.
  HistoryWindow loadHistory(const std::string& service, core::EpochSeconds end,
                            std::chrono::seconds span = kDefaultHistorySpan);
  /// Services with at least one sample in (end - span, end], sorted.
  std::vector<std::string> historyServices(core::EpochSeconds end, std::chrono::seconds span = kDefaultHistorySpan);
  /// The service's anomalies with from <= timestamp < to, oldest first.
  std::vector<core::AnomalyRecord> loadAnomalies(const std::string& service, core::EpochSeconds from,
                                                 core::EpochSeconds to);
  /// The active version of a model, if any.
  std::optional<core::ModelRecord> loadActiveModel(const std::string& service, const std::string& modelType);
  /// Every version of the service's models, by model type, newest version first.
  std::vector<core::ModelRecord> loadModels(const std::string& service);
  std::vector<core::PredictiveAlert> loadAlerts(const AlertQuery& query);
  /// The service's alerts that may still materialize at `at`: not materialized, window ending at
  /// or after `at`; earliest window first, at most `limit`.
  std::vector<core::PredictiveAlert> loadOpenAlerts(const std::string& service, core::EpochSeconds at,
                                                    int limit = 1000);

  /// Counters for health endpoints and tests.
  struct Statistics {
    std::uint64_t transactions = 0;   ///< committed write transactions
    std::uint64_t retries = 0;        ///< attempts repeated after a retryable failure
    std::uint64_t rollups = 0;        ///< aggregate roll-ups that committed (scheduled or called)
    std::uint64_t failedRollups = 0;  ///< scheduled roll-ups that failed (the next one folds their deltas)
    /// Batch parts whose plain insert met a row already stored and went again as a merge.
    std::uint64_t conflictingInserts = 0;
  };
  Statistics statistics() const;

  PgPool& pool() { return *pool_; }

 private:
  template <typename Fn>
  auto retrying(const std::string& what, Fn&& attempt);
  template <typename Fn>
  auto withRetry(const std::string& what, Fn&& action);
  template <typename Record>
  std::size_t write(const detail::BatchTable& table, std::span<const Record> rows);
  std::size_t merge(const detail::BatchTable& table, const std::vector<std::vector<std::string>>& parts);
  void scheduleRollup();
  bool tryRollUp();
  void vacuumLogIfDue(PgConnection& db);

  PgSettings settings_;
  std::unique_ptr<PgPool> pool_;
  struct Counters;
  std::unique_ptr<Counters> counters_;
  class RollupThread;
  std::once_flag rollupStarted_;
  std::unique_ptr<RollupThread> rollupThread_;
};

}  // namespace stacklens::connect
