#include "service/durability_stage.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace stacklens::headless::service {

DurabilityStage::DurabilityStage(std::size_t maxInFlight)
    : maxInFlight_(std::max<std::size_t>(1, maxInFlight)), thread_([this] { run(); }) {}

DurabilityStage::~DurabilityStage() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return jobs_.empty(); });
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool DurabilityStage::submit(Job job) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failed_ || jobs_.size() < maxInFlight_; });
  if (failed_) return false;
  jobs_.push_back(std::move(job));
  lock.unlock();
  changed_.notify_all();
  return true;
}

bool DurabilityStage::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return jobs_.empty(); });
  return !failed_;
}

bool DurabilityStage::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void DurabilityStage::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !jobs_.empty() || quit_; });
    if (jobs_.empty()) return;  // quit with nothing in flight
    Job& job = jobs_.front();   // stays in place (a deque keeps references) while it runs
    lock.unlock();
    bool ok = false;
    try {
      ok = job();
    } catch (const std::exception& e) {
      spdlog::error("making a batch durable failed: {}", e.what());
    }
    lock.lock();
    jobs_.pop_front();  // the job's captures (the batch and its outputs) are freed before the next one
    if (!ok) {
      failed_ = true;
      jobs_.clear();  // later batches are not committed past this one
    }
    changed_.notify_all();
  }
}

}  // namespace stacklens::headless::service
