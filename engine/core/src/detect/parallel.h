#pragma once
// Splitting a range of work over std::threads. Deterministic callers give each index its own
// seed, so results never depend on the number of threads.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace stacklens::core::detect::internal {

inline int resolveThreads(int requested) {
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

/// Calls body(begin, end) on contiguous chunks of [0, count) from up to `threads` threads.
template <typename Body>
void parallelChunks(std::size_t count, int threads, std::size_t minChunk, Body body) {
  const std::size_t maxWorkers = std::max<std::size_t>(1, count / std::max<std::size_t>(1, minChunk));
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(resolveThreads(threads)), maxWorkers);
  if (workers <= 1) {
    body(std::size_t{0}, count);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  const std::size_t chunk = (count + workers - 1) / workers;
  for (std::size_t w = 0; w < workers; ++w) {
    const std::size_t begin = w * chunk, end = std::min(count, begin + chunk);
    if (begin >= end) break;
    pool.emplace_back([&, w, begin, end] {
      try {
        body(begin, end);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace stacklens::core::detect::internal
