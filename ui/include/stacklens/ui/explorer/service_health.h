#pragma once
// Health at a glance for the service explorer: anomalies by severity over the last day and the
// last week, and a sparkline. Qt-free. "Now" is the newest sample of the workspace, so a
// historical workspace reads as it did when its data ended.

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stacklens/core/records.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

inline constexpr core::EpochSeconds kDaySeconds = 86400;
inline constexpr core::EpochSeconds kWeekSeconds = 7 * kDaySeconds;
inline constexpr int kSparklinePoints = 56;  ///< a week in 3-hour buckets

struct ServiceHealth {
  std::string name;
  std::array<int, 4> lastDay{};   ///< anomalies in (now − 24 h, now], indexed by core::Severity
  std::array<int, 4> lastWeek{};  ///< anomalies in (now − 7 d, now]
  std::string sparkMetric;        ///< the metric the sparkline shows
  std::vector<double> sparkline;  ///< bucket means over the last week, oldest first (NaN = no data)
  std::size_t samples = 0;
  int labelWindows = 0;
  core::EpochSeconds lastSample = 0;

  /// The worst severity seen in the last day, or nullopt when there was none.
  std::optional<core::Severity> worstLastDay() const;
  /// Orders services by how much attention they need: critical counts dominate high, high
  /// dominate medium, and so on (lexicographic, encoded in one number).
  static double urgency(const std::array<int, 4>& counts);
};

/// The metric a sparkline shows: error_rate when the service has it, else its first metric.
std::string sparklineMetric(const std::vector<std::string>& metrics);

/// Means of v over `points` equal buckets of [from, to] (NaN for an empty bucket). O(n + points).
std::vector<double> bucketMeans(std::span<const core::EpochSeconds> t, std::span<const double> v,
                                core::EpochSeconds from, core::EpochSeconds to, int points);

/// Counts `anomalies` by severity over the last day and week before `now` and attaches the
/// sparkline of (sparkT, sparkV) over the last week.
ServiceHealth summarizeHealth(const ServiceSummary& summary, std::span<const core::AnomalyRecord> anomalies,
                              std::span<const core::EpochSeconds> sparkT, std::span<const double> sparkV,
                              core::EpochSeconds now);

}  // namespace stacklens::ui
