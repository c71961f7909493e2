// Backtests: the replay is the production pipeline's own result, scoring against labels is exact,
// and progress and cancellation work.
#include <atomic>

#include <QtTest>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/core/sim/fleet_simulator.h"

#include "fleet_support.h"

using namespace stacklens::core;
using backtest::LabelWindow;

namespace {

std::vector<backtest::ServiceHistory> fleet(int services, int days, std::uint64_t seed = 7) {
  return stacklens::test::simulatedHistories(services, days, seed);
}

backtest::BacktestConfig configFrom(const std::vector<backtest::ServiceHistory>& services, int trainingDays) {
  backtest::BacktestConfig config;
  config.from = services.front().samples.front().timestamp + trainingDays * 86400;
  return config;
}

}  // namespace

class TestBacktest : public QObject {
  Q_OBJECT
 private slots:
  void scoresDetectionsAgainstWindows() {
    const std::vector<LabelWindow> windows{{100, 200}, {1000, 1100}, {5000, 5000}};
    // 150 and 250 hit window 1 (250 within the tolerance of 60? no: 200 + 60 = 260, yes),
    // 2000 is a false alarm, window 2 and 3 are missed.
    const std::vector<EpochSeconds> anomalies{150, 250, 2000};
    const auto s = backtest::scoreDetections(anomalies, windows, 60);
    QCOMPARE(s.anomalies, 3);
    QCOMPARE(s.trueAlarms, 2);
    QCOMPARE(s.windows, 3);
    QCOMPARE(s.detectedWindows, 1);
    QCOMPARE(s.precision, 2.0 / 3);
    QCOMPARE(s.recall, 1.0 / 3);
    QCOMPARE(s.f1, 2 * (2.0 / 3) * (1.0 / 3) / (2.0 / 3 + 1.0 / 3));
    // Overlapping windows: one anomaly detects both.
    const std::vector<LabelWindow> overlapping{{0, 100}, {50, 150}};
    const std::vector<EpochSeconds> one{60};
    QCOMPARE(backtest::scoreDetections(one, overlapping, 0).detectedWindows, 2);
    const auto none = backtest::scoreDetections({}, {}, 0);
    QCOMPARE(none.f1, 0.0);
  }

  void triagedFalsePositivesAreFalseAlarms() {
    const std::vector<LabelWindow> windows{{100, 200}};
    // 150 would hit the incident, but triage said it was a false positive; 300 is one too, flagged
    // twice (one window); 900 was triaged but is not flagged any more; 2000 is an unlabelled false alarm.
    const std::vector<EpochSeconds> anomalies{150, 180, 300, 300, 2000};
    const std::vector<EpochSeconds> falsePositives{900, 300, 150, 300};
    const auto s = backtest::scoreDetections(anomalies, windows, 0, falsePositives);
    QCOMPARE(s.anomalies, 5);
    QCOMPARE(s.trueAlarms, 1);  // 180 only
    QCOMPARE(s.detectedWindows, 1);
    QCOMPARE(s.knownFalsePositives, 3);
    QCOMPARE(s.repeatedFalsePositives, 2);
    QCOMPARE(s.precision, 1.0 / 5);
    backtest::DetectionScore total = s;
    total.add(s);
    QCOMPARE(total.knownFalsePositives, 6);
    QCOMPARE(total.repeatedFalsePositives, 4);
    // Without labels, as before.
    QCOMPARE(backtest::scoreDetections(anomalies, windows, 0).trueAlarms, 2);
  }

  void replayEqualsRunningThePipelineDirectly() {
    const auto services = fleet(3, 21);
    const auto config = configFrom(services, 7);
    const auto result = backtest::runBacktest(services, config);
    QCOMPARE(result.services.size(), services.size());
    int anomalies = 0;
    for (std::size_t i = 0; i < services.size(); ++i) {
      // What ml-service does: train on the loaded history, then process each message.
      pipeline::MlPipeline direct(config.pipeline);
      std::vector<ServiceMetrics> history, replayed;
      for (const auto& m : services[i].samples) (m.timestamp < config.from ? history : replayed).push_back(m);
      direct.train(services[i].service, history);
      std::vector<AnomalyRecord> expected;
      std::vector<double> scores;
      for (const auto& m : replayed) {
        auto out = direct.process(m);
        scores.push_back(out.consensus.anomalyScore);
        for (auto& a : out.anomalies) expected.push_back(a);
      }
      const auto& got = result.services[i];
      QCOMPARE(got.timestamps.size(), replayed.size());
      QCOMPARE(got.scores, scores);
      QCOMPARE(got.anomalies.size(), expected.size());
      for (std::size_t k = 0; k < expected.size(); ++k) {
        QCOMPARE(got.anomalies[k].anomalyId, expected[k].anomalyId);
        QCOMPARE(got.anomalies[k].anomalyScore, expected[k].anomalyScore);
        QCOMPARE(got.anomalies[k].confidence, expected[k].confidence);
        QVERIFY(got.anomalies[k].severity == expected[k].severity);
        QCOMPARE(got.anomalies[k].description, expected[k].description);
      }
      QCOMPARE(got.modelVersions, direct.modelVersion(services[i].service));
      anomalies += static_cast<int>(expected.size());
    }
    QVERIFY(anomalies > 0);
    QCOMPARE(result.detection.anomalies, anomalies);
  }

  void resultDoesNotDependOnThreads() {
    const auto services = fleet(4, 14, 11);
    auto config = configFrom(services, 7);
    config.threads = 1;
    const auto one = backtest::runBacktest(services, config);
    config.threads = 3;
    const auto three = backtest::runBacktest(services, config);
    for (std::size_t i = 0; i < services.size(); ++i) {
      QCOMPARE(one.services[i].scores, three.services[i].scores);
      QCOMPARE(one.services[i].anomalies.size(), three.services[i].anomalies.size());
    }
    QCOMPARE(one.detection.f1, three.detection.f1);
  }

  void scoresEachServiceAndCountsPerDay() {
    const auto services = fleet(2, 28, 3);
    const auto config = configFrom(services, 7);
    const auto result = backtest::runBacktest(services, config);
    int perDay = 0;
    for (const auto& [day, counts] : result.anomaliesPerDay) {
      QCOMPARE(day % 86400, EpochSeconds(0));
      for (int c : counts) perDay += c;
    }
    QCOMPARE(perDay, result.detection.anomalies);
    QCOMPARE(result.days, 21);
    QCOMPARE(static_cast<int>(result.anomaliesPerDay.size()), 21);
    for (const auto& s : result.services) {
      std::vector<EpochSeconds> times;
      for (const auto& a : s.anomalies) times.push_back(a.timestamp);
      const auto again = backtest::scoreDetections(times, s.labels, config.tolerance);
      QCOMPARE(s.detection.f1, again.f1);
      for (const auto& w : s.labels) QVERIFY(w.end >= config.from);  // only windows in the replayed range
    }
  }

  void startupSamplesReplaceTheFromTime() {
    const auto services = fleet(2, 14, 21);
    auto byTime = configFrom(services, 7);
    auto bySamples = byTime;
    bySamples.from = 0;
    bySamples.startupSamples = 7 * 24;
    const auto a = backtest::runBacktest(services, byTime);
    const auto b = backtest::runBacktest(services, bySamples);
    for (std::size_t i = 0; i < services.size(); ++i) {
      QCOMPARE(a.services[i].timestamps, b.services[i].timestamps);
      QCOMPARE(a.services[i].scores, b.services[i].scores);
    }
  }

  void nabScoreIsTheScorersOnTheReplayedScores() {
    const auto services = fleet(3, 28, 13);
    const auto config = configFrom(services, 7);
    const auto result = backtest::runBacktest(services, config);
    std::vector<eval::NabFile> files;
    int windows = 0;
    for (const auto& s : result.services) {
      std::vector<std::pair<EpochSeconds, EpochSeconds>> w;
      for (const auto& l : s.labels) w.emplace_back(l.start, l.end);
      files.push_back({s.service, s.scores, eval::windowsToRows(s.timestamps, w)});
      windows += static_cast<int>(files.back().windows.size());
    }
    const auto expected = eval::scoreCorpus(files, eval::nabProfiles()[0]);
    QVERIFY(windows > 0);
    QCOMPARE(result.nab.windows, windows);
    QCOMPARE(result.nab.normalized, expected.normalized);
    QCOMPARE(result.nab.threshold, expected.threshold);
    QVERIFY(result.nab.normalized <= 100.0);
  }

  void progressAndCancel() {
    const auto services = fleet(4, 28, 5);
    auto config = configFrom(services, 7);
    config.threads = 2;
    std::vector<double> progress;
    std::mutex m;
    auto done = backtest::runBacktest(services, config, {[&](double f) {
                                                            std::lock_guard<std::mutex> lock(m);
                                                            progress.push_back(f);
                                                          },
                                                          {}});
    QVERIFY(!done.cancelled);
    QVERIFY(progress.size() >= 2);
    QCOMPARE(progress.back(), 1.0);
    QVERIFY(std::is_sorted(progress.begin(), progress.end()));

    std::atomic<int> polls{0};
    const auto stopped = backtest::runBacktest(services, config, {{}, [&] { return ++polls > 3; }});
    QVERIFY(stopped.cancelled);
    std::size_t replayed = 0, full = 0;
    for (const auto& s : stopped.services) replayed += s.timestamps.size();
    for (const auto& s : done.services) full += s.timestamps.size();
    QVERIFY2(replayed < full / 2, qPrintable(QString("%1 of %2").arg(replayed).arg(full)));
  }

  // A new contamination or new consensus settings decided again from a replay's trace give what a
  // replay with them gives: the same anomalies (ids, scores, severities), scores and scoring - also
  // with refused samples, retraining during the replay and a start-up history without a model.
  void redecidingEqualsReplaying() {
    auto services = fleet(2, 16, 11);
    services[0].samples[9 * 24].errorRate = -1;  // refused in the replayed part
    services[1].samples[2].latencyP99Ms = -5;    // refused in the start-up history
    auto base = configFrom(services, 7);
    base.pipeline.retrainEvery = 50;
    auto coldStart = base;
    coldStart.startupSamples = 40;  // fewer than minTrainingSamples: warms up from the stream
    for (const auto& start : {base, coldStart}) {
      for (const auto& history : services) {
        backtest::DetectionTrace trace;
        const auto first = backtest::replayService(history, start, {}, {}, &trace);
        QVERIFY(trace.complete);
        QVERIFY(trace.models.size() >= 3);
        std::vector<backtest::BacktestConfig> variants(5, start);
        variants[0].pipeline.anomaly.forest.contamination = 0.03;
        variants[1].pipeline.anomaly.forest.contamination = std::nullopt;  // auto
        variants[2].pipeline.consensus.rule = detect::ConsensusRule::kAny;
        variants[2].pipeline.consensus.severity = {0.5, 0.6, 0.7};
        variants[3].pipeline.consensus.rule = detect::ConsensusRule::kWeighted;
        variants[3].pipeline.consensus.forestWeight = 2;
        variants[4].pipeline.anomaly.forest.contamination = 0.2;
        variants[4].pipeline.consensus.rule = detect::ConsensusRule::kUnanimous;
        int differing = 0;
        for (const auto& variant : variants) {
          const auto replayed = backtest::replayService(history, variant);
          const auto decided = backtest::redecideService(history, variant, first, trace);
          QCOMPARE(decided.scores, replayed.scores);
          QCOMPARE(decided.anomalies.size(), replayed.anomalies.size());
          for (std::size_t k = 0; k < replayed.anomalies.size(); ++k) {
            QCOMPARE(decided.anomalies[k].anomalyId, replayed.anomalies[k].anomalyId);
            QCOMPARE(decided.anomalies[k].anomalyScore, replayed.anomalies[k].anomalyScore);
            QCOMPARE(decided.anomalies[k].confidence, replayed.anomalies[k].confidence);
            QVERIFY(decided.anomalies[k].severity == replayed.anomalies[k].severity);
            QCOMPARE(decided.anomalies[k].description, replayed.anomalies[k].description);
          }
          QCOMPARE(decided.detection.trueAlarms, replayed.detection.trueAlarms);
          QCOMPARE(decided.detection.detectedWindows, replayed.detection.detectedWindows);
          QCOMPARE(decided.rejected, replayed.rejected);
          differing += decided.anomalies.size() != first.anomalies.size();
        }
        QVERIFY(differing >= 3);  // the settings do change the verdicts
      }
    }
    // A cancelled replay leaves an incomplete trace, which is refused.
    backtest::DetectionTrace partial;
    int polls = 0;
    backtest::replayService(
        services[0], base, [&] { return ++polls > 2; }, {}, &partial);
    QVERIFY(!partial.complete);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, backtest::redecideService(services[0], base, {}, partial));
  }

  void refusedSamplesAreCountedNotFatal() {
    auto services = fleet(1, 10, 9);
    const auto config = configFrom(services, 7);
    services[0].samples[8 * 24].errorRate = -1;  // replayed part
    services[0].samples[3].latencyP99Ms = -5;    // start-up history
    const auto result = backtest::runBacktest(services, config);
    QCOMPARE(result.services[0].rejected, 2);
    QCOMPARE(result.services[0].timestamps.size(), std::size_t(3 * 24));
    QVERIFY(result.services[0].modelVersions >= 1);

    auto mixed = fleet(2, 8, 9);
    mixed[0].samples[5].service = mixed[1].service;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, backtest::runBacktest(mixed, config));
    auto bad = config;
    bad.pipeline.historyCapacity = 10;  // fewer than minTrainingSamples
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, backtest::runBacktest(services, bad));
  }
};

QTEST_GUILESS_MAIN(TestBacktest)
#include "test_backtest.moc"
