#include "stacklens/ui/connected/connection_diagnosis.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

#include <QSqlDatabase>
#include <QSqlQuery>
#include <map>

#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/ui/connected/pg_session.h"

namespace stacklens::ui {

namespace {

using Kind = ConnectionDiagnosis::Kind;

ConnectionDiagnosis make(Kind kind, QString summary, QString detail = {}) {
  ConnectionDiagnosis d;
  d.kind = kind;
  d.summary = std::move(summary);
  d.detail = std::move(detail).trimmed();
  return d;
}

bool resolves(const QString& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.toUtf8().constData(), nullptr, &hints, &result);
  if (result) ::freeaddrinfo(result);
  return rc == 0;
}

QString pgSummary(Kind kind, const PgProfile& p) {
  const QString where = QStringLiteral("%1:%2").arg(p.host).arg(p.port);
  switch (kind) {
    case Kind::kDnsFailure: return QStringLiteral("The host name \"%1\" does not resolve (DNS).").arg(p.host);
    case Kind::kRefused: return QStringLiteral("Connection refused: nothing listens on %1 (is PostgreSQL running, is the port right?).").arg(where);
    case Kind::kTimeout: return QStringLiteral("No answer from %1 within the timeout (firewall or wrong address?).").arg(where);
    case Kind::kAuthFailed: return QStringLiteral("Authentication failed for user \"%1\": check the password (or pg_hba.conf).").arg(p.user);
    case Kind::kTls: return QStringLiteral("TLS problem with sslmode=%1: check the server's TLS setup and the root certificate.").arg(p.sslMode);
    case Kind::kNoDatabase: return QStringLiteral("The server has no database \"%1\".").arg(p.database);
    case Kind::kDriverMissing: return QStringLiteral("Qt's PostgreSQL driver (QPSQL) is not installed: install libqt6sql6-psql.");
    default: return QStringLiteral("Cannot connect to %1.").arg(where);
  }
}

// The schema check: schema_migrations against the migrations compiled into this build.
ConnectionDiagnosis checkSchema(QSqlDatabase db) {
  const auto& known = connect::embeddedMigrations();
  const int expected = known.empty() ? 0 : known.back().version;
  QSqlQuery query(db);
  if (!query.exec(QStringLiteral("SELECT to_regclass('schema_migrations') IS NOT NULL")) || !query.next())
    return make(Kind::kOther, QStringLiteral("Connected, but cannot read the schema version."), query.lastError().text());
  ConnectionDiagnosis d;
  d.expectedVersion = expected;
  if (!query.value(0).toBool()) {
    d = make(Kind::kSchemaMissing,
             QStringLiteral("Connected, but the database has no StackLens schema: run `stacklens db migrate`."));
    d.expectedVersion = expected;
    for (const auto& m : known) d.pending << QString::fromStdString(m.name);
    return d;
  }
  if (!query.exec(QStringLiteral("SELECT version, name, checksum FROM schema_migrations ORDER BY version")))
    return make(Kind::kOther, QStringLiteral("Connected, but cannot read schema_migrations."), query.lastError().text());
  std::map<int, QString> appliedChecksums;
  QStringList modified;
  while (query.next()) {
    const int version = query.value(0).toInt();
    appliedChecksums[version] = query.value(2).toString();
    d.databaseVersion = std::max(d.databaseVersion, version);
  }
  for (const auto& m : known) {
    const auto applied = appliedChecksums.find(m.version);
    if (applied == appliedChecksums.end())
      d.pending << QString::fromStdString(m.name);
    else if (applied->second != QString::fromStdString(m.checksum))
      modified << QString::fromStdString(m.name);
  }
  if (d.databaseVersion > expected) {
    d.kind = Kind::kSchemaNewer;
    d.summary = QStringLiteral("The database's schema (version %1) is newer than this workbench's (%2): upgrade StackLens.")
                    .arg(d.databaseVersion)
                    .arg(expected);
  } else if (!modified.isEmpty()) {
    d.kind = Kind::kSchemaModified;
    d.summary = QStringLiteral("Applied migrations differ from this workbench's: %1.").arg(modified.join(", "));
  } else if (!d.pending.isEmpty()) {
    d.kind = Kind::kSchemaOld;
    d.summary = QStringLiteral("The schema is at version %1, this workbench needs %2 (pending: %3): run `stacklens db migrate`.")
                    .arg(d.databaseVersion)
                    .arg(expected)
                    .arg(d.pending.join(", "));
  } else {
    d.kind = Kind::kOk;
    d.summary = QStringLiteral("Connected; schema at version %1.").arg(d.databaseVersion);
  }
  return d;
}

}  // namespace

QString kindName(Kind kind) {
  switch (kind) {
    case Kind::kOk: return QStringLiteral("ok");
    case Kind::kDnsFailure: return QStringLiteral("dns");
    case Kind::kRefused: return QStringLiteral("refused");
    case Kind::kTimeout: return QStringLiteral("timeout");
    case Kind::kAuthFailed: return QStringLiteral("auth");
    case Kind::kTls: return QStringLiteral("tls");
    case Kind::kNoDatabase: return QStringLiteral("no-database");
    case Kind::kSchemaMissing: return QStringLiteral("schema-missing");
    case Kind::kSchemaOld: return QStringLiteral("schema-old");
    case Kind::kSchemaNewer: return QStringLiteral("schema-newer");
    case Kind::kSchemaModified: return QStringLiteral("schema-modified");
    case Kind::kDriverMissing: return QStringLiteral("driver-missing");
    case Kind::kOther: break;
  }
  return QStringLiteral("other");
}

Kind classifyPgFailure(const QString& message, const QString& sqlState) {
  // libpq's client-side messages carry no SQLSTATE (QPSQL reports none for a failed connect), so
  // the text decides; the checks go from the most to the least specific.
  const QString m = message.toLower();
  if (sqlState == "28P01" || sqlState == "28000" || m.contains("password authentication failed") ||
      m.contains("no password supplied") || m.contains("no pg_hba.conf entry") || m.contains("authentication failed"))
    return Kind::kAuthFailed;
  if (sqlState == "3D000" || (m.contains("database") && m.contains("does not exist"))) return Kind::kNoDatabase;
  if (m.contains("could not translate host name") || m.contains("name or service not known") ||
      m.contains("temporary failure in name resolution"))
    return Kind::kDnsFailure;
  if (m.contains("ssl") || m.contains("certificate") || m.contains("tls")) return Kind::kTls;
  if (m.contains("connection refused")) return Kind::kRefused;
  if (m.contains("timeout expired") || m.contains("timed out")) return Kind::kTimeout;
  return Kind::kOther;
}

ConnectionDiagnosis diagnosePostgres(const PgProfile& profile, const QString& password, int connectTimeoutSeconds) {
  if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
    return make(Kind::kDriverMissing, pgSummary(Kind::kDriverMissing, profile));
  PgSession session(profile, password, connectTimeoutSeconds);
  if (!session.open()) {
    const QSqlError error = session.lastError();
    const Kind kind = classifyPgFailure(error.databaseText() + ' ' + error.driverText(), error.nativeErrorCode());
    return make(kind, pgSummary(kind, profile), error.databaseText());
  }
  return checkSchema(session.database());
}

ConnectionDiagnosis diagnoseKafka(const KafkaProfile& profile, const QString& password, int timeoutMs) {
  const QStringList servers = profile.bootstrapServers.split(',', Qt::SkipEmptyParts);
  if (servers.isEmpty()) return make(Kind::kOther, QStringLiteral("No Kafka bootstrap servers given."));
  // librdkafka only logs resolver failures; resolving first names the bad host.
  QStringList unresolved;
  for (const QString& server : servers) {
    const QString host = server.trimmed().section(':', 0, -2);
    if (!host.isEmpty() && !resolves(host)) unresolved << host;
  }
  if (unresolved.size() == servers.size())
    return make(Kind::kDnsFailure, QStringLiteral("No bootstrap host resolves (DNS): %1.").arg(unresolved.join(", ")));
  connect::KafkaProperties properties{{"bootstrap.servers", profile.bootstrapServers.toStdString()},
                                      {"security.protocol", profile.securityProtocol.toStdString()},
                                      {"client.id", "stacklens-workbench"}};
  if (profile.securityProtocol.startsWith("sasl")) {
    properties["sasl.mechanisms"] = profile.saslMechanism.toStdString();
    properties["sasl.username"] = profile.saslUser.toStdString();
    properties["sasl.password"] = password.toStdString();
  }
  if (!profile.caLocation.isEmpty()) properties["ssl.ca.location"] = profile.caLocation.toStdString();
  try {
    connect::KafkaProducer producer(properties);
    const std::string reason = producer.probe(std::chrono::milliseconds(timeoutMs));
    if (reason.empty())
      return make(Kind::kOk, QStringLiteral("Kafka cluster answered at %1.").arg(profile.bootstrapServers));
    const QString detail = QString::fromStdString(reason);
    const QString lower = detail.toLower();
    if (lower.contains("authentication") || lower.contains("sasl"))
      return make(Kind::kAuthFailed, QStringLiteral("Kafka authentication (SASL) failed."), detail);
    if (lower.contains("ssl") || lower.contains("certificate"))
      return make(Kind::kTls, QStringLiteral("Kafka TLS problem: check ssl.ca.location."), detail);
    return make(Kind::kRefused,
                QStringLiteral("No Kafka broker answered at %1 (refused or unreachable).").arg(profile.bootstrapServers),
                detail);
  } catch (const connect::KafkaError& e) {
    return make(Kind::kOther, QStringLiteral("Invalid Kafka settings."), QString::fromStdString(e.what()));
  }
}

}  // namespace stacklens::ui
