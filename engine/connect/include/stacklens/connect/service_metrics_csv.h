#pragma once
// The 8-field service CSV format, read by `replay` and workspace imports, written by `simulate`:
//   timestamp,service,error_rate,latency_p99_ms,latency_p95_ms,latency_mean_ms,
//   unique_users,unique_ips,risk_score,total_requests[,label]
// `service` may be absent (one service, named by the caller); `label` (0/1) is optional.

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "stacklens/connect/csv_table.h"
#include "stacklens/core/records.h"

namespace stacklens::connect {

struct ServiceMetricsTable {
  std::vector<core::ServiceMetrics> samples;
  std::vector<bool> labels;  ///< per sample; empty when the file has no label column
};

/// Interprets a parsed CSV in the service format. Every value must be present, finite and
/// non-negative; throws CsvError naming the file, line and column otherwise, or naming the
/// missing columns. `defaultService` names the samples when there is no service column.
ServiceMetricsTable toServiceMetrics(const CsvTable& table, const std::string& defaultService = "service");

/// True when the header holds all 8 feature columns (the file is in the service format).
bool isServiceMetricsHeader(const std::vector<std::string>& header);

/// Writes the header (with `label` when `withLabels`).
void writeServiceMetricsHeader(std::ostream& out, bool withLabels);

/// Writes one row.
void writeServiceMetricsRow(std::ostream& out, const core::ServiceMetrics& m, std::optional<bool> label = {});

}  // namespace stacklens::connect
