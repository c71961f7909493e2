#pragma once
// How many differences a series needs: the KPSS test for regular differences and the seasonal
// strength heuristic for seasonal ones, as Hyndman & Khandakar's automatic ARIMA uses them
// (R forecast 8.20's ndiffs(test = "kpss") and nsdiffs(test = "seas")).

#include <span>

namespace stacklens::core::forecast {

/// KPSS statistic for level stationarity (Kwiatkowski, Phillips, Schmidt & Shin 1992):
/// sum of squared partial sums of the demeaned series / (n^2 * long-run variance), the long-run
/// variance from Bartlett-weighted autocovariances up to `lags`. NaN values are dropped. O(n lags).
double kpssStatistic(std::span<const double> x, int lags);

/// p-value of a level-KPSS statistic, interpolated linearly in the asymptotic table
/// (0.347, 0.463, 0.574, 0.739 at 10%, 5%, 2.5%, 1%) and clamped to [0.01, 0.10].
double kpssPValue(double statistic);

/// Number of first differences (0..maxD) after which the KPSS test no longer rejects level
/// stationarity at `alpha`, with lags trunc(3 sqrt(n) / 13). A constant series needs none.
int regularDifferences(std::span<const double> x, double alpha = 0.05, int maxD = 2);

/// Number of seasonal differences (0..maxD): difference while the seasonal strength of the series
/// exceeds 0.64 and at least two periods remain. 0 for period < 2 or n <= 2 * period.
int seasonalDifferences(std::span<const double> x, int period, int maxD = 1);

}  // namespace stacklens::core::forecast
