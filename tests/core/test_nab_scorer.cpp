// NAB scoring (../shared/data/README.md) on hand-computed cases.
#include <cmath>

#include <QtTest>

#include "stacklens/core/eval/nab_scorer.h"

using namespace stacklens::core;
using namespace stacklens::core::eval;

namespace {

// 100 rows (probation 15), one window [50, 59] (W = 10), scores 0 except where set.
NabFile oneWindow(std::initializer_list<std::pair<std::size_t, double>> detections) {
  NabFile f;
  f.name = "a.csv";
  f.scores.assign(100, 0.0);
  for (const auto& [row, score] : detections) f.scores[row] = score;
  f.windows = {{50, 59}};
  return f;
}

const NabProfile& standard() {
  return nabProfiles()[0];
}

bool near(double a, double b) {
  return std::abs(a - b) < 1e-12;
}

}  // namespace

class TestNabScorer : public QObject {
  Q_OBJECT
 private slots:
  void sigmoidAndProbation() {
    QCOMPARE(nabSigmoid(0), 0.0);
    QVERIFY(near(nabSigmoid(-1), 0.9866142981514305));  // 2/(1+e^-5) − 1
    QVERIFY(near(nabSigmoid(1), -0.9866142981514303));
    QCOMPARE(nabSigmoid(3.01), -1.0);
    QCOMPARE(nabProbation(100), std::size_t{15});
    QCOMPARE(nabProbation(4032), std::size_t{604});  // ⌊0.15 · 4032⌋
    QCOMPARE(nabProbation(22695), std::size_t{750});
    QCOMPARE(nabProbation(6), std::size_t{0});
  }

  void profiles() {
    QCOMPARE(nabProfiles()[0].name, std::string("standard"));
    QCOMPARE(nabProfiles()[1].fp, 0.22);
    QCOMPARE(nabProfiles()[2].fn, 2.0);
  }

  void windowDetections() {
    // Earliest row of the window: worth tp exactly.
    NabFileScore s = scoreFile(oneWindow({{50, 1.0}}), 0.5, standard());
    QVERIFY(near(s.raw, 1.0));
    QCOMPARE(s.truePositives, 1);
    // Middle: σ(−(59−55+1)/10)/σ(−1) = σ(−0.5)/σ(−1) = 0.85979...
    s = scoreFile(oneWindow({{55, 1.0}}), 0.5, standard());
    QVERIFY(near(s.raw, 0.8597925669097837));
    // Only the best detection of a window counts.
    s = scoreFile(oneWindow({{55, 1.0}, {50, 0.6}, {58, 0.9}}), 0.5, standard());
    QVERIFY(near(s.raw, 1.0));
    // No detection: −fn (2 in reward_low_FN_rate).
    QVERIFY(near(scoreFile(oneWindow({}), 0.5, standard()).raw, -1.0));
    QVERIFY(near(scoreFile(oneWindow({}), 0.5, nabProfiles()[2]).raw, -2.0));
  }

  void falsePositives() {
    // Before the window: −fp. After it, 2 rows past the end: fp·σ(2/9) = −0.0555...
    NabFileScore s = scoreFile(oneWindow({{20, 1.0}, {50, 1.0}}), 0.5, standard());
    QVERIFY(near(s.raw, 1.0 - 0.11));
    QCOMPARE(s.falsePositives, 1);
    s = scoreFile(oneWindow({{50, 1.0}, {61, 1.0}}), 0.5, standard());
    QVERIFY(near(s.raw, 1.0 - 0.055513963749404246));
    // Far after the window (more than 3 widths): −fp; with the low-FP profile −0.22.
    s = scoreFile(oneWindow({{50, 1.0}, {99, 1.0}}), 0.5, nabProfiles()[1]);
    QVERIFY(near(s.raw, 1.0 - 0.22));
    // Probation rows are never scored.
    s = scoreFile(oneWindow({{10, 1.0}, {50, 1.0}}), 0.5, standard());
    QVERIFY(near(s.raw, 1.0));
    QCOMPARE(s.falsePositives, 0);
  }

  void corpusThresholdSweep() {
    // File A: 0.9 at row 52 (in the window), 0.5 at row 30 (before it), 0.3 on the whole window.
    NabFile a = oneWindow({{30, 0.5}});
    for (std::size_t i = 50; i <= 59; ++i) a.scores[i] = 0.3;
    a.scores[52] = 0.9;
    // File B: no window, 0.7 at row 40.
    NabFile b;
    b.name = "b.csv";
    b.scores.assign(100, 0.0);
    b.scores[40] = 0.7;
    const std::vector<NabFile> files = {a, b};
    // θ = 0.9 → σ(−0.8)/σ(−1) = 0.97711; θ = 0.7 → −0.11 more; θ = 0.5 → −0.22 more;
    // θ = 0.3 → the window's best becomes 1, total 0.78; θ = 0 → every row fires. Best: θ = 0.9.
    const NabResult r = scoreCorpus(files, standard());
    QCOMPARE(r.threshold, 0.9);
    QVERIFY(near(r.raw, 0.9771068409226045));
    QCOMPARE(r.windows, 1);
    QVERIFY(near(r.null, -1.0));
    QVERIFY(near(r.perfect, 1.0));
    QVERIFY(near(r.normalized, 100.0 * (0.9771068409226045 + 1.0) / 2.0));
    QCOMPARE(r.truePositives, 1);
    QCOMPARE(r.falsePositives, 0);
    const NabResult fn = scoreCorpus(files, nabProfiles()[2]);
    QVERIFY(near(fn.normalized, 100.0 * (0.9771068409226045 + 2.0) / 3.0));
    // The sweep agrees with scoring each file at the chosen threshold.
    QVERIFY(near(scoreFile(a, r.threshold, standard()).raw + scoreFile(b, r.threshold, standard()).raw, r.raw));
  }

  void nullAndPerfectDetectors() {
    NabFile silent = oneWindow({});
    NabResult r = scoreCorpus(std::vector<NabFile>{silent}, standard());
    QCOMPARE(r.normalized, 0.0);
    QVERIFY(std::isinf(r.threshold));
    NabFile perfect = oneWindow({{50, 1.0}});
    r = scoreCorpus(std::vector<NabFile>{perfect}, standard());
    QVERIFY(near(r.normalized, 100.0));
  }

  void windowsFromTimestamps() {
    std::vector<EpochSeconds> t;
    for (int i = 0; i < 20; ++i) t.push_back(1000 + 300 * i);
    const std::vector<std::pair<EpochSeconds, EpochSeconds>> w = {
        {1000 + 300 * 3, 1000 + 300 * 5 + 10}, {1000 + 300 * 10 - 5, 1000 + 300 * 12}, {50000, 60000}};
    const auto rows = windowsToRows(t, w);
    QCOMPARE(rows.size(), std::size_t{2});  // the third matches no row
    QCOMPARE(rows[0].begin, std::size_t{3});
    QCOMPARE(rows[0].end, std::size_t{5});
    QCOMPARE(rows[1].begin, std::size_t{10});
    QCOMPARE(rows[1].end, std::size_t{12});
  }

  void invalidWindowsRejected() {
    NabFile f = oneWindow({});
    f.windows = {{50, 120}};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, scoreFile(f, 0.5, standard()));
    f.windows = {{50, 60}, {55, 70}};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, scoreCorpus(std::vector<NabFile>{f}, standard()));
  }
};

QTEST_GUILESS_MAIN(TestNabScorer)
#include "test_nab_scorer.moc"
