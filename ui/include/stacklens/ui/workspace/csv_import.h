#pragma once
// Interpreting a CSV file as workspace data. Two layouts are recognised from the header:
//   - one metric: `timestamp,value[,label]` (NAB's files open as they are); the service is named
//     after the file;
//   - the service format: `timestamp[,service][,window],<the 8 features>[,label]`, one row per
//     service and window; without a `service` column the service is named after the file.
// `label` is 0/1 (also true/false); consecutive labelled rows become one incident window.
// Qt-free: parsing is connect::CsvTable's, errors are connect::CsvError naming file and line.

#include <optional>
#include <string>
#include <vector>

#include "stacklens/connect/csv_table.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

enum class CsvLayout { kSingleValue, kServiceMetrics };

struct CsvImport {
  CsvLayout layout = CsvLayout::kSingleValue;
  std::vector<ServiceData> services;  ///< rows sorted by time, one entry per service
};

/// Interprets a parsed table. `defaultService` names the service when the file has no `service`
/// column. Throws connect::CsvError ("FILE:LINE: column 'NAME': reason") for an unknown layout, a
/// bad number, timestamp or label, or a timestamp repeated within a service. O(rows · columns).
CsvImport interpretCsv(const connect::CsvTable& table, const std::string& defaultService);

/// The labelled windows NAB publishes for a file of its corpus: looks for `combined_windows.json`
/// one or two folders above `path` (NAB's layout <root>/data/<category>/<file>.csv) and returns the
/// windows under "<category>/<file>.csv", or nullopt when there is none. Throws CsvError for a
/// malformed windows file.
std::optional<std::vector<LabelWindow>> nabWindowsFor(const std::string& path);

/// Reads `path` and interprets it; the default service name is the file's stem. A single-value
/// file without a label column gets NAB's windows when nabWindowsFor() finds them.
CsvImport importCsvFile(const std::string& path);

}  // namespace stacklens::ui
