#pragma once
// The second stage of the service loop: makes batches' outputs durable and commits their offsets,
// one after another on a thread of its own, while the consumer thread collects and handles the
// next batches. Up to `maxInFlight` batches wait or run: a batch whose writes take long (the
// model versions of a wave of refits) does not stop the batches behind it from being scored
// meanwhile. Batches finish (and commit) in the order they were handed over, and memory stays
// bounded to that many batches. After a job fails, no later job runs: its offsets must not be
// committed past the failed one.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace stacklens::headless::service {

class DurabilityStage {
 public:
  /// Makes a batch durable and commits it; false (or an exception) when it could not.
  using Job = std::function<bool()>;

  /// maxInFlight ≥ 1: batches handed over and not yet finished, at most.
  explicit DurabilityStage(std::size_t maxInFlight = 1);
  /// Waits for the jobs in flight, then ends the thread.
  ~DurabilityStage();
  DurabilityStage(const DurabilityStage&) = delete;
  DurabilityStage& operator=(const DurabilityStage&) = delete;

  /// Waits until fewer than maxInFlight jobs are in flight, then queues `job` behind them.
  /// Returns false without queueing it when an earlier job failed.
  bool submit(Job job);

  /// Waits until no job is in flight. False when a job has failed.
  bool wait();

  /// A job has failed (does not wait).
  bool failed() const;

 private:
  void run();

  const std::size_t maxInFlight_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;  // the front one runs; the rest wait in order
  bool failed_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace stacklens::headless::service
