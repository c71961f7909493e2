#include "stacklens/ui/connected/false_positive_labels.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>
#include <atomic>
#include <stdexcept>

namespace stacklens::ui {

namespace {

// A short-lived QSQLITE connection of its own to the workspace file.
class LabelsConnection {
 public:
  // `create`: make the table when missing (writers); readers of a workspace without labels leave it as it is.
  LabelsConnection(const QString& path, bool create) : path_(path) {
    static std::atomic<int> counter{0};
    name_ = QStringLiteral("stacklens-fp-%1").arg(counter++);
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name_);
    db.setDatabaseName(path);
    if (!db.open()) fail(db.lastError().text());
    if (!create) return;
    QSqlQuery table(db);
    if (!table.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS false_positive_labels ("
                                    "anomaly_id TEXT PRIMARY KEY, service TEXT NOT NULL, ts INTEGER NOT NULL, "
                                    "anomaly_type TEXT NOT NULL, note TEXT NOT NULL, marked_by TEXT NOT NULL, "
                                    "marked_at INTEGER NOT NULL)")))
      fail(table.lastError().text());
  }
  ~LabelsConnection() {
    {
      QSqlDatabase db = QSqlDatabase::database(name_, false);
      db.close();
    }
    QSqlDatabase::removeDatabase(name_);
  }
  QSqlDatabase db() const { return QSqlDatabase::database(name_, false); }
  [[noreturn]] void fail(const QString& message) const {
    throw std::runtime_error(QStringLiteral("%1: false-positive labels: %2").arg(path_, message).toStdString());
  }

 private:
  QString path_;
  QString name_;
};

}  // namespace

void FalsePositiveLabels::add(const QString& workspacePath, const FalsePositiveLabel& label) {
  LabelsConnection connection(workspacePath, /*create=*/true);
  QSqlQuery insert(connection.db());
  insert.prepare(QStringLiteral("INSERT OR REPLACE INTO false_positive_labels VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (const QVariant& v : {QVariant(label.anomalyId), QVariant(label.service), QVariant(label.timestamp.toSecsSinceEpoch()),
                            QVariant(label.anomalyType), QVariant(label.note), QVariant(label.markedBy),
                            QVariant(label.markedAt.toSecsSinceEpoch())})
    insert.addBindValue(v);
  if (!insert.exec()) connection.fail(insert.lastError().text());
}

std::vector<FalsePositiveLabel> FalsePositiveLabels::load(const QString& workspacePath, const QString& service) {
  LabelsConnection connection(workspacePath, /*create=*/false);
  if (!connection.db().tables().contains(QStringLiteral("false_positive_labels"))) return {};
  QSqlQuery select(connection.db());
  select.prepare(QStringLiteral("SELECT anomaly_id, service, ts, anomaly_type, note, marked_by, marked_at "
                                "FROM false_positive_labels WHERE ? = '' OR service = ? ORDER BY ts, anomaly_id"));
  select.addBindValue(service);
  select.addBindValue(service);
  if (!select.exec()) connection.fail(select.lastError().text());
  std::vector<FalsePositiveLabel> labels;
  while (select.next())
    labels.push_back({select.value(0).toString(), select.value(1).toString(),
                      QDateTime::fromSecsSinceEpoch(select.value(2).toLongLong(), Qt::UTC),
                      select.value(3).toString(), select.value(4).toString(), select.value(5).toString(),
                      QDateTime::fromSecsSinceEpoch(select.value(6).toLongLong(), Qt::UTC)});
  return labels;
}

}  // namespace stacklens::ui
