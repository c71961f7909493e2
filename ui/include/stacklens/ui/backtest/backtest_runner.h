#pragma once
// Runs core::backtest::runBacktest on a worker thread with progress and cancel, for the backtest
// panel and for "detect in all services". One run at a time; the engine parallelises inside.

#include <QFutureWatcher>
#include <QObject>
#include <atomic>
#include <memory>
#include <vector>

#include "stacklens/core/backtest/backtest.h"

namespace stacklens::ui {

class BacktestRunner : public QObject {
  Q_OBJECT
 public:
  explicit BacktestRunner(QObject* parent = nullptr);
  ~BacktestRunner() override;

  /// Starts a run; returns false (and does nothing) while another run is going.
  bool start(std::vector<core::backtest::ServiceHistory> services, core::backtest::BacktestConfig config);
  void cancel();
  bool running() const { return watcher_.isRunning(); }
  /// Blocks until the run has finished and its signal was delivered (tests).
  void waitForFinished();
  const core::backtest::BacktestResult& result() const { return result_; }
  double seconds() const { return seconds_; }

 signals:
  void progress(double fraction);
  /// The run ended (result().cancelled tells whether it was stopped early).
  void finished();
  void failed(const QString& message);

 private:
  struct Outcome {
    core::backtest::BacktestResult result;
    QString error;
    double seconds = 0;
  };
  QFutureWatcher<Outcome> watcher_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  core::backtest::BacktestResult result_;
  double seconds_ = 0;
};

}  // namespace stacklens::ui
