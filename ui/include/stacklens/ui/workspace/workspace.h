#pragma once
// A workspace: one local SQLite file (Qt's QSQLITE driver) holding the services' series, their
// labelled incidents, named engine configurations, detection results and kept backtests. The
// schema is versioned (table `meta`, key `schema_version`) and described in docs/WORKBENCH.md.
//
// Writes are all-or-nothing: every import runs in one transaction, so a failure leaves the file
// exactly as it was. A Workspace is used from the thread that opened it (Qt SQL connections are
// per thread); workers get copies of the data (ServiceData), never the connection.

#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "stacklens/core/records.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

/// A workspace problem (cannot open, not a workspace, newer schema, SQL failure). The message
/// names the file.
class WorkspaceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A kept backtest: what was run and its result as a JSON document (see BacktestResult::toJson).
struct StoredBacktest {
  int id = 0;
  std::string name;
  core::EpochSeconds createdAt = 0;
  std::string resultJson;
};

class Workspace {
 public:
  static constexpr int kSchemaVersion = 1;

  /// Opens `path`, creating an empty workspace when the file does not exist. Throws
  /// WorkspaceError when the file is not a workspace or has a newer schema.
  static std::unique_ptr<Workspace> open(const QString& path);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  QString path() const { return path_; }
  int schemaVersion() const;

  // --- series -------------------------------------------------------------------------------
  std::vector<ServiceSummary> services() const;
  bool hasService(const std::string& name) const;
  /// All samples and labels of one service. Throws WorkspaceError for an unknown service.
  ServiceData loadService(const std::string& name) const;

  /// One metric of one service in [from, to] (inclusive) as (timestamps, values): cheap, for
  /// sparklines. Empty when the service or metric is unknown.
  std::pair<std::vector<core::EpochSeconds>, std::vector<double>> loadMetric(const std::string& service,
                                                                              const std::string& metric,
                                                                              core::EpochSeconds from,
                                                                              core::EpochSeconds to) const;

  /// Stores services in one transaction, replacing services of the same name (their samples,
  /// labels and detection results). Returns the number of values written. On any failure
  /// nothing is written and WorkspaceError is thrown.
  std::size_t importServices(const std::vector<ServiceData>& services, const std::string& source);

  struct ImportSummary {
    QStringList services;
    std::size_t values = 0;
  };
  /// Reads and checks every file first (connect::CsvError names file, line and column), then
  /// imports them all in one transaction: either every file is imported or none.
  ImportSummary importCsvFiles(const QStringList& paths);

  // --- configurations (TOML text, the format the headless services read) --------------------
  void saveConfiguration(const std::string& name, const std::string& toml);
  std::optional<std::string> configuration(const std::string& name) const;
  std::vector<std::string> configurationNames() const;

  // --- results ------------------------------------------------------------------------------
  /// Replaces the stored detection results of `service`.
  void replaceAnomalies(const std::string& service, const std::vector<core::AnomalyRecord>& anomalies);
  std::vector<core::AnomalyRecord> anomalies(const std::string& service) const;

  int saveBacktest(const std::string& name, const std::string& resultJson);
  std::vector<StoredBacktest> backtests() const;

 private:
  Workspace(QString path, QString connection);
  void createOrCheckSchema();
  int serviceId(const std::string& name) const;

  QString path_;
  QString connection_;
};

}  // namespace stacklens::ui
