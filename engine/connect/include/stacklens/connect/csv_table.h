#pragma once
// Reading the CSV files of the command-line contracts and workspace imports, with errors that name
// the file, the line and the column. One reader for every CSV StackLens takes.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::connect {

/// A CSV problem. what() reads "FILE:LINE: column 'NAME': reason" (or "FILE: reason").
class CsvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A CSV document read whole: the header and the rows as text fields.
/// RFC 4180: fields may be quoted ("a, b" and "say ""hi"""), lines end in LF or CRLF; blank lines
/// are skipped. Every row must have as many fields as the header.
struct CsvTable {
  std::string source;  ///< file name (or label) used in messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  ///< 1-based line number of each row in the source

  std::size_t rowCount() const { return rows.size(); }

  /// Index of the column named `name` (exact match after trimming), or -1.
  int columnIndex(std::string_view name) const;

  /// The field as a number. Empty, "NA", "NaN" and "null" give NaN when `allowMissing`; anything
  /// else that is not a finite number throws CsvError naming the line and column.
  double number(std::size_t row, std::size_t column, bool allowMissing = true) const;

  /// The field as a timestamp (see core::parseTimestamp); throws CsvError naming line and column.
  core::EpochSeconds time(std::size_t row, std::size_t column) const;

  /// Throws CsvError for `row` and `column` with `reason`.
  [[noreturn]] void fail(std::size_t row, std::size_t column, const std::string& reason) const;
};

/// Parses CSV text. Throws CsvError on an empty document, an unterminated quote or a ragged row.
CsvTable parseCsv(std::string_view text, std::string source);

/// Reads and parses a file. Throws CsvError when it cannot be opened.
CsvTable readCsvFile(const std::string& path);

/// A table of numeric columns indexed by time, optionally holding many series (long form).
struct TimeSeriesFrame {
  std::vector<std::string> seriesIds;  ///< per row; empty when the file has no series_id column
  std::vector<core::EpochSeconds> timestamps;  ///< per row; row index when the file has no timestamp
  std::vector<std::string> columns;            ///< value column names, in file order
  std::vector<std::vector<double>> values;     ///< values[column][row]; NaN for missing fields
};

/// Interprets a table as `[series_id,]timestamp,<col>...` or, with no timestamp column, as a plain
/// feature table `x0,x1,...` (timestamps are then row numbers). Columns named in `ignore` (e.g.
/// "label") are left out of `values`. Throws CsvError for a bad timestamp or number, naming it.
TimeSeriesFrame toTimeSeriesFrame(const CsvTable& table, const std::vector<std::string>& ignore = {});

}  // namespace stacklens::connect
