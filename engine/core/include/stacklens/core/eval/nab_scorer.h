#pragma once
// Numenta Anomaly Benchmark scoring, as ../shared/data/README.md defines it:
//   - a row is a detection when its anomaly_score ≥ θ; the first P = min(⌊0.15·N⌋, 750) rows of
//     a file (probation) are never scored;
//   - scaled sigmoid σ(y) = 2/(1 + e^{5y}) − 1, and −1 for y > 3;
//   - in a window [L, R] of width W = R − L + 1, a detection at row i is worth
//     tp · σ(−(R − i + 1)/W) / σ(−1); only the best detection of a window counts; a window with
//     none costs −fn;
//   - outside windows, before any window has ended a detection costs −fp; after a window
//     (right end Rp, width Wp) it is worth fp · σ(|i − Rp| / (Wp − 1));
//   - θ is one threshold for the whole corpus, the one maximising the summed raw score over every
//     distinct score value; normalised = 100 · (raw − null) / (perfect − null) with
//     null = −fn · windows and perfect = tp · windows.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stacklens/core/timestamp.h"

namespace stacklens::core::eval {

struct NabProfile {
  std::string name;
  double tp = 1, fn = 1, fp = 0.11;
};

/// standard (1, 1, 0.11), reward_low_FP_rate (1, 1, 0.22), reward_low_FN_rate (1, 2, 0.11).
const std::array<NabProfile, 3>& nabProfiles();

/// A labelled window as row indices, inclusive.
struct NabWindow {
  std::size_t begin = 0, end = 0;
};

/// One file: a causal score per row and its windows (sorted, non-overlapping).
struct NabFile {
  std::string name;
  std::vector<double> scores;
  std::vector<NabWindow> windows;
};

double nabSigmoid(double y);
std::size_t nabProbation(std::size_t rows);

/// Rows whose timestamps fall in [start, end] (inclusive) for each window; a window that
/// matches no row is dropped. Timestamps ascending. O(rows + windows).
std::vector<NabWindow> windowsToRows(std::span<const EpochSeconds> timestamps,
                                     std::span<const std::pair<EpochSeconds, EpochSeconds>> windows);

/// One file at threshold θ.
struct NabFileScore {
  double raw = 0;
  int truePositives = 0;   ///< windows with a detection
  int falseNegatives = 0;  ///< windows without
  int falsePositives = 0;  ///< detections outside windows
};
NabFileScore scoreFile(const NabFile& file, double threshold, const NabProfile& profile);

struct NabResult {
  std::string profile;
  double threshold = 0;  ///< the best θ (+inf when no detection at all scores best)
  double raw = 0, null = 0, perfect = 0;
  double normalized = 0;  ///< the NAB score, 100 = perfect, 0 = null detector
  int windows = 0, truePositives = 0, falsePositives = 0;
};

/// Sweeps every distinct score (one threshold for the whole corpus) and returns the best.
/// O(S log S) for S scored rows: rows are visited once in descending score order while each
/// window keeps its best detection.
NabResult scoreCorpus(std::span<const NabFile> files, const NabProfile& profile);

}  // namespace stacklens::core::eval
