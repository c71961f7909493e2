#include "stacklens/connect/csv_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace stacklens::connect {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool isMissing(std::string_view s) {
  return s.empty() || s == "NA" || s == "NaN" || s == "nan" || s == "null" || s == "NULL";
}

// Splits one record starting at `pos`; advances `pos` past the line end and counts the lines used.
// A blank line gives no fields (a line holding only "" gives one empty field).
std::vector<std::string> parseRecord(std::string_view text, std::size_t& pos, int& line, const std::string& source) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  bool sawQuote = false;
  const int startLine = line;
  while (pos < text.size()) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          field += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      ++pos;
      continue;
    }
    if (c == '"' && trim(field).empty()) {
      field.clear();
      quoted = true;
      sawQuote = true;
    } else if (c == ',') {
      fields.emplace_back(trim(field));
      field.clear();
    } else if (c == '\n') {
      ++pos;
      ++line;
      if (fields.empty() && !sawQuote && trim(field).empty()) return {};
      fields.emplace_back(trim(field));
      return fields;
    } else {
      field += c;
    }
    ++pos;
  }
  if (quoted) throw CsvError(source + ":" + std::to_string(startLine) + ": unterminated quoted field");
  ++line;
  if (fields.empty() && !sawQuote && trim(field).empty()) return {};
  fields.emplace_back(trim(field));
  return fields;
}

}  // namespace

int CsvTable::columnIndex(std::string_view name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

void CsvTable::fail(std::size_t row, std::size_t column, const std::string& reason) const {
  std::string where = source + ":" + std::to_string(row < lines.size() ? lines[row] : 0);
  if (column < header.size()) where += ": column '" + header[column] + "'";
  throw CsvError(where + ": " + reason);
}

double CsvTable::number(std::size_t row, std::size_t column, bool allowMissing) const {
  const std::string& text = rows[row][column];
  if (isMissing(text)) {
    if (allowMissing) return std::numeric_limits<double>::quiet_NaN();
    fail(row, column, "missing value");
  }
  double value = 0;
  const char* begin = text.data() + (text.front() == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    fail(row, column, "'" + text + "' is not a number");
  return value;
}

core::EpochSeconds CsvTable::time(std::size_t row, std::size_t column) const {
  const auto parsed = core::parseTimestamp(rows[row][column]);
  if (!parsed)
    fail(row, column, "'" + rows[row][column] + "' is not a timestamp (use ISO-8601 or YYYY-MM-DD HH:MM:SS)");
  return *parsed;
}

CsvTable parseCsv(std::string_view text, std::string source) {
  CsvTable table;
  table.source = std::move(source);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::size_t pos = 0;
  int line = 1;
  while (pos < text.size() && table.header.empty()) {
    auto fields = parseRecord(text, pos, line, table.source);
    if (!fields.empty()) table.header = std::move(fields);
  }
  if (table.header.empty()) throw CsvError(table.source + ": empty file (expected a header line)");
  for (std::size_t i = 0; i < table.header.size(); ++i)
    if (table.header[i].empty()) throw CsvError(table.source + ":1: column " + std::to_string(i + 1) + " has no name");
  while (pos < text.size()) {
    const int rowLine = line;
    auto fields = parseRecord(text, pos, line, table.source);
    if (fields.empty()) continue;
    if (fields.size() != table.header.size())
      throw CsvError(table.source + ":" + std::to_string(rowLine) + ": expected " +
                     std::to_string(table.header.size()) + " fields as in the header, found " +
                     std::to_string(fields.size()));
    table.rows.push_back(std::move(fields));
    table.lines.push_back(rowLine);
  }
  return table;
}

CsvTable readCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError(path + ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parseCsv(buffer.str(), path);
}

TimeSeriesFrame toTimeSeriesFrame(const CsvTable& table, const std::vector<std::string>& ignore) {
  TimeSeriesFrame frame;
  const int idColumn = table.columnIndex("series_id");
  const int timeColumn = table.columnIndex("timestamp");
  std::vector<std::size_t> valueColumns;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (static_cast<int>(c) == idColumn || static_cast<int>(c) == timeColumn) continue;
    if (std::find(ignore.begin(), ignore.end(), table.header[c]) != ignore.end()) continue;
    valueColumns.push_back(c);
    frame.columns.push_back(table.header[c]);
  }
  if (valueColumns.empty()) throw CsvError(table.source + ":1: no value columns in the header");
  frame.values.assign(valueColumns.size(), std::vector<double>(table.rowCount()));
  frame.timestamps.resize(table.rowCount());
  if (idColumn >= 0) frame.seriesIds.resize(table.rowCount());
  for (std::size_t r = 0; r < table.rowCount(); ++r) {
    if (idColumn >= 0) frame.seriesIds[r] = table.rows[r][idColumn];
    frame.timestamps[r] = timeColumn >= 0 ? table.time(r, timeColumn) : static_cast<core::EpochSeconds>(r);
    for (std::size_t v = 0; v < valueColumns.size(); ++v) frame.values[v][r] = table.number(r, valueColumns[v]);
  }
  return frame;
}

}  // namespace stacklens::connect
