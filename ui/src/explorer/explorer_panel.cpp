#include "stacklens/ui/explorer/explorer_panel.h"

#include <QComboBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QPainter>
#include <QPainterPath>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

#include "stacklens/ui/severity_style.h"

namespace stacklens::ui {
namespace {

// Four chips, critical to low, each with its count in the severity's colour (grey when zero).
class SeverityCountsDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    const QVariantList counts = index.data(ServiceTableModel::kCountsRole).toList();
    if (counts.size() != 4) return QStyledItemDelegate::paint(painter, option, index);
    QStyleOptionViewItem background(option);
    initStyleOption(&background, index);
    background.text.clear();
    option.widget->style()->drawControl(QStyle::CE_ItemViewItem, &background, painter, option.widget);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QRect r = option.rect.adjusted(3, 4, -3, -4);
    const int chip = std::max(17, r.width() / 4 - 2);
    QFont font = option.font;
    font.setPointSizeF(font.pointSizeF() * 0.85);
    font.setBold(true);
    painter->setFont(font);
    for (int i = 0; i < 4; ++i) {
      const auto severity = static_cast<core::Severity>(3 - i);
      const int n = counts[3 - i].toInt();
      const QRect box(r.left() + i * (chip + 2), r.top(), chip, r.height());
      QColor fill = n > 0 ? severityColor(severity) : option.palette.color(QPalette::Mid);
      fill.setAlpha(n > 0 ? 230 : 60);
      painter->setPen(Qt::NoPen);
      painter->setBrush(fill);
      painter->drawRoundedRect(box, 3, 3);
      painter->setPen(n > 0 ? QColor(Qt::white) : option.palette.color(QPalette::Text));
      painter->drawText(box, Qt::AlignCenter, QString::number(n));
    }
    painter->restore();
  }
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    return QSize(4 * 21, QStyledItemDelegate::sizeHint(option, index).height());
  }
};

// A polyline of the week's bucket means, scaled to the cell; gaps where a bucket is empty.
class SparklineDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QStyleOptionViewItem background(option);
    initStyleOption(&background, index);
    option.widget->style()->drawControl(QStyle::CE_ItemViewItem, &background, painter, option.widget);
    const QList<double> values = index.data(ServiceTableModel::kSparklineRole).value<QList<double>>();
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (values.size() < 2 || !(lo <= hi)) return;
    if (hi - lo < 1e-12) hi = lo + 1;
    const QRectF r = QRectF(option.rect).adjusted(3, 4, -3, -4);
    QPainterPath path;
    bool pen = false;
    for (qsizetype i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        pen = false;
        continue;
      }
      const QPointF p(r.left() + r.width() * static_cast<double>(i) / static_cast<double>(values.size() - 1),
                      r.bottom() - r.height() * (values[i] - lo) / (hi - lo));
      pen ? path.lineTo(p) : path.moveTo(p);
      pen = true;
    }
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(option.state & QStyle::State_Selected ? option.palette.color(QPalette::HighlightedText)
                                                                : option.palette.color(QPalette::Link),
                         1.3));
    painter->drawPath(path);
    painter->restore();
  }
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    return QSize(90, QStyledItemDelegate::sizeHint(option, index).height());
  }
};

}  // namespace

ExplorerPanel::ExplorerPanel(QWidget* parent)
    : QWidget(parent),
      model_(new ServiceTableModel(this)),
      proxy_(new ServiceFilterProxy(this)),
      filter_(new QLineEdit),
      severity_(new QComboBox),
      table_(new QTableView) {
  setObjectName("explorerPanel");
  setMinimumWidth(420);
  proxy_->setSourceModel(model_);
  filter_->setObjectName("serviceFilter");
  filter_->setPlaceholderText(tr("Filter services…"));
  filter_->setClearButtonEnabled(true);
  severity_->setObjectName("severityFilter");
  severity_->addItem(tr("All services"), int(ServiceFilterProxy::SeverityFilter::kAll));
  severity_->addItem(tr("Anomalies this week"), int(ServiceFilterProxy::SeverityFilter::kAnyThisWeek));
  severity_->addItem(tr("High or critical today"), int(ServiceFilterProxy::SeverityFilter::kHighOrWorseToday));
  severity_->addItem(tr("Critical today"), int(ServiceFilterProxy::SeverityFilter::kCriticalToday));

  table_->setObjectName("serviceTable");
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(ServiceTableModel::kHealth, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(26);
  table_->setAlternatingRowColors(true);
  table_->setShowGrid(false);
  table_->setItemDelegateForColumn(ServiceTableModel::kLastDay, new SeverityCountsDelegate(table_));
  table_->setItemDelegateForColumn(ServiceTableModel::kLastWeek, new SeverityCountsDelegate(table_));
  table_->setItemDelegateForColumn(ServiceTableModel::kTrend, new SparklineDelegate(table_));
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setStretchLastSection(false);
  header->setSectionResizeMode(ServiceTableModel::kTrend, QHeaderView::Fixed);
  header->resizeSection(ServiceTableModel::kTrend, 84);
  header->setSectionHidden(ServiceTableModel::kSamples, true);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(filter_);
  layout->addWidget(severity_);
  layout->addWidget(table_, 1);

  connect(filter_, &QLineEdit::textChanged, proxy_, &ServiceFilterProxy::setNameFilter);
  connect(severity_, &QComboBox::currentIndexChanged, this, [this] {
    proxy_->setSeverityFilter(static_cast<ServiceFilterProxy::SeverityFilter>(severity_->currentData().toInt()));
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
    if (!current.isValid()) return;
    const QString name = proxy_->index(current.row(), ServiceTableModel::kName).data().toString();
    if (name == selected_) return;
    selected_ = name;
    emit serviceSelected(name);
  });
}

void ExplorerPanel::setServices(std::vector<ServiceHealth> services) {
  const QString keep = selected_;
  model_->setServices(std::move(services));
  selected_.clear();
  if (!keep.isEmpty() && model_->rowOf(keep) >= 0) {
    const QSignalBlocker block(this);  // the same service: no need to reload it
    selectService(keep);
  }
  selected_ = model_->rowOf(keep) >= 0 ? keep : QString();
}

bool ExplorerPanel::selectService(const QString& name) {
  const int row = model_->rowOf(name);
  if (row < 0) return false;
  QModelIndex index = proxy_->mapFromSource(model_->index(row, ServiceTableModel::kName));
  if (!index.isValid()) {  // filtered out: clear the filters so the selection is visible
    filter_->clear();
    severity_->setCurrentIndex(0);
    index = proxy_->mapFromSource(model_->index(row, ServiceTableModel::kName));
  }
  table_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  table_->scrollTo(index);
  return true;
}

QString ExplorerPanel::selectedService() const { return selected_; }

}  // namespace stacklens::ui
