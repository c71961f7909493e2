#include "stacklens/core/forecast/arima.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <sstream>

#include "forecast/arima_kalman.h"
#include "forecast/arima_polynomials.h"
#include "forecast/normal.h"
#include "forecast/optimizer.h"

namespace stacklens::core::forecast {

namespace {

using detail::ArimaSystem;

constexpr double kTransformBound = 8.0;  // |u| bound: partial autocorrelations within tanh(8)
constexpr double kRawBound = 1e3;        // raw CSS coefficients: a box only to keep the search finite
constexpr double kRReltol = 1.490116119384765625e-8;  // sqrt(DBL_EPSILON), R optim's default reltol

struct ArmaCoefficients {
  std::vector<double> ar, ma, seasonalAr, seasonalMa;
};

int armaParameterCount(const ArimaOrder& o) { return o.p + o.q + o.P + o.Q; }

// Unconstrained vector -> stationary/invertible coefficients, block by block.
ArmaCoefficients fromUnconstrained(const ArimaOrder& o, const Eigen::VectorXd& u) {
  ArmaCoefficients c;
  int offset = 0;
  auto block = [&](int count, bool negate) {
    std::vector<double> values =
        detail::unconstrainedToStationary(std::span<const double>(u.data() + offset, static_cast<std::size_t>(count)));
    offset += count;
    if (negate)
      for (double& v : values) v = -v;
    return values;
  };
  c.ar = block(o.p, false);
  c.ma = block(o.q, true);
  c.seasonalAr = block(o.P, false);
  c.seasonalMa = block(o.Q, true);
  return c;
}

// Raw vector (ar, ma, sar, sma as written in the model) -> coefficients, no constraint.
ArmaCoefficients fromRaw(const ArimaOrder& o, const Eigen::VectorXd& x) {
  ArmaCoefficients c;
  int offset = 0;
  auto block = [&](int count) {
    std::vector<double> values(x.data() + offset, x.data() + offset + count);
    offset += count;
    return values;
  };
  c.ar = block(o.p);
  c.ma = block(o.q);
  c.seasonalAr = block(o.P);
  c.seasonalMa = block(o.Q);
  return c;
}

// Unconstrained ML start from raw CSS coefficients. Throws for a non-stationary AR block; a
// non-invertible MA block starts from zero.
Eigen::VectorXd unconstrainedStart(const ArimaOrder& o, const ArmaCoefficients& c) {
  Eigen::VectorXd u(armaParameterCount(o));
  int offset = 0;
  auto block = [&](const std::vector<double>& values, bool ma, const char* name) {
    const std::vector<double> polynomial = ma ? detail::negated(values) : values;
    const bool inside = detail::minRootModulus(polynomial) > 1.0;
    if (!inside && !ma) throw std::invalid_argument(std::string("non-stationary ") + name + " part from CSS");
    const std::vector<double> start =
        inside ? detail::stationaryToUnconstrained(polynomial) : std::vector<double>(values.size(), 0.0);
    for (double v : start) u[offset++] = v;
  };
  block(c.ar, false, "AR");
  block(c.ma, true, "MA");
  block(c.seasonalAr, false, "seasonal AR");
  block(c.seasonalMa, true, "seasonal MA");
  return u;
}

ArimaSystem systemFor(const ArimaOrder& o, const ArmaCoefficients& c) {
  const int period = std::max(o.period, 1);
  return detail::makeSystem(detail::expandAr(c.ar, c.seasonalAr, period), detail::expandMa(c.ma, c.seasonalMa, period),
                            detail::differencingPolynomial(o.d, o.period >= 2 ? o.D : 0, period));
}

ArimaConstant constantFor(const ArimaSpec& spec) {
  if (!spec.includeConstant) return ArimaConstant::kNone;
  const int orders = spec.order.d + (spec.order.period >= 2 ? spec.order.D : 0);
  if (orders == 0) return ArimaConstant::kMean;
  if (orders == 1) return ArimaConstant::kDrift;
  return ArimaConstant::kNone;
}

// Data matrix: column 0 the series, then the regressor (1 or t = 1..n).
Eigen::MatrixXd dataMatrix(std::span<const double> y, ArimaConstant constant) {
  const Eigen::Index n = static_cast<Eigen::Index>(y.size());
  Eigen::MatrixXd data(n, constant == ArimaConstant::kNone ? 1 : 2);
  for (Eigen::Index t = 0; t < n; ++t) {
    data(t, 0) = y[static_cast<std::size_t>(t)];
    if (constant == ArimaConstant::kMean) data(t, 1) = 1.0;
    if (constant == ArimaConstant::kDrift) data(t, 1) = static_cast<double>(t + 1);
  }
  return data;
}

// The series minus a known regression part (beta * 1 or beta * t), as one column.
Eigen::MatrixXd dataLessRegression(std::span<const double> y, ArimaConstant constant, double beta) {
  Eigen::MatrixXd data = dataMatrix(y, ArimaConstant::kNone);
  if (constant != ArimaConstant::kNone)
    for (Eigen::Index t = 0; t < data.rows(); ++t)
      data(t, 0) -= beta * (constant == ArimaConstant::kMean ? 1.0 : static_cast<double>(t + 1));
  return data;
}

// Generalised least squares from the cross-products of the (filtered) data and regressors:
// beta = Sxx^{-1} Sxy, residual sum of squares Syy - Sxy' beta.
struct Concentrated {
  Eigen::VectorXd beta;
  double ssq = 0;
};
Concentrated concentrate(const Eigen::MatrixXd& s) {
  Concentrated out;
  const Eigen::Index k = s.rows() - 1;
  out.ssq = s(0, 0);
  out.beta = Eigen::VectorXd::Zero(k);
  if (k > 0) {
    const Eigen::MatrixXd sxx = s.bottomRightCorner(k, k);
    const Eigen::VectorXd sxy = s.block(1, 0, k, 1);
    Eigen::LDLT<Eigen::MatrixXd> ldlt(sxx);
    if (ldlt.info() == Eigen::Success && sxx.diagonal().minCoeff() > 0.0) {
      out.beta = ldlt.solve(sxy);
      out.ssq = s(0, 0) - sxy.dot(out.beta);
    }
  }
  out.ssq = std::max(out.ssq, 0.0);
  return out;
}

// Conditional sum of squares: residuals of the ARMA recursion on the differenced data, started
// after d + sD + p + sP observations with zero pre-sample errors. Missing values give no residual
// and count as zero in the MA recursion. The differenced data do not depend on the parameters, so
// they are formed once per fit.
struct CssData {
  Eigen::MatrixXd w;  // differenced columns; rows before nd unused
  int nd = 0;
};

CssData cssData(const ArimaOrder& o, const Eigen::MatrixXd& data) {
  const std::vector<double> delta =
      detail::differencingPolynomial(o.d, o.period >= 2 ? o.D : 0, std::max(o.period, 1));
  CssData out;
  out.nd = static_cast<int>(delta.size());
  out.w = Eigen::MatrixXd::Constant(data.rows(), data.cols(), std::nan(""));
  for (Eigen::Index c = 0; c < data.cols(); ++c)
    for (Eigen::Index t = out.nd; t < data.rows(); ++t) {
      double value = data(t, c);
      for (int j = 0; j < out.nd; ++j)
        if (delta[j] != 0.0) value -= delta[j] * data(t - 1 - j, c);
      out.w(t, c) = value;
    }
  return out;
}

struct CssResult {
  Eigen::MatrixXd crossProducts;
  int used = 0;
};

CssResult conditionalSumOfSquares(const ArimaSystem& s, const CssData& css) {
  const Eigen::Index n = css.w.rows();
  const Eigen::Index cols = css.w.cols();
  const Eigen::Index start = css.nd + static_cast<Eigen::Index>(s.ar.size());
  // Only the non-zero lags of the (sparse, seasonal) polynomials.
  std::vector<std::pair<Eigen::Index, double>> ar, ma;
  for (std::size_t i = 0; i < s.ar.size(); ++i)
    if (s.ar[i] != 0.0) ar.emplace_back(static_cast<Eigen::Index>(i + 1), s.ar[i]);
  for (std::size_t j = 0; j < s.ma.size(); ++j)
    if (s.ma[j] != 0.0) ma.emplace_back(static_cast<Eigen::Index>(j + 1), s.ma[j]);
  CssResult out;
  out.crossProducts = Eigen::MatrixXd::Zero(cols, cols);
  Eigen::MatrixXd e = Eigen::MatrixXd::Zero(n, cols);
  std::vector<char> valid(static_cast<std::size_t>(n), 0);
  for (Eigen::Index c = 0; c < cols; ++c) {
    const double* w = css.w.col(c).data();
    double* residual = e.col(c).data();
    for (Eigen::Index t = start; t < n; ++t) {
      double value = w[t];
      for (const auto& [lag, coefficient] : ar) value -= coefficient * w[t - lag];
      for (const auto& [lag, coefficient] : ma)
        if (t - lag >= start) value -= coefficient * residual[t - lag];
      if (std::isnan(value)) continue;  // stays 0 in the recursion
      residual[t] = value;
      if (c == 0) valid[static_cast<std::size_t>(t)] = 1;
    }
  }
  for (Eigen::Index t = start; t < n; ++t) {
    if (!valid[static_cast<std::size_t>(t)]) continue;
    for (Eigen::Index a = 0; a < cols; ++a)
      for (Eigen::Index b = 0; b <= a; ++b) out.crossProducts(a, b) += e(t, a) * e(t, b);
    ++out.used;
  }
  for (Eigen::Index a = 0; a < cols; ++a)
    for (Eigen::Index b = a + 1; b < cols; ++b) out.crossProducts(a, b) = out.crossProducts(b, a);
  return out;
}

// 0.5 log(CSS / used), the objective of R's CSS estimation, at given coefficients.
double cssObjective(const ArimaOrder& o, const CssData& data, const ArmaCoefficients& c) {
  const CssResult css = conditionalSumOfSquares(systemFor(o, c), data);
  if (css.used == 0) return std::nan("");
  const double ssq = concentrate(css.crossProducts).ssq;
  return 0.5 * std::log(ssq / css.used);
}

double mlObjective(const ArimaOrder& o, const Eigen::MatrixXd& data, const Eigen::VectorXd& u) {
  const detail::FilterResult filtered = detail::runFilter(systemFor(o, fromUnconstrained(o, u)), data);
  if (!filtered.ok || filtered.used == 0) return std::nan("");
  const double ssq = concentrate(filtered.crossProducts).ssq;
  return 0.5 * std::log(ssq / filtered.used) + 0.5 * filtered.sumLogF / filtered.used;
}

std::string joinNumbers(const std::vector<double>& values) {
  std::ostringstream out;
  out.precision(17);
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? " " : "") << values[i];
  return out.str();
}

void validate(std::span<const double> y, const ArimaOrder& o) {
  if (o.p < 0 || o.d < 0 || o.q < 0 || o.P < 0 || o.D < 0 || o.Q < 0)
    throw std::invalid_argument("ARIMA orders must be non-negative, got " + o.toString());
  if (o.period < 1) throw std::invalid_argument("ARIMA seasonal period must be >= 1");
  if (o.period < 2 && (o.P > 0 || o.D > 0 || o.Q > 0))
    throw std::invalid_argument("a seasonal ARIMA part needs a period >= 2, got " + o.toString());
  if (o.d > 2 || o.D > 2) throw std::invalid_argument("ARIMA supports at most 2 regular and 2 seasonal differences");
  const auto observed = std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); });
  if (std::any_of(y.begin(), y.end(), [](double v) { return std::isinf(v); }))
    throw std::invalid_argument("the series contains an infinite value");
  const int needed = o.differencingLength() + armaParameterCount(o) + 2;
  if (observed < needed)
    throw std::invalid_argument(o.toString() + " needs at least " + std::to_string(needed) +
                                " observed values, the series has " + std::to_string(observed));
}

// The fitted model's coefficients `c` applied to y: the concentrated mean/drift, sigma^2, the
// likelihood and information criteria, the residuals and the forecast state (with
// spec.computeState), from one filter pass (or the CSS recursion for FitMethod::kCss).
ArimaModel finishModel(ArimaModel model, std::span<const double> y, const Eigen::MatrixXd& data,
                       const ArmaCoefficients& c, const ArimaSpec& spec, const CssData& differenced) {
  const ArimaOrder& o = spec.order;
  model.ar = c.ar;
  model.ma = c.ma;
  model.seasonalAr = c.seasonalAr;
  model.seasonalMa = c.seasonalMa;
  const ArimaSystem system = systemFor(o, c);

  Concentrated beta;
  int cssUsed = 0;
  if (spec.method == FitMethod::kCss) {
    const CssResult css = conditionalSumOfSquares(system, differenced);
    beta = concentrate(css.crossProducts);
    cssUsed = css.used;
    if (!spec.computeState) {
      // Ranking only: the CSS criterion needs sigma^2 and the sample sizes, not the filter.
      if (model.constant != ArimaConstant::kNone) model.constantValue = beta.beta[0];
      model.sigma2Mle = beta.ssq / std::max(cssUsed, 1);
      model.sigma2 = model.sigma2Mle;
      model.logLikelihood = -0.5 * cssUsed * (std::log(2.0 * std::numbers::pi * model.sigma2Mle) + 1.0);
      const auto observedCount = std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); });
      model.nEffective = static_cast<int>(observedCount) - o.differencingLength();
      model.observations = cssUsed;
      return model;
    }
  }

  detail::FilterOptions filterOptions;
  filterOptions.keepInnovations = true;
  filterOptions.keepFinalState = true;
  const detail::FilterResult filtered = detail::runFilter(system, data, filterOptions);
  if (!filtered.ok || filtered.used == 0) throw std::invalid_argument("ARIMA fit failed: no usable observations");
  if (spec.method != FitMethod::kCss) beta = concentrate(filtered.crossProducts);
  if (model.constant != ArimaConstant::kNone) model.constantValue = beta.beta[0];

  // Innovations, final state and sums of squares of y - x beta.
  const Eigen::Index n = data.rows();
  model.residuals.assign(static_cast<std::size_t>(n), std::nan(""));
  double ssq = 0.0;
  for (Eigen::Index t = 0; t < n; ++t) {
    if (std::isnan(filtered.variances[t])) continue;
    double v = filtered.innovations(t, 0);
    for (Eigen::Index j = 0; j < beta.beta.size(); ++j) v -= filtered.innovations(t, j + 1) * beta.beta[j];
    const double standardized = v / std::sqrt(filtered.variances[t]);
    model.residuals[static_cast<std::size_t>(t)] = standardized;
    ssq += standardized * standardized;
  }
  model.finalState = filtered.finalMean.col(0);
  for (Eigen::Index j = 0; j < beta.beta.size(); ++j) model.finalState -= filtered.finalMean.col(j + 1) * beta.beta[j];
  model.finalCovariance = filtered.finalCov;

  const auto observed = std::count_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); });
  model.observations = filtered.used;
  model.nEffective = static_cast<int>(observed) - o.differencingLength();
  const int coefficientCount = model.coefficientCount();
  const int npar = coefficientCount + 1;
  const double used = filtered.used;
  if (spec.method == FitMethod::kCss) {
    model.sigma2Mle = beta.ssq / std::max(cssUsed, 1);
    model.logLikelihood = -0.5 * cssUsed * (std::log(2.0 * std::numbers::pi * model.sigma2Mle) + 1.0);
  } else {
    model.sigma2Mle = ssq / used;
    model.logLikelihood = -0.5 * (used * std::log(2.0 * std::numbers::pi * model.sigma2Mle) + filtered.sumLogF + used);
  }
  model.sigma2 = ssq / std::max(1, model.nEffective - coefficientCount);
  model.aic = -2.0 * model.logLikelihood + 2.0 * npar;
  const double nstar = model.nEffective;
  model.bic = model.aic + npar * (std::log(nstar) - 2.0);
  model.aicc = nstar - npar - 1 > 0 ? model.aic + 2.0 * npar * (npar + 1) / (nstar - npar - 1)
                                    : std::numeric_limits<double>::infinity();
  return model;
}

}  // namespace

std::string ArimaOrder::toString() const {
  std::string text = "ARIMA(" + std::to_string(p) + "," + std::to_string(d) + "," + std::to_string(q) + ")";
  if (hasSeasonalPart())
    text += "(" + std::to_string(P) + "," + std::to_string(D) + "," + std::to_string(Q) + ")[" +
            std::to_string(period) + "]";
  return text;
}

std::vector<double> ArimaModel::coefficients() const {
  std::vector<double> out;
  out.insert(out.end(), ar.begin(), ar.end());
  out.insert(out.end(), ma.begin(), ma.end());
  out.insert(out.end(), seasonalAr.begin(), seasonalAr.end());
  out.insert(out.end(), seasonalMa.begin(), seasonalMa.end());
  if (constant != ArimaConstant::kNone) out.push_back(constantValue);
  return out;
}

std::vector<std::string> ArimaModel::coefficientNames() const {
  std::vector<std::string> out;
  auto add = [&](const char* prefix, std::size_t count) {
    for (std::size_t i = 1; i <= count; ++i) out.push_back(prefix + std::to_string(i));
  };
  add("ar", ar.size());
  add("ma", ma.size());
  add("sar", seasonalAr.size());
  add("sma", seasonalMa.size());
  if (constant == ArimaConstant::kMean) out.emplace_back("mean");
  if (constant == ArimaConstant::kDrift) out.emplace_back("drift");
  return out;
}

std::string ArimaModel::describe() const {
  std::string text = order.toString();
  if (constant == ArimaConstant::kMean) text += " with non-zero mean";
  if (constant == ArimaConstant::kDrift) text += " with drift";
  return text;
}

ArimaModel fitArima(std::span<const double> y, const ArimaSpec& spec) {
  const ArimaOrder& o = spec.order;
  validate(y, o);
  ArimaModel model;
  model.order = o;
  if (model.order.period < 2) model.order.P = model.order.D = model.order.Q = 0;
  model.constant = constantFor(spec);
  model.method = spec.method;
  model.seriesLength = static_cast<int>(y.size());
  const Eigen::MatrixXd data = dataMatrix(y, model.constant);

  const int k = armaParameterCount(o);
  const Eigen::VectorXd lower = Eigen::VectorXd::Constant(k, -kTransformBound);
  const Eigen::VectorXd upper = Eigen::VectorXd::Constant(k, kTransformBound);
  detail::MinimizeOptions options;
  options.maxIterations = spec.maxIterations;
  options.gradientTolerance = spec.gradientTolerance;
  Eigen::VectorXd u = Eigen::VectorXd::Zero(k);
  bool converged = true;
  const CssData differenced = cssData(o, data);
  if (spec.method != FitMethod::kMl) {
    // CSS only ranks models and starts ML: a looser tolerance than the final ML optimisation.
    detail::MinimizeOptions cssOptions = options;
    cssOptions.gradientTolerance = 1e-5;
    cssOptions.relativeDecrease = 1e-10;
    cssOptions.centralDifferences = false;
    if (spec.unconstrainedCss) {
      // R's optim stops at a relative decrease of sqrt(machine epsilon); stopping there, not at the
      // deepest CSS minimum, is what its ranking (and so the chosen model) is built on. A step
      // into an explosive region fails the line search: restart from the best point, as R's BFGS
      // resets to steepest descent.
      const Eigen::VectorXd bound = Eigen::VectorXd::Constant(k, kRawBound);
      cssOptions.relativeDecrease = kRReltol;
      cssOptions.lineSearchRestarts = 10;
      const auto css = detail::minimizeBox(
          [&](const Eigen::VectorXd& x) { return cssObjective(o, differenced, fromRaw(o, x)); }, u, -bound, bound,
          cssOptions);
      model.iterations += css.iterations;
      converged = css.converged;
      if (spec.method == FitMethod::kCss) {
        model.converged = converged;
        return finishModel(std::move(model), y, data, fromRaw(o, css.x), spec, differenced);
      }
      u = unconstrainedStart(o, fromRaw(o, css.x));
    } else {
      const auto css = detail::minimizeBox(
          [&](const Eigen::VectorXd& x) { return cssObjective(o, differenced, fromUnconstrained(o, x)); }, u, lower,
          upper, cssOptions);
      u = css.x;
      model.iterations += css.iterations;
      converged = css.converged;
    }
  }
  if (spec.method != FitMethod::kCss) {
    auto ml = detail::minimizeBox([&](const Eigen::VectorXd& x) { return mlObjective(o, data, x); }, u, lower, upper,
                                  options);
    if (spec.method == FitMethod::kCssMl && !ml.converged) {
      // A poor CSS start (e.g. near a unit root) can stall; retry from zero.
      auto retry = detail::minimizeBox([&](const Eigen::VectorXd& x) { return mlObjective(o, data, x); },
                                       Eigen::VectorXd::Zero(k), lower, upper, options);
      if (retry.value < ml.value) ml = retry;
    }
    u = ml.x;
    model.iterations += ml.iterations;
    converged = ml.converged;
  }
  model.converged = converged;

  return finishModel(std::move(model), y, data, fromUnconstrained(o, u), spec, differenced);
}

std::optional<std::vector<int>> parseOrderNumbers(std::string_view text) {
  std::vector<int> numbers;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view field = text.substr(start, comma - start);
    int value = -1;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (error != std::errc() || end != field.data() + field.size() || value < 0) return std::nullopt;
    numbers.push_back(value);
    start = comma + 1;
  }
  return numbers;
}

ArimaModel refilterArima(const ArimaModel& fitted, std::span<const double> y) {
  validate(y, fitted.order);
  ArimaModel model;
  model.order = fitted.order;
  model.constant = fitted.constant;
  model.method = FitMethod::kMl;
  model.seriesLength = static_cast<int>(y.size());
  model.converged = fitted.converged;
  const Eigen::MatrixXd data = dataMatrix(y, model.constant);
  ArimaSpec spec;
  spec.order = fitted.order;
  spec.method = FitMethod::kMl;
  return finishModel(std::move(model), y, data, {fitted.ar, fitted.ma, fitted.seasonalAr, fitted.seasonalMa}, spec,
                     cssData(fitted.order, data));
}

LikelihoodAt arimaLikelihood(std::span<const double> y, const ArimaOrder& order, ArimaConstant constant,
                             std::span<const double> coefficients, double sigma2) {
  validate(y, order);
  const std::size_t k = static_cast<std::size_t>(armaParameterCount(order));
  const std::size_t expected = k + (constant == ArimaConstant::kNone ? 0 : 1);
  if (coefficients.size() != expected)
    throw std::invalid_argument("expected " + std::to_string(expected) + " coefficients, got " +
                                std::to_string(coefficients.size()));
  ArmaCoefficients c;
  auto take = [&, offset = std::size_t{0}](int count) mutable {
    std::vector<double> out(coefficients.begin() + static_cast<std::ptrdiff_t>(offset),
                            coefficients.begin() + static_cast<std::ptrdiff_t>(offset + static_cast<std::size_t>(count)));
    offset += static_cast<std::size_t>(count);
    return out;
  };
  c.ar = take(order.p);
  c.ma = take(order.q);
  c.seasonalAr = take(order.P);
  c.seasonalMa = take(order.Q);
  const detail::FilterResult filtered = detail::runFilter(
      systemFor(order, c), dataLessRegression(y, constant, constant == ArimaConstant::kNone ? 0 : coefficients.back()));
  LikelihoodAt out;
  if (!filtered.ok || filtered.used == 0) {
    out.logLikelihood = -std::numeric_limits<double>::infinity();
    return out;
  }
  out.observations = filtered.used;
  const double ssq = filtered.crossProducts(0, 0);
  out.sigma2Mle = ssq / filtered.used;
  const double s2 = std::isnan(sigma2) ? out.sigma2Mle : sigma2;
  out.logLikelihood =
      -0.5 * (filtered.used * std::log(2.0 * std::numbers::pi * s2) + filtered.sumLogF + ssq / s2);
  return out;
}

ForecastPath forecastArima(const ArimaModel& model, int horizon, double levelPercent) {
  if (horizon < 0) throw std::invalid_argument("forecast horizon must be >= 0");
  if (!(levelPercent > 0.0 && levelPercent < 100.0))
    throw std::invalid_argument("interval level must be between 0 and 100 (exclusive)");
  if (model.finalState.size() == 0) throw std::invalid_argument("the ARIMA model has no fitted state");
  ArmaCoefficients c{model.ar, model.ma, model.seasonalAr, model.seasonalMa};
  const ArimaSystem system = systemFor(model.order, c);
  if (model.finalState.size() != system.stateSize() || model.finalCovariance.rows() != system.stateSize())
    throw std::invalid_argument("the ARIMA model's state does not match its orders");

  ForecastPath path;
  path.level = levelPercent;
  const double z = detail::normalQuantile(0.5 + levelPercent / 200.0);
  Eigen::VectorXd a = model.finalState, next(a.size());
  Eigen::MatrixXd p = model.finalCovariance;
  for (int h = 1; h <= horizon; ++h) {
    double mean = detail::observe(system, a.data());
    if (model.constant == ArimaConstant::kMean) mean += model.constantValue;
    if (model.constant == ArimaConstant::kDrift) mean += model.constantValue * (model.seriesLength + h);
    Eigen::VectorXd zp;
    zp = p.col(0);
    for (int j = 0; j < system.nd; ++j) zp += system.delta[j] * p.col(system.r + j);
    const double variance = std::max(0.0, detail::observe(system, zp.data())) * model.sigma2;
    const double se = std::sqrt(variance);
    path.mean.push_back(mean);
    path.standardError.push_back(se);
    path.lower.push_back(mean - z * se);
    path.upper.push_back(mean + z * se);
    detail::applyTransition(system, a.data(), next.data());
    a.swap(next);
    detail::propagateCovariance(system, p, true);
  }
  return path;
}

std::string serializeArimaModel(const ArimaModel& m) {
  std::ostringstream out;
  out.precision(17);
  out << "stacklens-arima 1\n";
  const ArimaOrder& o = m.order;
  out << "order " << o.p << ' ' << o.d << ' ' << o.q << ' ' << o.P << ' ' << o.D << ' ' << o.Q << ' ' << o.period
      << '\n';
  out << "constant " << static_cast<int>(m.constant) << ' ' << m.constantValue << '\n';
  out << "ar " << joinNumbers(m.ar) << '\n';
  out << "ma " << joinNumbers(m.ma) << '\n';
  out << "sar " << joinNumbers(m.seasonalAr) << '\n';
  out << "sma " << joinNumbers(m.seasonalMa) << '\n';
  out << "fit " << m.sigma2 << ' ' << m.sigma2Mle << ' ' << m.logLikelihood << ' ' << m.aic << ' ' << m.aicc << ' '
      << m.bic << '\n';
  out << "counts " << m.seriesLength << ' ' << m.observations << ' ' << m.nEffective << ' ' << m.iterations << ' '
      << static_cast<int>(m.method) << ' ' << (m.converged ? 1 : 0) << '\n';
  out << "residuals " << joinNumbers(m.residuals) << '\n';
  out << "state " << joinNumbers(std::vector<double>(m.finalState.data(), m.finalState.data() + m.finalState.size()))
      << '\n';
  out << "covariance "
      << joinNumbers(std::vector<double>(m.finalCovariance.data(),
                                         m.finalCovariance.data() + m.finalCovariance.size()))
      << '\n';
  return out.str();
}

ArimaModel deserializeArimaModel(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineNumber = 0;
  auto fail = [&](const std::string& what) -> void {
    throw std::invalid_argument("ARIMA model text, line " + std::to_string(lineNumber) + ": " + what);
  };
  auto nextLine = [&](const char* key) {
    if (!std::getline(in, line)) fail(std::string("missing '") + key + "'");
    ++lineNumber;
    std::istringstream fields(line);
    std::string word;
    fields >> word;
    if (word != key) fail(std::string("expected '") + key + "', found '" + word + "'");
    std::vector<double> values;
    std::string token;
    while (fields >> token) {
      try {
        std::size_t used = 0;
        values.push_back(std::stod(token, &used));
        if (used != token.size()) throw std::invalid_argument(token);
      } catch (const std::exception&) {
        // std::stod rejects "nan" spellings of some platforms: accept them explicitly.
        if (token == "nan" || token == "-nan")
          values.push_back(std::nan(""));
        else
          fail(std::string("bad number '") + token + "' in '" + key + "'");
      }
    }
    return values;
  };
  ++lineNumber;
  if (!std::getline(in, line) || line.rfind("stacklens-arima ", 0) != 0) fail("not a StackLens ARIMA model");
  if (line != "stacklens-arima 1") fail("unsupported version '" + line.substr(16) + "'");
  ArimaModel m;
  const auto order = nextLine("order");
  if (order.size() != 7) fail("'order' needs 7 integers");
  m.order = {static_cast<int>(order[0]), static_cast<int>(order[1]), static_cast<int>(order[2]),
             static_cast<int>(order[3]), static_cast<int>(order[4]), static_cast<int>(order[5]),
             static_cast<int>(order[6])};
  const auto constant = nextLine("constant");
  if (constant.size() != 2 || constant[0] < 0 || constant[0] > 2) fail("'constant' needs a kind 0-2 and a value");
  m.constant = static_cast<ArimaConstant>(static_cast<int>(constant[0]));
  m.constantValue = constant[1];
  m.ar = nextLine("ar");
  m.ma = nextLine("ma");
  m.seasonalAr = nextLine("sar");
  m.seasonalMa = nextLine("sma");
  if (m.ar.size() != static_cast<std::size_t>(m.order.p) || m.ma.size() != static_cast<std::size_t>(m.order.q) ||
      m.seasonalAr.size() != static_cast<std::size_t>(m.order.P) ||
      m.seasonalMa.size() != static_cast<std::size_t>(m.order.Q))
    fail("coefficient counts do not match the order");
  const auto fit = nextLine("fit");
  if (fit.size() != 6) fail("'fit' needs 6 numbers");
  m.sigma2 = fit[0];
  m.sigma2Mle = fit[1];
  m.logLikelihood = fit[2];
  m.aic = fit[3];
  m.aicc = fit[4];
  m.bic = fit[5];
  const auto counts = nextLine("counts");
  if (counts.size() != 6) fail("'counts' needs 6 numbers");
  m.seriesLength = static_cast<int>(counts[0]);
  m.observations = static_cast<int>(counts[1]);
  m.nEffective = static_cast<int>(counts[2]);
  m.iterations = static_cast<int>(counts[3]);
  m.method = static_cast<FitMethod>(std::clamp(static_cast<int>(counts[4]), 0, 2));
  m.converged = counts[5] != 0.0;
  m.residuals = nextLine("residuals");
  const auto state = nextLine("state");
  const auto cov = nextLine("covariance");
  const ArimaSystem system = systemFor(m.order, {m.ar, m.ma, m.seasonalAr, m.seasonalMa});
  const auto size = static_cast<std::size_t>(system.stateSize());
  if (state.size() != size || cov.size() != size * size) fail("state size does not match the order");
  m.finalState = Eigen::Map<const Eigen::VectorXd>(state.data(), static_cast<Eigen::Index>(size));
  m.finalCovariance = Eigen::Map<const Eigen::MatrixXd>(cov.data(), static_cast<Eigen::Index>(size),
                                                        static_cast<Eigen::Index>(size));
  return m;
}

}  // namespace stacklens::core::forecast
