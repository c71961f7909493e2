#pragma once
// The shared set-up of the ml-service tests (test_ml_service, test_ml_service_recovery): a mock
// cluster in the test process (so a test can take its brokers down), a simulated fleet, fresh
// topic names, history databases, producing the stream, the engine's reference records.

#include <thread>

#include "ml_service_fixture.h"
#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/connect/mock_cluster.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "test_servers.h"

namespace stacklens::test {

using namespace std::chrono_literals;
constexpr int kServices = 6;
constexpr int kHistoryHours = 168;
constexpr int kStreamHours = 72;

inline core::sim::FleetConfig fleetConfig() {
  core::sim::FleetConfig c;
  c.services = kServices;
  c.hours = kHistoryHours + kStreamHours;
  c.seed = 2026;
  c.incidentsPerServiceWeek = 6;
  c.quietHours = kHistoryHours;
  return c;
}

inline std::set<std::string> queryIds(connect::PgConnection& db, const std::string& sql) {
  std::set<std::string> ids;
  for (const QString& row : test::rowsOf(db, sql)) ids.insert(row.toStdString());
  return ids;
}

// What `actual` holds that `expected` lacks and the reverse, for a failure message.
inline std::string setDifference(const std::set<std::string>& actual, const std::set<std::string>& expected) {
  std::string text;
  for (const auto& id : actual)
    if (!expected.contains(id)) text += "\n  unexpected: " + id;
  for (const auto& id : expected)
    if (!actual.contains(id)) text += "\n  missing: " + id;
  return text;
}

// One test's topics and group, fresh names so tests never see each other's messages.
struct Names {
  std::string prefix = test::uniqueName("ml");
  std::string input = prefix + "-in";
  std::string anomalies = prefix + "-anomalies";
  std::string patterns = prefix + "-patterns";
  std::string deadLetters = prefix + "-dlq";
  std::string group = prefix + "-group";
};

class MlServiceTestBase : public QObject {
 protected:
  std::unique_ptr<connect::MockCluster> cluster_;
  std::unique_ptr<FleetData> data_;

  MlServiceProcess::Settings settings(const Names& names, const std::string& dsn) const {
    MlServiceProcess::Settings s;
    s.bootstrap = cluster_->bootstrapServers();
    s.dsn = dsn;
    s.group = names.group;
    s.inputTopic = names.input;
    s.anomaliesTopic = names.anomalies;
    s.patternsTopic = names.patterns;
    s.deadLetterTopic = names.deadLetters;
    return s;
  }

  // A migrated database of its own holding the history part of the fleet.
  std::unique_ptr<ScratchDatabase> historyDatabase(const std::string& tag, const std::string& adminDsn) {
    auto scratch = std::make_unique<ScratchDatabase>(adminDsn, tag);
    connect::PgConnection db(scratch->dsn());
    connect::MigrationRunner().migrate(db);
    connect::PgSettings settings;
    settings.dsn = scratch->dsn();
    settings.poolMin = 1;
    connect::PgStore(settings).writeMetrics(data_->table);
    return scratch;
  }

  // Produces the stream (messages `include` accepts), `rate` messages per second (0: at once),
  // calling `between(i)` before message i.
  template <typename Between>
  void produceStream(const std::string& topic, double rate, Between&& between) {
    // Idempotent, as an upstream must be: retries while brokers are down neither duplicate nor
    // reorder a service's samples (the service skips replays, dead-letters late samples).
    connect::KafkaProducer producer({{"bootstrap.servers", cluster_->bootstrapServers()},
                                     {"linger.ms", "1"},
                                     {"reconnect.backoff.max.ms", "1000"},
                                     {"enable.idempotence", "true"}});
    const auto begin = std::chrono::steady_clock::now();
    std::size_t i = 0;
    for (const auto& sample : data_->stream) {
      between(i, producer);
      if (rate > 0) std::this_thread::sleep_until(begin + std::chrono::duration<double>(static_cast<double>(i) / rate));
      producer.produce(topic, sample.metrics.service, connect::encodeServiceMetrics(sample.metrics));
      ++i;
    }
    QCOMPARE(producer.flush(30s), 0);
  }
  void produceStream(const std::string& topic, double rate = 0) {
    produceStream(topic, rate, [](std::size_t, connect::KafkaProducer&) {});
  }

  Reference fullReference(const MlServiceProcess& service) const {
    const connect::ServiceConfig config = service.config();
    return referenceRun(*data_, config.pipelineConfig(), config.ml.historyDays,
                              [](const core::ServiceMetrics&) { return true; });
  }

  // Messages of the stream that `group` has not committed (read without joining it).
  std::set<std::string> uncommitted(const std::string& topic, const std::string& group) {
    std::set<std::string> keys;
    for (const auto& message : uncommittedMessages(cluster_->bootstrapServers(), topic, 3, group))
      if (const auto decoded = connect::decodeServiceMetrics(message.value)) keys.insert(messageKey(*decoded.value));
    return keys;
  }

  void createTopics(const Names& names) {
    cluster_->createTopic(names.input, 3);
    for (const auto& topic : {names.anomalies, names.patterns, names.deadLetters}) cluster_->createTopic(topic, 1);
  }

  // Until the service has consumed (and committed) `messages`; on time-out its log's tail and
  // counters go to the test output.
  static bool waitProcessed(MlServiceProcess& service, double messages, std::chrono::seconds limit = 60s) {
    if (waitFor([&] { return service.metric("stacklens_messages_in_total") >= messages; }, limit)) return true;
    const QString metrics = QString::fromStdString(httpBody(service.port(), "/metrics"));
    QStringList counters;
    for (const QString& line : metrics.split('\n'))
      if (line.startsWith("stacklens_") && !line.contains("_bucket")) counters << line;
    qWarning("not all %g messages processed; log tail:\n%s\n%s", messages, qPrintable(service.log().right(4000)),
             qPrintable(counters.join('\n')));
    return false;
  }

  void setUpCluster() {
    cluster_ = std::make_unique<connect::MockCluster>(3);
    data_ = std::make_unique<FleetData>(fleetConfig(), kHistoryHours);
  }
};

}  // namespace stacklens::test
