// `stacklens ml-service` end to end, as a child process, through a mock Kafka cluster and
// PostgreSQL: the rows and topic messages it writes are compared with what the engine produces
// in-process for the same input (the reference), and with the simulator's labels.
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

class TestMlService : public test::MlServiceTestBase {
  Q_OBJECT
 private slots:
  void initTestCase() { setUpCluster(); }

  void endToEndMatchesTheEngineAndTheLabels() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = std::make_unique<test::ScratchDatabase>(test::postgresDsn().toStdString(), "mle2e");
    {
      connect::PgConnection db(scratch->dsn());
      connect::MigrationRunner().migrate(db);
    }
    MlServiceProcess service(settings(names, scratch->dsn()));
    QVERIFY2(service.start(), qPrintable(service.log().right(3000)));
    QVERIFY2(service.waitAssigned(), qPrintable(service.log().right(3000)));

    // The simulator writes the history to PostgreSQL and the live hours to Kafka.
    const auto& fleet = data_->config;
    const test::CliRun simulate = test::runStacklens(
        {"simulate", "--services", QString::number(fleet.services), "--hours", QString::number(fleet.hours), "--seed",
         QString::number(fleet.seed), "--incident-rate", QString::number(fleet.incidentsPerServiceWeek),
         "--quiet-hours", QString::number(fleet.quietHours), "--postgres", QString::fromStdString(scratch->dsn()),
         "--kafka", QString::fromStdString(cluster_->bootstrapServers()), "--topic", QString::fromStdString(names.input),
         "--history-hours", QString::number(kHistoryHours)});
    QVERIFY2(simulate.exitCode == 0, qPrintable(simulate.err));
    QVERIFY2(simulate.out.contains(QString("wrote %1 rows to analytics_metrics_1hour").arg(data_->table.size())),
             qPrintable(simulate.out));

    const auto total = static_cast<double>(data_->stream.size());
    QVERIFY2(waitProcessed(service, total), qPrintable(service.log().right(3000)));
    const std::string metrics = test::httpBody(service.port(), "/metrics");
    int status = 0;
    test::httpBody(service.port(), "/readyz", &status);
    service.terminate();
    QCOMPARE(service.waitExit(), 0);

    const Reference ref = fullReference(service);
    connect::PgConnection db(scratch->dsn());
    QCOMPARE(queryIds(db, "SELECT anomaly_id FROM ml_anomalies"), ref.anomalies);
    QCOMPARE(queryIds(db, "SELECT model_id FROM ml_models"), ref.models);
    // Forest versions are written compactly (SLIF version 3, ~4 bytes a node) and stored as they
    // are (migration 0011): compressing them cost the server CPU and saved ~3 %.
    QCOMPARE(test::scalarOf(db, "SELECT count(*) FROM ml_models WHERE model_type = 'isolation_forest' AND "
                                "pg_column_compression(model_blob) IS NOT NULL"),
             0LL);
    QCOMPARE(test::scalarOf(db, "SELECT count(*) FROM ml_models WHERE model_type = 'isolation_forest' AND "
                                "octet_length(model_blob) NOT BETWEEN 1000 AND 60000"),
             0LL);  // a week's forest took ~104 KB in version 2
    QCOMPARE(std::size_t(test::scalarOf(db, "SELECT count(*) FROM ml_trends")), ref.trends);
    const long long patterns = test::scalarOf(db, "SELECT count(*) FROM ml_patterns");
    QVERIFY(patterns > 0);

    std::set<std::string> published;
    for (const auto& message : test::drainTopic(cluster_->bootstrapServers(), names.anomalies, 1, ref.anomalies.size(), 20s))
      published.insert(connect::decodeAnomaly(message.value).value->anomalyId);
    QCOMPARE(published, ref.anomalies);
    QCOMPARE(test::drainTopic(cluster_->bootstrapServers(), names.patterns, 1, std::size_t(patterns), 20s).size(),
             std::size_t(patterns));

    QCOMPARE(status, 200);
    QCOMPARE(test::metricValue(metrics, "stacklens_messages_in_total"), total);
    QCOMPARE(test::metricValue(metrics, "stacklens_dlq_total"), 0.0);
    QCOMPARE(test::metricValue(metrics, "stacklens_services"), double(kServices));
    QVERIFY(metrics.find("stacklens_anomalies_total{severity=\"") != std::string::npos);
    QVERIFY(test::metricValue(metrics, "stacklens_retrains_total") >= kServices * (1 + kStreamHours / 24 - 1));
    QVERIFY(metrics.find("stacklens_message_latency_seconds_bucket") != std::string::npos);
    // Every message's time before the service took it, and never more than its whole latency.
    QCOMPARE(test::metricValue(metrics, "stacklens_message_queued_seconds_count"), total);
    QVERIFY(test::metricValue(metrics, "stacklens_message_queued_seconds_sum") <=
            test::metricValue(metrics, "stacklens_message_latency_seconds_sum"));
    // Every committed batch was collected, handled and committed once; ticks that only write (a
    // finished refit) also wait and write.
    const double batches = test::metricValue(metrics, "stacklens_batches_total");
    QVERIFY(batches > 0);
    const auto steps = [&](const char* step) {
      return test::metricValue(metrics, std::string("stacklens_batch_step_seconds_count{step=\"") + step + "\"}");
    };
    for (const char* step : {"collect", "handle", "commit"}) QCOMPARE(steps(step), batches);
    QVERIFY(steps("wait") >= batches);
    QVERIFY(steps("postgres") >= batches);

    // Against the labels: most incidents are found, and a good share of the anomalies lies inside
    // one (the rest are the fleet's own surprises: growth, weekends, noise).
    std::set<std::size_t> found;
    std::size_t inside = 0;
    const auto rows = test::rowsOf(db, "SELECT service, extract(epoch FROM timestamp)::bigint FROM ml_anomalies");
    for (const QString& row : rows) {
      const std::string name = row.section('|', 0, 0).toStdString();
      const core::EpochSeconds t = row.section('|', 1, 1).toLongLong();
      bool hit = false;
      for (std::size_t i = 0; i < data_->incidents.size(); ++i) {
        const auto& incident = data_->incidents[i];
        if (incident.service == name && t >= incident.start && t <= incident.end) found.insert(i), hit = true;
      }
      inside += hit;
    }
    std::size_t labelled = 0;
    for (const auto& incident : data_->incidents) labelled += incident.start >= data_->stream.front().metrics.timestamp;
    qInfo("%zu anomalies, %zu inside labelled incidents; %zu of %zu incidents found", std::size_t(rows.size()), inside,
          found.size(), labelled);
    QVERIFY(labelled >= 5);
    QVERIFY2(found.size() * 2 >= labelled, "fewer than half of the incidents found");
    QVERIFY2(inside * 5 >= std::size_t(rows.size()) * 2, "fewer than 40 % of the anomalies inside an incident");
  }

  void badMessagesGoToTheDeadLetterTopicAndTheRestIsProcessed() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = historyDatabase("mldlq", test::postgresDsn().toStdString());
    MlServiceProcess service(settings(names, scratch->dsn()));
    QVERIFY2(service.start(), qPrintable(service.log().right(3000)));

    const core::ServiceMetrics& first = data_->stream.front().metrics;
    const std::string good = connect::encodeServiceMetrics(first);
    auto replace = [&](const std::string& field, const std::string& value) {
      std::string text = good;
      const auto at = text.find("\"" + field + "\":");
      const auto end = text.find_first_of(",}", at);
      return text.replace(at, end - at, "\"" + field + "\":" + value);
    };
    std::string renamed = good;
    renamed.replace(renamed.find("\"latency_p99_ms\""), 16, "\"latency_p99_mz\"");
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"bad JSON", "{\"service\":\"auth\",\"timestamp\":"},
        {"missing field 'latency_p99_ms'", renamed},
        {"field 'error_rate': expected a number", replace("error_rate", "\"high\"")},
        {"field 'latency_mean_ms': must not be negative", replace("latency_mean_ms", "-3")},
        {"number overflow parsing '1e400'", replace("risk_score", "1e400")},
        {"field 'error_rate': absurd value", replace("error_rate", "250")},
        {"oversized message", replace("service", "\"" + std::string(70000, 'x') + "\"")},
        {"is not the message's service", good},
    };
    produceStream(names.input, 0, [&](std::size_t i, connect::KafkaProducer& producer) {
      if (i % 40 != 5 || i / 40 >= bad.size()) return;
      producer.produce(names.input, i / 40 == bad.size() - 1 ? "another-service" : first.service, bad[i / 40].second);
    });
    const auto total = static_cast<double>(data_->stream.size() + bad.size());
    QVERIFY(waitProcessed(service, total));
    QCOMPARE(service.metric("stacklens_dlq_total"), double(bad.size()));
    service.terminate();
    QCOMPARE(service.waitExit(), 0);

    connect::PgConnection db(scratch->dsn());
    QCOMPARE(queryIds(db, "SELECT anomaly_id FROM ml_anomalies"), fullReference(service).anomalies);
    const auto dead = test::drainTopic(cluster_->bootstrapServers(), names.deadLetters, 1, bad.size(), 20s, 500ms);
    QCOMPARE(dead.size(), bad.size());
    QStringList reasons;
    for (const auto& message : dead) {
      const QJsonObject envelope = QJsonDocument::fromJson(QByteArray::fromStdString(message.value)).object();
      QCOMPARE(envelope["source_topic"].toString().toStdString(), names.input);
      reasons << envelope["reason"].toString();
    }
    for (const auto& [reason, payload] : bad)
      QVERIFY2(!reasons.filter(QString::fromStdString(reason)).isEmpty(), qPrintable(reasons.join('\n')));
  }

  void sigtermDrainsCommitsAndLeaves() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = historyDatabase("mlterm", test::postgresDsn().toStdString());
    MlServiceProcess service(settings(names, scratch->dsn()));
    QVERIFY2(service.start(), qPrintable(service.log().right(3000)));
    QVERIFY2(service.waitAssigned(), qPrintable(service.log().right(3000)));
    std::thread producer([&] { produceStream(names.input, 200); });
    QVERIFY(test::waitFor([&] { return service.metric("stacklens_messages_in_total") >= 100; }, 20s));
    service.terminate();
    const int code = service.waitExit(15000);
    producer.join();
    const QString log = service.log();
    QCOMPARE(code, 0);
    QVERIFY2(log.contains("left the consumer group; stopped cleanly"), qPrintable(log));
    for (const QString& line : log.split('\n', Qt::SkipEmptyParts))
      QVERIFY2(line.startsWith("{\"time\":\"") && line.endsWith("\"}"), qPrintable(line));

    // What it committed is exactly what it wrote: the rest is still in the group's queue.
    const std::set<std::string> left = uncommitted(names.input, names.group);
    std::set<std::string> processed;
    for (const auto& sample : data_->stream)
      if (!left.contains(test::messageKey(sample.metrics))) processed.insert(test::messageKey(sample.metrics));
    QVERIFY(processed.size() >= 100 && !left.empty());
    connect::PgConnection db(scratch->dsn());
    QCOMPARE(queryIds(db, "SELECT anomaly_id FROM ml_anomalies"), fullReference(service).anomaliesOf(processed));
  }

  void twoInstancesShareThePartitionsAndWriteWhatOneWould() {
    STACKLENS_REQUIRE_POSTGRES();
    const Names names;
    createTopics(names);
    auto scratch = historyDatabase("mltwo", test::postgresDsn().toStdString());
    MlServiceProcess a(settings(names, scratch->dsn()));
    MlServiceProcess b(settings(names, scratch->dsn()));
    QVERIFY2(a.start(), qPrintable(a.log()));
    QVERIFY2(b.start(), qPrintable(b.log()));
    QVERIFY2(test::waitFor(
                 [&] {
                   const double pa = a.metric("stacklens_assigned_partitions");
                   const double pb = b.metric("stacklens_assigned_partitions");
                   return pa > 0 && pb > 0 && pa + pb == 3;
                 },
                 30s),
             qPrintable(a.log() + b.log()));
    produceStream(names.input);
    const auto total = static_cast<double>(data_->stream.size());
    QVERIFY(test::waitFor(
        [&] { return a.metric("stacklens_messages_in_total") + b.metric("stacklens_messages_in_total") >= total; },
        60s));
    const double byA = a.metric("stacklens_messages_in_total");
    a.terminate();
    b.terminate();
    QCOMPARE(a.waitExit(), 0);
    QCOMPARE(b.waitExit(), 0);
    QVERIFY(byA > 0 && byA < total);
    connect::PgConnection db(scratch->dsn());
    const Reference ref = fullReference(a);
    QCOMPARE(queryIds(db, "SELECT anomaly_id FROM ml_anomalies"), ref.anomalies);
    QCOMPARE(queryIds(db, "SELECT model_id FROM ml_models"), ref.models);
  }

  void cleanupTestCase() { cluster_.reset(); }
};

QTEST_GUILESS_MAIN(TestMlService)
#include "test_ml_service.moc"
