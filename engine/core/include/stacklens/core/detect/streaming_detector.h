#pragma once
// A causal, self-calibrating anomaly score for streams: one metric or a feature vector per step.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace stacklens::core::detect {

/// One default serves every series: the detector learns each series' scale and season itself.
struct StreamingDetectorConfig {
  double levelAlpha = 0.05;          ///< smoothing of the local-level predictor
  double scaleAlpha = 0.005;         ///< memory of the residual scales (~1/α samples)
  int warmup = 30;                   ///< samples scored 0 while the scales form
  int seasonBuffer = 4096;           ///< samples kept per channel for season detection
  int seasonCheckEvery = 512;        ///< samples between season re-estimations
  double seasonThreshold = 0.5;      ///< autocorrelation a period must reach
  double suppressionHalfLife = 100;  ///< samples for a past alarm's level to halve
  double scoreScale = 3.0;           ///< surprise (decades) mapped to score 1 − e^(−s/scale)
};

struct StreamingScore {
  double score = 0;     ///< [0,1], causal
  double surprise = 0;  ///< −log10 of the tail probability of the step (before suppression)
  int channel = -1;     ///< the most surprising channel
  double z = 0;         ///< that channel's signed standardised residual
};

/// Feed values in time order; each update returns the score of that step using the past only.
/// NaN values are skipped (score 0, state unchanged). O(channels) per step, plus a periodic
/// O(B log B) season estimate per channel (B = seasonBuffer) every seasonCheckEvery steps.
class StreamingDetector {
 public:
  explicit StreamingDetector(std::size_t channels = 1, StreamingDetectorConfig config = {});
  ~StreamingDetector();
  StreamingDetector(const StreamingDetector&);
  StreamingDetector& operator=(const StreamingDetector&);
  StreamingDetector(StreamingDetector&&) noexcept;
  StreamingDetector& operator=(StreamingDetector&&) noexcept;

  StreamingScore update(std::span<const double> values);
  StreamingScore update(double value) { return update(std::span<const double>(&value, 1)); }

  std::size_t channels() const;
  std::size_t samples() const { return samples_; }
  /// Current seasonal period of a channel in samples (0: none detected).
  int period(std::size_t channel) const;
  const StreamingDetectorConfig& config() const { return config_; }

 private:
  struct Channel;
  StreamingDetectorConfig config_;
  std::vector<Channel> channels_;
  std::size_t samples_ = 0;
  double alarmLevel_ = 0;  // decaying surprise of recent alarms
};

}  // namespace stacklens::core::detect
