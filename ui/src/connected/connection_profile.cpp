#include "stacklens/ui/connected/connection_profile.h"

#include <QSettings>

#ifdef STACKLENS_HAVE_KEYCHAIN
#include <QEventLoop>
#include <qt6keychain/keychain.h>
#endif

namespace stacklens::ui {

namespace {

const QString kGroup = QStringLiteral("connections");
const QString kKeychainService = QStringLiteral("StackLens");

QString keychainKey(const QString& profile, PasswordSource::Kind kind) {
  return profile + (kind == PasswordSource::Kind::kPostgres ? QStringLiteral("/postgres") : QStringLiteral("/kafka"));
}

}  // namespace

const QStringList& sslModes() {
  static const QStringList modes{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  return modes;
}

const QStringList& kafkaSecurityProtocols() {
  static const QStringList protocols{"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
  return protocols;
}

namespace {

// The stored text fields: settings key and member, per side.
struct PgField {
  const char* key;
  QString PgProfile::*member;
};
struct KafkaField {
  const char* key;
  QString KafkaProfile::*member;
};
constexpr PgField kPgFields[] = {
    {"pg/host", &PgProfile::host},         {"pg/database", &PgProfile::database},
    {"pg/user", &PgProfile::user},         {"pg/sslmode", &PgProfile::sslMode},
    {"pg/rootcert", &PgProfile::rootCertificate}, {"pg/password_env", &PgProfile::passwordVariable},
};
constexpr KafkaField kKafkaFields[] = {
    {"kafka/bootstrap", &KafkaProfile::bootstrapServers},
    {"kafka/security_protocol", &KafkaProfile::securityProtocol},
    {"kafka/sasl_mechanism", &KafkaProfile::saslMechanism},
    {"kafka/sasl_user", &KafkaProfile::saslUser},
    {"kafka/ca_location", &KafkaProfile::caLocation},
    {"kafka/password_env", &KafkaProfile::passwordVariable},
};

}  // namespace

std::vector<ConnectionProfile> loadProfiles(QSettings& settings) {
  std::vector<ConnectionProfile> profiles;
  settings.beginGroup(kGroup);
  for (const QString& name : settings.childGroups()) {
    settings.beginGroup(name);
    ConnectionProfile p;  // defaults for what is not stored
    p.name = name;
    for (const PgField& f : kPgFields) p.pg.*f.member = settings.value(f.key, p.pg.*f.member).toString();
    p.pg.port = settings.value("pg/port", p.pg.port).toInt();
    for (const KafkaField& f : kKafkaFields) p.kafka.*f.member = settings.value(f.key, p.kafka.*f.member).toString();
    p.useKeychain = settings.value("use_keychain", false).toBool();
    settings.endGroup();
    profiles.push_back(std::move(p));
  }
  settings.endGroup();
  return profiles;
}

void saveProfile(QSettings& settings, const ConnectionProfile& p) {
  settings.beginGroup(kGroup);
  settings.remove(p.name);
  settings.beginGroup(p.name);
  for (const PgField& f : kPgFields) settings.setValue(f.key, p.pg.*f.member);
  settings.setValue("pg/port", p.pg.port);
  for (const KafkaField& f : kKafkaFields) settings.setValue(f.key, p.kafka.*f.member);
  settings.setValue("use_keychain", p.useKeychain);
  settings.endGroup();
  settings.endGroup();
}

void removeProfile(QSettings& settings, const QString& name) {
  settings.beginGroup(kGroup);
  settings.remove(name);
  settings.endGroup();
}

std::optional<QString> PasswordSource::fromEnvironment(const QString& variable) {
  if (variable.isEmpty() || !qEnvironmentVariableIsSet(variable.toLocal8Bit().constData())) return std::nullopt;
  return qEnvironmentVariable(variable.toLocal8Bit().constData());
}

bool PasswordSource::keychainAvailable() {
#ifdef STACKLENS_HAVE_KEYCHAIN
  return true;  // qtkeychain 0.13 cannot tell beforehand; a job reports a missing keychain service
#else
  return false;
#endif
}

std::optional<QString> PasswordSource::fromKeychain(const QString& profile, Kind kind) {
#ifdef STACKLENS_HAVE_KEYCHAIN
  QKeychain::ReadPasswordJob job(kKeychainService);
  job.setAutoDelete(false);
  job.setKey(keychainKey(profile, kind));
  QEventLoop loop;
  QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
  job.start();
  loop.exec();
  if (job.error() != QKeychain::NoError) return std::nullopt;
  return job.textData();
#else
  Q_UNUSED(profile);
  Q_UNUSED(kind);
  return std::nullopt;
#endif
}

bool PasswordSource::storeInKeychain(const QString& profile, Kind kind, const QString& password, QString* error) {
#ifdef STACKLENS_HAVE_KEYCHAIN
  QKeychain::WritePasswordJob job(kKeychainService);
  job.setAutoDelete(false);
  job.setKey(keychainKey(profile, kind));
  job.setTextData(password);
  QEventLoop loop;
  QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
  job.start();
  loop.exec();
  if (job.error() == QKeychain::NoError) return true;
  if (error) *error = job.errorString();
  return false;
#else
  Q_UNUSED(profile);
  Q_UNUSED(kind);
  Q_UNUSED(password);
  if (error) *error = QStringLiteral("this build has no keychain support (qtkeychain)");
  return false;
#endif
}

std::optional<QString> PasswordSource::lookup(const QString& profile, Kind kind, const QString& variable,
                                              bool useKeychain) {
  if (auto password = fromEnvironment(variable)) return password;
  return useKeychain ? fromKeychain(profile, kind) : std::nullopt;
}

}  // namespace stacklens::ui
