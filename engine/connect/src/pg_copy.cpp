#include "pg_copy.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::connect::detail {
namespace {

// PostgreSQL text cannot hold NUL; every other byte is escaped or passed through.
bool hasNul(std::string_view value) { return value.find('\0') != std::string_view::npos; }

// Element of an array literal: always quoted, with " and \ backslash-escaped.
void appendArrayElement(std::string& out, std::string_view value) {
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
    appendArrayElement(literal, values[i]);
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

void CopyBuffer::beginRow(std::size_t index, std::string key) {
  index_ = index;
  key_ = std::move(key);
  firstField_ = true;
}

void CopyBuffer::endRow() {
  data_ += '\n';
  ++rows_;
}

void CopyBuffer::separator() {
  if (!firstField_) data_ += '\t';
  firstField_ = false;
}

void CopyBuffer::require(bool ok, std::string_view field, std::string_view problem) const {
  if (ok) return;
  throw PgError(table_ + ": record " + std::to_string(index_) + (key_.empty() ? "" : " (" + key_ + ")") + ": field '" +
                    std::string(field) + "' " + std::string(problem),
                PgError::Kind::kInput);
}

void CopyBuffer::appendEscaped(std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': data_ += "\\\\"; break;
      case '\t': data_ += "\\t"; break;
      case '\n': data_ += "\\n"; break;
      case '\r': data_ += "\\r"; break;
      default: data_ += c;
    }
  }
}

void CopyBuffer::text(std::string_view field, std::string_view value) {
  require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  separator();
  appendEscaped(value);
}

void CopyBuffer::integer(std::int64_t value) {
  separator();
  data_ += std::to_string(value);
}

void CopyBuffer::number(double value) {
  separator();
  data_ += formatDouble(value);
}

void CopyBuffer::boolean(bool value) {
  separator();
  data_ += value ? 't' : 'f';
}

void CopyBuffer::timestamp(core::EpochSeconds value) {
  separator();
  data_ += core::formatTimestamp(value);
}

void CopyBuffer::null() {
  separator();
  data_ += "\\N";
}

void CopyBuffer::textArray(std::string_view field, std::span<const std::string> values) {
  for (const std::string& value : values)
    require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  separator();
  appendEscaped(textArrayLiteral(values));
}

void CopyBuffer::numberArray(std::span<const double> values) {
  separator();
  data_ += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) data_ += ',';
    data_ += formatDouble(values[i]);
  }
  data_ += '}';
}

void CopyBuffer::jsonObject(std::string_view field, const std::map<std::string, double>& values) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : values) {
    require(!hasNul(name), field, "has a key with a NUL byte");
    object[name] = value;  // NaN and infinities become null: JSON has no spelling for them
  }
  separator();
  appendEscaped(object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void CopyBuffer::jsonText(std::string_view field, std::string_view json) {
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  require(!parsed.is_discarded(), field, "is not valid JSON");
  require(parsed.is_object(), field, "must be a JSON object");
  separator();
  appendEscaped(parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace stacklens::connect::detail
