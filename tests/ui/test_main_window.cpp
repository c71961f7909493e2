// The workbench's main window, offscreen: menus and shortcuts, opening and importing into a
// workspace, showing a service, session restore, theme and exports.
#include <QAction>
#include <QApplication>
#include <QChartView>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/ui/explorer/explorer_panel.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/metric_view.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/status_activity.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include <QUndoStack>
#include "stacklens/ui/workspace/workspace.h"

using namespace stacklens::ui;

namespace {

const char* kFleetCsv =
    "timestamp,service,error_rate,latency_p99_ms,latency_p95_ms,latency_mean_ms,unique_users,unique_ips,"
    "risk_score,total_requests\n"
    "2024-01-01T00:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000\n"
    "2024-01-01T01:00:00Z,api,0.6,155,101,51,1010,505,0.3,10100\n"
    "2024-01-01T00:00:00Z,db,1.5,30,20,10,10,5,0.1,500\n"
    "2024-01-01T01:00:00Z,db,1.4,31,21,11,11,6,0.1,510\n";

QString write(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  QFile f(dir.filePath(name));
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write");
  f.write(text);
  return f.fileName();
}

struct Errors {
  QStringList messages;
  MainWindow::ErrorHandler handler() {
    return [this](const QString&, const QString& message) { messages << message; };
  }
};

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void hasMenusStatusBarAndChartArea() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    QStringList menus;
    for (QAction* action : window.menuBar()->actions()) menus << action->text().remove('&');
    QCOMPARE(menus, (QStringList{"File", "Edit", "View", "Run", "Connection", "Help"}));

    QVERIFY(window.statusBar()->currentMessage().contains("no workspace"));
    QCOMPARE(window.activity()->text(), QString("Ready"));
    QVERIFY(window.chartArea() != nullptr);
    QVERIFY(window.chartArea()->view()->isVisible());
    QVERIFY(window.chartArea()->placeholder().contains("Open a workspace"));
    QVERIFY(window.findChild<QDockWidget*>("servicesDock"));
  }

  void standardShortcuts() {
    MainWindow window;
    QCOMPARE(window.quitAction()->shortcut(), QKeySequence(QKeySequence::Quit));
    QCOMPARE(window.openWorkspaceAction()->shortcut(), QKeySequence(QKeySequence::Open));
    QCOMPARE(window.importAction()->shortcut(), QKeySequence("Ctrl+I"));
    QCOMPARE(window.exportChartAction()->shortcut(), QKeySequence("Ctrl+E"));
    QStringList shortcuts;
    for (QAction* a : window.findChildren<QAction*>()) shortcuts << a->shortcut().toString();
    for (const QKeySequence& k : {QKeySequence(QKeySequence::ZoomIn), QKeySequence(QKeySequence::ZoomOut),
                                  QKeySequence("Ctrl+0"), QKeySequence(QKeySequence::Find)})
      QVERIFY2(shortcuts.contains(k.toString()), qPrintable(k.toString()));
  }

  void quitClosesTheWindow() {
    MainWindow window;
    window.setSaveSessionOnClose(false);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.quitAction()->trigger();
    QVERIFY(!window.isVisible());
  }

  void opensImportsAndShowsAService() {
    QTemporaryDir dir;
    MainWindow window;
    Errors errors;
    window.setErrorHandler(errors.handler());
    QSignalSpy opened(&window, &MainWindow::workspaceOpened);
    QVERIFY(window.openWorkspace(dir.filePath("w.stacklens")));
    QCOMPARE(opened.count(), 1);
    QVERIFY(window.importAction()->isEnabled());
    QVERIFY(window.importCsvFiles({write(dir, "fleet.csv", kFleetCsv)}));
    QCOMPARE(window.explorer()->model()->rowCount(), 2);
    QCOMPARE(window.currentService(), QString("api"));  // the first imported service is shown
    QCOMPARE(window.metricView()->model()->metrics(), (QStringList{"error_rate", "latency_p99_ms", "total_requests"}));
    QCOMPARE(window.chartArea()->paneCount(), 3);
    QVERIFY(window.selectService("db"));
    QCOMPARE(window.metricView()->model()->service()->name, std::string("db"));
    QVERIFY(errors.messages.isEmpty());
  }

  void aBrokenImportSaysWhereAndChangesNothing() {
    QTemporaryDir dir;
    MainWindow window;
    Errors errors;
    window.setErrorHandler(errors.handler());
    QVERIFY(window.openWorkspace(dir.filePath("w.stacklens")));
    QVERIFY(window.importCsvFiles({write(dir, "fleet.csv", kFleetCsv)}));
    const QString broken = write(dir, "broken.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,oops\n");
    QVERIFY(!window.importCsvFiles({broken}));
    QCOMPARE(errors.messages.size(), 1);
    QVERIFY2(errors.messages[0].contains("broken.csv:3"), qPrintable(errors.messages[0]));
    QCOMPARE(window.explorer()->model()->rowCount(), 2);
    QVERIFY(!window.workspace()->hasService("broken"));
    QCOMPARE(window.activity()->text(), QString("Ready"));
  }

  void aBadWorkspaceFileIsReported() {
    QTemporaryDir dir;
    MainWindow window;
    Errors errors;
    window.setErrorHandler(errors.handler());
    QVERIFY(!window.openWorkspace(write(dir, "junk.stacklens", "not a database")));
    QCOMPARE(errors.messages.size(), 1);
    QVERIFY(errors.messages[0].contains("junk.stacklens"));
    QVERIFY(window.workspace() == nullptr);
  }

  void exportsAndLoadsTheConfiguration() {
    QTemporaryDir dir;
    MainWindow window;
    Errors errors;
    window.setErrorHandler(errors.handler());
    TuningConfig tuned = window.tuning()->config();
    tuned.detection.anomaly.forest.trees = 77;
    tuned.forecast.thresholds["error_rate"] = 1.5;
    window.tuning()->edit(tuned, 1);
    const QString path = dir.filePath("stacklens.toml");
    QVERIFY(window.exportConfiguration(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const TuningConfig back = tuningFromToml(file.readAll().toStdString());
    QVERIFY(describeChanges(tuned, back).empty());

    window.tuning()->resetToDefaults();
    QCOMPARE(window.tuning()->config().detection.anomaly.forest.trees, 100);
    QVERIFY(window.loadConfiguration(path));
    QCOMPARE(window.tuning()->config().detection.anomaly.forest.trees, 77);
    window.tuning()->undoStack()->undo();  // loading is one undoable step
    QCOMPARE(window.tuning()->config().detection.anomaly.forest.trees, 100);

    QVERIFY(!window.loadConfiguration(write(dir, "bad.toml", "[ml.detection]\ntrees = 0\n")));
    QCOMPARE(errors.messages.size(), 1);
    QVERIFY2(errors.messages[0].contains("bad.toml:2: ml.detection.trees"), qPrintable(errors.messages[0]));
    QVERIFY(!window.exportConfiguration(dir.filePath("no/such/dir/x.toml")));
    QCOMPARE(errors.messages.size(), 2);
  }

  void sessionRestoresWorkspaceLayoutSelectionAndTheme() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath("session.ini"), QSettings::IniFormat);
    const QString path = dir.filePath("w.stacklens");
    {
      MainWindow window;
      window.setSaveSessionOnClose(false);
      QVERIFY(window.openWorkspace(path));
      QVERIFY(window.importCsvFiles({write(dir, "fleet.csv", kFleetCsv)}));
      QVERIFY(window.selectService("db"));
      window.metricView()->model()->setMetrics({"unique_users", "error_rate"});
      window.findChild<QDockWidget*>("servicesDock")->hide();
      window.setTheme(Theme::kDark);
      window.saveSession(settings);
    }
    MainWindow window;
    window.setSaveSessionOnClose(false);
    window.restoreSession(settings, true);
    QVERIFY(window.workspace());
    QCOMPARE(window.workspace()->path(), path);
    QCOMPARE(window.currentService(), QString("db"));
    QCOMPARE(window.metricView()->model()->metrics(), (QStringList{"unique_users", "error_rate"}));
    QVERIFY(window.findChild<QDockWidget*>("servicesDock")->isHidden());
    QCOMPARE(window.theme(), Theme::kDark);
    QVERIFY(window.darkThemeAction()->isChecked());
    QVERIFY(window.chartArea()->darkTheme());
    QCOMPARE(qApp->palette().color(QPalette::Window).lightness() < 100, true);
    window.setTheme(Theme::kLight);
    QCOMPARE(qApp->palette().color(QPalette::Window).lightness() > 150, true);
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
