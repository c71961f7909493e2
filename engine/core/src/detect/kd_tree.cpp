#include "stacklens/core/detect/kd_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <queue>

namespace stacklens::core::detect {

KdTree::KdTree(const Matrix& points, int leafSize) : dims_(static_cast<std::size_t>(points.cols())) {
  const auto n = static_cast<std::int32_t>(points.rows());
  index_.resize(static_cast<std::size_t>(n));
  std::iota(index_.begin(), index_.end(), 0);
  points_.assign(points.data(), points.data() + points.size());
  if (n == 0) return;
  nodes_.reserve(static_cast<std::size_t>(2 * n / std::max(1, leafSize) + 2));
  build(0, n, std::max(1, leafSize));
  // Reorder the points so that every leaf is contiguous in memory.
  std::vector<double> ordered(points_.size());
  for (std::size_t i = 0; i < index_.size(); ++i)
    std::copy_n(points_.data() + static_cast<std::size_t>(index_[i]) * dims_, dims_, ordered.data() + i * dims_);
  points_.swap(ordered);
}

std::int32_t KdTree::build(std::int32_t begin, std::int32_t end, int leafSize) {
  const auto id = static_cast<std::int32_t>(nodes_.size());
  nodes_.push_back({begin, end, -1, -1});
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
  nodes_[static_cast<std::size_t>(id)].left = left;
  nodes_[static_cast<std::size_t>(id)].right = right;
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

}  // namespace

void KdTree::radiusNeighbors(std::span<const double> query, double radius, std::vector<std::int32_t>& out) const {
  out.clear();
  if (nodes_.empty()) return;
  const double r2 = radius * radius;
  const double* q = query.data();
  std::int32_t stack[128];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const std::int32_t id = stack[--top];
    if (boxMinDistance2(id, q) > r2) continue;
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i)
        if (distance2(point(i), q, dims_) <= r2) out.push_back(index_[static_cast<std::size_t>(i)]);
      continue;
    }
    stack[top++] = node.right;
    stack[top++] = node.left;
  }
}

std::size_t KdTree::radiusCount(std::span<const double> query, double radius) const {
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
      continue;
    }
    if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i) count += distance2(point(i), q, dims_) <= r2;
      continue;
    }
    stack[top++] = node.right;
    stack[top++] = node.left;
  }
  return count;
}

double KdTree::kthDistance(std::span<const double> query, int k) const {
  if (nodes_.empty() || k < 1) return std::numeric_limits<double>::infinity();
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), index_.size());
  const double* q = query.data();
  std::priority_queue<double> best;  // max-heap of the kk smallest squared distances so far
  auto bound = [&] { return best.size() < kk ? std::numeric_limits<double>::infinity() : best.top(); };
  struct Item {
    std::int32_t node;
    double d2;
  };
  Item stack[128];
  int top = 0;
  stack[top++] = {0, boxMinDistance2(0, q)};
  while (top > 0) {
    const Item item = stack[--top];
    if (item.d2 > bound()) continue;
    const Node& node = nodes_[static_cast<std::size_t>(item.node)];
    if (node.left < 0) {
      for (std::int32_t i = node.begin; i < node.end; ++i) {
        const double d2 = distance2(point(i), q, dims_);
        if (best.size() < kk)
          best.push(d2);
        else if (d2 < best.top())
          best.pop(), best.push(d2);
      }
      continue;
    }
    const std::int32_t a = node.left, b = node.right;
    const double da = boxMinDistance2(a, q), db = boxMinDistance2(b, q);
    // Push the farther child first so the nearer one is explored first.
    if (da <= db)
      stack[top++] = {b, db}, stack[top++] = {a, da};
    else
      stack[top++] = {a, da}, stack[top++] = {b, db};
  }
  return std::sqrt(best.top());
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
