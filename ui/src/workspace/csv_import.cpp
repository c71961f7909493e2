#include "stacklens/ui/workspace/csv_import.h"

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


}  // namespace

CsvImport interpretCsv(const CsvTable& table, const std::string& defaultService) {
  const int timeColumn = table.columnIndex("timestamp");
  if (timeColumn < 0) throw CsvError(table.source + ":1: no 'timestamp' column in the header");
  const int serviceColumn = table.columnIndex("service");
  const int labelColumn = table.columnIndex("label");
  const int windowColumn = table.columnIndex("window");

  CsvImport result;
  std::vector<std::string> metricNames;
  std::vector<std::size_t> metricColumns;
  const int valueColumn = table.columnIndex("value");
  const bool anyFeature = std::any_of(core::kFeatureNames.begin(), core::kFeatureNames.end(),
                                      [&](std::string_view f) { return table.columnIndex(f) >= 0; });
  if (valueColumn >= 0 && !anyFeature) {
    result.layout = CsvLayout::kSingleValue;
    metricNames = {"value"};
    metricColumns = {static_cast<std::size_t>(valueColumn)};
  } else if (anyFeature) {
    result.layout = CsvLayout::kServiceMetrics;
    for (std::string_view feature : core::kFeatureNames) {
      const int c = table.columnIndex(feature);
      if (c < 0) throw CsvError(table.source + ":1: the service format needs a '" + std::string(feature) + "' column");
      metricNames.emplace_back(feature);
      metricColumns.push_back(static_cast<std::size_t>(c));
    }
  } else {
    throw CsvError(table.source +
                   ":1: unknown layout: expected 'timestamp,value[,label]' or the service format "
                   "'timestamp,service,error_rate,latency_p99_ms,...'");
  }
  // Any other column is a mistake the user should hear about rather than silently lose.
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    const int ci = static_cast<int>(c);
    const bool known = ci == timeColumn || ci == serviceColumn || ci == labelColumn || ci == windowColumn ||
                       std::find(metricColumns.begin(), metricColumns.end(), c) != metricColumns.end();
    if (!known) throw CsvError(table.source + ":1: column '" + table.header[c] + "': not a column of this layout");
  }

  std::map<std::string, std::vector<std::size_t>> byService;  // rows of each service, file order
  std::vector<std::string> order;  // services in order of first appearance
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    std::string name = defaultService;
    if (serviceColumn >= 0) {
      name = table.rows[r][static_cast<std::size_t>(serviceColumn)];
      if (name.empty()) table.fail(r, static_cast<std::size_t>(serviceColumn), "empty service name");
    }
    auto [it, inserted] = byService.try_emplace(name);
    if (inserted) order.push_back(name);
    it->second.push_back(r);
  }
  if (order.empty()) throw CsvError(table.source + ": no data rows");

  for (const std::string& name : order) {
    const std::vector<std::size_t>& rows = byService[name];
    std::vector<core::EpochSeconds> times(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) times[i] = table.time(rows[i], static_cast<std::size_t>(timeColumn));
    std::vector<std::size_t> perm(rows.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::stable_sort(perm.begin(), perm.end(), [&](std::size_t a, std::size_t b) { return times[a] < times[b]; });

    ServiceData data;
    data.name = name;
    data.metrics = metricNames;
    data.values.assign(metricColumns.size(), std::vector<double>(rows.size()));
    data.timestamps.resize(rows.size());
    std::vector<bool> labels(rows.size(), false);
    for (std::size_t i = 0; i < perm.size(); ++i) {
      const std::size_t row = rows[perm[i]];
      data.timestamps[i] = times[perm[i]];
      if (i > 0 && data.timestamps[i] == data.timestamps[i - 1]) {
        const std::size_t earlier = rows[perm[i - 1]];
        table.fail(std::max(row, earlier), static_cast<std::size_t>(timeColumn),
                   "timestamp repeated for service '" + name + "' (also on line " +
                       std::to_string(table.lines[std::min(row, earlier)]) + ")");
      }
      for (std::size_t m = 0; m < metricColumns.size(); ++m) data.values[m][i] = table.number(row, metricColumns[m]);
      if (labelColumn >= 0) labels[i] = parseLabel(table, row, static_cast<std::size_t>(labelColumn));
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
