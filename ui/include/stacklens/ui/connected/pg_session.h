#pragma once
// One QPSQL connection of the workbench, opened from a profile and a password, with a connection
// name of its own (so several may be open, each in the thread that made it) that is removed again
// when the session goes away.

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QVariantList>

#include "stacklens/ui/connected/connection_profile.h"

namespace stacklens::ui {

class PgSession {
 public:
  /// Prepares (does not open) a connection. `connectTimeoutSeconds` bounds a hanging connect.
  PgSession(const PgProfile& profile, const QString& password, int connectTimeoutSeconds = 5);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  /// Connects; false with lastError() when that fails (or the QPSQL driver is missing).
  bool open();
  bool isOpen() const;
  QSqlDatabase database() const;
  QSqlError lastError() const;
  const QString& connectionName() const { return name_; }

  /// The QPSQL connect options (libpq keywords) the profile gives: sslmode, sslrootcert, timeout.
  static QString connectOptions(const PgProfile& profile, int connectTimeoutSeconds);

 private:
  QString name_;
};

/// Runs `sql` on `query` with the values bound to its '?' placeholders, in order (a prepared
/// statement; without values the statement runs as it is, which also suits statements PREPARE
/// does not take, such as LOCK). False leaves the error in query.lastError().
bool execBound(QSqlQuery& query, const QString& sql, const QVariantList& values = {});

}  // namespace stacklens::ui
