#include "stacklens/ui/connected/pg_session.h"

#include <QStringList>
#include <atomic>

namespace stacklens::ui {

PgSession::PgSession(const PgProfile& profile, const QString& password, int connectTimeoutSeconds) {
  static std::atomic<int> counter{0};
  name_ = QStringLiteral("stacklens-pg-%1").arg(counter++);
  QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name_);
  db.setHostName(profile.host);
  db.setPort(profile.port);
  db.setDatabaseName(profile.database);
  db.setUserName(profile.user);
  db.setPassword(password);
  db.setConnectOptions(connectOptions(profile, connectTimeoutSeconds));
}

PgSession::~PgSession() {
  {
    QSqlDatabase db = QSqlDatabase::database(name_, false);
    if (db.isOpen()) db.close();
  }
  QSqlDatabase::removeDatabase(name_);
}

QString PgSession::connectOptions(const PgProfile& profile, int connectTimeoutSeconds) {
  // QPSQL passes "key=value" pairs separated by ';' to libpq; values are single-quoted there, so
  // a path with spaces or quotes is escaped the libpq way.
  auto quoted = [](QString value) {
    value.replace('\\', QStringLiteral("\\\\")).replace('\'', QStringLiteral("\\'"));
    return '\'' + value + '\'';
  };
  QStringList options;
  if (!profile.sslMode.isEmpty()) options << "sslmode=" + profile.sslMode;
  if (!profile.rootCertificate.isEmpty()) options << "sslrootcert=" + quoted(profile.rootCertificate);
  options << QStringLiteral("connect_timeout=%1").arg(connectTimeoutSeconds);
  options << QStringLiteral("application_name=stacklens-workbench");
  return options.join(';');
}

bool PgSession::open() { return database().open(); }

bool PgSession::isOpen() const { return database().isOpen(); }

QSqlDatabase PgSession::database() const { return QSqlDatabase::database(name_, false); }

QSqlError PgSession::lastError() const { return database().lastError(); }

bool execBound(QSqlQuery& query, const QString& sql, const QVariantList& values) {
  if (values.isEmpty()) return query.exec(sql);
  if (!query.prepare(sql)) return false;
  for (const QVariant& value : values) query.addBindValue(value);
  return query.exec();
}

}  // namespace stacklens::ui
