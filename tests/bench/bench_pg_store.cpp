// Throughput of the PostgreSQL store against a real server: anomaly rows written per second
// (fresh batches, and a replay of rows already stored) and history rows read per second (7-day
// windows of one service). Needs STACKLENS_TEST_PG_DSN (a superuser DSN); run it through the
// harness, which starts a throwaway server:
//   tests/harness/with-servers --bin build/bin build/bench/bench_pg_store
// It creates and drops its own database. tests/bench/pg_store_reference.py measures the original
// system's write path (psycopg2) on the same server for comparison (run_pg_store_bench runs both).
#include <atomic>
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/sim/fleet_simulator.h"

namespace {

using namespace stacklens;

constexpr core::EpochSeconds kBase = 1705276800;  // 2024-01-15T00:00:00Z
constexpr int kHistoryServices = 200;
constexpr int kHoursPerWeek = 24 * 7;

struct Fixture {
  std::string adminDsn;
  std::string database;
  std::unique_ptr<connect::PgStore> store;
  std::unique_ptr<connect::PgStore> serialStore;  // writeConnections = 1: every batch one statement
  std::atomic<std::int64_t> nextAnomaly{0};

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
    // Pool and write-connection settings from the environment (STACKLENS_PG_WRITE_CONNECTIONS ...).
    connect::PgSettings settings = connect::PgSettings::fromEnvironment();
    settings.dsn = adminDsn + " dbname=" + database;
    store = std::make_unique<connect::PgStore>(settings);
    settings.writeConnections = 1;
    serialStore = std::make_unique<connect::PgStore>(settings);
    seedHistory();
  }

  ~Fixture() {
    if (!store) return;
    store.reset();
    serialStore.reset();
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

  // Thread-safe: each call takes its own block of anomaly numbers.
  std::vector<core::AnomalyRecord> freshAnomalies(std::size_t count) {
    std::vector<core::AnomalyRecord> batch;
    batch.reserve(count);
    const std::int64_t first = nextAnomaly.fetch_add(static_cast<std::int64_t>(count));
    for (std::int64_t n = first; n < first + static_cast<std::int64_t>(count); ++n) {
      core::AnomalyRecord a;
      // A fleet of 1000 services, hour after hour, two anomaly types flagged per anomalous sample.
      a.service = "service-" + std::to_string((n / 2) % 1000);
      a.timestamp = kBase + (n / 2000) * 3600;
      a.type = core::kAllAnomalyTypes[static_cast<std::size_t>(n % 2)];
      a.anomalyId = core::makeAnomalyId(a.service, a.timestamp, a.type);
      a.severity = core::kAllSeverities[static_cast<std::size_t>(n) % core::kAllSeverities.size()];
      a.confidence = 0.5 + 0.001 * static_cast<double>(n % 500);
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

// CPU time the database's server processes have used, from /proc (readable when the benchmark
// runs as root or as the server's user): it shows what a write costs the server whatever the
// machine's load, where wall-clock time shows what this (shared) machine delivered.
double serverCpuSeconds(const std::string& adminDsn, const std::string& database) {
  connect::PgConnection admin(adminDsn);
  const connect::PgResult pids =
      admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", {database});
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int r = 0; r < pids.rows(); ++r) {
    std::ifstream stat("/proc/" + std::string(pids.text(r, 0)) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {  // field 3 is the state
      if (i == 14) utime = std::stod(field);
      if (i == 15) {
        stime = std::stod(field);
        break;
      }
    }
    total += (utime + stime) / ticks;
  }
  return total;
}

double processCpuSeconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

bool ready(benchmark::State& state) {
  if (fixture().store) return true;
  state.SkipWithError("STACKLENS_TEST_PG_DSN is not set: run through tests/harness/with-servers");
  return false;
}

// Arguments: batch size, and 1 to write each batch as one statement or 0 for the store's
// default (a batch of 512 rows or more spread over PgSettings::writeConnections connections).
void BM_WriteAnomalies(benchmark::State& state) {
  if (!ready(state)) return;
  const auto batchSize = static_cast<std::size_t>(state.range(0));
  connect::PgStore& store = state.range(1) == 1 ? *fixture().serialStore : *fixture().store;
  std::size_t rows = 0;
  double clientCpu = 0;
  const double serverCpuBefore = serverCpuSeconds(fixture().adminDsn, fixture().database);
  for (auto _ : state) {
    state.PauseTiming();
    const auto batch = fixture().freshAnomalies(batchSize);
    state.ResumeTiming();
    const double started = processCpuSeconds();
    rows += store.writeAnomalies(batch);
    clientCpu += processCpuSeconds() - started;
  }
  // The aggregates of these rows, not yet folded by the store's roll-up thread, count here too.
  store.rollUpAnomalyStats();
  const double serverCpu = serverCpuSeconds(fixture().adminDsn, fixture().database) - serverCpuBefore;
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["server_us/row"] = 1e6 * serverCpu / static_cast<double>(rows);
  state.counters["client_us/row"] = 1e6 * clientCpu / static_cast<double>(rows);
  // Rows per second of CPU (server + client): the rate with a core to itself.
  state.counters["rows/cpu_s"] = static_cast<double>(rows) / (serverCpu + clientCpu);
}
BENCHMARK(BM_WriteAnomalies)
    ->ArgNames({"rows", "serial"})
    ->Args({100, 0})
    ->Args({1000, 1})
    ->Args({1000, 0})
    ->Args({5000, 1})
    ->Args({5000, 0})
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Several writers at once, each on its own pooled connection (and each batch one statement).
void BM_WriteAnomaliesConcurrently(benchmark::State& state) {
  if (!ready(state)) return;
  std::size_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto batch = fixture().freshAnomalies(1000);
    state.ResumeTiming();
    rows += fixture().serialStore->writeAnomalies(batch);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriteAnomaliesConcurrently)
    ->Threads(2)
    ->Threads(4)
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A replay: every row is already stored, so every row conflicts and nothing changes.
void BM_ReplayAnomalies(benchmark::State& state) {
  if (!ready(state)) return;
  const auto batch = fixture().freshAnomalies(static_cast<std::size_t>(state.range(0)));
  fixture().store->writeAnomalies(batch);
  for (auto _ : state) {
    if (fixture().store->writeAnomalies(batch) != 0) state.SkipWithError("a replay wrote rows");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayAnomalies)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

// The model sets of `services` services, each refitted on a week of the simulated fleet: the
// ml_models rows a refit wave writes (an isolation forest and a DBSCAN model per service).
std::vector<core::ModelRecord> refittedModels(int services, int version) {
  core::sim::FleetConfig fleetConfig;
  fleetConfig.services = services;
  fleetConfig.hours = kHoursPerWeek;
  const core::sim::FleetSimulator fleet(fleetConfig);
  std::vector<std::vector<core::ServiceMetrics>> byService(static_cast<std::size_t>(services));
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto samples = fleet.hour(h);
    for (std::size_t s = 0; s < samples.size(); ++s) byService[s].push_back(samples[s].metrics);
  }
  core::pipeline::MlPipelineConfig config;
  config.retrainEvery = 0;
  core::pipeline::MlPipeline pipeline(config);
  std::vector<core::ModelRecord> models;
  for (const auto& samples : byService)
    for (auto& m : pipeline.train(samples.front().service, samples).models) {
      m.version = version;
      m.modelId = m.service + "|" + m.modelType + "|" + std::to_string(version);
      models.push_back(std::move(m));
    }
  return models;
}

// Refit waves: 20 services' model versions per batch (what a 500-message batch of ml-service
// carries when a partition's services refit together). Argument: 0 with the blobs compressed
// (STORAGE EXTENDED with LZ4, as migration 0009 left it), 1 as migrated (0011: uncompressed).
void BM_SaveModels(benchmark::State& state) {
  if (!ready(state)) return;
  constexpr int kServices = 20;
  const bool uncompressed = state.range(0) == 1;
  {
    connect::PgConnection db(fixture().adminDsn + " dbname=" + fixture().database);
    db.execute("TRUNCATE ml_models");
    db.execute(std::string("ALTER TABLE ml_models ALTER COLUMN model_blob SET STORAGE ") +
               (uncompressed ? "EXTERNAL" : "EXTENDED"));
  }
  std::size_t rows = 0, bytes = 0;
  int version = 1;
  double clientCpu = 0;
  const double serverCpuBefore = serverCpuSeconds(fixture().adminDsn, fixture().database);
  for (auto _ : state) {
    state.PauseTiming();
    const auto models = refittedModels(kServices, version++);
    for (const auto& m : models) bytes += m.blob.size();
    state.ResumeTiming();
    const double started = processCpuSeconds();
    rows += fixture().serialStore->saveModels(models);
    clientCpu += processCpuSeconds() - started;
  }
  const double serverCpu = serverCpuSeconds(fixture().adminDsn, fixture().database) - serverCpuBefore;
  connect::PgConnection db(fixture().adminDsn + " dbname=" + fixture().database);
  const double stored = std::stod(std::string(db.query("SELECT pg_total_relation_size('ml_models')").text(0, 0)));
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["blob_kb/model"] = static_cast<double>(bytes) / 1024.0 / static_cast<double>(rows);
  state.counters["stored_kb/model"] = stored / 1024.0 / static_cast<double>(rows);
  state.counters["server_us/model"] = 1e6 * serverCpu / static_cast<double>(rows);
  state.counters["client_us/model"] = 1e6 * clientCpu / static_cast<double>(rows);
}
BENCHMARK(BM_SaveModels)
    ->ArgName("uncompressed")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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
