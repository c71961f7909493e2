// SeasonalForecast: decomposition + ARIMA on the seasonally adjusted series + last seasonal cycle,
// against R forecast 8.20's forecast.stl (fixture: tests/data/forecast/generate_decomposition.R).
#include <QtTest>
#include <cmath>

#include "forecast_fixtures.h"
#include "stacklens/core/eval/forecast_metrics.h"
#include "stacklens/core/forecast/seasonal_forecast.h"

using namespace stacklens::core::forecast;
using forecast_fixtures::readReference;
using forecast_fixtures::readSeries;

class TestSeasonalForecast : public QObject {
  Q_OBJECT
 private slots:
  void matchesRForecastStl() {
    const auto ref = readReference("seasonal_forecast_H10_stl_arima111_r.txt");
    SeasonalForecastOptions options;
    options.period = 24;
    options.stlSeasonalWindow = 11;
    options.adjustedOrder = ArimaOrder{1, 1, 1, 0, 0, 0, 1};
    options.includeConstant = false;
    const SeasonalForecastModel model = fitSeasonalForecast(readSeries("m4_H10.csv"), options);
    const ForecastPath path = forecastSeasonal(model, 48, 90);
    for (std::size_t h = 0; h < 48; ++h) {
      COMPARE_REL(path.mean[h], ref.at("mean")[h], 1e-3);
      COMPARE_REL(path.lower[h], ref.at("lower")[h], 1e-3);
      COMPARE_REL(path.upper[h], ref.at("upper")[h], 1e-3);
    }
  }

  void beatsTheOriginalsNonSeasonalModelOnHoldOut_data() {
    QTest::addColumn<int>("method");
    QTest::newRow("stl") << int(SeasonalMethod::kStl);
    QTest::newRow("classical-additive") << int(SeasonalMethod::kClassicalAdditive);
    QTest::newRow("classical-multiplicative") << int(SeasonalMethod::kClassicalMultiplicative);
  }
  // The original system's ARIMA(1,1,1) ignores the daily cycle; a seasonal forecaster must do far
  // better on the last 48 hours of an M4 hourly series.
  void beatsTheOriginalsNonSeasonalModelOnHoldOut() {
    QFETCH(int, method);
    const std::vector<double> y = readSeries("m4_H10.csv");
    const auto train = std::span(y).first(432);
    const auto test = std::span(y).last(48);
    SeasonalForecastOptions options;
    options.method = SeasonalMethod(method);
    const ForecastPath seasonal = forecastSeasonal(fitSeasonalForecast(train, options), 48, 95);
    ArimaSpec original;
    original.order = {1, 1, 1, 0, 0, 0, 1};
    original.includeConstant = false;
    const ForecastPath plain = forecastArima(fitArima(train, original), 48, 95);
    const double seasonalError = stacklens::core::eval::smape(test, seasonal.mean);
    const double plainError = stacklens::core::eval::smape(test, plain.mean);
    QVERIFY2(seasonalError < 0.5 * plainError, qPrintable(QString("%1 vs %2").arg(seasonalError).arg(plainError)));
    QVERIFY(stacklens::core::eval::intervalCoverage(test, seasonal.lower, seasonal.upper) >= 0.8);
  }

  void handlesMissingValues() {
    std::vector<double> y = readSeries("m4_H10.csv");
    y[100] = y[101] = y[300] = std::nan("");
    const SeasonalForecastModel model = fitSeasonalForecast(y, {});
    QCOMPARE(model.adjusted.observations + 3 + model.adjusted.order.differencingLength(), int(y.size()));
    const ForecastPath path = forecastSeasonal(model, 24, 90);
    for (double v : path.mean) QVERIFY(std::isfinite(v));
  }

  void serializationRoundTrips() {
    const SeasonalForecastModel model = fitSeasonalForecast(readSeries("m4_H170.csv"), {});
    const std::string text = serializeSeasonalForecast(model);
    const SeasonalForecastModel back = deserializeSeasonalForecast(text);
    QCOMPARE(back.lastCycle, model.lastCycle);
    QCOMPARE(forecastSeasonal(back, 30, 80).upper, forecastSeasonal(model, 30, 80).upper);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             deserializeSeasonalForecast("stacklens-seasonal-forecast 2\nperiod 24\n"));
  }

  void rejectsBadOptions() {
    const std::vector<double> y = readSeries("m4_H10.csv");
    SeasonalForecastOptions options;
    options.period = 1;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitSeasonalForecast(y, options));
    options.period = 24;
    options.adjustedOrder = ArimaOrder{0, 1, 1, 0, 1, 1, 24};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fitSeasonalForecast(y, options));
  }
};

QTEST_GUILESS_MAIN(TestSeasonalForecast)
#include "test_seasonal_forecast.moc"
