// `stacklens ml-service` when things go wrong mid-stream: kill -9 and a restart, a PostgreSQL
// restart, all brokers down and up. The rows are compared with the engine's reference records.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "ml_service_test_base.h"
#include "run_stacklens.h"
#include "throwaway_postgres.h"

using namespace std::chrono_literals;
using namespace stacklens;
using test::FleetData;
using test::MlServiceProcess;
using test::Names;
using test::Reference;
using test::queryIds;
using test::kServices;
using test::kHistoryHours;
using test::kStreamHours;

class TestMlServiceRecovery : public test::MlServiceTestBase {
  Q_OBJECT
 private slots:
  void initTestCase() { setUpCluster(); }

  void killNineMidStreamThenRestartLosesAndDuplicatesNothing() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = historyDatabase("mlkill", test::postgresDsn().toStdString());
    auto first = std::make_unique<MlServiceProcess>(settings(names, scratch->dsn()));
    QVERIFY2(first->start(), qPrintable(first->log()));
    QVERIFY2(first->waitAssigned(), qPrintable(first->log()));
    std::thread producer([&] { produceStream(names.input, 200); });
    QVERIFY(test::waitFor([&] { return first->metric("stacklens_messages_in_total") >= 100; }, 20s));
    first->kill();
    QCOMPARE(first->waitExit(), -1);
    producer.join();
    const Reference ref = fullReference(*first);

    const std::set<std::string> left = uncommitted(names.input, names.group);
    std::set<std::string> committed;
    for (const auto& sample : data_->stream)
      if (!left.contains(test::messageKey(sample.metrics))) committed.insert(test::messageKey(sample.metrics));
    QVERIFY(committed.size() >= 100 && !left.empty());

    MlServiceProcess second(settings(names, scratch->dsn()));
    QVERIFY2(second.start(), qPrintable(second.log()));
    QVERIFY2(waitProcessed(second, double(left.size())), qPrintable(second.log()));
    second.terminate();
    QCOMPARE(second.waitExit(), 0);

    // The restarted instance trains afresh on the history before its first message of a service.
    const connect::ServiceConfig config = second.config();
    const Reference restarted = test::referenceRun(*data_, config.pipelineConfig(), config.ml.historyDays,
                                                   [&](const core::ServiceMetrics& m) { return left.contains(test::messageKey(m)); });
    std::set<std::string> expected = ref.anomaliesOf(committed);
    expected.insert(restarted.anomalies.begin(), restarted.anomalies.end());
    std::set<std::string> possible = ref.anomalies;  // written before the kill but not committed
    possible.insert(restarted.anomalies.begin(), restarted.anomalies.end());
    connect::PgConnection db(scratch->dsn());
    const std::set<std::string> rows = queryIds(db, "SELECT anomaly_id FROM ml_anomalies");
    QCOMPARE(std::size_t(test::scalarOf(db, "SELECT count(*) FROM ml_anomalies")), rows.size());
    for (const auto& id : expected) QVERIFY2(rows.contains(id), id.c_str());
    for (const auto& id : rows) QVERIFY2(possible.contains(id), id.c_str());
    QVERIFY(expected.size() >= 5);
  }

  void postgresRestartMidStream() {
    test::ThrowawayPostgres postgres;
    if (!postgres.isReady()) {
      if (test::underCi()) QFAIL(qPrintable(postgres.error()));
      QSKIP(qPrintable(postgres.error()));
    }
    const Names names;
    createTopics(names);
    {
      connect::PgConnection db(postgres.dsn());
      connect::MigrationRunner().migrate(db);
      connect::PgSettings pg;
      pg.dsn = postgres.dsn();
      pg.poolMin = 1;
      connect::PgStore(pg).writeMetrics(data_->table);
    }
    MlServiceProcess service(settings(names, postgres.dsn()));
    QVERIFY2(service.start(), qPrintable(service.log().right(3000)));
    QVERIFY2(service.waitAssigned(), qPrintable(service.log().right(3000)));
    std::thread producer([&] { produceStream(names.input, 200); });
    QVERIFY(test::waitFor([&] { return service.metric("stacklens_messages_in_total") >= 100; }, 20s));
    QVERIFY(postgres.stop(test::ThrowawayPostgres::StopMode::kImmediate));
    std::this_thread::sleep_for(1500ms);
    const double duringOutage = service.metric("stacklens_messages_in_total");
    QVERIFY(postgres.start());
    producer.join();
    QVERIFY(waitProcessed(service, double(data_->stream.size())));
    const double retries = service.metric("stacklens_pg_retries_total");
    service.terminate();
    QCOMPARE(service.waitExit(), 0);
    QVERIFY(duringOutage < double(data_->stream.size()));
    QVERIFY(retries > 0);
    connect::PgConnection db(postgres.dsn());
    QCOMPARE(queryIds(db, "SELECT anomaly_id FROM ml_anomalies"), fullReference(service).anomalies);
  }

  void brokersDownThenUp() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = historyDatabase("mlbroker", test::postgresDsn().toStdString());
    MlServiceProcess service(settings(names, scratch->dsn()));
    QVERIFY2(service.start(), qPrintable(service.log().right(3000)));
    QVERIFY2(service.waitAssigned(), qPrintable(service.log().right(3000)));
    std::thread producer([&] { produceStream(names.input, 200); });
    QVERIFY(test::waitFor([&] { return service.metric("stacklens_messages_in_total") >= 100; }, 20s));
    for (int broker = 1; broker <= cluster_->brokerCount(); ++broker) cluster_->setBrokerDown(broker);
    std::this_thread::sleep_for(3s);
    for (int broker = 1; broker <= cluster_->brokerCount(); ++broker) cluster_->setBrokerUp(broker);
    producer.join();
    QVERIFY2(waitProcessed(service, double(data_->stream.size())), qPrintable(service.log().right(3000)));
    const double consumed = service.metric("stacklens_messages_in_total");
    service.terminate();
    QCOMPARE(service.waitExit(), 0);
    connect::PgConnection db(scratch->dsn());
    const Reference ref = fullReference(service);
    const std::set<std::string> rows = queryIds(db, "SELECT anomaly_id FROM ml_anomalies");
    QVERIFY2(rows == ref.anomalies, qPrintable(QString::fromStdString(test::setDifference(rows, ref.anomalies)) +
                                                QString("\nconsumed %1 of %2 messages\n").arg(consumed).arg(data_->stream.size()) +
                                                service.log().right(4000)));
    std::set<std::string> published;
    for (const auto& message : test::drainTopic(cluster_->bootstrapServers(), names.anomalies, 1, ref.anomalies.size(), 20s))
      published.insert(connect::decodeAnomaly(message.value).value->anomalyId);
    QCOMPARE(published, ref.anomalies);
  }

  void cleanupTestCase() { cluster_.reset(); }
};

QTEST_GUILESS_MAIN(TestMlServiceRecovery)
#include "test_ml_service_recovery.moc"
