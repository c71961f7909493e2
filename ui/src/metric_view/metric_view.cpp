#include "stacklens/ui/metric_view/metric_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QToolButton>
#include <QVBoxLayout>

#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/metric_view_model.h"

namespace stacklens::ui {

MetricView::MetricView(QWidget* parent)
    : QWidget(parent),
      model_(new MetricViewModel(this)),
      presenter_(new ChartPresenter),
      title_(new QLabel),
      note_(new QLabel),
      metricsButton_(new QToolButton),
      metricsMenu_(new QMenu(this)) {
  setObjectName("metricView");
  title_->setObjectName("serviceTitle");
  QFont big = title_->font();
  big.setPointSizeF(big.pointSizeF() * 1.35);
  big.setBold(true);
  title_->setFont(big);
  note_->setObjectName("engineNote");
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  note_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // a long note never widens the view
  note_->setWordWrap(true);
  metricsButton_->setObjectName("metricsButton");
  metricsButton_->setText(tr("Metrics"));
  metricsButton_->setToolTip(tr("Choose the metrics to chart"));
  metricsButton_->setPopupMode(QToolButton::InstantPopup);
  metricsButton_->setMenu(metricsMenu_);
  metricsButton_->setEnabled(false);

  auto* header = new QHBoxLayout;
  header->setContentsMargins(8, 6, 8, 0);
  header->addWidget(title_);
  header->addSpacing(12);
  header->addWidget(note_, 1);
  header->addWidget(metricsButton_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addLayout(header);
  layout->addWidget(presenter_, 1);

  connect(model_, &MetricViewModel::serviceChanged, this, [this] {
    const auto service = model_->service();
    title_->setText(service ? QString::fromStdString(service->name) : QString());
    note_->clear();
    rebuildMetricMenu();
  });
  connect(model_, &MetricViewModel::plotsChanged, this, &MetricView::showPlots);
}

void MetricView::setNote(const QString& note) {
  note_->setText(note);
  note_->setToolTip(note);
}

void MetricView::rebuildMetricMenu() {
  metricsMenu_->clear();
  const QStringList shown = model_->metrics();
  for (const QString& metric : model_->availableMetrics()) {
    QAction* action = metricsMenu_->addAction(metric);
    action->setCheckable(true);
    action->setChecked(shown.contains(metric));
    connect(action, &QAction::toggled, this, [this] {
      QStringList picked;
      for (QAction* a : metricsMenu_->actions())
        if (a->isCheckable() && a->isChecked()) picked << a->text();
      model_->setMetrics(picked);
    });
  }
  metricsButton_->setEnabled(!metricsMenu_->isEmpty());
}

void MetricView::showPlots(bool sameService) {
  // A change of picked metrics keeps the zoom as well: only a new service resets it.
  presenter_->setPlots(model_->plots(), sameService);
  for (QAction* a : metricsMenu_->actions()) {
    const QSignalBlocker block(a);
    a->setChecked(model_->metrics().contains(a->text()));
  }
}

}  // namespace stacklens::ui
