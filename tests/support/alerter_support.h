#pragma once
// Helpers of the predictive alerter's tests: anomalies as ml-service emits them, and the
// pipeline fed as `stacklens predictive-alerter` feeds it (the history window it asks for, then
// the anomaly). Needs stacklens::core.

#include <cmath>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "stacklens/core/pipeline/predictive_pipeline.h"

namespace stacklens::test {

inline core::AnomalyRecord makeAnomaly(const std::string& service, core::EpochSeconds t,
                                       core::AnomalyType type = core::AnomalyType::kErrorSpike,
                                       std::map<std::string, double> values = {}) {
  core::AnomalyRecord a;
  a.service = service;
  a.timestamp = t;
  a.type = type;
  a.anomalyId = core::makeAnomalyId(service, t, type);
  a.severity = core::Severity::kHigh;
  a.confidence = 0.9;
  a.anomalyScore = 0.9;
  a.metricValues = std::move(values);
  return a;
}

/// Hourly rows of one service from `start`: `errorRate(t)` and `latencyMean(t)` (t in hours) shape
/// the two metrics the tests look at, plus a little noise; traffic has a daily cycle, the other
/// latencies follow the mean, risk_score is constant.
template <typename ErrorFn, typename LatencyFn>
std::vector<core::ServiceMetrics> syntheticHistory(const std::string& service, core::EpochSeconds start, int hours,
                                                   ErrorFn errorRate, LatencyFn latencyMean, std::uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::vector<core::ServiceMetrics> rows;
  for (int t = 0; t < hours; ++t) {
    core::ServiceMetrics m;
    m.service = service;
    m.timestamp = start + t * 3600;
    m.errorRate = errorRate(t) + 0.05 * noise(rng);
    m.latencyMeanMs = latencyMean(t) + 2 * noise(rng);
    m.latencyP95Ms = 2 * m.latencyMeanMs;
    m.latencyP99Ms = 3 * m.latencyMeanMs;
    m.totalRequests = 10000 + 2000 * std::sin(2 * std::numbers::pi * t / 24.0) + 100 * noise(rng);
    m.uniqueUsers = m.totalRequests / 10;
    m.uniqueIps = m.uniqueUsers / 2;
    m.riskScore = 0.2;
    rows.push_back(m);
  }
  return rows;
}

/// Hands the pipeline the rows of `rows` in the window it asks for, then processes `a`.
inline core::pipeline::PredictiveOutput feedPipeline(core::pipeline::PredictivePipeline& p,
                                                     const std::vector<core::ServiceMetrics>& rows,
                                                     const core::AnomalyRecord& a) {
  const core::pipeline::HistoryRequest need = p.historyNeeded(a);
  std::vector<core::ServiceMetrics> window;
  for (const core::ServiceMetrics& m : rows)
    if (m.service == need.service && m.timestamp > need.from && m.timestamp <= need.to) window.push_back(m);
  p.addHistory(need.service, need.from, need.to, window);
  return p.process(a);
}

}  // namespace stacklens::test
