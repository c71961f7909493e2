#pragma once
// Exponential backoff for the service loop's retries (database writes, deliveries, commits):
// initial, doubled per attempt up to max; reset after a success.

#include <algorithm>
#include <chrono>

namespace stacklens::headless::service {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  explicit Backoff(Duration initial = Duration(100), Duration max = Duration(5000)) : initial_(initial), max_(max) {}

  /// The delay before the next attempt.
  Duration next() {
    const Duration delay = current_ == Duration::zero() ? initial_ : std::min(max_, current_ * 2);
    current_ = delay;
    return delay;
  }
  void reset() { current_ = Duration::zero(); }

 private:
  Duration initial_;
  Duration max_;
  Duration current_{0};
};

}  // namespace stacklens::headless::service
