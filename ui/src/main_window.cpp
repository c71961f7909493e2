#include "stacklens/ui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFile>
#include <QFileInfo>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSaveFile>
#include <QStatusBar>
#include <QTableWidget>
#include <QTableView>
#include <QUndoStack>

#include "stacklens/connect/csv_table.h"
#include "stacklens/core/version.h"
#include "stacklens/ui/connected/connected_workbench.h"
#include "stacklens/ui/explorer/explorer_panel.h"
#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/metric_view.h"
#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/backtest/backtest_panel.h"
#include "stacklens/ui/backtest/backtest_runner.h"
#include "stacklens/ui/status_activity.h"
#include "stacklens/ui/tuning/tuning_controller.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/tuning/tuning_panel.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/table_export.h"
#include "stacklens/ui/workspace/demo_workspace.h"
#include "stacklens/ui/workspace/workspace.h"

namespace stacklens::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), metricView_(new MetricView(this)) {
  initResources();
  setObjectName("mainWindow");
  setWindowTitle(tr("StackLens Workbench"));
  chartArea()->setPlaceholder(tr("Open a workspace (File ▸ Open Workspace…) to see a service's metrics"));
  setCentralWidget(metricView_);
  activity_ = new StatusActivity(statusBar());
  createDocks();
  createTuning();
  createBacktest();
  createMenus();
  connected_ = new ConnectedWorkbench(this);
  statusBar()->showMessage(tr("Ready: no workspace open"));
  resize(1560, 940);
  connect(this, &MainWindow::openWorkspaceRequested, this, &MainWindow::openWorkspace);
}

MainWindow::~MainWindow() = default;

ChartPresenter* MainWindow::chartArea() const { return metricView_->presenter(); }

void MainWindow::createDocks() {
  explorer_ = new ExplorerPanel;
  auto* dock = new QDockWidget(tr("Services"), this);
  dock->setObjectName("servicesDock");
  dock->setWidget(explorer_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  resizeDocks({dock}, {430}, Qt::Horizontal);
  connect(explorer_, &ExplorerPanel::serviceSelected, this, &MainWindow::showService);
}

void MainWindow::createTuning() {
  tuning_ = new TuningModel(this);
  tuningPanel_ = new TuningPanel(tuning_);
  auto* dock = new QDockWidget(tr("Tuning"), this);
  dock->setObjectName("tuningDock");
  dock->setWidget(tuningPanel_);
  addDockWidget(Qt::RightDockWidgetArea, dock);
  resizeDocks({dock}, {340}, Qt::Horizontal);
  tuningController_ = new TuningController(tuning_, metricView_->model(), this);
  connect(tuningPanel_, &TuningPanel::refitRequested, tuningController_, &TuningController::refit);
  connect(tuningController_, &TuningController::runStarted, this, [this](const QString& service) {
    activity_->set(QStringLiteral("engine"), tr("detection and forecasts on %1").arg(service));
  });
  connect(tuningController_, &TuningController::resultsApplied, this,
          [this](const QString& service, double ms, const QString& note) {
            activity_->finish(QStringLiteral("engine"));
            metricView_->setNote(note);
            if (showLastDays_ > 0 && metricView_->model()->service()) {
              ChartPresenter* charts = metricView_->presenter();
              const core::EpochSeconds end = metricView_->model()->service()->timestamps.back();
              charts->setRange(std::max(charts->fullRange().first, end - showLastDays_ * core::EpochSeconds{86400}),
                               charts->fullRange().second);
              showLastDays_ = 0;
            }
            tuningPanel_->setStatus(tr("Last run on %1: %2").arg(service, note));
            if (!workspace_) return;
            try {  // the explorer's health reflects the settings being tuned
              workspace_->replaceAnomalies(service.toStdString(), metricView_->model()->results().anomalies);
              refreshExplorer();
            } catch (const std::exception& e) {
              reportError(tr("Cannot store results"), QString::fromStdString(e.what()));
            }
            Q_UNUSED(ms);
          });
  connect(tuningController_, &TuningController::runFailed, this, [this](const QString& service, const QString& message) {
    activity_->finish(QStringLiteral("engine"));
    reportError(tr("Engine run failed"), tr("%1: %2").arg(service, message));
  });

  fleetDetection_ = new BacktestRunner(this);
  connect(fleetDetection_, &BacktestRunner::progress, this, [this](double f) {
    activity_->set(QStringLiteral("fleet"), tr("detection in all services"), f);
  });
  connect(fleetDetection_, &BacktestRunner::failed, this, [this](const QString& message) {
    activity_->finish(QStringLiteral("fleet"));
    reportError(tr("Detection failed"), message);
  });
  connect(fleetDetection_, &BacktestRunner::finished, this, [this] {
    const auto& result = fleetDetection_->result();
    activity_->finish(QStringLiteral("fleet"),
                      result.cancelled ? tr("Detection cancelled")
                                       : tr("Detection done: %1 anomalies in %2 services (%3 s)")
                                             .arg(result.detection.anomalies)
                                             .arg(result.services.size())
                                             .arg(fleetDetection_->seconds(), 0, 'f', 1));
    if (result.cancelled || !workspace_) return;
    try {
      for (const auto& s : result.services) workspace_->replaceAnomalies(s.service, s.anomalies);
    } catch (const std::exception& e) {
      reportError(tr("Cannot store results"), QString::fromStdString(e.what()));
    }
    refreshExplorer();
  });
}

void MainWindow::createBacktest() {
  backtest_ = new BacktestPanel;
  backtest_->setCurrentSettings([this] { return tuning_->config(); });
  auto* dock = new QDockWidget(tr("Backtest"), this);
  dock->setObjectName("backtestDock");
  dock->setWidget(backtest_);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  resizeDocks({dock}, {300}, Qt::Vertical);
  connect(backtest_, &BacktestPanel::progressChanged, this,
          [this](double f, const QString& text) { activity_->set(QStringLiteral("backtest"), text, f); });
  connect(backtest_, &BacktestPanel::started, this,
          [this] { activity_->set(QStringLiteral("backtest"), tr("backtest"), 0); });
  connect(backtest_, &BacktestPanel::finished, this, [this](bool cancelled) {
    activity_->finish(QStringLiteral("backtest"), cancelled ? tr("Backtest cancelled") : backtest_->status());
  });
  connect(backtest_, &BacktestPanel::errorOccurred, this,
          [this](const QString& message) { statusBar()->showMessage(message, 10000); });
}

bool MainWindow::exportConfiguration(const QString& path) {
  QSaveFile file(path);
  const QByteArray text = QByteArray::fromStdString(tuningToToml(tuning_->config()));
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text) != text.size() || !file.commit()) {
    reportError(tr("Export configuration"), tr("Cannot write %1: %2").arg(path, file.errorString()));
    return false;
  }
  statusBar()->showMessage(tr("Configuration saved to %1 (stacklens ml-service / predictive-alerter --config)").arg(path),
                           10000);
  return true;
}

bool MainWindow::loadConfiguration(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
    reportError(tr("Load configuration"), tr("Cannot read %1: %2").arg(path, file.errorString()));
    return false;
  }
  try {
    tuning_->edit(tuningFromToml(file.readAll().toStdString(), path.toStdString()), -1);
    return true;
  } catch (const std::exception& e) {
    reportError(tr("Load configuration"), QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::exportConfiguration() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Configuration"), QStringLiteral("stacklens.toml"),
                                                    tr("TOML configuration (*.toml)"));
  if (!path.isEmpty()) exportConfiguration(path);
}

void MainWindow::loadConfiguration() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Load Configuration"), QString(),
                                                    tr("TOML configuration (*.toml);;All files (*)"));
  if (!path.isEmpty()) loadConfiguration(path);
}

void MainWindow::exportBacktestTable() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Backtest Table"), QStringLiteral("backtest.csv"),
                                                    tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!writeModelCsv(*backtest_->summaryTable()->model(), path, &error)) return reportError(tr("Export table"), error);
  statusBar()->showMessage(tr("Table saved to %1").arg(path), 8000);
}

void MainWindow::detectAllServices() {
  if (!workspace_ || fleetDetection_->running()) return;
  std::vector<core::backtest::ServiceHistory> histories;
  for (const ServiceSummary& s : workspace_->services()) histories.push_back(toServiceHistory(workspace_->loadService(s.name)));
  if (histories.empty()) return;
  core::backtest::BacktestConfig config;
  config.pipeline = tuning_->config().detection;
  config.startupSamples = config.pipeline.historyCapacity;  // as the tuning run does
  activity_->set(QStringLiteral("fleet"), tr("detection in all services"), 0);
  fleetDetection_->start(std::move(histories), config);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  openWorkspace_ = file->addAction(tr("&Open Workspace…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Workspace"), QString(),
                                                      tr("StackLens workspaces (*.stacklens);;All files (*)"));
    if (!path.isEmpty()) emit openWorkspaceRequested(path);
  });
  openWorkspace_->setShortcut(QKeySequence::Open);
  file->addAction(tr("&New Workspace…"), this, [this] {
    QString path = QFileDialog::getSaveFileName(this, tr("New Workspace"), QString(), tr("StackLens workspaces (*.stacklens)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".stacklens");
    openWorkspace(path);
  })->setShortcut(QKeySequence::New);
  file->addAction(tr("Open the &Demo Workspace"), this, [this] {
    try {
      openWorkspace(ensureDemoWorkspace(defaultDemoWorkspacePath()));
    } catch (const std::exception& e) {
      reportError(tr("Demo workspace"), QString::fromStdString(e.what()));
    }
  });
  import_ = file->addAction(tr("&Import CSV…"), this, &MainWindow::chooseImportFiles);
  import_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  import_->setEnabled(false);
  file->addSeparator();
  exportChart_ = file->addAction(tr("Export &Chart…"), this, &MainWindow::exportChart);
  exportChart_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  exportTable_ = file->addAction(tr("Export Services &Table…"), this, &MainWindow::exportTable);
  exportTable_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  file->addAction(tr("Export &Backtest Table…"), this, &MainWindow::exportBacktestTable);
  file->addSeparator();
  exportConfig_ = file->addAction(tr("Export Con&figuration…"), this, qOverload<>(&MainWindow::exportConfiguration));
  exportConfig_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
  file->addAction(tr("&Load Configuration…"), this, qOverload<>(&MainWindow::loadConfiguration));
  file->addSeparator();
  quit_ = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit_->setShortcut(QKeySequence::Quit);
  quit_->setMenuRole(QAction::QuitRole);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit->setObjectName("editMenu");
  QAction* undo = tuning_->undoStack()->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction* redo = tuning_->undoStack()->createRedoAction(this, tr("&Redo"));
  redo->setShortcut(QKeySequence::Redo);
  edit->addAction(undo);
  edit->addAction(redo);
  edit->addAction(tr("Reset Settings to &Defaults"), tuning_, &TuningModel::resetToDefaults);
  edit->addSeparator();
  edit->addAction(tr("&Find Service"), this, [this] {
    explorer_->filterEdit()->setFocus();
    explorer_->filterEdit()->selectAll();
  })->setShortcut(QKeySequence::Find);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->setObjectName("viewMenu");
  view->addAction(tr("Zoom &In"), chartArea(), &ChartPresenter::zoomIn)->setShortcut(QKeySequence::ZoomIn);
  view->addAction(tr("Zoom &Out"), chartArea(), &ChartPresenter::zoomOut)->setShortcut(QKeySequence::ZoomOut);
  view->addAction(tr("&Reset Zoom"), chartArea(), &ChartPresenter::resetZoom)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  view->addAction(tr("Pan &Left"), chartArea(), [this] { chartArea()->pan(-0.25); })->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
  view->addAction(tr("Pan Ri&ght"), chartArea(), [this] { chartArea()->pan(0.25); })->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
  view->addSeparator();
  darkTheme_ = view->addAction(tr("&Dark Theme"));
  darkTheme_->setCheckable(true);
  darkTheme_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
  connect(darkTheme_, &QAction::toggled, this, [this](bool dark) { setTheme(dark ? Theme::kDark : Theme::kLight); });
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->setObjectName("runMenu");
  run->addAction(tr("&Re-run and Refit on This Service"), tuningController_, &TuningController::refit)
      ->setShortcut(QKeySequence::Refresh);
  run->addAction(tr("&Detect in All Services"), this, &MainWindow::detectAllServices)
      ->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  run->addAction(tr("Run &Backtest"), this, [this] { backtest_->run(); })->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
  run->addAction(tr("&Cancel"), this, [this] {
    fleetDetection_->cancel();
    backtest_->cancel();
  })->setShortcut(QKeySequence(Qt::Key_Escape));

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About StackLens"), this, &MainWindow::showAbout);
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About StackLens"),
                     tr("<b>StackLens Workbench %1</b><p>Anomaly detection and forecasting for service metrics.</p>")
                         .arg(QString::fromLatin1(stacklens::kVersion)));
}

void MainWindow::reportError(const QString& title, const QString& message) {
  statusBar()->showMessage(message, 15000);
  if (errorHandler_) {
    errorHandler_(title, message);
  } else {
    QMessageBox::critical(this, title, message);
  }
}

bool MainWindow::openWorkspace(const QString& path) {
  std::unique_ptr<Workspace> ws;
  try {
    ws = Workspace::open(path);
  } catch (const std::exception& e) {
    reportError(tr("Cannot open workspace"), QString::fromStdString(e.what()));
    return false;
  }
  backtest_->setWorkspace(nullptr);  // stops a backtest of the old workspace
  fleetDetection_->cancel();
  fleetDetection_->waitForFinished();  // prompt: the replay polls for cancellation every few samples
  workspace_ = std::move(ws);
  currentService_.clear();
  backtest_->setWorkspace(workspace_.get());
  metricView_->model()->setService(nullptr);
  import_->setEnabled(true);
  setWindowTitle(tr("%1 — StackLens Workbench").arg(QFileInfo(path).fileName()));
  refreshExplorer();
  statusBar()->showMessage(tr("Opened %1: %2 services").arg(path).arg(explorer_->model()->rowCount()), 8000);
  // A workspace without results gets them now, so the explorer can show each service's health.
  bool anyResults = false;
  for (const ServiceSummary& s : workspace_->services()) anyResults = anyResults || !workspace_->anomalies(s.name).empty();
  if (!anyResults) detectAllServices();
  emit workspaceOpened(path);
  // Show the most urgent service first (the explorer sorts by health).
  if (explorer_->proxy()->rowCount() > 0)
    selectService(explorer_->proxy()->index(0, ServiceTableModel::kName).data().toString());
  return true;
}

void MainWindow::refreshExplorer() {
  std::vector<ServiceHealth> rows;
  if (workspace_) {
    const std::vector<ServiceSummary> services = workspace_->services();
    core::EpochSeconds now = 0;
    for (const ServiceSummary& s : services) now = std::max(now, s.last);
    for (const ServiceSummary& s : services) {
      const auto [t, v] = workspace_->loadMetric(s.name, sparklineMetric(s.metrics), now - kWeekSeconds, now);
      rows.push_back(summarizeHealth(s, workspace_->anomalies(s.name), t, v, now));
    }
  }
  explorer_->setServices(std::move(rows));
}

bool MainWindow::importCsvFiles(const QStringList& paths) {
  if (!workspace_) {
    reportError(tr("Import"), tr("Open or create a workspace first."));
    return false;
  }
  activity_->set(QStringLiteral("import"), tr("importing %n file(s)", nullptr, static_cast<int>(paths.size())));
  try {
    const Workspace::ImportSummary summary = workspace_->importCsvFiles(paths);
    activity_->finish(QStringLiteral("import"), tr("Imported %1 values into %2").arg(summary.values).arg(summary.services.join(", ")));
    refreshExplorer();
    backtest_->setWorkspace(workspace_.get());
    if (!summary.services.isEmpty()) selectService(summary.services.front());
    return true;
  } catch (const std::exception& e) {
    activity_->finish(QStringLiteral("import"));
    reportError(tr("Import failed: nothing was imported"), QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::chooseImportFiles() {
  const QStringList paths = QFileDialog::getOpenFileNames(
      this, tr("Import CSV"), QString(),
      tr("CSV files: timestamp,value[,label] or the service format (*.csv);;All files (*)"));
  if (!paths.isEmpty()) importCsvFiles(paths);
}

bool MainWindow::selectService(const QString& name) { return explorer_->selectService(name); }

void MainWindow::showLastDays(int days) {
  showLastDays_ = days;
}

void MainWindow::showService(const QString& name) {
  if (!workspace_ || name == currentService_) return;
  try {
    auto service = std::make_shared<const ServiceData>(workspace_->loadService(name.toStdString()));
    currentService_ = name;
    metricView_->model()->setService(service);
    tuningPanel_->setMetrics(metricView_->model()->availableMetrics());
    ServiceResults stored;
    stored.anomalies = workspace_->anomalies(name.toStdString());
    if (!stored.anomalies.empty()) metricView_->model()->setResults(std::move(stored));
    emit serviceShown(name);
  } catch (const std::exception& e) {
    reportError(tr("Cannot load service"), QString::fromStdString(e.what()));
  }
}

void MainWindow::setTheme(Theme theme) {
  theme_ = theme;
  {
    const QSignalBlocker block(darkTheme_);
    darkTheme_->setChecked(theme == Theme::kDark);
  }
  if (auto* app = qobject_cast<QApplication*>(QCoreApplication::instance())) applyTheme(*app, theme);
  chartArea()->setDarkTheme(theme == Theme::kDark);
}

void MainWindow::exportChart() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Chart"), currentService_ + QStringLiteral(".png"),
                                                    tr("PNG image (*.png);;SVG drawing (*.svg)"));
  if (path.isEmpty()) return;
  QString error;
  if (!chartArea()->exportImage(path, &error)) return reportError(tr("Export chart"), error);
  statusBar()->showMessage(tr("Chart saved to %1").arg(path), 8000);
}

void MainWindow::exportTable() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Services Table"), QStringLiteral("services.csv"),
                                                    tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!writeModelCsv(*explorer_->proxy(), path, &error)) return reportError(tr("Export table"), error);
  statusBar()->showMessage(tr("Table saved to %1").arg(path), 8000);
}

void MainWindow::saveSession(QSettings& settings) const {
  settings.beginGroup(QStringLiteral("session"));
  settings.setValue(QStringLiteral("workspace"), workspace_ ? workspace_->path() : QString());
  settings.setValue(QStringLiteral("geometry"), saveGeometry());
  settings.setValue(QStringLiteral("windowState"), saveState());
  settings.setValue(QStringLiteral("service"), currentService_);
  settings.setValue(QStringLiteral("metrics"), metricView_->model()->metrics());
  settings.endGroup();
  settings.setValue(QStringLiteral("preferences/theme"), themeName(theme_));
}

void MainWindow::restoreSession(QSettings& settings, bool reopenWorkspace) {
  setTheme(themeFromName(settings.value(QStringLiteral("preferences/theme")).toString()));
  settings.beginGroup(QStringLiteral("session"));
  restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
  const QString path = settings.value(QStringLiteral("workspace")).toString();
  const QString service = settings.value(QStringLiteral("service")).toString();
  const QStringList metrics = settings.value(QStringLiteral("metrics")).toStringList();
  settings.endGroup();
  if (!reopenWorkspace || path.isEmpty() || !QFileInfo::exists(path)) return;
  if (!openWorkspace(path)) return;
  if (!service.isEmpty()) selectService(service);
  if (!metrics.isEmpty()) metricView_->model()->setMetrics(metrics);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (saveSessionOnClose_) {
    QSettings settings;
    saveSession(settings);
  }
  QMainWindow::closeEvent(event);
}

}  // namespace stacklens::ui
