#include "stacklens/core/detect/streaming_detector.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "stacklens/core/detect/trend_analyzer.h"

namespace stacklens::core::detect {
namespace {

constexpr double kMeanAbsToSigma = 1.2533141373155003;  // √(π/2): mean |N(0,1)| → σ

// −log10 of the two-sided normal tail probability of z (asymptotic beyond double range).
double surpriseOf(double z) {
  const double a = std::abs(z);
  const double p = std::erfc(a / std::numbers::sqrt2);
  if (p > 1e-300) return -std::log10(p);
  return (a * a / 2 + std::log(a * std::sqrt(std::numbers::pi / 2))) / std::numbers::ln10;
}

}  // namespace

double StreamingDetector::Standardized::zScore(double value, double floor) const {
  if (count < 2) return 0.0;
  return (value - mean) / (kMeanAbsToSigma * std::max(deviation, floor));
}

void StreamingDetector::Standardized::add(double value, double alpha) {
  if (count++ == 0) {
    mean = value;
    return;
  }
  // Plain means at first, exponentially weighted once 1/count drops below alpha.
  const double dev = std::abs(value - mean);
  mean += std::max(alpha, 1.0 / static_cast<double>(count)) * (value - mean);
  deviation += std::max(alpha, 1.0 / static_cast<double>(count - 1)) * (dev - deviation);
}

StreamingDetector::StreamingDetector(std::size_t channels, StreamingDetectorConfig config) : config_(config) {
  if (channels == 0) throw std::invalid_argument("StreamingDetector: at least one channel");
  if (config_.seasonBuffer < 64 || config_.seasonCheckEvery < 1 || config_.warmup < 0 ||
      config_.suppressionWindow < 0 || !(config_.statisticAlpha > 0 && config_.statisticAlpha <= 1) ||
      !(config_.calibrationQuantile > 0 && config_.calibrationQuantile < 1) || !(config_.calibrationWeight >= 0) ||
      !(config_.calibrationAlpha > 0 && config_.calibrationAlpha <= 1) || !(config_.scoreScale > 0))
    throw std::invalid_argument("StreamingDetector: configuration out of range");
  channels_.resize(channels);
  for (auto& c : channels_) c.ring.assign(static_cast<std::size_t>(config_.seasonBuffer), 0.0);
}

void StreamingDetector::detectSeason(Channel& c) const {
  const std::size_t n = std::min(c.count, c.ring.size());
  std::vector<double> recent(n);
  for (std::size_t i = 0; i < n; ++i) recent[i] = c.at(n - i);
  const auto acf = autocorrelations(recent, static_cast<int>(n / 3));
  c.period = dominantPeriodFromAcf(acf, config_.seasonThreshold, config_.minPeriod).period;
}

StreamingScore StreamingDetector::update(std::span<const double> values) {
  if (values.size() != channels_.size())
    throw std::invalid_argument("StreamingDetector: expected " + std::to_string(channels_.size()) + " values, got " +
                                std::to_string(values.size()));
  if (std::all_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) return {};
  ++samples_;
  StreamingScore result;
  double best = 0;
  int tests = 0;
  const double alpha = config_.statisticAlpha;
  for (std::size_t ci = 0; ci < channels_.size(); ++ci) {
    Channel& c = channels_[ci];
    const double x = values[ci];
    if (std::isnan(x)) continue;
    const double floor = 1e-6 * (c.magnitude + 1e-9);  // a flat series still has a scale
    auto test = [&](Standardized& st, double value) {
      const double z = st.zScore(value, floor);
      const double s = surpriseOf(z);
      if (s > best || result.channel < 0) best = s, result.channel = static_cast<int>(ci), result.z = z;
      st.add(value, alpha);
      ++tests;
    };
    test(c.level, x);
    if (c.period > 0 && c.count >= static_cast<std::size_t>(c.period))
      test(c.seasonal, x - c.at(static_cast<std::size_t>(c.period)));
    c.sum5 += x - (c.count >= 5 ? c.at(5) : 0.0);
    c.sum20 += x - (c.count >= 20 ? c.at(20) : 0.0);
    if (c.count + 1 >= 5) test(c.mean5, c.sum5 / 5);
    if (c.count + 1 >= 20) test(c.mean20, c.sum20 / 20);
    c.ring[c.count % c.ring.size()] = x;
    ++c.count;
    c.magnitude += (std::abs(x) - c.magnitude) / static_cast<double>(std::min<std::size_t>(c.count, 500));
    // A season is looked for early (after 512 steps), then every seasonCheckEvery steps.
    if (c.count == 512 || c.count % static_cast<std::size_t>(config_.seasonCheckEvery) == 0) detectSeason(c);
  }
  if (samples_ <= static_cast<std::size_t>(config_.warmup) || tests == 0) {
    result.channel = -1;
    result.z = 0;
    return result;
  }

  // Calibration against the series' own running quantile of surprise.
  const double raw = std::max(0.0, best - std::log10(static_cast<double>(tests)));
  double surprise = raw;
  if (scored_ > 100) surprise = std::max(0.0, raw - config_.calibrationWeight * quantile_);
  ++scored_;
  const double a = std::max(config_.calibrationAlpha, 1.0 / static_cast<double>(scored_));
  quantileStep_ += a * (std::abs(raw - quantile_) - quantileStep_);
  const double q = config_.calibrationQuantile;
  quantile_ = std::max(0.0, quantile_ + (raw > quantile_ ? q : -(1 - q)) * std::max(quantileStep_, 0.01) * 0.5);
  result.surprise = surprise;

  // Suppression: only a new maximum of the last suppressionWindow steps raises an alarm.
  const auto window = static_cast<std::size_t>(config_.suppressionWindow);
  while (!window_.empty() && window_.front().first + window < scored_) window_.pop_front();
  const bool fresh = window_.empty() || surprise > window_.front().second;
  while (!window_.empty() && window_.back().second <= surprise) window_.pop_back();
  if (window > 0) window_.emplace_back(scored_, surprise);
  result.score = fresh ? 1.0 - std::exp(-surprise / config_.scoreScale) : 0.0;
  return result;
}

}  // namespace stacklens::core::detect
