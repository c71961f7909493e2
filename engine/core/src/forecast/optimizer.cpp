#include "forecast/optimizer.h"

#include <LBFGSB.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace stacklens::core::forecast::detail {

namespace {

constexpr double kInfeasible = 1e100;

class NumericObjective {
 public:
  NumericObjective(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& lower,
                   const Eigen::VectorXd& upper, double step, bool central)
      : f_(f), lower_(lower), upper_(upper), step_(step), central_(central) {}

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& gradient) {
    const double value = evaluate(x);
    Eigen::VectorXd probe = x;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      // Central differences, one-sided at a bound.
      const double h = step_ * std::max(1.0, std::abs(x[i]));
      const double up = std::min(x[i] + h, upper_[i]);
      const double down = central_ || up <= x[i] ? std::max(x[i] - h, lower_[i]) : x[i];
      probe[i] = up;
      const double fUp = up > x[i] ? evaluate(probe) : value;
      probe[i] = down;
      const double fDown = down < x[i] ? evaluate(probe) : value;
      probe[i] = x[i];
      const double width = up - down;
      gradient[i] = width > 0.0 ? (fUp - fDown) / width : 0.0;
      if (!std::isfinite(gradient[i])) gradient[i] = 0.0;
    }
    return value;
  }

  double evaluate(const Eigen::VectorXd& x) {
    double value = f_(x);
    if (!std::isfinite(value)) value = kInfeasible;
    if (value < bestValue_) {
      bestValue_ = value;
      best_ = x;
    }
    return value;
  }

  const Eigen::VectorXd& best() const { return best_; }
  double bestValue() const { return bestValue_; }

 private:
  const std::function<double(const Eigen::VectorXd&)>& f_;
  const Eigen::VectorXd& lower_;
  const Eigen::VectorXd& upper_;
  double step_;
  bool central_;
  Eigen::VectorXd best_;
  double bestValue_ = std::numeric_limits<double>::infinity();
};

}  // namespace

MinimizeResult minimizeBox(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x0,
                           const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                           const MinimizeOptions& options) {
  MinimizeResult result;
  if (x0.size() == 0) {
    result.x = x0;
    result.value = f(x0);
    result.converged = std::isfinite(result.value);
    return result;
  }
  NumericObjective objective(f, lower, upper, options.step, options.centralDifferences);
  LBFGSpp::LBFGSBParam<double> param;
  param.epsilon = options.gradientTolerance;
  param.epsilon_rel = 0.0;
  param.past = 1;
  param.delta = options.relativeDecrease;
  param.max_iterations = options.maxIterations;
  param.max_linesearch = 40;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  Eigen::VectorXd x = x0.cwiseMax(lower).cwiseMin(upper);
  double fx = 0.0;
  for (int attempt = 0;; ++attempt) {
    const double startValue = options.lineSearchRestarts == 0 ? 0.0
                              : attempt == 0                  ? objective.evaluate(x)
                                                              : objective.bestValue();
    try {
      result.iterations += solver.minimize(objective, x, fx, lower, upper);
      result.converged = result.iterations < options.maxIterations;
      break;
    } catch (const std::exception&) {
      // Line-search failure near the optimum is common with numerical gradients: keep the best point.
      // Far from it (a step into a region where f explodes), restart from the best point with a
      // fresh Hessian approximation, as a steepest-descent reset.
      result.converged = true;
      if (attempt >= options.lineSearchRestarts) break;
      const double tolerance = options.relativeDecrease * std::max(1.0, std::abs(startValue));
      if (!(objective.bestValue() < startValue - tolerance)) break;
      x = objective.best();
    }
  }
  result.x = objective.best();
  result.value = objective.bestValue();
  if (result.value >= kInfeasible) result.converged = false;
  return result;
}

}  // namespace stacklens::core::forecast::detail
