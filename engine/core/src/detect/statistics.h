#pragma once
// Small descriptive statistics shared by the detectors.

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

namespace stacklens::core::detect::internal {

/// Quantile q ∈ [0,1] of ascending-sorted values with linear interpolation (numpy's default).
inline double sortedQuantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return sortedQuantile(values, 0.5);
}

/// Median absolute deviation scaled to σ for normal data (× 1.4826).
inline double madSigma(const std::vector<double>& values, double center) {
  std::vector<double> dev(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) dev[i] = std::abs(values[i] - center);
  return 1.4826 * median(std::move(dev));
}

inline double mean(std::span<const double> values) {
  double s = 0;
  for (double v : values) s += v;
  return values.empty() ? 0.0 : s / static_cast<double>(values.size());
}

/// Population standard deviation.
inline double stddev(std::span<const double> values) {
  const double m = mean(values);
  double ss = 0;
  for (double v : values) ss += (v - m) * (v - m);
  return values.empty() ? 0.0 : std::sqrt(ss / static_cast<double>(values.size()));
}

inline double logistic(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace stacklens::core::detect::internal
