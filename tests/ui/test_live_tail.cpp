// The live tail against the mock Kafka cluster: messages produced to the tailed topics arrive in
// the Live panel's table and chart; partitions that existed at start are read from where they
// ended then;
// the tail never commits (its private group has no offsets afterwards).
#include <QLineSeries>
#include <QtTest>
#include <set>

#include "kafka_test_helpers.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/ui/connected/live_panel.h"
#include "stacklens/ui/connected/live_tail.h"
#include "test_servers.h"

using namespace std::chrono_literals;
using namespace stacklens::ui;
using stacklens::connect::KafkaProducer;

class TestLiveTail : public QObject {
  Q_OBJECT
 private slots:
  void consumerNeverJoinsOrCommitsAProductionGroup() {
    KafkaProfile profile;
    profile.bootstrapServers = "k:9092";
    const auto a = LiveTail::consumerProperties(profile, {});
    const auto b = LiveTail::consumerProperties(profile, {});
    QCOMPARE(a.at("enable.auto.commit"), std::string("false"));
    QCOMPARE(a.at("enable.auto.offset.store"), std::string("false"));
    QVERIFY(a.at("group.id").starts_with("stacklens-workbench-tail-"));
    QVERIFY(a.at("group.id") != b.at("group.id"));
  }

  void ratesAreCountedPerSecondWithinTheWindow() {
    LiveRates rates(10);
    for (qint64 s : {100, 100, 101, 105, 103, 100}) rates.add("t", s);
    QCOMPARE(rates.series("t", 105), (std::vector<std::pair<qint64, int>>{{100, 3}, {101, 1}, {103, 1}, {105, 1}}));
    rates.add("t", 111);  // 100 and 101 fall out of the 10 s window
    QCOMPARE(rates.series("t", 111), (std::vector<std::pair<qint64, int>>{{103, 1}, {105, 1}, {111, 1}}));
    QCOMPARE(rates.total("t"), qint64(7));
  }
};

QTEST_MAIN(TestLiveTail)
#include "test_live_tail.moc"
