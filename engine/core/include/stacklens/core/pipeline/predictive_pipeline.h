#pragma once
// The original PredictiveAlerter as pure logic: "anomaly in → forecasts and predictive alerts
// out". No Kafka, no SQL, no clock of its own: `stacklens predictive-alerter` wires it to
// ml-anomalies, analytics_metrics_1hour, ml_forecasts, ml_predictive_alerts and
// predictive-alerts; a backtest can drive the same code from files.
//
// For every anomaly of service S at window timestamp T:
//   1. Materialization: an open alert of S whose predicted window [start, end] holds T and whose
//      metric the anomaly concerns (by its type, e.g. error_spike → error_rate, or because the
//      anomaly's observed value of that metric crosses the alert's threshold) is reported as
//      materialized at T. Alerts whose window ended before T are closed unmaterialized. The rule
//      is pipeline::materializes (alert_materialization.h), which backtests apply too.
//   2. History: the caller asks historyNeeded(anomaly) and hands the rows of
//      analytics_metrics_1hour in that window to addHistory(). A service seen for the first time
//      needs the model window (modelHistoryHours, 7 days by default); after that only the recent
//      window (historyHours, the original's 4 hours) is re-read per anomaly, which picks up new
//      and corrected rows while the pipeline keeps the rest. Why two windows: 4 hourly points
//      cannot identify an ARIMA model, let alone a daily cycle, but they are the cheap read the
//      original did per message.
//   3. Forecast: per thresholded metric, the hourly series of the model window ending at T
//      (missing hours are NaN, which the Kalman filter skips; the anomaly's own observed value
//      fills T when the table has no row yet) is fitted with the configured order or an
//      automatic one (Hyndman-Khandakar, seasonal with period 24 once the window holds three
//      periods). Orders (when automatic) and coefficients are estimated when a metric is first
//      forecast and again after refitEveryHours of new data; in between, each new hour goes
//      through the estimated model's Kalman filter (forecast::refilterArima) without estimation,
//      which keeps the model current at a fraction of a refit's cost. A forecast of `horizon`
//      steps with its interval becomes ForecastRecords (created_at = the origin T, so a replay
//      rewrites the same rows).
//      Anomalies of the same service and hour with unchanged history reuse the forecast.
//   4. Breach: the probability that the metric crosses its threshold within the horizon is
//      simulated from the fitted model's state-space form (forecast/breach_prediction.h); at
//      alertProbability or more a PredictiveAlert "threshold_breach" is raised with the predicted
//      window (central windowLevel of the first-crossing time), confidence and a recommendation -
//      unless an open alert for the same metric and event is still pending.
//   5. Capacity: every capacityEvery-th anomaly of a service, a CapacityPlan (linear and
//      damped-trend models, forecast/capacity_planner.h) per capacity metric over the model
//      window; a predicted exhaustion within capacityHorizonHours (status warning or critical)
//      raises a "capacity_exhaustion" alert.
//
// Results depend only on the sequence of calls and the configuration (simulation seeds derive
// from the seed, service, metric and origin).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/forecast/arima.h"
#include "stacklens/core/forecast/capacity_planner.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/records.h"

namespace stacklens::core::pipeline {

/// The original system's alert thresholds: error_rate 5 (%), latency_p99_ms 1000,
/// latency_p95_ms 800, latency_mean_ms 500, risk_score 0.8.
std::map<std::string, double> defaultAlertThresholds();

/// "auto" → nullopt; "p,d,q" or "p,d,q,P,D,Q,s" (whole numbers, d ≤ 2, D ≤ 1, s ≥ 2 when a
/// seasonal order is set) → the order. Throws std::invalid_argument naming what is wrong.
std::optional<forecast::ArimaOrder> parseForecastOrder(std::string_view text);

struct PredictivePipelineConfig {
  // ---- history ----
  int historyHours = 4;          ///< recent window re-read per anomaly (the original's load), ≥ 1
  int modelHistoryHours = 168;   ///< window the models are fitted on, ≥ historyHours
  int stepSeconds = 3600;        ///< spacing of the history rows (analytics_metrics_1hour)
  int minSamples = 12;           ///< observed values a metric needs before it is forecast, ≥ 4
  // ---- forecast ----
  std::optional<forecast::ArimaOrder> order;  ///< nullopt: automatic orders
  int seasonalPeriod = 24;       ///< steps per season for automatic orders (≤ 1: non-seasonal)
  /// Hours of new data before orders (when automatic) and coefficients are estimated again; in
  /// between the model is refreshed with the new hours. 0: estimate for every new hour.
  int refitEveryHours = 24;
  /// Bound of one automatic order search, seconds (0: none). A search that reaches it returns the
  /// best model found so far - less reproducible, but a burst of new services cannot stall the
  /// consumer past Kafka's max.poll.interval.ms. Searches on a week of hourly data take 0.1-2.5 s.
  double orderSearchSeconds = 5;
  int horizon = 24;              ///< forecast steps, ≥ 1
  double level = 90;             ///< interval level of ForecastRecords, percent, (0, 100)
  // ---- threshold breaches ----
  std::map<std::string, double> thresholds = defaultAlertThresholds();  ///< feature name → limit (above)
  double alertProbability = 0.5;  ///< raise an alert at this breach probability or more, (0, 1]
  double windowLevel = 0.8;       ///< share of the first-crossing distribution the window covers
  int simulations = 1000;         ///< simulated paths per breach prediction (Monte Carlo error ≤ 1.6 %)
  std::uint64_t seed = 1;
  // ---- capacity ----
  int capacityEvery = 100;        ///< anomalies of a service between capacity forecasts, ≥ 1
  /// feature name → capacity limit; empty: the thresholds serve as limits (how long until the
  /// metric's slow drift reaches its alert threshold).
  std::map<std::string, double> capacity;
  int capacityHorizonHours = 24 * 30;  ///< look-ahead of capacity forecasts

  /// Throws std::invalid_argument naming the first bad setting (ranges above, metric names that
  /// are not one of the 8 features).
  void validate() const;
};

/// The rows of analytics_metrics_1hour the pipeline needs: samples with from < timestamp ≤ to.
struct HistoryRequest {
  std::string service;
  EpochSeconds from = 0;
  EpochSeconds to = 0;
};

/// One metric's forecast for one anomaly (for logs, tests and the metrics endpoint).
struct MetricForecast {
  std::string metric;
  std::string model;       ///< e.g. "ARIMA(1,0,1)(0,1,1)[24]"; empty when not forecast
  int observations = 0;    ///< observed values in the model window
  bool reused = false;     ///< same origin and history as before: nothing refitted
  bool estimated = false;  ///< coefficients were estimated (else the model was refreshed)
  bool searched = false;   ///< an automatic order search ran
  double breachProbability = 0;
  std::optional<int> windowStart, windowEnd;  ///< steps after T, when a breach is expected
  std::string note;        ///< why the metric was not forecast, or why no alert was raised
};

/// One capacity forecast.
struct CapacityForecast {
  std::string metric;
  double capacity = 0;
  forecast::CapacityPlan plan;
};

/// An open alert that came true.
struct AlertMaterialization {
  std::string alertId;
  std::string service;
  std::string metric;
  std::string anomalyId;  ///< the anomaly that matched
  EpochSeconds at = 0;    ///< the anomaly's window timestamp
};

struct PredictiveOutput {
  std::string service;
  EpochSeconds origin = 0;  ///< T: the anomaly's window timestamp, the forecasts' origin
  std::vector<MetricForecast> metrics;
  std::vector<CapacityForecast> capacity;  ///< on capacity runs
  std::vector<ForecastRecord> forecasts;   ///< new forecasts only (none when reused)
  std::vector<PredictiveAlert> alerts;     ///< new alerts
  std::vector<AlertMaterialization> materialized;
  int suppressed = 0;                      ///< alerts not raised because one is pending
};

struct PredictiveStatistics {
  std::uint64_t anomalies = 0;       ///< process() calls that succeeded
  std::uint64_t rejected = 0;        ///< process() calls that threw InvalidSample
  std::uint64_t modelFits = 0;       ///< ARIMA fits (including searches)
  std::uint64_t orderSearches = 0;
  std::uint64_t forecastsReused = 0;
  std::uint64_t capacityRuns = 0;
  std::uint64_t alerts = 0;
  std::map<Severity, std::uint64_t> alertsBySeverity;
  std::uint64_t materialized = 0;
  std::uint64_t expired = 0;         ///< alerts whose window passed without a matching anomaly
};

class PredictivePipeline {
 public:
  /// Throws std::invalid_argument when config.validate() does. `clock` stamps
  /// PredictiveAlert::createdAt; when empty, the anomaly's timestamp is used.
  explicit PredictivePipeline(PredictivePipelineConfig config = {}, Clock clock = {});
  ~PredictivePipeline();
  PredictivePipeline(PredictivePipeline&&) noexcept;
  PredictivePipeline& operator=(PredictivePipeline&&) noexcept;

  /// The history to load before process(anomaly): the model window for a service not seen yet
  /// (or when the anomaly lies outside what is held), otherwise the recent window plus any gap
  /// since the last load. O(log services).
  HistoryRequest historyNeeded(const AnomalyRecord& anomaly) const;

  /// Rows of analytics_metrics_1hour with from < timestamp ≤ to (any order). They replace what
  /// the pipeline holds in that window, so deleted or corrected rows are seen. Rows of another
  /// service or with non-finite values throw InvalidSample and change nothing. The pipeline
  /// keeps at most the model window per service. O(rows log rows).
  void addHistory(const std::string& service, EpochSeconds from, EpochSeconds to,
                  std::span<const ServiceMetrics> samples);

  /// Open (not materialized) alerts read back after a restart, so that they can still
  /// materialize and are not raised twice. Alerts already held are ignored.
  void restoreAlerts(std::span<const PredictiveAlert> alerts);

  /// Steps 1-5 above for one anomaly. Throws InvalidSample (empty service or id, timestamp ≤ 0)
  /// and counts it as rejected. Cost: per metric one ARIMA fit (an order search when due) and a
  /// breach simulation, O(simulations · horizon · state); nothing when the forecast is reused.
  PredictiveOutput process(const AnomalyRecord& anomaly);

  const PredictivePipelineConfig& config() const { return config_; }
  const PredictiveStatistics& statistics() const { return statistics_; }
  /// Open alerts of a service, oldest first.
  std::vector<PredictiveAlert> openAlerts(const std::string& service) const;
  /// History rows held for a service.
  std::size_t heldSamples(const std::string& service) const;

 private:
  struct ServiceState;
  struct MetricModel;
  ServiceState& stateFor(const std::string& service);
  void materialize(ServiceState& s, const AnomalyRecord& anomaly, PredictiveOutput& out);
  void forecastMetric(ServiceState& s, const AnomalyRecord& anomaly, const std::string& metric, double threshold,
                      PredictiveOutput& out);
  void planCapacity(ServiceState& s, const AnomalyRecord& anomaly, PredictiveOutput& out);
  void raise(ServiceState& s, PredictiveAlert alert, PredictiveOutput& out);
  std::vector<double> series(const ServiceState& s, const AnomalyRecord& anomaly, std::size_t feature) const;

  PredictivePipelineConfig config_;
  Clock clock_;
  PredictiveStatistics statistics_;
  std::map<std::string, std::unique_ptr<ServiceState>> services_;
};

}  // namespace stacklens::core::pipeline
