#pragma once
// Small helpers for tests of the Kafka services: unique topic and group names, draining a topic,
// a free TCP port for a service's HTTP endpoint. Needs stacklens::connect.

#include <chrono>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "free_port.h"
#include "stacklens/connect/kafka_client.h"

namespace stacklens::test {

inline std::string uniqueName(const std::string& prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  return prefix + "-" + std::to_string(random() % 100000000);
}

/// Reads partitions 0..partitions-1 of `topic` from the beginning (assigned, no group to join)
/// until `expected` messages arrived or `limit` passed; then for `settle` longer, to catch
/// messages beyond the expected count.
inline std::vector<connect::KafkaMessage> drainTopic(const std::string& bootstrap, const std::string& topic,
                                                     int partitions, std::size_t expected,
                                                     std::chrono::milliseconds limit,
                                                     std::chrono::milliseconds settle = std::chrono::milliseconds(0)) {
  connect::KafkaConsumer consumer({{"bootstrap.servers", bootstrap},
                                   {"group.id", uniqueName("drain")},
                                   {"enable.auto.commit", "false"}});
  consumer.assign(topic, partitions);
  std::vector<connect::KafkaMessage> received;
  auto deadline = std::chrono::steady_clock::now() + limit;
  bool settling = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto message = consumer.poll(std::chrono::milliseconds(100))) received.push_back(std::move(*message));
    if (!settling && received.size() >= expected) {
      settling = true;
      deadline = std::chrono::steady_clock::now() + settle;
    }
  }
  return received;
}

/// The messages of `topic` (partitions 0..partitions-1) that `group` has not committed yet.
inline std::vector<connect::KafkaMessage> uncommittedMessages(const std::string& bootstrap, const std::string& topic,
                                                              int partitions, const std::string& group) {
  std::vector<std::int64_t> committed;
  {
    connect::KafkaConsumer reader({{"bootstrap.servers", bootstrap}, {"group.id", group}, {"enable.auto.commit", "false"}});
    committed = reader.committed(topic, partitions, std::chrono::seconds(10));
  }
  std::vector<connect::KafkaMessage> left;
  for (auto& message : drainTopic(bootstrap, topic, partitions, SIZE_MAX, std::chrono::seconds(2)))
    if (message.offset >= committed[static_cast<std::size_t>(message.partition)]) left.push_back(std::move(message));
  return left;
}

/// Polls `condition` every 50 ms until it holds or `limit` passes; returns its last value.
template <typename Condition>
bool waitFor(Condition&& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::usleep(50000);
  }
}

}  // namespace stacklens::test
