#pragma once
// The tuned settings as the TOML configuration file of the headless services (`stacklens
// ml-service --config FILE`, `stacklens predictive-alerter --config FILE`), and back. The keys are
// connect::ServiceConfig's (one key table for the daemons and the workbench):
//
//   [ml]            min_training_samples, retrain_every
//   [ml.detection]  history_capacity, contamination ("auto" or a share), trees, max_samples ("auto"
//                   or a count), standardize, dbscan_eps ("auto" or a radius), dbscan_min_samples,
//                   pattern_shift_threshold, trend_window, trend_degree, seasonal_lag ("auto" or a
//                   lag), change_point_method (two_window, cusum, bocpd), change_point_window,
//                   consensus_rule (any, majority, unanimous, weighted), severity_medium,
//                   severity_high, severity_critical
//   [alerter]       order ("auto" or "p,d,q[,P,D,Q,s]"), horizon, level
//   [alerter.thresholds], [alerter.capacity]   metric = number
//
// Deployment keys (Kafka, PostgreSQL, topics) are not written; reading accepts them and ignores them.

#include <stdexcept>
#include <string>
#include <string_view>

#include "stacklens/ui/tuning/tuning_config.h"

namespace stacklens::ui {

class TuningTomlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The settings as a TOML document (every tuned key, with a header comment).
std::string tuningToToml(const TuningConfig& config);

/// Reads settings written by tuningToToml (missing keys keep the services' defaults). Throws
/// TuningTomlError "SOURCE:LINE: ..." naming the key for a syntax error, an unknown key or a bad
/// value.
TuningConfig tuningFromToml(std::string_view text, const std::string& source = "configuration");

}  // namespace stacklens::ui
