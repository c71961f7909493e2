// `stacklens replay FILE.csv`: produce a service-format CSV to a Kafka topic, keyed by service.
#include <iostream>

#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/service_metrics_csv.h"

#include "commands.h"
#include "kafka_options.h"

namespace stacklens::headless {
namespace {

struct ReplayOptions {
  std::string file;
  std::string topic = "analytics-alerts";
  std::string service = "service";
  KafkaCliOptions kafka;
};

void run(const ReplayOptions& options) {
  const auto table = connect::toServiceMetrics(connect::readCsvFile(options.file), options.service);
  connect::KafkaProducer producer(options.kafka.toProperties());
  for (const auto& sample : table.samples)
    producer.produce(options.topic, sample.service, connect::encodeServiceMetrics(sample));
  if (const int failed = producer.flush(std::chrono::seconds(60)); failed > 0)
    failCommand("replay", std::to_string(failed) + " messages were not delivered", kExitFailure);
  std::cout << "produced " << table.samples.size() << " messages from " << options.file << " to " << options.topic
            << '\n';
}

}  // namespace

void addReplayCommand(CLI::App& app) {
  auto options = std::make_shared<ReplayOptions>();
  CLI::App* sub = app.add_subcommand("replay", "Produce a service-format CSV file to a Kafka topic, keyed by service");
  sub->add_option("file", options->file, "CSV: timestamp,[service,]error_rate,...,total_requests[,label]")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--topic", options->topic, "Kafka topic")->capture_default_str();
  sub->add_option("--service", options->service, "Service name when the file has no service column")
      ->capture_default_str();
  addKafkaOptions(*sub, options->kafka, /*required=*/true);
  sub->callback([options] {
    try {
      run(*options);
    } catch (const connect::CsvError& e) {
      failCommand("replay", e.what(), kExitBadInput);
    } catch (const connect::KafkaError& e) {
      failCommand("replay", e.what(), kExitFailure);
    }
  });
}

}  // namespace stacklens::headless
