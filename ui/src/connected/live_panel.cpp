#include "stacklens/ui/connected/live_panel.h"

#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

namespace stacklens::ui {

namespace {

constexpr int kWindowSeconds = 300;  // the chart's span

}  // namespace

void fitRowsToOneLine(QTableView* table) {
  table->verticalHeader()->hide();
  table->setWordWrap(false);
  table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
  table->horizontalHeader()->setStretchLastSection(true);
}

void LiveRates::add(const QString& topic, qint64 second) {
  auto& buckets = buckets_[topic];
  ++totals_[topic];
  // Messages arrive roughly in time order; a late one joins its bucket when it is still kept.
  if (!buckets.empty() && buckets.back().first == second) {
    ++buckets.back().second;
  } else if (buckets.empty() || buckets.back().first < second) {
    buckets.emplace_back(second, 1);
  } else {
    auto it = std::lower_bound(buckets.begin(), buckets.end(), std::make_pair(second, 0));
    if (it != buckets.end() && it->first == second)
      ++it->second;
    else
      buckets.insert(it, {second, 1});
  }
  while (!buckets.empty() && buckets.front().first <= buckets.back().first - window_) buckets.pop_front();
}

std::vector<std::pair<qint64, int>> LiveRates::series(const QString& topic, qint64 now) const {
  std::vector<std::pair<qint64, int>> out;
  const auto it = buckets_.find(topic);
  if (it == buckets_.end()) return out;
  for (const auto& bucket : it->second)
    if (bucket.first > now - window_ && bucket.first <= now) out.push_back(bucket);
  return out;
}

qint64 LiveRates::total(const QString& topic) const {
  const auto it = totals_.find(topic);
  return it == totals_.end() ? 0 : it->second;
}

QStringList LiveRates::topics() const {
  QStringList out;
  for (const auto& [topic, buckets] : buckets_) out << topic;
  return out;
}

LiveMessageModel::LiveMessageModel(int capacity, QObject* parent) : QAbstractTableModel(parent), capacity_(capacity) {}

void LiveMessageModel::add(const QList<TailMessage>& batch) {
  if (batch.isEmpty()) return;
  beginResetModel();  // a batch at a time: cheaper than row-wise inserts at 25 Hz
  for (const TailMessage& m : batch) rows_.push_front(m);
  while (static_cast<int>(rows_.size()) > capacity_) rows_.pop_back();
  endResetModel();
}

int LiveMessageModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int LiveMessageModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant LiveMessageModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || role != Qt::DisplayRole) return {};
  const TailMessage& m = rows_[index.row()];
  switch (index.column()) {
    case kTime: return m.time.toString(QStringLiteral("HH:mm:ss.zzz"));
    case kTopic: return m.topic;
    case kKey: return m.key;
    case kValue: return QString::fromUtf8(m.value.left(300));
    default: return {};
  }
}

QVariant LiveMessageModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  static const char* const kNames[] = {"time", "topic", "key", "message"};
  return section < kColumnCount ? QString::fromLatin1(kNames[section]) : QVariant();
}

LivePanel::LivePanel(QWidget* parent)
    : QWidget(parent), tail_(new LiveTail(this)), model_(new LiveMessageModel(2000, this)), rates_(kWindowSeconds) {
  setObjectName("livePanel");
  table_ = new QTableView;
  table_->setModel(model_);
  fitRowsToOneLine(table_);
  table_->setColumnWidth(LiveMessageModel::kTime, 100);
  table_->setColumnWidth(LiveMessageModel::kTopic, 170);
  chart_ = new QChart;
  chart_->setTitle(tr("Messages per second"));
  x_ = new QValueAxis;
  x_->setTitleText(tr("seconds ago"));
  x_->setRange(-kWindowSeconds, 0);
  y_ = new QValueAxis;
  y_->setRange(0, 1);
  chart_->addAxis(x_, Qt::AlignBottom);
  chart_->addAxis(y_, Qt::AlignLeft);
  chartView_ = new QChartView(chart_);
  chartView_->setMinimumHeight(160);
  status_ = new QLabel(tr("Not tailing"));
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(chartView_);
  split->addWidget(table_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split, 1);
  layout->addWidget(status_);
  connect(tail_, &LiveTail::messagesArrived, this, &LivePanel::onMessages);
  connect(tail_, &LiveTail::failed, status_, &QLabel::setText);
  auto* redrawTimer = new QTimer(this);
  redrawTimer->setInterval(40);
  connect(redrawTimer, &QTimer::timeout, this, [this] {
    if (dirty_) redraw();
  });
  redrawTimer->start();
}

QLineSeries* LivePanel::series(const QString& topic) const {
  const auto it = series_.find(topic);
  return it == series_.end() ? nullptr : it->second;
}

void LivePanel::onMessages(const QList<TailMessage>& batch) {
  for (const TailMessage& m : batch) rates_.add(m.topic, m.time.toSecsSinceEpoch());
  model_->add(batch);
  dirty_ = true;
}

void LivePanel::redraw() {
  dirty_ = false;
  const qint64 now = QDateTime::currentSecsSinceEpoch();
  int top = 1;
  QStringList totals;
  for (const QString& topic : rates_.topics()) {
    QLineSeries*& s = series_[topic];
    if (!s) {
      s = new QLineSeries;
      s->setName(topic);
      chart_->addSeries(s);
      s->attachAxis(x_);
      s->attachAxis(y_);
    }
    // Every second of the window, quiet ones as 0: a line between two busy seconds must not
    // suggest a rate in between. Built whole and replaced: never append to a shown series.
    const auto busy = rates_.series(topic, now);
    QList<QPointF> points;
    points.reserve(kWindowSeconds + 1);
    auto next = busy.begin();
    for (qint64 second = now - kWindowSeconds + 1; second <= now; ++second) {
      int count = 0;
      if (next != busy.end() && next->first == second) count = (next++)->second;
      points << QPointF(double(second - now), count);
      top = std::max(top, count);
    }
    s->replace(points);
    totals << QStringLiteral("%1: %2").arg(topic).arg(rates_.total(topic));
  }
  y_->setRange(0, top * 1.1);
  status_->setText(tr("Tailing %1 partitions · %2").arg(tail_->assignedPartitions()).arg(totals.join(" · ")));
}

}  // namespace stacklens::ui
