#include "stacklens/ui/explorer/service_health.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stacklens::ui {

std::optional<core::Severity> ServiceHealth::worstLastDay() const {
  for (int s = 3; s >= 0; --s)
    if (lastDay[static_cast<std::size_t>(s)] > 0) return static_cast<core::Severity>(s);
  return std::nullopt;
}

double ServiceHealth::urgency(const std::array<int, 4>& counts) {
  // Counts are capped at 999 so the encoding stays lexicographic.
  double key = 0;
  for (int s = 3; s >= 0; --s) key = key * 1000 + std::min(counts[static_cast<std::size_t>(s)], 999);
  return key;
}

std::string sparklineMetric(const std::vector<std::string>& metrics) {
  if (std::find(metrics.begin(), metrics.end(), "error_rate") != metrics.end()) return "error_rate";
  return metrics.empty() ? std::string() : metrics.front();
}

std::vector<double> bucketMeans(std::span<const core::EpochSeconds> t, std::span<const double> v,
                                core::EpochSeconds from, core::EpochSeconds to, int points) {
  std::vector<double> sum(static_cast<std::size_t>(std::max(points, 1)), 0.0);
  std::vector<int> count(sum.size(), 0);
  const double width = static_cast<double>(std::max<core::EpochSeconds>(to - from, 1)) / static_cast<double>(sum.size());
  for (std::size_t i = 0; i < std::min(t.size(), v.size()); ++i) {
    if (t[i] < from || t[i] > to || !std::isfinite(v[i])) continue;
    const auto b = std::min(sum.size() - 1, static_cast<std::size_t>(static_cast<double>(t[i] - from) / width));
    sum[b] += v[i];
    ++count[b];
  }
  for (std::size_t b = 0; b < sum.size(); ++b)
    sum[b] = count[b] > 0 ? sum[b] / count[b] : std::numeric_limits<double>::quiet_NaN();
  return sum;
}

ServiceHealth summarizeHealth(const ServiceSummary& summary, std::span<const core::AnomalyRecord> anomalies,
                              std::span<const core::EpochSeconds> sparkT, std::span<const double> sparkV,
                              core::EpochSeconds now) {
  ServiceHealth h;
  h.name = summary.name;
  h.samples = summary.samples;
  h.labelWindows = summary.labelWindows;
  h.lastSample = summary.last;
  h.sparkMetric = sparklineMetric(summary.metrics);
  for (const core::AnomalyRecord& a : anomalies) {
    if (a.timestamp > now) continue;
    const auto s = static_cast<std::size_t>(a.severity);
    if (a.timestamp > now - kDaySeconds) ++h.lastDay[s];
    if (a.timestamp > now - kWeekSeconds) ++h.lastWeek[s];
  }
  h.sparkline = bucketMeans(sparkT, sparkV, now - kWeekSeconds, now, kSparklinePoints);
  return h;
}

}  // namespace stacklens::ui
