#pragma once
// Box-constrained minimisation with LBFGSpp's L-BFGS-B and central-difference gradients, for the
// smooth low-dimensional objectives of the forecasting models. Internal to stacklens::core.

#include <Eigen/Core>
#include <functional>

namespace stacklens::core::forecast::detail {

struct MinimizeResult {
  Eigen::VectorXd x;
  double value = 0;
  int iterations = 0;
  bool converged = false;
};

struct MinimizeOptions {
  int maxIterations = 200;
  double gradientTolerance = 1e-7;  ///< projected-gradient infinity norm
  double relativeDecrease = 1e-12;  ///< stop when the objective no longer decreases by this much
  double step = 1e-6;               ///< finite-difference step (objective scale of the parameters ~1)
  bool centralDifferences = true;   ///< false: forward differences (half the evaluations, less accurate)
  /// Restarts from the best point after a failed line search that still improved the objective.
  int lineSearchRestarts = 0;
};

/// Minimises f over lower <= x <= upper from x0. f may return +inf or NaN for infeasible points;
/// they are treated as very large values. The best point seen is returned even if the line search
/// fails. With x0 empty, returns f at the empty vector.
MinimizeResult minimizeBox(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x0,
                           const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                           const MinimizeOptions& options = {});

}  // namespace stacklens::core::forecast::detail
