// The workbench's main window, offscreen.
#include <QAction>
#include <QChartView>
#include <QMenuBar>
#include <QSignalSpy>
#include <QStatusBar>
#include <QtTest>

#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/main_window.h"

using stacklens::ui::MainWindow;

class TestMainWindow : public QObject {
  Q_OBJECT
 private slots:
  void hasMenusStatusBarAndChartArea() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    QStringList menus;
    for (QAction* action : window.menuBar()->actions()) menus << action->text().remove('&');
    QCOMPARE(menus, (QStringList{"File", "View", "Help"}));

    QVERIFY(window.statusBar()->currentMessage().contains("no workspace"));
    QVERIFY(window.chartArea() != nullptr);
    QVERIFY(window.chartArea()->view()->isVisible());
    QVERIFY(window.chartArea()->placeholder().contains("Open a workspace"));
  }

  void standardShortcuts() {
    MainWindow window;
    QCOMPARE(window.quitAction()->shortcut(), QKeySequence(QKeySequence::Quit));
    QCOMPARE(window.openWorkspaceAction()->shortcut(), QKeySequence(QKeySequence::Open));
  }

  void quitClosesTheWindow() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.quitAction()->trigger();
    QVERIFY(!window.isVisible());
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
