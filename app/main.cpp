// stacklens-workbench: the desktop workbench.
#include <cstdio>

#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QIcon>
#include <QSettings>
#include <QTimer>

#include "stacklens/core/version.h"
#include "stacklens/ui/backtest/backtest_panel.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/metric_view/metric_view.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/theme.h"
#include "stacklens/ui/workspace/demo_workspace.h"

int main(int argc, char* argv[]) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("StackLens");
  QApplication::setApplicationName("StackLens Workbench");
  QApplication::setApplicationVersion(QString::fromLatin1(stacklens::kVersion));
  stacklens::ui::initResources();
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/stacklens/icons/stacklens.svg")));
  QApplication::setDesktopFileName(QStringLiteral("stacklens-workbench"));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      "StackLens Workbench: explore, tune and backtest anomaly detection and forecasts.\n"
      "Without --workspace or --demo it reopens the last session.");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption workspaceOption("workspace", "Open this workspace file (created when missing).", "file");
  const QCommandLineOption demoOption(
      "demo", "Open the demo workspace (a simulated fleet; generated on first use under the user's data folder).");
  const QCommandLineOption serviceOption("service", "Show this service.", "name");
  const QCommandLineOption metricsOption("metrics", "Chart these metrics (comma-separated).", "list");
  const QCommandLineOption themeOption("theme", "light or dark.", "name");
  const QCommandLineOption backtestOption(
      "backtest", "Run a backtest once the workspace is open: configuration A and optionally B, e.g. "
                  "\"current,strict (unanimous)\" (\"current\" = the tuning panel's settings).",
      "a[,b]");
  const QCommandLineOption lastDaysOption("last-days",
                                          "Zoom the charts to the last N days and what is projected after them.", "n");
  const QCommandLineOption settingsOption(
      "settings", "Load these tuning settings (a TOML file as File > Export Configuration writes it).", "file");
  const QCommandLineOption noSessionOption("no-session", "Neither restore nor save the session (layout, last workspace).");
  const QCommandLineOption screenshotOption(
      "screenshot", "Show the window, save a screenshot of it to this PNG file, and quit.", "file");
  const QCommandLineOption screenshotOfOption(
      "screenshot-of", "What --screenshot shows: window (default), tuning or backtest (that panel alone, floated).",
      "name", "window");
  const QCommandLineOption delayOption(
      "screenshot-delay",
      "Milliseconds to wait before the screenshot (after the --backtest run, if any; default 2500).", "ms", "2500");
  parser.addOptions({workspaceOption, demoOption, serviceOption, metricsOption, themeOption, settingsOption,
                     lastDaysOption, backtestOption, noSessionOption, screenshotOption, screenshotOfOption,
                     delayOption});
  parser.process(app);

  stacklens::ui::MainWindow window;
  const bool useSession = !parser.isSet(noSessionOption) && !parser.isSet(screenshotOption);
  QSettings settings;
  const bool explicitWorkspace = parser.isSet(workspaceOption) || parser.isSet(demoOption);
  if (useSession) window.restoreSession(settings, !explicitWorkspace);
  if (parser.isSet(themeOption))
    window.setTheme(stacklens::ui::themeFromName(parser.value(themeOption)));
  else if (!useSession)
    window.setTheme(stacklens::ui::Theme::kLight);
  window.show();

  int status = 0;
  if (parser.isSet(demoOption)) {
    try {
      window.openWorkspace(stacklens::ui::ensureDemoWorkspace(stacklens::ui::defaultDemoWorkspacePath()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stacklens-workbench: demo workspace: %s\n", e.what());
      status = 1;
    }
  } else if (parser.isSet(workspaceOption)) {
    if (!window.openWorkspace(parser.value(workspaceOption))) status = 1;
  }
  if (parser.isSet(lastDaysOption)) window.showLastDays(parser.value(lastDaysOption).toInt());
  if (parser.isSet(settingsOption) && !window.loadConfiguration(parser.value(settingsOption))) status = 1;
  if (parser.isSet(serviceOption) && !window.selectService(parser.value(serviceOption))) {
    std::fprintf(stderr, "stacklens-workbench: no service '%s' in the workspace\n", qPrintable(parser.value(serviceOption)));
    status = 1;
  }
  if (parser.isSet(metricsOption))
    window.metricView()->model()->setMetrics(parser.value(metricsOption).split(',', Qt::SkipEmptyParts));
  window.setSaveSessionOnClose(useSession);
  if (parser.isSet(backtestOption)) {
    const QStringList configs = parser.value(backtestOption).split(',');
    window.backtestPanel()->setConfigurations(configs.value(0), configs.value(1));
    if (!window.backtestPanel()->run()) status = 1;
  }

  if (parser.isSet(screenshotOption)) {
    const QString path = parser.value(screenshotOption);
    // Give the window time to lay out, paint and finish background runs before grabbing it.
    QWidget* shown = &window;
    const QString of = parser.value(screenshotOfOption);
    if (of == "tuning" || of == "backtest") {
      // The panel's dock, floated at a size that shows all of it.
      auto* dock = window.findChild<QDockWidget*>(of + "Dock");
      dock->setFloating(true);
      dock->resize(of == "tuning" ? QSize(460, 980) : QSize(1300, 720));
      shown = dock;
    } else if (of != "window") {
      std::fprintf(stderr, "stacklens-workbench: --screenshot-of: window, tuning or backtest\n");
      return 2;
    }
    const int delay = parser.value(delayOption).toInt();
    auto grab = [shown, path, status] {
      const bool saved = shown->grab().save(path, "PNG");
      QApplication::exit(saved ? status : 1);
    };
    // With a backtest, the delay counts from its end.
    if (window.backtestPanel()->running())
      QObject::connect(window.backtestPanel(), &stacklens::ui::BacktestPanel::finished, &window,
                       [delay, grab] { QTimer::singleShot(delay, grab); });
    else
      QTimer::singleShot(delay, &window, grab);
  }
  return QApplication::exec();
}
