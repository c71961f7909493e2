#pragma once
// What a re-run of the engine does for the shown service when a setting changes. Qt-free: the
// runner calls it on a worker thread with copies of the data and the settings.
//
// Detection replays the whole history through the production pipeline (core::backtest). The
// forecast of each shown metric is the predictive alerter's step (core::backtest::forecast_replay.h):
// a (seasonal) ARIMA fitted to the last fitWindow hours, its mean and interval over the horizon,
// the breach prediction against the metric's threshold, and - for metrics with a capacity limit -
// the capacity projection (core::forecast::planCapacity).
//
// Detection settings fall in two groups: those the models depend on (trees, sample size, DBSCAN,
// trends, history) replay the history; the contamination and the consensus settings (rule,
// weights, severity cut-offs) only change the forest's threshold and the verdicts, so the kept
// trace of the last replay is decided again - the same records as a replay, in a few ms.
//
// Automatic orders cost an order search (10-40 fits per metric), far over the panel's budget, so a
// run reuses what the previous one left (TuningCache): a fitted model - with automatic orders, the
// orders the search chose - is kept while the data, the orders setting, the period and the fit
// window stay the same, until the user asks for a new search (TuningController::refit); a new
// horizon, level, threshold or capacity limit only forecasts and simulates again, and a metric whose
// forecasting settings did not change keeps its drawn forecast (TuningCache::outcomes). The models of the
// last few other orders are kept too (TuningCache::earlier), so that undo and redo of an orders
// change, or going back and forth, find them. Detection results are reused while the detection
// settings are unchanged.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/core/forecast/arima.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/tuning/tuning_config.h"

namespace stacklens::ui {

/// The service as backtest input (ServiceData::samples() and its labels).
core::backtest::ServiceHistory toServiceHistory(const ServiceData& data);

/// How far the capacity projection looks ahead: two weeks of hourly steps.
inline constexpr int kCapacityHorizonHours = 14 * 24;

/// A shown metric's forecast as the chart draws it.
struct ForecastOutcome {
  std::optional<ForecastBand> band;
  std::optional<BreachWindow> breach;
  std::optional<CapacityProjection> capacity;
  std::string note;  ///< " · metric ARIMA(...)", the breach probability, or why there is none
};

/// What one run leaves for the next (see the file comment). A value; copies are cheap enough
/// (models hold their final state, residuals of at most fitWindow points).
struct TuningCache {
  std::shared_ptr<const ServiceData> data;  ///< the data the entries belong to
  struct Fitted {
    std::string key;  ///< orders (or "auto"), period and fit window the model was fitted with
    core::forecast::ArimaModel model;
  };
  std::map<std::string, Fitted> models;      ///< by metric; reused while the key is the same
  /// Models replaced by a fit with other orders, newest first, at most kKeptEarlierFits: undoing
  /// an orders change, or going back and forth between two, finds its models here.
  std::vector<std::pair<std::string, Fitted>> earlier;
  static constexpr std::size_t kKeptEarlierFits = 12;
  std::optional<TuningConfig> detectedWith;   ///< the settings `detection` was found with
  core::backtest::ServiceBacktest detection;  ///< the replay (or re-decision) of the whole history
  /// What the replay's verdicts rest on: a change of the contamination or of the consensus settings
  /// only decides again (core::backtest::redecideService) instead of replaying.
  std::shared_ptr<const core::backtest::DetectionTrace> trace;
  /// The shown metrics' drawn forecasts, by metric, with a key of what they depend on (the model,
  /// horizon, level, the metric's threshold and capacity limit): a change of detection settings, or
  /// of another metric's threshold, reuses them.
  std::map<std::string, std::pair<std::string, ForecastOutcome>> outcomes;
};

/// Options of one run.
struct TuningRequest {
  std::vector<std::string> forecastMetrics;     ///< the shown metrics to forecast (empty: detection only)
  std::shared_ptr<const TuningCache> previous;  ///< what an earlier run on the same data left; may be null
  std::shared_ptr<TuningCache> next;            ///< filled for the next run when not null
};

/// Detection on the whole history of `data` through core::backtest::replayService — the
/// production pipeline — with the first historyCapacity samples as the start-up history, and the
/// forecasts of request.forecastMetrics. `cancelled` is polled between samples and metrics.
/// Throws std::exception when the engine refuses the settings; a metric whose model cannot be
/// fitted (too little data) gets no forecast and a word in the note.
ServiceResults runTuning(const ServiceData& data, const TuningConfig& config, const std::function<bool()>& cancelled,
                         const TuningRequest& request = {});

}  // namespace stacklens::ui
