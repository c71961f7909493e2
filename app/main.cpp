// stacklens-workbench: the desktop workbench.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QScreen>
#include <QTimer>

#include "stacklens/core/version.h"
#include "stacklens/ui/main_window.h"

int main(int argc, char* argv[]) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("StackLens");
  QApplication::setApplicationName("StackLens Workbench");
  QApplication::setApplicationVersion(QString::fromLatin1(stacklens::kVersion));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/stacklens/icons/stacklens.svg")));
  QApplication::setDesktopFileName(QStringLiteral("stacklens-workbench"));

  QCommandLineParser parser;
  parser.setApplicationDescription("StackLens Workbench: explore, tune and backtest anomaly detection and forecasts.");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption workspaceOption("workspace", "Open this workspace file.", "file");
  const QCommandLineOption screenshotOption(
      "screenshot", "Show the window, save a screenshot of it to this PNG file, and quit.", "file");
  parser.addOption(workspaceOption);
  parser.addOption(screenshotOption);
  parser.process(app);

  stacklens::ui::MainWindow window;
  window.show();

  if (parser.isSet(screenshotOption)) {
    const QString path = parser.value(screenshotOption);
    // Give the window a moment to lay out and paint before grabbing it.
    QTimer::singleShot(1500, &window, [&window, path] {
      const bool saved = window.grab().save(path, "PNG");
      QApplication::exit(saved ? 0 : 1);
    });
  }
  return QApplication::exec();
}
