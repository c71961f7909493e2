#pragma once
// Portable random numbers: std::mt19937_64 is fully specified by the standard, and the helpers
// below avoid the implementation-defined distributions, so a seed gives the same model everywhere.

#include <cstdint>
#include <random>

namespace stacklens::core::detect::internal {

/// SplitMix64: derives independent seeds (per tree, per worker) from one user seed.
inline std::uint64_t splitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

__extension__ typedef unsigned __int128 UInt128;

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(splitMix64(seed)) {}
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, bound), bound ≥ 1 (Lemire's multiply-shift; bias < 2^-40 for our sizes).
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<UInt128>(engine_()) * bound) >> 64);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace stacklens::core::detect::internal
