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
  struct Service {
    std::string name;
    core::backtest::DetectionScore detection;
    int rejected = 0;
  };
  std::vector<Service> services;
  double seconds = 0;
  bool cancelled = false;
};

BacktestSummary summarize(const core::backtest::BacktestResult& result, const std::string& label,
                          const std::string& configToml, double seconds);

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
