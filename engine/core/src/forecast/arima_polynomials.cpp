#include "forecast/arima_polynomials.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>

namespace stacklens::core::forecast::detail {

namespace {

// Product of two polynomials given by their coefficients c_0..c_k (c_0 = 1 included).
std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size() + b.size() - 1, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) out[i + j] += a[i] * b[j];
  return out;
}

// 1 + sign * sum c_i B^{stride i} as full coefficient vector.
std::vector<double> lagPolynomial(std::span<const double> c, int stride, double sign) {
  std::vector<double> out(c.size() * static_cast<std::size_t>(stride) + 1, 0.0);
  out[0] = 1.0;
  for (std::size_t i = 0; i < c.size(); ++i) out[(i + 1) * static_cast<std::size_t>(stride)] = sign * c[i];
  return out;
}

}  // namespace

std::vector<double> expandAr(std::span<const double> phi, std::span<const double> seasonalPhi, int period) {
  const auto full = multiply(lagPolynomial(phi, 1, -1.0), lagPolynomial(seasonalPhi, std::max(period, 1), -1.0));
  std::vector<double> out(full.size() - 1);
  for (std::size_t i = 1; i < full.size(); ++i) out[i - 1] = -full[i];
  return out;
}

std::vector<double> expandMa(std::span<const double> theta, std::span<const double> seasonalTheta, int period) {
  const auto full = multiply(lagPolynomial(theta, 1, 1.0), lagPolynomial(seasonalTheta, std::max(period, 1), 1.0));
  return {full.begin() + 1, full.end()};
}

std::vector<double> differencingPolynomial(int d, int seasonalD, int period) {
  std::vector<double> poly{1.0};
  const std::vector<double> first{1.0, -1.0};
  for (int i = 0; i < d; ++i) poly = multiply(poly, first);
  std::vector<double> seasonal(static_cast<std::size_t>(period) + 1, 0.0);
  seasonal.front() = 1.0;
  seasonal.back() = -1.0;
  for (int i = 0; i < seasonalD; ++i) poly = multiply(poly, seasonal);
  std::vector<double> out(poly.size() - 1);
  for (std::size_t i = 1; i < poly.size(); ++i) out[i - 1] = -poly[i];
  return out;
}

std::vector<double> unconstrainedToStationary(std::span<const double> u) {
  const std::size_t k = u.size();
  std::vector<double> c(k, 0.0), previous(k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    const double r = std::tanh(u[j]);
    previous = c;
    c[j] = r;
    for (std::size_t i = 0; i < j; ++i) c[i] = previous[i] - r * previous[j - 1 - i];
  }
  return c;
}

std::vector<double> stationaryToUnconstrained(std::span<const double> coefficients, double maxAbsPacf) {
  const std::size_t k = coefficients.size();
  std::vector<double> c(coefficients.begin(), coefficients.end()), u(k, 0.0);
  // Levinson step-down: peel off the last partial autocorrelation one order at a time.
  for (std::size_t j = k; j-- > 0;) {
    const double r = std::clamp(c[j], -maxAbsPacf, maxAbsPacf);
    u[j] = std::atanh(r);
    const double scale = 1.0 - r * r;
    std::vector<double> lower(j);
    for (std::size_t i = 0; i < j; ++i) lower[i] = (c[i] + r * c[j - 1 - i]) / scale;
    std::copy(lower.begin(), lower.end(), c.begin());
  }
  return u;
}

std::vector<double> negated(std::vector<double> c) {
  for (double& v : c) v = -v;
  return c;
}

double minRootModulus(std::span<const double> arCoefficients) {
  std::size_t k = arCoefficients.size();
  while (k > 0 && std::abs(arCoefficients[k - 1]) < 1e-8) --k;
  if (k == 0) return std::numeric_limits<double>::infinity();
  // Roots of 1 - sum c_i z^i are the reciprocals of the eigenvalues of the companion matrix of
  // z^k - c_1 z^{k-1} - ... - c_k.
  Eigen::MatrixXd companion = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
  for (std::size_t i = 0; i < k; ++i) companion(0, static_cast<Eigen::Index>(i)) = arCoefficients[i];
  for (std::size_t i = 1; i < k; ++i) companion(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(i - 1)) = 1.0;
  const Eigen::VectorXcd eigenvalues = companion.eigenvalues();
  double largest = 0.0;
  for (Eigen::Index i = 0; i < eigenvalues.size(); ++i) largest = std::max(largest, std::abs(eigenvalues[i]));
  return largest > 0.0 ? 1.0 / largest : std::numeric_limits<double>::infinity();
}

}  // namespace stacklens::core::forecast::detail
