#include "stacklens/core/detect/kd_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "detect/parallel.h"

namespace stacklens::core::detect {

KdTree::KdTree(const Matrix& points, int leafSize) : dims_(static_cast<std::size_t>(points.cols())) {
  const auto n = static_cast<std::int32_t>(points.rows());
  index_.resize(static_cast<std::size_t>(n));
  std::iota(index_.begin(), index_.end(), 0);
  points_.assign(points.data(), points.data() + points.size());
  if (n == 0) return;
  nodes_.reserve(static_cast<std::size_t>(2 * n / std::max(1, leafSize) + 2));
  build(0, n, std::max(1, leafSize));
  position_.resize(index_.size());
  for (std::size_t i = 0; i < index_.size(); ++i)
    position_[static_cast<std::size_t>(index_[i])] = static_cast<std::int32_t>(i);
  parent_.assign(nodes_.size(), -1);
  leafOf_.assign(index_.size(), 0);
  for (std::size_t id = 0; id < nodes_.size(); ++id) {
    const Node& node = nodes_[id];
    if (node.left >= 0) {
      parent_[static_cast<std::size_t>(node.left)] = parent_[static_cast<std::size_t>(node.right)] =
          static_cast<std::int32_t>(id);
    } else {
      for (std::int32_t i = node.begin; i < node.end; ++i)
        leafOf_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(id);
    }
  }
  // Reorder the points so that every leaf is contiguous in memory.
  std::vector<double> ordered(points_.size());
  for (std::size_t i = 0; i < index_.size(); ++i)
    std::copy_n(points_.data() + static_cast<std::size_t>(index_[i]) * dims_, dims_, ordered.data() + i * dims_);
  points_.swap(ordered);
}

std::int32_t KdTree::build(std::int32_t begin, std::int32_t end, int leafSize) {
  const auto id = static_cast<std::int32_t>(nodes_.size());
  nodes_.push_back({begin, end, -1, -1, 0, 0.0, 0.0});
  boxLow_.resize(boxLow_.size() + dims_, std::numeric_limits<double>::infinity());
  boxHigh_.resize(boxHigh_.size() + dims_, -std::numeric_limits<double>::infinity());
  double* lo = boxLow_.data() + static_cast<std::size_t>(id) * dims_;
  double* hi = boxHigh_.data() + static_cast<std::size_t>(id) * dims_;
  // During the build points_ is still in original order; index_ holds the permutation.
  for (std::int32_t i = begin; i < end; ++i) {
    const double* p = points_.data() + static_cast<std::size_t>(index_[i]) * dims_;
    for (std::size_t d = 0; d < dims_; ++d) lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
  }
  if (end - begin <= leafSize) return id;
  std::size_t dim = 0;
  for (std::size_t d = 1; d < dims_; ++d)
    if (hi[d] - lo[d] > hi[dim] - lo[dim]) dim = d;
  if (!(hi[dim] > lo[dim])) return id;  // all points identical: keep as one leaf
  const std::int32_t mid = begin + (end - begin) / 2;
  std::nth_element(
      index_.begin() + begin, index_.begin() + mid, index_.begin() + end, [&](std::int32_t a, std::int32_t b) {
        return points_[static_cast<std::size_t>(a) * dims_ + dim] < points_[static_cast<std::size_t>(b) * dims_ + dim];
      });
  const std::int32_t left = build(begin, mid, leafSize);
  const std::int32_t right = build(mid, end, leafSize);
  Node& node = nodes_[static_cast<std::size_t>(id)];
  node.left = left;
  node.right = right;
  node.dim = static_cast<std::int32_t>(dim);
  node.leftHigh = boxHigh_[static_cast<std::size_t>(left) * dims_ + dim];
  node.rightLow = boxLow_[static_cast<std::size_t>(right) * dims_ + dim];
  return id;
}

double KdTree::boxMinDistance2(std::int32_t node, const double* q) const {
  const double* lo = boxLow_.data() + static_cast<std::size_t>(node) * dims_;
  const double* hi = boxHigh_.data() + static_cast<std::size_t>(node) * dims_;
  double s = 0;
  for (std::size_t d = 0; d < dims_; ++d) {
    const double gap = std::max({lo[d] - q[d], q[d] - hi[d], 0.0});
    s += gap * gap;
  }
  return s;
}

double KdTree::boxMaxDistance2(std::int32_t node, const double* q) const {
  const double* lo = boxLow_.data() + static_cast<std::size_t>(node) * dims_;
  const double* hi = boxHigh_.data() + static_cast<std::size_t>(node) * dims_;
  double s = 0;
  for (std::size_t d = 0; d < dims_; ++d) {
    const double far = std::max(q[d] - lo[d], hi[d] - q[d]);
    s += far * far;
  }
  return s;
}

namespace {

inline double distance2(const double* a, const double* b, std::size_t dims) {
  double s = 0;
  for (std::size_t d = 0; d < dims; ++d) {
    const double diff = a[d] - b[d];
    s += diff * diff;
  }
  return s;
}

// Squared distance, abandoned (returning a value > bound) as soon as it exceeds `bound`.
inline double distance2Bounded(const double* a, const double* b, std::size_t dims, double bound) {
  double s = 0;
  for (std::size_t d = 0; d < dims; ++d) {
    const double diff = a[d] - b[d];
    s += diff * diff;
    if (s > bound) return s;
  }
  return s;
}

inline void keepSmallest(std::vector<double>& best, std::size_t k, double d2) {
  if (best.size() == k && d2 >= best.back()) return;
  best.insert(std::upper_bound(best.begin(), best.end(), d2), d2);
  if (best.size() > k) best.pop_back();
}

}  // namespace

void KdTree::radiusNeighbors(std::span<const double> query, double radius, std::vector<std::int32_t>& out) const {
  radiusSearch(query.data(), radius, nullptr, out);
}

std::size_t KdTree::radiusCount(std::span<const double> query, double radius, std::size_t atLeast) const {
  if (nodes_.empty()) return 0;
  const double r2 = radius * radius;
  const double* q = query.data();
  std::size_t count = 0;
  std::int32_t stack[128];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const std::int32_t id = stack[--top];
    if (boxMinDistance2(id, q) > r2) continue;
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (boxMaxDistance2(id, q) <= r2) {
      count += static_cast<std::size_t>(node.end - node.begin);
    } else if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i) count += distance2(point(i), q, dims_) <= r2;
    } else {
      stack[top++] = node.right;
      stack[top++] = node.left;
      continue;
    }
    if (atLeast > 0 && count >= atLeast) return count;
  }
  return count;
}

KdTree::ActiveSet::ActiveSet(const KdTree& tree)
    : tree_(&tree), count_(tree.nodes_.size()), active_(tree.index_.size(), 1) {
  for (std::size_t id = 0; id < tree.nodes_.size(); ++id) count_[id] = tree.nodes_[id].end - tree.nodes_[id].begin;
}

void KdTree::ActiveSet::remove(std::int32_t row) {
  const auto pos = static_cast<std::size_t>(tree_->position_[static_cast<std::size_t>(row)]);
  if (!active_[pos]) return;
  active_[pos] = 0;
  for (std::int32_t id = tree_->leafOf_[pos]; id >= 0; id = tree_->parent_[static_cast<std::size_t>(id)])
    --count_[static_cast<std::size_t>(id)];
}

void KdTree::radiusNeighbors(std::span<const double> query, double radius, const ActiveSet& active,
                             std::vector<std::int32_t>& out) const {
  radiusSearch(query.data(), radius, &active, out);
}

void KdTree::radiusSearch(const double* q, double radius, const ActiveSet* active,
                          std::vector<std::int32_t>& out) const {
  out.clear();
  if (nodes_.empty()) return;
  const double r2 = radius * radius;
  auto take = [&](std::int32_t i) { return !active || active->active_[static_cast<std::size_t>(i)]; };
  std::int32_t stack[128];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const std::int32_t id = stack[--top];
    if ((active && active->count_[static_cast<std::size_t>(id)] == 0) || boxMinDistance2(id, q) > r2) continue;
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (boxMaxDistance2(id, q) <= r2) {  // the whole box is inside the ball
      for (std::int32_t i = node.begin; i < node.end; ++i)
        if (take(i)) out.push_back(index_[static_cast<std::size_t>(i)]);
      continue;
    }
    if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i)
        if (take(i) && distance2(point(i), q, dims_) <= r2) out.push_back(index_[static_cast<std::size_t>(i)]);
      continue;
    }
    stack[top++] = node.right;
    stack[top++] = node.left;
  }
}

// Depth-first k-nearest search with incremental distance bounds (Arya & Mount 1993): the squared
// distance from the query to a node's region is updated in O(1) per step from the per-dimension
// offsets along the path, instead of O(d) from the node's box.
struct KdTree::KnnSearch {
  const KdTree& tree;
  const double* q;
  std::size_t k;
  std::int32_t skipLeaf;
  std::vector<double>& best;
  double* offsets;

  double bound() const { return best.size() < k ? std::numeric_limits<double>::infinity() : best.back(); }

  template <std::size_t kDims>
  void scan(const Node& node) {
    const std::size_t dims = kDims ? kDims : tree.dims_;
    double limit = bound();
    for (std::int32_t i = node.begin; i < node.end; ++i) {
      const double* p = tree.point(i);
      double d2 = 0;
      for (std::size_t d = 0; d < dims; ++d) d2 += (p[d] - q[d]) * (p[d] - q[d]);
      if (d2 < limit) keepSmallest(best, k, d2), limit = bound();
    }
  }

  void visit(std::int32_t id, double rd) {
    const Node& node = tree.nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      // The leaf's own box is tighter than the split planes: one O(d) check saves a scan.
      if (id == skipLeaf || tree.boxMinDistance2(id, q) >= bound()) return;
      switch (tree.dims_) {  // fixed widths unroll and vectorise
        case 2:
          return scan<2>(node);
        case 3:
          return scan<3>(node);
        case 4:
          return scan<4>(node);
        case 8:
          return scan<8>(node);
        default:
          return scan<0>(node);
      }
    }
    const auto dim = static_cast<std::size_t>(node.dim);
    const double toRight = node.rightLow - q[dim];  // > 0: the right child lies beyond the query
    const double toLeft = q[dim] - node.leftHigh;   // > 0: the left child lies below the query
    const bool leftFirst = toLeft <= toRight;
    const std::int32_t nearChild = leftFirst ? node.left : node.right;
    const std::int32_t farChild = leftFirst ? node.right : node.left;
    const double nearGap = std::max(0.0, leftFirst ? toLeft : toRight);
    const double farGap = std::max(0.0, leftFirst ? toRight : toLeft);
    const double old = offsets[dim];
    const double nearRd = rd - old * old + std::max(old, nearGap) * std::max(old, nearGap);
    if (nearRd < bound()) {
      offsets[dim] = std::max(old, nearGap);
      visit(nearChild, nearRd);
      offsets[dim] = old;
    }
    const double farRd = rd - old * old + std::max(old, farGap) * std::max(old, farGap);
    if (farRd < bound()) {
      offsets[dim] = std::max(old, farGap);
      visit(farChild, farRd);
      offsets[dim] = old;
    }
  }
};

void KdTree::kNearestFrom(const double* q, std::size_t k, std::int32_t skipLeaf, std::vector<double>& best,
                          std::vector<double>& offsets) const {
  offsets.assign(dims_, 0.0);
  const double rd = boxMinDistance2(0, q);
  // Seed the offsets with the root box so the bounds stay exact lower bounds.
  const double* lo = boxLow_.data();
  const double* hi = boxHigh_.data();
  for (std::size_t d = 0; d < dims_; ++d) offsets[d] = std::max({lo[d] - q[d], q[d] - hi[d], 0.0});
  KnnSearch search{*this, q, k, skipLeaf, best, offsets.data()};
  if (rd < search.bound()) search.visit(0, rd);
}

double KdTree::kthDistance(std::span<const double> query, int k) const {
  if (nodes_.empty() || k < 1) return std::numeric_limits<double>::infinity();
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), index_.size());
  std::vector<double> best, offsets;
  best.reserve(kk + 1);
  kNearestFrom(query.data(), kk, -1, best, offsets);
  return std::sqrt(best.back());
}

std::vector<double> KdTree::allKthDistances2(int k, int threads) const {
  std::vector<double> out(index_.size(), std::numeric_limits<double>::infinity());
  if (nodes_.empty() || k < 1) return out;
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), index_.size());
  std::vector<std::int32_t> leaves;
  for (std::size_t id = 0; id < nodes_.size(); ++id)
    if (nodes_[id].left < 0) leaves.push_back(static_cast<std::int32_t>(id));
  internal::parallelChunks(leaves.size(), threads, 16, [&](std::size_t begin, std::size_t end) {
    std::vector<double> best, offsets;
    best.reserve(kk + 1);
    for (std::size_t l = begin; l < end; ++l) {
      const Node& leaf = nodes_[static_cast<std::size_t>(leaves[l])];
      for (std::int32_t i = leaf.begin; i < leaf.end; ++i) {
        best.clear();
        const double* q = point(i);
        for (std::int32_t j = leaf.begin; j < leaf.end; ++j) keepSmallest(best, kk, distance2(point(j), q, dims_));
        kNearestFrom(q, kk, leaves[l], best, offsets);
        out[static_cast<std::size_t>(index_[static_cast<std::size_t>(i)])] = best.back();
      }
    }
  });
  return out;
}

std::pair<std::int32_t, double> KdTree::nearest(std::span<const double> query) const {
  if (nodes_.empty()) return {-1, std::numeric_limits<double>::infinity()};
  const double* q = query.data();
  double best = std::numeric_limits<double>::infinity();
  std::int32_t bestIndex = -1;
  struct Item {
    std::int32_t node;
    double d2;
  };
  Item stack[128];
  int top = 0;
  stack[top++] = {0, boxMinDistance2(0, q)};
  while (top > 0) {
    const Item item = stack[--top];
    if (item.d2 > best) continue;
    const Node& node = nodes_[static_cast<std::size_t>(item.node)];
    if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i) {
        const double d2 = distance2(point(i), q, dims_);
        if (d2 < best) best = d2, bestIndex = index_[static_cast<std::size_t>(i)];
      }
      continue;
    }
    const std::int32_t a = node.left, b = node.right;
    const double da = boxMinDistance2(a, q), db = boxMinDistance2(b, q);
    if (da <= db)
      stack[top++] = {b, db}, stack[top++] = {a, da};
    else
      stack[top++] = {a, da}, stack[top++] = {b, db};
  }
  return {bestIndex, std::sqrt(best)};
}

}  // namespace stacklens::core::detect
