#pragma once
// The Live dock: the newest messages of the tailed topics (a bounded table) and a chart of each
// topic's messages per second over the last minutes, redrawn at most 25 times a second.

#include <QAbstractTableModel>
#include <QWidget>
#include <deque>
#include <map>

#include "stacklens/ui/connected/live_tail.h"

class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QTableView;
class QValueAxis;

namespace stacklens::ui {

/// Messages per second of each topic, in whole-second buckets, for the last `windowSeconds`.
class LiveRates {
 public:
  explicit LiveRates(int windowSeconds = 300) : window_(windowSeconds) {}
  void add(const QString& topic, qint64 epochSecond);
  /// (second, count) of `topic` within the window ending at `nowSecond`, oldest first.
  std::vector<std::pair<qint64, int>> series(const QString& topic, qint64 nowSecond) const;
  qint64 total(const QString& topic) const;
  QStringList topics() const;

 private:
  int window_;
  std::map<QString, std::deque<std::pair<qint64, int>>> buckets_;
  std::map<QString, qint64> totals_;
};

/// The newest messages, newest first, at most `capacity`.
class LiveMessageModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kTime, kTopic, kKey, kValue, kColumnCount };
  explicit LiveMessageModel(int capacity = 2000, QObject* parent = nullptr);
  void add(const QList<TailMessage>& batch);
  const TailMessage& message(int row) const { return rows_[row]; }
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  int capacity_;
  std::deque<TailMessage> rows_;
};

/// One line per row (no wrapping), no row numbers, the last column stretched: the look of the
/// Live and Shadow tables.
void fitRowsToOneLine(QTableView* table);

class LivePanel : public QWidget {
  Q_OBJECT
 public:
  explicit LivePanel(QWidget* parent = nullptr);

  LiveTail* tail() const { return tail_; }
  LiveMessageModel* model() const { return model_; }
  const LiveRates& rates() const { return rates_; }
  /// The chart's series of a topic (created on its first message), or nullptr.
  QLineSeries* series(const QString& topic) const;
  /// Redraws the chart now (normally on the 25 Hz timer when something arrived).
  void redraw();

 private:
  void onMessages(const QList<TailMessage>& batch);

  LiveTail* tail_;
  LiveMessageModel* model_;
  LiveRates rates_;
  QTableView* table_;
  QChart* chart_;
  QChartView* chartView_;
  QValueAxis* x_;
  QValueAxis* y_;
  QLabel* status_;
  std::map<QString, QLineSeries*> series_;
  bool dirty_ = false;
};

}  // namespace stacklens::ui
