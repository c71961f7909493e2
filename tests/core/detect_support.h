#pragma once
// Shared by the detection tests: fixture loading (through the connect CSV reader) and a
// generator of service metrics like the original suite's (normal: μ = 0.5 % errors; anomalous:
// μ = 5 % errors, degraded latency).

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <QString>
#include <QtTest>

#include "stacklens/connect/csv_table.h"
#include "stacklens/core/detect/matrix.h"
#include "stacklens/core/records.h"

namespace detect_support {

inline std::string fixture(const std::string& name) {
  return std::string(STACKLENS_TEST_DATA_DIR) + "/detect/" + name;
}

/// Numeric columns of a CSV file as a matrix (all columns, or those listed).
inline stacklens::core::detect::Matrix readMatrix(const std::string& path,
                                                  const std::vector<std::string>& columns = {}) {
  const auto table = stacklens::connect::readCsvFile(path);
  std::vector<std::size_t> index;
  if (columns.empty()) {
    for (std::size_t c = 0; c < table.header.size(); ++c) index.push_back(c);
  } else {
    for (const auto& name : columns) {
      const int c = table.columnIndex(name);
      if (c < 0) throw std::runtime_error(path + ": no column " + name);
      index.push_back(static_cast<std::size_t>(c));
    }
  }
  stacklens::core::detect::Matrix m(static_cast<Eigen::Index>(table.rowCount()),
                                    static_cast<Eigen::Index>(index.size()));
  for (std::size_t r = 0; r < table.rowCount(); ++r)
    for (std::size_t c = 0; c < index.size(); ++c)
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = table.number(r, index[c], false);
  return m;
}

/// Columns x0..x{d-1} of a CSV file (the features of an ODDS-style or fixture table).
inline stacklens::core::detect::Matrix readFeatures(const std::string& path, std::vector<double>* label = nullptr) {
  const auto table = stacklens::connect::readCsvFile(path);
  std::vector<std::string> names;
  for (const auto& h : table.header)
    if (!h.empty() && h[0] == 'x') names.push_back(h);
  if (label) {
    const int c = table.columnIndex("label");
    label->clear();
    for (std::size_t r = 0; r < table.rowCount(); ++r)
      label->push_back(table.number(r, static_cast<std::size_t>(c), false));
  }
  return readMatrix(path, names);
}

/// ROC AUC of scores against 0/1 labels (Mann–Whitney with mid-ranks for ties).
inline double rocAuc(const std::vector<double>& scores, const std::vector<double>& labels) {
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rankSumPositive = 0, positives = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double midRank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k)
      if (labels[order[k]] > 0.5) rankSumPositive += midRank, positives += 1;
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  return (rankSumPositive - positives * (positives + 1) / 2) / (positives * negatives);
}

/// One hour of a healthy service (as the original's generator: error rate around 0.5 %).
inline stacklens::core::ServiceMetrics normalMetrics(std::mt19937_64& rng, const std::string& service = "api",
                                                     stacklens::core::EpochSeconds t = 1705312800) {
  std::normal_distribution<double> z(0.0, 1.0);
  stacklens::core::ServiceMetrics m;
  m.service = service;
  m.timestamp = t;
  m.errorRate = std::max(0.0, 0.5 + 0.1 * z(rng));
  m.latencyP99Ms = 150 + 15 * z(rng);
  m.latencyP95Ms = 100 + 10 * z(rng);
  m.latencyMeanMs = 50 + 5 * z(rng);
  m.uniqueUsers = 1000 + 100 * z(rng);
  m.uniqueIps = 500 + 50 * z(rng);
  m.riskScore = std::clamp(0.3 + 0.05 * z(rng), 0.0, 1.0);
  m.totalRequests = 10000 + 1000 * z(rng);
  return m;
}

/// An incident hour: error rate around 5 %, latency tripled, risk up.
inline stacklens::core::ServiceMetrics anomalousMetrics(std::mt19937_64& rng, const std::string& service = "api",
                                                        stacklens::core::EpochSeconds t = 1705312800) {
  std::normal_distribution<double> z(0.0, 1.0);
  auto m = normalMetrics(rng, service, t);
  m.errorRate = 5.0 + 0.5 * z(rng);
  m.latencyP99Ms *= 3;
  m.latencyP95Ms *= 3;
  m.latencyMeanMs *= 3;
  m.riskScore = 0.8;
  return m;
}

inline std::vector<stacklens::core::FeatureVector> features(const std::vector<stacklens::core::ServiceMetrics>& ms) {
  std::vector<stacklens::core::FeatureVector> out;
  for (const auto& m : ms) out.push_back(m.features());
  return out;
}

inline std::vector<stacklens::core::ServiceMetrics> normalHistory(std::size_t n, std::uint64_t seed,
                                                                  const std::string& service = "api") {
  std::mt19937_64 rng(seed);
  std::vector<stacklens::core::ServiceMetrics> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(normalMetrics(rng, service, 1705312800 + 3600 * static_cast<long>(i)));
  return out;
}

}  // namespace detect_support
