#include "ml_service/lane_pool.h"

#include <algorithm>

namespace stacklens::headless::ml_service {

LanePool::LanePool(int lanes) {
  if (lanes <= 0) lanes = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  errors_.resize(static_cast<std::size_t>(lanes));
  threads_.reserve(static_cast<std::size_t>(lanes - 1));
  for (int lane = 1; lane < lanes; ++lane) threads_.emplace_back([this, lane] { loop(lane); });
}

LanePool::~LanePool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void LanePool::run(const std::function<void(int)>& job) {
  std::fill(errors_.begin(), errors_.end(), nullptr);
  if (!threads_.empty()) {
    {
      const std::lock_guard lock(mutex_);
      job_ = &job;
      running_ = static_cast<int>(threads_.size());
      ++generation_;
    }
    start_.notify_all();
  }
  try {
    job(0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  if (!threads_.empty()) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return running_ == 0; });
    job_ = nullptr;
  }
  for (const std::exception_ptr& error : errors_)
    if (error) std::rethrow_exception(error);
}

void LanePool::loop(int lane) {
  unsigned long seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::function<void(int)>& job = *job_;
    lock.unlock();
    try {
      job(lane);
    } catch (...) {
      errors_[static_cast<std::size_t>(lane)] = std::current_exception();
    }
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace stacklens::headless::ml_service
