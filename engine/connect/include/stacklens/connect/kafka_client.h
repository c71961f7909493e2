#pragma once
// Thin RAII wrappers over librdkafka's C API: a producer and a consumer that speak to any Kafka
// cluster (a real one or librdkafka's mock) through the ordinary client code.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct rd_kafka_s;

namespace stacklens::connect {

/// librdkafka configuration properties, passed through as they are (bootstrap.servers,
/// security.protocol, sasl.*, ssl.* ...). See librdkafka's CONFIGURATION.md.
using KafkaProperties = std::map<std::string, std::string>;

/// Any Kafka client error; the message names the operation and librdkafka's reason.
class KafkaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KafkaMessage {
  std::string topic;
  int partition = -1;
  std::int64_t offset = -1;
  std::string key;
  std::string value;
};

struct KafkaHandleDeleter {
  void operator()(rd_kafka_s* handle) const noexcept;
};
using KafkaHandle = std::unique_ptr<rd_kafka_s, KafkaHandleDeleter>;

class KafkaProducer {
 public:
  /// Throws KafkaError on an invalid property.
  explicit KafkaProducer(const KafkaProperties& properties);

  /// Queues a message; the delivery happens in the background. Throws KafkaError when the
  /// local queue is full after waiting or the topic name is invalid.
  void produce(const std::string& topic, const std::string& key, const std::string& value);

  /// Waits until every queued message is delivered or `timeout` passes; returns the number of
  /// messages that failed delivery so far (0 when all were acknowledged). Throws on time-out.
  int flush(std::chrono::milliseconds timeout);

 private:
  KafkaHandle handle_;
  std::unique_ptr<int> failedDeliveries_;
};

class KafkaConsumer {
 public:
  /// `properties` must include group.id. Throws KafkaError on an invalid property.
  explicit KafkaConsumer(const KafkaProperties& properties);
  ~KafkaConsumer();

  void subscribe(const std::vector<std::string>& topics);

  /// Returns the next message, or nullopt when none arrived within `timeout`. Partition EOF and
  /// transient broker errors are not messages; fatal errors throw KafkaError.
  std::optional<KafkaMessage> poll(std::chrono::milliseconds timeout);

  /// Synchronously commits the current offsets of the assignment.
  void commit();

  /// Leaves the group (also done by the destructor).
  void close();

 private:
  KafkaHandle handle_;
  bool closed_ = false;
};

}  // namespace stacklens::connect
