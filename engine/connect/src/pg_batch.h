#pragma once
// A batch of records as one array parameter per column, in PostgreSQL's binary format, for a
// single prepared INSERT ... SELECT ... FROM unnest($1::text[], $2::timestamptz[], ...)
// statement: one round trip, atomic on its own, no staging table, and nothing for the server to
// parse but the JSON. Built in memory before anything is sent, so a record that cannot be
// stored is reported with its table, position and field before the batch touches the database.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::connect::detail {

/// The element type of a batch column; the value is its PostgreSQL type OID.
enum class ColumnType : unsigned int {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kText = 25,
  kFloat8 = 701,
  kTimestamptz = 1184,
  kJsonb = 3802,
};

/// The OID of the array type of `type`: the type to prepare the column's parameter with.
unsigned int arrayTypeOf(ColumnType type);

class ColumnBatch {
 public:
  /// One column per entry of `types`, in parameter order ($1, $2 ...).
  ColumnBatch(std::string table, std::span<const ColumnType> types);

  /// Starts row `index` (0-based position in the caller's batch); `key` names it in errors.
  /// Every row must then give one value per column, in column order.
  void beginRow(std::size_t index, std::string key);
  /// Ends the row; throws PgError when it did not give exactly one value per column.
  void endRow() const;

  // One value of the next column; each throws PgError ("a StackLens bug") when the column has
  // another type.
  void text(std::string_view field, std::string_view value);
  void integer(std::int64_t value);  ///< a kInt8 column
  void number(double value);         ///< a kFloat8 column; NaN and infinities are stored as such
  void boolean(bool value);
  /// A kBytea column: the bytes as they are (binary format, no escaping).
  void bytes(std::string_view value);
  /// A kTimestamptz column; throws PgError(kInput) outside PostgreSQL's range (4713 BC-294276 AD).
  void timestamp(std::string_view field, core::EpochSeconds value);
  void null();  ///< any column
  /// A text[] value, into a kText column as its array literal (the statement casts it back).
  void textArray(std::string_view field, std::span<const std::string> values);
  /// A double precision[] value, into a kText column as its array literal.
  void numberArray(std::span<const double> values);
  /// A JSON object of numbers, into a kJsonb column (NaN and infinities become null: JSON has
  /// no spelling for them).
  void jsonObject(std::string_view field, const std::map<std::string, double>& values);
  /// JSON text, into a kJsonb column as it is (the caller has checked it; the server parses it).
  void jsonText(std::string_view field, std::string_view json);

  /// Throws PgError(kInput) naming the table, row, key and field unless `ok`.
  void require(bool ok, std::string_view field, std::string_view problem) const;

  /// The binary arrays, one per column ($1, $2 ...).
  std::vector<std::string> parameters() const;
  std::size_t rows() const { return rows_; }

 private:
  struct Column {
    ColumnType type;
    std::string elements;  // each: 4-byte big-endian length (-1 for NULL), then the bytes
    bool hasNull = false;
  };
  std::string& next(ColumnType type);

  std::string table_;
  std::vector<Column> columns_;
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
