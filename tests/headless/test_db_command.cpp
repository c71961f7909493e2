// `stacklens db migrate|status` as users run them, against the real throwaway PostgreSQL.
#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"

#include "scratch_database.h"
#include "test_servers.h"

using stacklens::test::ScratchDatabase;

namespace {

struct Run {
  int exitCode;
  QString out;
  QString err;
};

Run runStacklens(const QStringList& arguments, const QMap<QString, QString>& environment = {}) {
  QProcess process;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  for (const char* name : {"STACKLENS_PG_DSN", "STACKLENS_PG_PASSWORD", "STACKLENS_PG_PASSWORD_FILE", "PGPASSWORD"})
    env.remove(name);
  for (auto it = environment.begin(); it != environment.end(); ++it) env.insert(it.key(), it.value());
  process.setProcessEnvironment(env);
  process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), arguments);
  if (!process.waitForFinished(60000)) return {-1, {}, QStringLiteral("did not finish")};
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

std::string adminDsn() {
  return stacklens::test::postgresDsn().toStdString();
}

}  // namespace

class TestDbCommand : public QObject {
  Q_OBJECT
 private slots:
  void migrateAppliesOnceAndStatusReports() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "db_command");
    const QString dsn = QString::fromStdString(scratch.dsn());

    Run run = runStacklens({"db", "status", "--dsn", dsn});
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.out.contains("schema version: 0000") && run.out.contains("pending  0001_input_metrics") &&
                 run.out.contains("stacklens db migrate"),
             qPrintable(run.out));

    run = runStacklens({"db", "migrate", "--dsn", dsn});
    QCOMPARE(run.exitCode, 0);
    const auto& latest = stacklens::connect::embeddedMigrations().back();
    QVERIFY2(run.out.contains("applied 0001_input_metrics") && run.out.contains("applied 0004_views_functions") &&
                 run.out.contains("applied " + QString::fromStdString(latest.name)) &&
                 run.out.contains(QStringLiteral("schema now at version %1").arg(latest.version, 4, 10, QChar('0'))),
             qPrintable(run.out));
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err));

    run = runStacklens({"db", "migrate", "--dsn", dsn});
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains("nothing to apply") && !run.out.contains("applied 0001"), qPrintable(run.out));
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err));

    // The DSN may come from the environment instead.
    run = runStacklens({"db", "status"}, {{"STACKLENS_PG_DSN", dsn}});
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains("up to date") && run.out.contains("applied  0002_ml_tables"), qPrintable(run.out));
  }

  void refusesADatabaseNewerThanTheBinary() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "db_command_newer");
    const QString dsn = QString::fromStdString(scratch.dsn());
    QCOMPARE(runStacklens({"db", "migrate", "--dsn", dsn}).exitCode, 0);
    stacklens::connect::PgConnection(scratch.dsn())
        .execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_by) "
            "VALUES (9999, '9999_future', 'x', 'stacklens 9')");
    Run run = runStacklens({"db", "migrate", "--dsn", dsn});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("version 9999, newer than this binary"), qPrintable(run.err));
    run = runStacklens({"db", "status", "--dsn", dsn});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.out.contains("NEWER than this binary"), qPrintable(run.out));
  }

  void refusesAPasswordOnTheCommandLine() {
    for (const QString& dsn : {QStringLiteral("postgresql://stacklens:s3cret@localhost/stacklens"),
                               QStringLiteral("host=localhost password=s3cret dbname=stacklens")}) {
      const Run run = runStacklens({"db", "migrate", "--dsn", dsn});
      QCOMPARE(run.exitCode, 1);
      QVERIFY2(run.err.contains("must not contain a password"), qPrintable(run.err));
      QVERIFY2(!run.err.contains("s3cret") && !run.out.contains("s3cret"), qPrintable(run.err));
    }
  }

  void explainsMissingOrUnreachableDatabases() {
    Run run = runStacklens({"db", "status"});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("pass --dsn or set STACKLENS_PG_DSN"), qPrintable(run.err));

    run = runStacklens({"db", "status", "--dsn", "host=127.0.0.1 port=1 connect_timeout=2"});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("PostgreSQL connection to '") && run.err.contains("host=127.0.0.1 port=1' failed"),
             qPrintable(run.err));

    run = runStacklens({"db", "status", "--dsn", "host=127.0.0.1", "--sslmode", "sometimes"});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("sslmode 'sometimes'"), qPrintable(run.err));

    run = runStacklens({"db", "status", "--dsn", "host=127.0.0.1", "--password-file", "/no/such/file"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("/no/such/file"), qPrintable(run.err));

    run = runStacklens({"db"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("subcommand"), qPrintable(run.err));
  }
};

QTEST_GUILESS_MAIN(TestDbCommand)
#include "test_db_command.moc"
