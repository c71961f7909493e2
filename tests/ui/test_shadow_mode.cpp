// Shadow mode: the local engine with the tuned settings on the live stream, side by side with
// what production published: the comparison itself, and end to end with a real ml-service on the
// harness's mock cluster and PostgreSQL, the stream produced by `stacklens simulate`.
#include <QtTest>
#include <set>

#include "kafka_test_helpers.h"
#include "live_test_support.h"
#include "ml_service_fixture.h"
#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "connected_test_support.h"
#include "stacklens/ui/connected/pg_session.h"
#include "stacklens/ui/connected/shadow_history.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/core/sim/fleet_simulator.h"
#include "stacklens/ui/connected/live_panel.h"
#include "stacklens/ui/connected/live_tail.h"
#include "stacklens/ui/connected/shadow_mode.h"
#include "stacklens/ui/connected/shadow_panel.h"
#include "test_servers.h"

using namespace std::chrono_literals;
using namespace stacklens;
using namespace stacklens::ui;
using Verdict = ShadowRow::Verdict;

namespace {

std::vector<core::ServiceMetrics> stream() {
  core::sim::FleetConfig c;
  c.services = 2;
  c.hours = 24 * 10;
  c.seed = 7;
  c.incidentsPerServiceWeek = 5;
  c.quietHours = 72;
  std::vector<core::ServiceMetrics> out;
  for (const auto& s : core::sim::FleetSimulator(c).all()) out.push_back(s.metrics);
  return out;
}

core::pipeline::MlPipelineConfig config(core::detect::ConsensusRule rule) {
  core::pipeline::MlPipelineConfig c;
  c.minTrainingSamples = 48;
  c.retrainEvery = 0;
  c.consensus.rule = rule;
  return c;
}

using History = std::function<std::vector<core::ServiceMetrics>(const std::string& service, core::EpochSeconds end)>;

// What a pipeline with `c` flags on the stream, by (service, window); with `history`, each
// service trains on it first, as ml-service does.
std::map<std::pair<std::string, core::EpochSeconds>, core::AnomalyRecord> run(const core::pipeline::MlPipelineConfig& c,
                                                                              const std::vector<core::ServiceMetrics>& samples,
                                                                              const History& history = {}) {
  core::pipeline::MlPipeline pipeline(c);
  std::set<std::string> seen;
  std::map<std::pair<std::string, core::EpochSeconds>, core::AnomalyRecord> out;
  for (const auto& s : samples) {
    if (history && seen.insert(s.service).second) pipeline.train(s.service, history(s.service, s.timestamp - 1));
    for (auto& a : pipeline.process(s).anomalies) out[{a.service, a.timestamp}] = a;
  }
  return out;
}

struct Expected {
  std::set<std::pair<std::string, core::EpochSeconds>> localOnly, productionOnly, differ;
  std::size_t total() const { return localOnly.size() + productionOnly.size() + differ.size(); }
};

using Flagged = std::map<std::pair<std::string, core::EpochSeconds>, core::AnomalyRecord>;

Expected setDifference(const Flagged& local, const Flagged& production) {
  Expected e;
  for (const auto& [key, a] : local) {
    const auto p = production.find(key);
    if (p == production.end())
      e.localOnly.insert(key);
    else if (p->second.type != a.type || p->second.severity != a.severity)
      e.differ.insert(key);
  }
  for (const auto& [key, a] : production)
    if (!local.contains(key)) e.productionOnly.insert(key);
  return e;
}

Expected expectedDisagreements(const std::vector<core::ServiceMetrics>& samples) {
  return setDifference(run(config(core::detect::ConsensusRule::kAny), samples),
                       run(config(core::detect::ConsensusRule::kUnanimous), samples));
}

// With STACKLENS_SCREENSHOT_DIR set (e.g. under xvfb-run for docs/screenshots), the Live and
// Shadow tabs as the end-to-end run left them.
void saveScreenshots(LivePanel& live, ShadowPanel& shadow) {
  const QString dir = qEnvironmentVariable("STACKLENS_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  for (auto [widget, name] : {std::pair<QWidget*, const char*>{&live, "live.png"}, {&shadow, "shadow.png"}}) {
    widget->resize(1100, 560);
    widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(widget));
    if (widget == &live) live.redraw();
    QTest::qWait(300);
    QVERIFY(widget->grab().save(dir + "/" + name, "PNG"));
  }
}

Expected reported(const std::vector<ShadowRow>& disagreements) {
  Expected got;
  for (const ShadowRow& row : disagreements) {
    const auto key = std::make_pair(row.service, row.timestamp);
    switch (row.verdict()) {
      case Verdict::kLocalOnly: got.localOnly.insert(key); break;
      case Verdict::kProductionOnly: got.productionOnly.insert(key); break;
      case Verdict::kDiffer: got.differ.insert(key); break;
      case Verdict::kAgree: break;
    }
  }
  return got;
}

// What production (the ml-service under test) wrote to ml_anomalies, by (service, window).
Flagged productionAnomalies(stacklens::connect::PgConnection& db) {
  Flagged out;
  const auto rows = db.query(
      "SELECT service, extract(epoch FROM \"timestamp\")::bigint, anomaly_type, severity FROM ml_anomalies");
  for (int r = 0; r < rows.rows(); ++r) {
    core::AnomalyRecord a;
    a.service = rows.text(r, 0);
    a.timestamp = rows.toInt64(r, 1);
    a.type = *core::anomalyTypeFromString(rows.text(r, 2));
    a.severity = *core::severityFromString(rows.text(r, 3));
    out[{a.service, a.timestamp}] = a;
  }
  return out;
}

}  // namespace

class TestShadowMode : public QObject {
  Q_OBJECT
 private slots:
  void reportsWhereLocalAndProductionDisagree() {
    const auto samples = stream();
    const Expected expected = expectedDisagreements(samples);
    QVERIFY(!expected.localOnly.empty());  // "any" flags more than "unanimous"
    ShadowMode shadow(config(core::detect::ConsensusRule::kAny));
    for (const auto& s : samples) QVERIFY(shadow.addInput(s));
    for (const auto& [key, a] : run(config(core::detect::ConsensusRule::kUnanimous), samples)) shadow.addProduction(a);
    for (const ShadowRow& row : shadow.disagreements()) QVERIFY(row.verdict() != Verdict::kAgree);
    const Expected got = reported(shadow.disagreements());
    QCOMPARE(got.localOnly, expected.localOnly);
    QCOMPARE(got.productionOnly, expected.productionOnly);
    QCOMPARE(got.differ, expected.differ);
    QCOMPARE(shadow.inputs(), int(samples.size()));
    QVERIFY(shadow.rows().size() > shadow.disagreements().size());  // some windows agree
  }

  void sameSettingsAgreeEverywhere() {
    const auto samples = stream();
    ShadowMode shadow(config(core::detect::ConsensusRule::kMajority));
    for (const auto& s : samples) shadow.addInput(s);
    for (const auto& [key, a] : run(config(core::detect::ConsensusRule::kMajority), samples)) shadow.addProduction(a);
    QVERIFY(!shadow.rows().empty());
    QCOMPARE(shadow.disagreements().size(), std::size_t(0));
  }

  // End to end: `stacklens simulate` writes eight days of history to analytics_metrics_1hour and
  // streams four more to the mock cluster; a real ml-service (production, default settings)
  // trains on the history and consumes the stream; the live tail feeds its input and its
  // ml-anomalies to shadow panels that train on the same history (loadServiceHistory, as the
  // connected workbench does). With production's own settings the local engine agrees on every
  // window; with "any" instead of "majority" the panel reports exactly the windows where the two
  // differ (production's side read back from ml_anomalies); without the history, the local engine
  // warms up from the stream and misses what production flagged meanwhile.
  void endToEndAgainstARealMlService() {
    STACKLENS_REQUIRE_POSTGRES();
    STACKLENS_REQUIRE_KAFKA();
    stacklens::test::ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "shadow");
    stacklens::connect::PgConnection db(scratch.dsn());
    stacklens::connect::MigrationRunner().migrate(db);
    stacklens::test::MlServiceProcess::Settings settings;
    settings.bootstrap = stacklens::test::kafkaBootstrap().toStdString();
    settings.dsn = scratch.dsn();
    settings.group = stacklens::test::uniqueName("shadow-group");
    settings.inputTopic = stacklens::test::uniqueName("shadow-in");
    settings.anomaliesTopic = stacklens::test::uniqueName("shadow-anomalies");
    settings.patternsTopic = stacklens::test::uniqueName("shadow-patterns");
    settings.deadLetterTopic = stacklens::test::uniqueName("shadow-dlq");
    stacklens::test::MlServiceProcess mlService(settings);
    const core::pipeline::MlPipelineConfig production = mlService.config().pipelineConfig();
    core::pipeline::MlPipelineConfig tuned = production;
    tuned.consensus.rule = core::detect::ConsensusRule::kAny;

    PgSession session(stacklens::test::harnessPgProfile(scratch.name()), {});
    QVERIFY(session.open());
    const History fromTable = [&](const std::string& service, core::EpochSeconds end) {
      return loadServiceHistory(session.database(), service, end);
    };
    ShadowPanel same([&] { return production; });
    ShadowPanel different([&] { return tuned; });
    ShadowPanel cold([&] { return production; });
    LivePanel live;  // the Live tab: its tail feeds the shadow panels, as in the connected workbench
    LiveTail& tail = *live.tail();
    stacklens::test::TailRecorder recorder(&tail);
    for (ShadowPanel* panel : {&same, &different, &cold}) {
      panel->setTopics(QString::fromStdString(settings.inputTopic), QString::fromStdString(settings.anomaliesTopic));
      if (panel != &cold) panel->setHistoryLoader(fromTable);
      panel->setActive(true);
      connect(&tail, &LiveTail::messagesArrived, panel, &ShadowPanel::onMessages);
    }
    KafkaProfile profile;
    profile.bootstrapServers = stacklens::test::kafkaBootstrap();
    tail.start(profile, {}, {QString::fromStdString(settings.inputTopic), QString::fromStdString(settings.anomaliesTopic)});
    QVERIFY(QTest::qWaitFor([&] { return tail.isReady(); }, 20000));
    QVERIFY2(mlService.start(), qPrintable(mlService.log()));

    constexpr int kServices = 2, kHistoryHours = 24 * 8, kHours = kHistoryHours + 24 * 4;
    constexpr int kMessages = kServices * (kHours - kHistoryHours);
    QString log;
    QCOMPARE(stacklens::test::simulateToKafka(
                 stacklens::test::kafkaBootstrap(), QString::fromStdString(settings.inputTopic),
                 {"--services", QString::number(kServices), "--hours", QString::number(kHours), "--seed", "11",
                  "--incident-rate", "6", "--postgres", QString::fromStdString(scratch.dsn()), "--history-hours",
                  QString::number(kHistoryHours)},
                 &log),
             0);
    QVERIFY2(QTest::qWaitFor([&] { return mlService.metric("stacklens_messages_in_total") >= kMessages; }, 90000),
             qPrintable(mlService.log()));
    const long long published = stacklens::test::scalarOf(db, "SELECT count(*) FROM ml_anomalies");
    QVERIFY2(published > 0, qPrintable(mlService.log()));
    const QString inputTopic = QString::fromStdString(settings.inputTopic);
    const QString anomaliesTopic = QString::fromStdString(settings.anomaliesTopic);
    QVERIFY2(QTest::qWaitFor([&] { return recorder.count(inputTopic) >= kMessages &&
                                          recorder.count(anomaliesTopic) >= published; }, 30000),
             qPrintable(QStringLiteral("tail: %1 of %2 inputs, %3 of %4 anomalies")
                            .arg(recorder.count(inputTopic)).arg(kMessages)
                            .arg(recorder.count(anomaliesTopic)).arg(published)));
    QCOMPARE(same.shadow()->inputs(), kMessages);

    // Same settings: every window either side flagged, flagged alike.
    QCOMPARE(int(same.shadow()->rows().size()), int(published));
    QCOMPARE(same.shadow()->disagreements().size(), std::size_t(0));
    QCOMPARE(same.model()->rowCount(), 0);

    // Tuned settings: the disagreements are the set difference of the tuned engine's run over the
    // history and the messages, and what production wrote.
    std::vector<core::ServiceMetrics> stream;
    for (const auto& [key, messages] : recorder.byPartition())
      if (key.first == inputTopic)
        for (const TailMessage& m : messages)
          stream.push_back(*stacklens::connect::decodeServiceMetrics(std::string_view(m.value.constData(), m.value.size())).value);
    std::stable_sort(stream.begin(), stream.end(), [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    stacklens::connect::PgSettings store;
    store.dsn = scratch.dsn();
    store.poolMin = 1;
    stacklens::connect::PgStore reader(store);  // the service's own reader, for the reference
    const History serviceHistory = [&](const std::string& service, core::EpochSeconds end) {
      return reader.loadHistory(service, end).samples;
    };
    const Flagged flaggedByProduction = productionAnomalies(db);
    QCOMPARE(setDifference(run(production, stream, serviceHistory), flaggedByProduction).total(), std::size_t(0));
    const Expected expected = setDifference(run(tuned, stream, serviceHistory), flaggedByProduction);
    QVERIFY(expected.total() > 0);
    const Expected got = reported(different.shadow()->disagreements());
    QCOMPARE(got.localOnly, expected.localOnly);
    QCOMPARE(got.productionOnly, expected.productionOnly);
    QCOMPARE(got.differ, expected.differ);
    QCOMPARE(different.model()->rowCount(), int(expected.total()));

    // Without the history: the windows production flagged while the local engine warmed up.
    const Expected warmingUp = setDifference(run(production, stream), flaggedByProduction);
    QVERIFY(!warmingUp.productionOnly.empty());
    QCOMPARE(reported(cold.shadow()->disagreements()).productionOnly, warmingUp.productionOnly);
    QCOMPARE(live.model()->rowCount(), kMessages + int(published));
    saveScreenshots(live, different);
    tail.stop();
    mlService.terminate();
    QCOMPARE(mlService.waitExit(), 0);
  }
};

QTEST_MAIN(TestShadowMode)
#include "test_shadow_mode.moc"
