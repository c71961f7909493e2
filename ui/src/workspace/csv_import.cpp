#include "stacklens/ui/workspace/csv_import.h"

#include "stacklens/connect/service_metrics_csv.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace stacklens::ui {
namespace {

using connect::CsvError;
using connect::CsvTable;

bool parseLabel(const CsvTable& table, std::size_t row, std::size_t column) {
  const std::string& text = table.rows[row][column];
  if (text.empty() || text == "0" || text == "false" || text == "False") return false;
  if (text == "1" || text == "true" || text == "True") return true;
  table.fail(row, column, "label must be 0 or 1 (or true/false), not '" + text + "'");
}

// One data row, whatever the layout: its service, time, metric values and label.
struct Row {
  std::string service;
  core::EpochSeconds t = 0;
  std::vector<double> values;
  bool label = false;
};

// Any column the layout does not use is a mistake the user should hear about, not lose silently.
void rejectUnknownColumns(const CsvTable& table, const std::vector<std::string>& known) {
  for (const std::string& name : table.header)
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw CsvError(table.source + ":1: column '" + name + "': not a column of this layout");
}

}  // namespace

CsvImport interpretCsv(const CsvTable& table, const std::string& defaultService) {
  if (table.columnIndex("timestamp") < 0) throw CsvError(table.source + ":1: no 'timestamp' column in the header");
  const bool anyFeature = std::any_of(core::kFeatureNames.begin(), core::kFeatureNames.end(),
                                      [&](std::string_view f) { return table.columnIndex(f) >= 0; });
  const int valueColumn = table.columnIndex("value");
  CsvImport result;
  std::vector<std::string> metricNames;
  std::vector<Row> rows(table.rowCount());
  if (anyFeature) {
    // The service format has one interpretation in the project: connect's (also `replay`'s).
    result.layout = CsvLayout::kServiceMetrics;
    std::vector<std::string> known{"timestamp", "service", "window", "label"};
    known.insert(known.end(), core::kFeatureNames.begin(), core::kFeatureNames.end());
    const connect::ServiceMetricsTable parsed = connect::toServiceMetrics(table, defaultService);
    rejectUnknownColumns(table, known);
    metricNames.assign(core::kFeatureNames.begin(), core::kFeatureNames.end());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const core::ServiceMetrics& m = parsed.samples[r];
      const core::FeatureVector f = m.features();
      rows[r] = {m.service, m.timestamp, {f.begin(), f.end()}, !parsed.labels.empty() && parsed.labels[r]};
    }
  } else if (valueColumn >= 0) {
    result.layout = CsvLayout::kSingleValue;
    rejectUnknownColumns(table, {"timestamp", "value", "label"});
    metricNames = {"value"};
    const auto timeColumn = static_cast<std::size_t>(table.columnIndex("timestamp"));
    const int labelColumn = table.columnIndex("label");
    for (std::size_t r = 0; r < rows.size(); ++r)
      rows[r] = {defaultService, table.time(r, timeColumn), {table.number(r, static_cast<std::size_t>(valueColumn))},
                 labelColumn >= 0 && parseLabel(table, r, static_cast<std::size_t>(labelColumn))};
  } else {
    throw CsvError(table.source +
                   ":1: unknown layout: expected 'timestamp,value[,label]' or the service format "
                   "'timestamp,service,error_rate,latency_p99_ms,...'");
  }
  if (rows.empty()) throw CsvError(table.source + ": no data rows");

  std::map<std::string, std::vector<std::size_t>> byService;  // rows of each service, file order
  std::vector<std::string> order;                             // services in order of first appearance
  for (std::size_t r = 0; r < rows.size(); ++r) {
    auto [it, inserted] = byService.try_emplace(rows[r].service);
    if (inserted) order.push_back(rows[r].service);
    it->second.push_back(r);
  }
  const auto timeColumn = static_cast<std::size_t>(table.columnIndex("timestamp"));
  for (const std::string& name : order) {
    std::vector<std::size_t>& members = byService[name];
    std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) { return rows[a].t < rows[b].t; });
    ServiceData data;
    data.name = name;
    data.metrics = metricNames;
    data.values.assign(metricNames.size(), std::vector<double>(members.size()));
    data.timestamps.resize(members.size());
    std::vector<bool> labels(members.size(), false);
    for (std::size_t i = 0; i < members.size(); ++i) {
      const Row& row = rows[members[i]];
      data.timestamps[i] = row.t;
      if (i > 0 && row.t == data.timestamps[i - 1]) {
        const std::size_t earlier = members[i - 1];
        table.fail(std::max(members[i], earlier), timeColumn,
                   "timestamp repeated for service '" + name + "' (also on line " +
                       std::to_string(table.lines[std::min(members[i], earlier)]) + ")");
      }
      for (std::size_t m = 0; m < metricNames.size(); ++m) data.values[m][i] = row.values[m];
      labels[i] = row.label;
    }
    data.labels = windowsFromPointLabels(data.timestamps, labels);
    result.services.push_back(std::move(data));
  }
  return result;
}

std::optional<std::vector<LabelWindow>> nabWindowsFor(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path file = fs::absolute(path);
  // NAB keeps the windows beside its data folder: <root>/combined_windows.json, <root>/data/<category>/<file>.
  const fs::path category = file.parent_path();
  for (const fs::path& root : {category.parent_path(), category.parent_path().parent_path()}) {
    const fs::path json = root / "combined_windows.json";
    if (!fs::exists(json)) continue;
    std::ifstream in(json);
    const auto windows = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (windows.is_discarded()) throw CsvError(json.string() + ": not valid JSON");
    const std::string key = category.filename().string() + "/" + file.filename().string();
    if (!windows.contains(key)) continue;
    std::vector<LabelWindow> out;
    for (const auto& pair : windows[key]) {
      const auto start = pair.size() == 2 && pair[0].is_string() ? core::parseTimestamp(pair[0].get<std::string>()) : std::nullopt;
      const auto end = pair.size() == 2 && pair[1].is_string() ? core::parseTimestamp(pair[1].get<std::string>()) : std::nullopt;
      if (!start || !end) throw CsvError(json.string() + ": window of '" + key + "' is not a pair of timestamps");
      out.push_back({*start, *end});
    }
    return out;
  }
  return std::nullopt;
}

CsvImport importCsvFile(const std::string& path) {
  CsvImport result = interpretCsv(connect::readCsvFile(path), std::filesystem::path(path).stem().string());
  if (result.layout == CsvLayout::kSingleValue && result.services.size() == 1 && result.services[0].labels.empty()) {
    if (auto windows = nabWindowsFor(path)) result.services[0].labels = std::move(*windows);
  }
  return result;
}

}  // namespace stacklens::ui
