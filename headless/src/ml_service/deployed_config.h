#pragma once
// Configurations deployed from the workbench (table ml_config_versions, the highest version runs):
// at a batch boundary, at most once per poll interval, ml-service asks for the newest version and,
// when it is newer than the one it runs, hands its detection settings (the TOML's pipeline part)
// to the caller, which swaps them in without a restart. Connection, Kafka and HTTP settings are
// not swapped (they need a restart). A version whose TOML does not parse is logged and skipped.
// The poll interval is $STACKLENS_CONFIG_POLL_MS (default 10000; 0 disables polling).
// Metric: stacklens_config_version (0 until a deployed version is applied).

#include <chrono>
#include <memory>
#include <optional>

#include "observability/metrics_registry.h"
#include "stacklens/connect/pg_settings.h"
#include "stacklens/core/pipeline/ml_pipeline.h"

namespace stacklens::connect {
class PgConnection;
}

namespace stacklens::headless::ml_service {

class DeployedConfig {
 public:
  DeployedConfig(connect::PgSettings postgres, MetricsRegistry& metrics);
  ~DeployedConfig();

  /// The detection settings of a newer deployed version, or nullopt (not due, nothing new, or the
  /// database unreachable: logged, asked again next interval). Call at a batch boundary.
  std::optional<core::pipeline::MlPipelineConfig> poll();
  int version() const { return version_; }

  static std::chrono::milliseconds intervalFromEnvironment();

 private:
  connect::PgSettings postgres_;
  std::unique_ptr<connect::PgConnection> db_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_{};
  int version_ = 0;  // the applied version
  int seen_ = 0;     // the newest version looked at (skipped when unusable)
  Gauge& gauge_;
};

}  // namespace stacklens::headless::ml_service
