#include "stacklens/core/detect/kd_tree.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>

#include "detect/parallel.h"

namespace stacklens::core::detect {

namespace {

inline double distance2(const double* a, const double* b, std::size_t dims) {
  double s = 0;
  for (std::size_t d = 0; d < dims; ++d) {
    const double diff = a[d] - b[d];
    s += diff * diff;
  }
  return s;
}

inline void keepSmallest(std::vector<double>& best, std::size_t k, double d2) {
  if (best.size() == k && d2 >= best.back()) return;
  best.insert(std::upper_bound(best.begin(), best.end(), d2), d2);
  if (best.size() > k) best.pop_back();
}

// Squared distances from q to `count` points stored column by column (`stride` apart): the same
// sums in the same order as distance2(), so the same values, but vectorised across points.
// On x86-64 cloned for AVX2 (without FMA, which would round differently), chosen at load time.
#if defined(__x86_64__)
#define STACKLENS_SCAN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define STACKLENS_SCAN_CLONES
#endif
STACKLENS_SCAN_CLONES void columnDistances2(const double* __restrict columns, std::size_t stride, std::size_t count,
                                            std::size_t dims, const double* __restrict q, double* __restrict out) {
  for (std::size_t j = 0; j < count; ++j) out[j] = 0;
  for (std::size_t d = 0; d < dims; ++d) {
    const double* column = columns + d * stride;
    const double qd = q[d];
    for (std::size_t j = 0; j < count; ++j) {
      const double diff = column[j] - qd;
      out[j] += diff * diff;
    }
  }
}

}  // namespace

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
  // Each leaf again, column by column, for the vectorised scans.
  columns_.resize(points_.size());
  for (const Node& node : nodes_) {
    if (node.left >= 0) continue;
    const auto count = static_cast<std::size_t>(node.end - node.begin);
    double* block = columns_.data() + static_cast<std::size_t>(node.begin) * dims_;
    for (std::size_t j = 0; j < count; ++j)
      for (std::size_t d = 0; d < dims_; ++d)
        block[d * count + j] = point(node.begin + static_cast<std::int32_t>(j))[d];
  }
}

template <typename Body>
void KdTree::scanLeaf(const Node& leaf, const double* q, Body body) const {
  const auto count = static_cast<std::size_t>(leaf.end - leaf.begin);
  const double* block = columns_.data() + static_cast<std::size_t>(leaf.begin) * dims_;
  double d2[kScanBlock];
  for (std::size_t start = 0; start < count; start += kScanBlock) {
    const std::size_t size = std::min(kScanBlock, count - start);
    columnDistances2(block + start, count, size, dims_, q, d2);
    for (std::size_t j = 0; j < size; ++j)
      if (body(leaf.begin + static_cast<std::int32_t>(start + j), d2[j])) return;
  }
}

void KdTree::leafMates(std::int32_t position, std::size_t k, std::vector<double>& best) const {
  best.clear();
  scanLeaf(nodes_[static_cast<std::size_t>(leafOf_[static_cast<std::size_t>(position)])], point(position),
           [&](std::int32_t, double d2) {
             keepSmallest(best, k, d2);
             return false;
           });
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

// Radius queries: a depth-first walk over the boxes that meet the ball, near child first, with
// the dimension fixed at compile time for the common widths so the loops unroll and vectorise.
template <std::size_t kDims>
struct KdTree::BallSearch {
  const KdTree& tree;
  const double* q;
  double r2;
  const ActiveSet* active;

  std::size_t dims() const { return kDims ? kDims : tree.dims_; }

  // Squared distance from q to the node's box (0 inside it).
  double nearDistance2(std::int32_t id) const {
    const double* lo = tree.boxLow_.data() + static_cast<std::size_t>(id) * dims();
    const double* hi = tree.boxHigh_.data() + static_cast<std::size_t>(id) * dims();
    double sum = 0;
    for (std::size_t d = 0; d < dims(); ++d) {
      const double gap = std::max(std::max(lo[d] - q[d], q[d] - hi[d]), 0.0);
      sum += gap * gap;
    }
    return sum;
  }
  // Squared distance from q to the node's farthest corner.
  double farDistance2(std::int32_t id) const {
    const double* lo = tree.boxLow_.data() + static_cast<std::size_t>(id) * dims();
    const double* hi = tree.boxHigh_.data() + static_cast<std::size_t>(id) * dims();
    double sum = 0;
    for (std::size_t d = 0; d < dims(); ++d) {
      const double far = std::max(q[d] - lo[d], hi[d] - q[d]);
      sum += far * far;
    }
    return sum;
  }

  bool within(std::int32_t i) const {
    const double* p = tree.point(i);
    double d2 = 0;
    for (std::size_t d = 0; d < dims(); ++d) d2 += (p[d] - q[d]) * (p[d] - q[d]);
    return d2 <= r2;
  }

  // whole(node) for boxes inside the ball (without an active set), each(position) for the other
  // points within the ball; either returns true to stop the walk. With an active set, leaves
  // scan only their active members.
  template <typename Whole, typename Each>
  void walk(Whole whole, Each each) const {
    std::int32_t stack[128];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const std::int32_t id = stack[--top];
      if (active && active->count_[static_cast<std::size_t>(id)] == 0) continue;
      if (nearDistance2(id) > r2) continue;
      const Node& node = tree.nodes_[static_cast<std::size_t>(id)];
      // Whole boxes inside the ball are taken without distances; with an active set only
      // leaves are worth that test (an inner box would be walked down anyway).
      if (!active && farDistance2(id) <= r2) {
        if (whole(node)) return;
      } else if (node.left < 0 && active) {
        const std::int32_t* member = active->members_.data() + node.begin;
        const std::int32_t count = active->count_[static_cast<std::size_t>(id)];
        const bool inside = farDistance2(id) <= r2;
        for (std::int32_t m = 0; m < count; ++m)
          if ((inside || within(member[m])) && each(member[m])) return;
      } else if (node.left < 0) {
        bool stop = false;
        tree.scanLeaf(node, q, [&](std::int32_t i, double d2) { return stop = d2 <= r2 && each(i); });
        if (stop) return;
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
    for (std::size_t l = begin; l < end; ++l) {
      const Node& leaf = nodes_[static_cast<std::size_t>(leaves[l])];
      for (std::int32_t i = leaf.begin; i < leaf.end; ++i) {
        std::size_t count = 0;
        scanLeaf(leaf, point(i), [&](std::int32_t, double d2) { return (count += d2 <= r2) >= atLeast; });
        out[static_cast<std::size_t>(index_[static_cast<std::size_t>(i)])] =
            count >= atLeast || radiusCount(std::span<const double>(point(i), dims_), radius, atLeast) >= atLeast;
      }
    }
  });
  return out;
}

KdTree::ActiveSet::ActiveSet(const KdTree& tree) : ActiveSet(tree, std::vector<std::uint8_t>(tree.index_.size(), 1)) {}

KdTree::ActiveSet::ActiveSet(const KdTree& tree, std::span<const std::uint8_t> rows)
    : tree_(&tree),
      count_(tree.nodes_.size()),
      active_(tree.index_.size()),
      members_(tree.index_.size()),
      slot_(tree.index_.size()) {
  for (std::size_t i = 0; i < active_.size(); ++i)
    active_[i] = rows[static_cast<std::size_t>(tree.index_[i])] != 0 ? 1 : 0;
  // Children always have larger ids than their parent (built depth-first), so one backward pass.
  for (std::size_t id = tree.nodes_.size(); id-- > 0;) {
    const Node& node = tree.nodes_[id];
    if (node.left >= 0) {
      count_[id] = count_[static_cast<std::size_t>(node.left)] + count_[static_cast<std::size_t>(node.right)];
      continue;
    }
    // The leaf's active positions first, in its stretch of members_.
    std::int32_t next = node.begin;
    for (int pass = 1; pass >= 0; --pass)
      for (std::int32_t i = node.begin; i < node.end; ++i)
        if (active_[static_cast<std::size_t>(i)] == pass) {
          slot_[static_cast<std::size_t>(i)] = next;
          members_[static_cast<std::size_t>(next++)] = i;
        }
    count_[id] = static_cast<std::int32_t>(std::count(active_.begin() + node.begin, active_.begin() + node.end, 1));
  }
}

void KdTree::ActiveSet::remove(std::int32_t row) {
  const auto pos = static_cast<std::size_t>(tree_->position_[static_cast<std::size_t>(row)]);
  if (!active_[pos]) return;
  active_[pos] = 0;
  const std::int32_t leaf = tree_->leafOf_[pos];
  // Swap it with the leaf's last active member, so the active ones stay a prefix.
  const std::int32_t last =
      tree_->nodes_[static_cast<std::size_t>(leaf)].begin + count_[static_cast<std::size_t>(leaf)] - 1;
  const std::int32_t moved = members_[static_cast<std::size_t>(last)];
  const std::int32_t slot = slot_[pos];
  members_[static_cast<std::size_t>(slot)] = moved;
  slot_[static_cast<std::size_t>(moved)] = slot;
  members_[static_cast<std::size_t>(last)] = static_cast<std::int32_t>(pos);
  slot_[pos] = last;
  for (std::int32_t id = leaf; id >= 0; id = tree_->parent_[static_cast<std::size_t>(id)])
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
  withDims([&](auto dims) {
    const BallSearch<decltype(dims)::value> search{*this, q, radius * radius, active};
    search.walk(
        [&](const Node& node) {
          for (std::int32_t i = node.begin; i < node.end; ++i) out.push_back(index_[static_cast<std::size_t>(i)]);
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
    search.walk([](const Node&) { return false; },  // not called with an active set
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

  void scan(const Node& node) {
    double limit = bound();
    tree.scanLeaf(node, q, [&](std::int32_t, double d2) {
      if (d2 < limit) keepSmallest(best, k, d2), limit = bound();
      return false;
    });
  }

  void visit(std::int32_t id, double rd) {
    const Node& node = tree.nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      // The leaf's own box is tighter than the split planes: one O(d) check saves a scan.
      if (id == skipLeaf || tree.boxMinDistance2(id, q) >= bound()) return;
      return scan(node);
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
  leafMates(position, k, best);
  kNearestFrom(point(position), k, leaf, best, offsets);
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
      leafMates(i, kk, best);
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
