#include "stacklens/ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "stacklens/core/version.h"
#include "stacklens/ui/metric_view/chart_presenter.h"

namespace stacklens::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), chart_(new ChartPresenter(this)) {
  setObjectName("mainWindow");
  setWindowTitle(tr("StackLens Workbench"));
  chart_->setPlaceholder(tr("Open a workspace (File ▸ Open Workspace…) to see a service's metrics"));
  setCentralWidget(chart_);
  createMenus();
  statusBar()->showMessage(tr("Ready: no workspace open"));
  resize(1280, 800);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  openWorkspace_ = file->addAction(tr("&Open Workspace…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Workspace"), QString(),
                                                      tr("StackLens workspaces (*.stacklens);;All files (*)"));
    if (!path.isEmpty()) emit openWorkspaceRequested(path);
  });
  openWorkspace_->setShortcut(QKeySequence::Open);
  file->addSeparator();
  quit_ = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit_->setShortcut(QKeySequence::Quit);
  quit_->setMenuRole(QAction::QuitRole);

  menuBar()->addMenu(tr("&View"))->setObjectName("viewMenu");

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About StackLens"), this, &MainWindow::showAbout);
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About StackLens"),
                     tr("<b>StackLens Workbench %1</b><p>Anomaly detection and forecasting for service metrics.</p>")
                         .arg(QString::fromLatin1(stacklens::kVersion)));
}

}  // namespace stacklens::ui
