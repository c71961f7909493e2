#pragma once
// Triage of production anomalies from the workbench, written to PostgreSQL: acknowledge, resolve,
// reopen, or mark a false positive, each with a note, recorded in ml_anomaly_history with who and
// when (resolving goes through the table's status trigger, so a service and the workbench write
// the same history; acknowledgements and false-positive verdicts are history rows of their own).
// Each action is one transaction. Needs schema version 6 (sql/migrations/0006_workbench_triage.sql).

#include <QDateTime>
#include <QSqlDatabase>
#include <QString>
#include <vector>

namespace stacklens::ui {

/// One row of ml_anomaly_history.
struct TriageEvent {
  QString anomalyId;
  QString oldStatus;  ///< empty when NULL
  QString newStatus;  ///< open, acknowledged, resolved, false_positive
  QString changedBy;
  QString note;
  QDateTime changedAt;
};

class AnomalyTriage {
 public:
  enum class Action { kAcknowledge, kResolve, kReopen, kFalsePositive };

  /// Acts through `db` as `who` (the workbench user's name; recorded in changed_by).
  AnomalyTriage(QSqlDatabase db, QString who);

  /// Applies `action` to the anomaly. A false positive is also resolved. Returns false with
  /// error() when the anomaly does not exist or the database refuses (nothing is written then).
  bool apply(const QString& anomalyId, Action action, const QString& note);
  /// The anomaly's history, oldest first.
  std::vector<TriageEvent> history(const QString& anomalyId) const;
  const QString& error() const { return error_; }

  static QString actionName(Action action);

 private:
  bool fail(const QString& message);

  QSqlDatabase db_;
  QString who_;
  QString error_;
};

}  // namespace stacklens::ui
