#pragma once
// Configurations deployed from the workbench (table ml_config_versions, the highest version runs):
// at a batch boundary, at most once per poll interval, a service asks for the newest version and,
// when it is newer than the one it runs, hands it to the caller, which swaps its engine settings
// in without a restart (ml-service: the detection pipeline; predictive-alerter: the forecasting
// pipeline). Connection, Kafka and HTTP settings are not swapped (they need a restart). A version
// whose TOML does not parse, or that the caller's check refuses, is logged and skipped.
// The poll interval is $STACKLENS_CONFIG_POLL_MS (default 10000; 0 disables polling).
// Metric: stacklens_config_version (0 until a deployed version is applied).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "observability/metrics_registry.h"
#include "stacklens/connect/pg_settings.h"
#include "stacklens/connect/service_config.h"

namespace stacklens::connect {
class PgConnection;
}

namespace stacklens::headless::service {

class DeployedConfig {
 public:
  /// Throws when `config` cannot be used by the caller (e.g. connect::ConfigError); the version is
  /// then skipped.
  using Check = std::function<void(const connect::ServiceConfig& config)>;

  DeployedConfig(connect::PgSettings postgres, MetricsRegistry& metrics, Check check = {});
  ~DeployedConfig();

  /// A newer deployed version (defaults, then its TOML, then the environment, as a startup file
  /// is read), or nullopt (not due, nothing new, or the database unreachable: logged, asked again
  /// next interval). Call at a batch boundary.
  std::optional<connect::ServiceConfig> poll();
  int version() const { return version_; }

  static std::chrono::milliseconds intervalFromEnvironment();

 private:
  connect::PgSettings postgres_;
  Check check_;
  std::unique_ptr<connect::PgConnection> db_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_{};
  int version_ = 0;  // the applied version
  int seen_ = 0;     // the newest version looked at (skipped when unusable)
  Gauge& gauge_;
};

}  // namespace stacklens::headless::service
