#pragma once
// Seasonal decomposition of an equally spaced series into trend, seasonal and remainder parts:
// the classical moving-average method (as R's decompose and the original system's
// statsmodels seasonal_decompose) and STL, the robust loess-based method of Cleveland, Cleveland,
// McRae and Terpenning (1990), with the defaults of R's stl().

#include <span>
#include <stdexcept>
#include <vector>

namespace stacklens::core::forecast {

enum class DecompositionType {
  kAdditive,        ///< y = trend + seasonal + remainder
  kMultiplicative,  ///< y = trend * seasonal * remainder (needs y > 0)
};

struct Decomposition {
  DecompositionType type = DecompositionType::kAdditive;
  int period = 0;
  std::vector<double> trend;      ///< length n; NaN where a method leaves it undefined
  std::vector<double> seasonal;   ///< length n
  std::vector<double> remainder;  ///< length n
  /// Seasonal figure: seasonal[t] = figure[t % period] for the classical method; for STL the mean
  /// of the seasonal component at each position. Length period.
  std::vector<double> figure;
  std::vector<double> robustnessWeights;  ///< STL with robust = true: final weights in [0,1]
};

/// Classical decomposition: centred moving average of order `period` (a 2 x period average for
/// even periods) for the trend, the mean detrended value at each position of the cycle for the
/// seasonal figure (normalised to sum 0, or to mean 1 when multiplicative). The first and last
/// floor(period/2) trend values are NaN, as in R and statsmodels. Position 0 of the cycle is the
/// first observation. NaN observations are left out of the seasonal means.
/// Throws std::invalid_argument when period < 2, n < 2 * period, or (multiplicative) y <= 0.
/// O(n).
Decomposition classicalDecomposition(std::span<const double> y, int period,
                                     DecompositionType type = DecompositionType::kAdditive);

/// STL parameters; zero means "R's default".
struct StlOptions {
  int seasonalWindow = 0;     ///< odd span of the cycle-subseries smoother; 0 = periodic
  int seasonalDegree = -1;    ///< 0 or 1; -1 = 0 (R default)
  int trendWindow = 0;        ///< odd; 0 = nextodd(ceil(1.5 period / (1 - 1.5 / seasonalWindow)))
  int trendDegree = 1;
  int lowPassWindow = 0;      ///< odd; 0 = nextodd(period)
  int lowPassDegree = -1;     ///< -1 = trendDegree
  int seasonalJump = 0;       ///< loess evaluated every k-th point; 0 = ceil(window / 10)
  int trendJump = 0;
  int lowPassJump = 0;
  bool robust = false;        ///< bisquare robustness iterations against outliers
  int innerIterations = 0;    ///< 0 = 1 if robust, else 2
  int outerIterations = -1;   ///< -1 = 15 if robust, else 0
};

/// STL decomposition (additive). With seasonalWindow = 0 the seasonal part is periodic (each
/// position's mean), as R's s.window = "periodic". Needs n >= 2 * period, period >= 2 and no
/// missing values (throws std::invalid_argument otherwise). O(n * (window sizes / jumps)) per
/// pass: linear in n.
Decomposition stlDecomposition(std::span<const double> y, int period, const StlOptions& options = {});

/// Strength of seasonality F_S = max(0, 1 - Var(remainder) / Var(seasonal + remainder)) from an
/// STL decomposition (seasonal window 11, as R forecast's mstl uses for nsdiffs); in [0, 1].
/// 0 when n < 2 * period.
double seasonalStrength(std::span<const double> y, int period);

}  // namespace stacklens::core::forecast
