#include "stacklens/ui/tuning/tuning_controller.h"

#include "stacklens/ui/metric_view/metric_view_model.h"
#include "stacklens/ui/tuning/engine_runner.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_model.h"

namespace stacklens::ui {

TuningController::TuningController(TuningModel* tuning, MetricViewModel* view, QObject* parent)
    : QObject(parent), tuning_(tuning), view_(view), runner_(new EngineRunner(this)) {
  // A new service and a settings change in the same event-loop turn make one run, not two.
  coalesce_.setSingleShot(true);
  coalesce_.setInterval(0);
  connect(&coalesce_, &QTimer::timeout, this, &TuningController::submit);
  connect(tuning_, &TuningModel::configChanged, this, &TuningController::rerun);
  connect(view_, &MetricViewModel::serviceChanged, this, &TuningController::rerun);
  connect(view_, &MetricViewModel::metricsChanged, this, &TuningController::rerun);
  connect(runner_, &EngineRunner::resultReady, this, [this](int generation) {
    const auto cache = caches_.find(generation);
    if (cache != caches_.end()) cache_ = cache->second;
    caches_.erase(caches_.begin(), caches_.upper_bound(generation));
    const auto shown = view_->service();
    if (!shown || shown != submittedFor_) return;  // the user moved on; a newer run is coming
    ServiceResults results = runner_->result();
    const QString note = QString::fromStdString(results.note);
    view_->setResults(std::move(results));
    emit resultsApplied(QString::fromStdString(shown->name), runner_->resultMilliseconds(), note);
  });
  connect(runner_, &EngineRunner::failed, this, [this](int, const QString& message) {
    emit runFailed(submittedFor_ ? QString::fromStdString(submittedFor_->name) : QString(), message);
  });
}

void TuningController::rerun() { coalesce_.start(); }

void TuningController::refit() {
  cache_.reset();
  rerun();
}

void TuningController::submit() {
  std::shared_ptr<const ServiceData> data = view_->service();
  if (!data) {
    runner_->cancel();
    return;
  }
  submittedFor_ = data;
  const TuningConfig config = tuning_->config();
  TuningRequest request;
  for (const QString& metric : view_->metrics()) request.forecastMetrics.push_back(metric.toStdString());
  request.previous = cache_;
  request.next = std::make_shared<TuningCache>();
  request.next->data = data;
  emit runStarted(QString::fromStdString(data->name));
  const int generation = runner_->submit([data, config, request](const CancelFlag& cancelled) {
    return runTuning(
        *data, config, [&cancelled] { return cancelled.load(); }, request);
  });
  caches_[generation] = request.next;
}

}  // namespace stacklens::ui
