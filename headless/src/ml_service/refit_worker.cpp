#include "ml_service/refit_worker.h"

namespace stacklens::headless::ml_service {

RefitWorker::RefitWorker() : thread_([this] { loop(); }) {}

RefitWorker::~RefitWorker() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
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
