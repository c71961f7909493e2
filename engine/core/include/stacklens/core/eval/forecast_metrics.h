#pragma once
// Forecast accuracy as the M4 competition scores it (Makridakis, Spiliotis & Assimakopoulos 2020,
// and the competition's published benchmark code): sMAPE, MASE, OWA relative to the Naive2
// benchmark, and for prediction intervals the coverage and the MSIS.

#include <cstddef>
#include <span>
#include <vector>

namespace stacklens::core::eval {

/// Symmetric MAPE in percent: mean of 200 |y - f| / (|y| + |f|). Pairs with |y| + |f| = 0 count 0.
/// O(h).
double smape(std::span<const double> actual, std::span<const double> forecast);

/// MASE denominator: mean |y_t - y_{t-m}| over the in-sample series (m = period; lag 1 when the
/// series is not longer than the period). O(n).
double maseScale(std::span<const double> insample, int period);

/// Mean absolute error divided by maseScale(insample, period). O(n + h).
double mase(std::span<const double> insample, std::span<const double> actual, std::span<const double> forecast,
            int period);

/// M4's seasonality test: the lag-`period` autocorrelation exceeds its 90% limit
/// 1.645 sqrt((1 + 2 sum_{k<period} r_k^2) / n); false when n < 3 period. O(n period).
bool m4SeasonalityTest(std::span<const double> insample, int period);

/// The Naive2 benchmark: the last value of the seasonally adjusted series (classical multiplicative
/// decomposition, only when m4SeasonalityTest passes and all values are positive), re-seasonalised.
/// O(n + h).
std::vector<double> naive2Forecast(std::span<const double> insample, int period, int horizon);

/// Fraction of actual values inside [lower, upper].
double intervalCoverage(std::span<const double> actual, std::span<const double> lower,
                        std::span<const double> upper);

/// Mean scaled interval score of a central (1 - alpha) interval: mean of
/// (U - L) + 2/alpha (L - y) [y < L] + 2/alpha (y - U) [y > U], divided by maseScale.
double msis(std::span<const double> insample, std::span<const double> actual, std::span<const double> lower,
            std::span<const double> upper, int period, double alpha = 0.05);

/// Totals over many series, in the M4 way: means of the per-series sMAPE, MASE and MSIS; OWA from
/// the means of the method and of Naive2; coverage over all (series, step) pairs.
struct M4Summary {
  std::size_t series = 0;
  double smape = 0, mase = 0, owa = 0;
  double coverage = 0;  ///< fraction in [0, 1]; NaN without intervals
  double msis = 0;      ///< NaN without intervals
  double naive2Smape = 0, naive2Mase = 0;
};

/// Accumulates per-series scores; add() in any order and merge() partial accumulators (one per
/// thread); summary() does not depend on the order.
class M4Accumulator {
 public:
  explicit M4Accumulator(int period, double alpha = 0.05) : period_(period), alpha_(alpha) {}

  /// Scores one series. lower/upper may be empty (no intervals). Throws std::invalid_argument when
  /// the lengths of actual, forecast (and intervals) differ.
  void add(std::span<const double> insample, std::span<const double> actual, std::span<const double> forecast,
           std::span<const double> lower = {}, std::span<const double> upper = {});
  void merge(const M4Accumulator& other);
  M4Summary summary() const;

 private:
  int period_;
  double alpha_;
  std::size_t series_ = 0, intervalSeries_ = 0, intervalPoints_ = 0, covered_ = 0;
  double smapeSum_ = 0, maseSum_ = 0, naive2SmapeSum_ = 0, naive2MaseSum_ = 0, msisSum_ = 0;
};

}  // namespace stacklens::core::eval
