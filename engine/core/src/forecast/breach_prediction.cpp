#include "stacklens/core/forecast/breach_prediction.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>

#include "forecast/arima_kalman.h"
#include "forecast/arima_polynomials.h"
#include "forecast/normal.h"

namespace stacklens::core::forecast {

namespace {

// Standard normal draws from mt19937_64 by Box-Muller: the same numbers on every platform (the
// standard library's distributions are implementation-defined).
class NormalSource {
 public:
  explicit NormalSource(std::uint64_t seed) : generator_(seed) {}
  double next() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(generator_() >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (static_cast<double>(generator_() >> 11) + 0.5) / 9007199254740992.0;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(2.0 * std::numbers::pi * u2);
    hasSpare_ = true;
    return radius * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 generator_;
  double spare_ = 0;
  bool hasSpare_ = false;
};

bool breached(double value, const BreachOptions& o) {
  return o.direction == BreachDirection::kAbove ? value > o.threshold : value < o.threshold;
}

void finish(BreachPrediction& p) { p.confidence = std::max(p.probability, 1.0 - p.probability); }

}  // namespace

BreachPrediction predictBreach(const ArimaModel& model, int horizon, const BreachOptions& options) {
  if (horizon < 1) throw std::invalid_argument("breach horizon must be at least one step");
  if (options.simulations < 1) throw std::invalid_argument("breach prediction needs at least one simulation");
  if (model.finalState.size() == 0) throw std::invalid_argument("the ARIMA model has no fitted state");
  const int period = std::max(model.order.period, 1);
  const detail::ArimaSystem system =
      detail::makeSystem(detail::expandAr(model.ar, model.seasonalAr, period),
                         detail::expandMa(model.ma, model.seasonalMa, period),
                         detail::differencingPolynomial(model.order.d, model.order.period >= 2 ? model.order.D : 0, period));
  const Eigen::Index m = system.stateSize();
  if (model.finalState.size() != m) throw std::invalid_argument("the ARIMA model's state does not match its orders");
  // P may be singular (the lag block of observed values): a square root by eigen-decomposition.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(model.finalCovariance * model.sigma2);
  const Eigen::MatrixXd root =
      eigen.eigenvectors() * eigen.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  const double sigma = std::sqrt(model.sigma2);
  std::vector<double> regression(static_cast<std::size_t>(horizon), 0.0);
  for (int h = 1; h <= horizon; ++h) {
    if (model.constant == ArimaConstant::kMean) regression[static_cast<std::size_t>(h - 1)] = model.constantValue;
    if (model.constant == ArimaConstant::kDrift)
      regression[static_cast<std::size_t>(h - 1)] = model.constantValue * (model.seriesLength + h);
  }
  std::vector<double> r(static_cast<std::size_t>(system.r), 0.0);
  r[0] = 1.0;
  for (int i = 1; i < system.r; ++i)
    r[static_cast<std::size_t>(i)] = i - 1 < static_cast<int>(system.ma.size()) ? system.ma[static_cast<std::size_t>(i - 1)] : 0.0;

  NormalSource normal(options.seed);
  BreachPrediction out;
  std::vector<int> stepCounts(static_cast<std::size_t>(horizon), 0), firstCrossings;
  Eigen::VectorXd z(m), state(m), next(m);
  for (int s = 0; s < options.simulations; ++s) {
    for (Eigen::Index i = 0; i < m; ++i) z[i] = normal.next();
    state = model.finalState + root * z;
    int first = 0;
    for (int h = 1; h <= horizon; ++h) {
      const double value = detail::observe(system, state.data()) + regression[static_cast<std::size_t>(h - 1)];
      if (breached(value, options)) {
        ++stepCounts[static_cast<std::size_t>(h - 1)];
        if (first == 0) first = h;
      }
      detail::applyTransition(system, state.data(), next.data());
      const double shock = sigma * normal.next();
      for (int i = 0; i < system.r; ++i) next[i] += r[static_cast<std::size_t>(i)] * shock;
      state.swap(next);
    }
    if (first > 0) firstCrossings.push_back(first);
  }
  const double n = options.simulations;
  for (int count : stepCounts) out.stepProbability.push_back(count / n);
  out.probability = static_cast<double>(firstCrossings.size()) / n;
  if (!firstCrossings.empty()) {
    std::sort(firstCrossings.begin(), firstCrossings.end());
    auto quantile = [&](double q) {
      const auto index = static_cast<std::size_t>(std::floor(q * static_cast<double>(firstCrossings.size() - 1)));
      return firstCrossings[index];
    };
    out.expectedStep = quantile(0.5);
    if (out.probability >= 1.0 - options.windowLevel) {
      const double tail = (1.0 - options.windowLevel) / 2.0;
      out.windowStart = quantile(tail);
      out.windowEnd = quantile(1.0 - tail);
    }
  }
  finish(out);
  return out;
}

BreachPrediction predictBreach(const ForecastPath& path, const BreachOptions& options) {
  if (path.mean.size() != path.standardError.size())
    throw std::invalid_argument("the forecast path needs a standard error per step");
  BreachPrediction out;
  for (std::size_t h = 0; h < path.mean.size(); ++h) {
    const double se = path.standardError[h];
    double p;
    if (se > 0) {
      const double z = (options.threshold - path.mean[h]) / se;
      p = options.direction == BreachDirection::kAbove ? 1.0 - detail::normalCdf(z) : detail::normalCdf(z);
    } else {
      p = breached(path.mean[h], options) ? 1.0 : 0.0;
    }
    out.stepProbability.push_back(p);
    out.probability = std::max(out.probability, p);
    const int step = static_cast<int>(h) + 1;
    if (p >= 1.0 - options.windowLevel) {
      if (!out.windowStart) out.windowStart = step;
      out.windowEnd = step;
    }
    if (!out.expectedStep && p >= 0.5) out.expectedStep = step;
  }
  finish(out);
  return out;
}

}  // namespace stacklens::core::forecast
