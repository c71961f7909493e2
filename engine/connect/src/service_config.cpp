#include "stacklens/connect/service_config.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace stacklens::connect {
namespace {

// Kafka properties that STACKLENS_KAFKA_PROPERTY_<NAME> may set: the injected environment cannot
// be listed, so the names are known ones (security and identity); a file's [kafka.properties]
// takes any librdkafka property.
constexpr const char* kPassThrough[] = {"security.protocol",
                                        "sasl.mechanism",
                                        "sasl.username",
                                        "sasl.password",
                                        "sasl.oauthbearer.config",
                                        "ssl.ca.location",
                                        "ssl.certificate.location",
                                        "ssl.key.location",
                                        "ssl.key.password",
                                        "ssl.keystore.location",
                                        "ssl.keystore.password",
                                        "ssl.endpoint.identification.algorithm",
                                        "enable.ssl.certificate.verification",
                                        "client.id"};

std::string passThroughEnvironmentName(const char* property) {
  std::string name = "STACKLENS_KAFKA_PROPERTY_";
  for (const char* c = property; *c; ++c) name += *c == '.' ? '_' : static_cast<char>(std::toupper(*c));
  return name;
}

int parseInt(const std::string& name, const std::string& text, int min, int max) {
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    if (used == text.size() && value >= min && value <= max) return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  throw ConfigError(name + ": '" + text + "' is not a whole number in [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
}

double parseDouble(const std::string& name, const std::string& text, double min, double max) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value >= min && value <= max) return value;
  } catch (const std::exception&) {
  }
  throw ConfigError(name + ": '" + text + "' is not a number in [" + std::to_string(min) + ", " + std::to_string(max) +
                    "]");
}

std::string formatDouble(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Shortest text that reads back to the same double.
std::string preciseDouble(double value) {
  for (int precision = 6; precision <= 17; ++precision) {
    std::ostringstream out;
    out.precision(precision);
    out << value;
    if (std::stod(out.str()) == value) return out.str();
  }
  return formatDouble(value);
}

// Key builders: each binds a name and description to one member of ServiceConfig.
template <typename Section>
ConfigKey stringKey(std::string name, std::string description, Section ServiceConfig::*section,
                    std::string Section::*field) {
  return {name, std::move(description), [=](const ServiceConfig& c) { return c.*section.*field; },
          [=](ServiceConfig& c, const std::string& text) { c.*section.*field = text; }};
}

template <typename Section>
ConfigKey intKey(std::string name, std::string description, Section ServiceConfig::*section, int Section::*field,
                 int min, int max) {
  return {name, std::move(description), [=](const ServiceConfig& c) { return std::to_string(c.*section.*field); },
          [=](ServiceConfig& c, const std::string& text) { c.*section.*field = parseInt(name, text, min, max); }};
}

template <typename Section>
ConfigKey choiceKey(std::string name, std::string description, Section ServiceConfig::*section,
                    std::string Section::*field, std::initializer_list<const char*> allowed) {
  std::vector<const char*> choices(allowed);
  return {name, std::move(description), [=](const ServiceConfig& c) { return c.*section.*field; },
          [=](ServiceConfig& c, const std::string& text) {
            for (const char* value : choices)
              if (text == value) return void(c.*section.*field = text);
            std::string all;
            for (const char* value : choices) all += all.empty() ? value : std::string(", ") + value;
            throw ConfigError(name + ": '" + text + "' is not one of " + all);
          }};
}

// [ml.detection]: the ML pipeline's settings beyond min_training_samples and retrain_every.
void appendDetectionKeys(std::vector<ConfigKey>& keys) {
  using P = core::pipeline::MlPipelineConfig;
  using C = ServiceConfig;
  auto key = [&](const char* name, const char* description, std::function<std::string(const P&)> get,
                 std::function<void(P&, const std::string& name, const std::string&)> set) {
    const std::string full = std::string("ml.detection.") + name;
    keys.push_back({full, description, [get](const C& c) { return get(c.ml.detection); },
                    [set, full](C& c, const std::string& text) { set(c.ml.detection, full, text); }});
  };
  auto integer = [&](const char* name, const char* description, int P::*field, int min, int max) {
    key(name, description, [field](const P& p) { return std::to_string(p.*field); },
        [field, min, max](P& p, const std::string& n, const std::string& t) { p.*field = parseInt(n, t, min, max); });
  };
  // "auto" or a number, for the settings the engine can choose itself (0 / nullopt inside).
  auto autoInt = [&](const char* name, const char* description, int (*get)(const P&), void (*set)(P&, int), int min,
                     int max) {
    key(name, description, [get](const P& p) { return get(p) > 0 ? std::to_string(get(p)) : std::string("auto"); },
        [set, min, max](P& p, const std::string& n, const std::string& t) { set(p, t == "auto" ? 0 : parseInt(n, t, min, max)); });
  };
  auto autoDouble = [&](const char* name, const char* description, std::optional<double> (*get)(const P&),
                        void (*set)(P&, std::optional<double>), double min, double max) {
    key(name, description, [get](const P& p) { return get(p) ? preciseDouble(*get(p)) : std::string("auto"); },
        [set, min, max](P& p, const std::string& n, const std::string& t) {
          set(p, t == "auto" ? std::nullopt : std::optional<double>(parseDouble(n, t, min, max)));
        });
  };
  auto real = [&](const char* name, const char* description, double (*get)(const P&), void (*set)(P&, double),
                  double min, double max) {
    key(name, description, [get](const P& p) { return preciseDouble(get(p)); },
        [set, min, max](P& p, const std::string& n, const std::string& t) { set(p, parseDouble(n, t, min, max)); });
  };
  integer("history_capacity", "Samples kept per service (the models train on them)", &P::historyCapacity, 2, 10000000);
  autoDouble("contamination", "Isolation forest: expected share of anomalies, or auto",
             [](const P& p) { return p.anomaly.forest.contamination; },
             [](P& p, std::optional<double> v) { p.anomaly.forest.contamination = v; }, 1e-6, 0.5);
  key("trees", "Isolation forest: trees", [](const P& p) { return std::to_string(p.anomaly.forest.trees); },
      [](P& p, const std::string& n, const std::string& t) { p.anomaly.forest.trees = parseInt(n, t, 1, 100000); });
  autoInt("max_samples", "Isolation forest: samples per tree, or auto (min(256, n))",
          [](const P& p) { return p.anomaly.forest.maxSamples; }, [](P& p, int v) { p.anomaly.forest.maxSamples = v; },
          2, 10000000);
  key("standardize", "Standardise the features before the forest",
      [](const P& p) { return std::string(p.anomaly.standardize ? "true" : "false"); },
      [](P& p, const std::string& n, const std::string& t) {
        if (t != "true" && t != "false") throw ConfigError(n + ": '" + t + "' is not true or false");
        p.anomaly.standardize = t == "true";
      });
  autoDouble("dbscan_eps", "DBSCAN radius in standardised units, or auto (k-distance knee)",
             [](const P& p) { return p.patterns.eps; }, [](P& p, std::optional<double> v) { p.patterns.eps = v; }, 1e-9,
             1e9);
  key("dbscan_min_samples", "DBSCAN min_samples", [](const P& p) { return std::to_string(p.patterns.minSamples); },
      [](P& p, const std::string& n, const std::string& t) { p.patterns.minSamples = parseInt(n, t, 1, 100000); });
  real("pattern_shift_threshold", "Share distance at which a window is a pattern shift",
       [](const P& p) { return p.patterns.windowShiftThreshold; },
       [](P& p, double v) { p.patterns.windowShiftThreshold = v; }, 0, 1);
  integer("trend_window", "Samples analysed for each trend record", &P::trendWindow, 3, 10000000);
  key("trend_degree", "Polynomial degree of the trend", [](const P& p) { return std::to_string(p.trends.trend.degree); },
      [](P& p, const std::string& n, const std::string& t) { p.trends.trend.degree = parseInt(n, t, 0, 5); });
  autoInt("seasonal_lag", "Seasonality lag in samples, or auto (the dominant period)",
          [](const P& p) { return p.trends.seasonalLag; }, [](P& p, int v) { p.trends.seasonalLag = v; }, 1, 1000000);
  key("change_point_method", "Change points: two_window, cusum or bocpd",
      [](const P& p) { return std::string(core::detect::toString(p.trends.changePoints.method)); },
      [](P& p, const std::string& n, const std::string& t) {
        const auto method = core::detect::changePointMethodFromString(t);
        if (!method) throw ConfigError(n + ": '" + t + "' is not one of two_window, cusum, bocpd");
        p.trends.changePoints.method = *method;
      });
  key("change_point_window", "Samples that set a change-point baseline",
      [](const P& p) { return std::to_string(p.trends.changePoints.window); },
      [](P& p, const std::string& n, const std::string& t) { p.trends.changePoints.window = parseInt(n, t, 3, 1000000); });
  key("consensus_rule", "How the three detectors decide: any, majority, unanimous or weighted",
      [](const P& p) { return std::string(core::detect::toString(p.consensus.rule)); },
      [](P& p, const std::string& n, const std::string& t) {
        const auto rule = core::detect::consensusRuleFromString(t);
        if (!rule) throw ConfigError(n + ": '" + t + "' is not one of any, majority, unanimous, weighted");
        p.consensus.rule = *rule;
      });
  real("severity_medium", "Consensus score from which an anomaly is medium",
       [](const P& p) { return p.consensus.severity.medium; }, [](P& p, double v) { p.consensus.severity.medium = v; },
       0, 1);
  real("severity_high", "Consensus score from which an anomaly is high",
       [](const P& p) { return p.consensus.severity.high; }, [](P& p, double v) { p.consensus.severity.high = v; }, 0,
       1);
  real("severity_critical", "Consensus score from which an anomaly is critical",
       [](const P& p) { return p.consensus.severity.critical; },
       [](P& p, double v) { p.consensus.severity.critical = v; }, 0, 1);
}

std::vector<ConfigKey> buildKeys() {
  using C = ServiceConfig;
  std::vector<ConfigKey> keys = {
      stringKey("kafka.bootstrap_servers", "Kafka bootstrap servers, host:port,...", &C::kafka,
                &KafkaSettings::bootstrapServers),
      stringKey("kafka.group_id", "Consumer group (default: stacklens-ml-service / stacklens-predictive-alerter)",
                &C::kafka, &KafkaSettings::groupId),
      stringKey("postgres.dsn", "libpq connection string or URI, without the password", &C::postgres,
                &PgSettings::dsn),
      stringKey("postgres.password_file",
                "File holding the PostgreSQL password (first line; else STACKLENS_PG_PASSWORD, PGPASSWORD or ~/.pgpass)", &C::postgres,
                &PgSettings::passwordFile),
      choiceKey("postgres.sslmode", "libpq sslmode", &C::postgres, &PgSettings::sslMode,
                {"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
      stringKey("postgres.sslrootcert", "CA certificate for verify-ca/verify-full", &C::postgres,
                &PgSettings::sslRootCert),
      intKey("postgres.pool_min", "Connections kept open", &C::postgres, &PgSettings::poolMin, 1, 64),
      intKey("postgres.pool_max", "Most connections open at once", &C::postgres, &PgSettings::poolMax, 1, 64),
      stringKey("http.bind", "Address of the health and metrics endpoint", &C::http, &HttpSettings::bind),
      intKey("http.port", "Port of /healthz, /readyz, /metrics (0: 8005 ml-service, 8006 alerter)", &C::http,
             &HttpSettings::port, 0, 65535),
      choiceKey("log.level", "Log level", &C::log, &LogSettings::level, {"trace", "debug", "info", "warn", "error"}),
      choiceKey("log.format", "Log format: one JSON object per line, or text", &C::log, &LogSettings::format,
                {"json", "text"}),
      stringKey("ml.input_topic", "Topic of service metrics", &C::ml, &MlServiceSettings::inputTopic),
      stringKey("ml.anomalies_topic", "Topic for detected anomalies", &C::ml, &MlServiceSettings::anomaliesTopic),
      stringKey("ml.patterns_topic", "Topic for behaviour patterns", &C::ml, &MlServiceSettings::patternsTopic),
      stringKey("ml.dead_letter_topic", "Topic for invalid messages, with the reason", &C::ml,
                &MlServiceSettings::deadLetterTopic),
      intKey("ml.history_days", "Days of analytics_metrics_1hour to train a new service on", &C::ml,
             &MlServiceSettings::historyDays, 1, 365),
      intKey("ml.min_training_samples", "Samples needed before a model is trained", &C::ml,
             &MlServiceSettings::minTrainingSamples, 10, 1000000),
      intKey("ml.retrain_every", "Retrain a service's models after this many messages", &C::ml,
             &MlServiceSettings::retrainEvery, 1, 10000000),
      intKey("ml.retrain_swap_after",
             "A refit runs in the background; its models score from the service's N-th next message", &C::ml,
             &MlServiceSettings::retrainSwapAfter, 1, 1000000),
      intKey("ml.refit_threads",
             "Threads that refit models in the background (0: one per CPU core); services that reach their "
             "refit together, as a fleet does every retrain_every hours, are refitted side by side",
             &C::ml, &MlServiceSettings::refitThreads, 0, 256),
      intKey("ml.scoring_threads",
             "Threads a batch is scored on (0: one per CPU core); each service stays on one of them, so its "
             "messages are handled in order",
             &C::ml, &MlServiceSettings::scoringThreads, 0, 256),
      intKey("ml.max_message_bytes", "Larger messages go to the dead-letter topic", &C::ml,
             &MlServiceSettings::maxMessageBytes, 256, 16 * 1024 * 1024),
      intKey("ml.batch_size", "Messages processed, written and committed together", &C::ml,
             &MlServiceSettings::batchSize, 1, 100000),
      intKey("ml.batch_timeout_ms", "Longest wait to fill a batch", &C::ml, &MlServiceSettings::batchTimeoutMs, 1,
             60000),
      intKey("ml.batches_in_flight",
             "Batches being written and committed (in order) while the next ones are scored, at most", &C::ml,
             &MlServiceSettings::batchesInFlight, 1, 64),
      stringKey("alerter.input_topic", "Topic of anomalies", &C::alerter, &AlerterSettings::inputTopic),
      stringKey("alerter.alerts_topic", "Topic for predictive alerts", &C::alerter, &AlerterSettings::alertsTopic),
      intKey("alerter.history_hours",
             "Hours of analytics_metrics_1hour re-read per anomaly (new and corrected rows; the models use "
             "alerter.model_history_hours)",
             &C::alerter,
             &AlerterSettings::historyHours, 1, 24 * 365),
      {"alerter.order", "ARIMA order: auto, or p,d,q[,P,D,Q,s]", [](const C& c) { return c.alerter.order; },
       [](C& c, const std::string& text) {
         try {
           core::pipeline::parseForecastOrder(text);
         } catch (const std::invalid_argument& e) {
           throw ConfigError(std::string("alerter.order: ") + e.what());
         }
         c.alerter.order = text;
       }},
      intKey("alerter.horizon", "Forecast steps (hours)", &C::alerter, &AlerterSettings::horizon, 1, 24 * 90),
      {"alerter.level", "Prediction interval level, percent", [](const C& c) { return preciseDouble(c.alerter.level); },
       [](C& c, const std::string& text) { c.alerter.level = parseDouble("alerter.level", text, 50, 99.9); }},
      intKey("alerter.capacity_every", "Run a capacity forecast every this many messages", &C::alerter,
             &AlerterSettings::capacityEvery, 1, 10000000),
      stringKey("alerter.dead_letter_topic", "Topic for invalid anomalies, with the reason", &C::alerter,
                &AlerterSettings::deadLetterTopic),
      intKey("alerter.model_history_hours",
             "Hours of history the forecast models are fitted on (read once per service, then kept up to date)",
             &C::alerter, &AlerterSettings::modelHistoryHours, 1, 24 * 365),
      intKey("alerter.season", "Seasonal period of automatic orders, hours (1: none)", &C::alerter,
             &AlerterSettings::season, 1, 24 * 7),
      intKey("alerter.min_samples", "Hourly values a metric needs before it is forecast", &C::alerter,
             &AlerterSettings::minSamples, 4, 100000),
      intKey("alerter.refit_every_hours",
             "Hours of new data before orders (auto) and coefficients are estimated again; in between each new "
             "hour only updates the model's state (0: estimate every hour)",
             &C::alerter, &AlerterSettings::refitEveryHours, 0, 24 * 365),
      {"alerter.order_search_seconds", "Bound of one automatic order search, seconds (0: none)",
       [](const C& c) { return preciseDouble(c.alerter.orderSearchSeconds); },
       [](C& c, const std::string& text) {
         c.alerter.orderSearchSeconds = parseDouble("alerter.order_search_seconds", text, 0, 3600);
       }},
      {"alerter.alert_probability", "Raise a predictive alert at this breach probability or more",
       [](const C& c) { return preciseDouble(c.alerter.alertProbability); },
       [](C& c, const std::string& text) {
         c.alerter.alertProbability = parseDouble("alerter.alert_probability", text, 0.01, 1);
       }},
      intKey("alerter.capacity_horizon_hours", "Look-ahead of capacity forecasts, hours", &C::alerter,
             &AlerterSettings::capacityHorizonHours, 1, 24 * 365),
      intKey("alerter.batch_size", "Anomalies processed, written and committed together", &C::alerter,
             &AlerterSettings::batchSize, 1, 100000),
      intKey("alerter.batch_timeout_ms", "Longest wait to fill a batch", &C::alerter, &AlerterSettings::batchTimeoutMs,
             1, 60000),
      intKey("alerter.batches_in_flight",
             "Batches being written and committed (in order) while the next ones are handled, at most", &C::alerter,
             &AlerterSettings::batchesInFlight, 1, 64),
  };
  appendDetectionKeys(keys);
  return keys;
}

const ConfigKey* findKey(const std::string& name) {
  for (const ConfigKey& key : serviceConfigKeys())
    if (key.name == name) return &key;
  return nullptr;
}

std::string nodeText(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) return preciseDouble(f->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  throw ConfigError("expected a string, number or boolean");
}

std::string where(const std::string& file, const toml::node& node) {
  return file + ":" + std::to_string(node.source().begin.line);
}

void applyTable(ServiceConfig& config, const toml::table& table, const std::string& prefix, const std::string& file) {
  for (const auto& [rawKey, node] : table) {
    const std::string name = prefix.empty() ? std::string(rawKey.str()) : prefix + "." + std::string(rawKey.str());
    if (name == "kafka.properties") {
      const auto* properties = node.as_table();
      if (!properties) throw ConfigError(where(file, node) + ": kafka.properties must be a table");
      for (const auto& [property, value] : *properties) {
        try {
          config.kafka.properties[std::string(property.str())] = nodeText(value);
        } catch (const ConfigError& e) {
          throw ConfigError(where(file, value) + ": kafka.properties." + std::string(property.str()) + ": " + e.what());
        }
      }
      continue;
    }
    if (name == "alerter.thresholds" || name == "alerter.capacity") {
      const auto* limits = node.as_table();
      if (!limits) throw ConfigError(where(file, node) + ": " + name + " must be a table of metric = number");
      auto& target = name == "alerter.thresholds" ? config.alerter.thresholds : config.alerter.capacity;
      target.clear();  // the file's table replaces the defaults
      for (const auto& [metric, value] : *limits) {
        const std::string full = name + "." + std::string(metric.str());
        try {
          target[std::string(metric.str())] = parseDouble(full, nodeText(value), -1e300, 1e300);
        } catch (const ConfigError& e) {
          throw ConfigError(where(file, value) + ": " + e.what());
        }
      }
      continue;
    }
    if (const auto* sub = node.as_table()) {
      applyTable(config, *sub, name, file);
      continue;
    }
    const ConfigKey* key = findKey(name);
    if (!key) throw ConfigError(where(file, node) + ": unknown key '" + name + "' (see stacklens --help-config)");
    try {
      key->set(config, nodeText(node));
    } catch (const ConfigError& e) {
      throw ConfigError(where(file, node) + ": " + e.what());
    }
  }
}

}  // namespace

std::string ConfigKey::environmentName() const {
  std::string env = "STACKLENS_";
  for (char c : name) env += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

const std::vector<ConfigKey>& serviceConfigKeys() {
  static const std::vector<ConfigKey> keys = buildKeys();
  return keys;
}

Environment processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
}

core::pipeline::PredictivePipelineConfig alerterPipelineConfig(const ServiceConfig& config) {
  const AlerterSettings& alerter = config.alerter;
  core::pipeline::PredictivePipelineConfig p;
  try {
    p.order = core::pipeline::parseForecastOrder(alerter.order);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("alerter.order: ") + e.what());
  }
  p.historyHours = alerter.historyHours;
  p.modelHistoryHours = alerter.modelHistoryHours;
  p.seasonalPeriod = alerter.season;
  p.minSamples = alerter.minSamples;
  p.refitEveryHours = alerter.refitEveryHours;
  p.orderSearchSeconds = alerter.orderSearchSeconds;
  p.horizon = alerter.horizon;
  p.level = alerter.level;
  p.thresholds = alerter.thresholds;
  p.alertProbability = alerter.alertProbability;
  p.capacityEvery = alerter.capacityEvery;
  p.capacity = alerter.capacity;
  p.capacityHorizonHours = alerter.capacityHorizonHours;
  if (p.modelHistoryHours < p.historyHours)
    throw ConfigError("alerter.model_history_hours (" + std::to_string(p.modelHistoryHours) +
                      ") must be at least alerter.history_hours (" + std::to_string(p.historyHours) + ")");
  try {
    p.validate();
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("[alerter]: ") + e.what());
  }
  return p;
}

namespace {

ServiceConfig fromTable(const toml::table* table, const std::string& source, const Environment& env);

}  // namespace

ServiceConfig loadServiceConfig(const std::string& file, const Environment& env) {
  if (file.empty()) return fromTable(nullptr, file, env);
  toml::table table;
  try {
    table = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const auto& source = e.source();
    throw ConfigError(file + ":" + std::to_string(source.begin.line) + ": " + std::string(e.description()));
  }
  return fromTable(&table, file, env);
}

ServiceConfig parseServiceConfig(std::string_view text, const std::string& source, const Environment& env) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  return fromTable(&table, source, env);
}

std::string writeServiceConfig(const ServiceConfig& config, const std::vector<std::string>& prefixes) {
  // "ml.detection." selects a whole section, "alerter.order" one key.
  auto wanted = [&](const std::string& name) {
    for (const std::string& p : prefixes)
      if (p.ends_with('.') ? name.rfind(p, 0) == 0 : name == p) return true;
    return false;
  };
  // TOML needs types: numbers and booleans bare, everything else quoted.
  auto value = [](const std::string& text) {
    if (text == "true" || text == "false") return text;
    try {
      std::size_t used = 0;
      (void)std::stod(text, &used);
      if (used == text.size() && text.find_first_of("xXpP") == std::string::npos) return text;
    } catch (const std::exception&) {
    }
    std::string quoted = "\"";
    for (char c : text) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return quoted + "\"";
  };
  std::ostringstream out;
  std::string section;
  for (const ConfigKey& key : serviceConfigKeys()) {
    if (!wanted(key.name)) continue;
    const std::string table = key.name.substr(0, key.name.rfind('.'));
    if (table != section) {
      out << (section.empty() ? "" : "\n") << '[' << table << "]\n";
      section = table;
    }
    out << key.name.substr(table.size() + 1) << " = " << value(key.get(config)) << '\n';
  }
  for (const auto& [name, limits] : {std::pair{std::string("alerter.thresholds"), &config.alerter.thresholds},
                                     std::pair{std::string("alerter.capacity"), &config.alerter.capacity}}) {
    if (!wanted(name)) continue;
    out << "\n[" << name << "]\n";
    for (const auto& [metric, limit] : *limits) out << metric << " = " << preciseDouble(limit) << '\n';
  }
  return out.str();
}

core::pipeline::MlPipelineConfig ServiceConfig::pipelineConfig() const {
  core::pipeline::MlPipelineConfig p = ml.detection;
  p.minTrainingSamples = ml.minTrainingSamples;
  p.retrainEvery = ml.retrainEvery;
  p.retrainSwapAfter = ml.retrainSwapAfter;
  return p;
}

namespace {

ServiceConfig fromTable(const toml::table* table, const std::string& source, const Environment& env) {
  ServiceConfig config;
  if (table) applyTable(config, *table, "", source);
  for (const ConfigKey& key : serviceConfigKeys()) {
    if (const auto value = env(key.environmentName())) {
      try {
        key.set(config, *value);
      } catch (const ConfigError& e) {
        throw ConfigError(key.environmentName() + ": " + e.what());
      }
    }
  }
  // Kafka pass-through properties from the environment: well-known prefixes only, since the
  // process environment cannot be listed portably through the injected function.
  for (const char* property : kPassThrough) {
    if (const auto value = env(passThroughEnvironmentName(property))) config.kafka.properties[property] = *value;
  }
  bool dsnHasPassword = false;
  try {
    dsnHasPassword = dsnContainsPassword(config.postgres.dsn);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("postgres.dsn: ") + e.what());
  }
  if (dsnHasPassword)
    throw ConfigError("postgres.dsn must not hold the password: use postgres.password_file or STACKLENS_PG_PASSWORD");
  if (config.postgres.poolMin > config.postgres.poolMax)
    throw ConfigError("postgres.pool_min (" + std::to_string(config.postgres.poolMin) +
                      ") exceeds postgres.pool_max (" + std::to_string(config.postgres.poolMax) + ")");
  return config;
}

}  // namespace

std::string describeServiceConfig() {
  const ServiceConfig defaults;
  std::ostringstream out;
  out << "Configuration keys (TOML file via --config; each also set by its environment variable):\n";
  for (const ConfigKey& key : serviceConfigKeys()) {
    const std::string value = key.get(defaults);
    out << "  " << key.name << "  [" << key.environmentName() << "]  default: " << (value.empty() ? "\"\"" : value)
        << "\n      " << key.description << '\n';
  }
  out << "  kafka.properties.<name>\n"
         "      any librdkafka property, passed through (security.protocol, sasl.*, ssl.* ...); from the\n"
         "      environment:";
  for (const char* property : kPassThrough) out << "\n        " << passThroughEnvironmentName(property) << " -> " << property;
  out << "\n  alerter.thresholds.<metric>\n"
         "      [alerter.thresholds] table: alert threshold per metric (a breach is the metric rising above it);\n"
         "      a file's table replaces the defaults:";
  for (const auto& [metric, value] : defaults.alerter.thresholds) out << ' ' << metric << " = " << preciseDouble(value);
  out << "\n  alerter.capacity.<metric>\n"
         "      [alerter.capacity] table: capacity limit per metric for the capacity forecasts; default: none\n"
         "      (the thresholds serve as limits). Metrics: error_rate, latency_p99_ms, latency_p95_ms,\n"
         "      latency_mean_ms, unique_users, unique_ips, risk_score, total_requests";
  out << "\n"
         "  PostgreSQL password: postgres.password_file, else STACKLENS_PG_PASSWORD, PGPASSWORD or ~/.pgpass; never an\n"
         "      argument.\n";
  return out.str();
}

}  // namespace stacklens::connect
