#pragma once
// Shadow mode in the workbench: feeds the live tail's analytics-alerts and ml-anomalies messages
// into ShadowMode (the local engine with the settings being tuned) and lists where it and
// production disagree.

#include <QAbstractTableModel>
#include <QWidget>
#include <functional>
#include <memory>
#include <set>

#include "stacklens/ui/connected/live_tail.h"
#include "stacklens/ui/connected/shadow_mode.h"

class QLabel;
class QPushButton;
class QTableView;

namespace stacklens::ui {

class ShadowTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kService, kTime, kVerdict, kLocal, kProduction, kColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setRows(std::vector<ShadowRow> rows);
  const std::vector<ShadowRow>& rows() const { return rows_; }
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ShadowRow> rows_;
};

class ShadowPanel : public QWidget {
  Q_OBJECT
 public:
  /// `settings` gives the detection settings to shadow (the tuning panel's) when shadowing starts.
  explicit ShadowPanel(std::function<core::pipeline::MlPipelineConfig()> settings, QWidget* parent = nullptr);

  /// Starts (afresh) or stops shadowing. The input and anomaly topics are production's by default.
  void setActive(bool active);
  bool isActive() const { return shadow_ != nullptr; }
  void setTopics(const QString& inputTopic, const QString& anomaliesTopic);
  /// Routes tailed messages (connect LiveTail::messagesArrived here).
  void onMessages(const QList<TailMessage>& batch);

  /// A service's history before `end` (analytics_metrics_1hour, see shadow_history.h): with it,
  /// the local engine trains on a service's first message as ml-service does; without it (or
  /// when it fails) the engine warms up from the stream.
  using HistoryLoader = std::function<std::vector<core::ServiceMetrics>(const std::string& service, core::EpochSeconds end)>;
  void setHistoryLoader(HistoryLoader loader) { history_ = std::move(loader); }

  const ShadowMode* shadow() const { return shadow_.get(); }
  ShadowTableModel* model() const { return model_; }

 private:
  void train(const core::ServiceMetrics& first);

  std::function<core::pipeline::MlPipelineConfig()> settings_;
  HistoryLoader history_;
  std::unique_ptr<ShadowMode> shadow_;
  std::set<std::string> seen_;  // services met since shadowing started
  QString inputTopic_ = QStringLiteral("analytics-alerts");
  QString anomaliesTopic_ = QStringLiteral("ml-anomalies");
  ShadowTableModel* model_;
  QTableView* table_;
  QPushButton* toggle_;
  QLabel* status_;
  int badMessages_ = 0;
  QString historyError_;
};

}  // namespace stacklens::ui
