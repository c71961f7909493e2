#pragma once
// Batch scoring of an isolation forest. Rows are taken in chunks; for each chunk, every tree in
// turn is expanded into a complete binary tree of the forest's depth, in heap order (the children
// of position i are 2i + 1 and 2i + 2), in a buffer of a few kilobytes that stays in L1, and the
// whole chunk walks it. A level of a walk is then i = 2i + 1 + (x[feature] > threshold): no child
// links to load, and the loads of a position do not wait for another load. A leaf above the last
// level becomes a chain of splits that always go left, down to the position holding its path
// length. Comparisons are of unsigned keys in float order: a row's value is rounded up to float,
// and for a float threshold t, x > t exactly when roundUp(x) > t, so every row takes the same
// path as in the compact nodes and gets the same sums. The model keeps only the compact nodes.

#include <cstddef>
#include <cstdint>
#include <span>

#include "stacklens/core/detect/isolation_forest.h"

namespace stacklens::core::detect::internal {

/// The compact trees of a fitted forest: `nodes`, trees starting at `treeOffsets`, links packing
/// the feature in `featureBits` bits, walks of `depth` levels.
struct CompactTrees {
  std::span<const IsolationForest::Node> nodes;
  std::span<const std::int32_t> treeOffsets;
  int depth = 0;
  int featureBits = 0;
};

/// Whether the complete layout suits these trees: false for an inflated depth or degenerate trees
/// (chains), whose complete form would be far larger than the compact one; walk those compactly.
bool completeLayoutSuits(const CompactTrees& trees);

/// out[i] = the sum over the trees, in tree order, of the path length of row i (in double, as
/// IsolationForest::score() adds them); `rows` holds `count` rows of `features` values, row-major.
/// Requires completeLayoutSuits(trees). O(count · trees · depth).
void completePathLengthSums(const CompactTrees& trees, const double* rows, std::size_t features, std::size_t count,
                            double* out);

}  // namespace stacklens::core::detect::internal
