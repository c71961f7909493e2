#include "pg_batch.h"

#include <algorithm>
#include <bit>
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

// The binary protocol's integers are big-endian.
template <typename Int>
void appendBigEndian(std::string& out, Int value) {
  const auto bits = static_cast<std::make_unsigned_t<Int>>(value);
  for (int shift = 8 * static_cast<int>(sizeof(Int)) - 8; shift >= 0; shift -= 8)
    out += static_cast<char>((bits >> shift) & 0xFF);
}

void appendElement(std::string& out, std::string_view bytes) {
  appendBigEndian(out, static_cast<std::int32_t>(bytes.size()));
  out += bytes;
}

// Binary timestamps count microseconds from 2000-01-01 00:00:00 UTC; PostgreSQL accepts
// 4714-11-24 BC up to (not including) 294277-01-01.
constexpr core::EpochSeconds kPostgresEpoch = 946684800;
constexpr core::EpochSeconds kMinTimestamp = -211813488000 + kPostgresEpoch;
constexpr core::EpochSeconds kEndTimestamp = 9223371331200 + kPostgresEpoch;

struct TypeInfo {
  ColumnType type;
  unsigned int arrayOid;  // pg_type.typarray of the element type
  const char* name;
};
constexpr TypeInfo kTypes[] = {{ColumnType::kBool, 1000, "boolean"},
                               {ColumnType::kBytea, 1001, "bytea"},
                               {ColumnType::kInt8, 1016, "bigint"},
                               {ColumnType::kText, 1009, "text"},
                               {ColumnType::kFloat8, 1022, "double precision"},
                               {ColumnType::kTimestamptz, 1185, "timestamptz"},
                               {ColumnType::kJsonb, 3807, "jsonb"}};

const TypeInfo& infoOf(ColumnType type) {
  for (const TypeInfo& info : kTypes)
    if (info.type == type) return info;
  throw PgError("unknown batch column type " + std::to_string(static_cast<unsigned int>(type)));
}

}  // namespace

unsigned int arrayTypeOf(ColumnType type) {
  return infoOf(type).arrayOid;
}

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

ColumnBatch::ColumnBatch(std::string table, std::span<const ColumnType> types) : table_(std::move(table)) {
  columns_.reserve(types.size());
  for (ColumnType type : types) columns_.push_back(Column{type, {}, false});
}

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

std::string& ColumnBatch::next(ColumnType type) {
  if (column_ >= columns_.size())
    throw PgError(table_ + ": record " + std::to_string(index_) + " has more values than the " +
                  std::to_string(columns_.size()) + " columns (a StackLens bug)");
  Column& column = columns_[column_++];
  if (column.type != type)
    throw PgError(table_ + ": column " + std::to_string(column_) + " holds " + infoOf(column.type).name + ", not " +
                  infoOf(type).name + " (a StackLens bug)");
  return column.elements;
}

void ColumnBatch::require(bool ok, std::string_view field, std::string_view problem) const {
  if (ok) return;
  throw PgError(table_ + ": record " + std::to_string(index_) + (key_.empty() ? "" : " (" + key_ + ")") + ": field '" +
                    std::string(field) + "' " + std::string(problem),
                PgError::Kind::kInput);
}

void ColumnBatch::text(std::string_view field, std::string_view value) {
  require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  appendElement(next(ColumnType::kText), value);
}

void ColumnBatch::integer(std::int64_t value) {
  std::string& out = next(ColumnType::kInt8);
  appendBigEndian(out, std::int32_t{8});
  appendBigEndian(out, value);
}

void ColumnBatch::number(double value) {
  std::string& out = next(ColumnType::kFloat8);
  appendBigEndian(out, std::int32_t{8});
  appendBigEndian(out, std::bit_cast<std::uint64_t>(value));
}

void ColumnBatch::boolean(bool value) {
  std::string& out = next(ColumnType::kBool);
  appendBigEndian(out, std::int32_t{1});
  out += value ? '\1' : '\0';
}

void ColumnBatch::bytes(std::string_view value) {
  appendElement(next(ColumnType::kBytea), value);
}

void ColumnBatch::timestamp(std::string_view field, core::EpochSeconds value) {
  require(value >= kMinTimestamp && value < kEndTimestamp, field,
          "is outside PostgreSQL's timestamp range (4713 BC to 294276 AD)");
  std::string& out = next(ColumnType::kTimestamptz);
  appendBigEndian(out, std::int32_t{8});
  appendBigEndian(out, (value - kPostgresEpoch) * std::int64_t{1000000});
}

void ColumnBatch::null() {
  if (column_ >= columns_.size()) next(ColumnType::kText);  // throws
  Column& column = columns_[column_++];
  appendBigEndian(column.elements, std::int32_t{-1});
  column.hasNull = true;
}

void ColumnBatch::textArray(std::string_view field, std::span<const std::string> values) {
  for (const std::string& value : values)
    require(!hasNul(value), field, "contains a NUL byte, which PostgreSQL text cannot store");
  appendElement(next(ColumnType::kText), textArrayLiteral(values));
}

void ColumnBatch::numberArray(std::span<const double> values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += formatDouble(values[i]);
  }
  literal += '}';
  appendElement(next(ColumnType::kText), literal);
}

namespace {

// Keys that JSON spells as they are: printable ASCII without quote or backslash (metric names).
bool plainJsonKey(std::string_view key) {
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// A number as JSON: shortest round-trip digits, ".0" on integral values as nlohmann::json writes
// them; NaN and infinities as null.
void appendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
  if (std::find_if(buffer, end, [](char c) { return c == '.' || c == 'e'; }) == end) out += ".0";
}

}  // namespace

void ColumnBatch::jsonObject(std::string_view field, const std::map<std::string, double>& values) {
  // The common case written directly: building a nlohmann::json tree per value cost more than
  // everything else the client does for an anomaly row.
  if (std::all_of(values.begin(), values.end(), [](const auto& entry) { return plainJsonKey(entry.first); })) {
    std::string json = "\1{";  // jsonb's binary input: a version byte (1), then the JSON text
    for (const auto& [name, value] : values) {
      if (json.size() > 2) json += ',';
      json += '"';
      json += name;
      json += "\":";
      appendJsonNumber(json, value);
    }
    json += '}';
    appendElement(next(ColumnType::kJsonb), json);
    return;
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : values) {
    require(!hasNul(name), field, "has a key with a NUL byte");
    object[name] = value;
  }
  // jsonb's binary input is a version byte (1) and the JSON text.
  appendElement(next(ColumnType::kJsonb), '\1' + object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ColumnBatch::jsonText(std::string_view field, std::string_view json) {
  require(!hasNul(json), field, "contains a NUL byte");
  std::string& out = next(ColumnType::kJsonb);
  appendBigEndian(out, static_cast<std::int32_t>(json.size() + 1));
  out += '\1';  // jsonb's binary input: a version byte, then the JSON text
  out += json;
}

// Array binary format: dimensions, null flag, element type, then per dimension its length and
// lower bound, then the elements.
std::vector<std::string> ColumnBatch::parameters() const {
  std::vector<std::string> parameters;
  parameters.reserve(columns_.size());
  for (const Column& column : columns_) {
    std::string array;
    array.reserve(20 + column.elements.size());
    appendBigEndian(array, std::int32_t{1});
    appendBigEndian(array, std::int32_t{column.hasNull ? 1 : 0});
    appendBigEndian(array, static_cast<std::uint32_t>(column.type));
    appendBigEndian(array, static_cast<std::int32_t>(rows_));
    appendBigEndian(array, std::int32_t{1});
    array += column.elements;
    parameters.push_back(std::move(array));
  }
  return parameters;
}

}  // namespace stacklens::connect::detail
