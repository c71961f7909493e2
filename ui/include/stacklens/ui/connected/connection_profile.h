#pragma once
// A connection profile: where production's PostgreSQL and Kafka are and how to reach them. Profiles
// are kept in QSettings under "connections/<name>/..." WITHOUT passwords: a password comes from the
// environment variable the profile names, the system keychain (when built with qtkeychain), or a
// prompt (see PasswordSource).

#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

class QSettings;

namespace stacklens::ui {

/// PostgreSQL through Qt Sql's QPSQL driver (libpq underneath).
struct PgProfile {
  QString host = QStringLiteral("localhost");  ///< name, address, or a unix-socket directory
  int port = 5432;
  QString database = QStringLiteral("stacklens");
  QString user = QStringLiteral("stacklens");
  QString sslMode = QStringLiteral("prefer");  ///< libpq sslmode: disable .. verify-full
  QString rootCertificate;                     ///< sslrootcert: CA file for verify-ca/verify-full
  QString passwordVariable;                    ///< environment variable holding the password, or empty

  bool operator==(const PgProfile&) const = default;
};

/// Kafka through librdkafka (stacklens::connect).
struct KafkaProfile {
  QString bootstrapServers;
  QString securityProtocol = QStringLiteral("plaintext");  ///< plaintext, ssl, sasl_plaintext, sasl_ssl
  QString saslMechanism;                                   ///< PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (sasl_*)
  QString saslUser;
  QString caLocation;        ///< ssl.ca.location
  QString passwordVariable;  ///< environment variable holding the SASL password, or empty

  bool operator==(const KafkaProfile&) const = default;
};

struct ConnectionProfile {
  QString name;
  PgProfile pg;
  KafkaProfile kafka;
  bool useKeychain = false;  ///< passwords are looked up in (and stored to) the system keychain

  bool operator==(const ConnectionProfile&) const = default;
};

/// The libpq sslmode values, weakest first.
const QStringList& sslModes();
/// The librdkafka security.protocol values.
const QStringList& kafkaSecurityProtocols();

/// Every profile stored in `settings`, by name.
std::vector<ConnectionProfile> loadProfiles(QSettings& settings);
/// Stores (adds or replaces) a profile. Never writes a password.
void saveProfile(QSettings& settings, const ConnectionProfile& profile);
void removeProfile(QSettings& settings, const QString& name);

/// Where a password comes from, in this order: the profile's environment variable, the system
/// keychain when the profile opted in (service "StackLens", key "<profile>/postgres" or
/// "<profile>/kafka"), then nothing (the caller asks the user).
class PasswordSource {
 public:
  enum class Kind { kPostgres, kKafka };

  /// The environment variable's value when the profile names one that is set.
  static std::optional<QString> fromEnvironment(const QString& variable);
  /// The keychain's entry; nullopt when there is none or the build has no keychain support.
  static std::optional<QString> fromKeychain(const QString& profile, Kind kind);
  /// Stores the password in the keychain; false (with `error`) when that is not possible.
  static bool storeInKeychain(const QString& profile, Kind kind, const QString& password, QString* error = nullptr);
  static bool keychainAvailable();
  /// Environment, then (when `useKeychain`) the keychain.
  static std::optional<QString> lookup(const QString& profile, Kind kind, const QString& variable, bool useKeychain);
};

}  // namespace stacklens::ui
