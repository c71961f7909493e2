#pragma once
// Everything the tuning panel edits: the ML pipeline's detection settings (the same struct the
// ml-service runs with) and the forecasting settings of the predictive alerter. A plain value:
// undo commands keep snapshots of it. Qt-free.

#include <map>
#include <string>
#include <vector>

#include "stacklens/core/backtest/forecast_replay.h"
#include "stacklens/core/pipeline/ml_pipeline.h"

namespace stacklens::ui {

struct ForecastSettings {
  bool autoOrder = true;  ///< choose (p,d,q)(P,D,Q) by AICc; otherwise the order below
  int p = 1, d = 1, q = 1;
  int seasonalP = 0, seasonalD = 1, seasonalQ = 1;
  int period = 24;  ///< observations per season (hours per day); ≤ 1: no seasonal part
  int horizon = 24;       ///< steps ahead (hours)
  double level = 90;      ///< prediction interval level, percent
  /// Alert thresholds per metric (a breach is the forecast crossing it); absent: no threshold.
  std::map<std::string, double> thresholds;
  /// Capacity limits per metric for the capacity projection; absent: none.
  std::map<std::string, double> capacity;
};

struct TuningConfig {
  core::pipeline::MlPipelineConfig detection;
  ForecastSettings forecast;

  /// The headless services' defaults (connect::ServiceConfig): the engine's detection defaults and
  /// the original system's alert thresholds (error rate 5 %, p99 latency 1000 ms, p95 800 ms, mean
  /// 500 ms, risk score 0.8).
  static TuningConfig defaults();
};

/// One line per setting that differs, "contamination 0.1 → 0.05"; empty when equal. Used for the
/// undo stack's texts and to tell whether a change needs a re-run.
std::vector<std::string> describeChanges(const TuningConfig& before, const TuningConfig& after);

/// True when the detection settings of a and b are the same (the forecasting ones may differ).
bool sameDetection(const TuningConfig& a, const TuningConfig& b);

/// The forecasting settings as the engine's (core::backtest::ForecastConfig): fixed orders unless
/// autoOrder, the seasonal part only with period >= 2, the thresholds; the engine's defaults for
/// the rest (14-day fit window, daily origins and weekly refits in backtests, no time bound on
/// order searches, alerts at P(breach) >= 0.5 from 1000 simulated paths).
/// True when a and b differ at most in the forecasting settings, the isolation forest's
/// contamination and the consensus settings: the detection models fitted for a serve b.
bool sameDetectionModels(const TuningConfig& a, const TuningConfig& b);

core::backtest::ForecastConfig forecastConfig(const ForecastSettings& settings);

}  // namespace stacklens::ui
