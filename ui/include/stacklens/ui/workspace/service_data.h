#pragma once
// The workbench's in-memory form of one service's history: a time grid, named metric columns and
// the labelled incident windows. Qt-free, so the logic that uses it is testable on its own.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/records.h"
#include "stacklens/core/timestamp.h"

namespace stacklens::ui {

/// A labelled incident: [start, end], both inclusive, UTC seconds.
struct LabelWindow {
  core::EpochSeconds start = 0;
  core::EpochSeconds end = 0;
  friend bool operator==(const LabelWindow&, const LabelWindow&) = default;
};

/// What the explorer needs to know about a service without loading its samples.
struct ServiceSummary {
  std::string name;
  std::vector<std::string> metrics;
  core::EpochSeconds first = 0;
  core::EpochSeconds last = 0;
  std::size_t samples = 0;  ///< rows of the time grid
  int labelWindows = 0;
  std::string source;  ///< the file it was imported from
};

/// One service's samples. `timestamps` ascend strictly; `values[m][row]` is NaN when missing.
struct ServiceData {
  std::string name;
  std::vector<core::EpochSeconds> timestamps;
  std::vector<std::string> metrics;
  std::vector<std::vector<double>> values;
  std::vector<LabelWindow> labels;

  std::size_t rowCount() const { return timestamps.size(); }
  /// Index of the metric column, or -1.
  int metricIndex(std::string_view metric) const;
  /// The column of `metric`; empty when the service has no such metric.
  std::span<const double> column(std::string_view metric) const;
  /// True when all 8 features of core::kFeatureNames are present (the service format).
  bool hasAllFeatures() const;
  /// The rows as pipeline input samples (window = spacing of the grid, 3600 s by default). A
  /// single-value series is presented as total_requests with the other features 0, so the same
  /// pipeline can run on it. Rows with a missing value are left out.
  std::vector<core::ServiceMetrics> samples() const;
  /// Rows whose timestamp lies in a label window, as 0/1 per row.
  std::vector<bool> pointLabels() const;
  /// The rows in [from, to] (inclusive), labels clipped to the range.
  ServiceData slice(core::EpochSeconds from, core::EpochSeconds to) const;
};

/// Consecutive labelled rows (label ≠ 0) turned into windows [first row's time, last row's time].
std::vector<LabelWindow> windowsFromPointLabels(std::span<const core::EpochSeconds> timestamps,
                                                const std::vector<bool>& labels);

}  // namespace stacklens::ui
