#include "stacklens/ui/workspace/workspace.h"

#include <QDateTime>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "stacklens/ui/workspace/csv_import.h"

namespace stacklens::ui {
namespace {

constexpr const char* kSchema[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE services(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL,"
    " imported_at INTEGER NOT NULL)",
    "CREATE TABLE metrics(id INTEGER PRIMARY KEY,"
    " service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE(service_id, name))",
    // One row per metric and grid time; NULL is a missing value.
    "CREATE TABLE samples(metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE,"
    " ts INTEGER NOT NULL, value REAL, PRIMARY KEY(metric_id, ts)) WITHOUT ROWID",
    "CREATE TABLE labels(service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,"
    " start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL, CHECK(end_ts >= start_ts))",
    "CREATE INDEX labels_service ON labels(service_id)",
    "CREATE TABLE configurations(name TEXT PRIMARY KEY, toml TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE TABLE anomalies(service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,"
    " anomaly_id TEXT NOT NULL, ts INTEGER NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,"
    " score REAL NOT NULL, confidence REAL NOT NULL, methods TEXT NOT NULL, description TEXT NOT NULL,"
    " PRIMARY KEY(service_id, anomaly_id))",
    "CREATE INDEX anomalies_time ON anomalies(service_id, ts)",
    "CREATE TABLE backtests(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " result_json TEXT NOT NULL)",
};

std::string str(const QString& s) { return s.toStdString(); }
// Never a null QString: Qt binds a null string as SQL NULL, and the text columns are NOT NULL.
QString qstr(const std::string& s) { return s.empty() ? QStringLiteral("") : QString::fromStdString(s); }

core::EpochSeconds nowSeconds() { return QDateTime::currentSecsSinceEpoch(); }

// A prepared statement that throws WorkspaceError naming the file when it fails.
class Statement {
 public:
  Statement(const QSqlDatabase& db, const QString& path, const QString& sql) : query_(db), path_(path) {
    query_.setForwardOnly(true);
    if (!query_.prepare(sql)) fail();
  }
  Statement& bind(const QVariant& v) {
    query_.addBindValue(v);
    return *this;
  }
  QSqlQuery& run() {
    if (!query_.exec()) fail();
    return query_;
  }
  QSqlQuery& query() { return query_; }

 private:
  [[noreturn]] void fail() const {
    throw WorkspaceError(str(path_) + ": " + str(query_.lastError().text()) + " (in: " +
                         str(query_.lastQuery().left(80)) + ")");
  }
  QSqlQuery query_;
  QString path_;
};

// Commits on success, rolls back when an exception leaves the scope.
class Transaction {
 public:
  Transaction(QSqlDatabase db, const QString& path) : db_(std::move(db)) {
    if (!db_.transaction()) throw WorkspaceError(str(path) + ": cannot begin a transaction: " + str(db_.lastError().text()));
    path_ = path;
  }
  ~Transaction() {
    if (!done_) db_.rollback();
  }
  void commit() {
    if (!db_.commit()) throw WorkspaceError(str(path_) + ": commit failed: " + str(db_.lastError().text()));
    done_ = true;
  }

 private:
  QSqlDatabase db_;
  QString path_;
  bool done_ = false;
};

QVariant valueOrNull(double v) { return std::isfinite(v) ? QVariant(v) : QVariant(); }

}  // namespace

Workspace::Workspace(QString path, QString connection) : path_(std::move(path)), connection_(std::move(connection)) {}

std::unique_ptr<Workspace> Workspace::open(const QString& path) {
  static std::atomic<int> counter{0};
  const QString connection = QStringLiteral("stacklens-workspace-%1").arg(counter++);
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
    db.setDatabaseName(path);
    if (!db.open()) {
      const std::string why = str(db.lastError().text());
      db = QSqlDatabase();
      QSqlDatabase::removeDatabase(connection);
      throw WorkspaceError(str(path) + ": cannot open: " + why);
    }
  }
  std::unique_ptr<Workspace> ws(new Workspace(path, connection));
  ws->createOrCheckSchema();
  return ws;
}

Workspace::~Workspace() {
  {
    QSqlDatabase db = QSqlDatabase::database(connection_, false);
    if (db.isOpen()) db.close();
  }
  QSqlDatabase::removeDatabase(connection_);
}

void Workspace::createOrCheckSchema() {
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  QSqlQuery pragma(db);
  pragma.exec(QStringLiteral("PRAGMA foreign_keys = ON"));
  pragma.exec(QStringLiteral("PRAGMA synchronous = NORMAL"));
  const QStringList tables = db.tables();
  if (tables.isEmpty()) {
    Transaction tx(db, path_);
    for (const char* sql : kSchema) Statement(db, path_, QString::fromLatin1(sql)).run();
    Statement(db, path_, QStringLiteral("INSERT INTO meta(key, value) VALUES ('schema_version', ?), ('created_at', ?)"))
        .bind(kSchemaVersion)
        .bind(QString::number(nowSeconds()))
        .run();
    tx.commit();
    return;
  }
  if (!tables.contains(QStringLiteral("meta")))
    throw WorkspaceError(str(path_) + ": not a StackLens workspace (no 'meta' table)");
  const int version = schemaVersion();
  if (version <= 0) throw WorkspaceError(str(path_) + ": not a StackLens workspace (no schema version)");
  if (version > kSchemaVersion)
    throw WorkspaceError(str(path_) + ": workspace schema version " + std::to_string(version) +
                         " is newer than this workbench supports (" + std::to_string(kSchemaVersion) + ")");
}

int Workspace::schemaVersion() const {
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  QSqlQuery q(db);
  if (!q.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'schema_version'")) || !q.next()) return 0;
  return q.value(0).toInt();
}

std::vector<ServiceSummary> Workspace::services() const {
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  std::vector<ServiceSummary> out;
  std::map<int, std::size_t> index;
  {
    Statement s(db, path_,
                QStringLiteral("SELECT id, name, source, (SELECT COUNT(*) FROM labels l WHERE l.service_id = s.id)"
                               " FROM services s ORDER BY name"));
    QSqlQuery& q = s.run();
    while (q.next()) {
      index[q.value(0).toInt()] = out.size();
      ServiceSummary summary;
      summary.name = str(q.value(1).toString());
      summary.source = str(q.value(2).toString());
      summary.labelWindows = q.value(3).toInt();
      out.push_back(std::move(summary));
    }
  }
  Statement s(db, path_,
              QStringLiteral("SELECT m.service_id, m.name, MIN(x.ts), MAX(x.ts), COUNT(*) FROM metrics m"
                             " JOIN samples x ON x.metric_id = m.id GROUP BY m.id ORDER BY m.service_id, m.position"));
  QSqlQuery& q = s.run();
  while (q.next()) {
    ServiceSummary& summary = out[index.at(q.value(0).toInt())];
    summary.metrics.push_back(str(q.value(1).toString()));
    const auto first = q.value(2).toLongLong(), last = q.value(3).toLongLong();
    const auto count = static_cast<std::size_t>(q.value(4).toLongLong());
    if (summary.metrics.size() == 1 || first < summary.first) summary.first = first;
    summary.last = std::max(summary.last, static_cast<core::EpochSeconds>(last));
    summary.samples = std::max(summary.samples, count);
  }
  return out;
}

bool Workspace::hasService(const std::string& name) const { return serviceId(name) >= 0; }

int Workspace::serviceId(const std::string& name) const {
  Statement s(QSqlDatabase::database(connection_, false), path_, QStringLiteral("SELECT id FROM services WHERE name = ?"));
  QSqlQuery& q = s.bind(qstr(name)).run();
  return q.next() ? q.value(0).toInt() : -1;
}

ServiceData Workspace::loadService(const std::string& name) const {
  const int id = serviceId(name);
  if (id < 0) throw WorkspaceError(str(path_) + ": no service '" + name + "'");
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  ServiceData data;
  data.name = name;
  std::vector<std::vector<std::pair<core::EpochSeconds, double>>> columns;
  {
    Statement s(db, path_, QStringLiteral("SELECT name FROM metrics WHERE service_id = ? ORDER BY position"));
    QSqlQuery& q = s.bind(id).run();
    while (q.next()) data.metrics.push_back(str(q.value(0).toString()));
  }
  columns.resize(data.metrics.size());
  {
    Statement s(db, path_,
                QStringLiteral("SELECT m.position, x.ts, x.value FROM metrics m JOIN samples x ON x.metric_id = m.id"
                               " WHERE m.service_id = ? ORDER BY m.position, x.ts"));
    QSqlQuery& q = s.bind(id).run();
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    while (q.next()) {
      const auto position = static_cast<std::size_t>(q.value(0).toInt());
      const QVariant v = q.value(2);
      if (position < columns.size()) columns[position].emplace_back(q.value(1).toLongLong(), v.isNull() ? kNaN : v.toDouble());
    }
  }
  // Every metric normally holds the whole grid; merge defensively when a file was edited by hand.
  bool sameGrid = true;
  for (const auto& column : columns) sameGrid = sameGrid && column.size() == columns.front().size();
  if (!columns.empty() && sameGrid) {
    for (const auto& [t, v] : columns.front()) data.timestamps.push_back(t);
    for (std::size_t c = 1; c < columns.size() && sameGrid; ++c)
      for (std::size_t r = 0; r < columns[c].size() && sameGrid; ++r) sameGrid = columns[c][r].first == data.timestamps[r];
  }
  if (!sameGrid) {
    std::set<core::EpochSeconds> grid;
    for (const auto& column : columns)
      for (const auto& point : column) grid.insert(point.first);
    data.timestamps.assign(grid.begin(), grid.end());
  }
  const std::size_t n = data.timestamps.size();
  data.values.assign(columns.size(), std::vector<double>(n, std::numeric_limits<double>::quiet_NaN()));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (const auto& [t, v] : columns[c]) {
      const auto it = std::lower_bound(data.timestamps.begin(), data.timestamps.end(), t);
      data.values[c][static_cast<std::size_t>(it - data.timestamps.begin())] = v;
    }
  }
  Statement s(db, path_, QStringLiteral("SELECT start_ts, end_ts FROM labels WHERE service_id = ? ORDER BY start_ts"));
  QSqlQuery& q = s.bind(id).run();
  while (q.next()) data.labels.push_back({q.value(0).toLongLong(), q.value(1).toLongLong()});
  return data;
}

std::pair<std::vector<core::EpochSeconds>, std::vector<double>> Workspace::loadMetric(const std::string& service,
                                                                                    const std::string& metric,
                                                                                    core::EpochSeconds from,
                                                                                    core::EpochSeconds to) const {
  Statement s(QSqlDatabase::database(connection_, false), path_,
              QStringLiteral("SELECT x.ts, x.value FROM services s JOIN metrics m ON m.service_id = s.id"
                             " JOIN samples x ON x.metric_id = m.id"
                             " WHERE s.name = ? AND m.name = ? AND x.ts BETWEEN ? AND ? ORDER BY x.ts"));
  QSqlQuery& q = s.bind(qstr(service))
                     .bind(qstr(metric))
                     .bind(QVariant::fromValue<qint64>(from))
                     .bind(QVariant::fromValue<qint64>(to))
                     .run();
  std::pair<std::vector<core::EpochSeconds>, std::vector<double>> out;
  while (q.next()) {
    out.first.push_back(q.value(0).toLongLong());
    const QVariant v = q.value(1);
    out.second.push_back(v.isNull() ? std::numeric_limits<double>::quiet_NaN() : v.toDouble());
  }
  return out;
}

std::size_t Workspace::importServices(const std::vector<ServiceData>& services, const std::string& source) {
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  Transaction tx(db, path_);
  Statement removeService(db, path_, QStringLiteral("DELETE FROM services WHERE name = ?"));
  Statement addService(db, path_, QStringLiteral("INSERT INTO services(name, source, imported_at) VALUES (?, ?, ?)"));
  Statement addMetric(db, path_, QStringLiteral("INSERT INTO metrics(service_id, position, name) VALUES (?, ?, ?)"));
  Statement addSample(db, path_, QStringLiteral("INSERT INTO samples(metric_id, ts, value) VALUES (?, ?, ?)"));
  Statement addLabel(db, path_, QStringLiteral("INSERT INTO labels(service_id, start_ts, end_ts) VALUES (?, ?, ?)"));
  std::size_t written = 0;
  const core::EpochSeconds now = nowSeconds();
  for (const ServiceData& service : services) {
    if (service.values.size() != service.metrics.size())
      throw WorkspaceError(str(path_) + ": service '" + service.name + "': metric names and columns differ");
    removeService.bind(qstr(service.name)).run();
    const QVariant serviceId =
        addService.bind(qstr(service.name)).bind(qstr(source)).bind(QVariant::fromValue<qint64>(now)).run().lastInsertId();
    for (std::size_t m = 0; m < service.metrics.size(); ++m) {
      const QVariant metricId =
          addMetric.bind(serviceId).bind(static_cast<int>(m)).bind(qstr(service.metrics[m])).run().lastInsertId();
      const std::vector<double>& column = service.values[m];
      if (column.size() != service.timestamps.size())
        throw WorkspaceError(str(path_) + ": service '" + service.name + "': column '" + service.metrics[m] +
                             "' has the wrong length");
      for (std::size_t r = 0; r < column.size(); ++r) {
        addSample.bind(metricId).bind(QVariant::fromValue<qint64>(service.timestamps[r])).bind(valueOrNull(column[r])).run();
      }
      written += column.size();
    }
    for (const LabelWindow& w : service.labels)
      addLabel.bind(serviceId).bind(QVariant::fromValue<qint64>(w.start)).bind(QVariant::fromValue<qint64>(w.end)).run();
  }
  tx.commit();
  return written;
}

Workspace::ImportSummary Workspace::importCsvFiles(const QStringList& paths) {
  std::vector<ServiceData> all;
  std::map<std::string, std::string> origin;  // service -> file that defines it
  for (const QString& path : paths) {
    CsvImport file = importCsvFile(str(path));
    for (ServiceData& service : file.services) {
      auto [it, inserted] = origin.emplace(service.name, str(path));
      if (!inserted)
        throw WorkspaceError(str(path) + ": service '" + service.name + "' is also defined by " + it->second);
      all.push_back(std::move(service));
    }
  }
  QStringList sources;
  for (const QString& path : paths) sources << QFileInfo(path).fileName();
  ImportSummary summary;
  summary.values = importServices(all, str(sources.join(QStringLiteral(", "))));
  for (const ServiceData& service : all) summary.services << qstr(service.name);
  return summary;
}

void Workspace::saveConfiguration(const std::string& name, const std::string& toml) {
  Statement(QSqlDatabase::database(connection_, false), path_,
            QStringLiteral("INSERT INTO configurations(name, toml, updated_at) VALUES (?, ?, ?)"
                           " ON CONFLICT(name) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at"))
      .bind(qstr(name))
      .bind(qstr(toml))
      .bind(QVariant::fromValue<qint64>(nowSeconds()))
      .run();
}

std::optional<std::string> Workspace::configuration(const std::string& name) const {
  Statement s(QSqlDatabase::database(connection_, false), path_, QStringLiteral("SELECT toml FROM configurations WHERE name = ?"));
  QSqlQuery& q = s.bind(qstr(name)).run();
  if (!q.next()) return std::nullopt;
  return str(q.value(0).toString());
}

std::vector<std::string> Workspace::configurationNames() const {
  Statement s(QSqlDatabase::database(connection_, false), path_, QStringLiteral("SELECT name FROM configurations ORDER BY name"));
  QSqlQuery& q = s.run();
  std::vector<std::string> out;
  while (q.next()) out.push_back(str(q.value(0).toString()));
  return out;
}

void Workspace::replaceAnomalies(const std::string& service, const std::vector<core::AnomalyRecord>& anomalies) {
  const int id = serviceId(service);
  if (id < 0) throw WorkspaceError(str(path_) + ": no service '" + service + "'");
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  Transaction tx(db, path_);
  Statement(db, path_, QStringLiteral("DELETE FROM anomalies WHERE service_id = ?")).bind(id).run();
  Statement add(db, path_,
                QStringLiteral("INSERT OR REPLACE INTO anomalies(service_id, anomaly_id, ts, type, severity, score,"
                               " confidence, methods, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (const core::AnomalyRecord& a : anomalies) {
    QStringList methods;
    for (const std::string& m : a.detectionMethods) methods << qstr(m);
    add.bind(id)
        .bind(qstr(a.anomalyId))
        .bind(QVariant::fromValue<qint64>(a.timestamp))
        .bind(QString::fromLatin1(core::toString(a.type).data(), static_cast<int>(core::toString(a.type).size())))
        .bind(QString::fromLatin1(core::toString(a.severity).data(), static_cast<int>(core::toString(a.severity).size())))
        .bind(a.anomalyScore)
        .bind(a.confidence)
        .bind(qstr(str(methods.join(QLatin1Char(',')))))
        .bind(qstr(a.description))
        .run();
  }
  tx.commit();
}

std::vector<core::AnomalyRecord> Workspace::anomalies(const std::string& service) const {
  std::vector<core::AnomalyRecord> out;
  const int id = serviceId(service);
  if (id < 0) return out;
  Statement s(QSqlDatabase::database(connection_, false), path_,
              QStringLiteral("SELECT anomaly_id, ts, type, severity, score, confidence, methods, description"
                             " FROM anomalies WHERE service_id = ? ORDER BY ts"));
  QSqlQuery& q = s.bind(id).run();
  while (q.next()) {
    core::AnomalyRecord a;
    a.anomalyId = str(q.value(0).toString());
    a.service = service;
    a.timestamp = q.value(1).toLongLong();
    a.type = core::anomalyTypeFromString(str(q.value(2).toString())).value_or(core::AnomalyType::kOutlier);
    a.severity = core::severityFromString(str(q.value(3).toString())).value_or(core::Severity::kLow);
    a.anomalyScore = q.value(4).toDouble();
    a.confidence = q.value(5).toDouble();
    for (const QString& m : q.value(6).toString().split(QLatin1Char(','), Qt::SkipEmptyParts))
      a.detectionMethods.push_back(str(m));
    a.description = str(q.value(7).toString());
    out.push_back(std::move(a));
  }
  return out;
}

int Workspace::saveBacktest(const std::string& name, const std::string& resultJson) {
  Statement s(QSqlDatabase::database(connection_, false), path_,
              QStringLiteral("INSERT INTO backtests(name, created_at, result_json) VALUES (?, ?, ?)"));
  return s.bind(qstr(name)).bind(QVariant::fromValue<qint64>(nowSeconds())).bind(qstr(resultJson)).run().lastInsertId().toInt();
}

std::vector<StoredBacktest> Workspace::backtests() const {
  Statement s(QSqlDatabase::database(connection_, false), path_,
              QStringLiteral("SELECT id, name, created_at, result_json FROM backtests ORDER BY id"));
  QSqlQuery& q = s.run();
  std::vector<StoredBacktest> out;
  while (q.next())
    out.push_back({q.value(0).toInt(), str(q.value(1).toString()), q.value(2).toLongLong(), str(q.value(3).toString())});
  return out;
}

}  // namespace stacklens::ui
