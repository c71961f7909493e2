// Classical and STL decomposition, seasonal strength and the unit-root decisions against R 4.2
// (decompose, stl), urca, forecast 8.20 and (robust STL) statsmodels 0.13.5. Fixtures:
// tests/data/forecast/generate_decomposition.R and generate_decomposition.py.
#include <QtTest>
#include <cmath>

#include "forecast_fixtures.h"
#include "stacklens/core/forecast/decomposition.h"
#include "stacklens/core/forecast/unit_root.h"

using namespace stacklens::core::forecast;
using forecast_fixtures::maxRelativeError;
using forecast_fixtures::readReference;
using forecast_fixtures::readSeries;

namespace {

struct UnitRootRow {
  std::string series;
  int period = 1;
  double kpss = 0, kpssDiff = 0, strength = 0;
  int lags = 0, nsdiffs = 0, ndiffs = 0;
};

std::vector<UnitRootRow> readUnitRoots() {
  QFile file(forecast_fixtures::path("unit_root_r.txt"));
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot open unit_root_r.txt");
  std::vector<UnitRootRow> rows;
  while (!file.atEnd()) {
    const QByteArray line = file.readLine().trimmed();
    if (line.isEmpty() || line.startsWith('#')) continue;
    const QList<QByteArray> f = line.split(' ');
    UnitRootRow row;
    row.series = f[0].toStdString();
    for (qsizetype i = 1; i + 1 < f.size(); i += 2) {
      const QByteArray& key = f[i];
      const double value = f[i + 1].toDouble();
      if (key == "period") row.period = int(value);
      if (key == "kpss") row.kpss = value;
      if (key == "kpss_diff") row.kpssDiff = value;
      if (key == "lags") row.lags = int(value);
      if (key == "strength") row.strength = value;
      if (key == "nsdiffs") row.nsdiffs = int(value);
      if (key == "ndiffs") row.ndiffs = int(value);
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

class TestDecomposition : public QObject {
  Q_OBJECT
 private slots:
  void classicalMatchesRDecompose_data() {
    QTest::addColumn<int>("type");
    QTest::newRow("additive") << int(DecompositionType::kAdditive);
    QTest::newRow("multiplicative") << int(DecompositionType::kMultiplicative);
  }
  void classicalMatchesRDecompose() {
    QFETCH(int, type);
    const auto kind = DecompositionType(type);
    const auto ref = readReference(kind == DecompositionType::kAdditive ? "decomposition_H10_additive_r.txt"
                                                                        : "decomposition_H10_multiplicative_r.txt");
    const Decomposition d = classicalDecomposition(readSeries("m4_H10.csv"), 24, kind);
    QVERIFY(maxRelativeError(d.trend, ref.at("trend"), 1.0) < 1e-12);
    QVERIFY(maxRelativeError(d.seasonal, ref.at("seasonal"), 1.0) < 1e-10);
    QVERIFY(maxRelativeError(d.remainder, ref.at("remainder"), 1.0) < 1e-9);
    QVERIFY(maxRelativeError(d.figure, ref.at("figure"), 1.0) < 1e-10);
    QVERIFY(std::isnan(d.trend[11]) && !std::isnan(d.trend[12]) && std::isnan(d.trend[480 - 12]));
  }

  void stlMatchesReference_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("window");
    QTest::addColumn<bool>("robust");
    QTest::newRow("r-periodic") << "decomposition_H10_stl_periodic_r.txt" << 0 << false;
    QTest::newRow("r-s11") << "decomposition_H10_stl_s11_r.txt" << 11 << false;
    QTest::newRow("statsmodels-s7-robust") << "decomposition_H10_stl_s7_robust_statsmodels.txt" << 7 << true;
  }
  void stlMatchesReference() {
    QFETCH(QString, file);
    QFETCH(int, window);
    QFETCH(bool, robust);
    const auto ref = readReference(file);
    StlOptions options;
    options.seasonalWindow = window;
    options.robust = robust;
    if (file.contains("statsmodels")) {
      // statsmodels' defaults differ from R's: local-linear seasonal fits, no jumps, 2 inner loops.
      options.seasonalDegree = 1;
      options.seasonalJump = options.trendJump = options.lowPassJump = 1;
      options.innerIterations = 2;
    }
    const Decomposition d = stlDecomposition(readSeries("m4_H10.csv"), 24, options);
    // Values are ~500 with seasonal swings of ~100: compare relative to the series scale.
    QVERIFY2(maxRelativeError(d.trend, ref.at("trend"), 1.0) < 1e-9, qPrintable(file));
    QVERIFY2(maxRelativeError(d.seasonal, ref.at("seasonal"), 100.0) < 1e-9, qPrintable(file));
    QVERIFY2(maxRelativeError(d.remainder, ref.at("remainder"), 100.0) < 1e-9, qPrintable(file));
    QVERIFY2(maxRelativeError(d.robustnessWeights, ref.at("weights"), 1.0) < 1e-9, qPrintable(file));
  }

  void stlIsRobustToOutliers() {
    std::vector<double> y = readSeries("m4_H10.csv");
    const Decomposition clean = stlDecomposition(y, 24, {.seasonalWindow = 7, .robust = true});
    for (std::size_t i : {100u, 101u, 250u}) y[i] += 2000.0;
    const Decomposition robust = stlDecomposition(y, 24, {.seasonalWindow = 7, .robust = true});
    const Decomposition plain = stlDecomposition(y, 24, {.seasonalWindow = 7, .robust = false});
    double robustShift = 0, plainShift = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      robustShift = std::max(robustShift, std::abs(robust.trend[i] - clean.trend[i]));
      plainShift = std::max(plainShift, std::abs(plain.trend[i] - clean.trend[i]));
    }
    QVERIFY2(robustShift < 0.1 * plainShift, qPrintable(QString("%1 vs %2").arg(robustShift).arg(plainShift)));
    QCOMPARE(robust.robustnessWeights[100], 0.0);
  }

  void rejectsBadInput() {
    const std::vector<double> y = readSeries("m4_H10.csv");
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, classicalDecomposition(std::span(y).first(40), 24));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, classicalDecomposition(y, 1));
    std::vector<double> withZero = y;
    withZero[3] = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             classicalDecomposition(withZero, 24, DecompositionType::kMultiplicative));
    std::vector<double> withNan = y;
    withNan[3] = std::nan("");
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, stlDecomposition(withNan, 24));
  }

  void unitRootDecisionsMatchR() {
    for (const UnitRootRow& row : readUnitRoots()) {
      const std::vector<double> x = readSeries(QString::fromStdString(row.series));
      COMPARE_REL(kpssStatistic(x, row.lags), row.kpss, 1e-10);
      std::vector<double> dx(x.size() - 1);
      for (std::size_t i = 1; i < x.size(); ++i) dx[i - 1] = x[i] - x[i - 1];
      COMPARE_REL(kpssStatistic(dx, int(3 * std::sqrt(double(dx.size())) / 13)), row.kpssDiff, 1e-10);
      QCOMPARE(seasonalDifferences(x, row.period), row.nsdiffs);
      std::vector<double> xs = x;
      if (row.nsdiffs > 0) {
        xs.clear();
        for (std::size_t i = std::size_t(row.period); i < x.size(); ++i) xs.push_back(x[i] - x[i - std::size_t(row.period)]);
      }
      QCOMPARE(regularDifferences(xs), row.ndiffs);
      if (row.period > 1) COMPARE_REL(seasonalStrength(x, row.period), row.strength, 1e-6);
    }
  }

  void kpssPValueInterpolatesTable() {
    QCOMPARE(kpssPValue(0.1), 0.10);
    QCOMPARE(kpssPValue(0.463), 0.05);
    COMPARE_REL(kpssPValue(0.5185), 0.0375, 1e-12);
    QCOMPARE(kpssPValue(5.0), 0.01);
    // A random walk needs one difference, its increments none; a constant needs none.
    std::vector<double> walk(300), constant(300, 4.0);
    double level = 0;
    for (std::size_t i = 0; i < walk.size(); ++i) walk[i] = level += std::sin(double(i * i % 17)) + 0.3;
    QCOMPARE(regularDifferences(walk), 1);
    QCOMPARE(regularDifferences(constant), 0);
  }
};

QTEST_GUILESS_MAIN(TestDecomposition)
#include "test_decomposition.moc"
