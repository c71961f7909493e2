#pragma once
// What a backtest leaves behind: a summary per configuration (totals, per service, per day) that
// the panel shows side by side and the workspace keeps as JSON. Qt-free.

#include <array>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stacklens/core/backtest/backtest.h"

namespace stacklens::ui {

struct BacktestSummary {
  std::string label;  ///< e.g. "A: current settings"
  std::string configToml;
  core::backtest::DetectionScore detection;
  double nabScore = std::numeric_limits<double>::quiet_NaN();  ///< NaN until scored
  int days = 0;
  double anomaliesPerDay = 0;
  std::array<int, 4> bySeverity{};  ///< anomalies by core::Severity
  std::map<core::EpochSeconds, std::array<int, 4>> perDay;
  /// Forecast accuracy and predictive alerts; forecast.forecasts == 0 when not replayed.
  core::backtest::ForecastScore forecast;
  double level = 90;  ///< the forecasts' interval level, percent (what coverage should be near)
  struct Service {
    std::string name;
    core::backtest::DetectionScore detection;
    int rejected = 0;
    core::backtest::ForecastScore forecast;
  };
  std::vector<Service> services;
  double seconds = 0;
  bool cancelled = false;
};

/// `level` is the forecasts' interval level (ignored without forecasts).
BacktestSummary summarize(const core::backtest::BacktestResult& result, const std::string& label,
                          const std::string& configToml, double seconds, double level = 90);

/// One kept backtest: what was asked and the summaries of A and (optionally) B.
struct BacktestRecord {
  std::string name;
  core::EpochSeconds from = 0, to = 0;
  std::vector<std::string> services;
  BacktestSummary a;
  std::optional<BacktestSummary> b;
};

std::string toJson(const BacktestRecord& record);
/// Throws std::invalid_argument when the text is not a backtest record.
BacktestRecord backtestRecordFromJson(const std::string& json);

}  // namespace stacklens::ui
