#include "service/durability_stage.h"

#include <spdlog/spdlog.h>

namespace stacklens::headless::service {

DurabilityStage::DurabilityStage() : thread_([this] { run(); }) {}

DurabilityStage::~DurabilityStage() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !job_; });
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool DurabilityStage::submit(Job job) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !job_; });
  if (failed_) return false;
  job_ = std::move(job);
  lock.unlock();
  changed_.notify_all();
  return true;
}

bool DurabilityStage::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !job_; });
  return !failed_;
}

bool DurabilityStage::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void DurabilityStage::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return job_ || quit_; });
    if (!job_) return;  // quit with nothing in flight
    Job& job = *job_;
    lock.unlock();
    bool ok = false;
    try {
      ok = job();
    } catch (const std::exception& e) {
      spdlog::error("making a batch durable failed: {}", e.what());
    }
    lock.lock();
    if (!ok) failed_ = true;
    job_.reset();  // the job's captures (the batch and its outputs) are freed before the next one
    changed_.notify_all();
  }
}

}  // namespace stacklens::headless::service
