#pragma once
// Rows in PostgreSQL's COPY text format (tab-separated, \N for NULL, backslash escapes), built in
// memory before anything is sent, so that a record that cannot be stored is reported with its
// table, position and field before the batch touches the database.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::connect::detail {

class CopyBuffer {
 public:
  explicit CopyBuffer(std::string table) : table_(std::move(table)) {}

  /// Starts row `index` (0-based position in the caller's batch); `key` names it in errors.
  void beginRow(std::size_t index, std::string key);
  void endRow();

  void text(std::string_view field, std::string_view value);
  void integer(std::int64_t value);
  void number(double value);  ///< NaN/Infinity kept as PostgreSQL spells them
  void boolean(bool value);
  void timestamp(core::EpochSeconds value);
  void null();
  void textArray(std::string_view field, std::span<const std::string> values);
  void numberArray(std::span<const double> values);
  void jsonObject(std::string_view field, const std::map<std::string, double>& values);
  /// A JSON document given as text; it must parse as an object.
  void jsonText(std::string_view field, std::string_view json);

  /// Throws PgError(kInput) naming the table, row, key and field unless `ok`.
  void require(bool ok, std::string_view field, std::string_view problem) const;

  const std::string& data() const { return data_; }
  std::size_t rows() const { return rows_; }

 private:
  void separator();
  void appendEscaped(std::string_view value);

  std::string table_;
  std::string data_;
  std::size_t rows_ = 0;
  std::size_t index_ = 0;
  std::string key_;
  bool firstField_ = true;
};

/// A PostgreSQL array literal of quoted text elements ({"a","b\"c"}). Throws PgError(kInput)
/// for a NUL byte.
std::string textArrayLiteral(std::span<const std::string> values);

/// Shortest round-trip decimal text of a double ("NaN", "Infinity", "-Infinity" as PostgreSQL
/// spells them).
std::string formatDouble(double value);

}  // namespace stacklens::connect::detail
