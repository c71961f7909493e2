#pragma once
// /readyz of a service: Kafka answers a metadata request and PostgreSQL a `SELECT 1`, each within
// 2 s. Results are kept for a second, so a busy prober cannot load the servers.

#include <chrono>
#include <mutex>

#include "observability/health_server.h"
#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/pg_settings.h"

namespace stacklens::headless::service {

class ReadinessProbe {
 public:
  ReadinessProbe(const connect::KafkaProducer& producer, connect::PgSettings postgres);

  /// Thread-safe (called by the HTTP server's threads).
  Readiness check();

 private:
  const connect::KafkaProducer& producer_;
  connect::PgSettings postgres_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point checkedAt_{};
  Readiness last_;
};

}  // namespace stacklens::headless::service
