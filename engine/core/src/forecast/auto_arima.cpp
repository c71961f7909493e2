#include "stacklens/core/forecast/auto_arima.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "forecast/arima_polynomials.h"
#include "forecast/series_utils.h"
#include "stacklens/core/forecast/unit_root.h"

namespace stacklens::core::forecast {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Candidate {
  int p = 0, q = 0, P = 0, Q = 0;
  bool constant = false;
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

class Search {
 public:
  Search(std::span<const double> y, const AutoArimaOptions& options, int d, int D, int period, bool approximation)
      : y_(y), options_(options), d_(d), D_(D), period_(period), approximation_(approximation),
        start_(std::chrono::steady_clock::now()) {}

  bool outOfTime() const {
    if (options_.timeLimitSeconds <= 0) return false;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return elapsed > options_.timeLimitSeconds;
  }

  bool seen(const Candidate& c) const {
    return std::any_of(tried_.begin(), tried_.end(), [&](const auto& entry) { return entry.first == c; });
  }
  int fitted() const { return static_cast<int>(tried_.size()); }

  // Fits a candidate by exact ML or CSS and returns its criterion; +inf when rejected. Search fits
  // are recorded (and the best exact one kept); refits are not.
  double evaluate(const Candidate& c, bool exact, bool record, std::optional<ArimaModel>* keep = nullptr) {
    ArimaSpec spec;
    spec.order = order(c);
    spec.includeConstant = c.constant;
    spec.method = exact ? FitMethod::kCssMl : FitMethod::kCss;
    spec.computeState = exact;
    spec.unconstrainedCss = true;  // as R: candidates whose CSS leaves the stationary region are rejected
    if (approximation_) spec.gradientTolerance = 1e-5;  // refits only decide acceptance
    double criterion = kInf;
    try {
      ArimaModel model = fitArima(y_, spec);
      criterion = criterionOf(model, exact);
      if (std::isfinite(criterion) && !acceptableRoots(model)) criterion = kInf;
      if (record && exact && criterion < bestExactCriterion_) {
        bestExactCriterion_ = criterion;
        bestExact_ = model;
      }
      if (keep) *keep = std::move(model);
    } catch (const std::exception&) {
      criterion = kInf;
    }
    if (record) tried_.emplace_back(c, criterion);
    return criterion;
  }

  ArimaOrder order(const Candidate& c) const {
    return ArimaOrder{c.p, d_, c.q, period_ > 1 ? c.P : 0, period_ > 1 ? D_ : 0, period_ > 1 ? c.Q : 0,
                      period_ > 1 ? period_ : 1};
  }

  const std::vector<std::pair<Candidate, double>>& tried() const { return tried_; }
  std::optional<ArimaModel>& bestExact() { return bestExact_; }
  bool approximation() const { return approximation_; }

 private:
  double criterionOf(const ArimaModel& m, bool exact) const {
    const int npar = m.coefficientCount() + 1;
    const double nstar = m.nEffective;
    // With CSS, R's auto.arima ranks by nstar * log(sigma2_CSS) + 2 npar (its constant offset
    // does not change the ranking); with ML by the likelihood-based criteria.
    const double aic = exact ? m.aic : nstar * std::log(m.sigma2Mle) + 2.0 * npar;
    if (!std::isfinite(aic)) return kInf;
    switch (options_.criterion) {
      case InformationCriterion::kAic:
        return aic;
      case InformationCriterion::kBic:
        return aic + npar * (std::log(nstar) - 2.0);
      case InformationCriterion::kAicc:
        return nstar - npar - 1 > 0 ? aic + 2.0 * npar * (npar + 1) / (nstar - npar - 1) : kInf;
    }
    return kInf;
  }

  bool acceptableRoots(const ArimaModel& m) const {
    const int period = std::max(m.order.period, 1);
    const std::vector<double> ar = detail::expandAr(m.ar, m.seasonalAr, period);
    const std::vector<double> ma = detail::expandMa(m.ma, m.seasonalMa, period);
    const double minRoot = std::min(detail::minRootModulus(ar), detail::minRootModulus(detail::negated(ma)));
    const auto coefficients = m.coefficients();
    const bool finite = std::all_of(coefficients.begin(), coefficients.end(), [](double v) { return std::isfinite(v); });
    return finite && minRoot >= options_.minRootModulus;
  }

  std::span<const double> y_;
  const AutoArimaOptions& options_;
  int d_, D_, period_;
  bool approximation_;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::pair<Candidate, double>> tried_;
  std::optional<ArimaModel> bestExact_;
  double bestExactCriterion_ = kInf;
};

// Stepwise search of Hyndman & Khandakar (2008) in the move order of R forecast 8.20.
void stepwiseSearch(Search& search, const AutoArimaOptions& o, bool seasonal, bool constantAllowed,
                    std::size_t nonMissing, bool& timedOut) {
  const int maxP = o.maxP, maxQ = o.maxQ;
  const int maxSP = seasonal ? o.maxSeasonalP : 0, maxSQ = seasonal ? o.maxSeasonalQ : 0;
  Candidate best{std::min(o.startP, maxP), std::min(o.startQ, maxQ), std::min(o.startSeasonalP, maxSP),
                 std::min(o.startSeasonalQ, maxSQ), constantAllowed};
  if (nonMissing < 10) {
    best.p = std::min(best.p, 1);
    best.q = std::min(best.q, 1);
    best.P = best.Q = 0;
  }
  double bestIc = kInf;
  auto tryModel = [&](const Candidate& c) {
    if (search.seen(c) || search.fitted() >= o.maxModels) return false;
    if (search.outOfTime()) {
      timedOut = true;
      return false;
    }
    const double ic = search.evaluate(c, !search.approximation(), true);
    if (ic < bestIc) {
      bestIc = ic;
      best = c;
      return true;
    }
    return false;
  };
  const Candidate first = best;
  tryModel(first);
  tryModel({0, 0, 0, 0, constantAllowed});
  if (maxP > 0 || maxSP > 0) tryModel({maxP > 0 ? 1 : 0, 0, maxSP > 0 ? 1 : 0, 0, constantAllowed});
  if (maxQ > 0 || maxSQ > 0) tryModel({0, maxQ > 0 ? 1 : 0, 0, maxSQ > 0 ? 1 : 0, constantAllowed});
  if (constantAllowed) tryModel({0, 0, 0, 0, false});

  bool improved = true;
  while (improved && !timedOut && search.fitted() < o.maxModels) {
    improved = false;
    const Candidate c = best;
    const Candidate moves[] = {
        {c.p, c.q, c.P - 1, c.Q, c.constant},         {c.p, c.q, c.P, c.Q - 1, c.constant},
        {c.p, c.q, c.P + 1, c.Q, c.constant},         {c.p, c.q, c.P, c.Q + 1, c.constant},
        {c.p, c.q, c.P - 1, c.Q - 1, c.constant},     {c.p, c.q, c.P - 1, c.Q + 1, c.constant},
        {c.p, c.q, c.P + 1, c.Q - 1, c.constant},     {c.p, c.q, c.P + 1, c.Q + 1, c.constant},
        {c.p - 1, c.q, c.P, c.Q, c.constant},         {c.p, c.q - 1, c.P, c.Q, c.constant},
        {c.p + 1, c.q, c.P, c.Q, c.constant},         {c.p, c.q + 1, c.P, c.Q, c.constant},
        {c.p - 1, c.q - 1, c.P, c.Q, c.constant},     {c.p - 1, c.q + 1, c.P, c.Q, c.constant},
        {c.p + 1, c.q - 1, c.P, c.Q, c.constant},     {c.p + 1, c.q + 1, c.P, c.Q, c.constant},
        {c.p, c.q, c.P, c.Q, !c.constant},
    };
    for (std::size_t i = 0; i < std::size(moves); ++i) {
      const Candidate& m = moves[i];
      const bool toggle = i + 1 == std::size(moves);
      if (toggle && !constantAllowed) continue;
      if (m.p < 0 || m.q < 0 || m.P < 0 || m.Q < 0 || m.p > maxP || m.q > maxQ || m.P > maxSP || m.Q > maxSQ) continue;
      if (tryModel(m)) {
        improved = true;
        break;
      }
      if (timedOut) break;
    }
  }
}

void exhaustiveSearch(Search& search, const AutoArimaOptions& o, bool seasonal, bool constantAllowed,
                      bool& timedOut) {
  const int maxSP = seasonal ? o.maxSeasonalP : 0, maxSQ = seasonal ? o.maxSeasonalQ : 0;
  for (int p = 0; p <= o.maxP; ++p)
    for (int q = 0; q <= o.maxQ; ++q)
      for (int P = 0; P <= maxSP; ++P)
        for (int Q = 0; Q <= maxSQ; ++Q) {
          if (p + q + P + Q > o.maxOrder) continue;
          for (int k = constantAllowed ? 1 : 0; k >= 0; --k) {
            if (search.outOfTime()) {
              timedOut = true;
              return;
            }
            search.evaluate({p, q, P, Q, k == 1}, !search.approximation(), true);
          }
        }
}

}  // namespace

AutoArimaResult autoArima(std::span<const double> y, const AutoArimaOptions& options) {
  const std::vector<double> observed = detail::dropMissing(y);
  if (observed.size() < 3) throw std::invalid_argument("automatic ARIMA needs at least 3 observed values");
  const int n = static_cast<int>(y.size());
  int period = options.period >= 2 ? options.period : 1;

  int D = 0;
  if (period > 1) {
    if (options.D >= 0)
      D = options.D;
    else if (n > 2 * period)
      D = seasonalDifferences(y, period, options.maxSeasonalD);
  }
  std::vector<double> dx(y.begin(), y.end());
  for (int i = 0; i < D; ++i) dx = detail::difference(dx, period);
  const int d = options.d >= 0 ? options.d : regularDifferences(dx, 0.05, options.maxD);
  for (int i = 0; i < d; ++i) dx = detail::difference(dx, 1);

  AutoArimaOptions o = options;
  const bool seasonal = period > 1;
  if (seasonal) {
    if (o.maxSeasonalP > 0) o.maxP = std::min(o.maxP, period - 1);
    if (o.maxSeasonalQ > 0) o.maxQ = std::min(o.maxQ, period - 1);
  }
  const bool constantAllowed = o.allowConstant && d + D <= 1;
  const bool approximation = o.approximation < 0 ? (n > 150 || period > 12) : o.approximation == 1;
  Search search(y, o, d, D, period, approximation);

  AutoArimaResult result;
  if (detail::isConstant(dx)) {
    // Nothing left to model after differencing: a random walk / seasonal random walk (+ drift).
    ArimaSpec spec;
    spec.order = search.order({0, 0, 0, 0, constantAllowed});
    spec.includeConstant = constantAllowed;
    result.model = fitArima(y, spec);
    result.searched.push_back({spec.order, constantAllowed, result.model.aicc});
    return result;
  }

  if (o.stepwise)
    stepwiseSearch(search, o, seasonal, constantAllowed, observed.size(), result.timedOut);
  else
    exhaustiveSearch(search, o, seasonal, constantAllowed, result.timedOut);

  // Rank what was tried; refit by exact ML (when approximating) until a model passes the checks.
  std::vector<std::pair<Candidate, double>> ranked = search.tried();
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::optional<ArimaModel> chosen;
  if (!search.approximation()) chosen = std::move(search.bestExact());
  for (const auto& [candidate, ic] : ranked) {
    if (chosen) break;
    std::optional<ArimaModel> refit;
    if (std::isfinite(search.evaluate(candidate, true, false, &refit))) {
      chosen = std::move(refit);
      break;
    }
    if (search.outOfTime()) break;
  }
  if (!chosen) {
    // Every candidate was rejected: fall back to the differencing-only model.
    ArimaSpec spec;
    spec.order = search.order({0, 0, 0, 0, constantAllowed});
    spec.includeConstant = constantAllowed;
    chosen = fitArima(y, spec);
  }
  result.model = std::move(*chosen);
  for (const auto& [candidate, ic] : search.tried())
    result.searched.push_back({search.order(candidate), candidate.constant, ic});
  return result;
}

}  // namespace stacklens::core::forecast
