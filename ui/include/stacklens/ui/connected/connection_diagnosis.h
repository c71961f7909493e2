#pragma once
// "Test connection": tries a profile's PostgreSQL and Kafka and says in one sentence what is wrong,
// in the terms an SRE acts on: the host name does not resolve, nothing listens on the port, the
// password is wrong, TLS failed, or the database's schema is missing or older/newer than this
// workbench's (schema_migrations against the migrations compiled into it).

#include <QString>
#include <QStringList>

#include "stacklens/ui/connected/connection_profile.h"

namespace stacklens::ui {

struct ConnectionDiagnosis {
  enum class Kind {
    kOk,
    kDnsFailure,        ///< the host name does not resolve
    kRefused,           ///< nothing listens there (or a firewall rejects)
    kTimeout,           ///< no answer within the connect timeout
    kAuthFailed,        ///< wrong user or password, or pg_hba.conf rejects this client
    kTls,               ///< TLS required but unavailable, or the certificate does not verify
    kNoDatabase,        ///< the server has no such database
    kSchemaMissing,     ///< no schema_migrations table: run `stacklens db migrate`
    kSchemaOld,         ///< migrations pending: run `stacklens db migrate`
    kSchemaNewer,       ///< the database was migrated by a newer StackLens
    kSchemaModified,    ///< an applied migration differs from this build's text
    kDriverMissing,     ///< Qt's QPSQL driver is not installed (libqt6sql6-psql)
    kOther,
  };
  Kind kind = Kind::kOther;
  QString summary;  ///< one sentence for the user, with what to do
  QString detail;   ///< the driver's or server's own message
  int databaseVersion = 0;
  int expectedVersion = 0;
  QStringList pending;  ///< migrations the database lacks

  bool ok() const { return kind == Kind::kOk; }
};

QString kindName(ConnectionDiagnosis::Kind kind);

/// Classifies a libpq connection failure message (and SQLSTATE when the server sent one).
ConnectionDiagnosis::Kind classifyPgFailure(const QString& message, const QString& sqlState);

/// Connects with QPSQL and checks the schema version. Blocks up to the connect timeout.
ConnectionDiagnosis diagnosePostgres(const PgProfile& profile, const QString& password, int connectTimeoutSeconds = 5);

/// Asks the cluster for metadata (librdkafka), classifying a failure the same way.
ConnectionDiagnosis diagnoseKafka(const KafkaProfile& profile, const QString& password, int timeoutMs = 5000);

}  // namespace stacklens::ui
