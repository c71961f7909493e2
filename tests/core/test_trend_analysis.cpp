// The original's TestTrendAnalysis (trend direction and magnitude, seasonality, trend change),
// with numpy.polyfit and statsmodels acf as references (tests/data/detect/generate_reference.py).
#include <cmath>
#include <map>

#include <QtTest>

#include "stacklens/core/detect/trend_analyzer.h"

#include "detect_support.h"

using namespace stacklens::core;
using namespace stacklens::core::detect;
using namespace detect_support;

namespace {

std::map<std::string, std::vector<double>> loadSeries() {
  const auto table = stacklens::connect::readCsvFile(fixture("trend_series.csv"));
  std::map<std::string, std::vector<double>> out;
  for (std::size_t c = 0; c < table.header.size(); ++c)
    for (std::size_t r = 0; r < table.rowCount(); ++r) out[table.header[c]].push_back(table.number(r, c, false));
  return out;
}

// reference[series][kind] = values by index
std::map<std::string, std::map<std::string, std::vector<double>>> loadReference() {
  const auto table = stacklens::connect::readCsvFile(fixture("trend_reference.csv"));
  std::map<std::string, std::map<std::string, std::vector<double>>> out;
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    auto& v = out[table.rows[r][0]][table.rows[r][1]];
    const auto i = static_cast<std::size_t>(table.number(r, 2, false));
    if (v.size() <= i) v.resize(i + 1);
    v[i] = table.number(r, 3, false);
  }
  return out;
}

std::vector<double> noise(std::size_t n, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, sd);
  std::vector<double> y(n);
  for (double& v : y) v = z(rng);
  return y;
}

}  // namespace

class TestTrendAnalysis : public QObject {
  Q_OBJECT
  std::map<std::string, std::vector<double>> series_;
  std::map<std::string, std::map<std::string, std::vector<double>>> reference_;

 private slots:
  void initTestCase() {
    series_ = loadSeries();
    reference_ = loadReference();
    QCOMPARE(series_.size(), std::size_t{6});
  }

  void upwardTrendDetection() {
    const TrendFit fit = fitTrend(series_["up"]);
    QVERIFY(fit.direction == TrendDirection::kUp);
    QVERIFY(fit.magnitude > 0.5 && fit.magnitude <= 1);
    QVERIFY(std::abs(fit.slope - 0.05) < 0.005);
  }

  void downwardTrendDetection() {
    const TrendFit fit = fitTrend(series_["down"]);
    QVERIFY(fit.direction == TrendDirection::kDown);
    QVERIFY(fit.magnitude < -0.5 && fit.magnitude >= -1);
    QVERIFY(std::abs(fit.slope + 0.2) < 0.02);
  }

  void stableTrendDetection() {
    const TrendFit fit = fitTrend(series_["flat"]);
    QVERIFY(fit.direction == TrendDirection::kStable);
    QVERIFY(std::abs(fit.magnitude) < 0.2);
    const std::vector<double> constant(50, 7.0);
    const TrendFit c = fitTrend(constant);
    QVERIFY(c.direction == TrendDirection::kStable);
    QCOMPARE(c.magnitude, 0.0);
  }

  void polynomialMatchesNumpy() {
    for (const auto& [name, y] : series_)
      for (int degree : {1, 2}) {
        TrendParams p;
        p.degree = degree;
        const TrendFit fit = fitTrend(y, p);
        const auto& ref = reference_[name]["poly" + std::to_string(degree)];
        QCOMPARE(fit.coefficients.size(), ref.size());
        for (std::size_t k = 0; k < ref.size(); ++k) {
          // Relative to the coefficient's contribution over the range t ∈ [0, 239].
          const double scale = std::max(1e-6, std::abs(ref[k]) * std::pow(239.0, static_cast<double>(k)));
          QVERIFY2(
              std::abs(fit.coefficients[k] - ref[k]) * std::pow(239.0, static_cast<double>(k)) < 1e-9 * scale + 1e-9,
              qPrintable(QString("%1 degree %2 c%3: %4 vs %5")
                             .arg(QString::fromStdString(name))
                             .arg(degree)
                             .arg(k)
                             .arg(fit.coefficients[k], 0, 'g', 17)
                             .arg(ref[k], 0, 'g', 17)));
        }
      }
    TrendParams quadratic;
    quadratic.degree = 2;
    const TrendFit q = fitTrend(series_["quadratic"], quadratic);
    QVERIFY(q.rSquared > 0.95);
    QVERIFY(q.endSlope > 0.3);                        // 2·0.002·119 at the right end
    QVERIFY(q.direction == TrendDirection::kStable);  // U-shaped: no net movement
  }

  void seasonalityDetection() {
    for (const auto& [name, y] : series_) {
      const auto& ref = reference_[name]["acf"];
      for (int lag = 0; lag <= 48; ++lag)
        QVERIFY(std::abs(autocorrelation(y, lag) - ref[static_cast<std::size_t>(lag)]) < 1e-12);
    }
    // The FFT path (more than 64 lags) agrees with the direct sums.
    const auto fast = autocorrelations(series_["seasonal24"], 150);
    QCOMPARE(fast.size(), std::size_t{151});
    for (int lag = 0; lag <= 150; ++lag)
      QVERIFY(std::abs(fast[static_cast<std::size_t>(lag)] - autocorrelation(series_["seasonal24"], lag)) < 1e-10);
    const Seasonality s12 = seasonalityAt(series_["seasonal12"], 12);
    QVERIFY(s12.seasonal);
    QVERIFY(s12.score > 0.7);
    QVERIFY(!seasonalityAt(series_["flat"], 12).seasonal);
    QCOMPARE(dominantPeriod(series_["seasonal12"]).period, 12);
    QCOMPARE(dominantPeriod(series_["seasonal24"]).period, 24);  // despite its trend and lag-48 peak
    QCOMPARE(dominantPeriod(series_["flat"]).period, 0);
    // The analyser with lag ≤ 0 finds the period itself.
    TrendAnalyzerConfig config;
    config.seasonalLag = 0;
    QCOMPARE(TrendAnalyzer(config).analyze(series_["seasonal24"]).seasonality.period, 24);
    QCOMPARE(TrendAnalyzer().analyze(series_["seasonal24"]).seasonality.period, 12);  // the original's fixed lag
  }

  void trendChangeDetection() {
    // A level step of 3 σ at index 150.
    std::vector<double> y = noise(300, 1.0, 17);
    for (std::size_t i = 150; i < y.size(); ++i) y[i] += 3.0;
    for (auto method : {ChangePointMethod::kTwoWindow, ChangePointMethod::kCusum, ChangePointMethod::kBayesianOnline}) {
      ChangePointParams p;
      p.method = method;
      const auto cps = detectChangePoints(y, p);
      QVERIFY2(cps.size() == 1,
               qPrintable(QString("%1: %2 change points").arg(toString(method).data()).arg(cps.size())));
      QVERIFY2(std::abs(static_cast<long>(cps[0].index) - 150) <= 3,
               qPrintable(QString("%1 at %2").arg(toString(method).data()).arg(cps[0].index)));
      QVERIFY(cps[0].detectedAt >= cps[0].index && cps[0].detectedAt <= 165);
      QVERIFY(std::abs(cps[0].shift - 3.0) < 1.0);
    }
    QCOMPARE(changePointMethodFromString("bocpd"), std::optional(ChangePointMethod::kBayesianOnline));
    QVERIFY(!changePointMethodFromString("pelt").has_value());
  }

  void fewFalseChangePointsOnNoise() {
    // In-control noise: a two-sided CUSUM with k = 0.5, h = 5 has an average run length of about
    // 465 samples (930 per side), so about 4 alarms in 2000; the other two methods raise fewer.
    const std::vector<double> y = noise(2000, 2.0, 23);
    for (auto method : {ChangePointMethod::kTwoWindow, ChangePointMethod::kCusum, ChangePointMethod::kBayesianOnline}) {
      ChangePointParams p;
      p.method = method;
      const auto cps = detectChangePoints(y, p);
      QVERIFY2(cps.size() <= 8, qPrintable(QString("%1: %2").arg(toString(method).data()).arg(cps.size())));
    }
  }

  void onlineDetectorIsCausal() {
    std::vector<double> y = noise(200, 1.0, 5);
    for (std::size_t i = 120; i < y.size(); ++i) y[i] -= 4.0;
    ChangePointParams p;
    OnlineChangeDetector a(p), b(p);
    for (std::size_t i = 0; i < 130; ++i) {
      const auto ua = a.update(y[i]);
      QVERIFY(ua.score >= 0 && ua.score <= 1);
    }
    // Scores up to t do not depend on what follows t.
    std::vector<double> other = y;
    for (std::size_t i = 130; i < other.size(); ++i) other[i] = 100;
    for (std::size_t i = 0; i < 130; ++i) b.update(other[i]);
    QCOMPARE(a.samples(), b.samples());
    QCOMPARE(a.update(5.0).statistic, b.update(5.0).statistic);
    QVERIFY(!OnlineChangeDetector(p).update(std::nan("")).changePoint);
  }

  void trendMagnitudeRange() {
    for (const auto& [name, y] : series_) {
      for (int degree = 0; degree <= 3; ++degree) {
        TrendParams p;
        p.degree = degree;
        const TrendFit fit = fitTrend(y, p);
        QVERIFY(fit.magnitude >= -1 && fit.magnitude <= 1);
      }
    }
    std::vector<double> ramp(100);
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = 1e6 * static_cast<double>(i);
    QVERIFY(fitTrend(ramp).magnitude > 0.99);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitTrend(std::vector<double>{1.0}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitTrend(std::vector<double>{1.0, std::nan(""), 2.0}));
  }
};

QTEST_GUILESS_MAIN(TestTrendAnalysis)
#include "test_trend_analysis.moc"
