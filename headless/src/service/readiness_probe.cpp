#include "service/readiness_probe.h"

#include "observability/logging.h"
#include "stacklens/connect/pg_connection.h"

namespace stacklens::headless::service {
namespace {

constexpr std::chrono::seconds kTimeout{2};
constexpr std::chrono::seconds kCacheFor{1};

std::string postgresState(const connect::PgSettings& settings) {
  try {
    connect::PgConnection connection(settings);
    connection.queryScalar("SELECT 1");
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

ReadinessProbe::ReadinessProbe(const connect::KafkaProducer& producer, connect::PgSettings postgres)
    : producer_(producer), postgres_(std::move(postgres)) {
  postgres_.connectTimeoutSeconds = static_cast<int>(kTimeout.count());
}

Readiness ReadinessProbe::check() {
  const std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checkedAt_ < kCacheFor) return last_;
  const std::string kafka = producer_.probe(kTimeout);
  const std::string postgres = postgresState(postgres_);
  auto state = [](const std::string& error) { return error.empty() ? std::string("ok") : jsonEscape(error); };
  last_.ready = kafka.empty() && postgres.empty();
  last_.detail = R"({"kafka":")" + state(kafka) + R"(","postgres":")" + state(postgres) + "\"}";
  checkedAt_ = now;
  return last_;
}

}  // namespace stacklens::headless::service
