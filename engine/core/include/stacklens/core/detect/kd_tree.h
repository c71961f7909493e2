#pragma once
// A static KD-tree over the rows of a matrix, for Euclidean radius and k-nearest queries.

#include <cstdint>
#include <span>
#include <vector>

#include "stacklens/core/detect/matrix.h"

namespace stacklens::core::detect {

/// Built once (O(n log n)), then queried; keeps its own copy of the points in tree order.
/// Splits at the median of the widest dimension of each node's bounding box; leaves hold at most
/// `leafSize` points. Queries are exact. Thread-safe for concurrent queries.
class KdTree {
 public:
  KdTree() = default;
  explicit KdTree(const Matrix& points, int leafSize = 64);

  std::size_t size() const { return index_.size(); }
  std::size_t dimensions() const { return dims_; }

  /// Original row indices of every point with ‖p − q‖ ≤ radius (the query point itself included
  /// when it is a tree point), in no particular order. Appends to `out` after clearing it.
  void radiusNeighbors(std::span<const double> query, double radius, std::vector<std::int32_t>& out) const;
  /// Number of points with ‖p − q‖ ≤ radius; counts whole boxes that lie inside the ball.
  /// With `atLeast` > 0 the search stops as soon as that many are found (returns ≥ atLeast then).
  std::size_t radiusCount(std::span<const double> query, double radius, std::size_t atLeast = 0) const;

  /// For every tree point (by original row): 1 when at least `atLeast` tree points, itself
  /// included, lie within radius (DBSCAN's core test). Leaf-mates are counted pairwise first;
  /// only points that fall short among them search the tree (stopping at atLeast).
  std::vector<std::uint8_t> denseRows(double radius, std::size_t atLeast, int threads = 1) const;

  /// A shrinking subset of the tree's points, for searches that only want points not yet taken
  /// (DBSCAN's cluster growth). Subtrees with no active point are skipped, so the searches get
  /// cheaper as points are taken, and leaves scan only their active points. Removing a point
  /// costs O(depth).
  class ActiveSet {
   public:
    /// Every tree point.
    explicit ActiveSet(const KdTree& tree);
    /// The rows whose flag is nonzero (`rows` has one flag per original row). O(n).
    ActiveSet(const KdTree& tree, std::span<const std::uint8_t> rows);
    bool active(std::int32_t row) const {
      return active_[static_cast<std::size_t>(tree_->position_[static_cast<std::size_t>(row)])];
    }
    void remove(std::int32_t row);

   private:
    friend class KdTree;
    const KdTree* tree_;
    std::vector<std::int32_t> count_;    // active points per node
    std::vector<std::uint8_t> active_;   // per tree position
    std::vector<std::int32_t> members_;  // per leaf stretch: its active positions first
    std::vector<std::int32_t> slot_;     // per tree position: its index in members_
  };
  /// Active points within radius (as radiusNeighbors, restricted to `active`).
  void radiusNeighbors(std::span<const double> query, double radius, const ActiveSet& active,
                       std::vector<std::int32_t>& out) const;
  /// Some active point within radius (the first the near-first walk meets): its original row,
  /// or −1 when there is none. Stops at the first one found.
  std::int32_t firstWithin(std::span<const double> query, double radius, const ActiveSet& among) const;
  /// Distance to the k-th nearest point (k ≥ 1; the query itself counts when it is a tree point).
  /// k is clipped to size().
  double kthDistance(std::span<const double> query, int k) const;
  /// For every tree point (by original row), the squared distance to its k-th nearest tree point,
  /// itself counting as the first (k clipped to size()). Each search starts from the point's
  /// leaf-mates, so its bound is tight before the traversal.
  std::vector<double> allKthDistances2(int k, int threads = 1) const;
  /// The same for a spatially stratified, deterministic sample of `sampleSize` tree points: the
  /// middle point of each of `sampleSize` equal stretches of the tree order (which sorts points
  /// by region), in that order. Every point (in original row order) when sampleSize is 0 or
  /// ≥ size(). Costs sampleSize / size() of allKthDistances2().
  std::vector<double> sampleKthDistances2(std::size_t sampleSize, int k, int threads = 1) const;
  /// The largest k-th nearest squared distance over the tree points (the most isolated point's),
  /// exact. Each point's k-th distance among its leaf-mates bounds its own from above; points
  /// are searched in decreasing order of that bound until it falls below the best found, so
  /// only a few isolated points are searched. `known`: the squared k-th distance of some tree
  /// point, if one is at hand (a lower bound of the result); leaves whose box diagonal is
  /// within it are then skipped whole.
  double maxKthDistance2(int k, double known = 0) const;
  /// Nearest point: its original row index and distance (−1 and +inf when the tree is empty).
  std::pair<std::int32_t, double> nearest(std::span<const double> query) const;

 private:
  struct Node {
    std::int32_t begin, end;  // point range in tree order
    std::int32_t left = -1;   // -1 for a leaf
    std::int32_t right = -1;
    std::int32_t dim = 0;  // split dimension
    double leftHigh = 0;   // largest value of the left child along dim
    double rightLow = 0;   // smallest value of the right child along dim
  };
  struct KnnSearch;
  template <std::size_t kDims>
  struct BallSearch;
  /// Calls fn(std::integral_constant<std::size_t, D>) with D = dimensions() for the common
  /// widths (2, 3, 4, 8), else D = 0 (read at run time).
  template <typename Fn>
  decltype(auto) withDims(Fn fn) const;
  std::int32_t build(std::int32_t begin, std::int32_t end, int leafSize);
  double boxMinDistance2(std::int32_t node, const double* q) const;
  /// Improves `best` (the k smallest squared distances so far, sorted) with the tree's points.
  void kNearestFrom(const double* q, std::size_t k, std::int32_t skipLeaf, std::vector<double>& best,
                    std::vector<double>& offsets) const;
  double boxMaxDistance2(std::int32_t node, const double* q) const;
  /// Squared distance from the tree point at `position` to its k-th nearest tree point.
  double kthDistance2At(std::int32_t position, std::size_t k, std::vector<double>& best,
                        std::vector<double>& offsets) const;
  void radiusSearch(const double* q, double radius, const ActiveSet* active, std::vector<std::int32_t>& out) const;
  static constexpr std::size_t kScanBlock = 128;
  /// body(position, squared distance to q) for the leaf's points in order, until it returns true.
  template <typename Body>
  void scanLeaf(const Node& leaf, const double* q, Body body) const;
  /// The k smallest squared distances from the point at `position` to its leaf-mates (itself
  /// included), sorted, into best.
  void leafMates(std::int32_t position, std::size_t k, std::vector<double>& best) const;
  const double* point(std::int32_t i) const { return points_.data() + static_cast<std::size_t>(i) * dims_; }

  std::size_t dims_ = 0;
  std::vector<double> points_;          // tree order, row-major
  std::vector<double> columns_;         // the same per leaf, column-major (leaf size apart)
  std::vector<std::int32_t> index_;     // tree order → original row
  std::vector<std::int32_t> position_;  // original row → tree order
  std::vector<std::int32_t> parent_;    // per node, −1 for the root
  std::vector<std::int32_t> leafOf_;    // per tree position: its leaf
  std::vector<Node> nodes_;
  std::vector<double> boxLow_, boxHigh_;  // per node, dims_ values each
};

}  // namespace stacklens::core::detect
