#include "stacklens/connect/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace stacklens::connect {

MockCluster::MockCluster(int brokers) : brokers_(brokers) {
  if (brokers < 1 || brokers > 16) throw KafkaError("mock cluster: broker count must be 1..16");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  // The hosting handle never talks to anything itself; keep its logging quiet.
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (host == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(std::string("mock cluster host handle: ") + error);
  }
  host_.reset(host);
  cluster_ = rd_kafka_mock_cluster_new(host, brokers);
  if (cluster_ == nullptr) throw KafkaError("mock cluster: librdkafka could not start the brokers");
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

std::string MockCluster::bootstrapServers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

void MockCluster::createTopic(const std::string& topic, int partitions, int replicationFactor) {
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replicationFactor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError("mock cluster: creating topic '" + topic + "': " + rd_kafka_err2str(err));
}

void MockCluster::setBrokerDown(int brokerId) { rd_kafka_mock_broker_set_down(cluster_, brokerId); }

void MockCluster::setBrokerUp(int brokerId) { rd_kafka_mock_broker_set_up(cluster_, brokerId); }

}  // namespace stacklens::connect
