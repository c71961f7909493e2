// `stacklens ml-service` end to end: the real binary as a child process, an in-process librdkafka
// mock cluster (3 brokers, over TCP) and PostgreSQL (STACKLENS_TEST_PG_DSN; run through the
// harness). A fleet of 1,000 services with 7 days of history in analytics_metrics_1hour; the
// service trains each one's models on its first message, then:
//   BM_Throughput      N messages produced while the service is paused (SIGSTOP), then the
//                      rate at which it works through that backlog: consumes, processes,
//                      writes and commits (from 20 % to 90 % of it). The producer, which in a
//                      deployment runs elsewhere, thus neither shares the two cores with the
//                      service nor paces it;
//   BM_LatencyAt5000   5,000 messages/s for 8 s; p50/p99 from the message's Kafka timestamp
//                      (set when the producer is handed the message, so its linger counts) until
//                      the message's outputs are durable (PostgreSQL rows written, produced
//                      messages acknowledged) and its offset committed: the service's
//                      stacklens_message_latency_seconds histogram. Each repetition runs on its
//                      own database, mock cluster (3 partitions) and service process, trained
//                      first by one message per service and waited for: the mock finds a fetch
//                      offset by walking the partition's message sets from the start, so a log
//                      that grew over earlier runs would measure the mock, not the service;
//   rss_mb             resident memory of the service with the 1,000 services' models;
//   msgs_per_service_cpu_s  messages per CPU-second the service process used (all its threads);
//   service_us/msg, postgres_us/msg, mock_us/msg  CPU per message of the service, of PostgreSQL
//                      (postmaster and children) and of this process (the mock cluster), over the
//                      same 20-90 % of the burst.
// Usage: tests/harness/with-servers --bin build/bin build/bench/bench_ml_service
//        [--benchmark_repetitions=3]
// STACKLENS_BENCH_BIN: another stacklens binary to run (A/B of builds); STACKLENS_BENCH_SERVICE_ENV:
// one VAR=value for the service.
#include <benchmark/benchmark.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/mock_cluster.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/core/sim/fleet_simulator.h"

// After the engine headers: <resolv.h>, which httplib includes, defines _res, an Eigen parameter name.
#include <httplib.h>

extern char** environ;

namespace {

using namespace stacklens;
using Clock = std::chrono::steady_clock;

constexpr int kServices = 1000;
constexpr int kHistoryHours = 168;
constexpr const char* kTopic = "bench-analytics-alerts";
// The throughput burst of 100,000 messages must fit in the mock's ~5 MiB per partition.
constexpr int kThroughputPartitions = 12;
// Few partitions, so that each holds few message sets (see BM_LatencyAt5000).
constexpr int kLatencyPartitions = 3;

std::string metricsText(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5);
  const auto response = client.Get("/metrics");
  return response ? response->body : std::string();
}

double metricValue(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

// The sum of a family's labelled series (name{...} value).
double sumOf(const std::string& text, const std::string& name) {
  double total = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name + "{", 0) == 0) total += std::stod(line.substr(line.rfind(' ') + 1));
  return total;
}

// Cumulative bucket counts of a histogram: upper bound → count.
std::map<double, double> buckets(const std::string& text, const std::string& name) {
  std::map<double, double> out;
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string bound = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
    out[bound == "+Inf" ? 1e300 : std::stod(bound)] = std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

// The q-quantile of the observations between two histogram snapshots, interpolated in its bucket.
double quantile(const std::map<double, double>& before, const std::map<double, double>& after, double q) {
  double total = 0;
  for (const auto& [bound, count] : after) total = std::max(total, count - (before.contains(bound) ? before.at(bound) : 0));
  double previousBound = 0, previousCount = 0;
  for (const auto& [bound, count] : after) {
    const double n = count - (before.contains(bound) ? before.at(bound) : 0);
    if (n >= q * total) {
      const double share = n > previousCount ? (q * total - previousCount) / (n - previousCount) : 0;
      return previousBound + share * (std::min(bound, previousBound * 4 + 1) - previousBound);
    }
    previousBound = bound, previousCount = n;
  }
  return previousBound;
}

// CPU seconds (user + system, all threads) the process has used.
double cpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds this run's PostgreSQL has used: the postmaster (its pid heads postmaster.pid in the
// data directory the harness names) and its children, the backends and background workers.
// Backends that exited meanwhile are not counted, so over a window it can only fall short.
double postgresCpuSeconds() {
  const char* data = std::getenv("STACKLENS_TEST_PG_DATA");
  if (data == nullptr) return 0;
  std::ifstream pidFile(std::string(data) + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidFile >> postmaster)) return 0;
  double total = cpuSeconds(postmaster);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    if (text.empty()) continue;
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string state;
    pid_t parent = 0;
    if (fields >> state >> parent && parent == postmaster) total += cpuSeconds(static_cast<pid_t>(std::stol(name)));
  }
  return total;
}

long residentKb(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

// VmRSS once the service has been idle for a moment: it returns freed memory to the OS at most
// once a second (ServiceRuntime), so a reading right after a batch would count that batch's
// transient allocations. The peak (VmHWM) is reported separately.
long settledResidentKb(pid_t pid) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  return residentKb(pid, "VmRSS:");
}

struct Fixture {
  std::string adminDsn, database, dsn;
  std::unique_ptr<connect::MockCluster> cluster;
  std::unique_ptr<connect::KafkaProducer> producer;  // destroyed before the cluster
  std::unique_ptr<core::sim::FleetSimulator> fleet;
  pid_t service = -1;
  int port = 0;
  int nextHour = kHistoryHours;
  double consumed = 0;
  long rssAfterTraining = 0;

  explicit Fixture(int partitions) {
    const char* env = std::getenv("STACKLENS_TEST_PG_DSN");
    if (env == nullptr || *env == '\0') return;
    static int instances = 0;
    const int instance = instances++;
    adminDsn = env;
    database = "sl_bench_ml_" + std::to_string(::getpid()) + "_" + std::to_string(instance);
    connect::PgConnection admin(adminDsn);
    admin.execute("DROP DATABASE IF EXISTS " + database);
    admin.execute("CREATE DATABASE " + database);
    dsn = adminDsn + " dbname=" + database;
    connect::PgConnection db(dsn);
    connect::MigrationRunner().migrate(db);

    core::sim::FleetConfig config;
    config.services = kServices;
    config.hours = kHistoryHours + 2000;
    config.quietHours = kHistoryHours;
    fleet = std::make_unique<core::sim::FleetSimulator>(config);
    connect::PgSettings settings;
    settings.dsn = dsn;
    settings.poolMin = 1;
    connect::PgStore store(settings);
    std::vector<core::ServiceMetrics> rows;
    for (int h = 0; h < kHistoryHours; ++h) {
      for (const auto& sample : fleet->hour(h)) rows.push_back(sample.metrics);
      if (rows.size() >= 20000) store.writeMetrics(rows), rows.clear();
    }
    store.writeMetrics(rows);

    cluster = std::make_unique<connect::MockCluster>(3);
    cluster->createTopic(kTopic, partitions);
    // The output topics exist, as in a deployment: a topic the mock creates on the first produce
    // holds that batch's flush for a metadata round (seen as ~2 s latency spikes).
    cluster->createTopic("bench-ml-anomalies", partitions);
    cluster->createTopic("bench-ml-patterns", partitions);
    startService(instance);
    // Each service's first message trains its models on its history.
    produceHours(1, 0);
    waitConsumed(kServices, std::chrono::seconds(300));
    rssAfterTraining = settledResidentKb(service);
  }

  ~Fixture() {
    if (service > 0) {
      ::kill(service, SIGTERM);
      int status = 0;
      ::waitpid(service, &status, 0);
    }
    if (database.empty()) return;
    connect::PgConnection admin(adminDsn);
    admin.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  void startService(int instance) {
    port = 18005 + (::getpid() + 7 * instance) % 1000;
    const char* binOverride = std::getenv("STACKLENS_BENCH_BIN");
    const std::string bin = binOverride != nullptr && *binOverride != '\0'
                                ? std::string(binOverride)
                                : std::string(STACKLENS_BENCH_BIN_DIR) + "/stacklens";
    std::vector<std::string> variables = {"STACKLENS_KAFKA_BOOTSTRAP_SERVERS=" + cluster->bootstrapServers(),
                                          "STACKLENS_KAFKA_GROUP_ID=bench-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(instance),
                                          "STACKLENS_POSTGRES_DSN=" + dsn,
                                          "STACKLENS_HTTP_BIND=127.0.0.1",
                                          "STACKLENS_HTTP_PORT=" + std::to_string(port),
                                          "STACKLENS_ML_INPUT_TOPIC=" + std::string(kTopic),
                                          "STACKLENS_ML_ANOMALIES_TOPIC=bench-ml-anomalies",
                                          "STACKLENS_ML_PATTERNS_TOPIC=bench-ml-patterns",
                                          "STACKLENS_LOG_LEVEL=warn"};
    if (const char* extra = std::getenv("STACKLENS_BENCH_SERVICE_ENV")) variables.push_back(extra);
    for (char** e = environ; *e != nullptr; ++e) variables.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& v : variables) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string command = "ml-service";
    char* argv[] = {const_cast<char*>(bin.c_str()), command.data(), nullptr};
    if (::posix_spawn(&service, bin.c_str(), nullptr, nullptr, argv, envp.data()) != 0) service = -1;
  }

  double consumedNow() const { return metricValue(metricsText(port), "stacklens_messages_in_total"); }

  bool waitConsumed(double target, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (consumedNow() >= target) {
        consumed = target;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Produces `hours` hours of the fleet (one message per service and hour), `rate` messages per
  // second (0: at once). Returns the messages produced.
  std::size_t produceHours(int hours, double rate) {
    // One producer for the fixture's life, as in a deployment: a new one holds its first messages
    // while it fetches metadata and connects to the leaders (seen as ~1 s on the mock), which would
    // count as the service's latency.
    if (!producer) {
      const char* linger = std::getenv("STACKLENS_BENCH_LINGER_MS");
      producer = std::make_unique<connect::KafkaProducer>(connect::KafkaProperties{
          {"bootstrap.servers", cluster->bootstrapServers()},
          {"linger.ms", linger != nullptr && *linger != '\0' ? linger : "2"}});
    }
    const auto begin = Clock::now();
    std::size_t sent = 0;
    for (int h = nextHour; h < nextHour + hours; ++h)
      for (const auto& sample : fleet->hour(h)) {
        if (rate > 0) std::this_thread::sleep_until(begin + std::chrono::duration<double>(sent / rate));
        producer->produce(kTopic, sample.metrics.service, connect::encodeServiceMetrics(sample.metrics));
        ++sent;
      }
    nextHour += hours;
    producer->flush(std::chrono::seconds(60));
    return sent;
  }
};

// The throughput benchmark's service and cluster, kept across its repetitions (the burst's
// figures include a service that has been running). BM_LatencyAt5000 ends them first: an idle
// service still fetches, and the mock walks the burst's long logs for every fetch.
std::unique_ptr<Fixture>& throughputFixture() {
  static std::unique_ptr<Fixture> f;
  return f;
}

Fixture& fixture() {
  auto& f = throughputFixture();
  if (!f) f = std::make_unique<Fixture>(kThroughputPartitions);
  return *f;
}

void BM_Throughput(benchmark::State& state) {
  Fixture& f = fixture();
  if (f.service <= 0) return state.SkipWithError("needs STACKLENS_TEST_PG_DSN (run through tests/harness/with-servers)");
  const int hours = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const double start = f.consumed;
    const double burst = static_cast<double>(hours) * kServices;
    ::kill(f.service, SIGSTOP);  // well within the consumer's session timeout
    f.produceHours(hours, 0);
    ::kill(f.service, SIGCONT);
    // The rate between 20 % and 90 % of the burst: neither the start nor the tail.
    f.waitConsumed(start + 0.2 * burst, std::chrono::seconds(600));
    const auto t0 = Clock::now();
    const double cpu0 = cpuSeconds(f.service), postgres0 = postgresCpuSeconds(), bench0 = cpuSeconds(::getpid());
    f.waitConsumed(start + 0.9 * burst, std::chrono::seconds(600));
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpuSeconds(f.service) - cpu0;
    const double postgres = postgresCpuSeconds() - postgres0, bench = cpuSeconds(::getpid()) - bench0;
    f.waitConsumed(start + burst, std::chrono::seconds(600));
    state.SetIterationTime(seconds);
    state.counters["msgs_per_s"] = 0.7 * burst / seconds;
    // What the service would do with the CPU it used to itself (the machine is shared).
    state.counters["msgs_per_service_cpu_s"] = 0.7 * burst / cpu;
    // Per message, in µs of CPU: the service, PostgreSQL, and this process (the mock cluster).
    // Their sum against the two cores' 2 s a second bounds the throughput the machine can give.
    state.counters["service_us/msg"] = 1e6 * cpu / (0.7 * burst);
    state.counters["postgres_us/msg"] = 1e6 * postgres / (0.7 * burst);
    state.counters["mock_us/msg"] = 1e6 * bench / (0.7 * burst);
  }
  state.counters["rss_mb"] = static_cast<double>(settledResidentKb(f.service)) / 1024.0;
  state.counters["rss_mb_after_training"] = static_cast<double>(f.rssAfterTraining) / 1024.0;
  state.counters["rss_peak_mb"] = static_cast<double>(residentKb(f.service, "VmHWM:")) / 1024.0;
}
BENCHMARK(BM_Throughput)->Arg(100)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_LatencyAt5000(benchmark::State& state) {
  throughputFixture().reset();
  for (auto _ : state) {
    Fixture f(kLatencyPartitions);  // trained: one message per service, consumed and committed
    if (f.service <= 0) return state.SkipWithError("needs STACKLENS_TEST_PG_DSN (run through tests/harness/with-servers)");
    const std::string start = metricsText(f.port);
    const auto before = buckets(start, "stacklens_message_latency_seconds");
    const double cpu0 = cpuSeconds(f.service);
    const auto t0 = Clock::now();
    const double sent = static_cast<double>(f.produceHours(40, 5000));  // 40,000 messages, 8 s
    f.waitConsumed(f.consumed + sent, std::chrono::seconds(120));
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    const std::string end = metricsText(f.port);
    const auto after = buckets(end, "stacklens_message_latency_seconds");
    state.counters["p50_ms"] = 1000 * quantile(before, after, 0.50);
    const auto delta = [&](const std::string& name) { return metricValue(end, name) - metricValue(start, name); };
    state.counters["batches"] = delta("stacklens_batches_total");
    state.counters["batch_ms"] = 1000 * delta("stacklens_batch_seconds_sum") / delta("stacklens_batch_seconds_count");
    state.counters["retries"] = sumOf(end, "stacklens_retries_total") - sumOf(start, "stacklens_retries_total") +
                                delta("stacklens_pg_retries_total");
    state.counters["p99_ms"] = 1000 * quantile(before, after, 0.99);
    state.counters["service_cpu_share"] = (cpuSeconds(f.service) - cpu0) /
                                          std::chrono::duration<double>(Clock::now() - t0).count();
  }
}
BENCHMARK(BM_LatencyAt5000)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
