// Deploying a tuned configuration: versions with author, time and diff in ml_config_versions,
// rollback, and a real `stacklens ml-service` (started by the test, against the harness's
// PostgreSQL and Kafka mock cluster) that picks each deployed version up without a restart and
// skips the ones it cannot use.
#include <QAction>
#include <QtTest>

#include "connected_test_support.h"

#include "ml_service_fixture.h"
#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/ui/connected/config_deployer.h"
#include "stacklens/ui/connected/connected_workbench.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/connected/pg_session.h"
#include "stacklens/ui/tuning/tuning_config.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "test_servers.h"

using namespace std::chrono_literals;
using namespace stacklens::ui;
using stacklens::test::ScratchDatabase;

class TestConfigDeploy : public QObject {
  Q_OBJECT
 private slots:
  void lineDiffShowsChangedLinesOnly() {
    QCOMPARE(lineDiff("a\nb\nc", "a\nb\nc"), QString());
    QCOMPARE(lineDiff("a\nb\nc\nd", "a\nB\nc\nd\ne"), QStringLiteral("@@ line 2 @@\n+B\n-b\n@@ line 5 @@\n+e"));
    QCOMPARE(lineDiff("", "x = 1"), QStringLiteral("@@ line 1 @@\n+x = 1\n-"));
  }

  void publishAndRollBackKeepVersionsIncreasing() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "deploy");
    stacklens::connect::PgConnection db(scratch.dsn());
    stacklens::connect::MigrationRunner().migrate(db);
    PgSession session(stacklens::test::harnessPgProfile(scratch.name()), {});
    QVERIFY(session.open());
    ConfigDeployer deployer(session.database(), "carol");
    QVERIFY(!deployer.running());
    const auto v1 = deployer.publish("[ml]\nretrain_every = 100\n", "first");
    QVERIFY2(v1, qPrintable(deployer.error()));
    QCOMPARE(v1->version, 1);
    QVERIFY(!deployer.publish("[ml]\nretrain_every = 100\n", "same again"));
    QVERIFY2(deployer.error().contains("nothing to deploy"), qPrintable(deployer.error()));
    const auto v2 = deployer.publish("[ml]\nretrain_every = 50\n", "faster refits");
    QVERIFY(v2);
    QCOMPARE(v2->version, 2);
    QCOMPARE(v2->diff, QStringLiteral("@@ line 2 @@\n+retrain_every = 50\n-retrain_every = 100"));
    const auto v3 = deployer.rollback(1);
    QVERIFY2(v3, qPrintable(deployer.error()));
    QCOMPARE(v3->version, 3);
    QCOMPARE(v3->rollbackOf, 1);
    QCOMPARE(deployer.running()->toml, QStringLiteral("[ml]\nretrain_every = 100\n"));
    QVERIFY(!deployer.rollback(42));
    const auto history = deployer.history();
    QCOMPARE(history.size(), std::size_t(3));
    QCOMPARE(history[0].author, QStringLiteral("carol"));
    QCOMPARE(history[0].note, QStringLiteral("rollback to version 1"));
    QVERIFY(history[0].createdAt.isValid() && history[0].createdAt >= history[2].createdAt);
    QCOMPARE(stacklens::test::scalarOf(db, "SELECT count(*) FROM ml_config_versions"), 3LL);
  }

  void workbenchDeploysTheTuningPanelsSettings() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "deploywb");
    {
      stacklens::connect::PgConnection db(scratch.dsn());
      stacklens::connect::MigrationRunner().migrate(db);
    }
    MainWindow window;
    window.setSaveSessionOnClose(false);
    ConnectedWorkbench* connected = window.connected();
    QString error;
    QVERIFY(!connected->deployTuned("offline", &error));
    QCOMPARE(error, QStringLiteral("not connected"));
    qputenv("STACKLENS_USER", "erin");
    QVERIFY(connected->connectTo({"t", stacklens::test::harnessPgProfile(scratch.name()), {}, false}, {}).ok());
    QVERIFY(connected->deployAction()->isEnabled());
    const auto v1 = connected->deployTuned("defaults", &error);
    QVERIFY2(v1, qPrintable(error));
    TuningConfig tuned = window.tuning()->config();
    tuned.detection.retrainEvery = 37;
    window.tuning()->edit(tuned, -1);
    const auto v2 = connected->deployTuned("refit more often", &error);
    QVERIFY2(v2, qPrintable(error));
    QCOMPARE(v2->author, QStringLiteral("erin"));
    QCOMPARE(v2->toml, QString::fromStdString(tuningToToml(tuned)));
    QVERIFY2(v2->diff.contains("+retrain_every = 37"), qPrintable(v2->diff));
    const auto v3 = connected->rollBack(1, &error);
    QVERIFY2(v3, qPrintable(error));
    QCOMPARE(v3->toml, v1->toml);
    qunsetenv("STACKLENS_USER");
  }

  void runningMlServicePicksUpDeployedVersions() {
    STACKLENS_REQUIRE_POSTGRES();
    STACKLENS_REQUIRE_KAFKA();
    ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "deploysvc");
    {
      stacklens::connect::PgConnection db(scratch.dsn());
      stacklens::connect::MigrationRunner().migrate(db);
    }
    qputenv("STACKLENS_CONFIG_POLL_MS", "200");
    stacklens::test::MlServiceProcess::Settings settings;
    settings.bootstrap = stacklens::test::kafkaBootstrap().toStdString();
    settings.dsn = scratch.dsn();
    settings.group = stacklens::test::uniqueName("deploy-group");
    settings.inputTopic = stacklens::test::uniqueName("deploy-in");
    stacklens::test::MlServiceProcess service(settings);
    QVERIFY2(service.start(), qPrintable(service.log()));
    QCOMPARE(service.metric("stacklens_config_version"), 0.0);

    PgSession session(stacklens::test::harnessPgProfile(scratch.name()), {});
    QVERIFY(session.open());
    ConfigDeployer deployer(session.database(), "dave");
    TuningConfig tuned = TuningConfig::defaults();  // what the workbench exports, tuned
    tuned.detection.consensus.rule = stacklens::core::detect::ConsensusRule::kUnanimous;
    QVERIFY(deployer.publish(QString::fromStdString(tuningToToml(tuned)), "unanimous"));
    QVERIFY2(stacklens::test::waitFor([&] { return service.metric("stacklens_config_version") == 1; }, 15s),
             qPrintable(service.log()));
    QVERIFY(deployer.publish("[ml]\nthis is not toml", "broken"));  // version 2 cannot be used
    QVERIFY2(stacklens::test::waitFor([&] { return service.log().contains("ml_config_versions version 2 cannot be used"); },
                                      15s),
             qPrintable(service.log()));
    QCOMPARE(service.metric("stacklens_config_version"), 1.0);  // still running version 1
    // Version 3 parses but the pipeline refuses it (fewer samples kept than a training needs).
    QVERIFY(deployer.publish("[ml.detection]\nhistory_capacity = 50\n", "too small"));
    QVERIFY2(stacklens::test::waitFor([&] { return service.log().contains("ml_config_versions version 3 cannot be used"); },
                                      15s),
             qPrintable(service.log()));
    QVERIFY(service.running());
    QCOMPARE(service.metric("stacklens_config_version"), 1.0);
    QVERIFY(deployer.rollback(1));  // version 4
    QVERIFY2(stacklens::test::waitFor([&] { return service.metric("stacklens_config_version") == 4; }, 15s),
             qPrintable(service.log()));
    QVERIFY(service.running());  // no restart
    service.terminate();
    QCOMPARE(service.waitExit(), 0);
    const QString log = service.log();
    QVERIFY2(log.contains("deployed configuration version 1 applied") &&
                 log.contains("ml_config_versions version 2 cannot be used") &&
                 log.contains("historyCapacity must be") &&
                 log.contains("deployed configuration version 4 applied"),
             qPrintable(log));
    qunsetenv("STACKLENS_CONFIG_POLL_MS");
  }
};

QTEST_MAIN(TestConfigDeploy)
#include "test_config_deploy.moc"
