// ARIMA/SARIMA fitting and forecasting against R forecast 8.20 and statsmodels 0.13.5.
// Fixtures: tests/data/forecast/generate_reference.py (series cut from NAB and M4 hourly).
#include <QtTest>
#include <cmath>
#include <numbers>

#include "forecast/arima_kalman.h"
#include "forecast_fixtures.h"
#include "forecast/arima_polynomials.h"
#include "stacklens/core/forecast/arima.h"

using namespace stacklens::core::forecast;

using forecast_fixtures::readReference;
using forecast_fixtures::readSeries;
using forecast_fixtures::Reference;

namespace {

struct Case {
  const char* name;
  const char* series;
  ArimaOrder order;
  bool constant;
};

const Case kCases[] = {
    {"arima111", "nab_speed_6005.csv", {1, 1, 1, 0, 0, 0, 1}, false},
    {"arima212_drift", "nab_ec2_cpu_5f5533.csv", {2, 1, 2, 0, 0, 0, 1}, true},
    {"sarima101_111_24", "m4_H10.csv", {1, 0, 1, 1, 1, 1, 24}, false},
    {"sarima200_210_24", "m4_H170.csv", {2, 0, 0, 2, 1, 0, 24}, false},
    {"arma11_mean", "nab_speed_6005.csv", {1, 0, 1, 0, 0, 0, 1}, true},
};

const std::vector<long> kMissing = {50, 51, 200, 333};

ArimaModel fitCase(const Case& c) {
  ArimaSpec spec;
  spec.order = c.order;
  spec.includeConstant = c.constant;
  return fitArima(readSeries(c.series), spec);
}

}  // namespace

class TestTimeSeriesForecast : public QObject {
  Q_OBJECT
 private slots:
  void matchesReference_data() {
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("tool");
    for (int i = 0; i < int(std::size(kCases)); ++i)
      for (const char* tool : {"r", "statsmodels"})
        QTest::newRow(qPrintable(QStringLiteral("%1/%2").arg(kCases[i].name, tool))) << i << QString(tool);
  }

  // Log-likelihood within 1e-4 and coefficients, sigma^2 and point forecasts within 1e-3 (relative)
  // of each reference; intervals too, each with its own sigma^2 convention.
  void matchesReference() {
    QFETCH(int, index);
    QFETCH(QString, tool);
    const Case& c = kCases[index];
    const Reference ref = readReference(QStringLiteral("%1_%2.txt").arg(c.name, tool));
    const ArimaModel model = fitCase(c);
    QVERIFY(model.converged);
    COMPARE_REL(model.logLikelihood, ref.at("loglik")[0], 1e-4);
    // Where our optimum is clearly higher than the reference's, the reference's optimiser stopped
    // short (R on sarima200_210_24: 654.0600 against our and statsmodels' 654.0657). The parameters
    // then agree only as far as the flat likelihood lets them.
    const bool referenceStoppedShort = model.logLikelihood > ref.at("loglik")[0] + 1e-3;
    const double tolerance = referenceStoppedShort ? 1e-2 : 1e-3;

    const std::vector<double> coef = model.coefficients();
    const std::vector<double>& expected = ref.at("coef");
    QCOMPARE(coef.size(), expected.size());
    for (std::size_t i = 0; i < coef.size(); ++i) {
      if (referenceStoppedShort)
        QVERIFY2(std::abs(coef[i] - expected[i]) < 5e-3, qPrintable(QString::number(coef[i] - expected[i])));
      else
        COMPARE_REL(coef[i], expected[i], tolerance);
    }

    const bool isR = tool == "r";
    // R: forecast::Arima's sigma2 (divides by n - d - sD - coefficients); statsmodels: ML sigma2.
    COMPARE_REL(isR ? model.sigma2 : model.sigma2Mle, ref.at("sigma2")[0], tolerance);
    if (isR) {
      COMPARE_REL(model.aicc, ref.at("aicc")[0], 1e-4);
    }

    const ForecastPath path = forecastArima(model, 24, 90);
    const double scale = isR ? 1.0 : std::sqrt(model.sigma2Mle / model.sigma2);
    for (int h = 0; h < 24; ++h) {
      COMPARE_REL(path.mean[h], ref.at("mean")[h], tolerance);
      const double halfWidth = (path.upper[h] - path.mean[h]) * scale;
      const double refHalfWidth = ref.at("upper")[h] - ref.at("mean")[h];
      COMPARE_REL(halfWidth, refHalfWidth, tolerance);
      COMPARE_REL(path.mean[h] - halfWidth, ref.at("lower")[h], tolerance);
    }
  }

  void likelihoodAtReferenceCoefficients_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < int(std::size(kCases)); ++i) QTest::newRow(kCases[i].name) << i;
  }

  // The filter alone, at statsmodels' estimates and sigma^2, against statsmodels' exact diffuse
  // filter (which adds -log(2 pi)/2 for each diffuse observation); with and without missing values.
  void likelihoodAtReferenceCoefficients() {
    QFETCH(int, index);
    const Case& c = kCases[index];
    const Reference ref = readReference(QStringLiteral("%1_statsmodels.txt").arg(c.name));
    std::vector<double> y = readSeries(c.series);
    const ArimaConstant constant = !c.constant                  ? ArimaConstant::kNone
                                   : c.order.d + c.order.D == 0 ? ArimaConstant::kMean
                                                                : ArimaConstant::kDrift;
    const double perDiffuse = 0.5 * std::log(2.0 * std::numbers::pi);
    const int diffuse = c.order.differencingLength();
    const double sigma2 = ref.at("sigma2")[0];
    const LikelihoodAt full = arimaLikelihood(y, c.order, constant, ref.at("coef"), sigma2);
    COMPARE_REL(full.logLikelihood - diffuse * perDiffuse, ref.at("loglik_exact_diffuse")[0], 1e-9);

    for (long i : kMissing) y[std::size_t(i)] = std::nan("");
    const LikelihoodAt missing = arimaLikelihood(y, c.order, constant, ref.at("coef"), sigma2);
    QCOMPARE(missing.observations, full.observations - int(kMissing.size()));
    COMPARE_REL(missing.logLikelihood - diffuse * perDiffuse, ref.at("loglik_missing_exact_diffuse")[0], 1e-9);
  }

  // The speed shortcuts (start after the diffuse phase, ARMA-only block, Chandrasekhar recursions)
  // give the numbers of the plain full-state exact diffuse filter.
  void shortcutsEqualFullStateFilter() {
    using namespace stacklens::core::forecast::detail;
    std::vector<double> y = readSeries("m4_H10.csv");
    const ArimaSystem system =
        makeSystem(expandAr(std::vector{0.9}, std::vector{0.2}, 24), expandMa(std::vector{-0.4}, std::vector{-0.8}, 24),
                   differencingPolynomial(1, 1, 24));
    for (bool withMissing : {false, true}) {
      if (withMissing)
        for (long i : {3L, 40L, 41L, 300L, 479L}) y[std::size_t(i)] = std::nan("");
      Eigen::MatrixXd data(long(y.size()), 1);
      for (std::size_t t = 0; t < y.size(); ++t) data(long(t), 0) = y[t];
      for (bool keepState : {false, true}) {
        FilterOptions fast;
        fast.keepFinalState = keepState;
        FilterOptions slow = fast;
        slow.forceFullState = true;
        const FilterResult a = runFilter(system, data, fast);
        const FilterResult b = runFilter(system, data, slow);
        QCOMPARE(a.used, b.used);
        QCOMPARE(a.diffuse, b.diffuse);
        COMPARE_REL(a.crossProducts(0, 0), b.crossProducts(0, 0), 1e-9);
        COMPARE_REL(a.sumLogF, b.sumLogF, 1e-9);
        if (keepState) {
          QVERIFY((a.finalMean - b.finalMean).cwiseAbs().maxCoeff() < 1e-7 * (1 + b.finalMean.cwiseAbs().maxCoeff()));
          QVERIFY((a.finalCov - b.finalCov).cwiseAbs().maxCoeff() < 1e-7 * (1 + b.finalCov.cwiseAbs().maxCoeff()));
        }
      }
    }
  }

  void fitsWithMissingValues_data() { likelihoodAtReferenceCoefficients_data(); }

  // ML fit with missing values against statsmodels' exact diffuse fit of the same series.
  void fitsWithMissingValues() {
    QFETCH(int, index);
    const Case& c = kCases[index];
    const Reference ref = readReference(QStringLiteral("%1_statsmodels.txt").arg(c.name));
    std::vector<double> y = readSeries(c.series);
    for (long i : kMissing) y[std::size_t(i)] = std::nan("");
    ArimaSpec spec;
    spec.order = c.order;
    spec.includeConstant = c.constant;
    const ArimaModel model = fitArima(y, spec);
    QVERIFY(model.converged);
    QCOMPARE(model.observations, int(y.size()) - c.order.differencingLength() - int(kMissing.size()));
    const double perDiffuse = 0.5 * std::log(2.0 * std::numbers::pi);
    COMPARE_REL(model.logLikelihood - c.order.differencingLength() * perDiffuse, ref.at("loglik_missing_fit")[0], 1e-4);
    const std::vector<double> coef = model.coefficients();
    for (std::size_t i = 0; i < coef.size(); ++i) COMPARE_REL(coef[i], ref.at("coef_missing_fit")[i], 1e-3);
  }

  void forecastsAfterMissingLastValue() {
    std::vector<double> y = readSeries("m4_H10.csv");
    y[478] = y[479] = std::nan("");
    ArimaSpec spec;
    spec.order = {1, 0, 1, 0, 1, 1, 24};
    const ArimaModel model = fitArima(y, spec);
    const ForecastPath withGap = forecastArima(model, 48, 95);
    // The same model on the series cut before the gap, forecast two steps further.
    const ArimaModel cut = fitArima(std::span(y).first(478), spec);
    for (std::size_t i = 0; i < cut.coefficients().size(); ++i)
      COMPARE_REL(model.coefficients()[i], cut.coefficients()[i], 1e-5);
    COMPARE_REL(model.sigma2, cut.sigma2, 1e-5);
    const ForecastPath longer = forecastArima(cut, 50, 95);
    for (int h = 0; h < 48; ++h) {
      COMPARE_REL(withGap.mean[std::size_t(h)], longer.mean[std::size_t(h + 2)], 1e-5);
      COMPARE_REL(withGap.standardError[std::size_t(h)], longer.standardError[std::size_t(h + 2)], 1e-5);
    }
  }

  // refilterArima: the fitted coefficients on a moved window (what the predictive alerter and the
  // workbench's rolling forecasts do between refits). Checked against closed forms that hold for
  // any coefficients and any mean or drift.
  void refilterContinuesFromTheNewWindow() {
    const std::vector<double> y = readSeries("nab_speed_6005.csv");
    // The same series: the fit's own state and forecasts.
    for (const Case& c : kCases) {
      const std::vector<double> series = readSeries(c.series);
      const ArimaModel model = fitCase(c);
      const ForecastPath fitted = forecastArima(model, 24), refreshed = forecastArima(refilterArima(model, series), 24);
      for (int h = 0; h < 24; ++h) {
        COMPARE_REL(refreshed.mean[std::size_t(h)], fitted.mean[std::size_t(h)], 1e-9);
        COMPARE_REL(refreshed.standardError[std::size_t(h)], fitted.standardError[std::size_t(h)], 1e-9);
      }
    }
    // AR(1) with mean, fitted on y[0, 300), moved to y[50, 400): mean + phi^h (y_399 - mean), the
    // mean re-estimated on the new window.
    ArimaSpec spec;
    spec.order = {1, 0, 0, 0, 0, 0, 1};
    const ArimaModel ar1 = fitArima(std::span(y).first(300), spec);
    const ArimaModel moved = refilterArima(ar1, std::span(y).subspan(50, 350));
    QCOMPARE(moved.seriesLength, 350);
    QCOMPARE(moved.ar, ar1.ar);
    const ForecastPath p = forecastArima(moved, 3);
    for (int h = 1; h <= 3; ++h)
      COMPARE_REL(p.mean[std::size_t(h - 1)],
                  moved.constantValue + std::pow(ar1.ar[0], h) * (y[399] - moved.constantValue), 1e-9);
    // Random walk with drift: y_last + h drift, whatever the window's start.
    spec.order = {0, 1, 0, 0, 0, 0, 1};
    const ArimaModel walk = fitArima(std::span(y).first(300), spec);
    QVERIFY(walk.constant == ArimaConstant::kDrift);
    const ArimaModel walked = refilterArima(walk, std::span(y).subspan(120, 280));
    const ForecastPath q = forecastArima(walked, 2);
    COMPARE_REL(q.mean[0], y[399] + walked.constantValue, 1e-9);
    COMPARE_REL(q.mean[1], y[399] + 2 * walked.constantValue, 1e-9);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, refilterArima(walk, std::span(y).first(1)));
  }

  void intervalsAtAnyLevel() {
    const ArimaModel model = fitCase(kCases[2]);
    const ForecastPath p50 = forecastArima(model, 30, 50);
    const ForecastPath p95 = forecastArima(model, 30, 95);
    const ForecastPath p99 = forecastArima(model, 30, 99.5);
    for (int h = 0; h < 30; ++h) {
      QCOMPARE(p50.mean[h], p95.mean[h]);
      COMPARE_REL((p95.upper[h] - p95.mean[h]) / p95.standardError[h], 1.959963984540054, 1e-12);
      COMPARE_REL((p50.upper[h] - p50.mean[h]) / p50.standardError[h], 0.6744897501960817, 1e-12);
      COMPARE_REL((p99.mean[h] - p99.lower[h]) / p99.standardError[h], 2.807033768343811, 1e-12);
      if (h > 0) QVERIFY(p95.standardError[h] >= p95.standardError[h - 1]);
    }
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, forecastArima(model, 5, 100));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, forecastArima(model, 5, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, forecastArima(model, -1, 90));
  }

  void estimatesAreStationaryAndInvertible() {
    using stacklens::core::forecast::detail::minRootModulus;
    for (const Case& c : kCases) {
      const ArimaModel m = fitCase(c);
      auto negated = [](std::vector<double> v) {
        for (double& x : v) x = -x;
        return v;
      };
      QVERIFY(minRootModulus(m.ar) > 1.0);
      QVERIFY(minRootModulus(m.seasonalAr) > 1.0);
      QVERIFY(minRootModulus(negated(m.ma)) > 1.0);
      QVERIFY(minRootModulus(negated(m.seasonalMa)) > 1.0);
    }
  }

  void serializationRoundTrips() {
    const ArimaModel model = fitCase(kCases[1]);
    const std::string text = serializeArimaModel(model);
    QVERIFY(text.rfind("stacklens-arima 1\n", 0) == 0);
    const ArimaModel back = deserializeArimaModel(text);
    QCOMPARE(back.describe(), model.describe());
    QCOMPARE(back.coefficients(), model.coefficients());
    QCOMPARE(back.logLikelihood, model.logLikelihood);
    const ForecastPath a = forecastArima(model, 24, 90);
    const ForecastPath b = forecastArima(back, 24, 90);
    QCOMPARE(a.mean, b.mean);
    QCOMPARE(a.upper, b.upper);
    QCOMPARE(serializeArimaModel(back), text);
  }

  void rejectsBadModelText_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    const QString good = QString::fromStdString(serializeArimaModel(fitCase(kCases[0])));
    QTest::newRow("not-a-model") << "hello\n" << "not a StackLens ARIMA model";
    QTest::newRow("future-version") << QString(good).replace("stacklens-arima 1", "stacklens-arima 7")
                                    << "unsupported version '7'";
    QTest::newRow("truncated") << good.left(good.indexOf("\nfit ")) << "line 7: missing 'fit'";
    QTest::newRow("bad-number") << QString(good).replace("\nar ", "\nar x") << "line 4: bad number";
    QTest::newRow("wrong-count") << QString(good).replace("order 1 1 1", "order 2 1 1")
                                 << "coefficient counts do not match";
  }
  void rejectsBadModelText() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    try {
      deserializeArimaModel(text.toStdString());
      QFAIL("no exception");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains(message), e.what());
    }
  }

  void rejectsBadSpecifications() {
    const std::vector<double> y = readSeries("nab_speed_6005.csv");
    ArimaSpec spec;
    spec.order = {-1, 0, 0, 0, 0, 0, 1};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitArima(y, spec));
    spec.order = {1, 0, 0, 1, 0, 0, 1};  // seasonal part without a period
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitArima(y, spec));
    spec.order = {1, 1, 1, 0, 1, 1, 24};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitArima(std::span(y).first(20), spec));
    std::vector<double> withInf = y;
    withInf[10] = INFINITY;
    spec.order = {1, 1, 1, 0, 0, 0, 1};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitArima(withInf, spec));
  }

  void describesModels() {
    QCOMPARE(fitCase(kCases[1]).describe(), std::string("ARIMA(2,1,2) with drift"));
    QCOMPARE(fitCase(kCases[4]).describe(), std::string("ARIMA(1,0,1) with non-zero mean"));
    QCOMPARE((ArimaOrder{2, 0, 0, 2, 1, 0, 24}.toString()), std::string("ARIMA(2,0,0)(2,1,0)[24]"));
    QCOMPARE(fitCase(kCases[1]).coefficientNames(), (std::vector<std::string>{"ar1", "ar2", "ma1", "ma2", "drift"}));
  }
};

QTEST_GUILESS_MAIN(TestTimeSeriesForecast)
#include "test_time_series_forecast.moc"
