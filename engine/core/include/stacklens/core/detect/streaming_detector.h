#pragma once
// A causal, self-calibrating anomaly score for streams: one metric or a feature vector per step.
//
// Per channel, a few statistics of the recent values are each standardised by their own past
// (exponentially weighted mean and mean absolute deviation), so the detector adapts to any
// scale, trend of scale and autocorrelation without configuration:
//   - level:     x_t                                   (a point far from the usual range)
//   - seasonal:  x_t − x_{t−p}, once a period p is found (a break in a daily or weekly pattern)
//   - mean(5), mean(20): the mean of the last 5 / 20 values (a sustained shift too small to
//                show in one point)
// The period p comes from the autocorrelation of the last `seasonBuffer` values, re-estimated
// every `seasonCheckEvery` steps.
// A statistic's surprise is −log10 of its two-sided normal tail probability; the step's surprise
// is the largest, less log10 of the number of tests (Bonferroni) over statistics and channels.
// Two post-processing steps make one threshold fit every series:
//   - calibration: the surprise in excess of `calibrationWeight` × the series' own running
//     `calibrationQuantile` of surprise (spiky series must surprise more than calm ones);
//   - suppression: a step scores only if it is more surprising than every step of the previous
//     `suppressionWindow` steps, so one event raises one alarm, not a burst.
// Finally score = 1 − exp(−surprise / scoreScale) ∈ [0,1).
// Measured on the NAB development corpus (../shared/data/nab-dev) with this default, one
// configuration for every file: see docs/BENCHMARKS.md.

#include <cstddef>
#include <deque>
#include <span>
#include <utility>
#include <vector>

namespace stacklens::core::detect {

/// One default serves every series; every field has a documented default.
struct StreamingDetectorConfig {
  double statisticAlpha = 0.001;     ///< memory of each statistic's mean and deviation (~1/α steps)
  int warmup = 50;                   ///< steps scored 0 while the statistics form
  int seasonBuffer = 2048;           ///< steps kept per channel for season detection (periods ≤ 1/3 of it)
  int seasonCheckEvery = 1024;       ///< steps between season re-estimations (the first is at 512)
  double seasonThreshold = 0.5;      ///< autocorrelation a period must reach
  int minPeriod = 4;                 ///< shortest period considered, steps
  double calibrationQuantile = 0.9;  ///< running quantile of the surprise, (0,1)
  double calibrationWeight = 0.5;    ///< share of that quantile subtracted, ≥ 0
  double calibrationAlpha = 0.001;   ///< step memory of the quantile tracker
  int suppressionWindow = 200;       ///< steps an alarm must out-surprise (0: no suppression)
  double scoreScale = 3.0;           ///< surprise (decades) giving score 1 − 1/e
};

struct StreamingScore {
  double score = 0;     ///< [0,1), causal
  double surprise = 0;  ///< calibrated surprise in decades, before suppression
  int channel = -1;     ///< the most surprising channel (−1 while warming up)
  double z = 0;         ///< that channel's standardised deviation (sign: above or below normal)
};

/// Feed values in time order; each update returns the score of that step using the past only.
/// A NaN value skips its channel for that step; an all-NaN step scores 0 and changes nothing.
/// Cost: O(channels) per step (about 0.1–0.3 µs per channel) plus, per channel every
/// seasonCheckEvery steps, one O(B log B) autocorrelation of B = seasonBuffer values.
class StreamingDetector {
 public:
  explicit StreamingDetector(std::size_t channels = 1, StreamingDetectorConfig config = {});

  StreamingScore update(std::span<const double> values);
  StreamingScore update(double value) { return update(std::span<const double>(&value, 1)); }

  std::size_t channels() const { return channels_.size(); }
  std::size_t samples() const { return samples_; }
  /// Current seasonal period of a channel in steps (0: none detected).
  int period(std::size_t channel) const { return channels_.at(channel).period; }
  const StreamingDetectorConfig& config() const { return config_; }

 private:
  /// A statistic standardised by its own history (EW mean and mean absolute deviation).
  struct Standardized {
    double mean = 0, deviation = 0;
    long count = 0;
    double zScore(double value, double floor) const;
    void add(double value, double alpha);
  };
  struct Channel {
    std::vector<double> ring;  // last seasonBuffer values
    std::size_t count = 0;
    double sum5 = 0, sum20 = 0, magnitude = 0;
    int period = 0;
    Standardized level, seasonal, mean5, mean20;
    double at(std::size_t back) const { return ring[(count - back) % ring.size()]; }
  };
  void detectSeason(Channel& c) const;

  StreamingDetectorConfig config_;
  std::vector<Channel> channels_;
  std::size_t samples_ = 0;
  std::size_t scored_ = 0;
  double quantile_ = 0, quantileStep_ = 0;  // running quantile of the surprise
  /// Surprises of the last suppressionWindow scored steps that no later step exceeded (a
  /// monotonic queue: front is the window's maximum), as (step, surprise).
  std::deque<std::pair<std::size_t, double>> window_;
};

}  // namespace stacklens::core::detect
