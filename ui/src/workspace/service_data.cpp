#include "stacklens/ui/workspace/service_data.h"

#include <algorithm>
#include <cmath>

namespace stacklens::ui {

int ServiceData::metricIndex(std::string_view metric) const {
  const auto it = std::find(metrics.begin(), metrics.end(), metric);
  return it == metrics.end() ? -1 : static_cast<int>(it - metrics.begin());
}

std::span<const double> ServiceData::column(std::string_view metric) const {
  const int index = metricIndex(metric);
  if (index < 0) return {};
  return values[static_cast<std::size_t>(index)];
}

bool ServiceData::hasAllFeatures() const {
  return std::all_of(core::kFeatureNames.begin(), core::kFeatureNames.end(),
                     [this](std::string_view feature) { return metricIndex(feature) >= 0; });
}

std::vector<core::ServiceMetrics> ServiceData::samples() const {
  std::array<int, core::kFeatureCount> index{};
  for (std::size_t f = 0; f < core::kFeatureCount; ++f) index[f] = metricIndex(core::kFeatureNames[f]);
  if (!hasAllFeatures() && metrics.size() == 1) {
    index.fill(-1);
    index[7] = 0;  // total_requests
  }
  const int window = timestamps.size() >= 2 ? static_cast<int>(timestamps[1] - timestamps[0]) : 3600;
  std::vector<core::ServiceMetrics> out;
  out.reserve(rowCount());
  for (std::size_t r = 0; r < rowCount(); ++r) {
    core::FeatureVector f{};
    bool complete = true;
    for (std::size_t k = 0; k < core::kFeatureCount; ++k) {
      if (index[k] < 0) continue;
      f[k] = values[static_cast<std::size_t>(index[k])][r];
      complete = complete && std::isfinite(f[k]);
    }
    if (!complete) continue;
    core::ServiceMetrics s;
    s.service = name;
    s.timestamp = timestamps[r];
    s.windowSeconds = window;
    s.errorRate = f[0];
    s.latencyP99Ms = f[1];
    s.latencyP95Ms = f[2];
    s.latencyMeanMs = f[3];
    s.uniqueUsers = f[4];
    s.uniqueIps = f[5];
    s.riskScore = f[6];
    s.totalRequests = f[7];
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<bool> ServiceData::pointLabels() const {
  std::vector<bool> out(rowCount(), false);
  for (const LabelWindow& w : labels) {
    auto first = std::lower_bound(timestamps.begin(), timestamps.end(), w.start);
    auto last = std::upper_bound(timestamps.begin(), timestamps.end(), w.end);
    for (auto it = first; it < last; ++it) out[static_cast<std::size_t>(it - timestamps.begin())] = true;
  }
  return out;
}

ServiceData ServiceData::slice(core::EpochSeconds from, core::EpochSeconds to) const {
  ServiceData out;
  out.name = name;
  out.metrics = metrics;
  const auto first = static_cast<std::size_t>(std::lower_bound(timestamps.begin(), timestamps.end(), from) -
                                               timestamps.begin());
  const auto last = static_cast<std::size_t>(std::upper_bound(timestamps.begin(), timestamps.end(), to) -
                                              timestamps.begin());
  const std::size_t end = std::max(first, last);
  out.timestamps.assign(timestamps.begin() + static_cast<std::ptrdiff_t>(first),
                        timestamps.begin() + static_cast<std::ptrdiff_t>(end));
  for (const auto& column : values)
    out.values.emplace_back(column.begin() + static_cast<std::ptrdiff_t>(first),
                            column.begin() + static_cast<std::ptrdiff_t>(end));
  for (const LabelWindow& w : labels)
    if (w.end >= from && w.start <= to) out.labels.push_back({std::max(w.start, from), std::min(w.end, to)});
  return out;
}

std::vector<LabelWindow> windowsFromPointLabels(std::span<const core::EpochSeconds> timestamps,
                                                const std::vector<bool>& labels) {
  std::vector<LabelWindow> out;
  const std::size_t n = std::min(timestamps.size(), labels.size());
  for (std::size_t r = 0; r < n; ++r) {
    if (!labels[r]) continue;
    if (r > 0 && labels[r - 1] && !out.empty()) {
      out.back().end = timestamps[r];
    } else {
      out.push_back({timestamps[r], timestamps[r]});
    }
  }
  return out;
}

}  // namespace stacklens::ui
