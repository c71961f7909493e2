// The stacklens executable as users run it: --help, --version, errors and exit codes.
#include <QTemporaryDir>
#include <QtTest>

#include "run_stacklens.h"

using stacklens::test::runStacklens;
using Run = stacklens::test::CliRun;

namespace {

const QStringList kSubcommands = {
    "ml-service", "predictive-alerter", "detect",     "forecast", "simulate", "replay", "db",
    "eval",       "mock-cluster",       "healthcheck"};

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void helpListsEverySubcommand() {
    const Run run = runStacklens({"--help"});
    QCOMPARE(run.exitCode, 0);
    for (const QString& sub : kSubcommands) QVERIFY2(run.out.contains(sub), qPrintable(sub));
  }

  void versionNamesVersionAndSubcommands() {
    const Run run = runStacklens({"--version"});
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.startsWith("stacklens 0."));
    for (const QString& sub : kSubcommands) QVERIFY2(run.out.contains(sub), qPrintable(sub));
  }

  void unknownOptionFailsWithMessage() {
    const Run run = runStacklens({"--no-such-flag"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("no-such-flag"), qPrintable(run.err));
  }

  void mlServiceHelpDocumentsTheConfiguration() {
    const Run run = runStacklens({"ml-service", "--help"});
    QCOMPARE(run.exitCode, 0);
    for (const char* key : {"kafka.bootstrap_servers", "STACKLENS_POSTGRES_DSN", "ml.retrain_every",
                            "STACKLENS_ML_RETRAIN_SWAP_AFTER", "ml.refit_threads", "ml.detection.trees", "STACKLENS_KAFKA_PROPERTY_SASL_PASSWORD"})
      QVERIFY2(run.out.contains(key), key);
  }

  void mlServiceRejectsABadConfigurationNamingTheKey() {
    QTemporaryDir dir;
    QFile file(dir.filePath("bad.toml"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("[ml]\nretrain_every = 100\nretrain_evry = 5\n");
    file.close();
    const Run run = runStacklens({"ml-service", "--config", file.fileName()});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("bad.toml:3") && run.err.contains("ml.retrain_evry"), qPrintable(run.err));
  }

  void mockClusterRejectsBadBrokerCount() {
    const Run run = runStacklens({"mock-cluster", "--brokers", "0"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("brokers"), qPrintable(run.err));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
