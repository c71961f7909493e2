// `stacklens simulate` and `stacklens replay` as users run them, through the real mock cluster.
#include <random>

#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/connect/csv_table.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/service_metrics_csv.h"

#include "run_stacklens.h"
#include "test_servers.h"

using namespace std::chrono_literals;
using namespace stacklens;
using stacklens::test::CliRun;
using stacklens::test::runStacklens;

namespace {

std::vector<core::ServiceMetrics> consumeMetrics(const std::string& topic, std::size_t expected) {
  connect::KafkaConsumer consumer({{"bootstrap.servers", test::kafkaBootstrap().toStdString()},
                                   {"group.id", topic + "-reader"},
                                   {"auto.offset.reset", "earliest"},
                                   {"session.timeout.ms", "6000"}});
  consumer.subscribe({topic});
  std::vector<core::ServiceMetrics> received;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (received.size() < expected && std::chrono::steady_clock::now() < deadline)
    if (auto message = consumer.poll(200ms)) {
      auto decoded = connect::decodeServiceMetrics(message->value);
      if (!decoded || decoded.value->service != message->key) return {};
      received.push_back(*decoded.value);
    }
  return received;
}

std::string uniqueTopic(const char* prefix) {
  return std::string(prefix) + std::to_string(std::random_device{}());
}

}  // namespace

class TestSimulateReplay : public QObject {
  Q_OBJECT
 private slots:
  void simulateWritesLabelledCsv() {
    QTemporaryDir dir;
    const CliRun run = runStacklens(
        {"simulate", "--services", "4", "--days", "21", "--seed", "3", "--incident-rate", "2", "--csv", dir.path()});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto table = connect::toServiceMetrics(connect::readCsvFile(dir.filePath("metrics.csv").toStdString()));
    QCOMPARE(table.samples.size(), std::size_t(4 * 21 * 24));
    QCOMPARE(table.labels.size(), table.samples.size());
    const auto incidents = connect::readCsvFile(dir.filePath("incidents.csv").toStdString());
    QVERIFY(incidents.rowCount() > 0);
    // Every labelled sample lies inside one of the listed incidents of its service.
    std::size_t labelled = 0;
    for (std::size_t i = 0; i < table.samples.size(); ++i) {
      if (!table.labels[i]) continue;
      ++labelled;
      bool inside = false;
      for (std::size_t r = 0; r < incidents.rowCount(); ++r)
        inside |= incidents.rows[r][0] == table.samples[i].service &&
                  table.samples[i].timestamp >= incidents.time(r, 2) &&
                  table.samples[i].timestamp <= incidents.time(r, 3);
      QVERIFY(inside);
    }
    QVERIFY(labelled > 0);
    QVERIFY(run.out.contains(QString("%1 labelled samples").arg(labelled)));
  }

  void simulateProducesToKafka() {
    STACKLENS_REQUIRE_KAFKA();
    const std::string topic = uniqueTopic("sim-");
    const CliRun run = runStacklens({"simulate", "--services", "3", "--hours", "50", "--kafka", test::kafkaBootstrap(),
                                     "--topic", QString::fromStdString(topic)});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto received = consumeMetrics(topic, 150);
    QCOMPARE(received.size(), std::size_t(150));
  }

  void replayProducesEveryRowKeyedByService() {
    STACKLENS_REQUIRE_KAFKA();
    QTemporaryDir dir;
    QVERIFY(runStacklens({"simulate", "--services", "2", "--hours", "30", "--csv", dir.path()}).exitCode == 0);
    const std::string topic = uniqueTopic("replay-");
    const CliRun run = runStacklens({"replay", dir.filePath("metrics.csv"), "--kafka", test::kafkaBootstrap(),
                                     "--topic", QString::fromStdString(topic)});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const auto expected = connect::toServiceMetrics(connect::readCsvFile(dir.filePath("metrics.csv").toStdString()));
    const auto received = consumeMetrics(topic, expected.samples.size());
    QCOMPARE(received.size(), expected.samples.size());
    // Per service the order is kept, and values survive the trip (10 significant digits in the CSV).
    for (const std::string& service : {expected.samples[0].service, expected.samples[1].service}) {
      std::vector<core::EpochSeconds> sent, got;
      for (const auto& m : expected.samples)
        if (m.service == service) sent.push_back(m.timestamp);
      for (const auto& m : received)
        if (m.service == service) got.push_back(m.timestamp);
      QCOMPARE(got, sent);
    }
  }

  void replayRejectsBrokenCsvNamingTheLine() {
    QTemporaryDir dir;
    QFile file(dir.filePath("broken.csv"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(
        "timestamp,service,error_rate,latency_p99_ms,latency_p95_ms,latency_mean_ms,unique_users,unique_ips,"
        "risk_score,total_requests\n2026-01-01T00:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000\n"
        "2026-01-01T01:00:00Z,api,0.5,150,oops,50,1000,500,0.3,10000\n");
    file.close();
    const CliRun run = runStacklens({"replay", file.fileName(), "--kafka", "127.0.0.1:1"});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("broken.csv:3: column 'latency_p95_ms': 'oops' is not a number"), qPrintable(run.err));
  }
};

QTEST_GUILESS_MAIN(TestSimulateReplay)
#include "test_simulate_replay.moc"
