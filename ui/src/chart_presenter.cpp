#include "stacklens/ui/chart_presenter.h"

#include <QChart>
#include <QChartView>
#include <QVBoxLayout>

namespace stacklens::ui {

ChartPresenter::ChartPresenter(QWidget* parent) : QWidget(parent), chart_(new QChart), view_(new QChartView(chart_)) {
  chart_->legend()->hide();
  chart_->setTheme(QChart::ChartThemeLight);
  view_->setRenderHint(QPainter::Antialiasing);
  view_->setObjectName("chartView");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(view_);
}

void ChartPresenter::setPlaceholder(const QString& text) { chart_->setTitle(text); }

QString ChartPresenter::placeholder() const { return chart_->title(); }

}  // namespace stacklens::ui
