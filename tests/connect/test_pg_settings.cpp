// Connection settings: where the password comes from (environment or file, never the command
// line), TLS (sslmode, root certificate) against a private server that demands a password and
// serves TLS, and clear errors for each thing that can be wrong.
#include <cstdlib>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_settings.h"
#include "stacklens/connect/pg_store.h"

#include "pg_test_helpers.h"
#include "throwaway_postgres.h"

using stacklens::connect::PgConnection;
using stacklens::connect::PgError;
using stacklens::connect::PgSettings;
using stacklens::test::errorOf;
using stacklens::test::ThrowawayPostgres;

namespace {

constexpr const char* kPassword = "s3cret 'with' \"quotes\"";

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
  QFile file(dir.filePath(name));
  file.open(QIODevice::WriteOnly);
  file.write(content);
  return dir.filePath(name).toStdString();
}

std::string parameter(const PgSettings& settings, const std::string& keyword) {
  for (const auto& [key, value] : settings.connectionParameters())
    if (key == keyword) return value;
  return "(unset)";
}

}  // namespace

class TestPgSettings : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ThrowawayPostgres> server_;
  QTemporaryDir files_;

  PgSettings tcpSettings() const {
    PgSettings settings;
    settings.dsn = server_->tcpDsn();
    settings.connectTimeoutSeconds = 5;
    return settings;
  }

 private slots:
  void initTestCase() {
    ScopedEnv noPassword("PGPASSWORD", nullptr);
    ThrowawayPostgres::Options options;
    options.password = kPassword;
    options.tls = true;
    server_ = std::make_unique<ThrowawayPostgres>(options);
    QVERIFY2(server_->isReady(), qPrintable(server_->error()));
    PgConnection local(server_->dsn());  // the unix socket stays trusted
    stacklens::connect::MigrationRunner().migrate(local);
  }

  void cleanupTestCase() { server_.reset(); }

  void passwordComesFromTheFileThenTheEnvironment() {
    ScopedEnv env("STACKLENS_PG_PASSWORD", "from-environment");
    PgSettings settings;
    settings.dsn = "host=db dbname=x";
    QCOMPARE(settings.password(), std::optional<std::string>("from-environment"));
    settings.passwordFile = writeFile(files_, "pw", "from-file\r\nsecond line ignored\n");
    QCOMPARE(settings.password(), std::optional<std::string>("from-file"));
    QCOMPARE(parameter(settings, "password"), std::string("from-file"));
    {
      ScopedEnv none("STACKLENS_PG_PASSWORD", nullptr);
      settings.passwordFile.clear();
      QVERIFY(!settings.password().has_value());  // left to libpq: PGPASSWORD, ~/.pgpass
      QCOMPARE(parameter(settings, "password"), std::string("(unset)"));
    }
    settings.passwordFile = writeFile(files_, "empty", "");
    QVERIFY(errorOf([&] { settings.password(); }).contains("is empty"));
    settings.passwordFile = "/no/such/password";
    QVERIFY(errorOf([&] { settings.validate(); }).contains("password file '/no/such/password'"));
  }

  void settingsBecomeConnectionParameters() {
    PgSettings settings;
    settings.dsn = "postgresql://stacklens@db:5433/ml?application_name=mine";
    settings.sslMode = "verify-full";
    settings.sslRootCert = writeFile(files_, "ca.crt", "not checked here");
    const auto parameters = settings.connectionParameters();
    QCOMPARE(parameters.front().first, std::string("dbname"));  // the DSN first, expanded by libpq
    QCOMPARE(parameter(settings, "sslmode"), std::string("verify-full"));
    QCOMPARE(parameter(settings, "sslrootcert"), settings.sslRootCert);
    QCOMPARE(parameter(settings, "connect_timeout"), std::string("10"));
    QCOMPARE(parameter(settings, "application_name"), std::string("(unset)"));  // the DSN's wins
    settings.dsn = "host=db connect_timeout=3";
    QCOMPARE(parameter(settings, "connect_timeout"), std::string("(unset)"));
    QCOMPARE(parameter(settings, "application_name"), std::string("stacklens"));
  }

  void badSettingsAreNamed() {
    PgSettings settings;
    settings.dsn = "host=db";
    settings.sslMode = "always";
    QVERIFY(errorOf([&] { settings.validate(); }).contains("sslmode 'always'"));
    settings.sslMode = "require";
    settings.sslRootCert = "/no/such/ca.crt";
    QVERIFY(errorOf([&] { settings.validate(); }).contains("sslrootcert '/no/such/ca.crt'"));
    settings.sslRootCert.clear();
    settings.poolMin = 5;
    settings.poolMax = 3;
    QVERIFY(errorOf([&] { settings.validate(); }).contains("pool size"));
    settings.poolMin = 2;
    settings.writeConnections = 0;
    QVERIFY(errorOf([&] { settings.validate(); }).contains("write connections: must be 1..64, got 0"));
    settings.writeConnections = 2;
    settings.statsRollupInterval = std::chrono::milliseconds(-1);
    QVERIFY(errorOf([&] { settings.validate(); }).contains("stats roll-up interval: must be 0 ms or more, got -1 ms"));
    settings.statsRollupInterval = std::chrono::milliseconds(0);
    settings.validate();
    settings.dsn = "host=db bogus_keyword=1";
    QVERIFY(errorOf([&] { settings.validate(); }).contains("bogus_keyword"));
    {
      ScopedEnv writers("STACKLENS_PG_WRITE_CONNECTIONS", "4");
      QCOMPARE(PgSettings::fromEnvironment().writeConnections, 4);
    }
    QCOMPARE(PgSettings::fromEnvironment().statsRollupInterval, std::chrono::milliseconds(1000));
    {
      ScopedEnv rollup("STACKLENS_PG_STATS_ROLLUP_MS", "250");
      QCOMPARE(PgSettings::fromEnvironment().statsRollupInterval, std::chrono::milliseconds(250));
    }
    ScopedEnv badPool("STACKLENS_PG_POOL_MAX", "ten");
    QVERIFY(errorOf([] { PgSettings::fromEnvironment(); }).contains("STACKLENS_PG_POOL_MAX"));
  }

  void passwordsInDsnsAreSpottedAndHidden() {
    QVERIFY(stacklens::connect::dsnContainsPassword("postgresql://me:pw@db/x"));
    QVERIFY(stacklens::connect::dsnContainsPassword("host=db password=pw"));
    QVERIFY(!stacklens::connect::dsnContainsPassword("host=db user=me"));
    const std::string redacted = stacklens::connect::redactDsn("host=db user=me password=hunter2");
    QVERIFY2(redacted.find("hunter2") == std::string::npos && redacted.find("password=********") != std::string::npos,
             redacted.c_str());
  }

  void aServerDemandingAPasswordGetsItFromTheEnvironmentOrAFile() {
    ScopedEnv noPgPassword("PGPASSWORD", nullptr);
    ScopedEnv noPassword("STACKLENS_PG_PASSWORD", nullptr);
    PgSettings settings = tcpSettings();
    settings.sslMode = "disable";
    const QString missing = errorOf([&] { PgConnection db(settings); });
    QVERIFY2(missing.contains("password"), qPrintable(missing));
    try {
      PgConnection db(settings);
    } catch (const PgError& e) {
      QVERIFY2(!e.retryable(), "a missing password is a configuration error, not an outage");
    }
    {
      ScopedEnv wrong("STACKLENS_PG_PASSWORD", "wrong");
      QVERIFY(errorOf([&] { PgConnection db(settings); }).contains("password authentication failed"));
    }
    {
      ScopedEnv right("STACKLENS_PG_PASSWORD", kPassword);
      PgConnection db(settings);
      QCOMPARE(db.queryScalar("SELECT current_user"), std::optional<std::string>("stacklens"));
    }
    settings.passwordFile = writeFile(files_, "right", QByteArray(kPassword) + "\n");
    PgConnection db(settings);
    QCOMPARE(db.queryScalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"),
             std::optional<std::string>("f"));
  }

  void tlsIsUsedAndVerifiedAsConfigured() {
    PgSettings settings = tcpSettings();
    settings.passwordFile = writeFile(files_, "pw-tls", QByteArray(kPassword));
    const std::string sslInUse = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    settings.sslMode = "require";
    QCOMPARE(PgConnection(settings).queryScalar(sslInUse), std::optional<std::string>("t"));

    settings.sslMode = "verify-full";
    settings.sslRootCert = server_->certificateFile().toStdString();
    QCOMPARE(PgConnection(settings).queryScalar(sslInUse), std::optional<std::string>("t"));

    // A certificate from someone else: verification fails, clearly, and is not retried.
    QTemporaryDir other;
    QProcess openssl;
    openssl.start("openssl",
                  {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                   other.filePath("k"), "-out", other.filePath("c"), "-days", "1", "-subj", "/CN=someone-else"});
    QVERIFY(openssl.waitForFinished(30000) && openssl.exitCode() == 0);
    settings.sslRootCert = other.filePath("c").toStdString();
    try {
      PgConnection db(settings);
      QFAIL("expected a certificate verification failure");
    } catch (const PgError& e) {
      QVERIFY2(QString(e.what()).contains("certificate"), e.what());
      QVERIFY(!e.retryable());
    }

    // The store takes the same settings end to end.
    settings.sslRootCert = server_->certificateFile().toStdString();
    stacklens::connect::PgStore store(settings);
    QCOMPARE(store.loadHistory("api", 0).samples.size(), std::size_t{0});
  }

  void theDbCommandTakesThePasswordFileAndTls() {
    const QString passwordFile = QString::fromStdString(writeFile(files_, "pw-cli", QByteArray(kPassword)));
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("PGPASSWORD");
    env.remove("STACKLENS_PG_PASSWORD");
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"),
                  {"db", "status", "--dsn", QString::fromStdString(server_->tcpDsn()), "--password-file", passwordFile,
                   "--sslmode", "verify-full", "--sslrootcert", server_->certificateFile()});
    QVERIFY(process.waitForFinished(60000));
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    QVERIFY2(process.exitCode() == 0 && out.contains("up to date"),
             qPrintable(out + QString::fromUtf8(process.readAllStandardError())));
  }
};

QTEST_GUILESS_MAIN(TestPgSettings)
#include "test_pg_settings.moc"
