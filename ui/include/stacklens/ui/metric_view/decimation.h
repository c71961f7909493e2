#pragma once
// Min/max decimation for time charts: a line drawn through each bucket's minimum and maximum looks
// the same as the full series at the bucket's pixel width, and spikes are never lost.
// Qt-free; the chart presenter calls it on every redraw with the visible range.

#include <span>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::ui {

struct PlotPoint {
  core::EpochSeconds t = 0;
  double value = 0;
  friend bool operator==(const PlotPoint&, const PlotPoint&) = default;
};

/// The points of (t, v) to draw for the time range [from, to] with `buckets` equal-width buckets
/// (about one per horizontal pixel). Per non-empty bucket it keeps the minimum and the maximum, in
/// time order (one point when they coincide), so no peak or trough is lost. When the range holds
/// at most 2·buckets points they are all returned. The nearest point before and after the range
/// are kept too, so the line reaches the chart's edges. NaN values are skipped.
/// `t` must ascend; `t` and `v` have equal length. O(log n + points in range).
std::vector<PlotPoint> decimateMinMax(std::span<const core::EpochSeconds> t, std::span<const double> v,
                                      core::EpochSeconds from, core::EpochSeconds to, int buckets);

}  // namespace stacklens::ui
