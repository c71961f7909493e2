#pragma once
// librdkafka's Kafka-protocol mock cluster: real brokers on random TCP ports of 127.0.0.1 that any
// Kafka client can talk to. Used by the test harness, the tests and the offline demo, because no
// Kafka broker is packaged for Debian.

#include <memory>
#include <string>

#include "stacklens/connect/kafka_client.h"

struct rd_kafka_mock_cluster_s;

namespace stacklens::connect {

class MockCluster {
 public:
  /// Starts `brokers` brokers (1..16). Throws KafkaError when the cluster cannot start.
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  /// Comma-separated host:port list for bootstrap.servers.
  std::string bootstrapServers() const;
  int brokerCount() const { return brokers_; }

  /// Creates a topic ahead of use (the mock also auto-creates topics on first produce).
  void createTopic(const std::string& topic, int partitions, int replicationFactor = 1);

  /// Takes a broker (1-based id) down or brings it back, to test clients that must survive it.
  void setBrokerDown(int brokerId);
  void setBrokerUp(int brokerId);

 private:
  KafkaHandle host_;  // the mock cluster lives inside this client handle
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  int brokers_ = 0;
};

}  // namespace stacklens::connect
