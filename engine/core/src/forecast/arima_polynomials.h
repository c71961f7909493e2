#pragma once
// Lag polynomials of (seasonal) ARIMA models and the reparameterisations that keep them
// stationary / invertible during optimisation. Internal to stacklens::core.

#include <span>
#include <vector>

namespace stacklens::core::forecast::detail {

/// Coefficients of phi(B) = 1 - sum a_i B^i (AR sign convention) of the product
/// (1 - sum phi_i B^i)(1 - sum Phi_j B^{s j}); returns a_1..a_{p+sP}.
std::vector<double> expandAr(std::span<const double> phi, std::span<const double> seasonalPhi, int period);

/// Coefficients of theta(B) = 1 + sum b_j B^j (MA sign convention) of the product
/// (1 + sum theta_i B^i)(1 + sum Theta_j B^{s j}); returns b_1..b_{q+sQ}.
std::vector<double> expandMa(std::span<const double> theta, std::span<const double> seasonalTheta, int period);

/// (1 - B)^d (1 - B^s)^D = 1 - sum delta_j B^j; returns delta_1..delta_{d+sD}.
std::vector<double> differencingPolynomial(int d, int seasonalD, int period);

/// Maps unconstrained values u_k to the coefficients of a stationary AR polynomial
/// 1 - sum c_k B^k: partial autocorrelations r_k = tanh(u_k), then the Durbin-Levinson recursion
/// (Barndorff-Nielsen & Schou 1973; Jones 1980). Every u gives a stationary polynomial.
std::vector<double> unconstrainedToStationary(std::span<const double> u);

/// Inverse of unconstrainedToStationary. Partial autocorrelations are clamped to |r| <= maxAbsPacf so
/// that a coefficient vector on or outside the stationarity boundary maps to a large finite value.
std::vector<double> stationaryToUnconstrained(std::span<const double> coefficients, double maxAbsPacf = 0.9999);

/// -c: the MA coefficients theta of 1 + sum theta_k B^k in the AR sign convention (for minRootModulus
/// and the stationarity transforms).
std::vector<double> negated(std::vector<double> c);

/// Smallest modulus of the roots of 1 - sum c_k B^k (AR) — pass the negated MA coefficients for
/// 1 + sum theta_k B^k. Returns +inf for a constant polynomial. O(k^3) (companion eigenvalues).
double minRootModulus(std::span<const double> arCoefficients);

}  // namespace stacklens::core::forecast::detail
