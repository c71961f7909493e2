#pragma once
// Shadow mode in the workbench: feeds the live tail's analytics-alerts and ml-anomalies messages
// into ShadowMode (the local engine with the settings being tuned) and lists where it and
// production disagree.

#include <QAbstractTableModel>
#include <QWidget>
#include <functional>
#include <memory>

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

  const ShadowMode* shadow() const { return shadow_.get(); }
  ShadowTableModel* model() const { return model_; }

 private:
  std::function<core::pipeline::MlPipelineConfig()> settings_;
  std::unique_ptr<ShadowMode> shadow_;
  QString inputTopic_ = QStringLiteral("analytics-alerts");
  QString anomaliesTopic_ = QStringLiteral("ml-anomalies");
  ShadowTableModel* model_;
  QTableView* table_;
  QPushButton* toggle_;
  QLabel* status_;
  int badMessages_ = 0;
};

}  // namespace stacklens::ui
