#include "stacklens/connect/kafka_client.h"

#include <librdkafka/rdkafka.h>

namespace stacklens::connect {
namespace {

KafkaLogHandler& logHandler() {
  static KafkaLogHandler handler;
  return handler;
}

void forwardLog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (logHandler()) logHandler()(level, facility, message);
}

rd_kafka_conf_t* buildConfig(const KafkaProperties& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw KafkaError("Kafka configuration property '" + name + "': " + error);
    }
  }
  if (logHandler()) rd_kafka_conf_set_log_cb(conf, forwardLog);
  return conf;
}

KafkaHandle createHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof error);
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes ownership only on success
    throw KafkaError(std::string("creating Kafka client: ") + error);
  }
  return KafkaHandle(handle);
}

void countFailedDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) static_cast<std::atomic<int>*>(opaque)->fetch_add(1);
}

// Eager rebalancing: take what the group leader assigns, drop everything on revoke, and keep
// the count for assignedPartitions().
void rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
               void* opaque) {
  auto* assigned = static_cast<std::atomic<int>*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(handle, partitions);
    assigned->store(partitions->cnt);
  } else {
    rd_kafka_assign(handle, nullptr);
    assigned->store(0);
  }
}

}  // namespace

void setKafkaLogHandler(KafkaLogHandler handler) { logHandler() = std::move(handler); }

void KafkaHandleDeleter::operator()(rd_kafka_s* handle) const noexcept { rd_kafka_destroy(handle); }

KafkaProducer::KafkaProducer(const KafkaProperties& properties)
    : failedDeliveries_(std::make_unique<std::atomic<int>>(0)) {
  rd_kafka_conf_t* conf = buildConfig(properties);
  rd_kafka_conf_set_dr_msg_cb(conf, countFailedDelivery);
  rd_kafka_conf_set_opaque(conf, failedDeliveries_.get());
  handle_ = createHandle(RD_KAFKA_PRODUCER, conf);
}

void KafkaProducer::produce(const std::string& topic, const std::string& key, const std::string& value) {
  for (int attempt = 0;; ++attempt) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt >= 100)
      throw KafkaError("producing to '" + topic + "': " + rd_kafka_err2str(err));
    rd_kafka_poll(handle_.get(), 100);  // let deliveries drain the queue, then retry
  }
}

int KafkaProducer::flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError(std::string("flushing producer: ") + rd_kafka_err2str(err) + " (" +
                     std::to_string(rd_kafka_outq_len(handle_.get())) + " messages undelivered)");
  return failedDeliveries_->load();
}

int KafkaProducer::failedDeliveries() const { return failedDeliveries_->load(); }

std::string KafkaProducer::probe(std::chrono::milliseconds timeout) const {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle_.get(), /*all_topics=*/0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rd_kafka_err2str(err);
  const int brokers = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  return brokers > 0 ? std::string() : std::string("no brokers in the metadata");
}

KafkaConsumer::KafkaConsumer(const KafkaProperties& properties) : assigned_(std::make_unique<std::atomic<int>>(0)) {
  if (!properties.contains("group.id")) throw KafkaError("Kafka consumer: group.id is required");
  rd_kafka_conf_t* conf = buildConfig(properties);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_conf_set_opaque(conf, assigned_.get());
  handle_ = createHandle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(handle_.get());
}

KafkaConsumer::~KafkaConsumer() { close(); }

void KafkaConsumer::subscribe(const std::vector<std::string>& topics) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& topic : topics) rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(handle_.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw KafkaError(std::string("subscribing: ") + rd_kafka_err2str(err));
}

void KafkaConsumer::assign(const std::string& topic, int partitions, std::int64_t offset) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = offset;
  const rd_kafka_resp_err_t err = rd_kafka_assign(handle_.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw KafkaError(std::string("assigning: ") + rd_kafka_err2str(err));
  assigned_->store(partitions);
}

void KafkaConsumer::addPartitions(const std::vector<PartitionStart>& partitions) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const PartitionStart& p : partitions)
    rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.offset;
  rd_kafka_error_t* error = rd_kafka_incremental_assign(handle_.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error != nullptr) {
    const std::string reason = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw KafkaError("assigning partitions: " + reason);
  }
  assigned_->fetch_add(static_cast<int>(partitions.size()));
}

int KafkaConsumer::partitionCount(const std::string& topic, std::chrono::milliseconds timeout) {
  using Topic = std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)>;
  const Topic handle(rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle_.get(), 0, handle.get(), &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError("metadata of " + topic + ": " + rd_kafka_err2str(err));
  int count = 0;
  if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    count = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);
  return count;
}

std::int64_t KafkaConsumer::endOffset(const std::string& topic, int partition, std::chrono::milliseconds timeout) {
  std::int64_t low = 0;
  std::int64_t high = 0;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(handle_.get(), topic.c_str(), partition, &low, &high,
                                                                   static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError("end offset of " + topic + " [" + std::to_string(partition) + "]: " + rd_kafka_err2str(err));
  return high;
}

std::vector<std::int64_t> KafkaConsumer::committed(const std::string& topic, int partitions,
                                                   std::chrono::milliseconds timeout) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  const rd_kafka_resp_err_t err = rd_kafka_committed(handle_.get(), list, static_cast<int>(timeout.count()));
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(partitions), -1);
  for (int i = 0; i < list->cnt; ++i)
    if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0)
      offsets[static_cast<std::size_t>(list->elems[i].partition)] = list->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError(std::string("reading committed offsets: ") + rd_kafka_err2str(err));
  return offsets;
}

std::optional<KafkaMessage> KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  using Message = std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)>;
  Message message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())),
                  &rd_kafka_message_destroy);
  if (!message) return std::nullopt;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || message->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        message->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
      return std::nullopt;
    throw KafkaError(std::string("consuming: ") + rd_kafka_message_errstr(message.get()));
  }
  KafkaMessage out;
  out.topic = rd_kafka_topic_name(message->rkt);
  out.partition = message->partition;
  out.offset = message->offset;
  rd_kafka_timestamp_type_t timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(message.get(), &timestampType);
  if (timestampType != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) out.timestampMs = timestamp;
  if (message->key) out.key.assign(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) out.value.assign(static_cast<const char*>(message->payload), message->len);
  return out;
}

namespace {

KafkaConsumer::CommitResult commitResult(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return KafkaConsumer::CommitResult::kCommitted;
    case RD_KAFKA_RESP_ERR__NO_OFFSET:
      return KafkaConsumer::CommitResult::kNothingToCommit;
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__STATE:
    // The session timed out (e.g. the coordinator was unreachable): this commit can never succeed,
    // and the next poll() runs the rebalance callback that drops the partitions and rejoins.
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
      return KafkaConsumer::CommitResult::kRebalanced;
    default:
      throw KafkaError(std::string("committing offsets: ") + rd_kafka_err2str(err));
  }
}

}  // namespace

KafkaConsumer::CommitResult KafkaConsumer::commit() {
  return commitResult(rd_kafka_commit(handle_.get(), nullptr, /*async=*/0));
}

KafkaConsumer::CommitResult KafkaConsumer::commit(const std::vector<PartitionStart>& offsets) {
  if (offsets.empty()) return CommitResult::kNothingToCommit;
  using List = std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>;
  const List list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())),
                  &rd_kafka_topic_partition_list_destroy);
  for (const PartitionStart& p : offsets)
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  return commitResult(rd_kafka_commit(handle_.get(), list.get(), /*async=*/0));
}

int KafkaConsumer::assignedPartitions() const { return assigned_->load(); }

std::int64_t KafkaConsumer::lag() const {
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(handle_.get(), &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  rd_kafka_position(handle_.get(), assignment);
  std::int64_t total = 0;
  for (int i = 0; i < assignment->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = assignment->elems[i];
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_get_watermark_offsets(handle_.get(), p.topic, p.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
      continue;
    const std::int64_t position = p.offset >= 0 ? p.offset : low;
    if (high > position) total += high - position;
  }
  rd_kafka_topic_partition_list_destroy(assignment);
  return total;
}

void KafkaConsumer::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_.get());
}

}  // namespace stacklens::connect
