#include "pg_batch.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::connect::detail {
namespace {

// PostgreSQL text cannot hold NUL; every other byte is escaped or passed through.
bool hasNul(std::string_view value) {
  return value.find('\0') != std::string_view::npos;
}

// An element of an array literal: quoted, with " and \ backslash-escaped.
void appendQuoted(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string textArrayLiteral(std::span<const std::string> values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (hasNul(values[i])) throw PgError("a text array element contains a NUL byte", PgError::Kind::kInput);
    if (i > 0) literal += ',';
    appendQuoted(literal, values[i]);
  }
  literal += '}';
  return literal;
}

std::string formatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

ColumnBatch::ColumnBatch(std::string table, std::size_t columns) : table_(std::move(table)), columns_(columns, "{") {}

void ColumnBatch::beginRow(std::size_t index, std::string key) {
  index_ = index;
  key_ = std::move(key);
  column_ = 0;
  ++rows_;
}

void ColumnBatch::endRow() const {
  if (column_ != columns_.size())
    throw PgError(table_ + ": record " + std::to_string(index_) + " was encoded with " + std::to_string(column_) +
                  " values for " + std::to_string(columns_.size()) + " columns (a StackLens bug)");
}

std::string& ColumnBatch::next() {
  std::string& column = columns_.at(column_++);
  if (rows_ > 1) column += ',';
  return column;
}

void ColumnBatch::require(bool ok, std::string_view field, std::string_view problem) const {
  if (ok) return;
  throw PgError(table_ + ": record " + std::to_string(index_) + (key_.empty() ? "" : " (" + key_ + ")") + ": field '" +
                    std::string(field) + "' " + std::string(problem),
                PgError::Kind::kInput);
}

void ColumnBatch::text(std::string_view field, std::string_view value) {
  require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  appendQuoted(next(), value);
}

void ColumnBatch::integer(std::int64_t value) {
  next() += std::to_string(value);
}

void ColumnBatch::number(double value) {
  next() += formatDouble(value);
}

void ColumnBatch::boolean(bool value) {
  next() += value ? 't' : 'f';
}

void ColumnBatch::timestamp(core::EpochSeconds value) {
  next() += core::formatTimestamp(value);
}

void ColumnBatch::null() {
  next() += "NULL";
}

void ColumnBatch::textArray(std::string_view field, std::span<const std::string> values) {
  for (const std::string& value : values)
    require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  appendQuoted(next(), textArrayLiteral(values));
}

void ColumnBatch::numberArray(std::span<const double> values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += formatDouble(values[i]);
  }
  literal += '}';
  appendQuoted(next(), literal);
}

void ColumnBatch::jsonObject(std::string_view field, const std::map<std::string, double>& values) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : values) {
    require(!hasNul(name), field, "has a key with a NUL byte");
    object[name] = value;
  }
  appendQuoted(next(), object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::vector<std::string> ColumnBatch::parameters() const {
  std::vector<std::string> parameters = columns_;
  for (std::string& column : parameters) column += '}';
  return parameters;
}

}  // namespace stacklens::connect::detail
