#include "stacklens/connect/service_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace stacklens::connect {
namespace {

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

std::vector<ConfigKey> buildKeys() {
  using C = ServiceConfig;
  std::vector<ConfigKey> keys = {
      stringKey("kafka.bootstrap_servers", "Kafka bootstrap servers, host:port,...", &C::kafka,
                &KafkaSettings::bootstrapServers),
      stringKey("kafka.group_id", "Consumer group (default: stacklens-ml-service / stacklens-predictive-alerter)",
                &C::kafka, &KafkaSettings::groupId),
      stringKey("postgres.dsn", "libpq connection string or URI, without the password", &C::postgres,
                &PostgresSettings::dsn),
      stringKey("postgres.password_file",
                "File holding the PostgreSQL password (else STACKLENS_PG_PASSWORD or PGPASSWORD)", &C::postgres,
                &PostgresSettings::passwordFile),
      choiceKey("postgres.sslmode", "libpq sslmode", &C::postgres, &PostgresSettings::sslMode,
                {"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
      stringKey("postgres.sslrootcert", "CA certificate for verify-ca/verify-full", &C::postgres,
                &PostgresSettings::sslRootCert),
      intKey("postgres.pool_min", "Connections kept open", &C::postgres, &PostgresSettings::poolMin, 1, 100),
      intKey("postgres.pool_max", "Most connections open at once", &C::postgres, &PostgresSettings::poolMax, 1, 100),
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
      intKey("ml.max_message_bytes", "Larger messages go to the dead-letter topic", &C::ml,
             &MlServiceSettings::maxMessageBytes, 256, 16 * 1024 * 1024),
      intKey("ml.batch_size", "Messages processed, written and committed together", &C::ml,
             &MlServiceSettings::batchSize, 1, 100000),
      intKey("ml.batch_timeout_ms", "Longest wait to fill a batch", &C::ml, &MlServiceSettings::batchTimeoutMs, 1,
             60000),
      stringKey("alerter.input_topic", "Topic of anomalies", &C::alerter, &AlerterSettings::inputTopic),
      stringKey("alerter.alerts_topic", "Topic for predictive alerts", &C::alerter, &AlerterSettings::alertsTopic),
      intKey("alerter.history_hours", "Hours of history loaded per forecast", &C::alerter,
             &AlerterSettings::historyHours, 1, 24 * 365),
      stringKey("alerter.order", "ARIMA order: auto, or p,d,q[,P,D,Q,s]", &C::alerter, &AlerterSettings::order),
      intKey("alerter.horizon", "Forecast steps (hours)", &C::alerter, &AlerterSettings::horizon, 1, 24 * 90),
      {"alerter.level", "Prediction interval level, percent", [](const C& c) { return formatDouble(c.alerter.level); },
       [](C& c, const std::string& text) { c.alerter.level = parseDouble("alerter.level", text, 50, 99.9); }},
      intKey("alerter.capacity_every", "Run a capacity forecast every this many messages", &C::alerter,
             &AlerterSettings::capacityEvery, 1, 10000000),
  };
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
  if (const auto* f = node.as_floating_point()) return formatDouble(f->get());
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

ServiceConfig loadServiceConfig(const std::string& file, const Environment& env) {
  ServiceConfig config;
  if (!file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      const auto& source = e.source();
      throw ConfigError(file + ":" + std::to_string(source.begin.line) + ": " + std::string(e.description()));
    }
    applyTable(config, table, "", file);
  }
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
  static constexpr const char* kPassThrough[] = {"security.protocol", "sasl.mechanism",
                                                 "sasl.username",     "sasl.password",
                                                 "ssl.ca.location",   "ssl.certificate.location",
                                                 "ssl.key.location",  "ssl.key.password",
                                                 "client.id",         "enable.ssl.certificate.verification"};
  for (const char* property : kPassThrough) {
    std::string name = "STACKLENS_KAFKA_PROPERTY_";
    for (const char* c = property; *c; ++c) name += *c == '.' ? '_' : static_cast<char>(std::toupper(*c));
    if (const auto value = env(name)) config.kafka.properties[property] = *value;
  }
  if (config.postgres.poolMin > config.postgres.poolMax)
    throw ConfigError("postgres.pool_min (" + std::to_string(config.postgres.poolMin) +
                      ") exceeds postgres.pool_max (" + std::to_string(config.postgres.poolMax) + ")");
  return config;
}

std::string ServiceConfig::resolvedPostgresDsn(const Environment& env) const {
  std::string dsn = postgres.dsn;
  auto append = [&dsn](const std::string& key, const std::string& value) {
    std::string escaped;
    for (char c : value) escaped += (c == '\'' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    dsn += " " + key + "='" + escaped + "'";
  };
  if (!postgres.sslMode.empty()) append("sslmode", postgres.sslMode);
  if (!postgres.sslRootCert.empty()) append("sslrootcert", postgres.sslRootCert);
  std::optional<std::string> password = env("STACKLENS_PG_PASSWORD");
  if (!password && !postgres.passwordFile.empty()) {
    std::ifstream in(postgres.passwordFile);
    if (!in) throw ConfigError("postgres.password_file: cannot read " + postgres.passwordFile);
    std::string line;
    std::getline(in, line);
    password = line;
  }
  if (password) append("password", *password);  // else libpq falls back to PGPASSWORD / ~/.pgpass
  return dsn;
}

std::string describeServiceConfig() {
  const ServiceConfig defaults;
  std::ostringstream out;
  out << "Configuration keys (TOML file via --config; each also set by its environment variable):\n";
  for (const ConfigKey& key : serviceConfigKeys()) {
    const std::string value = key.get(defaults);
    out << "  " << key.name << "  [" << key.environmentName() << "]  default: " << (value.empty() ? "\"\"" : value)
        << "\n      " << key.description << '\n';
  }
  out << "  kafka.properties.<name>  [STACKLENS_KAFKA_PROPERTY_<NAME>]\n"
         "      librdkafka properties passed through (security.protocol, sasl.*, ssl.* ...)\n"
         "  PostgreSQL password: STACKLENS_PG_PASSWORD, PGPASSWORD or postgres.password_file; never an argument.\n";
  return out.str();
}

}  // namespace stacklens::connect
