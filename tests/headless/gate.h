#pragma once
// A gate threads wait at until it opens (or a time-out passes, so a failing test does not hang).

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace stacklens::test {

class Gate {
 public:
  bool waitOpen(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return opened_.wait_for(lock, limit, [&] { return open_; });
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

}  // namespace stacklens::test
