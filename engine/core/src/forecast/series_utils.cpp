#include "forecast/series_utils.h"

#include <cmath>

namespace stacklens::core::forecast::detail {

std::vector<double> dropMissing(std::span<const double> x) {
  std::vector<double> out;
  out.reserve(x.size());
  for (double v : x)
    if (!std::isnan(v)) out.push_back(v);
  return out;
}

std::vector<double> interpolateMissing(std::span<const double> x) {
  std::vector<double> out(x.begin(), x.end());
  const std::size_t n = out.size();
  std::size_t previous = n;  // index of the last observed value
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(out[i])) continue;
    if (previous == n) {
      for (std::size_t j = 0; j < i; ++j) out[j] = out[i];
    } else {
      for (std::size_t j = previous + 1; j < i; ++j)
        out[j] = out[previous] + (out[i] - out[previous]) * static_cast<double>(j - previous) / static_cast<double>(i - previous);
    }
    previous = i;
  }
  if (previous != n)
    for (std::size_t j = previous + 1; j < n; ++j) out[j] = out[previous];
  return out;
}

std::vector<double> difference(std::span<const double> x, int lag) {
  const std::size_t l = static_cast<std::size_t>(lag);
  if (x.size() <= l) return {};
  std::vector<double> out(x.size() - l);
  for (std::size_t t = l; t < x.size(); ++t) out[t - l] = x[t] - x[t - l];
  return out;
}

bool isConstant(std::span<const double> x) {
  bool seen = false;
  double first = 0.0;
  for (double v : x) {
    if (std::isnan(v)) continue;
    if (!seen) {
      first = v;
      seen = true;
    } else if (v != first) {
      return false;
    }
  }
  return true;
}

}  // namespace stacklens::core::forecast::detail
