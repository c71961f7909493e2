#pragma once
// Isolation forest (Liu, Ting, Zhou 2008) with scikit-learn's definitions, so that models and
// thresholds carry over from the original system:
//   - each tree is grown on `maxSamples` rows drawn without replacement;
//   - at each node a feature is drawn uniformly among those not constant in the node, and the
//     split threshold uniformly in [min, max) of that feature (rows ≤ threshold go left);
//   - growth stops at depth ceil(log2(maxSamples)), at one row, or when every feature is constant;
//   - a row's path length in a tree is the depth of its leaf plus c(leaf size), with
//     c(n) = 2(ln(n−1) + γ) − 2(n−1)/n for n > 2, c(2) = 1, c(n ≤ 1) = 0;
//   - score s(x) = 2^(−E[h(x)] / c(maxSamples)) in (0, 1]; higher is more anomalous.
// scikit-learn's score_samples() is −s, its offset_ is −threshold().
// Storage differs from scikit-learn's: thresholds are floats (the split is made with the float
// threshold, so a tree stays exact on its training rows; a feature whose spread in a node is
// below float resolution counts as constant there) and leaves hold their path length as a float.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/detect/matrix.h"

namespace stacklens::core::detect {

struct IsolationForestParams {
  int trees = 100;     ///< n_estimators, ≥ 1
  int maxSamples = 0;  ///< rows per tree; ≤ 0 means "auto" = min(256, n); values > n are clipped to n
  /// Expected share of anomalies in the training data, in (0, 0.5]: the threshold is the
  /// (1 − contamination) quantile of the training scores (linear interpolation, as numpy's
  /// percentile). nullopt means "auto": threshold 0.5, as scikit-learn's offset −0.5.
  std::optional<double> contamination = 0.1;
  std::uint64_t seed = 0;  ///< same seed + same data ⇒ the same forest, whatever `threads` is
  int threads = 1;         ///< worker threads for fit and for scoring the training data; 0 = all cores
};

/// A fitted forest: an immutable value. All trees live in one flat array of 8-byte nodes (children
/// adjacent, addressed by an offset packed with the feature; leaves hold their path length), so a
/// lookup is a fixed number of branch-free steps. About 8 · (2ψ − 1) bytes per tree at most:
/// ~100 KB for 100 trees on ψ = 168.
class IsolationForest {
 public:
  IsolationForest() = default;

  /// Fits on `x` (n ≥ 2 rows, d ≥ 1 columns, finite values; throws std::invalid_argument
  /// otherwise). Cost O(trees · ψ log ψ) for the trees plus one scoring pass over x for the
  /// threshold, O(n · trees · log ψ), with ψ = maxSamples.
  static IsolationForest fit(const Matrix& x, const IsolationForestParams& params = {});
  /// As fit(x, params), and sets `trainingScores` to the score of every row of x, equal to
  /// scores(x). With a contamination the threshold's scoring pass gives them (no second pass);
  /// with "auto" they cost one pass over x.
  static IsolationForest fit(const Matrix& x, const IsolationForestParams& params,
                             std::vector<double>& trainingScores);

  /// Score of one sample (size features()). O(trees · log ψ); about 1–3 µs for 100 trees.
  double score(std::span<const double> sample) const;
  /// Scores of every row, in order; `threads` as in the parameters. The result does not depend
  /// on the number of threads.
  std::vector<double> scores(const Matrix& x, int threads = 1) const;
  /// Asks the CPU to bring the trees into cache ahead of a score(): a forest of a service that
  /// last scored a while ago is in main memory, and a walk waits for each level's miss in turn,
  /// while these loads are independent and run behind other work. Changes nothing observable.
  void prefetch() const;

  /// s above which a sample is anomalous (scikit-learn predicts −1 when s > threshold).
  double threshold() const { return threshold_; }
  /// scikit-learn's offset_ (= −threshold()).
  double offset() const { return -threshold_; }
  bool isAnomaly(double s) const { return s > threshold_; }
  /// Confidence that a sample with score `s` is anomalous, in [0,1]: a logistic of the distance
  /// past the threshold in units of the training scores' robust spread (IQR/1.349):
  /// 0.5 at the threshold, ≈ 0.95 three spreads above it, ≈ 0.05 three spreads below.
  double confidence(double s) const;

  /// The decision part of a fitted forest: its threshold and the spread of confidence().
  struct Calibration {
    double threshold = 0.5;
    double spread = 1e-3;
    bool isAnomaly(double s) const { return s > threshold; }
    double confidence(double s) const;  ///< as IsolationForest::confidence
  };
  Calibration calibration() const { return {threshold_, scoreSpread_}; }
  /// The calibration fit() derives from the scores of its training rows (`trainingScores`, every
  /// row in row order) for a contamination (nullopt: auto). The trees do not depend on the
  /// contamination, so this is the forest fitted with another contamination, without refitting.
  /// Throws std::invalid_argument for a contamination outside (0, 0.5] or no scores. O(n log n).
  static Calibration calibrate(std::span<const double> trainingScores, std::optional<double> contamination);

  /// c(n): average path length of an unsuccessful search in a binary search tree of n nodes.
  static double averagePathLength(double n);

  std::size_t features() const { return features_; }
  int trees() const { return static_cast<int>(treeOffsets_.size()); }
  int sampleSize() const { return sampleSize_; }
  int maxDepth() const { return maxDepth_; }
  std::size_t nodeCount() const { return nodes_.size(); }
  const IsolationForestParams& params() const { return params_; }
  /// Robust spread of the training scores used by confidence().
  double scoreSpread() const { return scoreSpread_; }

  /// Versioned binary blob ("SLIF", version 3: per node a varint tag and, for a split, its float
  /// threshold; ~4 bytes a node) and its reader (throws ModelFormatError). Version 2 blobs (the
  /// 8-byte nodes) and version 1 blobs (double thresholds, 16-byte nodes plus a leaf array) are
  /// still read; version 1's thresholds and path lengths are rounded to float.
  std::string serialize() const;
  static IsolationForest deserialize(std::string_view blob);

  struct Node {
    /// Internal node: the split threshold (rows with value ≤ threshold go left). Leaf: the path
    /// length of a row ending here, depth + c(leaf size).
    float value;
    /// Internal node: (offset from this node to its left child) << featureBits | feature, the
    /// right child follows the left one. 0 for a leaf (an internal node's offset is ≥ 1).
    std::uint32_t link;
  };

 private:
  static IsolationForest fit(const Matrix& x, const IsolationForestParams& params, std::vector<double>* trainingScores);
  /// The score of a row whose path lengths over all the trees sum to `sum`.
  double scoreOfPathLengthSum(double sum) const;
  IsolationForestParams params_;
  std::size_t features_ = 0;
  int sampleSize_ = 0;
  int maxDepth_ = 0;
  double normaliser_ = 1;  ///< c(sampleSize)
  double threshold_ = 0.5;
  double scoreSpread_ = 0.05;
  int featureBits_ = 0;      ///< bits of Node::link holding the feature: bit width of features − 1
  std::vector<Node> nodes_;  ///< all trees, concatenated
  std::vector<std::int32_t> treeOffsets_;
};

}  // namespace stacklens::core::detect
