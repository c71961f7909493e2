#include "stacklens/connect/service_metrics_csv.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace stacklens::connect {
namespace {

// Member pointers in feature-vector order, so reading and writing share one mapping.
constexpr std::array<double core::ServiceMetrics::*, core::kFeatureCount> kFields = {
    &core::ServiceMetrics::errorRate,     &core::ServiceMetrics::latencyP99Ms, &core::ServiceMetrics::latencyP95Ms,
    &core::ServiceMetrics::latencyMeanMs, &core::ServiceMetrics::uniqueUsers,  &core::ServiceMetrics::uniqueIps,
    &core::ServiceMetrics::riskScore,     &core::ServiceMetrics::totalRequests};

std::string quoteIfNeeded(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

bool isServiceMetricsHeader(const std::vector<std::string>& header) {
  for (std::string_view name : core::kFeatureNames)
    if (std::find(header.begin(), header.end(), name) == header.end()) return false;
  return true;
}

ServiceMetricsTable toServiceMetrics(const CsvTable& table, const std::string& defaultService) {
  const int timeColumn = table.columnIndex("timestamp");
  std::string missing;
  if (timeColumn < 0) missing += " timestamp";
  std::array<int, core::kFeatureCount> columns{};
  for (std::size_t f = 0; f < core::kFeatureCount; ++f) {
    columns[f] = table.columnIndex(core::kFeatureNames[f]);
    if (columns[f] < 0) missing += " " + std::string(core::kFeatureNames[f]);
  }
  if (!missing.empty()) throw CsvError(table.source + ":1: missing columns:" + missing);
  const int serviceColumn = table.columnIndex("service");
  const int labelColumn = table.columnIndex("label");

  ServiceMetricsTable out;
  out.samples.reserve(table.rowCount());
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    core::ServiceMetrics m;
    m.service = serviceColumn >= 0 ? table.rows[r][serviceColumn] : defaultService;
    if (m.service.empty()) table.fail(r, serviceColumn, "empty service name");
    m.timestamp = table.time(r, timeColumn);
    for (std::size_t f = 0; f < core::kFeatureCount; ++f) {
      const double value = table.number(r, columns[f], /*allowMissing=*/false);
      if (value < 0) table.fail(r, columns[f], "must not be negative");
      m.*kFields[f] = value;
    }
    out.samples.push_back(std::move(m));
    if (labelColumn >= 0) {
      const std::string& label = table.rows[r][labelColumn];
      if (label != "0" && label != "1" && !label.empty())
        table.fail(r, labelColumn, "expected 0 or 1, got '" + label + "'");
      out.labels.push_back(label == "1");
    }
  }
  return out;
}

void writeServiceMetricsHeader(std::ostream& out, bool withLabels) {
  out << "timestamp,service";
  for (std::string_view name : core::kFeatureNames) out << ',' << name;
  if (withLabels) out << ",label";
  out << '\n';
}

void writeServiceMetricsRow(std::ostream& out, const core::ServiceMetrics& m, std::optional<bool> label) {
  out << core::formatTimestamp(m.timestamp) << ',' << quoteIfNeeded(m.service);
  char buffer[32];
  for (auto field : kFields) {
    std::snprintf(buffer, sizeof buffer, "%.10g", m.*field);
    out << ',' << buffer;
  }
  if (label) out << ',' << (*label ? '1' : '0');
  out << '\n';
}

}  // namespace stacklens::connect
