#pragma once
// The second stage of the service loop: makes one batch's outputs durable and commits its
// offsets on a thread of its own, while the consumer thread collects and handles the next batch.
// At most one batch is in flight: submit() waits for the previous one, so batches finish (and
// commit) in the order they were handed over and memory stays bounded to two batches.
// After a job fails, no later job runs: its offsets must not be committed past the failed one.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace stacklens::headless::service {

class DurabilityStage {
 public:
  /// Makes a batch durable and commits it; false (or an exception) when it could not.
  using Job = std::function<bool()>;

  DurabilityStage();
  /// Waits for the job in flight, then ends the thread.
  ~DurabilityStage();
  DurabilityStage(const DurabilityStage&) = delete;
  DurabilityStage& operator=(const DurabilityStage&) = delete;

  /// Waits until the job in flight has finished, then starts `job`. Returns false without
  /// starting it when an earlier job failed.
  bool submit(Job job);

  /// Waits until no job is in flight. False when a job has failed.
  bool wait();

  /// A job has failed (does not wait).
  bool failed() const;

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Job> job_;
  bool failed_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace stacklens::headless::service
