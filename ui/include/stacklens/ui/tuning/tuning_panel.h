#pragma once
// The tuning panel: every detection setting of the ML pipeline (training, isolation forest,
// DBSCAN, trend and change points, consensus and severity cut-offs) and every forecasting setting
// (order or auto, horizon, interval level, thresholds and capacity limits per metric). Each edit
// goes to the TuningModel as an undoable step; the panel shows the model's settings back.

#include <QWidget>
#include <functional>
#include <vector>

#include "stacklens/ui/tuning/tuning_config.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace stacklens::ui {

class TuningModel;

class TuningPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TuningPanel(TuningModel* model, QWidget* parent = nullptr);

  /// The metrics offered for thresholds and capacity limits (the shown service's).
  void setMetrics(const QStringList& metrics);
  /// A status line under the settings (the last run's time and counts).
  void setStatus(const QString& text);
  /// The editor of a setting by its object name (tests drive the widgets by name).
  QWidget* editor(const QString& objectName) const;

 signals:
  /// "Fit again": the user wants the forecast models fitted anew (a new order search).
  void refitRequested();

 private:
  struct Binding {
    QWidget* widget;
    std::function<void(const TuningConfig&)> load;
    std::function<void(TuningConfig&)> store;
  };
  QSpinBox* intEditor(const QString& name, int min, int max, const QString& special = {});
  QDoubleSpinBox* doubleEditor(const QString& name, double min, double max, double step, int decimals,
                               const QString& special = {});
  QComboBox* choiceEditor(const QString& name, const QStringList& items);
  QCheckBox* checkEditor(const QString& name, const QString& text);
  void bind(QWidget* widget, std::function<void(const TuningConfig&)> load, std::function<void(TuningConfig&)> store);
  void edited(int field);
  void showConfig();
  QString limitMetric() const;

  TuningModel* model_;
  std::vector<Binding> bindings_;
  QComboBox* limitMetric_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace stacklens::ui
