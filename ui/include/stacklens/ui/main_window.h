#pragma once
// The workbench's main window: menus, the chart area and the status bar. Panels dock around it.

#include <QMainWindow>

class QAction;
class QLabel;

namespace stacklens::ui {

class ChartPresenter;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  ChartPresenter* chartArea() const { return chart_; }
  QAction* openWorkspaceAction() const { return openWorkspace_; }
  QAction* quitAction() const { return quit_; }

 signals:
  /// The user chose a workspace file to open.
  void openWorkspaceRequested(const QString& path);

 private:
  void createMenus();
  void showAbout();

  ChartPresenter* chart_;
  QAction* openWorkspace_ = nullptr;
  QAction* quit_ = nullptr;
};

}  // namespace stacklens::ui
