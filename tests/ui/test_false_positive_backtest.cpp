// False positives triaged in production are labels of the backtest: anomalies that production
// (the real PostgreSQL of the harness) recorded are marked false positives from the Production
// dock, become workspace labels, and a backtest over their range counts them: the one the tuned
// settings flag again is a false alarm ("flagged again"), the one they no longer flag is not.
#include <QPushButton>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "connected_test_support.h"
#include "scratch_database.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"
#include "stacklens/ui/backtest/backtest_panel.h"
#include "stacklens/ui/connected/connected_workbench.h"
#include "stacklens/ui/connected/false_positive_labels.h"
#include "stacklens/ui/connected/production_panel.h"
#include "stacklens/ui/connected/production_table_model.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/tuning/tuning_config.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/workspace/demo_workspace.h"
#include "stacklens/ui/workspace/workspace.h"
#include "test_servers.h"

using namespace stacklens::ui;
namespace core = stacklens::core;
using stacklens::test::ScratchDatabase;

namespace {

constexpr core::EpochSeconds kDay = 86400;
const std::string kService = "payments";

// Marks the production row with `anomalyId` a false positive through the Production dock.
bool markFalsePositive(ProductionPanel* panel, const std::string& anomalyId) {
  for (int r = 0; r < panel->model()->rowCount(); ++r) {
    if (panel->model()->value(r, "anomaly_id").toString().toStdString() != anomalyId) continue;
    panel->table()->selectRow(r);
    panel->noteEdit()->setText("batch job, expected");
    panel->findChild<QPushButton*>("triage_false_positive")->click();
    return true;
  }
  return false;
}

QString cell(QTableWidget* t, const QString& row) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, 0)->text() == row) return t->item(r, 1)->text();
  return QStringLiteral("<no row %1>").arg(row);
}

}  // namespace

class TestFalsePositiveBacktest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void triagedFalsePositivesAreScoredByTheBacktest() {
    STACKLENS_REQUIRE_POSTGRES();
    QTemporaryDir dir;
    const QString path = dir.filePath("w.stacklens");
    core::sim::FleetConfig fleet;
    fleet.services = 2;
    fleet.hours = 21 * 24;
    fleet.seed = 17;
    Workspace::open(path)->importServices(simulatedServices(fleet), "test");
    MainWindow window;
    window.setSaveSessionOnClose(false);
    QVERIFY(window.openWorkspace(path));
    const core::EpochSeconds start = window.workspace()->services().front().first;
    const core::EpochSeconds from = start + 7 * kDay, to = start + 20 * kDay;

    // What the current settings flag over the range, straight through the core.
    core::backtest::BacktestConfig config;
    config.from = from;
    config.to = to;
    config.pipeline = window.tuning()->config().detection;
    const std::vector<core::backtest::ServiceHistory> histories{toServiceHistory(window.workspace()->loadService(kService))};
    const core::backtest::BacktestResult unlabelled = core::backtest::runBacktest(histories, config);
    const auto& replay = unlabelled.services.at(0);
    QVERIFY(replay.anomalies.size() >= 2);
    QCOMPARE(unlabelled.detection.knownFalsePositives, 0);
    // Production recorded two anomalies: one the settings still flag, one at a window they do not.
    core::AnomalyRecord flagged = replay.anomalies[replay.anomalies.size() / 2];
    core::AnomalyRecord cleared = flagged;
    for (const core::EpochSeconds t : replay.timestamps)
      if (std::none_of(replay.anomalies.begin(), replay.anomalies.end(),
                       [&](const core::AnomalyRecord& a) { return a.timestamp == t; })) {
        cleared.timestamp = t;
        break;
      }
    QVERIFY(cleared.timestamp != flagged.timestamp);
    cleared.anomalyId = std::string(32, 'c');

    ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "fpbacktest");
    {
      stacklens::connect::PgConnection db(scratch.dsn());
      stacklens::connect::MigrationRunner().migrate(db);
      stacklens::connect::PgSettings settings;
      settings.dsn = scratch.dsn();
      settings.poolMin = 1;
      stacklens::connect::PgStore(settings).writeAnomalies(std::vector<core::AnomalyRecord>{flagged, cleared});
    }
    ConnectedWorkbench* connected = window.connected();
    const ConnectionDiagnosis d = connected->connectTo({"t", stacklens::test::harnessPgProfile(scratch.name()), {}, false}, {});
    QVERIFY2(d.ok(), qPrintable(d.summary));
    ProductionPanel* production = connected->productionPanel();
    production->serviceEdit()->setText(QString::fromStdString(kService));
    QVERIFY(production->reload());
    QCOMPARE(production->model()->rowCount(), 2);
    QVERIFY(markFalsePositive(production, flagged.anomalyId));
    QVERIFY(markFalsePositive(production, cleared.anomalyId));
    QCOMPARE(FalsePositiveLabels::load(path, QString::fromStdString(kService)).size(), std::size_t(2));

    // The backtest panel over the range reads the labels.
    BacktestPanel* panel = window.backtestPanel();
    panel->selectServices({QString::fromStdString(kService)});
    panel->setRange(from, to);
    panel->setConfigurations("current", QString());
    QSignalSpy finished(panel, &BacktestPanel::finished);
    QVERIFY(panel->run());
    QVERIFY(finished.wait(60000));
    const auto& shown = panel->shownRecord();
    QVERIFY(shown.has_value());
    const core::backtest::DetectionScore& score = shown->a.detection;
    QCOMPARE(score.anomalies, unlabelled.detection.anomalies);
    QCOMPARE(score.knownFalsePositives, 2);
    QCOMPARE(score.repeatedFalsePositives, 1);
    // The flagged false positive no longer counts as a true alarm, whatever incident it falls in.
    const bool wasTrueAlarm = core::backtest::scoreDetections(std::vector<core::EpochSeconds>{flagged.timestamp},
                                                              replay.labels, config.tolerance)
                                  .trueAlarms == 1;
    QCOMPARE(score.trueAlarms, unlabelled.detection.trueAlarms - (wasTrueAlarm ? 1 : 0));
    QCOMPARE(cell(panel->summaryTable(), "Known false positives"), QStringLiteral("2"));
    QCOMPARE(cell(panel->summaryTable(), "  flagged again"), QStringLiteral("1"));

    // A range without the labelled windows counts none of them.
    panel->setRange(std::max(flagged.timestamp, cleared.timestamp) + 1, to);
    QVERIFY(panel->run());
    QVERIFY(finished.wait(60000));
    QCOMPARE(panel->shownRecord()->a.detection.knownFalsePositives, 0);
    connected->disconnectFromProduction();
  }
};

QTEST_MAIN(TestFalsePositiveBacktest)
#include "test_false_positive_backtest.moc"
