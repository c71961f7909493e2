#pragma once
// Glue between the tuning settings, the engine and the charts: when a setting changes or another
// service is shown, the engine re-runs in the background (EngineRunner, latest wins) on the shown
// service and the results go into the metric view's model, which redraws the charts.

#include <QObject>
#include <QTimer>
#include <memory>

#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

class EngineRunner;
class MetricViewModel;
class TuningModel;

class TuningController : public QObject {
  Q_OBJECT
 public:
  TuningController(TuningModel* tuning, MetricViewModel* view, QObject* parent = nullptr);

  EngineRunner* runner() const { return runner_; }
  /// Re-runs on the shown service now (also what a settings change triggers, coalesced).
  void rerun();

 signals:
  void runStarted(const QString& service);
  /// The metric view's model has the new results.
  void resultsApplied(const QString& service, double milliseconds, const QString& note);
  void runFailed(const QString& service, const QString& message);

 private:
  void submit();

  TuningModel* tuning_;
  MetricViewModel* view_;
  EngineRunner* runner_;
  QTimer coalesce_;
  std::shared_ptr<const ServiceData> submittedFor_;
};

}  // namespace stacklens::ui
