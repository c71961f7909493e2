#include "stacklens/ui/connected/shadow_history.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>
#include <stdexcept>

#include "stacklens/ui/connected/pg_session.h"

namespace stacklens::ui {

std::vector<core::ServiceMetrics> loadServiceHistory(const QSqlDatabase& db, const std::string& service,
                                                     core::EpochSeconds end, std::chrono::seconds span) {
  QSqlQuery query(db);
  query.setForwardOnly(true);
  // The columns and window ml-service reads (PgStore::loadHistory).
  const bool ok = execBound(
      query,
      QStringLiteral("SELECT floor(extract(epoch FROM \"timestamp\"))::bigint, window_seconds, total_requests, "
                     "error_rate, latency_p99_ms, latency_p95_ms, latency_mean_ms, unique_users, unique_ips, "
                     "risk_score FROM analytics_metrics_1hour WHERE service = ? AND \"timestamp\" > to_timestamp(?) "
                     "AND \"timestamp\" <= to_timestamp(?) ORDER BY \"timestamp\""),
      {QString::fromStdString(service), QVariant::fromValue(end - span.count()), QVariant::fromValue(end)});
  if (!ok) throw std::runtime_error("reading analytics_metrics_1hour: " + query.lastError().text().toStdString());
  std::vector<core::ServiceMetrics> samples;
  while (query.next()) {
    core::ServiceMetrics m;
    m.service = service;
    m.timestamp = query.value(0).toLongLong();
    m.windowSeconds = query.value(1).toInt();
    m.totalRequests = query.value(2).toDouble();
    m.errorRate = query.value(3).toDouble();
    m.latencyP99Ms = query.value(4).toDouble();
    m.latencyP95Ms = query.value(5).toDouble();
    m.latencyMeanMs = query.value(6).toDouble();
    m.uniqueUsers = query.value(7).toDouble();
    m.uniqueIps = query.value(8).toDouble();
    m.riskScore = query.value(9).toDouble();
    samples.push_back(std::move(m));
  }
  return samples;
}

}  // namespace stacklens::ui
