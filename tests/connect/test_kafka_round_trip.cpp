// A message round trip through the harness's 3-broker mock cluster, over TCP, with librdkafka.
#include <QtTest>

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <set>
#include <sys/socket.h>

#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/mock_cluster.h"
#include "test_servers.h"

using namespace std::chrono_literals;
using stacklens::connect::KafkaConsumer;
using stacklens::connect::KafkaError;
using stacklens::connect::KafkaMessage;
using stacklens::connect::KafkaProducer;
using stacklens::connect::KafkaProperties;

namespace {

std::string uniqueName(const char* prefix) {
  return std::string(prefix) + "-" + std::to_string(std::random_device{}());
}

std::vector<KafkaMessage> consumeAll(KafkaConsumer& consumer, std::size_t expected, std::chrono::seconds limit) {
  std::vector<KafkaMessage> received;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (received.size() < expected && std::chrono::steady_clock::now() < deadline)
    if (auto message = consumer.poll(200ms)) received.push_back(std::move(*message));
  return received;
}

// TCP_NODELAY of each connection in this process accepted on one of `ports` (not the listeners).
std::vector<int> noDelayOfAcceptedConnections(const std::set<int>& ports) {
  std::vector<int> flags;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(entry.path().filename().c_str());
    int listening = 1;
    socklen_t length = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening != 0) continue;
    sockaddr_in local{};
    socklen_t localLength = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0 || local.sin_family != AF_INET ||
        ports.count(ntohs(local.sin_port)) == 0)
      continue;
    int noDelay = 0;
    length = sizeof noDelay;
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, &length);
    flags.push_back(noDelay);
  }
  return flags;
}

}  // namespace

class TestKafkaRoundTrip : public QObject {
  Q_OBJECT
 private slots:
  void producedMessagesArriveInOrderPerKey() {
    STACKLENS_REQUIRE_KAFKA();
    const std::string bootstrap = stacklens::test::kafkaBootstrap().toStdString();
    const std::string topic = uniqueName("analytics-alerts-test");

    KafkaProducer producer({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    for (int i = 0; i < 50; ++i)
      producer.produce(topic, i % 2 ? "api" : "checkout", R"({"service":"x","seq":)" + std::to_string(i) + "}");
    QCOMPARE(producer.flush(10s), 0);

    KafkaConsumer consumer({{"bootstrap.servers", bootstrap},
                            {"group.id", uniqueName("round-trip")},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", "false"},
                            {"session.timeout.ms", "6000"}});
    consumer.subscribe({topic});
    const auto received = consumeAll(consumer, 50, 30s);
    QCOMPARE(received.size(), std::size_t(50));

    // Per key, the sequence numbers must be increasing: one key stays on one partition.
    std::map<std::string, int> lastSeq;
    for (const auto& message : received) {
      QCOMPARE(QString::fromStdString(message.topic), QString::fromStdString(topic));
      const int seq = std::stoi(message.value.substr(message.value.find("seq\":") + 5));
      QVERIFY(seq % 2 == (message.key == "api" ? 1 : 0));
      if (lastSeq.contains(message.key)) QVERIFY(seq > lastSeq[message.key]);
      lastSeq[message.key] = seq;
    }
    consumer.commit();
    consumer.close();
  }

  void rejectsUnknownProperty() {
    QVERIFY_THROWS_EXCEPTION(KafkaError, KafkaProducer(KafkaProperties{{"no.such.property", "1"}}));
    QVERIFY_THROWS_EXCEPTION(KafkaError, KafkaConsumer(KafkaProperties{{"bootstrap.servers", "localhost:1"}}));
  }

  void brokerDownThenUpStillDelivers() {
    // An in-process cluster of our own, so taking brokers down disturbs no other test.
    stacklens::connect::MockCluster cluster(3);
    const std::string topic = uniqueName("down-up");
    cluster.createTopic(topic, 3);
    KafkaProducer producer({{"bootstrap.servers", cluster.bootstrapServers()}, {"message.timeout.ms", "20000"}});
    for (int broker = 1; broker <= 3; ++broker) cluster.setBrokerDown(broker);
    for (int i = 0; i < 10; ++i) producer.produce(topic, "k" + std::to_string(i), "v");
    QThread::msleep(500);
    for (int broker = 1; broker <= 3; ++broker) cluster.setBrokerUp(broker);
    QCOMPARE(producer.flush(20s), 0);
  }

  // Like a Kafka broker, the mock's brokers must not hold a response's second segment for the
  // client's delayed ACK: with Nagle on, a flush to 12 partitions took 44 ms instead of 0.8 ms.
  void theBrokersConnectionsSendWithoutDelay() {
    stacklens::connect::MockCluster cluster(3);
    const std::string topic = uniqueName("no-delay");
    cluster.createTopic(topic, 12);
    KafkaProducer producer({{"bootstrap.servers", cluster.bootstrapServers()}});
    for (int i = 0; i < 80; ++i) producer.produce(topic, "k" + std::to_string(i), std::string(300, 'x'));
    QCOMPARE(producer.flush(10s), 0);

    std::set<int> brokerPorts;
    for (std::string servers = cluster.bootstrapServers(); !servers.empty();) {
      const auto comma = servers.find(',');
      const std::string server = servers.substr(0, comma);
      brokerPorts.insert(std::stoi(server.substr(server.rfind(':') + 1)));
      servers = comma == std::string::npos ? "" : servers.substr(comma + 1);
    }
    const std::vector<int> noDelay = noDelayOfAcceptedConnections(brokerPorts);
    QVERIFY2(noDelay.size() >= 3, "the producer should hold a connection to each broker");
    for (const int flag : noDelay) QVERIFY(flag != 0);
  }
};

QTEST_GUILESS_MAIN(TestKafkaRoundTrip)
#include "test_kafka_round_trip.moc"
