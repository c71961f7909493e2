#pragma once
// The central view: the shown service's name, a picker for its metrics and the charts.

#include <QWidget>

class QLabel;
class QMenu;
class QToolButton;

namespace stacklens::ui {

class ChartPresenter;
class MetricViewModel;

class MetricView : public QWidget {
  Q_OBJECT
 public:
  explicit MetricView(QWidget* parent = nullptr);

  MetricViewModel* model() const { return model_; }
  ChartPresenter* presenter() const { return presenter_; }
  QToolButton* metricsButton() const { return metricsButton_; }
  /// Shown under the title: what the engine last did (model, counts, time).
  void setNote(const QString& note);

 private:
  void rebuildMetricMenu();
  void showPlots(bool sameService);

  MetricViewModel* model_;
  ChartPresenter* presenter_;
  QLabel* title_;
  QLabel* note_;
  QToolButton* metricsButton_;
  QMenu* metricsMenu_;
};

}  // namespace stacklens::ui
