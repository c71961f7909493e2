// The live tail against the mock Kafka cluster: messages produced to the tailed topics arrive in
// the Live panel's table and chart; partitions that existed at start are read from where they
// ended then;
// the tail never commits (its private group has no offsets afterwards).
#include <QLineSeries>
#include <QtTest>
#include <set>

#include "kafka_test_helpers.h"
#include "live_test_support.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/message_codec.h"
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

  // A simulated stream produced by the real CLI while the panel tails: every message arrives once,
  // in order per partition; nothing from before the start; a topic created meanwhile from its
  // beginning; the table and the chart show them all; and the tail's group commits nothing.
  void simulatedStreamArrivesCompleteInOrderAndReachesTheChart() {
    STACKLENS_REQUIRE_KAFKA();
    const QString bootstrap = stacklens::test::kafkaBootstrap();
    const QString input = QString::fromStdString(stacklens::test::uniqueName("live-in"));
    const QString anomalies = QString::fromStdString(stacklens::test::uniqueName("live-anomalies"));
    const QString alerts = QString::fromStdString(stacklens::test::uniqueName("live-alerts"));
    KafkaProducer producer({{"bootstrap.servers", bootstrap.toStdString()}, {"linger.ms", "1"}});
    for (int i = 0; i < 6; ++i) producer.produce(input.toStdString(), "old-" + std::to_string(i), "{\"before\":true}");
    QCOMPARE(producer.flush(20s), 0);

    LivePanel panel;
    panel.resize(900, 600);
    stacklens::test::TailRecorder recorder(panel.tail());
    KafkaProfile profile;
    profile.bootstrapServers = bootstrap;
    panel.tail()->start(profile, {}, {input, anomalies, alerts});
    QVERIFY(QTest::qWaitFor([&] { return panel.tail()->isReady(); }, 20000));

    // 3 services x 40 hours, paced at 400 messages a second: a live stream.
    constexpr int kServices = 3, kHours = 40, kInput = kServices * kHours, kAnomalies = 25;
    QString log;
    QCOMPARE(stacklens::test::simulateToKafka(bootstrap, input,
                                              {"--services", QString::number(kServices), "--hours",
                                               QString::number(kHours), "--seed", "5", "--rate", "400"},
                                              &log),
             0);
    for (int i = 0; i < kAnomalies; ++i)
      producer.produce(anomalies.toStdString(), "svc-" + std::to_string(i % 5), "{\"n\":" + std::to_string(i) + "}");
    QCOMPARE(producer.flush(20s), 0);
    QVERIFY2(QTest::qWaitFor([&] { return recorder.count(input) >= kInput && recorder.count(anomalies) >= kAnomalies; },
                             30000),
             qPrintable(QStringLiteral("received %1 of %2 and %3 of %4; %5")
                            .arg(recorder.count(input))
                            .arg(kInput)
                            .arg(recorder.count(anomalies))
                            .arg(kAnomalies)
                            .arg(log)));
    QTest::qWait(500);  // nothing more (no duplicates) arrives
    QCOMPARE(recorder.count(input), kInput);
    QCOMPARE(recorder.count(anomalies), kAnomalies);
    QCOMPARE(recorder.count(alerts), 0);

    // In order per partition, without gaps; each service's hours in order.
    std::map<std::string, std::vector<stacklens::core::EpochSeconds>> hoursOf;
    for (const auto& [key, messages] : recorder.byPartition()) {
      for (std::size_t i = 1; i < messages.size(); ++i)
        QCOMPARE(messages[i].offset, messages[i - 1].offset + 1);
      if (key.first == anomalies) QCOMPARE(messages.front().offset, qint64(0));  // a new topic: from its beginning
      if (key.first != input) continue;
      for (const TailMessage& m : messages) {
        const auto sample = stacklens::connect::decodeServiceMetrics(std::string_view(m.value.constData(), m.value.size()));
        QVERIFY2(sample, qPrintable(m.value));  // none of the messages from before the start
        QCOMPARE(m.key, QString::fromStdString(sample.value->service));
        hoursOf[sample.value->service].push_back(sample.value->timestamp);
      }
    }
    QCOMPARE(int(hoursOf.size()), kServices);
    for (const auto& [service, hours] : hoursOf) {
      QCOMPARE(int(hours.size()), kHours);
      for (std::size_t i = 1; i < hours.size(); ++i) QCOMPARE(hours[i] - hours[i - 1], stacklens::core::EpochSeconds(3600));
    }

    // The table holds them all, newest first; the chart's per-second counts add up to them.
    QCOMPARE(panel.model()->rowCount(), kInput + kAnomalies);
    panel.redraw();
    for (const auto& [topic, expected] : {std::pair{input, kInput}, std::pair{anomalies, kAnomalies}}) {
      QLineSeries* series = panel.series(topic);
      QVERIFY(series);
      double sum = 0;
      for (const QPointF& p : series->points()) {
        QVERIFY(p.x() <= 0 && p.x() > -300);
        sum += p.y();
      }
      QCOMPARE(sum, double(expected));
    }
    QVERIFY(!panel.series(alerts));

    // The tail never committed: its private group has no offsets.
    const std::string group = panel.tail()->groupId().toStdString();
    panel.tail()->stop();
    stacklens::connect::KafkaConsumer reader(
        {{"bootstrap.servers", bootstrap.toStdString()}, {"group.id", group}, {"enable.auto.commit", "false"}});
    for (const QString& topic : {input, anomalies})
      for (const std::int64_t offset : reader.committed(topic.toStdString(), 4, 10s)) QCOMPARE(offset, std::int64_t(-1));
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
