// Shadow mode: the local engine with the tuned settings on the live stream, side by side with
// what production published: the comparison itself. (End to end through the mock cluster is not
// reliable yet: see docs/CONNECTED.md.)
#include <QtTest>
#include <set>

#include "kafka_test_helpers.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/message_codec.h"
#include "stacklens/core/sim/fleet_simulator.h"
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

// What a pipeline with `c` flags on the stream, by (service, window).
std::map<std::pair<std::string, core::EpochSeconds>, core::AnomalyRecord> run(const core::pipeline::MlPipelineConfig& c,
                                                                              const std::vector<core::ServiceMetrics>& samples) {
  core::pipeline::MlPipeline pipeline(c);
  std::map<std::pair<std::string, core::EpochSeconds>, core::AnomalyRecord> out;
  for (const auto& s : samples)
    for (auto& a : pipeline.process(s).anomalies) out[{a.service, a.timestamp}] = a;
  return out;
}

struct Expected {
  std::set<std::pair<std::string, core::EpochSeconds>> localOnly, productionOnly, differ;
  std::size_t total() const { return localOnly.size() + productionOnly.size() + differ.size(); }
};

Expected expectedDisagreements(const std::vector<core::ServiceMetrics>& samples) {
  const auto local = run(config(core::detect::ConsensusRule::kAny), samples);
  const auto production = run(config(core::detect::ConsensusRule::kUnanimous), samples);
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
    Expected got;
    for (const ShadowRow& row : shadow.disagreements()) {
      const auto key = std::make_pair(row.service, row.timestamp);
      switch (row.verdict()) {
        case Verdict::kLocalOnly: got.localOnly.insert(key); break;
        case Verdict::kProductionOnly: got.productionOnly.insert(key); break;
        case Verdict::kDiffer: got.differ.insert(key); break;
        case Verdict::kAgree: QFAIL("an agreeing row among the disagreements");
      }
    }
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
};

QTEST_MAIN(TestShadowMode)
#include "test_shadow_mode.moc"
