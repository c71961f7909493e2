#pragma once
// Thin RAII wrappers over librdkafka's C API: a producer and a consumer that speak to any Kafka
// cluster (a real one or librdkafka's mock) through the ordinary client code.

#include <chrono>
#include <functional>
#include <atomic>
#include <cstdint>
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
  std::int64_t timestampMs = -1;  ///< the message's timestamp (producer create time), ms since the epoch; -1 none
};

/// Where librdkafka's own log lines go (syslog `level` 0..7, facility, message). By default
/// librdkafka prints them to stderr; a service routes them into its JSON log. Set it before
/// creating clients; applies to clients created afterwards.
using KafkaLogHandler = std::function<void(int level, const std::string& facility, const std::string& message)>;
void setKafkaLogHandler(KafkaLogHandler handler);

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

  /// Messages whose delivery failed since the producer was created (delivery reports seen by
  /// flush or poll). A caller that needs every message of a batch delivered compares it before
  /// and after its flush.
  int failedDeliveries() const;

  /// Empty when the cluster answered a metadata request within `timeout`, else librdkafka's
  /// reason. Thread-safe (for readiness probes).
  std::string probe(std::chrono::milliseconds timeout) const;

 private:
  KafkaHandle handle_;
  std::unique_ptr<std::atomic<int>> failedDeliveries_;
};

class KafkaConsumer {
 public:
  /// `properties` must include group.id. Throws KafkaError on an invalid property.
  explicit KafkaConsumer(const KafkaProperties& properties);
  ~KafkaConsumer();

  void subscribe(const std::vector<std::string>& topics);

  /// Instead of subscribing: reads partitions 0..partitions-1 of `topic` from `offset` (default:
  /// the beginning) without joining the group. Throws KafkaError.
  void assign(const std::string& topic, int partitions, std::int64_t offset = kBeginning);
  static constexpr std::int64_t kBeginning = -2;  ///< RD_KAFKA_OFFSET_BEGINNING
  static constexpr std::int64_t kEnd = -1;        ///< RD_KAFKA_OFFSET_END: only messages produced from now on

  /// One partition to read and where to start (an offset, kBeginning or kEnd).
  struct PartitionStart {
    std::string topic;
    int partition = 0;
    std::int64_t offset = kEnd;
  };
  /// Instead of subscribing: reads these partitions too, without joining the group; partitions
  /// already being read continue undisturbed (incremental assignment). Throws KafkaError.
  void addPartitions(const std::vector<PartitionStart>& partitions);

  /// The number of partitions of `topic` from the cluster's metadata; 0 when the topic does not
  /// exist (yet). Throws KafkaError when no broker answers within `timeout`.
  int partitionCount(const std::string& topic, std::chrono::milliseconds timeout);

  /// The offset the next message of the partition will get (its high watermark), asked from
  /// the partition's leader. Throws KafkaError when it does not answer within `timeout`.
  std::int64_t endOffset(const std::string& topic, int partition, std::chrono::milliseconds timeout);

  /// The group's committed offset of each partition 0..partitions-1 of `topic` (-1: none), asked
  /// from the group coordinator without joining. Throws KafkaError.
  std::vector<std::int64_t> committed(const std::string& topic, int partitions, std::chrono::milliseconds timeout);

  /// Returns the next message, or nullopt when none arrived within `timeout`. Partition EOF and
  /// transient broker errors are not messages; fatal errors throw KafkaError.
  std::optional<KafkaMessage> poll(std::chrono::milliseconds timeout);

  enum class CommitResult {
    kCommitted,
    kNothingToCommit,  ///< no message consumed since the last commit
    /// the partitions moved to another member first, or this member's assignment was lost (its
    /// session timed out); they are consumed again from the last committed offsets
    kRebalanced,
  };

  /// Synchronously commits the offsets of the messages poll() returned (with
  /// enable.auto.commit=false, nothing else commits them). Throws KafkaError for other failures
  /// (e.g. no coordinator while the brokers are down): the caller retries.
  CommitResult commit();

  /// Synchronously commits exactly these offsets (PartitionStart::offset = the next offset to
  /// read, i.e. the last processed message's offset + 1), whatever poll() has returned since: for
  /// a caller that consumes ahead of what is durable. Thread-safe with poll(). Same results and
  /// errors as commit().
  CommitResult commit(const std::vector<PartitionStart>& offsets);

  /// Partitions currently assigned to this member of the group (updated during poll()).
  int assignedPartitions() const;

  /// Messages behind the end of the assigned partitions: high watermark minus position, from
  /// librdkafka's cached watermarks (no network round trip). 0 before the first fetch.
  std::int64_t lag() const;

  /// Leaves the group (also done by the destructor).
  void close();

 private:
  KafkaHandle handle_;
  std::unique_ptr<std::atomic<int>> assigned_;
  bool closed_ = false;
};

}  // namespace stacklens::connect
