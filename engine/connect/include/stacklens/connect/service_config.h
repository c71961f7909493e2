#pragma once
// Configuration of the headless services: a TOML file, then STACKLENS_* environment variables on top
// (STACKLENS_KAFKA_BOOTSTRAP_SERVERS overrides kafka.bootstrap_servers). One table of keys drives
// loading, the environment names and the --help text, so they cannot drift apart.
// Secrets never come from the command line: the PostgreSQL password comes from STACKLENS_PG_PASSWORD,
// PGPASSWORD or postgres.password_file; Kafka SASL/SSL secrets from [kafka.properties] or
// STACKLENS_KAFKA_PROPERTY_<NAME> (e.g. STACKLENS_KAFKA_PROPERTY_SASL_PASSWORD → sasl.password).

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/connect/pg_settings.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/pipeline/predictive_pipeline.h"

namespace stacklens::connect {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KafkaSettings {
  std::string bootstrapServers = "localhost:9092";
  std::string groupId;                            ///< empty: the service's default group
  std::map<std::string, std::string> properties;  ///< librdkafka pass-through (security.protocol, sasl.*, ssl.*)
};

struct HttpSettings {
  std::string bind = "0.0.0.0";
  int port = 0;  ///< 0: the service's default (8005 ml-service, 8006 predictive-alerter)
};

struct LogSettings {
  std::string level = "info";   ///< trace, debug, info, warn, error
  std::string format = "json";  ///< json or text
};

struct MlServiceSettings {
  std::string inputTopic = "analytics-alerts";
  std::string anomaliesTopic = "ml-anomalies";
  std::string patternsTopic = "ml-patterns";
  std::string deadLetterTopic = "analytics-alerts-dlq";
  int historyDays = 7;
  int minTrainingSamples = 100;
  int retrainEvery = 100;
  int retrainSwapAfter = 1;  ///< messages of a service between a refit's snapshot and its swap
  int refitThreads = 0;      ///< background refit threads; 0: one per CPU core
  int scoringThreads = 0;    ///< threads a batch's services are scored on; 0: one per CPU core
  int maxMessageBytes = 64 * 1024;
  int batchSize = 500;
  /// A batch closes this long after its first message unless it fills first. Under load batches
  /// fill anyway; at a moderate rate this wait is most of a message's latency (measured at 5,000
  /// messages/s: p50 28 ms and p99 51-61 ms at 20 ms, p50 16 ms and p99 37-48 ms at 5 ms).
  int batchTimeoutMs = 5;
  /// Batches handed to the durability stage and not yet written and committed, at most. A batch
  /// carrying a wave of refits' model versions takes 100-300 ms in PostgreSQL; with more than one
  /// in flight the next batches are scored meanwhile instead of the scoring threads idling.
  int batchesInFlight = 4;
  /// [ml.detection]: the rest of the ML pipeline's settings (the workbench's tuning panel writes
  /// them). ServiceConfig::pipelineConfig() adds min_training_samples and retrain_every.
  core::pipeline::MlPipelineConfig detection;
};

struct AlerterSettings {
  std::string inputTopic = "ml-anomalies";
  std::string alertsTopic = "predictive-alerts";
  int historyHours = 4;
  std::string order = "auto";  ///< "auto" or "p,d,q[,P,D,Q,s]"
  int horizon = 24;
  double level = 90;
  int capacityEvery = 100;
  std::string deadLetterTopic = "ml-anomalies-dlq";
  int modelHistoryHours = 168;  ///< window the forecast models are fitted on (history_hours is re-read per anomaly)
  int season = 24;              ///< seasonal period of automatic orders, hours (≤ 1: none)
  int minSamples = 12;          ///< hourly values a metric needs before it is forecast
  int refitEveryHours = 24;     ///< hours of new data between estimations (refreshed in between)
  double orderSearchSeconds = 5;  ///< bound of one automatic order search (0: none)
  double alertProbability = 0.5;
  int capacityHorizonHours = 24 * 30;
  /// Anomalies processed, written and committed together. Small: a batch of services seen for the
  /// first time pays an order search per metric, and the batch must finish within Kafka's
  /// max.poll.interval.ms (5 min by default).
  int batchSize = 10;
  int batchTimeoutMs = 20;
  int batchesInFlight = 1;  ///< as MlServiceSettings::batchesInFlight
  /// [alerter.thresholds]: metric = alert threshold (the original system's defaults).
  std::map<std::string, double> thresholds = core::pipeline::defaultAlertThresholds();
  /// [alerter.capacity]: metric = capacity limit for capacity forecasts.
  std::map<std::string, double> capacity;
};

/// The services' database when none is configured (the compose file's).
inline constexpr const char* kDefaultPostgresDsn = "host=localhost port=5432 dbname=stacklens user=stacklens";

/// PgSettings with kDefaultPostgresDsn.
inline PgSettings defaultServicePostgres() {
  PgSettings settings;
  settings.dsn = kDefaultPostgresDsn;
  return settings;
}

struct ServiceConfig {
  KafkaSettings kafka;
  /// The one PostgreSQL settings type (pg_settings.h): the services hand it to PgStore as it is.
  PgSettings postgres = defaultServicePostgres();
  HttpSettings http;
  LogSettings log;
  MlServiceSettings ml;
  AlerterSettings alerter;

  /// The ML pipeline configuration ml-service runs with: [ml.detection] plus
  /// ml.min_training_samples, ml.retrain_every and ml.retrain_swap_after.
  core::pipeline::MlPipelineConfig pipelineConfig() const;
};

/// One configuration key: its dotted name, environment variable, description and accessors.
struct ConfigKey {
  std::string name;  ///< e.g. "kafka.bootstrap_servers"
  std::string description;
  std::function<std::string(const ServiceConfig&)> get;
  std::function<void(ServiceConfig&, const std::string&)> set;  ///< throws ConfigError on a bad value
  std::string environmentName() const;                          ///< STACKLENS_KAFKA_BOOTSTRAP_SERVERS
};

const std::vector<ConfigKey>& serviceConfigKeys();

/// Reads environment variables; tests inject their own.
using Environment = std::function<std::optional<std::string>(const std::string&)>;
Environment processEnvironment();

/// Loads defaults, then `file` (when not empty), then the environment. Throws ConfigError naming
/// the file, line and key for unknown keys and bad values.
ServiceConfig loadServiceConfig(const std::string& file, const Environment& env);

/// The same from TOML text (`source` names it in messages), e.g. a configuration kept in a
/// workbench workspace.
ServiceConfig parseServiceConfig(std::string_view toml, const std::string& source, const Environment& env);

/// Writes the selected keys as a TOML document that loadServiceConfig reads back to the same
/// values. A selector ending in '.' takes a whole section ("ml.detection."), any other one key
/// ("alerter.order") or table ("alerter.thresholds").
std::string writeServiceConfig(const ServiceConfig& config, const std::vector<std::string>& prefixes);

/// Every key with its environment variable, default and description, for --help.
std::string describeServiceConfig();

/// The predictive alerter's pipeline configuration from [alerter]; throws ConfigError naming
/// the key when the combination is invalid (e.g. model_history_hours < history_hours).
core::pipeline::PredictivePipelineConfig alerterPipelineConfig(const ServiceConfig& config);

}  // namespace stacklens::connect
