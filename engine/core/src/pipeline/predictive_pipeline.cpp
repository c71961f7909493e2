#include "stacklens/core/pipeline/predictive_pipeline.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "stacklens/core/forecast/auto_arima.h"
#include "stacklens/core/forecast/breach_prediction.h"
#include "stacklens/core/pipeline/alert_materialization.h"

namespace stacklens::core::pipeline {
namespace {

namespace fc = forecast;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr std::string_view kThresholdBreach = "threshold_breach";
constexpr std::string_view kCapacityExhaustion = "capacity_exhaustion";

std::string number(double v, int digits = 3) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return buffer;
}

std::string_view advice(std::string_view metric) {
  if (metric == "error_rate") return "check recent deployments and failing dependencies, and prepare a rollback";
  if (metric.rfind("latency", 0) == 0)
    return "check saturation (CPU, connection pools, slow queries) and add capacity before the window";
  if (metric == "risk_score") return "review authentication failures and traffic sources for abuse";
  return "check the metric's recent trend and the capacity behind it";
}

// Breach alerts: the more likely and the sooner, the more severe.
Severity breachSeverity(double probability, double leadHours) {
  if (probability >= 0.9 && leadHours <= 3) return Severity::kCritical;
  if (probability >= 0.75 && leadHours <= 12) return Severity::kHigh;
  if (probability >= 0.5) return Severity::kMedium;
  return Severity::kLow;
}

// The fields every alert has; the id is stable for the same prediction from the same origin.
PredictiveAlert newAlert(const std::string& service, const std::string& metric, std::string_view event,
                         const fc::BreachPrediction& breach, double limit, EpochSeconds origin, EpochSeconds start,
                         EpochSeconds end) {
  PredictiveAlert alert;
  alert.service = service;
  alert.metric = metric;
  alert.predictedEvent = std::string(event);
  alert.breachProbability = std::clamp(breach.probability, 0.0, 1.0);
  alert.predictionConfidence = std::clamp(breach.confidence, 0.0, 1.0);
  alert.threshold = limit;
  alert.predictedTimeStart = start;
  alert.predictedTimeEnd = end;
  alert.alertId = md5Hex(service + "|" + metric + "|" + alert.predictedEvent + "|" + std::to_string(origin) + "|" +
                         std::to_string(start));
  return alert;
}

// A stable seed per (service, metric, origin): the same input simulates the same paths.
std::uint64_t seedFor(std::uint64_t base, std::string_view service, std::string_view metric, EpochSeconds origin) {
  const std::string digest = md5Hex(std::string(service) + "|" + std::string(metric) + "|" + std::to_string(origin));
  std::uint64_t value = 0;
  std::from_chars(digest.data(), digest.data() + 16, value, 16);
  return value ^ base;
}

bool isConstant(const std::vector<double>& y, double& value) {
  bool first = true;
  double lo = 0, hi = 0;
  for (double v : y) {
    if (std::isnan(v)) continue;
    lo = first ? v : std::min(lo, v);
    hi = first ? v : std::max(hi, v);
    first = false;
  }
  value = hi;
  return !first && hi - lo <= 1e-12 * std::max(1.0, std::abs(hi));
}

void requireRange(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("predictive pipeline: " + what);
}

}  // namespace

std::map<std::string, double> defaultAlertThresholds() {
  return {{"error_rate", 5.0},
          {"latency_p99_ms", 1000.0},
          {"latency_p95_ms", 800.0},
          {"latency_mean_ms", 500.0},
          {"risk_score", 0.8}};
}

std::optional<fc::ArimaOrder> parseForecastOrder(std::string_view text) {
  if (text == "auto") return std::nullopt;
  const std::string quoted = "'" + std::string(text) + "'";
  const std::optional<std::vector<int>> numbers = fc::parseOrderNumbers(text);
  if (!numbers) throw std::invalid_argument(quoted + " is not \"auto\" or p,d,q[,P,D,Q,s] with whole numbers >= 0");
  const std::vector<int>& parts = *numbers;
  if (parts.size() != 3 && parts.size() != 7)
    throw std::invalid_argument(quoted + ": give 3 orders (p,d,q) or 7 (p,d,q,P,D,Q,s)");
  fc::ArimaOrder order{parts[0], parts[1], parts[2], 0, 0, 0, 1};
  if (parts.size() == 7) order = {parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], std::max(parts[6], 1)};
  if (order.d > 2 || order.D > 1) throw std::invalid_argument(quoted + ": at most d = 2 and D = 1");
  if (order.p > 10 || order.q > 10 || order.P > 5 || order.Q > 5)
    throw std::invalid_argument(quoted + ": orders above p, q = 10 or P, Q = 5 are not supported");
  if ((order.P || order.D || order.Q) && order.period < 2)
    throw std::invalid_argument(quoted + ": a seasonal order needs a period s >= 2");
  return order;
}

void PredictivePipelineConfig::validate() const {
  requireRange(historyHours >= 1, "historyHours must be >= 1");
  requireRange(modelHistoryHours >= historyHours, "modelHistoryHours must be >= historyHours");
  requireRange(stepSeconds >= 1, "stepSeconds must be >= 1");
  requireRange(minSamples >= 4, "minSamples must be >= 4");
  requireRange(horizon >= 1, "horizon must be >= 1");
  requireRange(level > 0 && level < 100, "level must be in (0, 100)");
  requireRange(alertProbability > 0 && alertProbability <= 1, "alertProbability must be in (0, 1]");
  requireRange(windowLevel > 0 && windowLevel < 1, "windowLevel must be in (0, 1)");
  requireRange(simulations >= 1, "simulations must be >= 1");
  requireRange(capacityEvery >= 1, "capacityEvery must be >= 1");
  requireRange(capacityHorizonHours >= 1, "capacityHorizonHours must be >= 1");
  requireRange(refitEveryHours >= 0, "refitEveryHours must be >= 0");
  requireRange(orderSearchSeconds >= 0, "orderSearchSeconds must be >= 0");
  for (const auto* limits : {&thresholds, &capacity})
    for (const auto& [metric, value] : *limits) {
      const std::string table = limits == &thresholds ? "threshold" : "capacity";
      requireRange(featureIndex(metric).has_value(), table + " metric '" + metric + "' is not one of the 8 features");
      requireRange(std::isfinite(value), table + " of '" + metric + "' must be finite");
    }
  for (const auto& [metric, value] : capacity) requireRange(value > 0, "capacity of '" + metric + "' must be > 0");
  if (order) {
    const fc::ArimaOrder& o = *order;
    requireRange(std::min({o.p, o.d, o.q, o.P, o.D, o.Q}) >= 0, "orders must be >= 0, got " + o.toString());
    requireRange(!(o.P || o.D || o.Q) || o.period >= 2, "a seasonal order needs a period >= 2, got " + o.toString());
  }
}

// Per metric: the model estimated last and the forecast of the last origin.
struct PredictivePipeline::MetricModel {
  std::optional<fc::ArimaModel> model;  // the last estimate, refreshed with each new hour
  int period = 1;
  EpochSeconds estimatedAt = 0;
  bool cached = false;
  EpochSeconds origin = 0;
  std::uint64_t dataVersion = 0;
  MetricForecast outcome;
};

struct PredictivePipeline::ServiceState {
  std::string name;
  std::map<EpochSeconds, FeatureVector> samples;  // by window timestamp
  bool covered = false;
  EpochSeconds coveredFrom = 0, coveredTo = 0;   // samples held for (from, to]
  std::uint64_t dataVersion = 0;                 // bumped whenever the held rows change
  std::uint64_t messages = 0;
  std::map<std::string, MetricModel> models;
  std::vector<PredictiveAlert> open;
};

PredictivePipeline::PredictivePipeline(PredictivePipelineConfig config, Clock clock)
    : config_(std::move(config)), clock_(std::move(clock)) {
  config_.validate();
}

PredictivePipeline::~PredictivePipeline() = default;
PredictivePipeline::PredictivePipeline(PredictivePipeline&&) noexcept = default;
PredictivePipeline& PredictivePipeline::operator=(PredictivePipeline&&) noexcept = default;

PredictivePipeline::ServiceState& PredictivePipeline::stateFor(const std::string& service) {
  auto& slot = services_[service];
  if (!slot) {
    slot = std::make_unique<ServiceState>();
    slot->name = service;
  }
  return *slot;
}

HistoryRequest PredictivePipeline::historyNeeded(const AnomalyRecord& anomaly) const {
  const EpochSeconds t = anomaly.timestamp;
  const EpochSeconds model = static_cast<EpochSeconds>(config_.modelHistoryHours) * 3600;
  const EpochSeconds recent = static_cast<EpochSeconds>(config_.historyHours) * 3600;
  HistoryRequest request{anomaly.service, t - model, t};
  const auto it = services_.find(anomaly.service);
  if (it == services_.end() || !it->second->covered) return request;
  const ServiceState& s = *it->second;
  // Held rows must reach back to the model window's start and overlap it; else reload it all.
  if (t - model < s.coveredFrom || t <= s.coveredFrom || t - model >= s.coveredTo) return request;
  request.from = std::max(t - model, std::min(s.coveredTo, t - recent));
  return request;
}

void PredictivePipeline::addHistory(const std::string& service, EpochSeconds from, EpochSeconds to,
                                    std::span<const ServiceMetrics> samples) {
  if (to < from) throw InvalidSample("history window of '" + service + "' ends before it starts");
  for (const ServiceMetrics& m : samples) {
    if (m.service != service)
      throw InvalidSample("history of '" + service + "' holds a row of '" + m.service + "'");
    if (m.timestamp <= from || m.timestamp > to)
      throw InvalidSample("history row of '" + service + "' at " + formatTimestamp(m.timestamp) +
                          " lies outside the window it was loaded for");
    for (std::size_t i = 0; i < kFeatureCount; ++i)
      if (!std::isfinite(m.features()[i]))
        throw InvalidSample("history row of '" + service + "' at " + formatTimestamp(m.timestamp) + ": " +
                            std::string(kFeatureNames[i]) + " is not finite");
  }
  ServiceState& s = stateFor(service);
  const bool disjoint = !s.covered || from > s.coveredTo || to < s.coveredFrom;
  std::map<EpochSeconds, FeatureVector> fresh;
  for (const ServiceMetrics& m : samples) fresh[m.timestamp] = m.features();

  bool changed = false;
  if (disjoint) {
    changed = s.samples != fresh;
    s.samples = std::move(fresh);
    s.coveredFrom = from;
    s.coveredTo = to;
    s.covered = true;
  } else {
    const auto begin = s.samples.upper_bound(from), end = s.samples.upper_bound(to);
    changed = !std::equal(begin, end, fresh.begin(), fresh.end());
    s.samples.erase(begin, end);
    s.samples.insert(fresh.begin(), fresh.end());
    s.coveredFrom = std::min(s.coveredFrom, from);
    s.coveredTo = std::max(s.coveredTo, to);
  }
  // Keep the model window before the newest held time.
  const EpochSeconds keepFrom = s.coveredTo - static_cast<EpochSeconds>(config_.modelHistoryHours) * 3600;
  if (s.coveredFrom < keepFrom) {
    s.samples.erase(s.samples.begin(), s.samples.upper_bound(keepFrom));
    s.coveredFrom = keepFrom;
  }
  if (changed) ++s.dataVersion;
}

void PredictivePipeline::restoreAlerts(std::span<const PredictiveAlert> alerts) {
  for (const PredictiveAlert& alert : alerts) {
    if (alert.materialized || alert.service.empty()) continue;
    ServiceState& s = stateFor(alert.service);
    const bool held = std::any_of(s.open.begin(), s.open.end(),
                                  [&](const PredictiveAlert& a) { return a.alertId == alert.alertId; });
    if (!held) s.open.push_back(alert);
  }
}

std::vector<PredictiveAlert> PredictivePipeline::openAlerts(const std::string& service) const {
  const auto it = services_.find(service);
  return it == services_.end() ? std::vector<PredictiveAlert>{} : it->second->open;
}

std::size_t PredictivePipeline::heldSamples(const std::string& service) const {
  const auto it = services_.find(service);
  return it == services_.end() ? 0 : it->second->samples.size();
}

// The metric's series on the grid T - (n-1) step, ..., T from the earliest held row in the model
// window (NaN where a row is missing); the anomaly's own value fills T when no row has it.
std::vector<double> PredictivePipeline::series(const ServiceState& s, const AnomalyRecord& anomaly,
                                               std::size_t feature) const {
  const EpochSeconds t = anomaly.timestamp, step = config_.stepSeconds;
  const EpochSeconds windowStart = t - static_cast<EpochSeconds>(config_.modelHistoryHours) * 3600;
  const auto first = s.samples.upper_bound(windowStart), last = s.samples.upper_bound(t);
  std::vector<double> y;
  if (first != last) {
    const EpochSeconds steps = (t - first->first + step / 2) / step;
    y.assign(static_cast<std::size_t>(steps + 1), kNan);
    for (auto it = first; it != last; ++it) {
      const EpochSeconds back = (t - it->first + step / 2) / step;  // nearest grid point
      if (back >= 0 && back <= steps) y[static_cast<std::size_t>(steps - back)] = it->second[feature];
    }
  }
  if (y.empty()) y.push_back(kNan);
  if (std::isnan(y.back())) {
    const auto observed = anomaly.metricValues.find(std::string(kFeatureNames[feature]));
    if (observed != anomaly.metricValues.end() && std::isfinite(observed->second)) y.back() = observed->second;
  }
  return y;
}

void PredictivePipeline::materialize(ServiceState& s, const AnomalyRecord& anomaly, PredictiveOutput& out) {
  const EpochSeconds t = anomaly.timestamp;
  std::vector<PredictiveAlert> still;
  for (PredictiveAlert& alert : s.open) {
    if (alert.predictedTimeEnd < t) {
      ++statistics_.expired;
      continue;
    }
    if (materializes({alert.metric, alert.threshold, alert.predictedTimeStart, alert.predictedTimeEnd}, anomaly)) {
      out.materialized.push_back({alert.alertId, alert.service, alert.metric, anomaly.anomalyId, t});
      ++statistics_.materialized;
      continue;
    }
    still.push_back(std::move(alert));
  }
  s.open = std::move(still);
}

void PredictivePipeline::raise(ServiceState& s, PredictiveAlert alert, PredictiveOutput& out) {
  const EpochSeconds next = out.origin + config_.stepSeconds;
  const bool pending = std::any_of(s.open.begin(), s.open.end(), [&](const PredictiveAlert& a) {
    return a.alertId == alert.alertId ||
           (a.metric == alert.metric && a.predictedEvent == alert.predictedEvent && a.predictedTimeEnd >= next);
  });
  if (pending) {
    ++out.suppressed;
    return;
  }
  ++statistics_.alerts;
  ++statistics_.alertsBySeverity[alert.severity];
  s.open.push_back(alert);
  out.alerts.push_back(std::move(alert));
}

void PredictivePipeline::forecastMetric(ServiceState& s, const AnomalyRecord& anomaly, const std::string& metric,
                                        double threshold, PredictiveOutput& out) {
  MetricModel& cache = s.models[metric];
  const EpochSeconds t = anomaly.timestamp, step = config_.stepSeconds;
  if (cache.cached && cache.origin == t && cache.dataVersion == s.dataVersion) {
    MetricForecast reused = cache.outcome;
    reused.reused = true;
    reused.searched = reused.estimated = false;
    out.metrics.push_back(std::move(reused));
    ++statistics_.forecastsReused;
    return;
  }
  MetricForecast result;
  result.metric = metric;
  const std::vector<double> y = series(s, anomaly, *featureIndex(metric));
  result.observations = static_cast<int>(std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); }));
  auto remember = [&] {
    cache.cached = true;
    cache.origin = t;
    cache.dataVersion = s.dataVersion;
    cache.outcome = result;
    out.metrics.push_back(result);
  };
  if (result.observations < config_.minSamples) {
    result.note = "insufficient history: " + std::to_string(result.observations) + " of " +
                  std::to_string(config_.minSamples) + " hourly values";
    return remember();
  }

  fc::ForecastPath path;
  fc::BreachPrediction breach;
  double flatValue = 0;
  if (isConstant(y, flatValue)) {
    // Nothing to fit: the metric never moved in the window.
    result.model = "constant";
    path.mean.assign(static_cast<std::size_t>(config_.horizon), flatValue);
    path.lower = path.upper = path.mean;
    path.standardError.assign(path.mean.size(), 0.0);
    path.level = config_.level;
    const bool above = flatValue > threshold;
    breach.probability = above ? 1 : 0;
    breach.confidence = 1;
    breach.stepProbability.assign(path.mean.size(), breach.probability);
    if (above) {
      breach.windowStart = breach.expectedStep = 1;
      breach.windowEnd = config_.horizon;
    }
  } else {
    try {
      const int period = config_.seasonalPeriod >= 2 && result.observations >= 3 * config_.seasonalPeriod
                             ? config_.seasonalPeriod
                             : 1;
      const EpochSeconds refitAfter = static_cast<EpochSeconds>(config_.refitEveryHours) * 3600;
      const bool due = !cache.model || cache.period != period || t < cache.estimatedAt ||
                       t - cache.estimatedAt >= refitAfter;
      if (!due) {
        cache.model = fc::refilterArima(*cache.model, y);  // new hours through the filter, no estimation
      } else if (config_.order) {
        fc::ArimaSpec spec;
        spec.order = *config_.order;
        cache.model = fc::fitArima(y, spec);
        ++statistics_.modelFits;
      } else {
        fc::AutoArimaOptions options;
        options.period = period;
        options.timeLimitSeconds = config_.orderSearchSeconds;
        const fc::AutoArimaResult search = fc::autoArima(y, options);
        cache.model = search.model;
        statistics_.modelFits += search.searched.size() + 1;
        ++statistics_.orderSearches;
        result.searched = true;
      }
      if (due) {
        cache.period = period;
        cache.estimatedAt = t;
        result.estimated = true;
      }
      path = fc::forecastArima(*cache.model, config_.horizon, config_.level);
      fc::BreachOptions options;
      options.threshold = threshold;
      options.windowLevel = config_.windowLevel;
      options.simulations = config_.simulations;
      options.seed = seedFor(config_.seed, s.name, metric, t);
      breach = fc::predictBreach(*cache.model, config_.horizon, options);
    } catch (const std::exception& e) {
      cache.model.reset();
      result.note = std::string("forecast failed: ") + e.what();
      return remember();
    }
    result.model = cache.model->describe();
  }

  for (int h = 1; h <= config_.horizon; ++h) {
    const auto i = static_cast<std::size_t>(h - 1);
    out.forecasts.push_back({s.name, metric, t, t + h * step, h, path.mean[i], path.lower[i], path.upper[i],
                             config_.level, result.model});
  }
  result.breachProbability = breach.probability;
  result.windowStart = breach.windowStart;
  result.windowEnd = breach.windowEnd;
  remember();

  if (breach.probability < config_.alertProbability) return;
  const int startStep = breach.windowStart.value_or(breach.expectedStep.value_or(1));
  const int endStep = std::max(startStep, breach.windowEnd.value_or(config_.horizon));
  PredictiveAlert alert = newAlert(s.name, metric, kThresholdBreach, breach, threshold, t, t + startStep * step,
                                   t + endStep * step);
  alert.severity = breachSeverity(breach.probability, static_cast<double>(startStep * step) / 3600.0);
  alert.createdAt = clock_ ? clock_() : t;
  alert.recommendation = metric + " is forecast to exceed " + number(threshold, 6) + " between " +
                         formatTimestamp(alert.predictedTimeStart) + " and " + formatTimestamp(alert.predictedTimeEnd) +
                         " (probability " + number(breach.probability, 2) + ", " + result.model + "): " +
                         std::string(advice(metric)) + ".";
  raise(s, std::move(alert), out);
}

void PredictivePipeline::planCapacity(ServiceState& s, const AnomalyRecord& anomaly, PredictiveOutput& out) {
  ++statistics_.capacityRuns;
  const EpochSeconds t = anomaly.timestamp, step = config_.stepSeconds;
  const auto& limits = config_.capacity.empty() ? config_.thresholds : config_.capacity;
  for (const auto& [metric, capacity] : limits) {
    if (!(capacity > 0)) continue;
    const std::vector<double> y = series(s, anomaly, *featureIndex(metric));
    const auto observed = std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); });
    if (observed < config_.minSamples) continue;
    fc::CapacityOptions options;
    options.capacity = capacity;
    options.stepHours = static_cast<double>(step) / 3600.0;
    options.horizon = std::max(1, static_cast<int>(static_cast<EpochSeconds>(config_.capacityHorizonHours) * 3600 / step));
    options.levelPercent = config_.level;
    options.period = config_.seasonalPeriod >= 2 && static_cast<int>(y.size()) >= 2 * config_.seasonalPeriod
                         ? config_.seasonalPeriod
                         : 1;
    CapacityForecast result{metric, capacity, {}};
    try {
      result.plan = fc::planCapacity(y, options);
    } catch (const std::exception&) {
      continue;  // e.g. too few distinct values for the trend models: no plan this time
    }
    out.capacity.push_back(result);
    const fc::CapacityPlan& plan = result.plan;
    // An exhaustion already under way is the anomaly stream's business; alert on predicted ones.
    if (plan.status != fc::CapacityStatus::kWarning && plan.status != fc::CapacityStatus::kCritical) continue;
    // The model that reaches the limit first decides, as the plan's status does.
    const bool linearFirst =
        plan.linearExhaustion.expected &&
        (!plan.dampedExhaustion.expected || *plan.linearExhaustion.expected <= *plan.dampedExhaustion.expected);
    const fc::Exhaustion& ex = linearFirst ? plan.linearExhaustion : plan.dampedExhaustion;
    if (!ex.expected) continue;
    fc::ForecastPath path = linearFirst ? fc::forecastLinearTrend(plan.linear, options.horizon, options.levelPercent)
                                        : fc::forecastDampedTrend(plan.damped, options.horizon, options.levelPercent);
    for (std::size_t h = 0; h < path.mean.size() && !plan.seasonalCycle.empty(); ++h)
      path.mean[h] += plan.seasonalCycle[h % plan.seasonalCycle.size()];
    fc::BreachOptions breachOptions;
    breachOptions.threshold = capacity;
    const fc::BreachPrediction breach = fc::predictBreach(path, breachOptions);

    const int startStep = ex.earliest.value_or(*ex.expected);
    const int endStep = std::max(startStep, ex.latest.value_or(options.horizon));
    PredictiveAlert alert = newAlert(s.name, metric, kCapacityExhaustion, breach, capacity, t, t + startStep * step,
                                     t + endStep * step);
    alert.severity = plan.status == fc::CapacityStatus::kCritical ? Severity::kCritical : Severity::kHigh;
    alert.createdAt = clock_ ? clock_() : t;
    alert.recommendation = metric + " (limit " + number(capacity, 6) + "): ";
    for (std::size_t i = 0; i < plan.recommendations.size(); ++i)
      alert.recommendation += (i ? " " : "") + plan.recommendations[i];
    raise(s, std::move(alert), out);
  }
}

PredictiveOutput PredictivePipeline::process(const AnomalyRecord& anomaly) {
  std::string problem;
  if (anomaly.service.empty()) problem = "anomaly without a service";
  else if (anomaly.anomalyId.empty()) problem = "anomaly of '" + anomaly.service + "' without an anomaly_id";
  else if (anomaly.timestamp <= 0) problem = "anomaly '" + anomaly.anomalyId + "' has no timestamp";
  if (!problem.empty()) {
    ++statistics_.rejected;
    throw InvalidSample(problem);
  }
  ServiceState& s = stateFor(anomaly.service);
  PredictiveOutput out;
  out.service = anomaly.service;
  out.origin = anomaly.timestamp;
  materialize(s, anomaly, out);
  for (const auto& [metric, threshold] : config_.thresholds) forecastMetric(s, anomaly, metric, threshold, out);
  if (++s.messages % static_cast<std::uint64_t>(config_.capacityEvery) == 0) planCapacity(s, anomaly, out);
  ++statistics_.anomalies;
  return out;
}

}  // namespace stacklens::core::pipeline
