#pragma once
// The one place that knows about Qt Charts (deprecated after Qt 6.10): everything else talks to
// this presenter, so a later switch of chart library touches one class.

#include <QWidget>

class QChart;
class QChartView;

namespace stacklens::ui {

class ChartPresenter : public QWidget {
  Q_OBJECT
 public:
  explicit ChartPresenter(QWidget* parent = nullptr);

  /// Text shown in the chart area while it has no series (e.g. "Open a workspace ...").
  void setPlaceholder(const QString& text);
  QString placeholder() const;

  QChartView* view() const { return view_; }

 private:
  QChart* chart_;
  QChartView* view_;
};

}  // namespace stacklens::ui
