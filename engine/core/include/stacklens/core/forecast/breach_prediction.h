#pragma once
// Breach prediction: how likely a metric is to cross a threshold within the forecast horizon, when,
// and how sure we are - from the forecast distribution, not from the point forecast alone.
//
// Two entry points:
//   - from an ARIMA model: the joint distribution of the future path is simulated from the state-space
//     form (initial state ~ N(a, sigma^2 P), then the model's own dynamics), so the probability that
//     the path crosses at least once accounts for the correlation between steps;
//   - from any ForecastPath (mean and standard error per step): only the per-step (marginal)
//     probabilities are known, and the crossing probability reported is their maximum, a lower
//     bound of the true one.

#include <cstdint>
#include <optional>
#include <vector>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::core::forecast {

enum class BreachDirection {
  kAbove,  ///< breach when the metric rises above the threshold (latency, error rate)
  kBelow,  ///< breach when it falls below (throughput, free space)
};

struct BreachOptions {
  double threshold = 0;
  BreachDirection direction = BreachDirection::kAbove;
  /// The predicted window covers the central `windowLevel` of the first-crossing time (simulation)
  /// or the steps whose breach probability is at least 1 - windowLevel (marginal version).
  double windowLevel = 0.8;
  int simulations = 4000;  ///< simulated paths (ARIMA version)
  std::uint64_t seed = 1;  ///< same seed, same result
};

struct BreachPrediction {
  double probability = 0;  ///< P(the metric crosses the threshold at least once within the horizon)
  std::vector<double> stepProbability;  ///< P(breach at step h), h = 1..horizon
  /// Predicted window of the first crossing (1-based steps after the last observation); empty when
  /// a breach is not expected (probability below 1 - windowLevel).
  std::optional<int> windowStart, windowEnd;
  std::optional<int> expectedStep;  ///< median first-crossing step given a crossing (or first p >= 0.5)
  /// Probability that the predicted outcome (breach when probability >= 0.5, no breach otherwise) is
  /// right under the model: max(probability, 1 - probability).
  double confidence = 0;
};

/// Simulation from a fitted ARIMA model over `horizon` steps. O(simulations * horizon * state size).
/// Throws std::invalid_argument for a model without a state, horizon < 1 or simulations < 1.
BreachPrediction predictBreach(const ArimaModel& model, int horizon, const BreachOptions& options);

/// From marginal Gaussian forecasts (mean, standardError). O(horizon).
BreachPrediction predictBreach(const ForecastPath& path, const BreachOptions& options);

}  // namespace stacklens::core::forecast
