#pragma once
// Portable random numbers: the generator below is fully specified here, and the helpers avoid
// the implementation-defined distributions, so a seed gives the same model everywhere.

#include <bit>
#include <cstdint>

namespace stacklens::core::detect::internal {

/// SplitMix64: derives independent seeds (per tree, per worker) from one user seed.
inline std::uint64_t splitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

__extension__ typedef unsigned __int128 UInt128;

/// xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators", 2021),
/// its state filled by SplitMix64 as the authors advise. A forest seeds one generator per tree
/// (so a tree does not depend on which thread builds it) and draws a few hundred numbers from
/// it: std::mt19937_64's 2.5 KB state cost more to seed and refill than the draws themselves
/// (14 % of a refit of ml-service's model set).
class Random {
 public:
  explicit Random(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (std::uint64_t& word : state_) word = splitMix64(x += 0x9E3779B97F4A7C15ULL);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, bound), bound ≥ 1 (Lemire's multiply-shift; bias < 2^-40 for our sizes).
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<UInt128>(next()) * bound) >> 64);
  }

 private:
  std::uint64_t next() {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }
  std::uint64_t state_[4];
};

}  // namespace stacklens::core::detect::internal
