#pragma once
// A batch of records as one array parameter per column, for a single prepared
// INSERT ... SELECT ... FROM unnest($1::text[], $2::timestamptz[], ...) statement: one round trip,
// atomic on its own, no staging table. Built in memory before anything is sent, so a record that
// cannot be stored is reported with its table, position and field before the batch touches the
// database.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::connect::detail {

class ColumnBatch {
 public:
  ColumnBatch(std::string table, std::size_t columns);

  /// Starts row `index` (0-based position in the caller's batch); `key` names it in errors.
  /// Every row must then give one value per column, in column order.
  void beginRow(std::size_t index, std::string key);
  /// Ends the row; throws PgError when it did not give exactly one value per column.
  void endRow() const;

  void text(std::string_view field, std::string_view value);
  void integer(std::int64_t value);
  void number(double value);  ///< NaN/Infinity as PostgreSQL spells them
  void boolean(bool value);
  void timestamp(core::EpochSeconds value);
  void null();
  /// A text[] value, sent as its array literal (the statement casts it back).
  void textArray(std::string_view field, std::span<const std::string> values);
  /// A double precision[] value, sent as its array literal.
  void numberArray(std::span<const double> values);
  /// A JSON object of numbers (NaN and infinities become null: JSON has no spelling for them).
  void jsonObject(std::string_view field, const std::map<std::string, double>& values);

  /// Throws PgError(kInput) naming the table, row, key and field unless `ok`.
  void require(bool ok, std::string_view field, std::string_view problem) const;

  /// The array literals, one per column ($1, $2 ...).
  std::vector<std::string> parameters() const;
  std::size_t rows() const { return rows_; }

 private:
  std::string& next();
  void quoted(std::string_view value);

  std::string table_;
  std::vector<std::string> columns_;
  std::size_t column_ = 0;
  std::size_t rows_ = 0;
  std::size_t index_ = 0;
  std::string key_;
};

/// A PostgreSQL array literal of quoted text elements ({"a","b\"c"}). Throws PgError(kInput)
/// for a NUL byte.
std::string textArrayLiteral(std::span<const std::string> values);

/// Shortest round-trip decimal text of a double ("NaN", "Infinity", "-Infinity" as PostgreSQL
/// spells them).
std::string formatDouble(double value);

}  // namespace stacklens::connect::detail
