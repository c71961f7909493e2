// CapacityPlanner: the linear trend against R's lm, damped-trend smoothing against R forecast
// 8.20's ets(model = "AAN", damped = TRUE), and the plan on series with a known exhaustion time.
// Fixture: tests/data/forecast/generate_capacity.R.
#include <QtTest>
#include <cmath>
#include <random>

#include "forecast_fixtures.h"
#include "stacklens/core/forecast/capacity_planner.h"

using namespace stacklens::core::forecast;
using forecast_fixtures::readReference;
using forecast_fixtures::readSeries;

namespace {

// A deterministic, noisy, growing usage series: level + slope t + a daily wave + Gaussian noise
// (sd 1.5, mt19937 with a fixed seed and Box-Muller, so the series is the same everywhere).
std::vector<double> growingUsage(int n, double level, double slope) {
  std::mt19937 generator(42);
  auto uniform = [&] { return (generator() + 0.5) / 4294967296.0; };
  std::vector<double> y(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    const double noise = std::sqrt(-2.0 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
    y[std::size_t(t)] = level + slope * t + 2.0 * std::sin(2 * M_PI * t / 24.0) + 1.5 * noise;
  }
  return y;
}

}  // namespace

class TestCapacityPlanner : public QObject {
  Q_OBJECT
 private slots:
  void linearTrendMatchesLm() {
    const auto ref = readReference("capacity_r.txt").at("lm");
    const LinearTrend fit = fitLinearTrend(readSeries("nab_speed_6005.csv"));
    COMPARE_REL(fit.intercept, ref[0], 1e-10);
    COMPARE_REL(fit.slope, ref[1], 1e-9);
    COMPARE_REL(fit.slopeStdError, ref[2], 1e-9);
    COMPARE_REL(fit.residualSigma, ref[3], 1e-10);
    COMPARE_REL(fit.rSquared, ref[4], 1e-8);
  }

  void dampedTrendMatchesEtsAtItsParameters() {
    const auto ref = readReference("capacity_r.txt");
    const auto& p = ref.at("ets_par");
    const DampedTrendModel m = evaluateDampedTrend(readSeries("nab_speed_6005.csv"), p[0], p[1], p[2], p[3], p[4]);
    COMPARE_REL(m.logLikelihood, ref.at("ets_loglik")[0], 1e-10);
    COMPARE_REL(m.sigma2, ref.at("ets_sigma2")[0], 1e-10);
    const ForecastPath path = forecastDampedTrend(m, 24, 90);
    for (std::size_t h = 0; h < 24; ++h) {
      COMPARE_REL(path.mean[h], ref.at("mean")[h], 1e-10);
      COMPARE_REL(path.lower[h], ref.at("lower")[h], 1e-9);
      COMPARE_REL(path.upper[h], ref.at("upper")[h], 1e-9);
    }
  }

  void dampedTrendFitIsAtLeastAsGoodAsEts() {
    const auto ref = readReference("capacity_r.txt");
    const DampedTrendModel m = fitDampedTrend(readSeries("nab_speed_6005.csv"));
    QVERIFY2(m.logLikelihood >= ref.at("ets_loglik")[0] - 1e-6 * std::abs(ref.at("ets_loglik")[0]),
             qPrintable(QString::number(m.logLikelihood, 'g', 12)));
    QVERIFY(m.alpha > 0 && m.alpha < 1 && m.beta > 0 && m.beta < m.alpha && m.phi >= 0.8 && m.phi <= 0.98);
    const ForecastPath path = forecastDampedTrend(m, 24, 90);
    for (std::size_t h = 0; h < 24; ++h) COMPARE_REL(path.mean[h], ref.at("mean")[h], 1e-2);
  }

  void findsTheExhaustionTimeOfSteadyGrowth() {
    // 30 days of hourly usage growing 0.05 units per hour from 40: the trend reaches 100 480 hours
    // after the end (t = 1200); the daily peak (+2) gets there about 40 hours earlier.
    const std::vector<double> usage = growingUsage(720, 40.0, 0.05);
    CapacityOptions options;
    options.capacity = 100;
    options.horizon = 24 * 60;
    options.period = 24;
    const CapacityPlan plan = planCapacity(usage, options);
    QVERIFY(plan.linearExhaustion.expected.has_value());
    QVERIFY2(*plan.linearExhaustion.expected >= 420 && *plan.linearExhaustion.expected <= 481,
             qPrintable(QString::number(*plan.linearExhaustion.expected)));
    QVERIFY(*plan.linearExhaustion.earliest <= *plan.linearExhaustion.expected);
    QVERIFY(*plan.linearExhaustion.latest >= *plan.linearExhaustion.expected);
    COMPARE_REL(plan.growthPerStep, 0.05, 0.02);
    QCOMPARE(toString(plan.status), toString(CapacityStatus::kWatch));
    QVERIFY2(plan.recommendations.front().find("run out in about") != std::string::npos,
             plan.recommendations.front().c_str());
  }

  void statusFollowsUrgency() {
    CapacityOptions options;
    options.capacity = 100;
    options.period = 24;
    // Flat usage well below capacity.
    const CapacityPlan flat = planCapacity(growingUsage(400, 30.0, 0.0), options);
    QCOMPARE(toString(flat.status), toString(CapacityStatus::kOk));
    QVERIFY(flat.recommendations.front().find("No exhaustion") != std::string::npos);
    // Growing fast and close to the limit: out within a day.
    const CapacityPlan urgent = planCapacity(growingUsage(400, 40.0, 0.14), options);
    QCOMPARE(toString(urgent.status), toString(CapacityStatus::kCritical));
    // Over the limit already.
    options.capacity = 20;
    QCOMPARE(toString(planCapacity(growingUsage(100, 30.0, 0.0), options).status), toString(CapacityStatus::kExhausted));
  }

  // Without the seasonal adjustment the daily wave inflates the smoothing parameters and the
  // damped trend's intervals; with it, flat usage is recognised as flat.
  void seasonalAdjustmentMatters() {
    const std::vector<double> usage = growingUsage(400, 30.0, 0.0);
    CapacityOptions options;
    options.capacity = 100;
    const CapacityPlan raw = planCapacity(usage, options);
    options.period = 24;
    const CapacityPlan adjusted = planCapacity(usage, options);
    QCOMPARE(int(adjusted.seasonalCycle.size()), 24);
    QVERIFY(adjusted.damped.sigma2 < 0.5 * raw.damped.sigma2);
  }

  void rejectsBadInput() {
    CapacityOptions options;
    options.capacity = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, planCapacity(growingUsage(50, 1, 1), options));
    options.capacity = 10;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, planCapacity(std::vector<double>{1, NAN, 2}, options));
  }
};

QTEST_GUILESS_MAIN(TestCapacityPlanner)
#include "test_capacity_planner.moc"
