#pragma once
// DBSCAN (Ester et al. 1996) with scikit-learn's semantics, over a KD-tree.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stacklens/core/detect/matrix.h"

namespace stacklens::core::detect {

struct DbscanParams {
  /// Neighbourhood radius (Euclidean, inclusive: ‖p − q‖ ≤ eps). nullopt: chosen by autoEps().
  std::optional<double> eps;
  /// A point is a core point when at least this many points, itself included, lie within eps
  /// (scikit-learn's min_samples). ≥ 1.
  int minSamples = 5;
  int threads = 1;  ///< worker threads for the neighbour counts; 0 = all cores
};

struct DbscanResult {
  /// Per row: cluster 0, 1, ... or −1 for noise. Clusters are numbered by their lowest-index core
  /// point, as scikit-learn does, so core and noise labels equal scikit-learn's exactly. A border
  /// point (not core, within eps of a core point of several clusters) takes the first cluster
  /// that reaches it; which one may differ from scikit-learn's.
  std::vector<int> labels;
  std::vector<std::uint8_t> core;  ///< 1 for core points
  int clusters = 0;
  double eps = 0;  ///< the radius used (given, or chosen automatically)

  std::size_t noiseCount() const;
};

/// Clusters the rows of `x` (finite values). Counts neighbours of every point (a radius query
/// that adds whole boxes inside the ball), then grows clusters from core points. With a
/// KD-tree the cost is about O(n log n) for moderate eps and O(n²) at worst when eps covers most
/// points, like every exact DBSCAN. Throws std::invalid_argument on bad parameters.
DbscanResult dbscan(const Matrix& x, const DbscanParams& params);

/// The distance from every row to its k-th nearest row (the row itself counting as the first),
/// sorted ascending: the "k-distance curve". O(n log n · k) with a KD-tree.
std::vector<double> kDistanceCurve(const Matrix& x, int k, int threads = 1);

/// Knee of an ascending curve: both axes scaled to [0,1], the first index maximising x − y (the
/// largest gap below the chord from the first to the last point, "Kneedle", Satopää et al. 2011).
/// Returns the curve's value there (the first value when the curve is flat).
double kneeValue(std::span<const double> ascending);

/// Automatic eps: the knee of the k-distance curve with k = max(minSamples, 2). Points left of
/// the knee (the dense majority) become core points; the steep tail (isolated points) is noise.
double autoEps(const Matrix& x, int minSamples, int threads = 1);

}  // namespace stacklens::core::detect
