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
  explicit KdTree(const Matrix& points, int leafSize = 16);

  std::size_t size() const { return index_.size(); }
  std::size_t dimensions() const { return dims_; }

  /// Original row indices of every point with ‖p − q‖ ≤ radius (the query point itself included
  /// when it is a tree point), in no particular order. Appends to `out` after clearing it.
  void radiusNeighbors(std::span<const double> query, double radius, std::vector<std::int32_t>& out) const;
  /// Number of points with ‖p − q‖ ≤ radius; counts whole boxes that lie inside the ball.
  std::size_t radiusCount(std::span<const double> query, double radius) const;
  /// Distance to the k-th nearest point (k ≥ 1; the query itself counts when it is a tree point).
  /// k is clipped to size().
  double kthDistance(std::span<const double> query, int k) const;
  /// Nearest point: its original row index and distance (−1 and +inf when the tree is empty).
  std::pair<std::int32_t, double> nearest(std::span<const double> query) const;

 private:
  struct Node {
    std::int32_t begin, end;  // point range in tree order
    std::int32_t left = -1;   // -1 for a leaf
    std::int32_t right = -1;
  };
  std::int32_t build(std::int32_t begin, std::int32_t end, int leafSize);
  double boxMinDistance2(std::int32_t node, const double* q) const;
  double boxMaxDistance2(std::int32_t node, const double* q) const;
  const double* point(std::int32_t i) const { return points_.data() + static_cast<std::size_t>(i) * dims_; }

  std::size_t dims_ = 0;
  std::vector<double> points_;       // tree order, row-major
  std::vector<std::int32_t> index_;  // tree order → original row
  std::vector<Node> nodes_;
  std::vector<double> boxLow_, boxHigh_;  // per node, dims_ values each
};

}  // namespace stacklens::core::detect
