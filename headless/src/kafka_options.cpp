#include "kafka_options.h"

namespace stacklens::headless {

connect::KafkaProperties KafkaCliOptions::toProperties() const {
  connect::KafkaProperties result{{"bootstrap.servers", bootstrap}};
  for (const std::string& property : properties) {
    const auto equals = property.find('=');
    if (equals == std::string::npos || equals == 0)
      throw CLI::ValidationError("-X", "'" + property + "' is not NAME=VALUE");
    result[property.substr(0, equals)] = property.substr(equals + 1);
  }
  return result;
}

void addKafkaOptions(CLI::App& command, KafkaCliOptions& options, bool required) {
  CLI::Option* bootstrap = command.add_option("--kafka", options.bootstrap, "Kafka bootstrap servers (host:port,...)")
                               ->envname("STACKLENS_KAFKA_BOOTSTRAP");
  if (required) bootstrap->required();
  command.add_option("-X", options.properties,
                     "librdkafka property NAME=VALUE, repeatable (e.g. -X security.protocol=SASL_SSL)");
}

}  // namespace stacklens::headless
