#include "stacklens/ui/backtest/backtest_runner.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>
#include <chrono>

namespace stacklens::ui {

BacktestRunner::BacktestRunner(QObject* parent) : QObject(parent) {
  connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, [this] {
    Outcome outcome = watcher_.result();
    if (!outcome.error.isEmpty()) return emit failed(outcome.error);
    result_ = std::move(outcome.result);
    seconds_ = outcome.seconds;
    emit finished();
  });
}

BacktestRunner::~BacktestRunner() {
  cancel();
  watcher_.waitForFinished();
}

bool BacktestRunner::start(std::vector<core::backtest::ServiceHistory> services, core::backtest::BacktestConfig config) {
  if (watcher_.isRunning()) return false;
  cancelled_ = std::make_shared<std::atomic<bool>>(false);
  auto flag = cancelled_;
  QPointer<BacktestRunner> self(this);
  watcher_.setFuture(QtConcurrent::run([services = std::move(services), config, flag, self]() -> Outcome {
    Outcome out;
    const auto begin = std::chrono::steady_clock::now();
    core::backtest::BacktestCallbacks callbacks;
    callbacks.cancelled = [flag] { return flag->load(); };
    callbacks.progress = [self](double fraction) {
      // Queued to the GUI thread (the runner outlives the run: its destructor waits for it).
      QMetaObject::invokeMethod(
          self.data(), [self, fraction] { emit self->progress(fraction); }, Qt::QueuedConnection);
    };
    try {
      out.result = core::backtest::runBacktest(services, config, callbacks);
    } catch (const std::exception& e) {
      out.error = QString::fromStdString(e.what());
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return out;
  }));
  return true;
}

void BacktestRunner::cancel() {
  if (cancelled_) cancelled_->store(true);
}

void BacktestRunner::waitForFinished() {
  watcher_.waitForFinished();
  QCoreApplication::sendPostedEvents(&watcher_);
  QCoreApplication::sendPostedEvents(this);
}

}  // namespace stacklens::ui
