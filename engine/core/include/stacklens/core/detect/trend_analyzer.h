#pragma once
// The original's TrendAnalyzer: polynomial trend, seasonality by autocorrelation, and change
// points — the original's two-window comparison plus two principled online methods (CUSUM and
// Bayesian online change-point detection), chosen by configuration.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "stacklens/core/records.h"

namespace stacklens::core::detect {

// --- trend -------------------------------------------------------------------------------

struct TrendParams {
  int degree = 1;                ///< polynomial degree, 0..5
  double stableMagnitude = 0.2;  ///< |magnitude| below this is "stable"
  double minTStatistic = 3.0;    ///< |t| of the least-squares slope below this is "stable"
};

/// A least-squares polynomial in the sample index t = 0..n−1 (as numpy.polyfit(t, y, degree)).
struct TrendFit {
  std::vector<double> coefficients;  ///< ascending powers of t: y ≈ Σ c_k t^k
  double change = 0;                 ///< fitted value at the last sample minus at the first, in y units
  double slope = 0;                  ///< change / (n − 1): mean slope, y units per sample
  double endSlope = 0;               ///< derivative at the last sample, y units per sample
  /// tanh(change / sd(y)) ∈ [−1, 1]: the net movement relative to the series' spread
  /// (a clean ramp gives ±0.998, pure noise ≈ 0); 0 for a constant series.
  double magnitude = 0;
  double rSquared = 0;    ///< of the polynomial fit, [0,1]
  double tStatistic = 0;  ///< of the slope of a straight-line fit (significance of the movement)
  TrendDirection direction = TrendDirection::kStable;
};

/// Fits the trend of y (n ≥ degree + 1 finite values; std::invalid_argument otherwise). O(n·degree²).
TrendFit fitTrend(std::span<const double> y, const TrendParams& params = {});

// --- seasonality -------------------------------------------------------------------------

/// Sample autocorrelation at `lag` as statsmodels' acf (demeaned, denominator Σ(y−ȳ)²), in
/// [−1, 1]; 0 when lag ≥ n or y is constant. O(n).
double autocorrelation(std::span<const double> y, int lag);
/// acf for lags 0..maxLag (clipped to n − 1). O(n · maxLag) for small maxLag, O(n log n) via
/// an FFT above 64 lags.
std::vector<double> autocorrelations(std::span<const double> y, int maxLag);

struct Seasonality {
  int period = 0;         ///< the lag tested or found; 0 when none was found
  double score = 0;       ///< autocorrelation at `period` (of the detrended series)
  bool seasonal = false;  ///< score ≥ the threshold
};

/// Seasonality at a given lag (the original: lag 12) of the linearly detrended series.
Seasonality seasonalityAt(std::span<const double> y, int lag, double threshold = 0.3);

/// The dominant period: the highest local maximum of the detrended series' autocorrelation over
/// lags [minPeriod, maxPeriod] (maxPeriod ≤ 0: n/2) that reaches `threshold`. When a shorter
/// peak reaches 90 % of it and divides it (within one lag), the shorter one wins, so a daily
/// season is not reported as two days. Returns period 0 when no peak qualifies. O(n · maxPeriod).
Seasonality dominantPeriod(std::span<const double> y, double threshold = 0.3, int minPeriod = 2, int maxPeriod = 0);

/// The same choice from a precomputed autocorrelation function (acf[k] for lag k).
Seasonality dominantPeriodFromAcf(std::span<const double> acf, double threshold = 0.3, int minPeriod = 2,
                                  int maxPeriod = 0);

// --- change points -----------------------------------------------------------------------

enum class ChangePointMethod {
  kTwoWindow,       ///< the original: compare the means of two adjacent windows (Welch t)
  kCusum,           ///< self-starting two-sided tabular CUSUM (Page 1954; Hawkins 1987)
  kBayesianOnline,  ///< Adams & MacKay (2007), Normal–Gamma model, constant hazard
};
std::string_view toString(ChangePointMethod method);  ///< "two_window", "cusum", "bocpd"
std::optional<ChangePointMethod> changePointMethodFromString(std::string_view name);

struct ChangePointParams {
  ChangePointMethod method = ChangePointMethod::kCusum;
  /// Samples that set the baseline (CUSUM, BOCPD) after the start and after each detection;
  /// also the size of each of the two windows (two-window). ≥ 3.
  int window = 12;
  double twoWindowThreshold = 4.0;  ///< |Welch t| of the two windows' means that signals a change
  double cusumDrift = 0.5;          ///< k, in baseline standard deviations
  double cusumThreshold = 5.0;      ///< h, in baseline standard deviations
  double expectedRunLength = 100;   ///< BOCPD: 1 / hazard, in samples
  /// BOCPD: posterior probability that the current run began 3 to `window` samples ago above
  /// which a change is signalled (a run must survive 3 samples, so a lone outlier is no change).
  double bocpdThreshold = 0.5;
  int maxRunLength = 400;  ///< BOCPD: run lengths kept (older mass is merged), bounds the cost
};

struct ChangePoint {
  std::size_t index = 0;       ///< estimated first sample of the new regime
  std::size_t detectedAt = 0;  ///< sample at which the detector signalled (≥ index)
  double statistic = 0;        ///< the method's statistic at detection
  double shift = 0;            ///< mean after − mean before (up to `window` samples each side)
};

/// One online detector: feed samples in order, learn whether one completes a change.
/// Cost per sample: O(1) for two-window and CUSUM, O(maxRunLength) for BOCPD.
class OnlineChangeDetector {
 public:
  explicit OnlineChangeDetector(const ChangePointParams& params = {});

  struct Update {
    bool changePoint = false;
    std::size_t changeIndex = 0;  ///< when changePoint: estimated start of the new regime
    double statistic = 0;         ///< current statistic (|Welch t|, max(S⁺,S⁻) in σ, or P(3 ≤ r < window))
    /// [0,1], 0.5 at the method's threshold: 1 − 2^(−statistic/threshold) for two-window and
    /// CUSUM, the posterior probability for BOCPD.
    double score = 0;
  };
  /// NaN samples are skipped (no update, score 0).
  Update update(double x);
  std::size_t samples() const { return count_; }

 private:
  Update updateTwoWindow(double x);
  Update updateCusum(double x);
  Update updateBocpd(double x);
  bool collectBaseline(double x);  // true once `window` samples set mu_ and sigma_
  void resetBaseline();

  ChangePointParams params_;
  std::size_t count_ = 0;
  std::vector<double> recent_;  // last 2·window samples (two-window) / baseline samples
  std::size_t baselineStart_ = 0;
  double mu_ = 0, sigma_ = 1;
  double segmentCount_ = 0, pooledSs_ = 0, pooledDof_ = 0;  // CUSUM: running mean, pooled variance
  bool ready_ = false;
  double sPlus_ = 0, sMinus_ = 0;
  std::size_t lastZeroPlus_ = 0, lastZeroMinus_ = 0;
  std::size_t cooldownUntil_ = 0;
  // BOCPD run-length posterior and Normal–Gamma statistics per run length.
  std::vector<double> logProb_, mean_, kappa_, alpha_, beta_;
};

/// Runs the configured method over a whole series; changes are at least `window` samples apart.
std::vector<ChangePoint> detectChangePoints(std::span<const double> y, const ChangePointParams& params = {});

// --- the analyser ---------------------------------------------------------------------------

struct TrendAnalyzerConfig {
  TrendParams trend;
  int seasonalLag = 12;  ///< the original's lag; ≤ 0 = find the dominant period
  double seasonalityThreshold = 0.3;
  ChangePointParams changePoints;
};

struct TrendAnalysis {
  TrendFit trend;
  Seasonality seasonality;
  std::vector<ChangePoint> changePoints;
};

/// Everything the original's TrendAnalyzer reported for one metric's window.
class TrendAnalyzer {
 public:
  explicit TrendAnalyzer(TrendAnalyzerConfig config = {}) : config_(config) {}
  const TrendAnalyzerConfig& config() const { return config_; }
  /// y: one metric, oldest first, n ≥ degree + 2. Throws std::invalid_argument otherwise.
  TrendAnalysis analyze(std::span<const double> y) const;

 private:
  TrendAnalyzerConfig config_;
};

}  // namespace stacklens::core::detect
