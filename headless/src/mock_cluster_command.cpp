// `stacklens mock-cluster`: runs librdkafka's Kafka-protocol mock cluster until SIGINT/SIGTERM.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "stacklens/connect/mock_cluster.h"

#include "commands.h"

namespace stacklens::headless {
namespace {

std::atomic<bool> stopRequested{false};

void requestStop(int) {
  stopRequested = true;
}

struct MockClusterOptions {
  int brokers = 3;
  std::string bootstrapFile;
  std::vector<std::string> topics;
};

// Writes via a temporary file and rename, so a reader never sees a half-written list.
void writeAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) failCommand("mock-cluster", "cannot write " + temporary, kExitFailure);
    out << text << '\n';
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    failCommand("mock-cluster", "cannot rename to " + path, kExitFailure);
}

void createTopics(connect::MockCluster& cluster, const std::vector<std::string>& specs) {
  for (const std::string& spec : specs) {
    const auto colon = spec.rfind(':');
    const std::string name = spec.substr(0, colon);
    int partitions = 1;
    if (colon != std::string::npos) {
      try {
        partitions = std::stoi(spec.substr(colon + 1));
      } catch (const std::exception&) {
        throw CLI::ValidationError("--topic", "'" + spec + "': partitions must be a number (NAME:PARTITIONS)");
      }
    }
    cluster.createTopic(name, partitions);
  }
}

int run(const MockClusterOptions& options) {
  try {
    connect::MockCluster cluster(options.brokers);
    createTopics(cluster, options.topics);
    const std::string bootstrap = cluster.bootstrapServers();
    std::signal(SIGINT, requestStop);
    std::signal(SIGTERM, requestStop);
    if (!options.bootstrapFile.empty()) writeAtomically(options.bootstrapFile, bootstrap);
    std::cout << bootstrap << std::endl;
    while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
  } catch (const connect::KafkaError& e) {
    failCommand("mock-cluster", e.what(), kExitFailure);
  }
}

}  // namespace

void addMockClusterCommand(CLI::App& app) {
  auto options = std::make_shared<MockClusterOptions>();
  CLI::App* sub =
      app.add_subcommand("mock-cluster",
                         "Run librdkafka's Kafka-protocol mock cluster on random local ports until interrupted "
                         "(for tests and the offline demo; no Kafka broker needed)");
  sub->add_option("--brokers", options->brokers, "Number of brokers")->check(CLI::Range(1, 16))->capture_default_str();
  sub->add_option("--bootstrap-file", options->bootstrapFile,
                  "Write the bootstrap server list to this file once the brokers listen");
  sub->add_option("--topic", options->topics, "Create a topic up front, as NAME or NAME:PARTITIONS (repeatable)");
  sub->callback([options] {
    if (const int code = run(*options); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace stacklens::headless
