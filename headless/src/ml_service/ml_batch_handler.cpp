#include "ml_service/ml_batch_handler.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
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

  void append(Records&& more) {
    const auto moveAll = [](auto& from, auto& to) { std::move(from.begin(), from.end(), std::back_inserter(to)); };
    moveAll(more.anomalies, anomalies);
    moveAll(more.patterns, patterns);
    moveAll(more.trends, trends);
    moveAll(more.models, models);
  }
};

// One shard of the services: its pipeline, and the batch's work and results on it.
struct MlBatchHandler::Lane {
  core::pipeline::MlPipeline pipeline;
  std::unordered_set<std::string> seen;
  struct Item {
    const connect::KafkaMessage* message;
    core::ServiceMetrics sample;
  };
  std::vector<Item> items;
  Records records;
  std::vector<std::pair<const connect::KafkaMessage*, std::string>> rejected;  // dead letters
  std::size_t replayed = 0;

  explicit Lane(core::pipeline::MlPipeline p) : pipeline(std::move(p)) {}
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
      pool_(runtime.config().ml.scoringThreads),
      metrics_(std::make_unique<Metrics>(runtime.metrics())),
      // A deployed version the pipeline would refuse (e.g. history_capacity below
      // min_training_samples) is skipped instead of failing the batch that swaps it in.
      deployed_(runtime.config().postgres, runtime.metrics(),
                [](const connect::ServiceConfig& config) { core::pipeline::MlPipeline check(config.pipelineConfig()); }) {
  limits_.maxMessageBytes = static_cast<std::size_t>(runtime.config().ml.maxMessageBytes);
  resetLanes(runtime.config());
  spdlog::info("scoring on {} thread(s), refits on {} background thread(s)", pool_.lanes(), worker_.threads());
}

void MlBatchHandler::resetLanes(const connect::ServiceConfig& config) {
  lanes_.clear();  // each service trains again from its history under the new settings
  for (int i = 0; i < pool_.lanes(); ++i)
    lanes_.push_back(
        std::make_unique<Lane>(core::pipeline::MlPipeline(config.pipelineConfig(), {}, worker_.executor())));
}

MlBatchHandler::~MlBatchHandler() = default;

void MlBatchHandler::firstSeen(Lane& lane, const core::ServiceMetrics& sample) {
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
    result = lane.pipeline.train(sample.service, history.samples);
  } catch (const core::pipeline::InvalidSample& e) {
    spdlog::warn("service {}: the history cannot be used ({}); warming up from the stream", sample.service, e.what());
    return;
  }
  spdlog::info("service {}: {}", sample.service, result.note);
  collect(result, lane.records);
}

// On the lane's thread: only the lane's own state, the thread-safe store and the metrics.
//
// A service's messages are scored back to back (in their order): its models, a few hundred
// kilobytes, come into cache once for all of them instead of once per message. In a backlog (a
// batch holding several hours of the fleet) that is most of the cost of scoring. A message that
// starts a refit defers the rest of its service's messages to the end of the lane's pass, so that
// the refit runs on the worker meanwhile rather than the next message waiting for it. Scoring
// alone (bench_detect's BM_MlPipelineFleet, 1,000 services): 25.5 µs a message in arrival order,
// 8.9 µs in runs of five, 5.7 µs with the next service's forest prefetched.
void MlBatchHandler::score(Lane& lane) {
  std::stable_sort(lane.items.begin(), lane.items.end(),
                   [](const Lane::Item& a, const Lane::Item& b) { return a.sample.service < b.sample.service; });
  std::vector<std::size_t> deferred;
  const std::string* refitting = nullptr;  // the service whose refit the rest of its messages wait for
  for (std::size_t i = 0; i < lane.items.size(); ++i) {
    const std::string& service = lane.items[i].sample.service;
    if (refitting != nullptr && service == *refitting) {
      deferred.push_back(i);
      continue;
    }
    // The next service's models load while this message is scored.
    if (i + 1 < lane.items.size() && lane.items[i + 1].sample.service != service)
      lane.pipeline.prefetch(lane.items[i + 1].sample.service);
    if (scoreOne(lane, i)) refitting = &service;
  }
  for (const std::size_t i : deferred) scoreOne(lane, i);
}

// Returns whether the message started a refit of its service.
bool MlBatchHandler::scoreOne(Lane& lane, std::size_t index) {
  const Lane::Item& item = lane.items[index];
  if (lane.seen.insert(item.sample.service).second) firstSeen(lane, item.sample);
  core::pipeline::PipelineOutput result;
  try {
    result = lane.pipeline.process(item.sample);
  } catch (const core::pipeline::InvalidSample& e) {
    lane.rejected.emplace_back(item.message, e.what());
    return false;
  }
  if (result.replayed) {
    ++lane.replayed;
    return false;
  }
  collect(result, lane.records);
  return result.refitStarted;
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
  if (auto deployed = deployed_.poll()) resetLanes(*deployed);  // a batch boundary: swap in the deployed settings
  const std::hash<std::string> shard;
  for (const connect::KafkaMessage& message : batch) {
    auto decoded = connect::decodeServiceMetrics(message.value, limits_);
    if (!decoded) {
      out.deadLetter(message, decoded.error);
      continue;
    }
    if (!message.key.empty() && message.key != decoded.value->service) {
      out.deadLetter(message, "key '" + message.key + "' is not the message's service '" + decoded.value->service + "'");
      continue;
    }
    Lane& lane = *lanes_[shard(decoded.value->service) % lanes_.size()];
    lane.items.push_back({&message, std::move(*decoded.value)});
  }
  if (!batch.empty()) pool_.run([this](int lane) { score(*lanes_[static_cast<std::size_t>(lane)]); });

  Records records;
  std::size_t services = 0;
  int warmingUp = 0;
  for (auto& lane : lanes_) {
    for (const auto& [message, reason] : lane->rejected) out.deadLetter(*message, reason);
    metrics_->replayed.increment(static_cast<double>(lane->replayed));
    records.append(std::move(lane->records));
    services += lane->seen.size();
    if (!batch.empty()) warmingUp += lane->pipeline.servicesWarmingUp();
    lane->items.clear();
    lane->rejected.clear();
    lane->records = {};
    lane->replayed = 0;
  }
  emit(records, out);
  metrics_->services.set(static_cast<double>(services));
  metrics_->refitBacklog.set(static_cast<double>(worker_.backlog()));
  if (!batch.empty()) metrics_->warmingUp.set(warmingUp);
}

}  // namespace stacklens::headless::ml_service
