#pragma once
// What one time chart shows: a metric's raw history (shared, never copied into the chart) and the
// engine's results drawn over it. Qt-free: the metric view model builds these, the chart
// presenter draws them.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stacklens/core/records.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

struct AnomalyMark {
  core::EpochSeconds t = 0;
  double value = 0;  ///< the metric's value at t (where the marker sits)
  core::Severity severity = core::Severity::kLow;
  std::string text;  ///< type and description, for the read-out
};

/// Forecast mean and a central prediction interval, one entry per step.
struct ForecastBand {
  std::vector<core::EpochSeconds> t;
  std::vector<double> mean, lower, upper;
  double level = 90;  ///< percent
};

/// Where the forecast crosses the threshold: the predicted breach window.
struct BreachWindow {
  core::EpochSeconds start = 0;
  core::EpochSeconds end = 0;
  double probability = 0;  ///< [0,1]
};

/// A capacity projection: the projected path up to the limit and when the limit is reached.
struct CapacityProjection {
  std::vector<core::EpochSeconds> t;
  std::vector<double> value;
  double limit = 0;
  std::optional<core::EpochSeconds> exhaustionAt;
};

struct MetricPlot {
  std::shared_ptr<const ServiceData> data;  ///< the raw history (the engine's, not the chart's)
  int column = 0;                           ///< index into data->metrics / data->values
  std::vector<AnomalyMark> anomalies;
  std::optional<ForecastBand> forecast;
  std::optional<double> threshold;
  std::optional<BreachWindow> breach;
  std::optional<CapacityProjection> capacity;

  const std::string& metric() const { return data->metrics[static_cast<std::size_t>(column)]; }
};

}  // namespace stacklens::ui
