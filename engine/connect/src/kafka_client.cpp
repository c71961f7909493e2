#include "stacklens/connect/kafka_client.h"

#include <librdkafka/rdkafka.h>

namespace stacklens::connect {
namespace {

rd_kafka_conf_t* buildConfig(const KafkaProperties& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw KafkaError("Kafka configuration property '" + name + "': " + error);
    }
  }
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
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++*static_cast<int*>(opaque);
}

}  // namespace

void KafkaHandleDeleter::operator()(rd_kafka_s* handle) const noexcept { rd_kafka_destroy(handle); }

KafkaProducer::KafkaProducer(const KafkaProperties& properties) : failedDeliveries_(std::make_unique<int>(0)) {
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
  return *failedDeliveries_;
}

KafkaConsumer::KafkaConsumer(const KafkaProperties& properties) {
  if (!properties.contains("group.id")) throw KafkaError("Kafka consumer: group.id is required");
  handle_ = createHandle(RD_KAFKA_CONSUMER, buildConfig(properties));
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
  if (message->key) out.key.assign(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) out.value.assign(static_cast<const char*>(message->payload), message->len);
  return out;
}

void KafkaConsumer::commit() {
  const rd_kafka_resp_err_t err = rd_kafka_commit(handle_.get(), nullptr, /*async=*/0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    throw KafkaError(std::string("committing offsets: ") + rd_kafka_err2str(err));
}

void KafkaConsumer::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_.get());
}

}  // namespace stacklens::connect
