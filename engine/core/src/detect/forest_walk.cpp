#include "detect/forest_walk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

namespace stacklens::core::detect::internal {
namespace {

// Rows that walk a tree together, so that their independent chains of loads overlap.
constexpr std::size_t kBlock = 16;

// An unsigned key in the order of the floats, so that a level compares integers: for a row's value
// rounded up to float, x, and a float threshold t (neither NaN), key(x) > key(t) ⇔ x > t. −0 is
// taken as +0 (they compare equal as floats). Branch-free, as the rounding below: on real data
// every branch would be a coin flip.
inline std::uint32_t orderKey(float f) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  bits = bits == 0x80000000U ? 0 : bits;
  const auto negative = static_cast<std::uint32_t>(static_cast<std::int32_t>(bits) >> 31);
  return bits ^ (negative | 0x80000000U);  // negative: all bits flipped; otherwise the sign bit set
}

// A row's value: x > t ⇔ roundUp(x) > t for a float t, with roundUp(x) the smallest float ≥ x,
// one step up from the nearest float when that is below x (+1 in the bits of a positive float,
// −1 in those of a negative one). NaN gets the lowest key and goes left everywhere, as `NaN > t`
// is false in the compact walk.
inline std::uint32_t valueKey(double x) {
  const auto nearest = static_cast<float>(x);
  const auto bits = std::bit_cast<std::uint32_t>(nearest);
  const std::uint32_t up = static_cast<double>(nearest) < x ? 1 : 0;
  const std::uint32_t key = orderKey(std::bit_cast<float>(bits + up * (1 - 2 * (bits >> 31))));
  return std::isnan(x) ? 0 : key;
}

// A threshold no row exceeds: the split below a leaf, and a NaN threshold (from a blob), which
// sends every row left in the compact walk too.
constexpr std::uint32_t kAlwaysLeft = std::numeric_limits<std::uint32_t>::max();

inline std::uint32_t thresholdKey(float t) {
  return std::isnan(t) ? kAlwaysLeft : orderKey(t);
}

// Keys of the rows in a chunk: kChunkRows × features × 4 bytes (128 KiB for 8 features), which
// stay in L2 while every tree walks them.
constexpr std::size_t kChunkRows = 4096;

struct Split {
  std::uint32_t threshold;  // the float threshold's order key; kAlwaysLeft below a leaf
  std::uint32_t column;     // feature × the chunk's stride: where the feature's keys start
};

// One tree in complete form: 2^depth − 1 splits and 2^depth leaves, reused from tree to tree.
// Only the positions a walk can reach are written: the splits of the compact nodes, the chains
// under leaves above the last level, and the leaves they end in.
class CompleteTree {
 public:
  explicit CompleteTree(int depth)
      : depth_(depth), splits_((std::size_t{1} << depth) - 1), leaves_(std::size_t{1} << depth) {}

  void expand(const CompactTrees& trees, std::size_t tree, std::size_t stride) {
    const std::uint32_t mask = (std::uint32_t{1} << trees.featureBits) - 1;
    const std::size_t internal = splits_.size();
    stack_.push_back({trees.treeOffsets[tree], 0, 0});
    while (!stack_.empty()) {
      auto [s, p, level] = stack_.back();
      stack_.pop_back();
      const IsolationForest::Node node = trees.nodes[static_cast<std::size_t>(s)];
      // At the last level the compact walk stops wherever it is and reads that node's value.
      if (node.link != 0 && level < depth_) {
        const std::int32_t left = s + static_cast<std::int32_t>(node.link >> trees.featureBits);
        splits_[p] = {thresholdKey(node.value), static_cast<std::uint32_t>((node.link & mask) * stride)};
        stack_.push_back({left + 1, 2 * p + 2, level + 1});
        stack_.push_back({left, 2 * p + 1, level + 1});
        continue;
      }
      for (; level < depth_; ++level, p = 2 * p + 1) splits_[p] = {kAlwaysLeft, 0};  // a leaf's rows keep left
      leaves_[p - internal] = node.value;
    }
  }

  // Adds to sum[j] the path length of row j < rows (a multiple of kBlock) of a chunk whose keys
  // lie column by column from `keys`, so that a split's column plus j addresses row j's key.
  void walk(const std::uint32_t* keys, std::size_t rows, double* sum) const {
    const Split* splits = splits_.data();
    const std::size_t internal = splits_.size();
    for (std::size_t start = 0; start < rows; start += kBlock) {
      const std::uint32_t* block = keys + start;
      std::uint32_t idx[kBlock] = {};
      for (int level = 0; level < depth_; ++level) {
#if defined(__GNUC__)
        // Makes `block` opaque at each level, so that row j is addressed as block + column + j (a
        // constant displacement) rather than through sixteen block + j pointers hoisted out of the
        // level loop and spilled to the stack (measured: the walk ~10 % faster).
        asm("" : "+r"(block));
#endif
        for (std::size_t j = 0; j < kBlock; ++j) {
          const Split split = splits[idx[j]];
          idx[j] = 2 * idx[j] + 1 + static_cast<std::uint32_t>(split.threshold < block[split.column + j]);
        }
      }
      for (std::size_t j = 0; j < kBlock; ++j) sum[start + j] += double{leaves_[idx[j] - internal]};
    }
  }

 private:
  struct Pending {
    std::int32_t node;
    std::size_t position;
    int level;
  };
  int depth_;
  std::vector<Split> splits_;
  std::vector<float> leaves_;
  std::vector<Pending> stack_;
};

}  // namespace

bool completeLayoutSuits(const CompactTrees& trees) {
  // A chunk's column offsets (feature × stride) are 32-bit.
  constexpr int kMaxDepth = 24, kMaxFeatureBits = 18;
  if (trees.depth < 0 || trees.depth > kMaxDepth || trees.featureBits > kMaxFeatureBits) return false;
  const std::size_t positions = (std::size_t{2} << trees.depth) - 1;
  return trees.treeOffsets.size() * positions <= 16 * trees.nodes.size() + (std::size_t{1} << 16);
}

void completePathLengthSums(const CompactTrees& trees, const double* rows, std::size_t features, std::size_t count,
                            double* out) {
  const std::size_t stride = std::min(kChunkRows, (count + kBlock - 1) / kBlock * kBlock);
  std::vector<std::uint32_t> keys(stride * features, 0);
  std::vector<double> sum(stride);
  CompleteTree tree(trees.depth);
  for (std::size_t chunk = 0; chunk < count; chunk += stride) {
    const std::size_t chunkRows = std::min(stride, count - chunk);
    for (std::size_t r = 0; r < chunkRows; ++r)
      for (std::size_t f = 0; f < features; ++f) keys[f * stride + r] = valueKey(rows[(chunk + r) * features + f]);
    // Rows past the data (to a whole block) walk too; their sums are dropped.
    const std::size_t walked = (chunkRows + kBlock - 1) / kBlock * kBlock;
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t t = 0; t < trees.treeOffsets.size(); ++t) {
      tree.expand(trees, t, stride);
      tree.walk(keys.data(), walked, sum.data());
    }
    std::copy_n(sum.begin(), chunkRows, out + chunk);
  }
}

}  // namespace stacklens::core::detect::internal
