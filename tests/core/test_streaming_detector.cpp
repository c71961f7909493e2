// The streaming detector: causal scores in [0,1), scale-free, seasonal, one alarm per event.
#include <cmath>
#include <numbers>
#include <random>

#include <QtTest>

#include "stacklens/core/detect/streaming_detector.h"

using namespace stacklens::core::detect;

namespace {

std::vector<double> noise(std::size_t n, std::uint64_t seed, double mean = 50, double sd = 2) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(mean, sd);
  std::vector<double> y(n);
  for (double& v : y) v = z(rng);
  return y;
}

std::vector<double> run(const std::vector<double>& y, StreamingDetectorConfig config = {}) {
  StreamingDetector d(1, config);
  std::vector<double> s;
  for (double v : y) s.push_back(d.update(v).score);
  return s;
}

std::size_t argmax(const std::vector<double>& s) {
  return static_cast<std::size_t>(std::max_element(s.begin(), s.end()) - s.begin());
}

}  // namespace

class TestStreamingDetector : public QObject {
  Q_OBJECT
 private slots:
  void scoresAreCausalAndInRange() {
    const auto y = noise(1500, 1);
    const auto full = run(y);
    for (double s : full) QVERIFY(s >= 0 && s < 1);
    const auto prefix = run(std::vector<double>(y.begin(), y.begin() + 700));
    for (std::size_t i = 0; i < prefix.size(); ++i) QCOMPARE(prefix[i], full[i]);
    // The warm-up scores 0.
    for (int i = 0; i < StreamingDetectorConfig{}.warmup; ++i) QCOMPARE(full[static_cast<std::size_t>(i)], 0.0);
  }

  void spikeScoresHighest() {
    auto y = noise(1500, 2);
    y[1000] += 30;  // 15 σ
    const auto s = run(y);
    QCOMPARE(argmax(s), std::size_t{1000});
    QVERIFY2(s[1000] > 0.9, qPrintable(QString::number(s[1000])));
  }

  void scaleAndOffsetFree() {
    auto y = noise(1200, 3);
    y[900] -= 15;
    std::vector<double> scaled(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) scaled[i] = 1e6 + 1000 * y[i];
    const auto a = run(y), b = run(scaled);
    for (std::size_t i = 0; i < a.size(); ++i) QVERIFY2(std::abs(a[i] - b[i]) < 1e-6, qPrintable(QString::number(i)));
  }

  void seasonIsLearnedAndItsBreakDetected() {
    // Daily pattern of 24 steps; on one day the pattern stays flat at its mean.
    std::vector<double> y = noise(2400, 4, 0, 0.3);
    for (std::size_t t = 0; t < y.size(); ++t)
      y[t] += 10 * std::sin(2 * std::numbers::pi * static_cast<double>(t) / 24);
    for (std::size_t t = 2000; t < 2024; ++t)
      y[t] = 0.3 * (y[t] - 10 * std::sin(2 * std::numbers::pi * static_cast<double>(t) / 24));
    StreamingDetector d;
    std::vector<double> s;
    for (double v : y) s.push_back(d.update(v).score);
    QCOMPARE(d.period(0), 24);
    const double before = *std::max_element(s.begin() + 1100, s.begin() + 2000);
    const double during = *std::max_element(s.begin() + 2000, s.begin() + 2024);
    QVERIFY2(during > before + 0.2, qPrintable(QString("%1 vs %2").arg(during).arg(before)));
  }

  void sustainedShiftDetected() {
    // A shift of 1.5 σ: no single point is remarkable, the mean of the next 20 is.
    auto y = noise(2000, 5);
    for (std::size_t t = 1500; t < y.size(); ++t) y[t] += 3;
    const auto s = run(y);
    const double before = *std::max_element(s.begin() + 600, s.begin() + 1500);
    const double after = *std::max_element(s.begin() + 1500, s.begin() + 1530);
    QVERIFY2(after > before, qPrintable(QString("%1 vs %2").arg(after).arg(before)));
  }

  void oneAlarmPerEvent() {
    auto y = noise(2000, 6);
    y[1000] += 30;
    y[1050] += 30;  // within the suppression window of the first: no second alarm
    y[1600] += 40;  // long after, and larger: a new alarm
    const auto s = run(y);
    QVERIFY(s[1000] > 0.9);
    QCOMPARE(s[1050], 0.0);
    QVERIFY(s[1600] > 0.9);
    StreamingDetectorConfig noSuppression;
    noSuppression.suppressionWindow = 0;
    QVERIFY(run(y, noSuppression)[1050] > 0.5);
  }

  void vectorInputNamesTheChannel() {
    StreamingDetector d(8);
    std::mt19937_64 rng(7);
    std::normal_distribution<double> z(0, 1);
    StreamingScore last;
    for (int t = 0; t < 800; ++t) {
      std::vector<double> v(8);
      for (std::size_t c = 0; c < 8; ++c) v[c] = 100.0 * static_cast<double>(c + 1) + z(rng);
      if (t == 700) v[3] -= 25;
      if (t == 650) v[5] = std::nan("");  // a missing value skips its channel only
      last = d.update(v);
      if (t == 700) break;
    }
    QCOMPARE(last.channel, 3);
    QVERIFY(last.z < 0);  // below normal
    QVERIFY(last.score > 0.9);
    const std::size_t before = d.samples();
    const std::vector<double> missing(8, std::nan(""));
    QCOMPARE(d.update(missing).score, 0.0);
    QCOMPARE(d.samples(), before);
  }

  void invalidUse() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, StreamingDetector(0));
    StreamingDetectorConfig bad;
    bad.calibrationQuantile = 1.5;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, StreamingDetector(1, bad));
    StreamingDetector d(2);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, d.update(1.0));
  }

  void flatSeriesStaysQuiet() {
    const std::vector<double> flat(3000, 42.0);
    for (double s : run(flat)) QCOMPARE(s, 0.0);
  }
};

QTEST_GUILESS_MAIN(TestStreamingDetector)
#include "test_streaming_detector.moc"
