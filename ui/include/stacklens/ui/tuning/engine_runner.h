#pragma once
// Runs the engine in the background for the tuning panel, latest request wins: a new request
// cancels the run in progress (its flag is set; the engine checks it between steps) and replaces
// any request still waiting, so a burst of setting changes costs at most one extra run. Results of
// stale runs are dropped. One run at a time: the engine's own loops use the cores.

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <atomic>
#include <functional>
#include <memory>

#include "stacklens/ui/metric_view/metric_view_model.h"

namespace stacklens::ui {

/// Set when a run's result is no longer wanted; the job should return early.
using CancelFlag = std::atomic<bool>;

class EngineRunner : public QObject {
  Q_OBJECT
 public:
  /// The work: pure engine code on copies of the data; throws std::exception on failure.
  using Job = std::function<ServiceResults(const CancelFlag& cancelled)>;

  explicit EngineRunner(QObject* parent = nullptr);
  ~EngineRunner() override;

  /// Queues `job` as the latest request and returns its generation (1, 2, ...).
  int submit(Job job);
  /// Drops the waiting request and cancels the running one.
  void cancel();
  bool busy() const { return running_ != nullptr; }
  /// Blocks until idle (tests, shutdown).
  void waitForIdle();

  int latestGeneration() const { return latest_; }
  /// The result of the newest finished, non-stale run, and how long it took.
  const ServiceResults& result() const { return result_; }
  int resultGeneration() const { return resultGeneration_; }
  double resultMilliseconds() const { return resultMs_; }
  int runsStarted() const { return runsStarted_; }

 signals:
  void started(int generation);
  void resultReady(int generation);
  void failed(int generation, const QString& message);
  /// A run or waiting request was superseded or cancelled.
  void dropped(int generation);
  void idle();

 private:
  struct Run {
    int generation = 0;
    Job job;
    std::shared_ptr<CancelFlag> cancelled = std::make_shared<CancelFlag>(false);
  };
  struct Outcome {
    ServiceResults results;
    QString error;
    double milliseconds = 0;
  };
  void startNext();
  void finished();

  std::unique_ptr<Run> running_;
  std::unique_ptr<Run> pending_;
  QFutureWatcher<Outcome> watcher_;
  int latest_ = 0;
  ServiceResults result_;
  int resultGeneration_ = 0;
  double resultMs_ = 0;
  int runsStarted_ = 0;
};

}  // namespace stacklens::ui
