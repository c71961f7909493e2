// Automatic order selection against R forecast 8.20's auto.arima (exact likelihood), plus the
// search's own guarantees: exhaustive mode, the time bound and the unit-root rejection.
// Fixtures: tests/data/forecast/generate_auto_arima.R.
#include <QtTest>
#include <chrono>
#include <cmath>

#include "forecast/arima_polynomials.h"
#include "forecast_fixtures.h"
#include "stacklens/core/forecast/auto_arima.h"

using namespace stacklens::core::forecast;
using forecast_fixtures::readSeries;

class TestAutoArima : public QObject {
  Q_OBJECT
 private slots:
  void choosesTheOrdersOfR_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("length");
    QTest::addColumn<bool>("stepwise");
    QTest::addColumn<bool>("approximation");  // R's default for long seasonal series: CSS ranking
    QTest::addColumn<QList<int>>("orders");  // p d q P D Q period constant
    QTest::addColumn<double>("aicc");
    QFile fixture(forecast_fixtures::path("auto_arima_r.txt"));
    QVERIFY(fixture.open(QIODevice::ReadOnly));
    while (!fixture.atEnd()) {
      const QByteArray line = fixture.readLine().trimmed();
      if (line.isEmpty() || line.startsWith('#')) continue;
      const QList<QByteArray> f = line.split(' ');
      QList<int> orders;
      for (int i = 3; i <= 10; ++i) orders << f[i].toInt();
      QTest::newRow(f[0].constData()) << QString(f[1]) << f[2].toInt() << !f[0].contains("exhaustive")
                                      << f[0].contains("approx") << orders << f[11].toDouble();
    }
  }
  void choosesTheOrdersOfR() {
    QFETCH(QString, file);
    QFETCH(int, length);
    QFETCH(bool, stepwise);
    QFETCH(bool, approximation);
    QFETCH(QList<int>, orders);
    QFETCH(double, aicc);
    const std::vector<double> all = readSeries(file);
    AutoArimaOptions options;
    options.period = orders[6];
    options.stepwise = stepwise;
    options.approximation = approximation ? 1 : 0;
    const AutoArimaResult result = autoArima(std::span(all).first(std::size_t(length)), options);
    const ArimaModel& m = result.model;
    QCOMPARE(m.order.p, orders[0]);
    QCOMPARE(m.order.d, orders[1]);
    QCOMPARE(m.order.q, orders[2]);
    QCOMPARE(m.order.P, orders[3]);
    QCOMPARE(m.order.D, orders[4]);
    QCOMPARE(m.order.Q, orders[5]);
    QCOMPARE(m.constant != ArimaConstant::kNone, orders[7] == 1);
    COMPARE_REL(m.aicc, aicc, 1e-4);
    QVERIFY(!result.timedOut);
    QVERIFY(result.searched.size() >= 5);
  }

  void exhaustiveSearchTriesEverySmallModel() {
    const std::vector<double> y = readSeries("nab_speed_6005.csv");
    AutoArimaOptions options;
    options.stepwise = false;
    options.maxP = options.maxQ = 2;
    options.maxOrder = 3;
    options.approximation = 0;
    const AutoArimaResult result = autoArima(std::span(y).first(200), options);
    // p,q in 0..2 with p+q <= 3: 8 pairs, each with and without a mean (d = 0 here).
    QCOMPARE(result.model.order.d, 0);
    QCOMPARE(int(result.searched.size()), 16);
    double best = INFINITY;
    for (const ArimaCandidate& c : result.searched) best = std::min(best, c.criterion);
    COMPARE_REL(result.model.aicc, best, 1e-12);
  }

  void approximationRanksThenRefitsExactly() {
    const std::vector<double> y = readSeries("m4_H10.csv");
    AutoArimaOptions options;
    options.period = 24;
    const AutoArimaResult result = autoArima(y, options);  // n = 480 > 150: CSS ranking
    QCOMPARE(result.model.method, FitMethod::kCssMl);
    QCOMPARE(result.model.order.D, 1);
    QVERIFY(result.model.converged);
    QVERIFY(std::isfinite(result.model.aicc));
  }

  void rejectsNearUnitRoots() {
    const std::vector<double> y = readSeries("m4_H10.csv");
    AutoArimaOptions options;
    options.period = 24;
    const AutoArimaResult result = autoArima(y, options);
    using stacklens::core::forecast::detail::minRootModulus;
    auto negate = [](std::vector<double> v) {
      for (double& x : v) x = -x;
      return v;
    };
    const ArimaModel& m = result.model;
    QVERIFY(minRootModulus(detail::expandAr(m.ar, m.seasonalAr, 24)) >= 1.01);
    QVERIFY(minRootModulus(negate(detail::expandMa(m.ma, m.seasonalMa, 24))) >= 1.01);
    // Stricter bounds reject more candidates.
    options.minRootModulus = 1.2;
    const AutoArimaResult strict = autoArima(y, options);
    int rejectedDefault = 0, rejectedStrict = 0;
    for (const auto& c : result.searched) rejectedDefault += !std::isfinite(c.criterion);
    for (const auto& c : strict.searched) rejectedStrict += !std::isfinite(c.criterion);
    QVERIFY(rejectedStrict > rejectedDefault);
  }

  void timeLimitStopsTheSearch() {
    const std::vector<double> y = readSeries("m4_H10.csv");
    AutoArimaOptions options;
    options.period = 24;
    options.timeLimitSeconds = 1e-6;
    const auto start = std::chrono::steady_clock::now();
    const AutoArimaResult result = autoArima(y, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    QVERIFY(result.timedOut);
    QVERIFY(result.searched.size() <= 1);
    QVERIFY(std::isfinite(result.model.logLikelihood));  // still a usable model
    QVERIFY(seconds < 5.0);
  }

  void handlesConstantAndShortSeries() {
    const std::vector<double> constant(60, 3.5);
    const AutoArimaResult flat = autoArima(constant, {});
    QCOMPARE(flat.model.order.p + flat.model.order.q, 0);
    const ForecastPath path = forecastArima(flat.model, 3, 90);
    QCOMPARE(path.mean[2], 3.5);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, autoArima(std::vector<double>{1.0, NAN}, {}));
  }
};

QTEST_GUILESS_MAIN(TestAutoArima)
#include "test_auto_arima.moc"
