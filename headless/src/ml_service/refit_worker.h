#pragma once
// Worker threads that run the ML pipeline's refits (core::pipeline::Executor), so that the
// consumer thread only scores. Tasks start in submission order on the first free thread; each
// refit owns its snapshot and result, so refits of different services may run side by side. The
// destructor finishes the queued tasks and joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "stacklens/core/pipeline/ml_pipeline.h"

namespace stacklens::headless::ml_service {

class RefitWorker {
 public:
  /// `threads` ≤ 0: one per CPU core.
  explicit RefitWorker(int threads = 1);
  ~RefitWorker();
  RefitWorker(const RefitWorker&) = delete;
  RefitWorker& operator=(const RefitWorker&) = delete;

  /// Submits to this worker; valid while the worker lives.
  core::pipeline::Executor executor();

  /// Tasks queued or running.
  std::size_t backlog() const;

  /// Threads running tasks.
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stacklens::headless::ml_service
