#pragma once
// Detection settings of `stacklens detect` and `stacklens eval nab`: defaults, an optional TOML
// file (--config), then command-line options, in that order of precedence.
//
//   [detect]
//   mode = "stream"            # or "batch"
//   method = "iforest"         # batch: "iforest" or "dbscan"
//   threshold = 0.5            # stream: is_anomaly when anomaly_score ≥ threshold
//   [detect.iforest]
//   trees = 100
//   max_samples = 256          # or "auto"
//   contamination = "auto"     # or a share in (0, 0.5]
//   seed = 0
//   [detect.dbscan]
//   eps = "auto"               # or a radius
//   min_samples = 5
//   standardize = false
//   [streaming]                # StreamingDetectorConfig, snake_case names
//   level_alpha = 0.05 ...

#include <string>

#include "stacklens/core/detect/dbscan.h"
#include "stacklens/core/detect/isolation_forest.h"
#include "stacklens/core/detect/streaming_detector.h"

namespace stacklens::headless {

struct DetectSettings {
  std::string mode = "stream";
  std::string method = "iforest";
  double threshold = 0.5;
  core::detect::IsolationForestParams forest = [] {
    core::detect::IsolationForestParams p;
    p.maxSamples = 256;
    p.contamination.reset();
    return p;
  }();
  core::detect::DbscanParams dbscan;
  bool standardize = false;
  core::detect::StreamingDetectorConfig streaming;
};

/// Applies a TOML file over `settings`. Throws std::runtime_error naming the file, line and key
/// for a syntax error, an unknown key or a value of the wrong type or range.
void applyTomlFile(const std::string& path, DetectSettings& settings);

}  // namespace stacklens::headless
