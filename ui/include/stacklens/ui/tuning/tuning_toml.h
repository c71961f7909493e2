#pragma once
// The tuned settings as the TOML configuration file of the headless services (`stacklens
// ml-service --config FILE`, `stacklens predictive-alerter --config FILE`), and back:
//
//   [ml]
//   min_training_samples = 100
//   retrain_every = 100
//   [ml.detection]
//   history_capacity = 168
//   contamination = 0.1          # or "auto"
//   trees = 100
//   max_samples = "auto"         # or a count
//   standardize = true
//   dbscan_eps = "auto"          # or a radius in standardised units
//   dbscan_min_samples = 3
//   pattern_shift_threshold = 0.3
//   trend_window = 48
//   trend_degree = 1
//   seasonal_lag = 12            # or "auto"
//   change_point_method = "cusum"   # two_window, cusum, bocpd
//   change_point_window = 12
//   consensus_rule = "majority"     # any, majority, unanimous, weighted
//   severity_medium = 0.6
//   severity_high = 0.75
//   severity_critical = 0.9
//   [alerter]
//   order = "auto"               # or "p,d,q,P,D,Q,s"
//   horizon = 24
//   level = 90.0
//   [alerter.thresholds]         # metric = value
//   error_rate = 5.0
//   [alerter.capacity]           # metric = limit
//
// Qt-free (toml++).

#include <stdexcept>
#include <string>
#include <string_view>

#include "stacklens/ui/tuning/tuning_config.h"

namespace stacklens::ui {

class TuningTomlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The settings as a TOML document (every key, in the order above, with a header comment).
std::string tuningToToml(const TuningConfig& config);

/// Reads settings written by tuningToToml (missing keys keep their defaults). Throws
/// TuningTomlError "SOURCE:LINE: key 'NAME': reason" for a syntax error, an unknown key or a bad
/// value.
TuningConfig tuningFromToml(std::string_view text, const std::string& source = "configuration");

}  // namespace stacklens::ui
