#include "stacklens/ui/tuning/engine_runner.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QtConcurrent/QtConcurrentRun>
#include <chrono>

namespace stacklens::ui {

EngineRunner::EngineRunner(QObject* parent) : QObject(parent) {
  connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, &EngineRunner::finished);
}

EngineRunner::~EngineRunner() {
  cancel();
  watcher_.waitForFinished();
}

int EngineRunner::submit(Job job) {
  auto run = std::make_unique<Run>();
  run->generation = ++latest_;
  run->job = std::move(job);
  if (pending_) emit dropped(pending_->generation);
  pending_ = std::move(run);
  if (running_) {
    running_->cancelled->store(true);  // it will finish early; finished() then starts the pending one
  } else {
    startNext();
  }
  return latest_;
}

void EngineRunner::cancel() {
  if (pending_) {
    emit dropped(pending_->generation);
    pending_.reset();
  }
  if (running_) running_->cancelled->store(true);
}

void EngineRunner::waitForIdle() {
  while (running_ || pending_) {
    watcher_.waitForFinished();
    QCoreApplication::sendPostedEvents(&watcher_);
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
  }
}

void EngineRunner::startNext() {
  if (!pending_) return;
  running_ = std::move(pending_);
  ++runsStarted_;
  emit started(running_->generation);
  Job job = running_->job;
  std::shared_ptr<CancelFlag> flag = running_->cancelled;
  watcher_.setFuture(QtConcurrent::run([job = std::move(job), flag]() -> Outcome {
    Outcome out;
    const auto begin = std::chrono::steady_clock::now();
    try {
      out.results = job(*flag);
    } catch (const std::exception& e) {
      out.error = QString::fromStdString(e.what());
    }
    out.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    return out;
  }));
}

void EngineRunner::finished() {
  if (!running_) return;
  const std::unique_ptr<Run> run = std::move(running_);
  Outcome outcome = watcher_.result();
  if (run->cancelled->load() || run->generation != latest_) {
    emit dropped(run->generation);
  } else if (!outcome.error.isEmpty()) {
    emit failed(run->generation, outcome.error);
  } else {
    result_ = std::move(outcome.results);
    resultGeneration_ = run->generation;
    resultMs_ = outcome.milliseconds;
    emit resultReady(run->generation);
  }
  startNext();
  if (!running_) emit idle();
}

}  // namespace stacklens::ui
