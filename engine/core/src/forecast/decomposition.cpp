#include "stacklens/core/forecast/decomposition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace stacklens::core::forecast {

namespace {

int nextOdd(double x) {
  int value = static_cast<int>(std::round(x));
  return value % 2 == 0 ? value + 1 : value;
}

double sampleVariance(const std::vector<double>& x) {
  double mean = 0.0;
  int count = 0;
  for (double v : x)
    if (!std::isnan(v)) mean += v, ++count;
  if (count < 2) return 0.0;
  mean /= count;
  double sum = 0.0;
  for (double v : x)
    if (!std::isnan(v)) sum += (v - mean) * (v - mean);
  return sum / (count - 1);
}

// ---- STL (Cleveland et al. 1990). Indices below are 0-based; x positions are 1-based as in the
// paper so that extrapolation to positions 0 and k+1 reads naturally.

// The published Fortran writes its thresholds as single-precision literals (.999, .001); using the
// same values keeps the robustness iterations on the same side of each threshold as R's stl().
constexpr double kNear = static_cast<double>(0.999f);
constexpr double kFar = static_cast<double>(0.001f);

// Local weighted fit at position xs (1-based) of y over the window [left, right] (1-based).
// Returns false when all weights vanish.
bool loessEstimate(std::span<const double> y, int len, int degree, double xs, double& ys, int left, int right,
                   std::vector<double>& w, const double* robustness) {
  const int n = static_cast<int>(y.size());
  const double range = static_cast<double>(n) - 1.0;
  double h = std::max(xs - left, right - xs);
  if (len > n) h += static_cast<double>((len - n) / 2);
  const double h9 = kNear * h;
  const double h1 = kFar * h;
  double total = 0.0;
  for (int j = left; j <= right; ++j) {
    double& wj = w[static_cast<std::size_t>(j - 1)];
    wj = 0.0;
    const double r = std::abs(j - xs);
    if (r <= h9) {
      wj = r <= h1 ? 1.0 : std::pow(1.0 - std::pow(r / h, 3), 3);
      if (robustness) wj *= robustness[j - 1];
      total += wj;
    }
  }
  if (total <= 0.0) return false;
  for (int j = left; j <= right; ++j) w[static_cast<std::size_t>(j - 1)] /= total;
  if (h > 0.0 && degree > 0) {
    // Local linear fit expressed as modified weights.
    double a = 0.0;
    for (int j = left; j <= right; ++j) a += w[static_cast<std::size_t>(j - 1)] * j;
    double b = xs - a;
    double c = 0.0;
    for (int j = left; j <= right; ++j) c += w[static_cast<std::size_t>(j - 1)] * (j - a) * (j - a);
    if (std::sqrt(c) > kFar * range) {
      b /= c;
      for (int j = left; j <= right; ++j) w[static_cast<std::size_t>(j - 1)] *= b * (j - a) + 1.0;
    }
  }
  double sum = 0.0;
  for (int j = left; j <= right; ++j) sum += w[static_cast<std::size_t>(j - 1)] * y[static_cast<std::size_t>(j - 1)];
  ys = sum;
  return true;
}

// Loess smoothing of y at every jump-th position with linear interpolation in between.
void loessSmooth(std::span<const double> y, int len, int degree, int jump, const double* robustness,
                 std::vector<double>& out) {
  const int n = static_cast<int>(y.size());
  out.assign(static_cast<std::size_t>(n), 0.0);
  if (n < 2) {
    if (n == 1) out[0] = y[0];
    return;
  }
  std::vector<double> w(static_cast<std::size_t>(n));
  const int step = std::min(jump, n - 1);
  int left = 1, right = n;
  auto fit = [&](int i) {
    double value = 0.0;
    out[static_cast<std::size_t>(i - 1)] =
        loessEstimate(y, len, degree, i, value, left, right, w, robustness) ? value : y[static_cast<std::size_t>(i - 1)];
  };
  if (len >= n) {
    left = 1;
    right = n;
    for (int i = 1; i <= n; i += step) fit(i);
  } else if (step == 1) {
    const int half = (len + 1) / 2;
    left = 1;
    right = len;
    for (int i = 1; i <= n; ++i) {
      if (i > half && right != n) ++left, ++right;
      fit(i);
    }
  } else {
    const int half = (len + 1) / 2;
    for (int i = 1; i <= n; i += step) {
      if (i < half) {
        left = 1;
        right = len;
      } else if (i >= n - half + 1) {
        left = n - len + 1;
        right = n;
      } else {
        left = i - half + 1;
        right = len + i - half;
      }
      fit(i);
    }
  }
  if (step != 1) {
    for (int i = 1; i <= n - step; i += step) {
      const double slope = (out[static_cast<std::size_t>(i + step - 1)] - out[static_cast<std::size_t>(i - 1)]) / step;
      for (int j = i + 1; j < i + step; ++j)
        out[static_cast<std::size_t>(j - 1)] = out[static_cast<std::size_t>(i - 1)] + slope * (j - i);
    }
    const int k = ((n - 1) / step) * step + 1;
    if (k != n) {
      fit(n);
      if (k != n - 1) {
        const double slope = (out[static_cast<std::size_t>(n - 1)] - out[static_cast<std::size_t>(k - 1)]) / (n - k);
        for (int j = k + 1; j < n; ++j)
          out[static_cast<std::size_t>(j - 1)] = out[static_cast<std::size_t>(k - 1)] + slope * (j - k);
      }
    }
  }
}

// Moving average of length len: n - len + 1 values.
std::vector<double> movingAverage(const std::vector<double>& x, int len) {
  const int n = static_cast<int>(x.size());
  std::vector<double> out(static_cast<std::size_t>(std::max(n - len + 1, 0)));
  if (out.empty()) return out;
  double sum = std::accumulate(x.begin(), x.begin() + len, 0.0);
  out[0] = sum / len;
  for (int i = 1; i < static_cast<int>(out.size()); ++i) {
    sum += x[static_cast<std::size_t>(i + len - 1)] - x[static_cast<std::size_t>(i - 1)];
    out[static_cast<std::size_t>(i)] = sum / len;
  }
  return out;
}

struct StlParameters {
  int period, ns, nt, nl, sDegree, tDegree, lDegree, sJump, tJump, lJump, inner, outer;
};

// Cycle-subseries smoothing, extended by one cycle at each end: output length n + 2 period.
void cycleSubseries(const std::vector<double>& y, const StlParameters& p, const double* robustness,
                    std::vector<double>& season) {
  const int n = static_cast<int>(y.size());
  season.assign(static_cast<std::size_t>(n + 2 * p.period), 0.0);
  std::vector<double> sub, subWeights, smooth, w;
  for (int j = 1; j <= p.period; ++j) {
    const int k = (n - j) / p.period + 1;
    sub.resize(static_cast<std::size_t>(k));
    subWeights.resize(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i) {
      sub[static_cast<std::size_t>(i)] = y[static_cast<std::size_t>(i * p.period + j - 1)];
      if (robustness) subWeights[static_cast<std::size_t>(i)] = robustness[i * p.period + j - 1];
    }
    const double* rw = robustness ? subWeights.data() : nullptr;
    loessSmooth(sub, p.ns, p.sDegree, p.sJump, rw, smooth);
    w.assign(static_cast<std::size_t>(k), 0.0);
    double first = 0.0, last = 0.0;
    if (!loessEstimate(sub, p.ns, p.sDegree, 0.0, first, 1, std::min(p.ns, k), w, rw)) first = smooth.front();
    if (!loessEstimate(sub, p.ns, p.sDegree, k + 1.0, last, std::max(1, k - p.ns + 1), k, w, rw)) last = smooth.back();
    season[static_cast<std::size_t>(j - 1)] = first;
    for (int i = 0; i < k; ++i) season[static_cast<std::size_t>((i + 1) * p.period + j - 1)] = smooth[static_cast<std::size_t>(i)];
    season[static_cast<std::size_t>((k + 1) * p.period + j - 1)] = last;
  }
}

void stlInnerLoop(const std::vector<double>& y, const StlParameters& p, const double* robustness,
                  std::vector<double>& seasonal, std::vector<double>& trend) {
  const int n = static_cast<int>(y.size());
  std::vector<double> detrended(static_cast<std::size_t>(n)), cycle, lowPass, deseasonalised(static_cast<std::size_t>(n));
  for (int iteration = 0; iteration < p.inner; ++iteration) {
    for (int i = 0; i < n; ++i) detrended[static_cast<std::size_t>(i)] = y[static_cast<std::size_t>(i)] - trend[static_cast<std::size_t>(i)];
    cycleSubseries(detrended, p, robustness, cycle);
    // Low-pass filter of the cycle-subseries: MA(period), MA(period), MA(3), then loess.
    const std::vector<double> filtered = movingAverage(movingAverage(movingAverage(cycle, p.period), p.period), 3);
    loessSmooth(filtered, p.nl, p.lDegree, p.lJump, nullptr, lowPass);
    for (int i = 0; i < n; ++i) {
      seasonal[static_cast<std::size_t>(i)] = cycle[static_cast<std::size_t>(p.period + i)] - lowPass[static_cast<std::size_t>(i)];
      deseasonalised[static_cast<std::size_t>(i)] = y[static_cast<std::size_t>(i)] - seasonal[static_cast<std::size_t>(i)];
    }
    loessSmooth(deseasonalised, p.nt, p.tDegree, p.tJump, robustness, trend);
  }
}

// Bisquare robustness weights from the residuals, scaled by 6 * median |residual|.
void robustnessWeights(const std::vector<double>& residual, std::vector<double>& weights) {
  const std::size_t n = residual.size();
  std::vector<double> magnitude(n);
  for (std::size_t i = 0; i < n; ++i) magnitude[i] = std::abs(residual[i]);
  std::vector<double> sorted = magnitude;
  const std::size_t mid1 = (n + 1) / 2 - 1, mid2 = n / 2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid1), sorted.end());
  const double m1 = sorted[mid1];
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid2), sorted.end());
  const double m2 = sorted[mid2];
  const double cmad = 3.0 * (m1 + m2);
  const double c9 = kNear * cmad, c1 = kFar * cmad;
  weights.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double r = magnitude[i];
    weights[i] = r <= c1 ? 1.0 : r <= c9 ? std::pow(1.0 - (r / cmad) * (r / cmad), 2) : 0.0;
  }
}

}  // namespace

Decomposition classicalDecomposition(std::span<const double> y, int period, DecompositionType type) {
  const int n = static_cast<int>(y.size());
  if (period < 2) throw std::invalid_argument("decomposition needs a period >= 2");
  if (n < 2 * period)
    throw std::invalid_argument("decomposition needs at least two full periods (" + std::to_string(2 * period) +
                                " values), got " + std::to_string(n));
  const bool multiplicative = type == DecompositionType::kMultiplicative;
  if (multiplicative && std::any_of(y.begin(), y.end(), [](double v) { return v <= 0.0; }))
    throw std::invalid_argument("multiplicative decomposition needs positive values");

  Decomposition out;
  out.type = type;
  out.period = period;
  out.trend.assign(static_cast<std::size_t>(n), std::nan(""));
  // Centred moving average: weights 1/period, halved at both ends for an even period.
  const int half = period / 2;
  const bool even = period % 2 == 0;
  for (int t = half; t < n - half; ++t) {
    double sum = 0.0;
    for (int j = -half; j <= half; ++j) {
      const double weight = (even && std::abs(j) == half) ? 0.5 : 1.0;
      sum += weight * y[static_cast<std::size_t>(t + j)];
    }
    out.trend[static_cast<std::size_t>(t)] = sum / period;
  }
  std::vector<double> sums(static_cast<std::size_t>(period), 0.0);
  std::vector<int> counts(static_cast<std::size_t>(period), 0);
  for (int t = 0; t < n; ++t) {
    const double trend = out.trend[static_cast<std::size_t>(t)];
    const double value = y[static_cast<std::size_t>(t)];
    if (std::isnan(trend) || std::isnan(value)) continue;
    sums[static_cast<std::size_t>(t % period)] += multiplicative ? value / trend : value - trend;
    ++counts[static_cast<std::size_t>(t % period)];
  }
  out.figure.resize(static_cast<std::size_t>(period));
  for (int i = 0; i < period; ++i) out.figure[static_cast<std::size_t>(i)] = sums[static_cast<std::size_t>(i)] / counts[static_cast<std::size_t>(i)];
  const double centre = std::accumulate(out.figure.begin(), out.figure.end(), 0.0) / period;
  for (double& f : out.figure) f = multiplicative ? f / centre : f - centre;
  out.seasonal.resize(static_cast<std::size_t>(n));
  out.remainder.resize(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    const double s = out.figure[static_cast<std::size_t>(t % period)];
    const double trend = out.trend[static_cast<std::size_t>(t)];
    out.seasonal[static_cast<std::size_t>(t)] = s;
    out.remainder[static_cast<std::size_t>(t)] =
        multiplicative ? y[static_cast<std::size_t>(t)] / (trend * s) : y[static_cast<std::size_t>(t)] - trend - s;
  }
  return out;
}

Decomposition stlDecomposition(std::span<const double> y, int period, const StlOptions& options) {
  const int n = static_cast<int>(y.size());
  if (period < 2) throw std::invalid_argument("STL needs a period >= 2");
  if (n < 2 * period)
    throw std::invalid_argument("STL needs at least two full periods (" + std::to_string(2 * period) +
                                " values), got " + std::to_string(n));
  if (std::any_of(y.begin(), y.end(), [](double v) { return !std::isfinite(v); }))
    throw std::invalid_argument("STL needs finite values (fill missing values first)");
  const bool periodic = options.seasonalWindow <= 0;
  StlParameters p{};
  p.period = period;
  p.ns = periodic ? 10 * n + 1 : std::max(3, options.seasonalWindow | 1);
  p.sDegree = periodic ? 0 : (options.seasonalDegree < 0 ? 0 : options.seasonalDegree);
  p.tDegree = options.trendDegree;
  p.lDegree = options.lowPassDegree < 0 ? p.tDegree : options.lowPassDegree;
  p.nt = options.trendWindow > 0 ? (options.trendWindow | 1)
                                 : nextOdd(std::ceil(1.5 * period / (1.0 - 1.5 / p.ns)));
  p.nl = options.lowPassWindow > 0 ? (options.lowPassWindow | 1) : nextOdd(period);
  p.sJump = options.seasonalJump > 0 ? options.seasonalJump : static_cast<int>(std::ceil(p.ns / 10.0));
  p.tJump = options.trendJump > 0 ? options.trendJump : static_cast<int>(std::ceil(p.nt / 10.0));
  p.lJump = options.lowPassJump > 0 ? options.lowPassJump : static_cast<int>(std::ceil(p.nl / 10.0));
  p.inner = options.innerIterations > 0 ? options.innerIterations : (options.robust ? 1 : 2);
  p.outer = options.outerIterations >= 0 ? options.outerIterations : (options.robust ? 15 : 0);

  const std::vector<double> data(y.begin(), y.end());
  std::vector<double> seasonal(static_cast<std::size_t>(n), 0.0), trend(static_cast<std::size_t>(n), 0.0), weights,
      residual(static_cast<std::size_t>(n));
  const double* robustness = nullptr;
  for (int outer = 0;; ++outer) {
    stlInnerLoop(data, p, robustness, seasonal, trend);
    if (outer >= p.outer) break;
    for (int i = 0; i < n; ++i)
      residual[static_cast<std::size_t>(i)] = data[static_cast<std::size_t>(i)] - trend[static_cast<std::size_t>(i)] - seasonal[static_cast<std::size_t>(i)];
    robustnessWeights(residual, weights);
    robustness = weights.data();
  }

  Decomposition out;
  out.type = DecompositionType::kAdditive;
  out.period = period;
  out.figure.assign(static_cast<std::size_t>(period), 0.0);
  std::vector<int> counts(static_cast<std::size_t>(period), 0);
  for (int i = 0; i < n; ++i) {
    out.figure[static_cast<std::size_t>(i % period)] += seasonal[static_cast<std::size_t>(i)];
    ++counts[static_cast<std::size_t>(i % period)];
  }
  for (int i = 0; i < period; ++i) out.figure[static_cast<std::size_t>(i)] /= counts[static_cast<std::size_t>(i)];
  if (periodic)
    for (int i = 0; i < n; ++i) seasonal[static_cast<std::size_t>(i)] = out.figure[static_cast<std::size_t>(i % period)];
  out.seasonal = seasonal;
  out.trend = trend;
  out.remainder.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out.remainder[static_cast<std::size_t>(i)] = data[static_cast<std::size_t>(i)] - trend[static_cast<std::size_t>(i)] - seasonal[static_cast<std::size_t>(i)];
  out.robustnessWeights = robustness ? weights : std::vector<double>(static_cast<std::size_t>(n), 1.0);
  return out;
}

double seasonalStrength(std::span<const double> y, int period) {
  if (period < 2 || static_cast<int>(y.size()) < 2 * period) return 0.0;
  StlOptions options;
  options.seasonalWindow = 11;
  const Decomposition d = stlDecomposition(y, period, options);
  std::vector<double> seasonalPlusRemainder(d.remainder.size());
  for (std::size_t i = 0; i < d.remainder.size(); ++i) seasonalPlusRemainder[i] = d.seasonal[i] + d.remainder[i];
  const double total = sampleVariance(seasonalPlusRemainder);
  if (total <= 0.0) return 0.0;
  return std::clamp(1.0 - sampleVariance(d.remainder) / total, 0.0, 1.0);
}

}  // namespace stacklens::core::forecast
