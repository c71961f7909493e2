#include "stacklens/ui/connected/anomaly_triage.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include "stacklens/ui/connected/pg_session.h"

namespace stacklens::ui {

AnomalyTriage::AnomalyTriage(QSqlDatabase db, QString who) : db_(std::move(db)), who_(std::move(who)) {}

QString AnomalyTriage::actionName(Action action) {
  switch (action) {
    case Action::kAcknowledge: return QStringLiteral("acknowledged");
    case Action::kResolve: return QStringLiteral("resolved");
    case Action::kReopen: return QStringLiteral("open");
    case Action::kFalsePositive: return QStringLiteral("false_positive");
  }
  return {};
}

bool AnomalyTriage::fail(const QString& message) {
  error_ = message;
  if (db_.isOpen()) db_.rollback();
  return false;
}

bool AnomalyTriage::apply(const QString& anomalyId, Action action, const QString& note) {
  error_.clear();
  if (!db_.transaction()) return fail(db_.lastError().text());
  QSqlQuery query(db_);
  // The current status; FOR UPDATE so two people triaging the same anomaly queue up.
  if (!execBound(query, QStringLiteral("SELECT resolved FROM ml_anomalies WHERE anomaly_id = ? FOR UPDATE"), {anomalyId}))
    return fail(query.lastError().text());
  if (!query.next()) return fail(QStringLiteral("no anomaly %1 in ml_anomalies").arg(anomalyId));
  const bool resolved = query.value(0).toBool();
  const QString status = resolved ? QStringLiteral("resolved") : QStringLiteral("open");
  query.finish();
  // The status trigger reads who and the note from the transaction's settings.
  if (!execBound(query, QStringLiteral("SELECT set_config('stacklens.actor', ?, true), set_config('stacklens.note', ?, true)"),
            {who_, note}))
    return fail(query.lastError().text());
  query.finish();
  auto record = [&](const QString& newStatus) {
    return execBound(query,
                QStringLiteral("INSERT INTO ml_anomaly_history (anomaly_id, old_status, new_status, changed_by, note) "
                               "VALUES (?, ?, ?, ?, ?)"),
                {anomalyId, status, newStatus, who_, note});
  };
  auto setResolved = [&](bool value) {
    return execBound(query, QStringLiteral("UPDATE ml_anomalies SET resolved = ?::boolean WHERE anomaly_id = ?"),
                {value ? QStringLiteral("true") : QStringLiteral("false"), anomalyId});
  };
  bool ok = true;
  switch (action) {
    case Action::kAcknowledge: ok = record(actionName(action)); break;
    case Action::kFalsePositive: ok = record(actionName(action)) && (resolved || setResolved(true)); break;
    case Action::kResolve:
      if (resolved) return fail(QStringLiteral("anomaly %1 is already resolved").arg(anomalyId));
      ok = setResolved(true);
      break;
    case Action::kReopen:
      if (!resolved) return fail(QStringLiteral("anomaly %1 is open").arg(anomalyId));
      ok = setResolved(false);
      break;
  }
  if (!ok) return fail(query.lastError().text());
  if (!db_.commit()) return fail(db_.lastError().text());
  return true;
}

std::vector<TriageEvent> AnomalyTriage::history(const QString& anomalyId) const {
  std::vector<TriageEvent> events;
  QSqlQuery query(db_);
  if (!execBound(query,
            QStringLiteral("SELECT anomaly_id, old_status, new_status, changed_by, note, changed_at "
                           "FROM ml_anomaly_history WHERE anomaly_id = ? ORDER BY history_id"),
            {anomalyId}))
    return events;
  while (query.next())
    events.push_back({query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
                      query.value(3).toString(), query.value(4).toString(), query.value(5).toDateTime()});
  return events;
}

}  // namespace stacklens::ui
