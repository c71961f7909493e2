// The shared service runtime (headless/src/service): a batch's writes and messages are durable
// before its offsets are committed, bad messages reach the dead-letter topic without stopping the
// partition, a database outage delays the commit instead of losing data, and a stop drains.
// Runs against an in-process mock cluster and a private PostgreSQL server (so the test may
// restart it).
#include <QtTest>

#include <thread>

#include "kafka_test_helpers.h"
#include "pg_test_helpers.h"
#include "service/service_runtime.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/mock_cluster.h"
#include "stacklens/connect/pg_migrations.h"
#include "test_servers.h"
#include "throwaway_postgres.h"

// After the engine headers: <resolv.h>, which httplib includes, defines _res, an Eigen parameter name.
#include <httplib.h>

using namespace std::chrono_literals;
using namespace stacklens;
using headless::service::BatchHandler;
using headless::service::BatchOutput;
using headless::service::ServiceIdentity;
using headless::service::ServiceRuntime;

namespace {

// Stores valid service metrics in analytics_metrics_1hour and echoes them to a topic.
class EchoHandler : public BatchHandler {
 public:
  explicit EchoHandler(std::string outputTopic) : outputTopic_(std::move(outputTopic)) {}
  void handle(std::span<const connect::KafkaMessage> batch, BatchOutput& out) override {
    std::vector<core::ServiceMetrics> rows;
    for (const auto& message : batch) {
      auto decoded = connect::decodeServiceMetrics(message.value);
      if (!decoded) {
        out.deadLetter(message, decoded.error);
        continue;
      }
      rows.push_back(*decoded.value);
      out.produce(outputTopic_, message.key, message.value);
    }
    handled += batch.size();
    if (!rows.empty())
      out.write("analytics_metrics_1hour", [rows](connect::PgStore& store) { store.writeMetrics(rows); });
  }
  std::atomic<std::size_t> handled{0};

 private:
  std::string outputTopic_;
};

std::string sample(const std::string& service, int hour) {
  core::ServiceMetrics m;
  m.service = service;
  m.timestamp = 1767225600 + hour * 3600;
  m.totalRequests = 1000 + hour;
  m.errorRate = 0.5;
  m.latencyP99Ms = 150;
  m.latencyP95Ms = 100;
  m.latencyMeanMs = 50;
  m.uniqueUsers = 100;
  m.uniqueIps = 50;
  m.riskScore = 0.1;
  return connect::encodeServiceMetrics(m);
}

std::string httpGet(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5);
  const auto response = client.Get(path);
  if (status) *status = response ? response->status : -1;
  return response ? response->body : std::string();
}

double metricValue(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

class TestServiceRuntime : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<connect::MockCluster> cluster_;
  std::unique_ptr<test::ThrowawayPostgres> postgres_;
  std::unique_ptr<connect::PgConnection> db_;

  connect::ServiceConfig config(const std::string& group) const {
    connect::ServiceConfig c;
    c.kafka.bootstrapServers = cluster_->bootstrapServers();
    c.kafka.groupId = group;
    c.kafka.properties = {{"session.timeout.ms", "6000"}, {"message.timeout.ms", "30000"}};
    c.postgres.dsn = postgres_->dsn();
    c.postgres.poolMin = 1;
    c.postgres.retry.maxElapsed = 2s;
    c.http.bind = "127.0.0.1";
    c.http.port = test::freeTcpPort();
    c.log.level = "warn";
    return c;
  }

  static ServiceIdentity identity(const std::string& topic) {
    return {.name = "runtime-test",
            .defaultHttpPort = 0,
            .inputTopic = topic,
            .deadLetterTopic = topic + "-dlq",
            .batchSize = 20,
            .batchTimeout = 20ms};
  }

  void produce(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& messages) {
    connect::KafkaProducer producer({{"bootstrap.servers", cluster_->bootstrapServers()}});
    for (const auto& [key, value] : messages) producer.produce(topic, key, value);
    QCOMPARE(producer.flush(10s), 0);
  }

  long long rows() { return test::scalarOf(*db_, "SELECT count(*) FROM analytics_metrics_1hour"); }

 private slots:
  void initTestCase() {
    cluster_ = std::make_unique<connect::MockCluster>(3);
    postgres_ = std::make_unique<test::ThrowawayPostgres>();
    if (!postgres_->isReady()) {
      if (test::underCi()) QFAIL(qPrintable(postgres_->error()));
      QSKIP(qPrintable(postgres_->error()));
    }
    db_ = std::make_unique<connect::PgConnection>(postgres_->dsn());
    connect::MigrationRunner().migrate(*db_);
  }

  void init() {
    if (db_) db_->execute("TRUNCATE analytics_metrics_1hour");
  }

  void writesBeforeCommittingAndDeadLettersTheBad() {
    const std::string topic = test::uniqueName("rt-in");
    const std::string group = test::uniqueName("rt-group");
    cluster_->createTopic(topic, 3);
    cluster_->createTopic(topic + "-dlq", 1);
    cluster_->createTopic(topic + "-out", 1);
    std::vector<std::pair<std::string, std::string>> messages;
    for (int i = 0; i < 60; ++i) {
      messages.emplace_back("svc" + std::to_string(i % 6), sample("svc" + std::to_string(i % 6), i));
      if (i == 10) messages.emplace_back("svc0", "{not json");
      if (i == 30) messages.emplace_back("svc1", R"({"service":"svc1","timestamp":"2026-01-01T00:00:00Z"})");
      if (i == 50) messages.emplace_back("svc2", sample("svc2", 0).replace(sample("svc2", 0).find("\"error_rate\":"), 13, "\"error_rate\":-"));
    }
    produce(topic, messages);

    connect::ServiceConfig c = config(group);
    ServiceRuntime runtime(c, identity(topic));
    EchoHandler handler(topic + "-out");
    int code = -1;
    std::thread loop([&] { code = runtime.run(handler); });
    const bool written = test::waitFor([&] { return rows() == 60; }, 30s);
    int status = 0;
    const std::string ready = httpGet(runtime.httpPort(), "/readyz", &status);
    QVERIFY(test::waitFor([&] { return metricValue(httpGet(runtime.httpPort(), "/metrics"), "stacklens_messages_in_total") == 63; }, 10s));
    const std::string metrics = httpGet(runtime.httpPort(), "/metrics");
    runtime.requestStop();
    loop.join();
    QVERIFY(written);
    QCOMPARE(code, 0);
    QCOMPARE(status, 200);
    QCOMPARE(QString::fromStdString(ready), QStringLiteral("{\"kafka\":\"ok\",\"postgres\":\"ok\"}\n"));
    QCOMPARE(metricValue(metrics, "stacklens_dlq_total"), 3.0);
    QVERIFY(metrics.find("stacklens_messages_out_total{topic=\"" + topic + "-out\"} 60") != std::string::npos);

    const auto dead = test::drainTopic(cluster_->bootstrapServers(), topic + "-dlq", 1, 3, 20s);
    QCOMPARE(dead.size(), std::size_t(3));
    std::string reasons;
    for (const auto& message : dead) reasons += message.value;
    for (const char* reason : {"bad JSON", "missing field 'total_requests'", "field 'error_rate': must not be negative"})
      QVERIFY2(reasons.find(reason) != std::string::npos, reason);
    QVERIFY(reasons.find("\"source_topic\":\"" + topic + "\"") != std::string::npos);
    QCOMPARE(test::drainTopic(cluster_->bootstrapServers(), topic + "-out", 1, 60, 20s).size(), std::size_t(60));

    // The group committed all 63: a new instance in it sees only what comes after.
    produce(topic, {{"svc9", sample("svc9", 500)}});
    ServiceRuntime second(config(group), identity(topic));
    EchoHandler handler2(topic + "-out");
    std::thread loop2([&] { code = second.run(handler2); });
    QVERIFY(test::waitFor([&] { return rows() == 61; }, 30s));
    std::this_thread::sleep_for(500ms);
    second.requestStop();
    loop2.join();
    QCOMPARE(code, 0);
    QCOMPARE(handler2.handled.load(), std::size_t(1));
  }

  void aDatabaseOutageDelaysTheCommitAndLosesNothing() {
    const std::string topic = test::uniqueName("rt-pg");
    const std::string group = test::uniqueName("rt-group");
    cluster_->createTopic(topic, 2);
    connect::ServiceConfig c = config(group);
    ServiceRuntime runtime(c, identity(topic));
    EchoHandler handler(topic + "-out");
    int code = -1;
    std::thread loop([&] { code = runtime.run(handler); });
    std::vector<std::pair<std::string, std::string>> first;
    for (int i = 0; i < 20; ++i) first.emplace_back("a", sample("a", i));
    produce(topic, first);
    QVERIFY(test::waitFor([&] { return rows() == 20; }, 30s));

    db_.reset();
    QVERIFY(postgres_->stop(test::ThrowawayPostgres::StopMode::kImmediate));
    std::vector<std::pair<std::string, std::string>> second;
    for (int i = 20; i < 40; ++i) second.emplace_back("a", sample("a", i));
    produce(topic, second);
    QVERIFY(test::waitFor([&] { return handler.handled.load() == 40; }, 20s));
    std::this_thread::sleep_for(1500ms);  // the runtime retries the write meanwhile
    int status = 0;
    httpGet(runtime.httpPort(), "/readyz", &status);
    QCOMPARE(status, 503);
    QVERIFY(postgres_->start());
    db_ = std::make_unique<connect::PgConnection>(postgres_->dsn());
    QVERIFY(test::waitFor([&] { return rows() == 40; }, 30s));
    runtime.requestStop();
    loop.join();
    QCOMPARE(code, 0);
    const std::string metrics = httpGet(runtime.httpPort(), "/metrics");
    QVERIFY(metrics.find("stacklens_retries_total{what=\"postgres analytics_metrics_1hour\"}") != std::string::npos);
  }

  void aStopDuringAnOutageEndsUncommittedAfterTheDrainTime() {
    const std::string topic = test::uniqueName("rt-drain");
    const std::string group = test::uniqueName("rt-group");
    cluster_->createTopic(topic, 1);
    ServiceRuntime runtime(config(group), identity(topic));
    runtime.setDrainTimeout(1s);
    EchoHandler handler(topic + "-out");
    int code = -1;
    std::thread loop([&] { code = runtime.run(handler); });
    db_.reset();
    QVERIFY(postgres_->stop(test::ThrowawayPostgres::StopMode::kImmediate));
    produce(topic, {{"b", sample("b", 1)}});
    QVERIFY(test::waitFor([&] { return handler.handled.load() == 1; }, 20s));
    runtime.requestStop();
    loop.join();
    QCOMPARE(code, 1);
    QVERIFY(postgres_->start());
    db_ = std::make_unique<connect::PgConnection>(postgres_->dsn());

    // Not committed: the next instance of the group consumes the message again and writes it.
    ServiceRuntime next(config(group), identity(topic));
    EchoHandler handler2(topic + "-out");
    std::thread loop2([&] { code = next.run(handler2); });
    QVERIFY(test::waitFor([&] { return rows() == 1; }, 30s));
    next.requestStop();
    loop2.join();
    QCOMPARE(code, 0);
  }

  // The writes of one batch overlap with handling the next, but only one batch is in flight and
  // nothing is committed before its outputs are durable.
  void theNextBatchIsHandledWhileOneIsBeingWritten() {
    const std::string topic = test::uniqueName("rt-pipe");
    const std::string group = test::uniqueName("rt-group");
    cluster_->createTopic(topic, 1);
    ServiceRuntime runtime(config(group), identity(topic));
    EchoHandler handler(topic + "-out");
    int code = -1;
    std::thread loop([&] { code = runtime.run(handler); });
    connect::KafkaConsumer observer({{"bootstrap.servers", cluster_->bootstrapServers()}, {"group.id", group}});
    const auto committed = [&] { return observer.committed(topic, 1, 5s).at(0); };
    const auto batchOf20 = [&](int from) {  // batchSize is 20: one batch
      std::vector<std::pair<std::string, std::string>> messages;
      for (int i = from; i < from + 20; ++i) messages.emplace_back("p", sample("p", i));
      produce(topic, messages);
    };
    batchOf20(0);
    QVERIFY(test::waitFor([&] { return rows() == 20 && committed() == 20; }, 30s));

    db_.reset();
    QVERIFY(postgres_->stop(test::ThrowawayPostgres::StopMode::kImmediate));
    batchOf20(20);  // in flight: its write waits for the database
    QVERIFY(test::waitFor([&] { return handler.handled.load() == 40; }, 20s));
    batchOf20(40);  // handled meanwhile
    QVERIFY(test::waitFor([&] { return handler.handled.load() == 60; }, 20s));
    batchOf20(60);  // waits: one batch in flight at most
    std::this_thread::sleep_for(1500ms);
    QCOMPARE(handler.handled.load(), std::size_t(60));
    QCOMPARE(committed(), std::int64_t(20));

    QVERIFY(postgres_->start());
    db_ = std::make_unique<connect::PgConnection>(postgres_->dsn());
    QVERIFY(test::waitFor([&] { return rows() == 80 && committed() == 80; }, 30s));
    runtime.requestStop();
    loop.join();
    QCOMPARE(code, 0);
  }

  void cleanupTestCase() {
    db_.reset();
    postgres_.reset();
    cluster_.reset();
  }
};

QTEST_GUILESS_MAIN(TestServiceRuntime)
#include "test_service_runtime.moc"
