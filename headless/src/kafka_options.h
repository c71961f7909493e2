#pragma once
// Kafka connection options shared by the subcommands that produce or consume: the bootstrap list
// (--kafka or STACKLENS_KAFKA_BOOTSTRAP) and librdkafka properties passed through with -X, as kcat
// does (security.protocol, sasl.*, ssl.* ...).

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "stacklens/connect/kafka_client.h"

namespace stacklens::headless {

struct KafkaCliOptions {
  std::string bootstrap;
  std::vector<std::string> properties;  // "name=value"

  /// The librdkafka properties; throws CLI::ValidationError for a -X without '='.
  connect::KafkaProperties toProperties() const;
};

/// Adds --kafka and -X to `command`. With `required`, --kafka (or its variable) must be given.
void addKafkaOptions(CLI::App& command, KafkaCliOptions& options, bool required);

}  // namespace stacklens::headless
