#include "service/deployed_config.h"

#include <cstdlib>
#include <spdlog/spdlog.h>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::headless::service {

DeployedConfig::DeployedConfig(connect::PgSettings postgres, MetricsRegistry& metrics, Check check)
    : postgres_(std::move(postgres)),
      check_(std::move(check)),
      interval_(intervalFromEnvironment()),
      gauge_(metrics.gauge("stacklens_config_version", "Deployed configuration version in use (0: the startup file)")) {
  postgres_.applicationName = "stacklens-config-watch";
  postgres_.connectTimeoutSeconds = 2;  // on the consumer thread: never hold a batch up for long
}

DeployedConfig::~DeployedConfig() = default;

std::chrono::milliseconds DeployedConfig::intervalFromEnvironment() {
  const char* value = std::getenv("STACKLENS_CONFIG_POLL_MS");
  if (value == nullptr || *value == '\0') return std::chrono::milliseconds(10000);
  char* end = nullptr;
  const long ms = std::strtol(value, &end, 10);
  if (*end != '\0' || ms < 0) {
    spdlog::warn("STACKLENS_CONFIG_POLL_MS='{}' is not a number of milliseconds; polling every 10000 ms", value);
    return std::chrono::milliseconds(10000);
  }
  return std::chrono::milliseconds(ms);
}

std::optional<connect::ServiceConfig> DeployedConfig::poll() {
  if (interval_.count() == 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return std::nullopt;
  next_ = now + interval_;
  try {
    if (!db_) db_ = std::make_unique<connect::PgConnection>(postgres_);
    const connect::PgResult row = db_->query(
        "SELECT version, config_toml FROM ml_config_versions WHERE version > $1::integer ORDER BY version DESC LIMIT 1",
        {std::to_string(seen_)});
    if (row.rows() == 0) return std::nullopt;
    const int version = static_cast<int>(row.toInt64(0, 0));
    seen_ = version;
    const std::string source = "ml_config_versions version " + std::to_string(version);
    try {
      connect::ServiceConfig config = connect::parseServiceConfig(row.text(0, 1), source, connect::processEnvironment());
      if (check_) check_(config);
      version_ = version;
      gauge_.set(version);
      spdlog::info("deployed configuration version {} applied", version);
      return config;
    } catch (const std::exception& e) {
      spdlog::error("{} cannot be used, keeping version {}: {}", source, version_, e.what());
    }
  } catch (const connect::PgError& e) {
    db_.reset();  // reconnect next time
    spdlog::warn("reading deployed configurations: {}", e.what());
  }
  return std::nullopt;
}

}  // namespace stacklens::headless::service
