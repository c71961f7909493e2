#include "stacklens/ui/metric_view/decimation.h"

#include <algorithm>
#include <cmath>

namespace stacklens::ui {

std::vector<PlotPoint> decimateMinMax(std::span<const core::EpochSeconds> t, std::span<const double> v,
                                      core::EpochSeconds from, core::EpochSeconds to, int buckets) {
  std::vector<PlotPoint> out;
  const std::size_t n = std::min(t.size(), v.size());
  if (n == 0 || to < from) return out;
  const auto begin = static_cast<std::size_t>(std::lower_bound(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n), from) - t.begin());
  const auto end = static_cast<std::size_t>(std::upper_bound(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n), to) - t.begin());

  // The nearest finite point outside each edge, so the line is not cut short at the border.
  auto addOutside = [&](std::size_t i, int step) {
    for (std::ptrdiff_t j = static_cast<std::ptrdiff_t>(i); j >= 0 && j < static_cast<std::ptrdiff_t>(n); j += step) {
      const auto k = static_cast<std::size_t>(j);
      if (std::isfinite(v[k])) {
        out.push_back({t[k], v[k]});
        return;
      }
    }
  };
  if (begin > 0) addOutside(begin - 1, -1);

  const std::size_t inRange = end - begin;
  buckets = std::max(buckets, 1);
  if (inRange <= 2 * static_cast<std::size_t>(buckets)) {
    for (std::size_t i = begin; i < end; ++i)
      if (std::isfinite(v[i])) out.push_back({t[i], v[i]});
  } else {
    const double width = static_cast<double>(to - from) / buckets;
    std::size_t i = begin;
    for (int b = 0; b < buckets && i < end; ++b) {
      // Bucket b covers [from + b·width, from + (b+1)·width); the last one includes `to`.
      const double upper = b + 1 == buckets ? static_cast<double>(to) + 1 : static_cast<double>(from) + (b + 1) * width;
      std::size_t lo = end, hi = end;
      for (; i < end && static_cast<double>(t[i]) < upper; ++i) {
        if (!std::isfinite(v[i])) continue;
        if (lo == end || v[i] < v[lo]) lo = i;
        if (hi == end || v[i] > v[hi]) hi = i;
      }
      if (lo == end) continue;
      const std::size_t first = std::min(lo, hi), second = std::max(lo, hi);
      out.push_back({t[first], v[first]});
      if (second != first) out.push_back({t[second], v[second]});
    }
  }
  if (end < n) addOutside(end, +1);
  return out;
}

}  // namespace stacklens::ui
