// Breach prediction: simulated crossing probabilities against the analytic forecast distribution,
// the bounds every crossing probability must respect, windows, direction and determinism.
#include <QtTest>
#include <cmath>

#include "forecast_fixtures.h"
#include "stacklens/core/forecast/breach_prediction.h"

using namespace stacklens::core::forecast;
using forecast_fixtures::readSeries;

namespace {

ArimaModel seasonalModel() {
  ArimaSpec spec;
  spec.order = {1, 0, 1, 0, 1, 1, 24};
  return fitArima(readSeries("m4_H10.csv"), spec);
}

double normalUpperTail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

class TestBreachPrediction : public QObject {
  Q_OBJECT
 private slots:
  // The simulated per-step probabilities are those of the Kalman forecast distribution, within
  // Monte Carlo error (4 standard errors).
  void simulationMatchesForecastDistribution() {
    const ArimaModel model = seasonalModel();
    const ForecastPath path = forecastArima(model, 48, 90);
    BreachOptions options;
    options.threshold = 480;
    options.simulations = 4000;
    const BreachPrediction p = predictBreach(model, 48, options);
    for (std::size_t h = 0; h < 48; ++h) {
      const double expected = normalUpperTail((options.threshold - path.mean[h]) / path.standardError[h]);
      const double tolerance = 4.0 * std::sqrt(expected * (1 - expected) / options.simulations) + 1e-3;
      QVERIFY2(std::abs(p.stepProbability[h] - expected) <= tolerance,
               qPrintable(QString("step %1: %2 vs %3").arg(h + 1).arg(p.stepProbability[h]).arg(expected)));
    }
    // Crossing at least once is at least as likely as at any single step, and no more likely than
    // under independent steps.
    double maxStep = 0, noneIndependent = 1;
    for (double q : p.stepProbability) maxStep = std::max(maxStep, q), noneIndependent *= 1 - q;
    QVERIFY(p.probability >= maxStep);
    QVERIFY(p.probability <= 1 - noneIndependent + 1e-12);
    QVERIFY(p.windowStart && p.windowEnd && *p.windowStart <= *p.expectedStep && *p.expectedStep <= *p.windowEnd);
    COMPARE_REL(p.confidence, std::max(p.probability, 1 - p.probability), 1e-15);
  }

  void deterministicForASeed() {
    const ArimaModel model = seasonalModel();
    BreachOptions options;
    options.threshold = 500;
    const BreachPrediction a = predictBreach(model, 24, options);
    const BreachPrediction b = predictBreach(model, 24, options);
    QCOMPARE(a.stepProbability, b.stepProbability);
    QCOMPARE(a.probability, b.probability);
    options.seed = 7;
    const BreachPrediction c = predictBreach(model, 24, options);
    QVERIFY(c.stepProbability != a.stepProbability);
    QVERIFY(std::abs(c.probability - a.probability) < 0.05);
  }

  void extremesAndDirection() {
    const ArimaModel model = seasonalModel();
    BreachOptions options;
    options.threshold = 5000;  // far above anything the series does
    const BreachPrediction never = predictBreach(model, 24, options);
    QCOMPARE(never.probability, 0.0);
    QVERIFY(!never.windowStart && !never.expectedStep);
    QCOMPARE(never.confidence, 1.0);
    options.threshold = 100;  // far below: certain breach from the first step when looking down
    options.direction = BreachDirection::kBelow;
    QCOMPARE(predictBreach(model, 24, options).probability, 0.0);
    options.direction = BreachDirection::kAbove;
    const BreachPrediction always = predictBreach(model, 24, options);
    QCOMPARE(always.probability, 1.0);
    QCOMPARE(*always.windowStart, 1);
    QCOMPARE(*always.expectedStep, 1);
  }

  void fromMarginalForecasts() {
    ForecastPath path;
    path.mean = {10, 12, 14, 16, 18, 20};
    path.standardError = {1, 1, 1, 1, 1, 1};
    BreachOptions options;
    options.threshold = 15;
    const BreachPrediction p = predictBreach(path, options);
    COMPARE_REL(p.stepProbability[2], normalUpperTail(1.0), 1e-12);
    COMPARE_REL(p.stepProbability[3], normalUpperTail(-1.0), 1e-12);
    COMPARE_REL(p.probability, normalUpperTail(-5.0), 1e-12);
    QCOMPARE(*p.expectedStep, 4);
    QCOMPARE(*p.windowStart, 4);  // first step with p >= 0.2
    QCOMPARE(*p.windowEnd, 6);
    options.direction = BreachDirection::kBelow;
    const BreachPrediction below = predictBreach(path, options);
    COMPARE_REL(below.stepProbability[0], 1 - normalUpperTail(5.0), 1e-12);
  }

  void rejectsBadInput() {
    const ArimaModel model = seasonalModel();
    BreachOptions options;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, predictBreach(model, 0, options));
    options.simulations = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, predictBreach(model, 5, options));
    ForecastPath broken;
    broken.mean = {1, 2};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, predictBreach(broken, BreachOptions{}));
  }
};

QTEST_GUILESS_MAIN(TestBreachPrediction)
#include "test_breach_prediction.moc"
