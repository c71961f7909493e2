#include "ml_service/ml_batch_handler.h"

#include <chrono>
#include <spdlog/spdlog.h>
#include <thread>

#include "service/backoff.h"
#include "stacklens/connect/pg_connection.h"

namespace stacklens::headless::ml_service {

struct MlBatchHandler::Records {
  std::vector<core::AnomalyRecord> anomalies;
  std::vector<core::PatternRecord> patterns;
  std::vector<core::TrendRecord> trends;
  std::vector<core::ModelRecord> models;
};

struct MlBatchHandler::Metrics {
  std::map<core::Severity, Counter*> anomalies;
  Counter& retrains;
  Counter& replayed;
  Gauge& services;
  Gauge& warmingUp;
  Gauge& refitBacklog;
  explicit Metrics(MetricsRegistry& registry)
      : retrains(registry.counter("stacklens_retrains_total", "Model sets trained or refitted and swapped in")),
        replayed(registry.counter("stacklens_messages_replayed_total",
                                  "Samples at a timestamp the service had already taken (redeliveries), skipped")),
        services(registry.gauge("stacklens_services", "Services this instance keeps models for")),
        warmingUp(registry.gauge("stacklens_services_warming_up", "Services still collecting training samples")),
        refitBacklog(registry.gauge("stacklens_refit_backlog", "Refits queued or running on the worker")) {
    for (const core::Severity severity : core::kAllSeverities)
      anomalies[severity] = &registry.counter("stacklens_anomalies_total", "Anomalies detected, by severity",
                                              {{"severity", std::string(core::toString(severity))}});
  }
};

MlBatchHandler::MlBatchHandler(service::ServiceRuntime& runtime)
    : runtime_(runtime),
      worker_(runtime.config().ml.refitThreads),
      pipeline_(runtime.config().pipelineConfig(), {}, worker_.executor()),
      metrics_(std::make_unique<Metrics>(runtime.metrics())),
      // A deployed version the pipeline would refuse (e.g. history_capacity below
      // min_training_samples) is skipped instead of failing the batch that swaps it in.
      deployed_(runtime.config().postgres, runtime.metrics(),
                [](const connect::ServiceConfig& config) { core::pipeline::MlPipeline check(config.pipelineConfig()); }) {
  limits_.maxMessageBytes = static_cast<std::size_t>(runtime.config().ml.maxMessageBytes);
  spdlog::info("refits run on {} background thread(s)", worker_.threads());
}

MlBatchHandler::~MlBatchHandler() = default;

void MlBatchHandler::firstSeen(const core::ServiceMetrics& sample, Records& records) {
  const connect::ServiceConfig& config = runtime_.config();
  const std::chrono::seconds span = std::chrono::hours(24) * config.ml.historyDays;
  connect::HistoryWindow history;
  service::Backoff backoff;
  for (;;) {  // a read, not a write: retried here while the database is away
    try {
      history = runtime_.store().loadHistory(sample.service, sample.timestamp - 1, span);
      break;
    } catch (const connect::PgError& e) {
      if (!e.retryable() || runtime_.stopping()) throw;
      spdlog::warn("loading the history of {}: {}; retrying", sample.service, e.what());
      std::this_thread::sleep_for(backoff.next());
    }
  }
  core::pipeline::PipelineOutput result;
  try {
    result = pipeline_.train(sample.service, history.samples);
  } catch (const core::pipeline::InvalidSample& e) {
    spdlog::warn("service {}: the history cannot be used ({}); warming up from the stream", sample.service, e.what());
    return;
  }
  spdlog::info("service {}: {}", sample.service, result.note);
  collect(result, records);
}

void MlBatchHandler::collect(core::pipeline::PipelineOutput& result, Records& records) {
  if (!result.models.empty()) {
    metrics_->retrains.increment();
    if (result.note.starts_with("warm-up complete")) spdlog::info("service {}: {}", result.service, result.note);
  }
  for (auto& a : result.anomalies) {
    metrics_->anomalies[a.severity]->increment();
    records.anomalies.push_back(std::move(a));
  }
  for (auto& p : result.patterns) records.patterns.push_back(std::move(p));
  for (auto& t : result.trends) records.trends.push_back(std::move(t));
  for (auto& m : result.models) records.models.push_back(std::move(m));
}

void MlBatchHandler::emit(Records& records, service::BatchOutput& out) {
  const auto& ml = runtime_.config().ml;
  if (!records.anomalies.empty()) {
    for (const auto& a : records.anomalies) out.produce(ml.anomaliesTopic, a.service, connect::encodeAnomaly(a));
    out.write("ml_anomalies", [rows = std::move(records.anomalies)](connect::PgStore& store) {
      store.writeAnomalies(rows);
    });
  }
  if (!records.patterns.empty()) {
    for (const auto& p : records.patterns) out.produce(ml.patternsTopic, p.service, connect::encodePattern(p));
    out.write("ml_patterns", [rows = std::move(records.patterns)](connect::PgStore& store) {
      store.writePatterns(rows);
    });
  }
  if (!records.trends.empty())
    out.write("ml_trends", [rows = std::move(records.trends)](connect::PgStore& store) { store.writeTrends(rows); });
  if (!records.models.empty())
    out.write("ml_models", [rows = std::move(records.models)](connect::PgStore& store) {
      store.saveModels(rows);
    });
}

void MlBatchHandler::handle(std::span<const connect::KafkaMessage> batch, service::BatchOutput& out) {
  if (auto deployed = deployed_.poll()) {  // a batch boundary: swap in the deployed detection settings
    pipeline_ = core::pipeline::MlPipeline(deployed->pipelineConfig(), {}, worker_.executor());
    seen_.clear();  // each service trains again from its history under the new settings
  }
  Records records;
  for (const connect::KafkaMessage& message : batch) {
    auto decoded = connect::decodeServiceMetrics(message.value, limits_);
    if (!decoded) {
      out.deadLetter(message, decoded.error);
      continue;
    }
    const core::ServiceMetrics& sample = *decoded.value;
    if (!message.key.empty() && message.key != sample.service) {
      out.deadLetter(message, "key '" + message.key + "' is not the message's service '" + sample.service + "'");
      continue;
    }
    if (seen_.insert(sample.service).second) firstSeen(sample, records);
    core::pipeline::PipelineOutput result;
    try {
      result = pipeline_.process(sample);
    } catch (const core::pipeline::InvalidSample& e) {
      out.deadLetter(message, e.what());
      continue;
    }
    if (result.replayed) {
      metrics_->replayed.increment();
      continue;
    }
    collect(result, records);
  }
  emit(records, out);
  metrics_->services.set(static_cast<double>(seen_.size()));
  metrics_->refitBacklog.set(static_cast<double>(worker_.backlog()));
  if (!batch.empty()) metrics_->warmingUp.set(pipeline_.servicesWarmingUp());
}

}  // namespace stacklens::headless::ml_service
