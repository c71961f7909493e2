#include "stacklens/core/detect/streaming_detector.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stacklens/core/detect/trend_analyzer.h"

namespace stacklens::core::detect {
namespace {

constexpr double kMeanAbsToSigma = 1.2533141373155003;  // √(π/2)

// −log10 of the two-sided normal tail probability of |z|.
double surpriseOf(double z) {
  const double a = std::abs(z);
  const double p = std::erfc(a / std::sqrt(2.0));
  if (p > 1e-300) return -std::log10(p);
  // Asymptotic tail for very large |z|.
  return (a * a / 2 + std::log(a * std::sqrt(std::numbers::pi / 2))) / std::log(10.0);
}

struct Expert {
  double scale = 0;  // EW mean absolute residual
  double z = 0;
};

}  // namespace

struct StreamingDetector::Channel {
  std::vector<double> ring;
  std::size_t count = 0;
  double last = 0;
  double level = 0;
  int period = 0;
  Expert diff, levelExpert, seasonal;
  double magnitude = 0;  // EW mean |x|, floors the scales

  double at(std::size_t back) const {  // value `back` steps ago (1 = previous)
    return ring[(count - back) % ring.size()];
  }
};

StreamingDetector::StreamingDetector(std::size_t channels, StreamingDetectorConfig config) : config_(config) {
  if (channels == 0) throw std::invalid_argument("StreamingDetector: at least one channel");
  channels_.resize(channels);
  for (auto& c : channels_) c.ring.assign(static_cast<std::size_t>(std::max(16, config_.seasonBuffer)), 0.0);
}

StreamingDetector::~StreamingDetector() = default;
StreamingDetector::StreamingDetector(const StreamingDetector&) = default;
StreamingDetector& StreamingDetector::operator=(const StreamingDetector&) = default;
StreamingDetector::StreamingDetector(StreamingDetector&&) noexcept = default;
StreamingDetector& StreamingDetector::operator=(StreamingDetector&&) noexcept = default;

std::size_t StreamingDetector::channels() const {
  return channels_.size();
}
int StreamingDetector::period(std::size_t channel) const {
  return channels_.at(channel).period;
}

StreamingScore StreamingDetector::update(std::span<const double> values) {
  if (values.size() != channels_.size())
    throw std::invalid_argument("StreamingDetector: expected " + std::to_string(channels_.size()) + " values, got " +
                                std::to_string(values.size()));
  ++samples_;
  StreamingScore result;
  double best = 0;
  const double a = config_.scaleAlpha;
  for (std::size_t ci = 0; ci < channels_.size(); ++ci) {
    Channel& c = channels_[ci];
    const double x = values[ci];
    if (std::isnan(x)) continue;
    if (c.count == 0) {
      c.last = c.level = x;
      c.magnitude = std::abs(x);
      c.ring[0] = x;
      c.count = 1;
      continue;
    }
    // Residuals of three predictors: previous value, local level, same phase one season ago.
    const double rDiff = x - c.last;
    const double rLevel = x - c.level;
    const bool seasonal = c.period > 0 && c.count > static_cast<std::size_t>(c.period);
    const double rSeason = seasonal ? x - c.at(static_cast<std::size_t>(c.period)) : 0;
    const double warm = std::min(1.0, static_cast<double>(c.count) / config_.warmup);
    const double alpha = std::max(a, 1.0 / static_cast<double>(c.count));  // plain mean while warming up
    const double floor = 1e-6 * (c.magnitude + 1e-9);
    auto judge = [&](Expert& e, double r) {
      e.z = r / (kMeanAbsToSigma * std::max(e.scale, floor));
      e.scale += alpha * (std::abs(r) - e.scale);
    };
    judge(c.diff, rDiff);
    judge(c.levelExpert, rLevel);
    if (seasonal) judge(c.seasonal, rSeason);
    // The step is as surprising as its best explanation makes it.
    double z = std::abs(c.diff.z) < std::abs(c.levelExpert.z) ? c.diff.z : c.levelExpert.z;
    if (seasonal && std::abs(c.seasonal.z) < std::abs(z)) z = c.seasonal.z;
    const double s = warm >= 1.0 ? surpriseOf(z) : 0.0;
    if (s > best || result.channel < 0) {
      best = s;
      result.channel = static_cast<int>(ci);
      result.z = z;
    }
    c.level += config_.levelAlpha * (x - c.level);
    c.magnitude += alpha * (std::abs(x) - c.magnitude);
    c.last = x;
    c.ring[c.count % c.ring.size()] = x;
    ++c.count;
    if (c.count % static_cast<std::size_t>(config_.seasonCheckEvery) == 0 && c.count >= 256) {
      const std::size_t n = std::min(c.count, c.ring.size());
      std::vector<double> recent(n);
      for (std::size_t i = 0; i < n; ++i) recent[i] = c.at(n - i);
      const auto acf = autocorrelations(recent, static_cast<int>(n / 3));
      c.period = dominantPeriodFromAcf(acf, config_.seasonThreshold, 4).period;
    }
  }
  // Bonferroni over channels, then only surprise beyond recent alarms counts.
  const double surprise = std::max(0.0, best - std::log10(static_cast<double>(channels_.size())));
  result.surprise = surprise;
  const double excess = std::max(0.0, surprise - alarmLevel_);
  alarmLevel_ = std::max(alarmLevel_ * std::exp2(-1.0 / config_.suppressionHalfLife), surprise);
  result.score = 1.0 - std::exp(-excess / config_.scoreScale);
  return result;
}

}  // namespace stacklens::core::detect
