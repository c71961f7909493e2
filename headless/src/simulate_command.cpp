// `stacklens simulate`: a realistic fleet with labelled incidents, to CSV files and/or Kafka.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/connect/service_metrics_csv.h"
#include "stacklens/core/sim/fleet_simulator.h"

#include "commands.h"
#include "kafka_options.h"

namespace stacklens::headless {
namespace {

struct SimulateOptions {
  core::sim::FleetConfig fleet;
  int days = 30;
  int hours = 0;
  std::string start = "2026-01-01T00:00:00Z";
  std::string csvDirectory;
  std::string topic = "analytics-alerts";
  double rate = 0;
  KafkaCliOptions kafka;
  std::string postgres;   // DSN of the database whose analytics_metrics_1hour receives samples
  int historyHours = -1;  // with both outputs: hours [0, H) to PostgreSQL only, the rest to Kafka only
};

// The hours each output receives: everything, or a history/stream split.
struct HourRange {
  int begin = 0;
  int end = 0;
};

// Paces production to `rate` messages per second (0: as fast as possible).
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), begin_(std::chrono::steady_clock::now()) {}
  void wait(std::size_t sent) const {
    if (rate_ <= 0) return;
    std::this_thread::sleep_until(begin_ + std::chrono::duration<double>(static_cast<double>(sent) / rate_));
  }

 private:
  double rate_;
  std::chrono::steady_clock::time_point begin_;
};

void writeCsv(const core::sim::FleetSimulator& fleet, const std::string& directory) {
  std::filesystem::create_directories(directory);
  const std::string metricsPath = directory + "/metrics.csv";
  std::ofstream metrics(metricsPath);
  if (!metrics) failCommand("simulate", "cannot write " + metricsPath, kExitFailure);
  connect::writeServiceMetricsHeader(metrics, /*withLabels=*/true);
  for (int h = 0; h < fleet.config().hours; ++h)
    for (const auto& sample : fleet.hour(h)) connect::writeServiceMetricsRow(metrics, sample.metrics, sample.anomalous);

  std::ofstream incidents(directory + "/incidents.csv");
  incidents << "service,kind,start,end,magnitude\n";
  for (const auto& incident : fleet.incidents())
    incidents << incident.service << ',' << core::sim::toString(incident.kind) << ','
              << core::formatTimestamp(incident.start) << ',' << core::formatTimestamp(incident.end) << ','
              << incident.magnitude << '\n';
}

std::size_t writeToPostgres(const core::sim::FleetSimulator& fleet, const SimulateOptions& options, HourRange hours) {
  connect::PgSettings settings = connect::PgSettings::fromEnvironment();
  if (options.postgres != "env") settings.dsn = options.postgres;
  if (connect::dsnContainsPassword(settings.dsn))
    throw CLI::ValidationError("--postgres", "the DSN must not contain a password (use STACKLENS_PG_PASSWORD)");
  settings.poolMin = 1;
  connect::PgStore store(settings);
  std::vector<core::ServiceMetrics> rows;
  std::size_t written = 0;
  for (int h = hours.begin; h < hours.end; ++h) {
    for (const auto& sample : fleet.hour(h)) rows.push_back(sample.metrics);
    if (rows.size() >= 5000 || h + 1 == hours.end) {
      store.writeMetrics(rows);
      written += rows.size();
      rows.clear();
    }
  }
  return written;
}

std::size_t produceToKafka(const core::sim::FleetSimulator& fleet, const SimulateOptions& options, HourRange hours) {
  connect::KafkaProducer producer(options.kafka.toProperties());
  const Pacer pacer(options.rate);
  std::size_t sent = 0;
  for (int h = hours.begin; h < hours.end; ++h)
    for (const auto& sample : fleet.hour(h)) {
      pacer.wait(sent);
      producer.produce(options.topic, sample.metrics.service, connect::encodeServiceMetrics(sample.metrics));
      ++sent;
    }
  if (const int failed = producer.flush(std::chrono::seconds(60)); failed > 0)
    failCommand("simulate", std::to_string(failed) + " messages were not delivered", kExitFailure);
  return sent;
}

void run(SimulateOptions options) {
  const auto start = core::parseTimestamp(options.start);
  if (!start) throw CLI::ValidationError("--start", "'" + options.start + "' is not a timestamp");
  options.fleet.start = *start;
  options.fleet.hours = options.hours > 0 ? options.hours : options.days * 24;
  if (options.csvDirectory.empty() && options.kafka.bootstrap.empty() && options.postgres.empty())
    throw CLI::ValidationError("output", "give --csv DIR, --kafka BOOTSTRAP and/or --postgres DSN");
  const int hours = options.fleet.hours;
  if (options.historyHours > hours)
    throw CLI::ValidationError("--history-hours", "exceeds the " + std::to_string(hours) + " simulated hours");
  const bool split = options.historyHours >= 0 && !options.postgres.empty() && !options.kafka.bootstrap.empty();
  const HourRange toPostgres{0, split ? options.historyHours : hours};
  const HourRange toKafka{split ? options.historyHours : 0, hours};

  const core::sim::FleetSimulator fleet(options.fleet);
  std::size_t anomalous = 0;
  for (int h = 0; h < fleet.config().hours; ++h)
    for (const auto& sample : fleet.hour(h)) anomalous += sample.anomalous;
  if (!options.csvDirectory.empty()) writeCsv(fleet, options.csvDirectory);
  std::size_t stored = 0;
  if (!options.postgres.empty()) stored = writeToPostgres(fleet, options, toPostgres);
  std::size_t produced = 0;
  if (!options.kafka.bootstrap.empty()) produced = produceToKafka(fleet, options, toKafka);

  std::cout << "simulated " << fleet.serviceNames().size() << " services x " << fleet.config().hours << " hours from "
            << core::formatTimestamp(fleet.config().start) << ": " << fleet.incidents().size() << " incidents, "
            << anomalous << " labelled samples";
  if (!options.csvDirectory.empty())
    std::cout << "; wrote " << options.csvDirectory << "/metrics.csv and incidents.csv";
  if (stored > 0) std::cout << "; wrote " << stored << " rows to analytics_metrics_1hour";
  if (produced > 0) std::cout << "; produced " << produced << " messages to " << options.topic;
  std::cout << '\n';
}

}  // namespace

void addSimulateCommand(CLI::App& app) {
  auto options = std::make_shared<SimulateOptions>();
  CLI::App* sub = app.add_subcommand(
      "simulate", "Generate a realistic fleet of services (seasonality, growth, noise, labelled incidents)");
  sub->add_option("--services", options->fleet.services, "Number of services")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--days", options->days, "Days of hourly samples")->check(CLI::Range(1, 3650))->capture_default_str();
  sub->add_option("--hours", options->hours, "Hours of samples (overrides --days)")->check(CLI::Range(1, 87600));
  sub->add_option("--start", options->start, "First hour (ISO-8601)")->capture_default_str();
  sub->add_option("--seed", options->fleet.seed, "Random seed")->capture_default_str();
  sub->add_option("--incident-rate", options->fleet.incidentsPerServiceWeek, "Mean incidents per service per week")
      ->check(CLI::Range(0.0, 168.0))
      ->capture_default_str();
  sub->add_option("--quiet-hours", options->fleet.quietHours, "Hours at the start with no incidents")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--csv", options->csvDirectory,
                  "Write DIR/metrics.csv (service format with labels) and DIR/incidents.csv");
  sub->add_option("--topic", options->topic, "Kafka topic")->capture_default_str();
  sub->add_option("--rate", options->rate, "Messages per second to Kafka (0: as fast as possible)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  addKafkaOptions(*sub, options->kafka, /*required=*/false);
  sub->add_option("--postgres", options->postgres,
                  "Write the samples to analytics_metrics_1hour of this database (libpq DSN without a password; "
                  "'env' takes STACKLENS_PG_DSN)");
  sub->add_option("--history-hours", options->historyHours,
                  "With --postgres and --kafka: the first H hours go to PostgreSQL only (the history a service "
                  "trains on), the later ones to Kafka only (the live stream)")
      ->check(CLI::NonNegativeNumber);
  sub->callback([options] {
    try {
      run(*options);
    } catch (const connect::KafkaError& e) {
      failCommand("simulate", e.what(), kExitFailure);
    } catch (const connect::PgError& e) {
      failCommand("simulate", e.what(), kExitFailure);
    } catch (const std::invalid_argument& e) {
      failCommand("simulate", e.what(), kExitBadInput);
    }
  });
}

}  // namespace stacklens::headless
