#pragma once
// The original's AnomalyDetector: standardise the features, then score with an isolation forest.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/detect/isolation_forest.h"
#include "stacklens/core/detect/standard_scaler.h"
#include "stacklens/core/records.h"

namespace stacklens::core::detect {

/// Rows of a matrix from feature vectors (one row per sample, kFeatureCount columns).
Matrix toMatrix(std::span<const FeatureVector> samples);

struct AnomalyDetectorParams {
  IsolationForestParams forest;  ///< contamination 0.1 and 100 trees by default, as the original
  bool standardize = true;       ///< StandardScaler before the forest (the original always did)
};

/// Verdict for one sample.
struct Detection {
  double score = 0;  ///< isolation score s ∈ (0,1]; > threshold means anomalous
  bool isAnomaly = false;
  double confidence = 0;  ///< [0,1], see IsolationForest::confidence()
};

/// A trained detector: a value (copyable, immutable). Default-constructed it is untrained and
/// detect() throws std::logic_error.
class AnomalyDetector {
 public:
  AnomalyDetector() = default;

  /// Trains on n ≥ 2 samples of equal width with finite values (std::invalid_argument otherwise).
  static AnomalyDetector fit(const Matrix& samples, const AnomalyDetectorParams& params = {});
  /// As fit(samples, params), and sets `trainingScores` to the forest's score of every sample,
  /// as detect(samples) gives them (IsolationForest::fit with training scores: one pass fewer).
  static AnomalyDetector fit(const Matrix& samples, const AnomalyDetectorParams& params,
                             std::vector<double>& trainingScores);

  bool trained() const { return forest_.trees() > 0; }
  Detection detect(std::span<const double> sample) const;
  std::vector<Detection> detect(const Matrix& samples) const;

  const StandardScaler& scaler() const { return scaler_; }
  const IsolationForest& forest() const { return forest_; }
  const AnomalyDetectorParams& params() const { return params_; }

  /// Versioned blob ("SLAD", version 1) holding the scaler and the forest.
  std::string serialize() const;
  static AnomalyDetector deserialize(std::string_view blob);

 private:
  static AnomalyDetector fit(const Matrix& samples, const AnomalyDetectorParams& params,
                             std::vector<double>* trainingScores);
  AnomalyDetectorParams params_;
  StandardScaler scaler_;
  IsolationForest forest_;
};

}  // namespace stacklens::core::detect
