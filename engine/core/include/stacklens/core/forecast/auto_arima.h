#pragma once
// Automatic ARIMA order selection (Hyndman & Khandakar 2008, "Automatic time series forecasting:
// the forecast package for R", with the refinements of R forecast 8.20's auto.arima):
//   1. D from the seasonal strength (> 0.64 means one seasonal difference);
//   2. d from repeated KPSS tests on the seasonally differenced series;
//   3. a stepwise search on AICc starting from ARIMA(2,d,2)(1,D,1), (0,d,0)(0,D,0),
//      (1,d,0)(1,D,0) and (0,d,1)(0,D,1), moving one order (or a pair) by +-1 and toggling the
//      constant while the criterion improves; or an exhaustive search over small orders;
//   4. models with an AR or MA root within 1.01 of the unit circle are rejected;
//   5. for long or seasonal series the search ranks models by conditional sum of squares and the
//      best ones are refitted by exact maximum likelihood in ranked order until one passes the root
//      checks ("approximation"). As in R, CSS is estimated in the raw coefficients from zero and
//      stopped at R optim's relative tolerance, so a CSS estimate outside the stationary/invertible
//      region rejects the candidate, and a refit whose CSS start has a non-stationary AR part fails.
// The search stops after maxModels fits or when the time limit is reached (then the best model
// found so far is returned and timedOut is set).

#include <span>
#include <vector>

#include "stacklens/core/forecast/arima.h"

namespace stacklens::core::forecast {

enum class InformationCriterion { kAicc, kAic, kBic };

struct AutoArimaOptions {
  int period = 1;  ///< seasonal period (24 for hourly data); 1 = non-seasonal
  int d = -1;      ///< regular differences; -1 = choose by KPSS
  int D = -1;      ///< seasonal differences; -1 = choose by seasonal strength
  int maxD = 2, maxSeasonalD = 1;
  int maxP = 5, maxQ = 5, maxSeasonalP = 2, maxSeasonalQ = 2;
  int maxOrder = 5;  ///< p + q + P + Q limit of the exhaustive search
  int startP = 2, startQ = 2, startSeasonalP = 1, startSeasonalQ = 1;
  bool stepwise = true;        ///< false = exhaustive search
  bool allowConstant = true;   ///< mean when d + D = 0, drift when d + D = 1
  InformationCriterion criterion = InformationCriterion::kAicc;
  int maxModels = 94;          ///< stepwise search budget (R's nmodels)
  /// -1 = automatic (CSS ranking when n > 150 or period > 12), 0 = always exact ML, 1 = CSS.
  int approximation = -1;
  double minRootModulus = 1.01;  ///< reject models with a root closer to the unit circle
  double timeLimitSeconds = 0;   ///< 0 = no limit
};

/// One model the search fitted.
struct ArimaCandidate {
  ArimaOrder order;
  bool constant = false;
  double criterion = 0;  ///< +inf when rejected (near unit root, failed fit)
};

struct AutoArimaResult {
  ArimaModel model;                    ///< the chosen model, fitted by exact ML
  std::vector<ArimaCandidate> searched;  ///< in the order they were fitted
  bool timedOut = false;
};

/// Selects and fits a model for y (NaN = missing). Throws std::invalid_argument when y has fewer
/// than 3 observed values. Cost: one unit-root decision plus typically 10-40 candidate fits.
AutoArimaResult autoArima(std::span<const double> y, const AutoArimaOptions& options = {});

}  // namespace stacklens::core::forecast
