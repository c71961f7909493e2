#pragma once
// The workbench's main window: the metric view in the middle, one dock per feature around it
// (services, tuning, backtest), menus with the common shortcuts, and a status bar that says what
// is running. It owns the open workspace and wires the panels to it; the panels hold the logic.

#include <QMainWindow>
#include <functional>
#include <memory>

#include "stacklens/ui/theme.h"

class QAction;
class QSettings;

namespace stacklens::ui {

class BacktestPanel;
class BacktestRunner;
class ChartPresenter;
class ConnectedWorkbench;
class ExplorerPanel;
class MetricView;
class StatusActivity;
class TuningController;
class TuningModel;
class TuningPanel;
class Workspace;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  ChartPresenter* chartArea() const;
  MetricView* metricView() const { return metricView_; }
  ExplorerPanel* explorer() const { return explorer_; }
  StatusActivity* activity() const { return activity_; }
  TuningModel* tuning() const { return tuning_; }
  TuningPanel* tuningPanel() const { return tuningPanel_; }
  TuningController* tuningController() const { return tuningController_; }
  BacktestRunner* fleetDetection() const { return fleetDetection_; }
  BacktestPanel* backtestPanel() const { return backtest_; }
  Workspace* workspace() const { return workspace_.get(); }
  /// The Connection menu and the Production dock (issue 8).
  ConnectedWorkbench* connected() const { return connected_; }

  QAction* openWorkspaceAction() const { return openWorkspace_; }
  QAction* importAction() const { return import_; }
  QAction* quitAction() const { return quit_; }
  QAction* exportChartAction() const { return exportChart_; }
  QAction* exportTableAction() const { return exportTable_; }
  QAction* darkThemeAction() const { return darkTheme_; }
  QAction* exportConfigurationAction() const { return exportConfig_; }

  /// Opens (or creates) a workspace and shows its services. Errors go to the error handler.
  bool openWorkspace(const QString& path);
  /// Imports CSV files into the open workspace (all or nothing) and refreshes the explorer.
  bool importCsvFiles(const QStringList& paths);
  /// Shows a service in the metric view (selects it in the explorer).
  bool selectService(const QString& name);
  QString currentService() const { return currentService_; }
  /// Once the engine's next results are in, zooms the charts to the last `days` days of data and
  /// everything projected after them (forecast, capacity). For demos and screenshots.
  void showLastDays(int days);
  /// Writes the tuning panel's settings as the headless services' TOML configuration file.
  bool exportConfiguration(const QString& path);
  /// Reads a TOML configuration into the tuning panel (one undoable step).
  bool loadConfiguration(const QString& path);

  /// Recomputes the explorer's health column from the workspace's stored results.
  void refreshExplorer();
  /// Runs detection with the current settings over every service of the workspace in the
  /// background, stores the anomalies as the workspace's results and refreshes the explorer.
  void detectAllServices();

  void setTheme(Theme theme);
  Theme theme() const { return theme_; }

  /// Session: the last workspace, window layout (dock placement), selected service and metrics,
  /// and the theme, in `settings` (QSettings: the user's preferences file).
  void saveSession(QSettings& settings) const;
  /// Restores layout and theme; with `reopenWorkspace`, also the last workspace and selection.
  void restoreSession(QSettings& settings, bool reopenWorkspace);

  /// Whether closing the window saves the session to the default QSettings (on by default).
  void setSaveSessionOnClose(bool save) { saveSessionOnClose_ = save; }

  /// Where error messages go (a message box by default; tests capture them).
  using ErrorHandler = std::function<void(const QString& title, const QString& message)>;
  void setErrorHandler(ErrorHandler handler) { errorHandler_ = std::move(handler); }

 signals:
  /// The user chose a workspace file to open (File ▸ Open Workspace); the window opens it.
  void openWorkspaceRequested(const QString& path);
  void workspaceOpened(const QString& path);
  void serviceShown(const QString& name);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createDocks();
  void createMenus();
  void showAbout();
  void reportError(const QString& title, const QString& message);
  void showService(const QString& name);
  void exportChart();
  void exportTable();
  void chooseImportFiles();
  void createTuning();
  void createBacktest();
  void exportConfiguration();
  void loadConfiguration();
  void exportBacktestTable();

  MetricView* metricView_;
  ExplorerPanel* explorer_ = nullptr;
  TuningModel* tuning_ = nullptr;
  TuningPanel* tuningPanel_ = nullptr;
  TuningController* tuningController_ = nullptr;
  BacktestRunner* fleetDetection_ = nullptr;
  BacktestPanel* backtest_ = nullptr;
  StatusActivity* activity_ = nullptr;
  ConnectedWorkbench* connected_ = nullptr;
  std::unique_ptr<Workspace> workspace_;
  QString currentService_;
  int showLastDays_ = 0;
  Theme theme_ = Theme::kLight;
  ErrorHandler errorHandler_;
  bool saveSessionOnClose_ = true;

  QAction* openWorkspace_ = nullptr;
  QAction* import_ = nullptr;
  QAction* quit_ = nullptr;
  QAction* exportChart_ = nullptr;
  QAction* exportTable_ = nullptr;
  QAction* darkTheme_ = nullptr;
  QAction* exportConfig_ = nullptr;
};

}  // namespace stacklens::ui
