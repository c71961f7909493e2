#pragma once
// Exact Gaussian likelihood of a regression with (seasonal) ARIMA errors, by a Kalman filter on
// the state-space form with the differencing inside the state. Internal to stacklens::core.
//
// State at time t (Harvey's form for the ARMA part, then the lags of the integrated series):
//   alpha_t = (x_t[1..r], u_{t-1}, ..., u_{t-nd}),   r = max(p*, q*+1),  nd = d + sD
//   u_t     = x_t[1] + sum_j delta_j u_{t-j}                      (no measurement noise)
//   x_{t+1} = T x_t + R eps_{t+1},  T = [a | I; 0],  R = (1, b_1, ..., b_{r-1})'
// The ARMA block starts at its unconditional covariance Q0 (solved in O(r^2) from the
// autocovariances), the lag block is exactly diffuse (Koopman's exact initial filter). All
// variances are in units of sigma^2, which is concentrated out of the likelihood.
//
// Speed, without changing the result:
//  - once the diffuse part has collapsed and the last nd values are observed, the lag block is
//    known exactly (zero covariance), so the filter continues on the r-dimensional ARMA block
//    only, on w_t = u_t - sum delta_j u_{t-j}; a missing value brings the full state back until
//    it leaves the lag window;
//  - when y_1..y_nd are all observed, the exact diffuse filter ends its diffuse phase at t = nd
//    with the lag block equal to those values and the ARMA block at N(0, Q0) (the first nd values
//    carry no information on it), so the filter starts there;
//  - with no missing value, the ARMA-block covariance is propagated by the Chandrasekhar
//    recursions (its change P_{t+1} - P_t has rank 1), O(r) per step instead of O(r^2); the
//    ordinary recursion is used when a missing value occurs or the final covariance is wanted.
//
// Regressors (mean, drift) are handled by filtering the data and each regressor column with the
// same gains; their coefficients are then concentrated out by generalised least squares.

#include <Eigen/Core>
#include <vector>

namespace stacklens::core::forecast::detail {

struct ArimaSystem {
  std::vector<double> ar;     ///< a_1..a_{p*}, expanded
  std::vector<double> ma;     ///< b_1..b_{q*}, expanded
  std::vector<double> delta;  ///< delta_1..delta_nd
  int r = 1;
  int nd = 0;
  int stateSize() const { return r + nd; }
};

ArimaSystem makeSystem(std::vector<double> ar, std::vector<double> ma, std::vector<double> delta);

/// Unconditional covariance of the ARMA block (sigma^2 = 1). Empty matrix when the AR part is not
/// stationary (numerically).
Eigen::MatrixXd stationaryCovariance(const ArimaSystem& system);

/// Its first column alone (all the Chandrasekhar recursions need): O(r p) instead of O(r^2).
/// Empty when the AR part is not stationary (numerically).
Eigen::VectorXd stationaryFirstColumn(const ArimaSystem& system);

struct FilterOptions {
  bool keepInnovations = false;  ///< fill innovations/variances
  bool keepFinalState = false;   ///< fill finalMean/finalCov (the state at n+1 given 1..n)
  /// Run the full-state exact diffuse filter at every step, without the shortcuts below (tests use
  /// it to show that the shortcuts give the same numbers).
  bool forceFullState = false;
};

struct FilterResult {
  bool ok = false;                  ///< false when Q0 could not be formed
  Eigen::MatrixXd crossProducts;    ///< sum over used t of v v' / F, (1+k) x (1+k)
  double sumLogF = 0;               ///< sum over used t of log F
  int used = 0;                     ///< observations that entered the likelihood
  int diffuse = 0;                  ///< observations absorbed by the diffuse initialisation
  Eigen::MatrixXd innovations;      ///< n x (1+k); NaN where not used
  Eigen::VectorXd variances;        ///< n; F_t, NaN where not used
  Eigen::MatrixXd finalMean;        ///< m x (1+k)
  Eigen::MatrixXd finalCov;         ///< m x m
};

/// Runs the filter over data (n x (1+k): column 0 the series with NaN for missing values, the
/// other columns regressors). O(n r^2) at worst, O(n r) in the steady state.
FilterResult runFilter(const ArimaSystem& system, const Eigen::MatrixXd& data, const FilterOptions& options = {});

/// One-step transition of a state vector: out = T in (in and out may not alias). O(m).
void applyTransition(const ArimaSystem& system, const double* in, double* out);

/// P <- T P T' (+ R R' on the ARMA block when addNoise). O(m^2).
void propagateCovariance(const ArimaSystem& system, Eigen::MatrixXd& cov, bool addNoise);

/// Observation vector Z . v. O(r + nd).
double observe(const ArimaSystem& system, const double* v);

}  // namespace stacklens::core::forecast::detail
