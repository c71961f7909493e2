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
  /// Automatic eps only: how many points the k-distance curve is measured on (a deterministic,
  /// spatially stratified sample; see autoEps()). 0 or ≥ the number of rows: every point.
  std::size_t epsSample = kDefaultEpsSample;

  static constexpr std::size_t kDefaultEpsSample = 2048;
};

struct DbscanResult {
  /// Per row: cluster 0, 1, ... or −1 for noise. Clusters are numbered by their lowest-index core
  /// point, as scikit-learn does, so core and noise labels equal scikit-learn's exactly. A border
  /// point (not core, within eps of a core point of several clusters) takes the cluster of one
  /// of them (the first its search meets); which one may differ from scikit-learn's.
  std::vector<int> labels;
  std::vector<std::uint8_t> core;  ///< 1 for core points
  int clusters = 0;
  double eps = 0;  ///< the radius used (given, or chosen automatically)

  std::size_t noiseCount() const;
};

/// Clusters the rows of `x` (finite values). Decides the core points by counting neighbours
/// within eps (a radius count that stops at min_samples and adds whole boxes inside the ball),
/// then grows clusters from core points in index order. With a KD-tree the cost is about
/// O(n log n) for moderate eps and O(n²) at worst when eps covers most points, like every exact
/// DBSCAN; automatic eps adds the k-distances of `epsSample` points. Throws
/// std::invalid_argument on bad parameters.
DbscanResult dbscan(const Matrix& x, const DbscanParams& params);

/// The distance from every row to its k-th nearest row (the row itself counting as the first),
/// sorted ascending: the "k-distance curve". O(n log n · k) with a KD-tree. With 0 < sampleSize
/// < rows, the curve of a stratified sample of that many rows (KdTree::sampleKthDistances2()),
/// searched against all rows, plus the exact largest k-distance (KdTree::maxKthDistance2()) when
/// the sample missed it: the same quantiles and the same end point, at about sampleSize / rows of
/// the cost.
std::vector<double> kDistanceCurve(const Matrix& x, int k, int threads = 1, std::size_t sampleSize = 0);

/// Knee of an ascending curve: both axes scaled to [0,1], the first index maximising x − y (the
/// largest gap below the chord from the first to the last point, "Kneedle", Satopää et al. 2011).
/// Returns the curve's value there (the first value when the curve is flat).
double kneeValue(std::span<const double> ascending);

/// Automatic eps: the knee of the k-distance curve with k = max(minSamples, 2). Points left of
/// the knee (the dense majority) become core points; the steep tail (isolated points) is noise.
/// The curve is that of `sampleSize` rows (0: all rows), see kDistanceCurve(). Below
/// sampleSize rows the result is exactly the full curve's knee. Above, the sample estimates the
/// curve's quantiles, but a knee is ill-conditioned (the gap it maximises is flat around it):
/// on 10,000 × 8 data of the benchmark's two kinds, 24 draws, the default 2,048 rows gave eps
/// within 3 % of the full curve's in 19 draws and within 6.6 % in all (the full curve's eps
/// itself varies by about 2 % between draws; bench_detect's BM_AutoEpsSampleAccuracy).
/// TestPatternAnalysis::dbscanSampledEps checks 8 % on four draws.
double autoEps(const Matrix& x, int minSamples, int threads = 1,
               std::size_t sampleSize = DbscanParams::kDefaultEpsSample);

}  // namespace stacklens::core::detect
