#pragma once
// The shared runtime of the headless services (ml-service, predictive-alerter): configuration,
// JSON logs, the HTTP endpoint (/healthz, /readyz, /metrics), the Kafka consumer loop and the
// delivery guarantee. A service supplies only a BatchHandler.
//
// The loop, per batch (up to ml.batch_size messages or ml.batch_timeout_ms after the first):
//   1. handler.handle(batch, out)   — decode, validate (dead-letter the bad), compute records;
//   2. out's PostgreSQL writes       — retried with backoff while the database is unreachable;
//   3. out's messages and dead letters are produced and flushed; a failed delivery is produced
//      again until every message is acknowledged;
//   4. the batch's offsets (the next offset of each of its partitions) are committed (retried
//      while no coordinator answers).
// Steps 2-4 run on a thread of their own (DurabilityStage) while the consumer thread collects
// and handles the next ones; up to identity.batchesInFlight batches are in flight (ml-service: 4,
// so that a batch of model versions that PostgreSQL takes long over does not stall the scoring),
// and they complete steps 2-4 one after another, in order, so offsets commit in order.
// Nothing is committed before its outputs are durable, so a crash at any moment loses nothing;
// writes are idempotent (stable ids), so the replay after a crash duplicates no row.
// SIGTERM/SIGINT: the batches in flight and the one being handled complete steps 1-4,
// handler.finish() runs, the consumer leaves the group and run() returns 0. If the outputs
// cannot be made durable within the drain time, run() returns 1 without committing them (the
// next start consumes them again); so does a failure of the handler (the batch in flight gives
// up at its next failed attempt).
//
// Metrics (Prometheus, /metrics): stacklens_messages_in_total, stacklens_messages_out_total
// {topic}, stacklens_dlq_total, stacklens_consumer_lag, stacklens_assigned_partitions,
// stacklens_message_latency_seconds (message timestamp → committed), stacklens_batch_seconds
// (start of handling → committed, including the wait for the batches before it),
// stacklens_batches_total, stacklens_retries_total{what}. Services add their own families
// through metrics().

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "observability/health_server.h"
#include "observability/metrics_registry.h"
#include "service/batch_handler.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/connect/service_config.h"

namespace stacklens::headless::service {

class DurabilityStage;

/// What differs between the services.
struct ServiceIdentity {
  std::string name;             ///< "ml-service": the logger name; default group "stacklens-<name>"
  int defaultHttpPort = 0;      ///< used when http.port is 0 (8005, 8006)
  std::string inputTopic;       ///< consumed in the group
  std::string deadLetterTopic;  ///< BatchOutput::deadLetter's target; empty: log only
  int batchSize = 500;          ///< messages per batch at most
  std::chrono::milliseconds batchTimeout{5};  ///< wait for a full batch after its first message
  int batchesInFlight = 1;  ///< batches written and committed in order while the next are handled
};

class ServiceRuntime {
 public:
  /// Connects: PostgreSQL (PgStore: waits for the database with its retry policy and checks
  /// the schema), the Kafka producer and consumer (subscribed to identity.inputTopic with
  /// enable.auto.commit=false), and starts the HTTP endpoint. Throws connect::PgError,
  /// connect::KafkaError or std::runtime_error (port in use) with the reason.
  ServiceRuntime(connect::ServiceConfig config, ServiceIdentity identity);
  ~ServiceRuntime();
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  const connect::ServiceConfig& config() const { return config_; }
  const ServiceIdentity& identity() const { return identity_; }
  /// For the handler's reads (history, models) and for writes outside BatchOutput.
  connect::PgStore& store() { return *store_; }
  MetricsRegistry& metrics() { return metrics_; }
  /// The port /healthz, /readyz and /metrics listen on.
  int httpPort() const;

  /// Installs the SIGTERM/SIGINT handlers (stop_signal.h) and runs the loop until a signal or
  /// requestStop(). Returns the process exit code: 0 after a clean drain, 1 when the handler
  /// threw or outputs could not be made durable in time.
  int run(BatchHandler& handler);

  /// Asks run() to drain and return, as SIGTERM does. Thread-safe.
  void requestStop() { stop_ = true; }
  bool stopping() const;

  /// For a handler (on the consumer thread) about to read what its earlier batches wrote: waits
  /// until the batch in flight is durable and committed. False when it failed (run() then
  /// returns 1 after this batch).
  bool awaitOutputs();

  /// How long a stop may wait for the last batch's outputs to become durable.
  void setDrainTimeout(std::chrono::milliseconds timeout) { drainTimeout_ = timeout; }

 private:
  struct Loop;
  connect::ServiceConfig config_;
  ServiceIdentity identity_;
  MetricsRegistry metrics_;
  std::unique_ptr<connect::PgStore> store_;
  std::unique_ptr<connect::KafkaProducer> producer_;
  std::unique_ptr<connect::KafkaConsumer> consumer_;
  struct Health;
  std::unique_ptr<Health> health_;
  std::chrono::milliseconds drainTimeout_{30000};
  std::atomic<bool> stop_{false};
  DurabilityStage* stage_ = nullptr;  // the running loop's, for awaitOutputs()
};

}  // namespace stacklens::headless::service
