#pragma once
// Runs one job per lane, all lanes at once, and waits for them: ml-service shards its services
// over lanes so that a batch is scored on several cores while each service's samples stay in
// order on its lane. Lane 0 runs on the calling thread, the others on threads kept for the pool's
// life (a batch takes milliseconds; starting threads for each would cost a noticeable share).

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stacklens::headless::ml_service {

class LanePool {
 public:
  /// `lanes` ≤ 0: one per CPU core.
  explicit LanePool(int lanes);
  ~LanePool();
  LanePool(const LanePool&) = delete;
  LanePool& operator=(const LanePool&) = delete;

  int lanes() const { return static_cast<int>(threads_.size()) + 1; }

  /// Calls job(lane) for every lane in [0, lanes()) at once and returns when all have returned.
  /// If jobs throw, the exception of the lowest lane is rethrown after all have finished.
  void run(const std::function<void(int lane)>& job);

 private:
  void loop(int lane);

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int)>* job_ = nullptr;
  unsigned long generation_ = 0;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
};

}  // namespace stacklens::headless::ml_service
