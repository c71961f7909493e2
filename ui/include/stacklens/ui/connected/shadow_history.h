#pragma once
// The history shadow mode trains on, as ml-service does when it first sees a service: the
// service's rows of analytics_metrics_1hour in (end - span, end], oldest first, read through the
// workbench's QPSQL session. Without it the local engine would warm up from the live stream for
// min_training_samples messages (days of hourly data) and disagree with production meanwhile.

#include <QSqlDatabase>
#include <chrono>
#include <string>
#include <vector>

#include "stacklens/core/records.h"

namespace stacklens::ui {

/// ml-service's default history span (ml.history_days = 7).
inline constexpr std::chrono::seconds kShadowHistorySpan = std::chrono::hours(24 * 7);

/// Throws std::runtime_error naming the table when the query fails.
std::vector<core::ServiceMetrics> loadServiceHistory(const QSqlDatabase& db, const std::string& service,
                                                     core::EpochSeconds end,
                                                     std::chrono::seconds span = kShadowHistorySpan);

}  // namespace stacklens::ui
