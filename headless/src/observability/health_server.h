#pragma once
// The services' HTTP endpoint: /healthz (the process runs), /readyz (its dependencies answer) and
// /metrics (Prometheus text format), served on a background thread.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "observability/metrics_registry.h"

namespace httplib {
class Server;
}

namespace stacklens::headless {

struct Readiness {
  bool ready = false;
  std::string detail;  ///< JSON object text, e.g. {"kafka":"ok","postgres":"connection refused"}
};

class HealthServer {
 public:
  HealthServer(const MetricsRegistry& metrics, std::function<Readiness()> readiness);
  ~HealthServer();

  /// Binds and starts serving; `port` 0 picks a free port. Throws std::runtime_error naming the
  /// address when it cannot bind.
  void start(const std::string& bind, int port);
  void stop();
  int port() const { return port_; }

 private:
  const MetricsRegistry& metrics_;
  std::function<Readiness()> readiness_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace stacklens::headless
