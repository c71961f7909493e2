#pragma once
// Glue between the tuning settings, the engine and the charts: when a setting changes, another
// service is shown or other metrics are picked, the engine re-runs in the background
// (EngineRunner, latest wins) on the shown service - detection and the forecasts of the shown
// metrics - and the results go into the metric view's model, which redraws the charts. What a run
// fitted is kept for the next (TuningCache, see tuning_job.h) until refit() is asked for.

#include <map>
#include <memory>

#include <QObject>
#include <QTimer>

#include "stacklens/ui/tuning/tuning_job.h"
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
  /// Forgets the fitted models and detection results (a new order search) and re-runs.
  void refit();

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
  std::shared_ptr<const TuningCache> cache_;            ///< what the last applied run left
  std::map<int, std::shared_ptr<TuningCache>> caches_;  ///< what runs in flight will leave, by generation
};

}  // namespace stacklens::ui
