#include "ml_service/refit_worker.h"

#include <algorithm>

namespace stacklens::headless::ml_service {

RefitWorker::RefitWorker(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

RefitWorker::~RefitWorker() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

core::pipeline::Executor RefitWorker::executor() {
  return [this](std::function<void()> task) {
    {
      const std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  };
}

std::size_t RefitWorker::backlog() const {
  const std::lock_guard lock(mutex_);
  return tasks_.size() + running_;
}

void RefitWorker::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    lock.unlock();
    task();  // the pipeline's refit tasks catch their own exceptions
    lock.lock();
    --running_;
  }
}

}  // namespace stacklens::headless::ml_service
