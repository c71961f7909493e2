#include "stacklens/core/detect/kd_tree.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>

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

// Radius queries: a depth-first walk over the boxes that meet the ball, near child first, with
// the dimension fixed at compile time for the common widths so the loops unroll and vectorise.
template <std::size_t kDims>
struct KdTree::BallSearch {
  const KdTree& tree;
  const double* q;
  double r2;
  const ActiveSet* active;

  std::size_t dims() const { return kDims ? kDims : tree.dims_; }

  // 0: the box lies outside the ball; 2: inside it; 1: across its surface. One pass for both.
  int relation(std::int32_t id) const {
    const double* lo = tree.boxLow_.data() + static_cast<std::size_t>(id) * dims();
    const double* hi = tree.boxHigh_.data() + static_cast<std::size_t>(id) * dims();
    double nearSum = 0, farSum = 0;
    for (std::size_t d = 0; d < dims(); ++d) {
      const double below = lo[d] - q[d], above = q[d] - hi[d];
      const double gap = std::max(std::max(below, above), 0.0);
      const double far = std::max(-below, -above);
      nearSum += gap * gap;
      farSum += far * far;
    }
    return nearSum > r2 ? 0 : farSum <= r2 ? 2 : 1;
  }

  bool within(std::int32_t i) const {
    const double* p = tree.point(i);
    double d2 = 0;
    for (std::size_t d = 0; d < dims(); ++d) d2 += (p[d] - q[d]) * (p[d] - q[d]);
    return d2 <= r2;
  }

  // whole(node) for boxes inside the ball, each(position) for the points within the ball in the
  // leaves across its surface; either returns true to stop the walk.
  template <typename Whole, typename Each>
  void walk(Whole whole, Each each) const {
    std::int32_t stack[128];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const std::int32_t id = stack[--top];
      if (active && active->count_[static_cast<std::size_t>(id)] == 0) continue;
      const int rel = relation(id);
      if (rel == 0) continue;
      const Node& node = tree.nodes_[static_cast<std::size_t>(id)];
      if (rel == 2) {
        if (whole(node)) return;
      } else if (node.left < 0) {
        for (std::int32_t i = node.begin; i < node.end; ++i)
          if ((!active || active->active_[static_cast<std::size_t>(i)]) && within(i) && each(i)) return;
      } else {
        const bool leftFirst = q[node.dim] - node.leftHigh <= node.rightLow - q[node.dim];
        stack[top++] = leftFirst ? node.right : node.left;
        stack[top++] = leftFirst ? node.left : node.right;
      }
    }
  }
};

template <typename Fn>
decltype(auto) KdTree::withDims(Fn fn) const {
  switch (dims_) {
    case 2:
      return fn(std::integral_constant<std::size_t, 2>{});
    case 3:
      return fn(std::integral_constant<std::size_t, 3>{});
    case 4:
      return fn(std::integral_constant<std::size_t, 4>{});
    case 8:
      return fn(std::integral_constant<std::size_t, 8>{});
    default:
      return fn(std::integral_constant<std::size_t, 0>{});
  }
}

void KdTree::radiusNeighbors(std::span<const double> query, double radius, std::vector<std::int32_t>& out) const {
  radiusSearch(query.data(), radius, nullptr, out);
}

std::size_t KdTree::radiusCount(std::span<const double> query, double radius, std::size_t atLeast) const {
  if (nodes_.empty()) return 0;
  std::size_t count = 0;
  const std::size_t stop = atLeast > 0 ? atLeast : std::numeric_limits<std::size_t>::max();
  withDims([&](auto dims) {
    const BallSearch<decltype(dims)::value> search{*this, query.data(), radius * radius, nullptr};
    search.walk([&](const Node& node) { return (count += static_cast<std::size_t>(node.end - node.begin)) >= stop; },
                [&](std::int32_t) { return ++count >= stop; });
  });
  return count;
}

std::vector<std::uint8_t> KdTree::denseRows(double radius, std::size_t atLeast, int threads) const {
  std::vector<std::uint8_t> out(index_.size(), 0);
  if (nodes_.empty()) return out;
  const double r2 = radius * radius;
  std::vector<std::int32_t> leaves;
  for (std::size_t id = 0; id < nodes_.size(); ++id)
    if (nodes_[id].left < 0) leaves.push_back(static_cast<std::int32_t>(id));
  internal::parallelChunks(leaves.size(), threads, 8, [&](std::size_t begin, std::size_t end) {
    std::vector<std::size_t> count;
    for (std::size_t l = begin; l < end; ++l) {
      const Node& leaf = nodes_[static_cast<std::size_t>(leaves[l])];
      count.assign(static_cast<std::size_t>(leaf.end - leaf.begin), 1);  // itself
      for (std::int32_t i = leaf.begin; i < leaf.end; ++i)
        for (std::int32_t j = i + 1; j < leaf.end; ++j)
          if (distance2(point(i), point(j), dims_) <= r2)
            ++count[static_cast<std::size_t>(i - leaf.begin)], ++count[static_cast<std::size_t>(j - leaf.begin)];
      for (std::int32_t i = leaf.begin; i < leaf.end; ++i) {
        const std::size_t c = count[static_cast<std::size_t>(i - leaf.begin)];
        out[static_cast<std::size_t>(index_[static_cast<std::size_t>(i)])] =
            c >= atLeast || radiusCount(std::span<const double>(point(i), dims_), radius, atLeast) >= atLeast;
      }
    }
  });
  return out;
}

KdTree::ActiveSet::ActiveSet(const KdTree& tree)
    : tree_(&tree), count_(tree.nodes_.size()), active_(tree.index_.size(), 1) {
  for (std::size_t id = 0; id < tree.nodes_.size(); ++id) count_[id] = tree.nodes_[id].end - tree.nodes_[id].begin;
}

KdTree::ActiveSet::ActiveSet(const KdTree& tree, std::span<const std::uint8_t> rows)
    : tree_(&tree), count_(tree.nodes_.size()), active_(tree.index_.size()) {
  for (std::size_t i = 0; i < active_.size(); ++i)
    active_[i] = rows[static_cast<std::size_t>(tree.index_[i])] != 0 ? 1 : 0;
  // Children always have larger ids than their parent (built depth-first), so one backward pass.
  for (std::size_t id = tree.nodes_.size(); id-- > 0;) {
    const Node& node = tree.nodes_[id];
    if (node.left >= 0) {
      count_[id] = count_[static_cast<std::size_t>(node.left)] + count_[static_cast<std::size_t>(node.right)];
    } else {
      count_[id] = static_cast<std::int32_t>(std::count(active_.begin() + node.begin, active_.begin() + node.end, 1));
    }
  }
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
  auto take = [&](std::int32_t i) {
    if (!active || active->active_[static_cast<std::size_t>(i)]) out.push_back(index_[static_cast<std::size_t>(i)]);
  };
  withDims([&](auto dims) {
    const BallSearch<decltype(dims)::value> search{*this, q, radius * radius, active};
    search.walk(
        [&](const Node& node) {
          for (std::int32_t i = node.begin; i < node.end; ++i) take(i);
          return false;
        },
        [&](std::int32_t i) {
          out.push_back(index_[static_cast<std::size_t>(i)]);
          return false;
        });
  });
}

std::int32_t KdTree::firstWithin(std::span<const double> query, double radius, const ActiveSet& among) const {
  std::int32_t found = -1;
  if (nodes_.empty()) return found;
  withDims([&](auto dims) {
    const BallSearch<decltype(dims)::value> search{*this, query.data(), radius * radius, &among};
    search.walk(
        [&](const Node& node) {  // holds an active point: the walk skips empty boxes
          std::int32_t i = node.begin;
          while (!among.active_[static_cast<std::size_t>(i)]) ++i;
          found = index_[static_cast<std::size_t>(i)];
          return true;
        },
        [&](std::int32_t i) {
          found = index_[static_cast<std::size_t>(i)];
          return true;
        });
  });
  return found;
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
      // Fixed widths unroll and vectorise.
      return tree.withDims([&](auto dims) { scan<decltype(dims)::value>(node); });
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

double KdTree::kthDistance2At(std::int32_t position, std::size_t k, std::vector<double>& best,
                              std::vector<double>& offsets) const {
  const std::int32_t leaf = leafOf_[static_cast<std::size_t>(position)];
  const Node& node = nodes_[static_cast<std::size_t>(leaf)];
  const double* q = point(position);
  best.clear();
  for (std::int32_t j = node.begin; j < node.end; ++j) keepSmallest(best, k, distance2(point(j), q, dims_));
  kNearestFrom(q, k, leaf, best, offsets);
  return best.back();
}

std::vector<double> KdTree::allKthDistances2(int k, int threads) const {
  std::vector<double> out(index_.size(), std::numeric_limits<double>::infinity());
  if (nodes_.empty() || k < 1) return out;
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), index_.size());
  // Tree order keeps leaf-mates together, so a worker's searches touch the same region.
  internal::parallelChunks(index_.size(), threads, 256, [&](std::size_t begin, std::size_t end) {
    std::vector<double> best, offsets;
    best.reserve(kk + 1);
    for (std::size_t i = begin; i < end; ++i)
      out[static_cast<std::size_t>(index_[i])] = kthDistance2At(static_cast<std::int32_t>(i), kk, best, offsets);
  });
  return out;
}

std::vector<double> KdTree::sampleKthDistances2(std::size_t sampleSize, int k, int threads) const {
  const std::size_t n = index_.size();
  if (sampleSize == 0 || sampleSize >= n) return allKthDistances2(k, threads);
  std::vector<double> out(sampleSize, std::numeric_limits<double>::infinity());
  if (k < 1) return out;
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), n);
  internal::parallelChunks(sampleSize, threads, 64, [&](std::size_t begin, std::size_t end) {
    std::vector<double> best, offsets;
    best.reserve(kk + 1);
    for (std::size_t j = begin; j < end; ++j) {
      // The middle of the j-th of sampleSize equal stretches of the tree order.
      const auto position = static_cast<std::int32_t>((2 * j + 1) * n / (2 * sampleSize));
      out[j] = kthDistance2At(position, kk, best, offsets);
    }
  });
  return out;
}

double KdTree::maxKthDistance2(int k, double known) const {
  if (nodes_.empty() || k < 1) return std::numeric_limits<double>::infinity();
  const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), index_.size());
  std::vector<std::pair<double, std::int32_t>> bounds;  // (upper bound, tree position)
  bounds.reserve(index_.size());
  std::vector<double> best, offsets;
  best.reserve(kk + 1);
  for (std::size_t id = 0; id < nodes_.size(); ++id) {
    const Node& leaf = nodes_[id];
    if (leaf.left >= 0) continue;
    // Every leaf-mate lies within the diagonal: no point here beats `known`.
    if (leaf.end - leaf.begin >= static_cast<std::int32_t>(kk) &&
        boxMaxDistance2(static_cast<std::int32_t>(id), boxLow_.data() + id * dims_) <= known)
      continue;
    for (std::int32_t i = leaf.begin; i < leaf.end; ++i) {
      best.clear();
      for (std::int32_t j = leaf.begin; j < leaf.end; ++j) keepSmallest(best, kk, distance2(point(j), point(i), dims_));
      bounds.emplace_back(best.size() < kk ? std::numeric_limits<double>::infinity() : best.back(), i);
    }
  }
  std::sort(bounds.begin(), bounds.end(), std::greater<>());
  double largest = known;
  for (const auto& [bound, position] : bounds) {
    if (bound <= largest) break;
    largest = std::max(largest, kthDistance2At(position, kk, best, offsets));
  }
  return largest;
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
