// The stacklens executable as users run it: --help, --version, errors and exit codes.
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

  void mockClusterRejectsBadBrokerCount() {
    const Run run = runStacklens({"mock-cluster", "--brokers", "0"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("brokers"), qPrintable(run.err));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
