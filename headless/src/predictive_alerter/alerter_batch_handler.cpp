#include "predictive_alerter/alerter_batch_handler.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <spdlog/spdlog.h>
#include <thread>

#include "service/backoff.h"
#include "stacklens/connect/pg_connection.h"

namespace stacklens::headless::predictive_alerter {

struct AlerterBatchHandler::Records {
  std::vector<core::PredictiveAlert> alerts;
  std::vector<core::ForecastRecord> forecasts;
  std::vector<core::pipeline::AlertMaterialization> materialized;
};

struct AlerterBatchHandler::Metrics {
  std::map<std::pair<std::string, core::Severity>, Counter*> alerts;
  Counter& materialized;
  Counter& forecasts;
  Counter& reused;
  Counter& capacity;
  Counter& skipped;
  Histogram& forecastSeconds;
  Gauge& services;
  Gauge& openAlerts;
  explicit Metrics(MetricsRegistry& registry)
      : materialized(registry.counter("stacklens_alerts_materialized_total",
                                      "Predictive alerts that came true (a matching anomaly inside the window)")),
        forecasts(registry.counter("stacklens_forecasts_total", "Metric forecasts fitted (ARIMA and breach simulation)")),
        reused(registry.counter("stacklens_forecasts_reused_total",
                                "Metric forecasts reused (same service, hour and history)")),
        capacity(registry.counter("stacklens_capacity_forecasts_total", "Capacity plans computed")),
        skipped(registry.counter("stacklens_forecasts_skipped_total",
                                 "Metric forecasts not made (too little history, failed fit)")),
        forecastSeconds(registry.histogram("stacklens_forecast_seconds",
                                           "Time to forecast one anomaly's service (all metrics, breach, capacity)",
                                           latencyBucketsSeconds())),
        services(registry.gauge("stacklens_services", "Services this instance forecasts")),
        openAlerts(registry.gauge("stacklens_open_alerts", "Predictive alerts waiting to materialize or expire")) {
    for (const char* event : {"threshold_breach", "capacity_exhaustion"})
      for (const core::Severity severity : core::kAllSeverities)
        alerts[{event, severity}] = &registry.counter(
            "stacklens_predictive_alerts_total", "Predictive alerts raised, by event and severity",
            {{"event", event}, {"severity", std::string(core::toString(severity))}});
  }
};

namespace {

core::EpochSeconds wallClock() { return static_cast<core::EpochSeconds>(std::time(nullptr)); }

}  // namespace

AlerterBatchHandler::AlerterBatchHandler(service::ServiceRuntime& runtime)
    : runtime_(runtime),
      pipeline_(connect::alerterPipelineConfig(runtime.config()), wallClock),
      metrics_(std::make_unique<Metrics>(runtime.metrics())),
      // A deployed version whose [alerter] combination is invalid is skipped, not applied.
      deployed_(runtime.config().postgres, runtime.metrics(),
                [](const connect::ServiceConfig& config) { connect::alerterPipelineConfig(config); }) {}

AlerterBatchHandler::~AlerterBatchHandler() = default;

// Reads, not writes: retried here while the database is away (the batch is not committed meanwhile).
template <typename Read>
auto AlerterBatchHandler::readWithRetry(const std::string& what, Read&& read) {
  service::Backoff backoff;
  for (;;) {
    try {
      return read(runtime_.store());
    } catch (const connect::PgError& e) {
      if (!e.retryable() || runtime_.stopping()) throw;
      spdlog::warn("{}: {}; retrying", what, e.what());
      std::this_thread::sleep_for(backoff.next());
    }
  }
}

void AlerterBatchHandler::prepare(const core::AnomalyRecord& anomaly) {
  if (seen_.insert(anomaly.service).second) {
    const auto open = readWithRetry("reading the open alerts of " + anomaly.service, [&](connect::PgStore& store) {
      return store.loadOpenAlerts(anomaly.service, anomaly.timestamp);
    });
    pipeline_.restoreAlerts(open);
    if (!open.empty()) spdlog::info("service {}: {} open predictive alerts restored", anomaly.service, open.size());
  }
  const core::pipeline::HistoryRequest need = pipeline_.historyNeeded(anomaly);
  connect::HistoryWindow window =
      readWithRetry("reading the history of " + anomaly.service, [&](connect::PgStore& store) {
        return store.loadHistory(need.service, need.to, std::chrono::seconds(need.to - need.from));
      });
  // A row the table holds with NaN or infinity (PostgreSQL accepts them) is left out, not fatal.
  std::erase_if(window.samples, [&](const core::ServiceMetrics& m) {
    for (const double v : m.features())
      if (!std::isfinite(v)) {
        spdlog::warn("service {}: history row at {} has a non-finite value; left out", m.service,
                     core::formatTimestamp(m.timestamp));
        return true;
      }
    return false;
  });
  pipeline_.addHistory(window.service, window.from, window.to, window.samples);
}

void AlerterBatchHandler::collect(core::pipeline::PredictiveOutput& result, Records& records) {
  for (const auto& m : result.metrics) {
    if (m.reused)
      metrics_->reused.increment();
    else if (m.model.empty())
      metrics_->skipped.increment();
    else
      metrics_->forecasts.increment();
    if (!m.reused && m.model.empty())
      spdlog::debug("service {}: {} not forecast: {}", result.service, m.metric, m.note);
  }
  if (!result.capacity.empty()) metrics_->capacity.increment(static_cast<double>(result.capacity.size()));
  for (auto& alert : result.alerts) {
    alert.alertSent = true;
    if (const auto it = metrics_->alerts.find({alert.predictedEvent, alert.severity}); it != metrics_->alerts.end())
      it->second->increment();
    spdlog::info("predictive alert {}: {} {} {} p={:.2f} window {} .. {}", alert.alertId, alert.service,
                 alert.metric, alert.predictedEvent, alert.breachProbability,
                 core::formatTimestamp(alert.predictedTimeStart), core::formatTimestamp(alert.predictedTimeEnd));
    records.alerts.push_back(std::move(alert));
  }
  for (auto& m : result.materialized) {
    metrics_->materialized.increment();
    spdlog::info("predictive alert {} materialized: anomaly {} at {}", m.alertId, m.anomalyId,
                 core::formatTimestamp(m.at));
    records.materialized.push_back(std::move(m));
  }
  for (auto& f : result.forecasts) records.forecasts.push_back(std::move(f));
}

void AlerterBatchHandler::emit(Records& records, service::BatchOutput& out) {
  const auto& alerter = runtime_.config().alerter;
  if (!records.alerts.empty()) {
    for (const auto& a : records.alerts) out.produce(alerter.alertsTopic, a.service, connect::encodePredictiveAlert(a));
    out.write("ml_predictive_alerts", [rows = std::move(records.alerts)](connect::PgStore& store) {
      store.writeAlerts(rows);
    });
  }
  // After the alerts: an alert raised and materialized within one batch must exist first.
  if (!records.materialized.empty())
    out.write("ml_predictive_alerts materialized", [rows = std::move(records.materialized)](connect::PgStore& store) {
      store.markAlertsMaterialized(rows);
    });
  if (!records.forecasts.empty())
    out.write("ml_forecasts", [rows = std::move(records.forecasts)](connect::PgStore& store) {
      store.writeForecasts(rows);
    });
}

void AlerterBatchHandler::handle(std::span<const connect::KafkaMessage> batch, service::BatchOutput& out) {
  if (auto deployed = deployed_.poll()) {  // a batch boundary: swap in the deployed forecasting settings
    pipeline_ = core::pipeline::PredictivePipeline(connect::alerterPipelineConfig(*deployed), wallClock);
    seen_.clear();  // each service's open alerts are read back into the new pipeline
    runtime_.awaitOutputs();  // ... including those the batch in flight is writing
  }
  Records records;
  for (const connect::KafkaMessage& message : batch) {
    auto decoded = connect::decodeAnomaly(message.value, limits_);
    if (!decoded) {
      out.deadLetter(message, decoded.error);
      continue;
    }
    const core::AnomalyRecord& anomaly = *decoded.value;
    if (!message.key.empty() && message.key != anomaly.service) {
      out.deadLetter(message, "key '" + message.key + "' is not the anomaly's service '" + anomaly.service + "'");
      continue;
    }
    const auto started = std::chrono::steady_clock::now();
    core::pipeline::PredictiveOutput result;
    try {
      prepare(anomaly);
      result = pipeline_.process(anomaly);
    } catch (const core::pipeline::InvalidSample& e) {
      out.deadLetter(message, e.what());
      continue;
    }
    metrics_->forecastSeconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    collect(result, records);
  }
  emit(records, out);
  metrics_->services.set(static_cast<double>(seen_.size()));
  std::size_t open = 0;
  for (const auto& service : seen_) open += pipeline_.openAlerts(service).size();
  metrics_->openAlerts.set(static_cast<double>(open));
}

}  // namespace stacklens::headless::predictive_alerter
