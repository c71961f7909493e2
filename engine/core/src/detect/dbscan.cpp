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

std::vector<double> kDistanceCurve(const Matrix& x, int k, int threads) {
  checkFinite(x);
  return sortedDistances(KdTree(x).allKthDistances2(k, threads));
}

double autoEps(const Matrix& x, int minSamples, int threads) {
  return kneeValue(kDistanceCurve(x, std::max(minSamples, 2), threads));
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
  if (params.eps) {
    result.eps = *params.eps;
    internal::parallelChunks(n, params.threads, 256, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i)
        result.core[i] = tree.radiusCount(row(x, i), result.eps, minSamples) >= minSamples;
    });
  } else {
    // The k-distances that choose eps also decide the core points: a point has ≥ k points
    // within eps exactly when its k-th nearest squared distance is ≤ eps².
    const std::vector<double> kth2 = tree.allKthDistances2(std::max(params.minSamples, 2), params.threads);
    result.eps = kneeValue(sortedDistances(kth2));
    const double eps2 = result.eps * result.eps;
    for (std::size_t i = 0; i < n; ++i) result.core[i] = params.minSamples == 1 || kth2[i] <= eps2;
  }
  const double eps = result.eps;

  // Grow clusters depth-first from core points in index order (scikit-learn's dbscan_inner).
  // Labelled points leave the active set, so each search only walks subtrees that still hold
  // unlabelled points: the growth costs far less than one full neighbourhood per core point.
  KdTree::ActiveSet unlabelled(tree);
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
        if (result.core[static_cast<std::size_t>(j)]) stack.push_back(j);
      }
    }
    ++cluster;
  }
  result.clusters = cluster;
  return result;
}

}  // namespace stacklens::core::detect
