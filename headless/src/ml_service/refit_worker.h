#pragma once
// A worker thread that runs the ML pipeline's refits (core::pipeline::Executor), so that the
// consumer thread only scores. Tasks run in submission order; the destructor finishes the queued
// ones and joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "stacklens/core/pipeline/ml_pipeline.h"

namespace stacklens::headless::ml_service {

class RefitWorker {
 public:
  RefitWorker();
  ~RefitWorker();
  RefitWorker(const RefitWorker&) = delete;
  RefitWorker& operator=(const RefitWorker&) = delete;

  /// Submits to this worker; valid while the worker lives.
  core::pipeline::Executor executor();

  /// Tasks queued or running.
  std::size_t backlog() const;

 private:
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace stacklens::headless::ml_service
