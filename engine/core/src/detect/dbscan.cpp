#include "stacklens/core/detect/dbscan.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "stacklens/core/detect/kd_tree.h"

#include "detect/parallel.h"

namespace stacklens::core::detect {
namespace {

void checkFinite(const Matrix& x) {
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      if (!std::isfinite(x(r, c)))
        throw std::invalid_argument("DBSCAN: non-finite value at row " + std::to_string(r) + ", column " +
                                    std::to_string(c));
}

std::span<const double> row(const Matrix& x, std::size_t i) {
  return {x.data() + i * static_cast<std::size_t>(x.cols()), static_cast<std::size_t>(x.cols())};
}

std::vector<double> sortedDistances(const std::vector<double>& squared) {
  std::vector<double> d(squared.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = std::sqrt(squared[i]);
  std::sort(d.begin(), d.end());
  return d;
}

// The k-distance curve of a sample (or of every row), sorted. A sample misses the far tail, and
// the knee's chord runs to the curve's last value, so the exact largest k-distance is appended.
std::vector<double> kDistances(const KdTree& tree, int k, std::size_t sampleSize, int threads) {
  std::vector<double> d2 = tree.sampleKthDistances2(sampleSize, k, threads);
  if (!d2.empty() && d2.size() < tree.size()) {
    const double sampleMax = *std::max_element(d2.begin(), d2.end());
    const double max = tree.maxKthDistance2(k, sampleMax);
    if (max > sampleMax) d2.push_back(max);
  }
  return sortedDistances(d2);
}

}  // namespace

std::size_t DbscanResult::noiseCount() const {
  return static_cast<std::size_t>(std::count(labels.begin(), labels.end(), -1));
}

double kneeValue(std::span<const double> ascending) {
  if (ascending.empty()) return 0.0;
  const double first = ascending.front(), last = ascending.back();
  if (!(last > first)) return first;
  const double n1 = static_cast<double>(ascending.size() - 1);
  std::size_t best = 0;
  double bestGap = -1;
  for (std::size_t i = 0; i < ascending.size(); ++i) {
    const double gap = static_cast<double>(i) / n1 - (ascending[i] - first) / (last - first);
    if (gap > bestGap) bestGap = gap, best = i;
  }
  return ascending[best];
}

std::vector<double> kDistanceCurve(const Matrix& x, int k, int threads, std::size_t sampleSize) {
  checkFinite(x);
  return kDistances(KdTree(x), k, sampleSize, threads);
}

double autoEps(const Matrix& x, int minSamples, int threads, std::size_t sampleSize) {
  return kneeValue(kDistanceCurve(x, std::max(minSamples, 2), threads, sampleSize));
}

DbscanResult dbscan(const Matrix& x, const DbscanParams& params) {
  if (params.minSamples < 1) throw std::invalid_argument("DBSCAN: min_samples must be ≥ 1");
  if (params.eps && !(*params.eps >= 0 && std::isfinite(*params.eps)))
    throw std::invalid_argument("DBSCAN: eps must be finite and ≥ 0");
  checkFinite(x);
  const auto n = static_cast<std::size_t>(x.rows());
  DbscanResult result;
  result.labels.assign(n, -1);
  result.core.assign(n, 0);
  if (n == 0) {
    result.eps = params.eps.value_or(0.0);
    return result;
  }
  const KdTree tree(x);
  const auto minSamples = static_cast<std::size_t>(params.minSamples);
  result.eps = params.eps
                   ? *params.eps
                   : kneeValue(kDistances(tree, std::max(params.minSamples, 2), params.epsSample, params.threads));
  result.core = tree.denseRows(result.eps, minSamples, params.threads);
  const double eps = result.eps;

  // Grow clusters depth-first from core points in index order (scikit-learn's dbscan_inner),
  // through core points only: a cluster is a connected set of cores. Labelled cores leave the
  // active set, so searches skip subtrees without unlabelled cores; noise never keeps a subtree
  // alive, and once a cluster is complete its remaining searches end high in the tree.
  KdTree::ActiveSet unlabelled(tree, result.core);
  std::vector<std::int32_t> stack, neighbours;
  int cluster = 0;
  for (std::size_t start = 0; start < n; ++start) {
    if (result.labels[start] != -1 || !result.core[start]) continue;
    result.labels[start] = cluster;
    unlabelled.remove(static_cast<std::int32_t>(start));
    stack.assign(1, static_cast<std::int32_t>(start));
    while (!stack.empty()) {
      const auto i = static_cast<std::size_t>(stack.back());
      stack.pop_back();
      tree.radiusNeighbors(row(x, i), eps, unlabelled, neighbours);
      for (std::int32_t j : neighbours) {
        result.labels[static_cast<std::size_t>(j)] = cluster;
        unlabelled.remove(j);
        stack.push_back(j);
      }
    }
    ++cluster;
  }
  // Border points: the cluster of a core point within eps, if any (else noise).
  const KdTree::ActiveSet cores(tree, result.core);
  internal::parallelChunks(n, params.threads, 256, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (result.core[i]) continue;
      const std::int32_t j = tree.firstWithin(row(x, i), eps, cores);
      if (j >= 0) result.labels[i] = result.labels[static_cast<std::size_t>(j)];
    }
  });
  result.clusters = cluster;
  return result;
}

}  // namespace stacklens::core::detect
