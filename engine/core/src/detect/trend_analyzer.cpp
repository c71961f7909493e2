#include "stacklens/core/detect/trend_analyzer.h"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <unsupported/Eigen/FFT>

#include "detect/statistics.h"

namespace stacklens::core::detect {
namespace {

void checkFinite(std::span<const double> y, const char* what) {
  for (std::size_t i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i]))
      throw std::invalid_argument(std::string(what) + ": non-finite value at index " + std::to_string(i));
}

double binomial(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// Residuals of a straight line through (t, y): the series with its linear trend removed.
std::vector<double> detrend(std::span<const double> y) {
  const auto n = static_cast<double>(y.size());
  const double tMean = (n - 1) / 2;
  const double yMean = internal::mean(y);
  double sxy = 0, sxx = 0;
  for (std::size_t t = 0; t < y.size(); ++t) {
    sxy += (static_cast<double>(t) - tMean) * (y[t] - yMean);
    sxx += (static_cast<double>(t) - tMean) * (static_cast<double>(t) - tMean);
  }
  const double b = sxx > 0 ? sxy / sxx : 0;
  std::vector<double> r(y.size());
  for (std::size_t t = 0; t < y.size(); ++t) r[t] = y[t] - yMean - b * (static_cast<double>(t) - tMean);
  return r;
}

double robustSigma(std::vector<double> values, double center) {
  double sigma = internal::madSigma(values, center);
  if (!(sigma > 0)) sigma = internal::stddev(values);
  return std::max(sigma, 1e-9 * std::max(1.0, std::abs(center)));
}

double logSumExp(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v) m = std::max(m, x);
  if (std::isinf(m)) return m;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

// BOCPD's Normal–Gamma prior for a new segment, in units of the baseline's robust spread: the
// mean is vague (sd ≈ 3 spreads), the variance near the baseline's (α = β = 2).
constexpr double kPriorMean = 0, kPriorKappa = 0.1, kPriorAlpha = 2, kPriorBeta = 2;
constexpr std::size_t kMinRun = 3;

double studentLogPdf(double x, double nu, double loc, double scale2) {
  const double z2 = (x - loc) * (x - loc) / scale2;
  return std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) - 0.5 * std::log(nu * std::numbers::pi * scale2) -
         (nu + 1) / 2 * std::log1p(z2 / nu);
}

}  // namespace

TrendFit fitTrend(std::span<const double> y, const TrendParams& params) {
  const int degree = params.degree;
  if (degree < 0 || degree > 5) throw std::invalid_argument("fitTrend: degree must be in 0..5");
  if (y.size() < static_cast<std::size_t>(degree) + 1)
    throw std::invalid_argument("fitTrend: too few samples for the degree");
  checkFinite(y, "fitTrend");
  const std::size_t n = y.size();
  // Fit in u = 2t/(n−1) − 1 ∈ [−1, 1] (well conditioned), then expand into powers of t.
  const double alpha = n > 1 ? 2.0 / static_cast<double>(n - 1) : 0.0, beta = n > 1 ? -1.0 : 0.0;
  Eigen::MatrixXd v(static_cast<Eigen::Index>(n), degree + 1);
  Eigen::VectorXd target(static_cast<Eigen::Index>(n));
  for (std::size_t t = 0; t < n; ++t) {
    const double u = alpha * static_cast<double>(t) + beta;
    double p = 1;
    for (int k = 0; k <= degree; ++k, p *= u) v(static_cast<Eigen::Index>(t), k) = p;
    target(static_cast<Eigen::Index>(t)) = y[t];
  }
  const Eigen::VectorXd a = v.colPivHouseholderQr().solve(target);
  TrendFit fit;
  fit.coefficients.assign(static_cast<std::size_t>(degree) + 1, 0.0);
  for (int j = 0; j <= degree; ++j)
    for (int k = j; k <= degree; ++k)
      fit.coefficients[static_cast<std::size_t>(j)] +=
          a(k) * binomial(k, j) * std::pow(alpha, j) * std::pow(beta, k - j);
  const Eigen::VectorXd fitted = v * a;
  auto evalU = [&](double u) {
    double s = 0, p = 1;
    for (int k = 0; k <= degree; ++k, p *= u) s += a(k) * p;
    return s;
  };
  double derivative = 0;  // d/du at u = 1
  for (int k = 1; k <= degree; ++k) derivative += k * a(k);
  fit.change = n > 1 ? evalU(1.0) - evalU(-1.0) : 0.0;
  fit.slope = n > 1 ? fit.change / static_cast<double>(n - 1) : 0.0;
  fit.endSlope = derivative * alpha;

  const double yMean = internal::mean(y);
  double ssTot = 0, ssRes = 0;
  for (std::size_t t = 0; t < n; ++t) {
    ssTot += (y[t] - yMean) * (y[t] - yMean);
    ssRes += (y[t] - fitted(static_cast<Eigen::Index>(t))) * (y[t] - fitted(static_cast<Eigen::Index>(t)));
  }
  const double sd = std::sqrt(ssTot / static_cast<double>(n));
  const bool constant = !(sd > 1e-12 * std::max(1.0, std::abs(yMean)));
  fit.rSquared = constant ? 1.0 : std::clamp(1.0 - ssRes / ssTot, 0.0, 1.0);
  fit.magnitude = constant ? 0.0 : std::tanh(fit.change / sd);

  // Significance of the net movement: t statistic of an ordinary straight-line slope.
  if (n >= 3 && !constant) {
    const double tMean = static_cast<double>(n - 1) / 2;
    double sxy = 0, sxx = 0;
    for (std::size_t t = 0; t < n; ++t) {
      sxy += (static_cast<double>(t) - tMean) * (y[t] - yMean);
      sxx += (static_cast<double>(t) - tMean) * (static_cast<double>(t) - tMean);
    }
    const double b = sxy / sxx;
    double ss = 0;
    for (std::size_t t = 0; t < n; ++t) {
      const double r = y[t] - yMean - b * (static_cast<double>(t) - tMean);
      ss += r * r;
    }
    const double se = std::sqrt(ss / static_cast<double>(n - 2) / sxx);
    fit.tStatistic = se > 0 ? b / se : (b > 0 ? 1e12 : (b < 0 ? -1e12 : 0.0));
  }
  if (std::abs(fit.magnitude) >= params.stableMagnitude && std::abs(fit.tStatistic) >= params.minTStatistic)
    fit.direction = fit.change > 0 ? TrendDirection::kUp : TrendDirection::kDown;
  return fit;
}

double autocorrelation(std::span<const double> y, int lag) {
  if (lag < 0) throw std::invalid_argument("autocorrelation: negative lag");
  const std::size_t n = y.size();
  if (static_cast<std::size_t>(lag) >= n) return 0.0;
  const double m = internal::mean(y);
  double den = 0, num = 0;
  for (std::size_t t = 0; t < n; ++t) den += (y[t] - m) * (y[t] - m);
  if (!(den > 0)) return lag == 0 ? 1.0 : 0.0;
  for (std::size_t t = 0; t + static_cast<std::size_t>(lag) < n; ++t)
    num += (y[t] - m) * (y[t + static_cast<std::size_t>(lag)] - m);
  return num / den;
}

std::vector<double> autocorrelations(std::span<const double> y, int maxLag) {
  const int last = std::min<int>(maxLag, static_cast<int>(y.size()) - 1);
  std::vector<double> acf;
  if (last < 0) return acf;
  if (last <= 64) {
    for (int k = 0; k <= last; ++k) acf.push_back(autocorrelation(y, k));
    return acf;
  }
  // Wiener–Khinchin: the autocovariance is the inverse transform of the power spectrum of the
  // demeaned series, zero-padded to avoid wrap-around.
  const double m = internal::mean(y);
  std::size_t size = 1;
  while (size < 2 * y.size()) size <<= 1;
  std::vector<double> padded(size, 0.0);
  for (std::size_t t = 0; t < y.size(); ++t) padded[t] = y[t] - m;
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> spectrum;
  fft.fwd(spectrum, padded);
  for (auto& c : spectrum) c = std::norm(c);
  std::vector<double> cov;
  fft.inv(cov, spectrum);
  acf.resize(static_cast<std::size_t>(last) + 1);
  for (int k = 0; k <= last; ++k)
    acf[static_cast<std::size_t>(k)] = cov[0] > 0 ? cov[static_cast<std::size_t>(k)] / cov[0] : (k == 0);
  return acf;
}

Seasonality seasonalityAt(std::span<const double> y, int lag, double threshold) {
  if (lag < 1) throw std::invalid_argument("seasonalityAt: lag must be ≥ 1");
  const std::vector<double> r = detrend(y);
  Seasonality s;
  s.period = lag;
  s.score = autocorrelation(r, lag);
  s.seasonal = static_cast<std::size_t>(lag) < y.size() && s.score >= threshold;
  return s;
}

Seasonality dominantPeriod(std::span<const double> y, double threshold, int minPeriod, int maxPeriod) {
  const int n = static_cast<int>(y.size());
  if (maxPeriod <= 0) maxPeriod = n / 2;
  maxPeriod = std::min(maxPeriod, n - 2);
  if (maxPeriod < std::max(minPeriod, 2)) return {};
  return dominantPeriodFromAcf(autocorrelations(detrend(y), maxPeriod + 1), threshold, minPeriod, maxPeriod);
}

Seasonality dominantPeriodFromAcf(std::span<const double> acf, double threshold, int minPeriod, int maxPeriod) {
  const int size = static_cast<int>(acf.size());
  if (maxPeriod <= 0 || maxPeriod > size - 2) maxPeriod = size - 2;
  minPeriod = std::max(minPeriod, 2);
  std::vector<int> peaks;
  for (int k = minPeriod; k <= maxPeriod; ++k)
    if (acf[static_cast<std::size_t>(k)] > acf[static_cast<std::size_t>(k - 1)] &&
        acf[static_cast<std::size_t>(k)] >= acf[static_cast<std::size_t>(k + 1)] &&
        acf[static_cast<std::size_t>(k)] >= threshold)
      peaks.push_back(k);
  if (peaks.empty()) return {};
  int best = peaks.front();
  for (int k : peaks)
    if (acf[static_cast<std::size_t>(k)] > acf[static_cast<std::size_t>(best)]) best = k;
  for (int k : peaks) {  // prefer a strong fundamental over its multiple
    if (k >= best) break;
    const int multiple = static_cast<int>(std::lround(static_cast<double>(best) / k));
    if (acf[static_cast<std::size_t>(k)] >= 0.9 * acf[static_cast<std::size_t>(best)] && multiple >= 2 &&
        std::abs(best - multiple * k) <= 1) {
      best = k;
      break;
    }
  }
  return {best, acf[static_cast<std::size_t>(best)], true};
}

std::string_view toString(ChangePointMethod method) {
  switch (method) {
    case ChangePointMethod::kTwoWindow:
      return "two_window";
    case ChangePointMethod::kCusum:
      return "cusum";
    case ChangePointMethod::kBayesianOnline:
      return "bocpd";
  }
  return "cusum";
}

std::optional<ChangePointMethod> changePointMethodFromString(std::string_view name) {
  for (auto m : {ChangePointMethod::kTwoWindow, ChangePointMethod::kCusum, ChangePointMethod::kBayesianOnline})
    if (toString(m) == name) return m;
  return std::nullopt;
}

OnlineChangeDetector::OnlineChangeDetector(const ChangePointParams& params) : params_(params) {
  if (params_.window < 3) throw std::invalid_argument("change points: window must be ≥ 3");
  if (params_.maxRunLength < params_.window)
    throw std::invalid_argument("change points: maxRunLength must be ≥ window");
  if (!(params_.expectedRunLength > 1)) throw std::invalid_argument("change points: expectedRunLength must be > 1");
}

OnlineChangeDetector::Update OnlineChangeDetector::update(double x) {
  if (std::isnan(x)) return {};
  ++count_;
  switch (params_.method) {
    case ChangePointMethod::kTwoWindow:
      return updateTwoWindow(x);
    case ChangePointMethod::kCusum:
      return updateCusum(x);
    case ChangePointMethod::kBayesianOnline:
      return updateBocpd(x);
  }
  return {};
}

OnlineChangeDetector::Update OnlineChangeDetector::updateTwoWindow(double x) {
  const auto w = static_cast<std::size_t>(params_.window);
  recent_.push_back(x);
  if (recent_.size() > 2 * w) recent_.erase(recent_.begin());
  Update u;
  if (recent_.size() < 2 * w) return u;
  const std::span<const double> before(recent_.data(), w), after(recent_.data() + w, w);
  const double m1 = internal::mean(before), m2 = internal::mean(after);
  const double s1 = internal::stddev(before), s2 = internal::stddev(after);
  const double se = std::sqrt((s1 * s1 + s2 * s2) / static_cast<double>(w - 1));
  const double floor = 1e-9 * std::max({1.0, std::abs(m1), std::abs(m2)});
  u.statistic = std::abs(m2 - m1) / std::max(se, floor);
  u.score = 1.0 - std::exp2(-u.statistic / params_.twoWindowThreshold);
  if (u.statistic > params_.twoWindowThreshold && count_ >= cooldownUntil_) {
    // Locate the change inside the 2w samples: the split maximising the two-sample contrast.
    double bestContrast = -1;
    std::size_t split = w;
    double left = 0, total = 0;
    for (double v : recent_) total += v;
    for (std::size_t k = 1; k < recent_.size(); ++k) {
      left += recent_[k - 1];
      const double kk = static_cast<double>(k), m = static_cast<double>(recent_.size());
      const double contrast = std::sqrt(kk * (m - kk) / m) * std::abs(left / kk - (total - left) / (m - kk));
      if (contrast > bestContrast) bestContrast = contrast, split = k;
    }
    u.changePoint = true;
    u.changeIndex = count_ - recent_.size() + split;
    cooldownUntil_ = u.changeIndex + 2 * w;
  }
  return u;
}

bool OnlineChangeDetector::collectBaseline(double x) {
  recent_.push_back(x);
  if (recent_.size() < static_cast<std::size_t>(params_.window)) return false;
  mu_ = internal::median(recent_);
  sigma_ = robustSigma(recent_, mu_);
  ready_ = true;
  return true;
}

void OnlineChangeDetector::resetBaseline() {
  recent_.clear();
  ready_ = false;
  sPlus_ = sMinus_ = 0;
}

OnlineChangeDetector::Update OnlineChangeDetector::updateCusum(double x) {
  // Self-starting CUSUM (Hawkins 1987): each sample is standardised by the running mean and
  // standard deviation of the in-control samples before it. A change moves the level, rarely the
  // noise, so after a detection only the mean restarts; the variance stays pooled over segments.
  const auto w = static_cast<std::size_t>(params_.window);
  Update u;
  if (!ready_) {
    if (!collectBaseline(x)) return u;
    segmentCount_ = static_cast<double>(w);
    if (pooledDof_ == 0) {  // first segment: the robust spread seeds the pooled variance
      pooledSs_ = sigma_ * sigma_ * static_cast<double>(w - 1);
      pooledDof_ = static_cast<double>(w - 1);
    }
    sigma_ = std::sqrt(pooledSs_ / pooledDof_);
    lastZeroPlus_ = lastZeroMinus_ = count_;
    return u;
  }
  const double z = (x - mu_) / sigma_;
  sPlus_ = std::max(0.0, sPlus_ + z - params_.cusumDrift);
  sMinus_ = std::max(0.0, sMinus_ - z - params_.cusumDrift);
  if (sPlus_ == 0) lastZeroPlus_ = count_;
  if (sMinus_ == 0) lastZeroMinus_ = count_;
  u.statistic = std::max(sPlus_, sMinus_);
  u.score = 1.0 - std::exp2(-u.statistic / params_.cusumThreshold);
  if (u.statistic > params_.cusumThreshold) {
    u.changePoint = true;
    // Page's estimate: the regime began just after the statistic last left zero.
    u.changeIndex = sPlus_ >= sMinus_ ? lastZeroPlus_ : lastZeroMinus_;
    resetBaseline();
    return u;
  }
  if (std::abs(z) < 4) {  // in control: refine mean and pooled variance (Welford); gross outliers stay out
    segmentCount_ += 1;
    const double delta = x - mu_;
    mu_ += delta / segmentCount_;
    pooledSs_ += delta * (x - mu_);
    pooledDof_ += 1;
    sigma_ = std::max(std::sqrt(pooledSs_ / pooledDof_), 1e-9 * std::max(1.0, std::abs(mu_)));
  }
  return u;
}

OnlineChangeDetector::Update OnlineChangeDetector::updateBocpd(double x) {
  const auto w = static_cast<std::size_t>(params_.window);
  Update u;
  if (!ready_) {
    if (!collectBaseline(x)) return u;
    logProb_.assign(1, 0.0);
    mean_.assign(1, kPriorMean), kappa_.assign(1, kPriorKappa), alpha_.assign(1, kPriorAlpha),
        beta_.assign(1, kPriorBeta);
    for (double v : recent_) {  // the baseline is the first run's evidence
      const double z = (v - mu_) / sigma_;
      beta_[0] += kappa_[0] * (z - mean_[0]) * (z - mean_[0]) / (2 * (kappa_[0] + 1));
      mean_[0] = (kappa_[0] * mean_[0] + z) / (kappa_[0] + 1);
      kappa_[0] += 1, alpha_[0] += 0.5;
    }
    cooldownUntil_ = count_ + w;
    return u;
  }
  const double z = (x - mu_) / sigma_;
  const double logH = -std::log(params_.expectedRunLength), log1mH = std::log1p(-1.0 / params_.expectedRunLength);
  const std::size_t r = logProb_.size();
  std::vector<double> next(r + 1);
  std::vector<double> joint(r);
  for (std::size_t i = 0; i < r; ++i) {
    const double scale2 = beta_[i] * (kappa_[i] + 1) / (alpha_[i] * kappa_[i]);
    joint[i] = logProb_[i] + studentLogPdf(z, 2 * alpha_[i], mean_[i], scale2);
    next[i + 1] = joint[i] + log1mH;
  }
  next[0] = logSumExp(joint) + logH;
  const double norm = logSumExp(next);
  for (double& v : next) v -= norm;
  // Sufficient statistics: run length 0 restarts from the prior, run length i+1 extends run i.
  mean_.insert(mean_.begin(), kPriorMean), kappa_.insert(kappa_.begin(), kPriorKappa),
      alpha_.insert(alpha_.begin(), kPriorAlpha), beta_.insert(beta_.begin(), kPriorBeta);
  for (std::size_t i = 1; i <= r; ++i) {
    beta_[i] += kappa_[i] * (z - mean_[i]) * (z - mean_[i]) / (2 * (kappa_[i] + 1));
    mean_[i] = (kappa_[i] * mean_[i] + z) / (kappa_[i] + 1);
    kappa_[i] += 1, alpha_[i] += 0.5;
  }
  logProb_ = std::move(next);
  if (logProb_.size() > static_cast<std::size_t>(params_.maxRunLength)) {
    // Fold the longest run into the next longest: it keeps its mass, loses a little memory.
    const std::size_t last = logProb_.size() - 1;
    const double merged = std::max(logProb_[last - 1], logProb_[last]) +
                          std::log1p(std::exp(-std::abs(logProb_[last - 1] - logProb_[last])));
    logProb_[last - 1] = merged;
    for (auto* v : {&logProb_, &mean_, &kappa_, &alpha_, &beta_}) v->pop_back();
  }
  // Evidence of a change: posterior mass on runs that began between kMinRun and w samples ago.
  // A run must have survived kMinRun samples, so one outlier (which briefly favours a brand-new
  // run) does not count.
  double shortMass = 0;
  std::size_t map = kMinRun;
  for (std::size_t i = kMinRun; i < std::min(w, logProb_.size()); ++i) {
    shortMass += std::exp(logProb_[i]);
    if (logProb_[i] > logProb_[map]) map = i;
  }
  u.statistic = std::min(1.0, shortMass);
  u.score = u.statistic;
  if (count_ >= cooldownUntil_ && u.statistic > params_.bocpdThreshold) {
    u.changePoint = true;
    u.changeIndex = count_ - 1 - std::min(map, count_ - 1);
    cooldownUntil_ = u.changeIndex + 2 * w;
  }
  return u;
}

std::vector<ChangePoint> detectChangePoints(std::span<const double> y, const ChangePointParams& params) {
  checkFinite(y, "detectChangePoints");
  OnlineChangeDetector detector(params);
  const auto w = static_cast<std::size_t>(params.window);
  std::vector<ChangePoint> out;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const auto u = detector.update(y[i]);
    if (!u.changePoint) continue;
    ChangePoint cp;
    cp.index = u.changeIndex;
    cp.detectedAt = i;
    cp.statistic = u.statistic;
    const std::size_t lo = cp.index >= w ? cp.index - w : 0, hi = std::min(y.size(), cp.index + w);
    if (cp.index > lo && hi > cp.index)
      cp.shift = internal::mean(y.subspan(cp.index, hi - cp.index)) - internal::mean(y.subspan(lo, cp.index - lo));
    out.push_back(cp);
  }
  return out;
}

TrendAnalysis TrendAnalyzer::analyze(std::span<const double> y) const {
  if (y.size() < static_cast<std::size_t>(config_.trend.degree) + 2)
    throw std::invalid_argument("TrendAnalyzer: need at least degree + 2 samples");
  TrendAnalysis a;
  a.trend = fitTrend(y, config_.trend);
  a.seasonality = config_.seasonalLag > 0 ? seasonalityAt(y, config_.seasonalLag, config_.seasonalityThreshold)
                                          : dominantPeriod(y, config_.seasonalityThreshold);
  a.changePoints = detectChangePoints(y, config_.changePoints);
  return a;
}

}  // namespace stacklens::core::detect
