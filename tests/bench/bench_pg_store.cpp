// Throughput of the PostgreSQL store against a real server: anomaly rows written per second
// (fresh batches, and a replay of rows already stored) and history rows read per second (7-day
// windows of one service). Needs STACKLENS_TEST_PG_DSN (a superuser DSN); run it through the
// harness, which starts a throwaway server:
//   tests/harness/with-servers --bin build/bin build/bench/bench_pg_store
// It creates and drops its own database. tests/bench/pg_store_reference.py measures the original
// system's write path (psycopg2) on the same server for comparison (run_pg_store_bench runs both).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"

namespace {

using namespace stacklens;

constexpr core::EpochSeconds kBase = 1705276800;  // 2024-01-15T00:00:00Z
constexpr int kHistoryServices = 200;
constexpr int kHoursPerWeek = 24 * 7;

struct Fixture {
  std::string adminDsn;
  std::string database;
  std::unique_ptr<connect::PgStore> store;
  std::int64_t nextAnomaly = 0;

  Fixture() {
    const char* dsn = std::getenv("STACKLENS_TEST_PG_DSN");
    if (dsn == nullptr || *dsn == '\0') return;
    adminDsn = dsn;
    database = "sl_bench_" + std::to_string(::getpid());
    connect::PgConnection admin(adminDsn);
    admin.execute("DROP DATABASE IF EXISTS " + database);
    admin.execute("CREATE DATABASE " + database);
    connect::PgConnection db(adminDsn + " dbname=" + database);
    connect::MigrationRunner().migrate(db);
    connect::PgSettings settings;
    settings.dsn = adminDsn + " dbname=" + database;
    store = std::make_unique<connect::PgStore>(settings);
    seedHistory();
  }

  ~Fixture() {
    if (!store) return;
    store.reset();
    connect::PgConnection admin(adminDsn);
    admin.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  // Two weeks of hourly samples for each service: the reads below take the latest week.
  void seedHistory() {
    for (int s = 0; s < kHistoryServices; ++s) {
      std::vector<core::ServiceMetrics> samples;
      for (int h = 0; h < 2 * kHoursPerWeek; ++h) {
        core::ServiceMetrics m;
        m.service = "service-" + std::to_string(s);
        m.timestamp = kBase + h * 3600;
        m.errorRate = 0.5 + 0.01 * (h % 17);
        m.latencyP99Ms = 150 + h % 23;
        m.latencyP95Ms = 100 + h % 19;
        m.latencyMeanMs = 50 + h % 7;
        m.uniqueUsers = 1000 + h;
        m.uniqueIps = 500 + h;
        m.riskScore = 0.3;
        m.totalRequests = 10000 + 10 * h;
        samples.push_back(m);
      }
      store->writeMetrics(samples);
    }
  }

  std::vector<core::AnomalyRecord> freshAnomalies(std::size_t count) {
    std::vector<core::AnomalyRecord> batch;
    batch.reserve(count);
    for (std::size_t i = 0; i < count; ++i, ++nextAnomaly) {
      core::AnomalyRecord a;
      // A fleet of 1000 services, hour after hour, two anomaly types flagged per anomalous sample.
      a.service = "service-" + std::to_string((nextAnomaly / 2) % 1000);
      a.timestamp = kBase + (nextAnomaly / 2000) * 3600;
      a.type = core::kAllAnomalyTypes[static_cast<std::size_t>(nextAnomaly % 2)];
      a.anomalyId = core::makeAnomalyId(a.service, a.timestamp, a.type);
      a.severity = core::kAllSeverities[static_cast<std::size_t>(nextAnomaly) % core::kAllSeverities.size()];
      a.confidence = 0.5 + 0.001 * static_cast<double>(nextAnomaly % 500);
      a.anomalyScore = 0.7;
      a.detectionMethods = {"isolation_forest", "dbscan"};
      a.metricValues = {{"error_rate", 5.5}, {"latency_p99_ms", 900}};
      a.expectedValues = {{"error_rate", 0.5}, {"latency_p99_ms", 150}};
      a.description = "error rate 11x its baseline";
      batch.push_back(std::move(a));
    }
    return batch;
  }
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

bool ready(benchmark::State& state) {
  if (fixture().store) return true;
  state.SkipWithError("STACKLENS_TEST_PG_DSN is not set: run through tests/harness/with-servers");
  return false;
}

void BM_WriteAnomalies(benchmark::State& state) {
  if (!ready(state)) return;
  const auto batchSize = static_cast<std::size_t>(state.range(0));
  std::size_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto batch = fixture().freshAnomalies(batchSize);
    state.ResumeTiming();
    rows += fixture().store->writeAnomalies(batch);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriteAnomalies)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->UseRealTime();

// A replay: every row is already stored, so every row conflicts and nothing changes.
void BM_ReplayAnomalies(benchmark::State& state) {
  if (!ready(state)) return;
  const auto batch = fixture().freshAnomalies(static_cast<std::size_t>(state.range(0)));
  fixture().store->writeAnomalies(batch);
  for (auto _ : state) {
    if (fixture().store->writeAnomalies(batch) != 0) state.SkipWithError("a replay wrote rows");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayAnomalies)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

// 7-day windows of one service (168 rows each), cycling over the services.
void BM_ReadHistory(benchmark::State& state) {
  if (!ready(state)) return;
  const core::EpochSeconds end = kBase + (2 * kHoursPerWeek - 1) * 3600;
  std::size_t rows = 0;
  int service = 0;
  for (auto _ : state) {
    const auto window = fixture().store->loadHistory("service-" + std::to_string(service), end);
    if (window.samples.size() != static_cast<std::size_t>(kHoursPerWeek)) state.SkipWithError("wrong window size");
    rows += window.samples.size();
    service = (service + 1) % kHistoryServices;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadHistory)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
