#include "stacklens/core/detect/isolation_forest.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

#include "detect/byte_stream.h"
#include "detect/forest_walk.h"
#include "detect/parallel.h"
#include "detect/random.h"
#include "detect/statistics.h"

namespace stacklens::core::detect {
namespace {

using Node = IsolationForest::Node;

// Version 3: each tree's nodes in the order the build made them, a varint tag each (a feature,
// or an index into the forest's table of leaf path lengths) and a float threshold after an
// internal node's tag; the links are implied (~40 % of version 2's size: every refit of
// ml-service writes one, and PostgreSQL's work on it grows with its size). Version 2: the 8-byte
// nodes as they are in memory. Version 1: 16-byte nodes with double thresholds and absolute
// child indices, plus a double path length per node.
constexpr std::uint32_t kFormatVersion = 3;
// scikit-learn treats a feature as constant in a node when max ≤ min + 1e-7 (FEATURE_THRESHOLD).
constexpr double kFeatureThreshold = 1e-7;

int featureBitsFor(std::size_t features) {
  return static_cast<int>(std::bit_width(features - 1));
}

// Largest child offset a link can hold with `featureBits` bits given to the feature.
std::uint64_t maxOffsetFor(int featureBits) {
  return (std::uint64_t{1} << (32 - featureBits)) - 1;
}

// A float threshold t with lo ≤ t < hi close to `t`, so that the split made with it is the same
// kind of split as scikit-learn's (non-empty on both sides); nullopt when no float lies in [lo, hi).
std::optional<float> floatThreshold(double t, double lo, double hi) {
  auto f = static_cast<float>(t);
  if (static_cast<double>(f) < lo) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  if (static_cast<double>(f) >= hi) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  if (!(static_cast<double>(f) >= lo && static_cast<double>(f) < hi)) return std::nullopt;
  return f;
}

struct Tree {
  std::vector<Node> nodes;
  int depth = 0;
};

// Grows one tree on its sample, held column by column (the rows are local indices into it), so
// that the scans of a node's rows stay in a few kilobytes instead of striding over the data.
struct TreeBuilder {
  const double* sample;  // feature f of sample row i at sample[f * sampleSize + i]
  std::size_t sampleSize;
  int maxDepth;
  int featureBits;
  internal::Random rng;
  std::vector<std::int32_t> features;  // permutation scratch for drawing non-constant features
  // When set: the leaf value each sample row ends in, by the row's index in the data (`sampleRows`
  // maps the local rows to it). A training row in the sample lands where the build put it.
  const std::vector<std::int32_t>* sampleRows = nullptr;
  float* leafValueOfRow = nullptr;
  Tree tree;

  struct Pending {
    std::int32_t node;
    std::size_t begin, end;
    int depth;
  };

  void makeLeaf(const std::vector<std::int32_t>& rows, std::int32_t node, std::size_t begin, std::size_t end,
                int depth) {
    const auto value = static_cast<float>(depth + IsolationForest::averagePathLength(static_cast<double>(end - begin)));
    tree.nodes[node] = {value, 0};
    tree.depth = std::max(tree.depth, depth);
    if (leafValueOfRow != nullptr)
      for (std::size_t i = begin; i < end; ++i) leafValueOfRow[(*sampleRows)[rows[i]]] = value;
  }

  // Draws features without replacement until one is not constant in rows[begin, end): uniform
  // among the non-constant ones, as scikit-learn's random splitter with max_features = 1.
  bool chooseSplit(const std::vector<std::int32_t>& rows, std::size_t begin, std::size_t end, std::int32_t& feature,
                   float& threshold) {
    const std::size_t d = features.size();
    for (std::size_t k = 0; k < d; ++k) {
      std::swap(features[k], features[k + rng.below(d - k)]);
      const std::int32_t f = features[k];
      const double* column = sample + static_cast<std::size_t>(f) * sampleSize;
      // Two chains of min/max halve the dependent latency; the result does not depend on order.
      double lo = column[rows[begin]], hi = lo, lo2 = lo, hi2 = lo;
      std::size_t i = begin + 1;
      for (; i + 1 < end; i += 2) {
        const double v = column[rows[i]], w = column[rows[i + 1]];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        lo2 = std::min(lo2, w);
        hi2 = std::max(hi2, w);
      }
      if (i < end) {
        lo = std::min(lo, column[rows[i]]);
        hi = std::max(hi, column[rows[i]]);
      }
      lo = std::min(lo, lo2);
      hi = std::max(hi, hi2);
      if (hi <= lo + kFeatureThreshold) continue;
      double t = lo + rng.uniform() * (hi - lo);
      if (t >= hi) t = lo;  // rounding can reach hi; scikit-learn does the same
      const std::optional<float> single = floatThreshold(t, lo, hi);
      if (!single) continue;  // constant at float resolution
      feature = f;
      threshold = *single;
      return true;
    }
    return false;
  }

  // Moves the rows of [begin, end) with value ≤ threshold to the front and returns where the rest
  // starts. Branch-free (a coin flip per row on random data); the order within each side does not
  // matter, since a tree depends only on which rows reach each node.
  std::size_t partition(std::vector<std::int32_t>& rows, std::size_t begin, std::size_t end, std::int32_t feature,
                        float threshold) const {
    const double* column = sample + static_cast<std::size_t>(feature) * sampleSize;
    std::size_t mid = begin;
    for (std::size_t i = begin; i < end; ++i) {
      const std::int32_t r = rows[i];
      rows[i] = rows[mid];
      rows[mid] = r;
      mid += static_cast<std::size_t>(column[r] <= double{threshold});
    }
    return mid;
  }

  Tree build() {
    std::vector<std::int32_t> rows(sampleSize);
    for (std::size_t i = 0; i < sampleSize; ++i) rows[i] = static_cast<std::int32_t>(i);
    tree.nodes.reserve(2 * sampleSize);  // a binary tree on ψ rows has < 2ψ nodes
    tree.nodes.assign(1, {});
    std::vector<Pending> stack{{0, 0, rows.size(), 0}};
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      std::int32_t feature = 0;
      float threshold = 0;
      if (p.depth >= maxDepth || p.end - p.begin <= 1 || !chooseSplit(rows, p.begin, p.end, feature, threshold)) {
        makeLeaf(rows, p.node, p.begin, p.end, p.depth);
        continue;
      }
      const std::size_t mid = partition(rows, p.begin, p.end, feature, threshold);
      const auto left = static_cast<std::int32_t>(tree.nodes.size());
      tree.nodes.resize(tree.nodes.size() + 2);
      const auto offset = static_cast<std::uint32_t>(left - p.node);
      tree.nodes[p.node] = {threshold, offset << featureBits | static_cast<std::uint32_t>(feature)};
      stack.push_back({left + 1, mid, p.end, p.depth + 1});
      stack.push_back({left, p.begin, mid, p.depth + 1});
    }
    return std::move(tree);
  }
};

// Rows for one tree: a partial Fisher–Yates shuffle of the shared index array, undone afterwards
// so the next tree starts from the same state (deterministic whatever thread builds which tree).
std::vector<std::int32_t> drawSample(std::vector<std::int32_t>& indices, std::size_t size, internal::Random& rng) {
  const std::size_t n = indices.size();
  std::vector<std::size_t> swaps(size);
  for (std::size_t i = 0; i < size; ++i) {
    swaps[i] = i + rng.below(n - i);
    std::swap(indices[i], indices[swaps[i]]);
  }
  std::vector<std::int32_t> sample(indices.begin(), indices.begin() + static_cast<std::ptrdiff_t>(size));
  for (std::size_t i = size; i-- > 0;) std::swap(indices[i], indices[swaps[i]]);
  return sample;
}

void validate(const Matrix& x, const IsolationForestParams& params) {
  if (x.rows() < 2 || x.cols() < 1) throw std::invalid_argument("IsolationForest: need at least 2 rows and 1 column");
  if (params.trees < 1) throw std::invalid_argument("IsolationForest: trees must be ≥ 1");
  if (params.contamination && !(*params.contamination > 0 && *params.contamination <= 0.5))
    throw std::invalid_argument("IsolationForest: contamination must be in (0, 0.5] or auto");
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      if (!std::isfinite(x(r, c)))
        throw std::invalid_argument("IsolationForest: non-finite value at row " + std::to_string(r) + ", column " +
                                    std::to_string(c));
}

// Rows whose scores set the confidence's spread with contamination "auto": about 256 of them.
std::size_t autoStride(std::size_t rows) {
  return std::max<std::size_t>(1, rows / 256);
}

IsolationForest::Calibration calibrateSorted(std::vector<double> scores, std::optional<double> contamination) {
  std::sort(scores.begin(), scores.end());
  IsolationForest::Calibration c;
  c.threshold = contamination ? internal::sortedQuantile(scores, 1.0 - *contamination) : 0.5;
  const double iqr = internal::sortedQuantile(scores, 0.75) - internal::sortedQuantile(scores, 0.25);
  c.spread = std::max(iqr / 1.349, 1e-3);
  return c;
}

// The distinct leaf values of a forest in order of first use, and each one's index: an
// open-addressing table on the value's bits (a forest has a few dozen distinct values among
// thousands of leaves; std::unordered_map or a sorted table made the writer a fifth of a refit).
class LeafTable {
 public:
  std::uint32_t indexOf(float value) {
    const auto bits = std::bit_cast<std::uint32_t>(value);
    for (std::size_t slot = hash(bits);; slot = (slot + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[slot];
      if (s.used && s.bits == bits) return s.index;
      if (s.used) continue;
      s = {bits, static_cast<std::uint32_t>(values_.size()), true};
      values_.push_back(value);
      if (2 * values_.size() > slots_.size()) grow();
      return static_cast<std::uint32_t>(values_.size() - 1);
    }
  }
  const std::vector<float>& values() const { return values_; }

 private:
  struct Slot {
    std::uint32_t bits = 0, index = 0;
    bool used = false;
  };
  std::size_t hash(std::uint32_t bits) const {
    return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ULL) >> 40) & (slots_.size() - 1);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (!s.used) continue;
      std::size_t slot = hash(s.bits);
      while (slots_[slot].used) slot = (slot + 1) & (slots_.size() - 1);
      slots_[slot] = s;
    }
  }
  std::vector<Slot> slots_ = std::vector<Slot>(256);
  std::vector<float> values_;
};

// SLIF version 3's trees: leaves take few distinct path lengths (depth + c(size) for small
// sizes), so a table of them and per leaf its index. Nodes go in the order build() makes them
// (each split node's children follow the nodes made before it in a depth-first walk, left
// first), a varint tag each (feature << 1 for a split, followed by its float threshold; leaf
// index << 1 | 1 for a leaf): the reader replays that walk, so the links need not be stored and
// the nodes come back at the same indices.
struct TreeCode {
  std::vector<float> leafValues;
  std::string code;
};

TreeCode encodeTrees(const std::vector<Node>& nodes, const std::vector<std::int32_t>& treeOffsets, int featureBits) {
  LeafTable leaves;
  std::string code;
  code.reserve(nodes.size() * 3);
  const auto putVarint = [&code](std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) code += static_cast<char>(v | 0x80);
    code += static_cast<char>(v);
  };
  const std::uint32_t mask = (std::uint32_t{1} << featureBits) - 1;
  std::vector<std::uint32_t> stack;
  for (const std::int32_t root : treeOffsets) {
    stack.assign(1, static_cast<std::uint32_t>(root));
    while (!stack.empty()) {
      const std::uint32_t i = stack.back();
      stack.pop_back();
      const Node& node = nodes[i];
      if (node.link == 0) {
        putVarint(std::uint64_t{leaves.indexOf(node.value)} << 1 | 1);
        continue;
      }
      putVarint(std::uint64_t{node.link & mask} << 1);
      code.append(reinterpret_cast<const char*>(&node.value), sizeof node.value);
      const std::uint32_t left = i + (node.link >> featureBits);
      stack.push_back(left + 1);
      stack.push_back(left);
    }
  }
  return {leaves.values(), std::move(code)};
}

// What the header says a version 3 forest holds: every tree is bounded by it (fewer than 2ψ
// nodes, no deeper than maxDepth), so a damaged blob is rejected rather than decoded into
// something huge.
struct TreeShape {
  std::size_t trees, features, maxTreeNodes;
  int featureBits, maxDepth;
};

// Replays build()'s depth-first walk over the tags (see encodeTrees), appending to `nodes` and
// `treeOffsets`; fails through `r`.
void decodeTrees(const std::vector<float>& leafValues, std::string_view code, const TreeShape& shape,
                 internal::ByteReader& r, std::vector<Node>& nodes, std::vector<std::int32_t>& treeOffsets) {
  std::size_t pos = 0;
  const auto getVarint = [&] {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= code.size()) r.fail("truncated tree code");
      const auto byte = static_cast<std::uint8_t>(code[pos++]);
      v |= std::uint64_t{byte & 0x7FU} << shift;
      if ((byte & 0x80U) == 0) return v;
    }
    r.fail("bad varint in tree code");
  };
  struct Pending {
    std::uint32_t node;
    int depth;
  };
  std::vector<Pending> stack;
  for (std::size_t t = 0; t < shape.trees; ++t) {
    const std::size_t root = nodes.size();
    treeOffsets.push_back(static_cast<std::int32_t>(root));
    nodes.emplace_back();
    stack.assign(1, {static_cast<std::uint32_t>(root), 0});
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const std::uint64_t tag = getVarint();
      if ((tag & 1) != 0) {
        if ((tag >> 1) >= leafValues.size() || !std::isfinite(leafValues[tag >> 1])) r.fail("bad leaf in tree code");
        nodes[p.node] = {leafValues[tag >> 1], 0};
        continue;
      }
      if ((tag >> 1) >= shape.features || p.depth >= shape.maxDepth || nodes.size() + 2 - root > shape.maxTreeNodes)
        r.fail("bad node in tree " + std::to_string(t));
      if (pos + sizeof(float) > code.size()) r.fail("truncated tree code");
      float threshold;
      std::memcpy(&threshold, code.data() + pos, sizeof threshold);
      pos += sizeof threshold;
      const auto left = static_cast<std::uint32_t>(nodes.size());
      nodes.resize(nodes.size() + 2);
      nodes[p.node] = {threshold, (left - p.node) << shape.featureBits | static_cast<std::uint32_t>(tag >> 1)};
      stack.push_back({left + 1, p.depth + 1});
      stack.push_back({left, p.depth + 1});
    }
  }
  if (pos != code.size()) r.fail("trailing bytes in tree code");
}

}  // namespace

double IsolationForest::averagePathLength(double n) {
  if (n <= 1) return 0.0;
  if (n <= 2) return 1.0;
  return 2.0 * (std::log(n - 1.0) + std::numbers::egamma) - 2.0 * (n - 1.0) / n;
}

IsolationForest IsolationForest::fit(const Matrix& x, const IsolationForestParams& params) {
  return fit(x, params, nullptr);
}

IsolationForest IsolationForest::fit(const Matrix& x, const IsolationForestParams& params,
                                     std::vector<double>& trainingScores) {
  return fit(x, params, &trainingScores);
}

IsolationForest IsolationForest::fit(const Matrix& x, const IsolationForestParams& params,
                                     std::vector<double>* trainingScores) {
  validate(x, params);
  IsolationForest forest;
  forest.params_ = params;
  forest.features_ = static_cast<std::size_t>(x.cols());
  const auto n = static_cast<std::size_t>(x.rows());
  const std::size_t psi = params.maxSamples <= 0
                              ? std::min<std::size_t>(256, n)
                              : std::min<std::size_t>(static_cast<std::size_t>(params.maxSamples), n);
  forest.sampleSize_ = static_cast<int>(psi);
  forest.params_.maxSamples = forest.sampleSize_;
  const int maxDepth = static_cast<int>(std::ceil(std::log2(std::max<double>(static_cast<double>(psi), 2.0))));
  forest.normaliser_ = averagePathLength(static_cast<double>(psi));
  if (static_cast<double>(params.trees) * 2.0 * static_cast<double>(psi) > 2e9)
    throw std::invalid_argument("IsolationForest: trees × maxSamples too large");
  // A tree has < 2ψ nodes, so a child offset is < 2ψ; it shares 32 bits with the feature.
  forest.featureBits_ = featureBitsFor(forest.features_);
  if (forest.featureBits_ > 24 || 2 * psi > maxOffsetFor(forest.featureBits_))
    throw std::invalid_argument("IsolationForest: features × maxSamples too large for 32-bit node links");

  const auto trees = static_cast<std::size_t>(params.trees);
  std::vector<Tree> built(trees);
  // With ψ = n every tree's sample holds every row, so the build itself says where each training
  // row ends: the training scores come without walking the forest again (a refit's largest part
  // after the build). leafValues[t * n + r]: row r's leaf value in tree t.
  const bool everyRowInEveryTree = psi == n;
  std::vector<float> leafValues(everyRowInEveryTree ? trees * n : 0);
  internal::parallelChunks(trees, params.threads, 4, [&](std::size_t begin, std::size_t end) {
    std::vector<std::int32_t> indices(n);
    for (std::size_t i = 0; i < n; ++i) indices[i] = static_cast<std::int32_t>(i);
    std::vector<std::int32_t> features(forest.features_);
    for (std::size_t f = 0; f < features.size(); ++f) features[f] = static_cast<std::int32_t>(f);
    std::vector<double> sample(psi * forest.features_);
    for (std::size_t t = begin; t < end; ++t) {
      internal::Random rng(internal::splitMix64(params.seed) ^ (0x9E3779B97F4A7C15ULL * (t + 1)));
      const std::vector<std::int32_t> rows = drawSample(indices, psi, rng);
      for (std::size_t i = 0; i < psi; ++i)
        for (std::size_t f = 0; f < forest.features_; ++f)
          sample[f * psi + i] = x(rows[i], static_cast<Eigen::Index>(f));
      TreeBuilder builder{sample.data(), psi, maxDepth, forest.featureBits_, rng, features, {}, {}, {}};
      if (everyRowInEveryTree) {
        builder.sampleRows = &rows;
        builder.leafValueOfRow = leafValues.data() + t * n;
      }
      built[t] = builder.build();
    }
  });

  std::size_t total = 0;
  for (const Tree& tree : built) total += tree.nodes.size();
  forest.nodes_.reserve(total);  // exact: the forest is resident for a service's lifetime
  for (Tree& tree : built) {
    forest.treeOffsets_.push_back(static_cast<std::int32_t>(forest.nodes_.size()));
    forest.nodes_.insert(forest.nodes_.end(), tree.nodes.begin(), tree.nodes.end());
    forest.maxDepth_ = std::max(forest.maxDepth_, tree.depth);
    tree.nodes = {};
  }

  // The threshold needs every training score when contamination is given (as scikit-learn);
  // with "auto" only the confidence's spread is needed, which a strided subset estimates well.
  const auto allTrainingScores = [&] {
    if (!everyRowInEveryTree) return forest.scores(x, params.threads);
    std::vector<double> sums(n, 0.0);
    for (std::size_t t = 0; t < trees; ++t)  // in tree order, as score() sums: the same doubles
      for (std::size_t r = 0; r < n; ++r) sums[r] += double{leafValues[t * n + r]};
    for (double& v : sums) v = forest.scoreOfPathLengthSum(v);
    return sums;
  };
  std::vector<double> trainScores;
  if (params.contamination) {
    trainScores = allTrainingScores();
    if (trainingScores) *trainingScores = trainScores;
  } else {
    if (trainingScores) *trainingScores = allTrainingScores();
    const std::size_t stride = autoStride(n);
    Matrix subset((n + stride - 1) / stride, x.cols());
    for (std::size_t i = 0, r = 0; i < n; i += stride, ++r)
      subset.row(static_cast<Eigen::Index>(r)) = x.row(static_cast<Eigen::Index>(i));
    trainScores = forest.scores(subset, params.threads);
  }
  const Calibration c = calibrateSorted(std::move(trainScores), params.contamination);
  forest.threshold_ = c.threshold;
  forest.scoreSpread_ = c.spread;
  return forest;
}

namespace {
// One level of a walk: an internal node moves to its left or right child, a leaf (link 0) stays.
// Written so the compiler emits a conditional move rather than a branch.
inline std::uint32_t step(const Node* nodes, std::uint32_t idx, const double* row, int shift, std::uint32_t mask) {
  const Node node = nodes[idx];
  const std::uint32_t next =
      idx + (node.link >> shift) + static_cast<std::uint32_t>(row[node.link & mask] > double{node.value});
  return node.link != 0 ? next : idx;
}
}  // namespace

double IsolationForest::score(std::span<const double> sample) const {
  if (sample.size() != features_)
    throw std::invalid_argument("IsolationForest: expected " + std::to_string(features_) + " features, got " +
                                std::to_string(sample.size()));
  const Node* nodes = nodes_.data();
  const int shift = featureBits_;
  const std::uint32_t mask = (std::uint32_t{1} << shift) - 1;
  // Sixteen trees walk together: a service's forest is usually not in cache when its next sample
  // arrives (ml-service holds a thousand of them), and independent walks overlap their misses
  // instead of paying one memory latency per level per tree in sequence.
  constexpr std::size_t kBlock = 16;
  const std::size_t trees = treeOffsets_.size();
  double sum = 0;
  for (std::size_t start = 0; start < trees; start += kBlock) {
    const std::size_t b = std::min(kBlock, trees - start);
    std::uint32_t idx[kBlock];
    for (std::size_t j = 0; j < kBlock; ++j)
      idx[j] = static_cast<std::uint32_t>(treeOffsets_[start + std::min(j, b - 1)]);
    for (int level = 0; level < maxDepth_; ++level)
      for (std::size_t j = 0; j < kBlock; ++j) idx[j] = step(nodes, idx[j], sample.data(), shift, mask);
    for (std::size_t j = 0; j < b; ++j) sum += double{nodes[idx[j]].value};
  }
  return scoreOfPathLengthSum(sum);
}

double IsolationForest::scoreOfPathLengthSum(double sum) const {
  return std::exp2(-(sum / static_cast<double>(treeOffsets_.size())) / normaliser_);
}

void IsolationForest::prefetch() const {
  constexpr std::size_t kLine = 64;
  const char* begin = reinterpret_cast<const char*>(nodes_.data());
  const char* end = begin + nodes_.size() * sizeof(Node);
  for (const char* p = begin; p < end; p += kLine) __builtin_prefetch(p, 0, 2);
}

std::vector<double> IsolationForest::scores(const Matrix& x, int threads) const {
  if (static_cast<std::size_t>(x.cols()) != features_)
    throw std::invalid_argument("IsolationForest: expected " + std::to_string(features_) + " features, got " +
                                std::to_string(x.cols()));
  const auto n = static_cast<std::size_t>(x.rows());
  std::vector<double> out(n);
  // Expanding the forest costs about as much as walking it for a few dozen rows: small batches
  // (a service's refit window, a backtest step) walk the compact nodes, with the same sums.
  constexpr std::size_t kRowsWorthExpanding = 256;
  const internal::CompactTrees compact{nodes_, treeOffsets_, maxDepth_, featureBits_};
  if (n < kRowsWorthExpanding || !internal::completeLayoutSuits(compact)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = score({x.data() + i * features_, features_});
    return out;
  }
  internal::parallelChunks(n, threads, 512, [&](std::size_t begin, std::size_t end) {
    internal::completePathLengthSums(compact, x.data() + begin * features_, features_, end - begin,
                                     out.data() + begin);
  });
  for (double& v : out) v = scoreOfPathLengthSum(v);
  return out;
}

double IsolationForest::Calibration::confidence(double s) const {
  return 1.0 / (1.0 + std::exp(-(s - threshold) / spread));
}

double IsolationForest::confidence(double s) const {
  return calibration().confidence(s);
}

IsolationForest::Calibration IsolationForest::calibrate(std::span<const double> trainingScores,
                                                        std::optional<double> contamination) {
  if (trainingScores.empty()) throw std::invalid_argument("IsolationForest: no training scores to calibrate on");
  if (contamination && !(*contamination > 0 && *contamination <= 0.5))
    throw std::invalid_argument("IsolationForest: contamination must be in (0, 0.5] or auto");
  std::vector<double> scores;
  if (contamination) {
    scores.assign(trainingScores.begin(), trainingScores.end());
  } else {
    for (std::size_t i = 0; i < trainingScores.size(); i += autoStride(trainingScores.size()))
      scores.push_back(trainingScores[i]);
  }
  return calibrateSorted(std::move(scores), contamination);
}

std::string IsolationForest::serialize() const {
  internal::ByteWriter w("SLIF", kFormatVersion);
  w.put<std::int32_t>(params_.trees);
  w.put<std::int32_t>(params_.maxSamples);
  w.put<std::uint8_t>(params_.contamination.has_value());
  w.put<double>(params_.contamination.value_or(0.0));
  w.put<std::uint64_t>(params_.seed);
  w.put<std::uint64_t>(features_);
  w.put<std::int32_t>(sampleSize_);
  w.put<std::int32_t>(maxDepth_);
  w.put<double>(threshold_);
  w.put<double>(scoreSpread_);
  const TreeCode trees = encodeTrees(nodes_, treeOffsets_, featureBits_);
  w.putVector(trees.leafValues);
  w.putString(trees.code);
  return w.take();
}

namespace {
struct NodeV1 {
  double threshold;  // +inf for a leaf
  std::int32_t feature;
  std::int32_t left;  // absolute index of the left child; itself for a leaf
};
}  // namespace

IsolationForest IsolationForest::deserialize(std::string_view blob) {
  internal::ByteReader r(blob, "SLIF", kFormatVersion, "IsolationForest");
  IsolationForest f;
  f.params_.trees = r.get<std::int32_t>();
  f.params_.maxSamples = r.get<std::int32_t>();
  const bool hasContamination = r.get<std::uint8_t>() != 0;
  const double contamination = r.get<double>();
  if (hasContamination)
    f.params_.contamination = contamination;
  else
    f.params_.contamination.reset();
  f.params_.seed = r.get<std::uint64_t>();
  f.features_ = r.get<std::uint64_t>();
  f.sampleSize_ = r.get<std::int32_t>();
  f.maxDepth_ = r.get<std::int32_t>();
  f.threshold_ = r.get<double>();
  f.scoreSpread_ = r.get<double>();
  if (r.version() < 3) f.treeOffsets_ = r.getVector<std::int32_t>();
  if (f.features_ < 1 || f.features_ > (1U << 24) || f.sampleSize_ < 1 || f.maxDepth_ < 0 || f.maxDepth_ > 64 ||
      f.params_.trees < 1 || (r.version() < 3 && static_cast<int>(f.treeOffsets_.size()) != f.params_.trees))
    r.fail("inconsistent header");
  f.featureBits_ = featureBitsFor(f.features_);
  const std::uint64_t maxOffset = maxOffsetFor(f.featureBits_);
  if (r.version() >= 3) {
    const auto leafValues = r.getVector<float>();
    const TreeShape shape{static_cast<std::size_t>(f.params_.trees), f.features_,
                          2 * static_cast<std::size_t>(f.sampleSize_), f.featureBits_, f.maxDepth_};
    decodeTrees(leafValues, r.getString(), shape, r, f.nodes_, f.treeOffsets_);
  } else if (r.version() == 1) {
    const auto old = r.getVector<NodeV1>();
    const auto leafDepth = r.getVector<double>();
    if (leafDepth.size() != old.size()) r.fail("inconsistent header");
    f.nodes_.resize(old.size());
    for (std::size_t i = 0; i < old.size(); ++i) {
      const NodeV1& node = old[i];
      const bool isLeaf = std::isinf(node.threshold) && node.threshold > 0;
      if (isLeaf ? node.left != static_cast<std::int64_t>(i) : node.left <= static_cast<std::int64_t>(i))
        r.fail("bad node " + std::to_string(i));
      const auto offset = static_cast<std::uint64_t>(node.left - static_cast<std::int64_t>(i));
      if (node.feature < 0 || static_cast<std::size_t>(node.feature) >= f.features_ || offset > maxOffset)
        r.fail("bad node " + std::to_string(i));
      f.nodes_[i] =
          isLeaf ? Node{static_cast<float>(leafDepth[i]), 0}
                 : Node{static_cast<float>(node.threshold), static_cast<std::uint32_t>(offset << f.featureBits_) |
                                                                static_cast<std::uint32_t>(node.feature)};
    }
  } else {
    f.nodes_ = r.getVector<Node>();
  }
  r.expectEnd();
  // Validate everything a lookup relies on, so a corrupt blob can never index out of bounds.
  const auto count = static_cast<std::int64_t>(f.nodes_.size());
  for (std::size_t t = 0; t < f.treeOffsets_.size(); ++t)
    if (f.treeOffsets_[t] < 0 || f.treeOffsets_[t] >= count || (t > 0 && f.treeOffsets_[t] <= f.treeOffsets_[t - 1]))
      r.fail("bad tree offsets");
  const std::uint32_t mask = (std::uint32_t{1} << f.featureBits_) - 1;
  for (std::int64_t i = 0; i < count; ++i) {
    const Node& node = f.nodes_[static_cast<std::size_t>(i)];
    if (node.link == 0) {
      if (!std::isfinite(node.value)) r.fail("bad leaf " + std::to_string(i));
      continue;
    }
    const std::int64_t left = i + static_cast<std::int64_t>(node.link >> f.featureBits_);
    if ((node.link & mask) >= f.features_ || left == i || left + 1 >= count) r.fail("bad node " + std::to_string(i));
  }
  f.normaliser_ = averagePathLength(f.sampleSize_);
  return f;
}


}  // namespace stacklens::core::detect
