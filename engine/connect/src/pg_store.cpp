#include "stacklens/connect/pg_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_pool.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"

#include "pg_batch.h"
#include "pg_tables.h"

namespace stacklens::connect {
namespace {

// Every pooled connection: the session settings the decoders rely on and the prepared
// statements.
void setUpConnection(PgConnection& db) {
  db.execute("SET bytea_output = 'hex'; SET TIME ZONE 'UTC'");
  for (const detail::BatchTable* table : detail::batchTables()) {
    db.prepare(std::string(table->mergeName), std::string(table->mergeSql), table->parameterTypes());
    if (!table->insertName.empty())
      db.prepare(std::string(table->insertName), std::string(table->insertSql), table->parameterTypes());
  }
  for (const detail::Statement& statement : detail::preparedStatements())
    db.prepare(std::string(statement.name), std::string(statement.sql));
}

// SQLSTATE unique_violation: the plain insert of a batch met a row already stored.
constexpr std::string_view kUniqueViolation = "23505";

// Rows per connection below which spreading a batch over several costs more than it gains.
constexpr std::size_t kMinRowsPerPart = 256;

// The batch's rows in `parts` parts by service (so that no two parts touch the same service's
// rows or aggregates), each as its array parameters; empty parts are left out. Rows keep their
// order within a part, and their position in the caller's batch for error messages.
template <typename Record>
std::vector<std::vector<std::string>> encodeParts(const detail::BatchTable& table, std::span<const Record> rows,
                                                  std::size_t parts) {
  std::vector<detail::ColumnBatch> batches(parts, detail::ColumnBatch{std::string(table.name), table.types});
  const std::hash<std::string> hash;
  for (std::size_t i = 0; i < rows.size(); ++i)
    detail::encodeRow(batches[parts == 1 ? 0 : hash(rows[i].service) % parts], i, rows[i]);
  std::vector<std::vector<std::string>> encoded;
  for (const detail::ColumnBatch& batch : batches)
    if (batch.rows() > 0) encoded.push_back(batch.parameters());
  return encoded;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor(random)));
}

std::string seconds(std::chrono::steady_clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count() / 1000.0).substr(0, 5) +
         " s";
}

std::vector<core::PredictiveAlert> decodeAlerts(const PgResult& result) {
  std::vector<core::PredictiveAlert> alerts;
  alerts.reserve(static_cast<std::size_t>(result.rows()));
  for (int r = 0; r < result.rows(); ++r) alerts.push_back(detail::decodeAlert(result, r));
  return alerts;
}

}  // namespace

struct PgStore::Counters {
  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> rollups{0};
  std::atomic<std::uint64_t> failedRollups{0};
  std::atomic<std::uint64_t> conflictingInserts{0};
  std::atomic<std::int64_t> lastLogVacuumMs{0};  // steady clock
};

// Folds the aggregate log on a thread of its own, at most once per interval and only after
// anomaly writes, so the writers neither wait for it nor leave a core idle while it runs.
class PgStore::RollupThread {
 public:
  // `fold` returns false when the roll-up failed: the next interval tries again.
  RollupThread(std::chrono::milliseconds interval, std::function<bool()> fold)
      : interval_(interval), fold_(std::move(fold)) {}
  ~RollupThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Called after anomalies were written: a roll-up within the interval will fold them.
  void request() {
    std::lock_guard lock(mutex_);
    requested_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, interval_, [&] { return stop_; });
      if (stop_ || !requested_) continue;
      requested_ = false;
      lock.unlock();
      const bool folded = fold_();
      lock.lock();
      if (!folded) requested_ = true;
    }
  }

  const std::chrono::milliseconds interval_;
  const std::function<bool()> fold_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// Runs `attempt`; on a retryable failure, runs it again after a growing, jittered delay until
// the policy's time budget is spent. Idle pooled connections are dropped when the server went
// away, so the next attempt reconnects.
template <typename Fn>
auto PgStore::retrying(const std::string& what, Fn&& attempt) {
  const auto started = std::chrono::steady_clock::now();
  std::chrono::milliseconds delay = settings_.retry.initialDelay;
  for (int count = 1;; ++count) {
    try {
      return attempt();
    } catch (const PgError& e) {
      if (!e.retryable()) throw PgError(what + ": " + e.what(), e.kind(), e.sqlState());
      if (pool_ && e.kind() == PgError::Kind::kConnection) pool_->closeIdle();
      const auto elapsed = std::chrono::steady_clock::now() - started;
      if (elapsed + delay > settings_.retry.maxElapsed)
        throw PgError(
            what + ": gave up after " + std::to_string(count) + " attempts in " + seconds(elapsed) + ": " + e.what(),
            e.kind(), e.sqlState());
      counters_->retries.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(jittered(delay));
      delay = std::min(delay * 2, settings_.retry.maxDelay);
    }
  }
}

template <typename Fn>
auto PgStore::withRetry(const std::string& what, Fn&& action) {
  return retrying(what, [&] {
    PgPool::Lease lease = pool_->acquire();
    return action(*lease);
  });
}

PgStore::PgStore(PgSettings settings) : settings_(std::move(settings)), counters_(std::make_unique<Counters>()) {
  settings_.validate();
  // The schema first: the pooled connections' setup needs its tables.
  retrying("opening the PostgreSQL store", [&] {
    PgConnection db(settings_);
    MigrationRunner().requireCurrent(db);
    pool_ = std::make_unique<PgPool>(settings_, setUpConnection);
    return 0;
  });
}

// The roll-up thread goes first: it uses the pool.
PgStore::~PgStore() {
  rollupThread_.reset();
}

template <typename Record>
std::size_t PgStore::write(const detail::BatchTable& table, std::span<const Record> rows) {
  const std::size_t parts =
      std::clamp<std::size_t>(rows.size() / kMinRowsPerPart, 1, static_cast<std::size_t>(settings_.writeConnections));
  return merge(table, encodeParts(table, rows, parts));
}

std::size_t PgStore::merge(const detail::BatchTable& table, const std::vector<std::vector<std::string>>& parts) {
  if (parts.empty()) return 0;
  const bool optimistic = !table.insertName.empty();
  // Each part is one statement, so one transaction: it commits whole or not at all, and a retry
  // of the whole batch after an unknown outcome finds the committed parts' rows already there.
  return withRetry("writing to " + std::string(table.name), [&](PgConnection& first) {
    // Without a further connection now, the ones at hand take the parts in turn.
    auto another = [&]() -> std::optional<PgPool::Lease> {
      try {
        return pool_->tryAcquire();
      } catch (const PgError&) {
        return std::nullopt;
      }
    };
    std::vector<PgPool::Lease> more;
    while (more.size() + 1 < parts.size()) {
      std::optional<PgPool::Lease> lease = another();
      if (!lease) break;
      more.push_back(std::move(*lease));
    }
    std::vector<PgConnection*> connections{&first};
    for (PgPool::Lease& lease : more) connections.push_back(&*lease);
    // Parts still to send, with the statement each goes with: the plain insert first where the
    // table has one, the merge for a part whose insert met a row already stored.
    struct Pending {
      const std::vector<std::string>* part;
      std::string_view statement;
    };
    std::vector<Pending> queue;
    for (const auto& part : parts) queue.push_back({&part, optimistic ? table.insertName : table.mergeName});
    std::size_t merged = 0;
    for (std::size_t next = 0; next < queue.size();) {
      // The server runs the parts sent to different connections at the same time.
      // Every result is collected before the connections go back to the pool, also after a failure.
      std::vector<std::pair<PgConnection*, Pending>> busy;
      std::optional<PgError> failure;
      for (PgConnection* db : connections) {
        if (next == queue.size()) break;
        const Pending pending = queue[next++];
        try {
          db->sendPreparedBinary(std::string(pending.statement), *pending.part);
        } catch (const PgError& e) {
          failure = e;
          break;
        }
        busy.emplace_back(db, pending);
      }
      for (auto& [db, pending] : busy) {
        try {
          merged += static_cast<std::size_t>(db->receive(std::string(pending.statement)).affectedRows());
          counters_->transactions.fetch_add(1, std::memory_order_relaxed);
        } catch (const PgError& e) {
          if (optimistic && pending.statement == table.insertName && e.sqlState() == kUniqueViolation) {
            counters_->conflictingInserts.fetch_add(1, std::memory_order_relaxed);
            queue.push_back({pending.part, table.mergeName});
          } else if (!failure) {
            failure = e;
          }
        }
      }
      if (failure) throw *failure;
    }
    return merged;
  });
}

std::size_t PgStore::writeMetrics(std::span<const core::ServiceMetrics> rows) {
  return write(detail::kMetricsTable, rows);
}

std::size_t PgStore::writeAnomalies(std::span<const core::AnomalyRecord> rows) {
  const std::size_t written = write(detail::kAnomaliesTable, rows);
  if (written > 0) scheduleRollup();
  return written;
}

std::size_t PgStore::rollUpAnomalyStats() {
  const auto folded = withRetry("rolling up the anomaly aggregates", [&](PgConnection& db) {
    const auto rows =
        static_cast<std::size_t>(db.queryPrepared(std::string(detail::kRollUpAnomalyStats), {}).toInt64(0, 0));
    vacuumLogIfDue(db);
    return rows;
  });
  counters_->rollups.fetch_add(1, std::memory_order_relaxed);
  return folded;
}

// A roll-up deletes the log rows it folds. Until a vacuum frees them, every later roll-up scans
// their dead versions again, and autovacuum looks at a table at most once a minute: at tens of
// thousands of logged rows a second, the roll-ups' cost would grow with that backlog. The log has
// no index, so a vacuum is one pass over the few pages a second of writes fills. Best effort: a
// role that does not own the table gets a warning and autovacuum (0010's settings) does the work.
void PgStore::vacuumLogIfDue(PgConnection& db) {
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::int64_t last = counters_->lastLogVacuumMs.load(std::memory_order_relaxed);
  if (now - last < 1000 || !counters_->lastLogVacuumMs.compare_exchange_strong(last, now)) return;
  try {
    db.execute("VACUUM ml_anomaly_stats_pending");
  } catch (const PgError&) {
    // The next roll-up tries again a second later; the roll-up itself has committed.
  }
}

void PgStore::scheduleRollup() {
  if (settings_.statsRollupInterval.count() > 0) {
    std::call_once(rollupStarted_, [&] {
      rollupThread_ = std::make_unique<RollupThread>(settings_.statsRollupInterval, [this] { return tryRollUp(); });
    });
    rollupThread_->request();
  } else {
    tryRollUp();
  }
}

// One attempt without the retry policy's waits: the rows are written and their deltas logged, so
// a failed roll-up only leaves them for the next one.
bool PgStore::tryRollUp() {
  try {
    PgPool::Lease lease = pool_->acquire();
    lease->queryPrepared(std::string(detail::kRollUpAnomalyStats));
    counters_->rollups.fetch_add(1, std::memory_order_relaxed);
    vacuumLogIfDue(*lease);
    return true;
  } catch (const PgError&) {
    counters_->failedRollups.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
}

std::size_t PgStore::writePatterns(std::span<const core::PatternRecord> rows) {
  return write(detail::kPatternsTable, rows);
}

std::size_t PgStore::writeTrends(std::span<const core::TrendRecord> rows) {
  return write(detail::kTrendsTable, rows);
}

std::size_t PgStore::writeForecasts(std::span<const core::ForecastRecord> rows) {
  return write(detail::kForecastsTable, rows);
}

std::size_t PgStore::writeAlerts(std::span<const core::PredictiveAlert> rows) {
  return write(detail::kAlertsTable, rows);
}

void PgStore::saveModel(const core::ModelRecord& model) {
  saveModels(std::span(&model, 1));
}

// Statements of up to this many bytes of blobs (two or three refits' models): a batch of 500
// refits holds ~55 MB of them, and encoding it whole held two more copies at once (+50 MB of
// settled RSS in bench_ml_service); 4 MiB and 1 MiB statements still left it 5-10 MB higher
// than 256 KiB (a pooled connection's libpq buffer keeps the size of the largest statement sent).
constexpr std::size_t kModelBytesPerStatement = std::size_t{256} << 10;

std::size_t PgStore::saveModels(std::span<const core::ModelRecord> models) {
  const std::vector<detail::ModelRow> ordered = detail::modelRowsInWriteOrder(models);
  std::span<const detail::ModelRow> rows = ordered;
  std::size_t written = 0;
  while (!rows.empty()) {
    std::size_t count = 0;
    for (std::size_t bytes = 0; count < rows.size() && (count == 0 || bytes < kModelBytesPerStatement); ++count)
      bytes += rows[count].record->blob.size();
    written += write(detail::kModelsTable, rows.first(count));
    rows = rows.subspan(count);
  }
  return written;
}

bool PgStore::setAnomalyResolved(const std::string& anomalyId, bool resolved, const std::string& note) {
  return withRetry("resolving anomaly " + anomalyId, [&](PgConnection& db) {
    return db.queryPrepared(std::string(detail::kSetAnomalyResolved), {anomalyId, resolved ? "true" : "false", note})
               .affectedRows() > 0;
  });
}

std::size_t PgStore::markAlertsSent(std::span<const std::string> alertIds) {
  if (alertIds.empty()) return 0;
  const std::string ids = detail::textArrayLiteral(alertIds);
  return withRetry("marking alerts sent", [&](PgConnection& db) {
    return static_cast<std::size_t>(db.queryPrepared(std::string(detail::kMarkAlertsSent), {ids}).affectedRows());
  });
}

bool PgStore::markAlertMaterialized(const std::string& alertId, core::EpochSeconds when) {
  return withRetry("marking alert " + alertId + " materialized", [&](PgConnection& db) {
    return db.queryPrepared(std::string(detail::kMarkAlertMaterialized), {alertId, std::to_string(when)})
               .affectedRows() > 0;
  });
}

std::size_t PgStore::markAlertsMaterialized(std::span<const core::pipeline::AlertMaterialization> rows) {
  if (rows.empty()) return 0;
  std::vector<std::string> ids;
  std::string whens = "{";
  for (const auto& row : rows) {
    ids.push_back(row.alertId);
    whens += (whens.size() > 1 ? "," : "") + std::to_string(row.at);
  }
  whens += "}";
  const std::string idArray = detail::textArrayLiteral(ids);
  return withRetry("marking alerts materialized", [&](PgConnection& db) {
    return static_cast<std::size_t>(
        db.queryPrepared(std::string(detail::kMarkAlertsMaterialized), {idArray, whens}).affectedRows());
  });
}

std::size_t PgStore::recordForecastActual(const std::string& service, const std::string& metric,
                                          core::EpochSeconds targetTime, double actual) {
  return withRetry("recording a forecast's actual value", [&](PgConnection& db) {
    return static_cast<std::size_t>(
        db.queryPrepared(std::string(detail::kRecordForecastActual),
                         {service, metric, std::to_string(targetTime), detail::formatDouble(actual)})
            .affectedRows());
  });
}

HistoryWindow PgStore::loadHistory(const std::string& service, core::EpochSeconds end, std::chrono::seconds span) {
  HistoryWindow window;
  window.service = service;
  window.to = end;
  window.from = end - span.count();
  window.samples = withRetry("reading the history of " + service, [&](PgConnection& db) {
    const PgResult result = db.queryPrepared(std::string(detail::kLoadHistory),
                                             {service, std::to_string(window.from), std::to_string(window.to)});
    std::vector<core::ServiceMetrics> samples;
    samples.reserve(static_cast<std::size_t>(result.rows()));
    for (int r = 0; r < result.rows(); ++r) samples.push_back(detail::decodeMetrics(result, r));
    return samples;
  });
  return window;
}

std::vector<std::string> PgStore::historyServices(core::EpochSeconds end, std::chrono::seconds span) {
  return withRetry("listing services with history", [&](PgConnection& db) {
    const PgResult result = db.queryPrepared(std::string(detail::kHistoryServices),
                                             {std::to_string(end - span.count()), std::to_string(end)});
    std::vector<std::string> services;
    for (int r = 0; r < result.rows(); ++r) services.emplace_back(result.text(r, 0));
    return services;
  });
}

std::vector<core::AnomalyRecord> PgStore::loadAnomalies(const std::string& service, core::EpochSeconds from,
                                                        core::EpochSeconds to) {
  return withRetry("reading the anomalies of " + service, [&](PgConnection& db) {
    const PgResult result =
        db.queryPrepared(std::string(detail::kLoadAnomalies), {service, std::to_string(from), std::to_string(to)});
    std::vector<core::AnomalyRecord> anomalies;
    anomalies.reserve(static_cast<std::size_t>(result.rows()));
    for (int r = 0; r < result.rows(); ++r) anomalies.push_back(detail::decodeAnomaly(result, r));
    return anomalies;
  });
}

std::optional<core::ModelRecord> PgStore::loadActiveModel(const std::string& service, const std::string& modelType) {
  return withRetry(
      "reading the active " + modelType + " model of " + service,
      [&](PgConnection& db) -> std::optional<core::ModelRecord> {
        const PgResult result = db.queryPrepared(std::string(detail::kLoadActiveModel), {service, modelType});
        if (result.rows() == 0) return std::nullopt;
        return detail::decodeModel(result, 0);
      });
}

std::vector<core::ModelRecord> PgStore::loadModels(const std::string& service) {
  return withRetry("reading the models of " + service, [&](PgConnection& db) {
    const PgResult result = db.queryPrepared(std::string(detail::kLoadModels), {service});
    std::vector<core::ModelRecord> models;
    for (int r = 0; r < result.rows(); ++r) models.push_back(detail::decodeModel(result, r));
    return models;
  });
}

std::vector<core::PredictiveAlert> PgStore::loadAlerts(const AlertQuery& query) {
  return withRetry("reading predictive alerts", [&](PgConnection& db) {
    const PgResult result = db.queryPrepared(std::string(detail::kLoadAlerts),
                                             {query.service, std::to_string(query.createdSince),
                                              query.unsentOnly ? "true" : "false", std::to_string(query.limit)});
    return decodeAlerts(result);
  });
}

std::vector<core::PredictiveAlert> PgStore::loadOpenAlerts(const std::string& service, core::EpochSeconds at,
                                                           int limit) {
  return withRetry("reading the open alerts of " + service, [&](PgConnection& db) {
    const PgResult result =
        db.queryPrepared(std::string(detail::kLoadOpenAlerts), {service, std::to_string(at), std::to_string(limit)});
    return decodeAlerts(result);
  });
}

PgStore::Statistics PgStore::statistics() const {
  return {counters_->transactions.load(std::memory_order_relaxed), counters_->retries.load(std::memory_order_relaxed),
          counters_->rollups.load(std::memory_order_relaxed), counters_->failedRollups.load(std::memory_order_relaxed),
          counters_->conflictingInserts.load(std::memory_order_relaxed)};
}

}  // namespace stacklens::connect
