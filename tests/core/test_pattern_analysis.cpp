// The original's TestPatternAnalysis (DBSCAN behaviour patterns on 8-D service vectors), plus
// DBSCAN against scikit-learn 1.2.1 and the KD-tree against brute force.
#include <cmath>
#include <set>

#include <QtTest>

#include "stacklens/core/detect/anomaly_detector.h"
#include "stacklens/core/detect/dbscan.h"
#include "stacklens/core/detect/kd_tree.h"
#include "stacklens/core/detect/pattern_analyzer.h"

#include "detect_support.h"

using namespace stacklens::core;
using namespace stacklens::core::detect;
using namespace detect_support;

namespace {

// A service with a busy daytime regime and a quiet night regime.
Matrix twoRegimes(std::size_t perRegime, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<FeatureVector> samples;
  for (std::size_t i = 0; i < perRegime; ++i) {
    samples.push_back(normalMetrics(rng).features());
    auto night = normalMetrics(rng);
    night.totalRequests = 2000 + 200 * (std::normal_distribution<double>(0, 1)(rng));
    night.uniqueUsers = 200 + 20 * (std::normal_distribution<double>(0, 1)(rng));
    night.uniqueIps = 100 + 10 * (std::normal_distribution<double>(0, 1)(rng));
    samples.push_back(night.features());
  }
  return toMatrix(samples);
}

double bruteDistance(const Matrix& x, Eigen::Index a, Eigen::Index b) {
  return (x.row(a) - x.row(b)).norm();
}

// The benchmark's 10,000 × 8 data (tests/bench/compare_detect.py's recipe, other generator):
// six Gaussian regimes of different spread plus 2 % uniform noise, or one standard Gaussian
// blob plus 1 % uniform outliers.
Matrix benchmarkData(bool regimes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(-6, 6);
  Matrix x(10000, 8);
  const Eigen::Index clean = regimes ? 9800 : 9900;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const auto regime = static_cast<double>(r % 6);
    for (Eigen::Index c = 0; c < 8; ++c) {
      if (r >= clean)
        x(r, c) = u(rng);
      else
        x(r, c) =
            regimes ? 3.0 * std::sin(regime * 1.7 + static_cast<double>(c)) + (0.3 + 0.1 * regime) * z(rng) : z(rng);
    }
  }
  return x;
}

}  // namespace

class TestPatternAnalysis : public QObject {
  Q_OBJECT
 private slots:
  void analyzerInitialization() {
    const PatternParams p;
    QCOMPARE(p.minSamples, 3);    // as the original
    QVERIFY(!p.eps.has_value());  // automatic eps
    const PatternModel untrained;
    QVERIFY(untrained.signatures().empty());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, untrained.match(std::vector<double>(8, 0.0)));
  }

  void featureExtraction8D() {
    const auto history = normalHistory(120, 3);
    const Matrix x = toMatrix(features(history));
    QCOMPARE(x.cols(), Eigen::Index(8));
    QCOMPARE(x(5, 0), history[5].errorRate);
    QCOMPARE(x(5, 7), history[5].totalRequests);
    const PatternModel m = PatternModel::fit(x);
    QCOMPARE(m.scaler().features(), std::size_t{8});
  }

  void patternAnalysisOnHistory() {
    const PatternModel m = PatternModel::fit(twoRegimes(150, 1));
    QCOMPARE(m.signatures().size(), std::size_t{2});
    double shares = m.noiseShare();
    for (const auto& s : m.signatures()) shares += s.share;
    QVERIFY(std::abs(shares - 1.0) < 1e-12);
    QVERIFY(m.noiseShare() < 0.1);
    QVERIFY(m.eps() > 0);
  }

  void patternSignatureStructure() {
    const PatternModel m = PatternModel::fit(twoRegimes(150, 2));
    QCOMPARE(m.signatures().size(), std::size_t{2});
    int total = 0;
    for (const auto& s : m.signatures()) {
      QCOMPARE(s.centroid.size(), std::size_t{8});
      QCOMPARE(s.spread.size(), std::size_t{8});
      QVERIFY(s.size > 100);
      QVERIFY(std::abs(s.share - s.size / 300.0) < 1e-12);
      total += s.size;
      // Centroids in original units: requests near 10000 (day) or 2000 (night).
      QVERIFY(std::abs(s.centroid[7] - 10000) < 300 || std::abs(s.centroid[7] - 2000) < 100);
      QVERIFY(std::abs(s.centroid[0] - 0.5) < 0.05);
      QVERIFY(s.spread[7] > 0);
    }
    QVERIFY(total <= 300);
  }

  void patternShiftDetection() {
    const PatternModel m = PatternModel::fit(twoRegimes(150, 3));
    std::mt19937_64 rng(10);
    const auto normal = normalMetrics(rng).features();
    const PatternMatch ok = m.match(normal);
    QVERIFY(!ok.isShift);
    QVERIFY(ok.pattern >= 0);
    QVERIFY(ok.score <= 0.5);
    const auto bad = anomalousMetrics(rng).features();
    const PatternMatch shift = m.match(bad);
    QVERIFY(shift.isShift);
    QVERIFY(shift.ratio > 1);
    QVERIFY(shift.score > 0.5 && shift.score <= 1);

    std::vector<FeatureVector> window;
    for (int i = 0; i < 12; ++i) window.push_back(anomalousMetrics(rng).features());
    const WindowShift ws = m.windowShift(toMatrix(window));
    QVERIFY(ws.isShift);
    QVERIFY(ws.outsideShare > 0.9);
    const WindowShift calm = m.windowShift(twoRegimes(6, 33));
    QVERIFY2(!calm.isShift, qPrintable(QString::number(calm.divergence)));
  }

  void similarityMetrics() {
    const PatternModel a = PatternModel::fit(twoRegimes(150, 4));
    const PatternModel b = PatternModel::fit(twoRegimes(150, 5));
    const auto& sa = a.signatures();
    const auto& sb = b.signatures();
    QCOMPARE(PatternModel::similarity(sa[0], sa[0]), 1.0);
    QVERIFY(PatternModel::similarity(sa[0], sa[1]) < 0.01);  // day vs night
    QCOMPARE(PatternModel::similarity(sa[0], sa[1]), PatternModel::similarity(sa[1], sa[0]));
    // The same regime learned from another sample is very similar.
    const double same = std::max(PatternModel::similarity(sa[0], sb[0]), PatternModel::similarity(sa[0], sb[1]));
    QVERIFY2(same > 0.8, qPrintable(QString::number(same)));
    PatternSignature wide = sa[0];
    PatternSignature narrow = sa[0];
    for (double& s : narrow.spread) s *= 0.1;
    QVERIFY(PatternModel::similarity(wide, narrow) < 0.9);  // same centre, different spread
  }

  void dbscanClustering() {
    const auto cases = stacklens::connect::readCsvFile(fixture("dbscan_cases.csv"));
    QVERIFY(cases.rowCount() >= 7);
    for (std::size_t c = 0; c < cases.rowCount(); ++c) {
      const std::string name = cases.rows[c][0];
      const double eps = cases.number(c, 1, false);
      const int minSamples = static_cast<int>(cases.number(c, 2, false));
      const bool automatic = cases.number(c, 3, false) > 0;
      const Matrix data = readMatrix(fixture("dbscan_" + name + ".csv"));
      const Matrix x = data.leftCols(data.cols() - 2);
      DbscanParams p;
      p.minSamples = minSamples;
      if (!automatic) p.eps = eps;
      const DbscanResult r = dbscan(x, p);
      QVERIFY2(std::abs(r.eps - eps) <= 1e-12 * eps, qPrintable(QString::fromStdString(name)));
      QCOMPARE(r.clusters, static_cast<int>(cases.number(c, 4, false)));
      int border = 0;
      for (Eigen::Index i = 0; i < x.rows(); ++i) {
        const int refLabel = static_cast<int>(data(i, data.cols() - 2));
        const bool refCore = data(i, data.cols() - 1) > 0;
        const auto ii = static_cast<std::size_t>(i);
        QCOMPARE(bool(r.core[ii]), refCore);
        if (refCore || refLabel == -1) {
          QCOMPARE(r.labels[ii], refLabel);  // same numbering, not only the same partition
          continue;
        }
        // A border point: ours must also join a cluster of a core point within eps.
        ++border;
        bool reachable = false;
        for (Eigen::Index j = 0; j < x.rows() && !reachable; ++j)
          reachable = r.core[static_cast<std::size_t>(j)] && r.labels[static_cast<std::size_t>(j)] == r.labels[ii] &&
                      bruteDistance(x, i, j) <= r.eps;
        QVERIFY2(reachable, qPrintable(QString("%1 row %2").arg(QString::fromStdString(name)).arg(i)));
      }
      qInfo("%-12s eps %.4f  clusters %d  noise %zu  border %d", name.c_str(), r.eps, r.clusters, r.noiseCount(),
            border);
    }
  }

  void dbscanEdgeCases() {
    Matrix single(1, 2);
    single << 1, 2;
    DbscanResult r = dbscan(single, {1.0, 1, 1});
    QCOMPARE(r.labels[0], 0);  // min_samples 1: every point is core
    r = dbscan(single, {1.0, 2, 1});
    QCOMPARE(r.labels[0], -1);
    const DbscanResult empty = dbscan(Matrix(0, 3), {0.5, 3, 1});
    QVERIFY(empty.labels.empty());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, dbscan(single, {-1.0, 3, 1}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, dbscan(single, {1.0, 0, 1}));
    Matrix nan = Matrix::Zero(4, 2);
    nan(2, 1) = std::nan("");
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, dbscan(nan, {1.0, 2, 1}));
    // Knee of a hand-made curve: scaled, x − y is 7/9 at index 7 and 8/9 − 0.5/9 at index 8.
    const std::vector<double> curve = {1, 1, 1, 1, 1, 1, 1, 1, 1.5, 10};
    QCOMPARE(kneeValue(curve), 1.5);
    const std::vector<double> curve2 = {0, 0.1, 0.2, 0.3, 5, 6};
    QCOMPARE(kneeValue(curve2), 0.3);
    QCOMPARE(kneeValue(std::vector<double>{2, 2, 2}), 2.0);
  }

  void dbscanSampledEps() {
    // Automatic eps from a sample of 2,048 rows (plus the exact largest k-distance) against the
    // knee of the full k-distance curve, on the benchmark's data: within the documented 8 %.
    for (const bool regimes : {true, false}) {
      for (const std::uint64_t seed : {7u, 8u}) {
        const Matrix x = benchmarkData(regimes, seed);
        const double full = autoEps(x, 5, 1, 0);
        const double sampled = autoEps(x, 5);
        QVERIFY2(std::abs(sampled / full - 1) <= 0.08,
                 qPrintable(QString("regimes %1 seed %2: %3 vs %4").arg(regimes).arg(seed).arg(sampled).arg(full)));
        // The sampled curve ends at the full curve's maximum.
        const std::vector<double> all = kDistanceCurve(x, 5, 1);
        const std::vector<double> sample = kDistanceCurve(x, 5, 1, 2048);
        QCOMPARE(sample.back(), all.back());
        QVERIFY(sample.size() == 2048 || sample.size() == 2049);
        if (regimes && seed == 7) {
          // dbscan() uses that eps, and its core points are those of the full semantics.
          const DbscanResult r = dbscan(x, {std::nullopt, 5, 1});
          QCOMPARE(r.eps, sampled);
          const DbscanResult fixed = dbscan(x, {sampled, 5, 1});
          QCOMPARE(r.labels, fixed.labels);
          const KdTree tree(x);
          for (Eigen::Index i = 0; i < x.rows(); i += 37)
            QCOMPARE(bool(r.core[static_cast<std::size_t>(i)]),
                     tree.kthDistance(std::span<const double>(x.row(i).data(), 8), 5) <= r.eps);
          qInfo("regimes: eps %.4f (full curve %.4f), clusters %d, noise %zu", r.eps, full, r.clusters, r.noiseCount());
        }
      }
    }
    // Below the sample size the curve is the full one (the reference fixture's eps is exact:
    // dbscanClustering), and the sample size is honoured above it.
    const Matrix small = benchmarkData(true, 9).topRows(1500);
    QCOMPARE(autoEps(small, 5), autoEps(small, 5, 1, 0));
    QVERIFY(kDistanceCurve(small, 5, 1, 100).size() <= 101);
  }

  void kdTreeMatchesBruteForce() {
    std::mt19937_64 rng(21);
    std::normal_distribution<double> z(0, 1);
    Matrix x(700, 5);
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (Eigen::Index c = 0; c < x.cols(); ++c) x(i, c) = std::round(z(rng) * 4) / 4;  // many ties
    const KdTree tree(x, 8);
    std::vector<std::int32_t> found;
    std::vector<std::uint8_t> subset(static_cast<std::size_t>(x.rows()));
    for (std::size_t i = 0; i < subset.size(); i += 3) subset[i] = 1;
    const KdTree::ActiveSet thirds(tree, subset);
    // k-th distances of every row, of a sample of rows, and the largest, against brute force.
    for (int k : {1, 4, 9}) {
      std::vector<double> kth2(static_cast<std::size_t>(x.rows()));
      for (Eigen::Index i = 0; i < x.rows(); ++i) {
        std::vector<double> d2;
        for (Eigen::Index j = 0; j < x.rows(); ++j) d2.push_back((x.row(i) - x.row(j)).squaredNorm());
        std::nth_element(d2.begin(), d2.begin() + (k - 1), d2.end());
        kth2[static_cast<std::size_t>(i)] = d2[static_cast<std::size_t>(k - 1)];
      }
      QCOMPARE(tree.allKthDistances2(k), kth2);
      QCOMPARE(tree.sampleKthDistances2(0, k), kth2);
      const double largest = *std::max_element(kth2.begin(), kth2.end());
      QCOMPARE(tree.maxKthDistance2(k), largest);
      QCOMPARE(tree.maxKthDistance2(k, kth2[0]), largest);
      std::vector<double> sample = tree.sampleKthDistances2(50, k);
      QCOMPARE(sample.size(), std::size_t{50});
      // Each sampled value is the k-th distance of a different row.
      std::multiset<double> pool(kth2.begin(), kth2.end());
      for (double v : sample) {
        const auto at = pool.find(v);
        QVERIFY(at != pool.end());
        pool.erase(at);
      }
    }
    for (double radius : {0.5, 1.0}) {
      const std::vector<std::uint8_t> dense = tree.denseRows(radius, 6);
      for (Eigen::Index i = 0; i < x.rows(); ++i) {
        int within = 0;
        for (Eigen::Index j = 0; j < x.rows(); ++j) within += bruteDistance(x, i, j) <= radius;
        QCOMPARE(bool(dense[static_cast<std::size_t>(i)]), within >= 6);
      }
    }
    for (Eigen::Index q = 0; q < 60; ++q) {
      const std::span<const double> query(x.row(q).data(), 5);
      std::vector<double> d(static_cast<std::size_t>(x.rows()));
      for (Eigen::Index j = 0; j < x.rows(); ++j) d[static_cast<std::size_t>(j)] = bruteDistance(x, q, j);
      for (double radius : {0.25, 0.5, 1.0, 2.5}) {
        std::size_t expected = 0;
        for (double v : d) expected += v <= radius;
        QCOMPARE(tree.radiusCount(query, radius), expected);
        tree.radiusNeighbors(query, radius, found);
        QCOMPARE(found.size(), expected);
        for (std::int32_t j : found) QVERIFY(d[static_cast<std::size_t>(j)] <= radius);
      }
      std::vector<double> sorted = d;
      std::sort(sorted.begin(), sorted.end());
      for (int k : {1, 2, 5, 17}) QCOMPARE(tree.kthDistance(query, k), sorted[static_cast<std::size_t>(k - 1)]);
      // Searches restricted to a subset (every third row), and counts that stop early.
      for (double radius : {0.25, 1.0, 2.5}) {
        std::size_t expected = 0, inSubset = 0;
        for (std::size_t j = 0; j < d.size(); ++j) {
          expected += d[j] <= radius;
          inSubset += d[j] <= radius && subset[j];
        }
        const std::size_t atLeast3 = tree.radiusCount(query, radius, 3);
        if (expected < 3)
          QCOMPARE(atLeast3, expected);
        else
          QVERIFY(atLeast3 >= 3 && atLeast3 <= expected);
        tree.radiusNeighbors(query, radius, thirds, found);
        QCOMPARE(found.size(), inSubset);
        for (std::int32_t j : found)
          QVERIFY(subset[static_cast<std::size_t>(j)] && d[static_cast<std::size_t>(j)] <= radius);
        const std::int32_t first = tree.firstWithin(query, radius, thirds);
        QCOMPARE(first >= 0, inSubset > 0);
        if (first >= 0)
          QVERIFY(subset[static_cast<std::size_t>(first)] && d[static_cast<std::size_t>(first)] <= radius);
      }
      std::vector<double> probe(5);
      for (double& v : probe) v = z(rng) * 3;
      double best = 1e300;
      for (Eigen::Index j = 0; j < x.rows(); ++j)
        best = std::min(best, (x.row(j) - Eigen::Map<const Eigen::RowVectorXd>(probe.data(), 5)).norm());
      QVERIFY(std::abs(tree.nearest(probe).second - best) < 1e-12);
    }
  }

  void featureNormalization() {
    // Patterns do not depend on units: milliseconds or seconds give the same clusters.
    const Matrix ms = twoRegimes(100, 7);
    Matrix seconds = ms;
    seconds.col(1) /= 1000.0;
    seconds.col(2) /= 1000.0;
    seconds.col(3) /= 1000.0;
    const PatternModel a = PatternModel::fit(ms);
    const PatternModel b = PatternModel::fit(seconds);
    QCOMPARE(a.trainingLabels(), b.trainingLabels());
    QVERIFY(std::abs(a.eps() - b.eps()) < 1e-9);
    QVERIFY(std::abs(b.signatures()[0].centroid[1] * 1000 - a.signatures()[0].centroid[1]) < 1e-6);
  }

  void serializationRoundTrip() {
    const PatternModel m = PatternModel::fit(twoRegimes(80, 8));
    const PatternModel back = PatternModel::deserialize(m.serialize());
    QCOMPARE(back.serialize(), m.serialize());
    std::mt19937_64 rng(4);
    for (int i = 0; i < 20; ++i) {
      const auto f = (i % 2 ? anomalousMetrics(rng) : normalMetrics(rng)).features();
      QCOMPARE(back.match(f).distance, m.match(f).distance);
      QCOMPARE(back.match(f).pattern, m.match(f).pattern);
    }
    std::string blob = m.serialize();
    QVERIFY_THROWS_EXCEPTION(ModelFormatError, PatternModel::deserialize(blob.substr(0, blob.size() - 3)));
  }
};

QTEST_GUILESS_MAIN(TestPatternAnalysis)
#include "test_pattern_analysis.moc"
