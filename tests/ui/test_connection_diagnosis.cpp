// Connection profiles and "Test connection": every diagnosis against a real server — the
// harness's PostgreSQL and mock Kafka cluster, and a private PostgreSQL with a password and TLS.
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include "connected_test_support.h"
#include <memory>

#include "free_port.h"
#include "scratch_database.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/ui/connected/connection_diagnosis.h"
#include "stacklens/ui/connected/connection_dialog.h"
#include "stacklens/ui/connected/connection_profile.h"
#include "stacklens/ui/connected/pg_session.h"
#include "test_servers.h"
#include "throwaway_postgres.h"

using namespace stacklens::ui;
using Kind = ConnectionDiagnosis::Kind;
using stacklens::test::ThrowawayPostgres;

namespace {

const QString kPassword = QStringLiteral("s3cret-workbench");

QByteArray describe(const ConnectionDiagnosis& d) { return (kindName(d.kind) + ": " + d.summary + " | " + d.detail).toUtf8(); }

}  // namespace

class TestConnectionDiagnosis : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ThrowawayPostgres> secured_;

  PgProfile securedProfile() const {
    PgProfile p;
    p.host = QStringLiteral("127.0.0.1");
    p.port = secured_->port();
    p.sslMode = QStringLiteral("verify-full");
    p.rootCertificate = secured_->certificateFile();
    return p;
  }

 private slots:
  void initTestCase() {
    qunsetenv("PGPASSWORD");
    qunsetenv("PGSSLMODE");
    STACKLENS_REQUIRE_POSTGRES();
    ThrowawayPostgres::Options options;
    options.password = kPassword;
    options.tls = true;
    secured_ = std::make_unique<ThrowawayPostgres>(options);
    QVERIFY2(secured_->isReady(), qPrintable(secured_->error()));
    stacklens::connect::PgConnection local(secured_->dsn());  // the unix socket stays trusted
    stacklens::connect::MigrationRunner().migrate(local);
  }

  void cleanupTestCase() { secured_.reset(); }

  void profilesAreStoredWithoutPasswords() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("profiles.ini"), QSettings::IniFormat);
    ConnectionProfile prod{QStringLiteral("prod"), {}, {}, false};
    prod.pg.host = "db.internal";
    prod.pg.port = 6432;
    prod.pg.sslMode = "verify-full";
    prod.pg.rootCertificate = "/etc/ssl/ca.pem";
    prod.pg.passwordVariable = "PROD_PG_PASSWORD";
    prod.kafka.bootstrapServers = "k1:9093,k2:9093";
    prod.kafka.securityProtocol = "sasl_ssl";
    prod.kafka.saslMechanism = "SCRAM-SHA-512";
    prod.kafka.saslUser = "workbench";
    prod.useKeychain = true;
    ConnectionProfile staging{QStringLiteral("staging"), {}, {}, false};
    saveProfile(settings, prod);
    saveProfile(settings, staging);
    settings.sync();
    QSettings reread(dir.filePath("profiles.ini"), QSettings::IniFormat);
    const auto loaded = loadProfiles(reread);
    QCOMPARE(loaded.size(), std::size_t(2));
    QVERIFY(loaded[0] == prod);
    QVERIFY(loaded[1] == staging);
    for (const QString& key : reread.allKeys()) QVERIFY2(!key.endsWith("password"), qPrintable(key));
    removeProfile(reread, "staging");
    QCOMPARE(loadProfiles(reread).size(), std::size_t(1));
  }

  void passwordComesFromTheProfilesVariable() {
    qputenv("STACKLENS_TEST_WB_PASSWORD", "from-env");
    QCOMPARE(PasswordSource::lookup("p", PasswordSource::Kind::kPostgres, "STACKLENS_TEST_WB_PASSWORD", false),
             std::optional<QString>("from-env"));
    qunsetenv("STACKLENS_TEST_WB_PASSWORD");
    QCOMPARE(PasswordSource::fromEnvironment("STACKLENS_TEST_WB_PASSWORD"), std::nullopt);
    QCOMPARE(PasswordSource::fromEnvironment(""), std::nullopt);
  }

  void connectOptionsQuoteTheCertificatePath() {
    PgProfile p;
    p.sslMode = "verify-ca";
    p.rootCertificate = "/tmp/my ca's.pem";
    QCOMPARE(PgSession::connectOptions(p, 3),
             QStringLiteral("sslmode=verify-ca;sslrootcert='/tmp/my ca\\'s.pem';connect_timeout=3;"
                            "application_name=stacklens-workbench"));
  }

  void unknownHostIsADnsFailure() {
    PgProfile p = stacklens::test::harnessPgProfile("stacklens");
    p.host = QStringLiteral("no-such-host.invalid");
    const ConnectionDiagnosis d = diagnosePostgres(p, {});
    QVERIFY2(d.kind == Kind::kDnsFailure, describe(d));
    QVERIFY(d.summary.contains("no-such-host.invalid"));
  }

  void closedPortIsRefused() {
    PgProfile p = stacklens::test::harnessPgProfile("stacklens");
    p.host = QStringLiteral("127.0.0.1");
    p.port = stacklens::test::freeTcpPort();
    const ConnectionDiagnosis d = diagnosePostgres(p, {});
    QVERIFY2(d.kind == Kind::kRefused, describe(d));
  }

  void wrongPasswordIsAnAuthenticationFailure() {
    const ConnectionDiagnosis wrong = diagnosePostgres(securedProfile(), "not-the-password");
    QVERIFY2(wrong.kind == Kind::kAuthFailed, describe(wrong));
    const ConnectionDiagnosis none = diagnosePostgres(securedProfile(), {});
    QVERIFY2(none.kind == Kind::kAuthFailed, describe(none));
    const ConnectionDiagnosis right = diagnosePostgres(securedProfile(), kPassword);
    QVERIFY2(right.ok(), describe(right));
  }

  void tlsProblemsAreNamed() {
    // The harness's server has no TLS at all.
    PgProfile plain = stacklens::test::harnessPgProfile("stacklens");
    plain.sslMode = QStringLiteral("require");
    const ConnectionDiagnosis noTls = diagnosePostgres(plain, {});
    QVERIFY2(noTls.kind == Kind::kTls, describe(noTls));
    // A certificate that does not verify against the given root.
    QTemporaryDir dir;
    QFile other(dir.filePath("other-ca.pem"));
    QVERIFY(other.open(QIODevice::WriteOnly));
    other.write(QByteArray());  // an empty bundle: no root trusts the server
    other.close();
    PgProfile p = securedProfile();
    p.rootCertificate = other.fileName();
    const ConnectionDiagnosis bad = diagnosePostgres(p, kPassword);
    QVERIFY2(bad.kind == Kind::kTls, describe(bad));
  }

  void missingDatabaseIsNamed() {
    const ConnectionDiagnosis d = diagnosePostgres(stacklens::test::harnessPgProfile("no_such_database"), {});
    QVERIFY2(d.kind == Kind::kNoDatabase, describe(d));
  }

  void schemaVersionIsComparedWithThisBuild() {
    stacklens::test::ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "diag");
    const PgProfile p = stacklens::test::harnessPgProfile(scratch.name());
    const ConnectionDiagnosis empty = diagnosePostgres(p, {});
    QVERIFY2(empty.kind == Kind::kSchemaMissing, describe(empty));
    QVERIFY(empty.summary.contains("stacklens db migrate"));

    const auto& all = stacklens::connect::embeddedMigrations();
    QVERIFY(all.size() >= 3);
    stacklens::connect::PgConnection db(scratch.dsn());
    stacklens::connect::MigrationRunner({all[0], all[1]}).migrate(db);
    const ConnectionDiagnosis old = diagnosePostgres(p, {});
    QVERIFY2(old.kind == Kind::kSchemaOld, describe(old));
    QCOMPARE(old.databaseVersion, all[1].version);
    QCOMPARE(old.expectedVersion, all.back().version);
    QCOMPARE(old.pending.size(), qsizetype(all.size() - 2));
    QCOMPARE(old.pending.front(), QString::fromStdString(all[2].name));

    stacklens::connect::MigrationRunner().migrate(db);
    const ConnectionDiagnosis good = diagnosePostgres(p, {});
    QVERIFY2(good.ok(), describe(good));
    QCOMPARE(good.databaseVersion, all.back().version);

    db.execute("INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES (9999, '9999_future', 'x', 't')");
    const ConnectionDiagnosis newer = diagnosePostgres(p, {});
    QVERIFY2(newer.kind == Kind::kSchemaNewer, describe(newer));
  }

  void kafkaDiagnoses() {
    STACKLENS_REQUIRE_KAFKA();
    KafkaProfile k;
    k.bootstrapServers = stacklens::test::kafkaBootstrap();
    const ConnectionDiagnosis good = diagnoseKafka(k, {});
    QVERIFY2(good.ok(), describe(good));
    k.bootstrapServers = QStringLiteral("127.0.0.1:%1").arg(stacklens::test::freeTcpPort());
    const ConnectionDiagnosis refused = diagnoseKafka(k, {}, 1500);
    QVERIFY2(refused.kind == Kind::kRefused, describe(refused));
    k.bootstrapServers = QStringLiteral("no-such-broker.invalid:9092");
    const ConnectionDiagnosis dns = diagnoseKafka(k, {}, 1500);
    QVERIFY2(dns.kind == Kind::kDnsFailure, describe(dns));
  }

  void dialogTestsTheFormsProfileAndSavesItWithoutThePassword() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("profiles.ini"), QSettings::IniFormat);
    ConnectionDialog dialog(settings);
    ConnectionProfile p{QStringLiteral("secured"), securedProfile(), {}, false};
    dialog.setProfile(p);
    dialog.setPgPassword("wrong");
    dialog.testButton()->click();
    QVERIFY(dialog.lastPgDiagnosis().kind == Kind::kAuthFailed);
    QVERIFY2(dialog.resultLabel()->text().contains("Authentication failed"), qPrintable(dialog.resultLabel()->text()));
    dialog.setPgPassword(kPassword);
    QVERIFY(dialog.testConnection().ok());
    dialog.storeProfile();
    settings.sync();
    const auto stored = loadProfiles(settings);
    QCOMPARE(stored.size(), std::size_t(1));
    QVERIFY(stored[0] == p);
    for (const QString& key : settings.allKeys()) QVERIFY2(!settings.value(key).toString().contains(kPassword), qPrintable(key));
  }
};

QTEST_MAIN(TestConnectionDiagnosis)
#include "test_connection_diagnosis.moc"
