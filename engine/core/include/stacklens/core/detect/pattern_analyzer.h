#pragma once
// The original's PatternAnalyzer: a service's behaviour patterns as DBSCAN clusters of its
// standardised feature vectors, pattern signatures, and pattern-shift detection.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/detect/kd_tree.h"
#include "stacklens/core/detect/standard_scaler.h"

namespace stacklens::core::detect {

struct PatternParams {
  std::optional<double> eps;  ///< in standardised units; nullopt = automatic (k-distance knee)
  int minSamples = 3;         ///< as the original; counts the point itself
  /// A window is a shift when the total-variation distance between its pattern shares and the
  /// training shares (noise counted as one more category) exceeds this, in [0,1].
  double windowShiftThreshold = 0.3;
  int threads = 1;
};

/// One pattern (cluster) in original units.
struct PatternSignature {
  int label = 0;
  std::vector<double> centroid;  ///< per-feature mean of the members
  std::vector<double> spread;    ///< per-feature population standard deviation of the members
  int size = 0;                  ///< members
  double share = 0;              ///< size / training samples, [0,1]
};

/// Where a new sample falls.
struct PatternMatch {
  int pattern = -1;      ///< label of the nearest core point's pattern; −1 when none was learned
  double distance = 0;   ///< to the nearest core point, standardised units
  double ratio = 0;      ///< distance / eps; > 1 means outside every pattern
  bool isShift = false;  ///< ratio > 1 (and at least one pattern exists)
  double score = 0;      ///< [0,1]: ratio/2 up to the boundary, then 1 − 1/(2·ratio)
};

/// How a window of samples compares with the training behaviour.
struct WindowShift {
  std::vector<double> shares;  ///< per pattern label, then the share outside every pattern
  double outsideShare = 0;     ///< share of the window's samples outside every pattern
  double divergence = 0;       ///< total-variation distance to the training shares, [0,1]
  bool isShift = false;        ///< divergence > windowShiftThreshold
};

/// A fitted pattern model: a value. Keeps the scaler, eps, the core points (standardised) and
/// their labels; matching a sample is a nearest-neighbour query on the core points,
/// O(log n) typical.
class PatternModel {
 public:
  PatternModel() = default;

  /// Standardises `samples` (n ≥ 1 rows), runs DBSCAN and summarises each cluster.
  static PatternModel fit(const Matrix& samples, const PatternParams& params = {});

  const std::vector<PatternSignature>& signatures() const { return signatures_; }
  /// Per training row: pattern label or −1 (noise).
  const std::vector<int>& trainingLabels() const { return trainingLabels_; }
  double eps() const { return eps_; }
  double noiseShare() const;
  const StandardScaler& scaler() const { return scaler_; }
  const PatternParams& params() const { return params_; }

  PatternMatch match(std::span<const double> sample) const;
  WindowShift windowShift(const Matrix& window) const;

  /// Similarity of two signatures in [0,1]: the Bhattacharyya coefficient of the two diagonal
  /// Gaussians N(centroid, spread²); 1 for identical signatures. A feature's variance is floored
  /// at (10⁻³·mean magnitude)² + 10⁻¹², so zero-spread features compare by their centroids.
  static double similarity(const PatternSignature& a, const PatternSignature& b);

  /// Versioned blob ("SLPM", version 1).
  std::string serialize() const;
  static PatternModel deserialize(std::string_view blob);

 private:
  PatternParams params_;
  StandardScaler scaler_;
  double eps_ = 0;
  std::vector<PatternSignature> signatures_;
  std::vector<int> trainingLabels_;
  Matrix corePoints_;  // standardised
  std::vector<int> coreLabels_;
  KdTree coreTree_;
};

}  // namespace stacklens::core::detect
