#pragma once
// What a re-run of the engine does for the shown service when a setting changes. Qt-free: the
// runner calls it on a worker thread with copies of the data and the settings.

#include <functional>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/tuning/tuning_config.h"

namespace stacklens::ui {

/// The service as backtest input (ServiceData::samples() and its labels).
core::backtest::ServiceHistory toServiceHistory(const ServiceData& data);

/// Detection on the whole history of `data` through core::backtest::replayService — the
/// production pipeline — with the first historyCapacity samples as the start-up history; the
/// anomalies found go into the results, with the alert thresholds of the service's metrics.
/// `cancelled` is polled between samples.
ServiceResults runTuning(const ServiceData& data, const TuningConfig& config, const std::function<bool()>& cancelled);

}  // namespace stacklens::ui
