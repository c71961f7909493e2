#pragma once
// ARIMA(p,d,q)(P,D,Q)s with an optional mean or drift, fitted by exact Gaussian maximum
// likelihood, and its forecasts with prediction intervals.
//
// Model (regression with ARIMA errors, as R's stats::arima and forecast::Arima):
//   y_t = beta * x_t + u_t,   phi(B) Phi(B^s) (1-B)^d (1-B^s)^D u_t = theta(B) Theta(B^s) eps_t,
//   eps_t ~ N(0, sigma^2), with x_t = 1 (mean, only when d+D = 0) or x_t = t = 1..n (drift, only
//   when d+D = 1). Polynomials: phi(B) = 1 - phi_1 B - ..., theta(B) = 1 + theta_1 B + ...
//
// Estimation: a Kalman filter on the state-space form with the differencing inside the state (the
// integrated states exactly diffuse, the ARMA block at its unconditional covariance), sigma^2 and
// beta concentrated out; the AR and MA parameters are optimised with L-BFGS-B (LBFGSpp) in an
// unconstrained space (tanh partial autocorrelations + Durbin-Levinson) that makes every candidate
// stationary and invertible; starting values from conditional sum of squares. Missing values (NaN)
// are skipped by the filter. See docs/FORECASTING.md for conventions and reference agreement.

#include <Eigen/Core>
#include <cmath>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stacklens::core::forecast {

/// Orders of a (seasonal) ARIMA model. The seasonal part is used when period >= 2.
struct ArimaOrder {
  int p = 0, d = 0, q = 0;
  int P = 0, D = 0, Q = 0;
  int period = 1;  ///< observations per season (24 for hourly data with a daily cycle)

  bool hasSeasonalPart() const { return period >= 2 && (P > 0 || D > 0 || Q > 0); }
  /// d + s*D: observations consumed by the differencing.
  int differencingLength() const { return d + (period >= 2 ? period * D : 0); }
  /// "ARIMA(1,1,1)" or "ARIMA(2,0,1)(0,1,1)[24]".
  std::string toString() const;
  friend bool operator==(const ArimaOrder&, const ArimaOrder&) = default;
};

/// What the deterministic term is. kMean needs d+D = 0, kDrift needs d+D = 1.
/// The numbers of an order list as users type it ("1,1,1", "2,0,1,0,1,1,24"): comma-separated
/// whole numbers >= 0. Empty when a field is not one; the caller checks the count and the ranges
/// and names what it expected.
std::optional<std::vector<int>> parseOrderNumbers(std::string_view text);

enum class ArimaConstant { kNone, kMean, kDrift };

enum class FitMethod {
  kCss,    ///< conditional sum of squares only (fast, approximate; used inside order searches)
  kMl,     ///< exact maximum likelihood from zero starting values
  kCssMl,  ///< CSS estimates as starting values for exact maximum likelihood (default)
};

struct ArimaSpec {
  ArimaOrder order;
  /// Fit a mean (d+D = 0) or a drift (d+D = 1); ignored when d+D >= 2.
  bool includeConstant = true;
  FitMethod method = FitMethod::kCssMl;
  int maxIterations = 200;  ///< L-BFGS-B iterations per optimisation
  /// Projected-gradient tolerance of the ML optimisation (objective: -loglik / n). The default
  /// reproduces R and statsmodels to ~1e-5; order searches use a looser one.
  double gradientTolerance = 1e-7;
  /// Run the final filter for residuals and the forecast state. Order searches that only rank CSS
  /// fits switch it off (the model can then not forecast).
  bool computeState = true;
  /// Estimate CSS in the raw coefficients from zero, as R's stats::arima does, instead of in the
  /// transformed space that keeps every candidate stationary and invertible. A CSS estimate may
  /// then leave that region: with FitMethod::kCss the caller sees it (the automatic search rejects
  /// such candidates by their roots), with kCssMl a non-stationary AR start is an error (R:
  /// "non-stationary AR part from CSS") and a non-invertible MA block starts ML from zero.
  bool unconstrainedCss = false;
};

/// A fitted model: a plain value, copyable and serialisable; forecasts need nothing else.
struct ArimaModel {
  ArimaOrder order;
  ArimaConstant constant = ArimaConstant::kNone;
  std::vector<double> ar, ma, seasonalAr, seasonalMa;  ///< phi, theta, Phi, Theta
  double constantValue = 0;  ///< the mean, or the drift per time step; 0 with kNone
  /// Innovation variance used for intervals: sum of squared standardized innovations divided by
  /// (nEffective - coefficients), the convention of R's forecast::Arima (without its diffuse
  /// pseudo-residuals). See sigma2Mle for the maximum-likelihood value.
  double sigma2 = 0;
  double sigma2Mle = 0;  ///< sum of squared standardized innovations / observations used (ML)
  double logLikelihood = 0;
  double aic = 0, aicc = 0, bic = 0;
  int seriesLength = 0;   ///< n, including missing values; the drift regressor of y_n is n
  int observations = 0;   ///< observations that entered the likelihood (non-missing, non-diffuse)
  int nEffective = 0;     ///< non-missing observations minus d + sD (AICc/BIC sample size)
  FitMethod method = FitMethod::kCssMl;
  bool converged = false;
  int iterations = 0;     ///< optimiser iterations (CSS + ML)
  /// Standardized innovations v_t / sqrt(F_t) in units of y (NaN where not defined), length n.
  std::vector<double> residuals;
  /// State at n+1 given y_1..y_n, of the series minus its regression part, and its covariance in
  /// units of sigma^2 (size r + d + sD).
  Eigen::VectorXd finalState;
  Eigen::MatrixXd finalCovariance;

  /// Estimated coefficients in R's order: ar1.., ma1.., sar1.., sma1.., then mean or drift.
  std::vector<double> coefficients() const;
  std::vector<std::string> coefficientNames() const;
  /// Number of estimated coefficients (without sigma^2).
  int coefficientCount() const { return static_cast<int>(coefficients().size()); }
  /// "ARIMA(2,1,2) with drift", "ARIMA(1,0,0)(2,1,0)[24]", "ARIMA(0,0,1) with non-zero mean".
  std::string describe() const;
};

/// Point forecasts with a prediction interval, one entry per step ahead.
struct ForecastPath {
  std::vector<double> mean;
  std::vector<double> lower;
  std::vector<double> upper;
  std::vector<double> standardError;  ///< sqrt of the forecast variance (same units as y)
  double level = 90;                  ///< interval level in percent
};

/// Fits the model to y (equally spaced, NaN for missing values). Throws std::invalid_argument
/// for negative orders, a seasonal part without a period >= 2, or too few observations.
/// Cost: O(n r^2) per likelihood evaluation at worst (r = max(p+sP, q+sQ+1)), O(n r) once the
/// filter reaches its steady state; typically 50-300 evaluations.
ArimaModel fitArima(std::span<const double> y, const ArimaSpec& spec);

/// The fitted model's AR and MA coefficients applied to another series y - typically the same
/// metric's window moved on by new observations - without optimising again: the mean or drift
/// (concentrated out, as when fitting), sigma^2, the likelihood and criteria, the residuals and the
/// forecast state are recomputed by one Kalman filter pass. One likelihood evaluation instead of
/// the 50-300 of fitArima; what a rolling forecast does between refits. Throws as fitArima for a
/// series too short for the model's orders.
ArimaModel refilterArima(const ArimaModel& model, std::span<const double> y);

/// Exact log-likelihood of y at given coefficients (R's order, see ArimaModel::coefficients; the
/// mean/drift coefficient last when `constant` is not kNone), at the given sigma^2 or, when sigma2
/// is NaN, at its ML value. The d + sD diffuse observations do not enter (statsmodels' exact diffuse
/// likelihood adds -log(2 pi)/2 for each of them).
struct LikelihoodAt {
  double logLikelihood = 0;
  double sigma2Mle = 0;
  int observations = 0;
};
LikelihoodAt arimaLikelihood(std::span<const double> y, const ArimaOrder& order, ArimaConstant constant,
                             std::span<const double> coefficients, double sigma2 = std::nan(""));

/// Forecasts `horizon` steps after the end of the fitted series with a central interval at
/// `levelPercent` (0 < level < 100) from the Kalman forecast variance and model.sigma2.
/// O(horizon * (r + d + sD)^2).
ForecastPath forecastArima(const ArimaModel& model, int horizon, double levelPercent = 90);

/// Versioned text form ("stacklens-arima 1" header, one key per line). Exact round trip.
std::string serializeArimaModel(const ArimaModel& model);
/// Throws std::invalid_argument naming the line and key that is wrong, or an unknown version.
ArimaModel deserializeArimaModel(std::string_view text);

}  // namespace stacklens::core::forecast
