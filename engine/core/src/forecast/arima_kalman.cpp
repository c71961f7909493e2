#include "forecast/arima_kalman.h"

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <numbers>

namespace stacklens::core::forecast::detail {

namespace {

constexpr double kDiffuseTolerance = 1e-8;    // F_inf below this: the observation is not diffuse
constexpr double kMinVariance = 1e-12;        // F below this carries no information
constexpr double kSteadyStateTolerance = 1e-11;  // max |P - RR'| at which the gain has converged

inline double arAt(const ArimaSystem& s, int i) { return i < static_cast<int>(s.ar.size()) ? s.ar[i] : 0.0; }
inline double rAt(const ArimaSystem& s, int i) {
  if (i == 0) return 1.0;
  return i - 1 < static_cast<int>(s.ma.size()) ? s.ma[i - 1] : 0.0;
}

// ARMA-block prediction P <- T (P - g g'/F) T' + R R' when `update`, else T P T' + R R', in one
// in-place pass over the r x r block. Returns max |P_new - R R'| (convergence measure).
double predictArmaBlock(const ArimaSystem& s, Eigen::MatrixXd& p, bool update, Eigen::VectorXd& g) {
  const int r = s.r;
  g = p.col(0);
  const double f = g[0];
  double deviation = 0.0;
  if (update) {
    // After the update the first row and column are exactly zero (Z = e1), so T P T' is a shift.
    const double invF = 1.0 / f;
    for (int j = 0; j < r; ++j) {
      for (int i = 0; i < r; ++i) {
        double value = 0.0;
        if (i + 1 < r && j + 1 < r) value = p(i + 1, j + 1) - g[i + 1] * g[j + 1] * invF;
        p(i, j) = value + rAt(s, i) * rAt(s, j);
        deviation = std::max(deviation, std::abs(value));
      }
    }
  } else {
    const double g0 = g[0];
    for (int j = 0; j < r; ++j) {
      const double aj = arAt(s, j);
      const double gj1 = j + 1 < r ? g[j + 1] : 0.0;
      for (int i = 0; i < r; ++i) {
        const double ai = arAt(s, i);
        const double gi1 = i + 1 < r ? g[i + 1] : 0.0;
        double value = ai * aj * g0 + ai * gj1 + aj * gi1;
        if (i + 1 < r && j + 1 < r) value += p(i + 1, j + 1);
        p(i, j) = value + rAt(s, i) * rAt(s, j);
        deviation = std::max(deviation, std::abs(value));
      }
    }
  }
  return deviation;
}

// Mean prediction on the ARMA block for every data column: A <- T A.
void predictArmaMean(const ArimaSystem& s, Eigen::MatrixXd& a) {
  const int r = s.r;
  for (Eigen::Index c = 0; c < a.cols(); ++c) {
    const double first = a(0, c);
    for (int i = 0; i < r - 1; ++i) a(i, c) = arAt(s, i) * first + a(i + 1, c);
    a(r - 1, c) = arAt(s, r - 1) * first;
  }
}

// Z P as a vector (P symmetric): column 0 plus the delta-weighted lag columns.
void observeColumns(const ArimaSystem& s, const Eigen::MatrixXd& p, Eigen::VectorXd& out) {
  out = p.col(0);
  for (int j = 0; j < s.nd; ++j)
    if (s.delta[j] != 0.0) out += s.delta[j] * p.col(s.r + j);
}

// Chandrasekhar-type recursions for the ARMA block with Z = e1 and no missing values, started at
// P = Q0 (derivation in docs/FORECASTING.md): with G_t = T P_t Z' and P_{t+1} - P_t = W_t M_t W_t',
//   F_{t+1} = F_t + M_t W_t[1]^2,  G_{t+1} = G_t + T W_t M_t W_t[1],
//   W_{t+1} = T W_t - (G_{t+1}/F_{t+1}) W_t[1],  M_{t+1} = M_t F_{t+1} / F_t,
// with W_1 = G_1 and M_1 = -1/F_1 (since T Q0 T' + R R' = Q0). Only Q0's first column is needed.
// This loop is most of an ARIMA fit's time: T is applied as a shift plus the p AR terms into a
// second buffer (plain loops the compiler vectorises; cloned for AVX2 on x86-64, without FMA,
// which would round differently), and the differencing skips its zero coefficients.
#if defined(__x86_64__)
#define STACKLENS_KALMAN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define STACKLENS_KALMAN_CLONES
#endif
STACKLENS_KALMAN_CLONES void runChandrasekhar(const ArimaSystem& s, const Eigen::VectorXd& q0FirstColumn,
                                              const Eigen::MatrixXd& data, const FilterOptions& options,
                                              FilterResult& result) {
  const Eigen::Index n = data.rows();
  const Eigen::Index cols = data.cols();
  const int r = s.r;
  const int nd = s.nd;
  const int p = static_cast<int>(s.ar.size());
  const double* ar = s.ar.data();
  std::vector<std::pair<int, double>> lags;  // the non-zero differencing coefficients
  for (int j = 0; j < nd; ++j)
    if (s.delta[static_cast<std::size_t>(j)] != 0.0) lags.emplace_back(j + 1, s.delta[static_cast<std::size_t>(j)]);
  // out = T in for the ARMA block: a shift, plus the AR coefficients on the first p rows.
  auto transition = [&](const double* __restrict in, double* __restrict out) {
    const double first = in[0];
    for (int i = 0; i < r - 1; ++i) out[i] = in[i + 1];
    out[r - 1] = 0.0;
    for (int i = 0; i < p; ++i) out[i] = ar[i] * first + out[i];
  };
  std::vector<double> gBuffer(static_cast<std::size_t>(r)), wBuffer(static_cast<std::size_t>(r)),
      twBuffer(static_cast<std::size_t>(r)), v(static_cast<std::size_t>(cols)),
      aBuffer(static_cast<std::size_t>(2 * r * cols), 0.0);
  double* __restrict g = gBuffer.data();
  double* __restrict w = wBuffer.data();
  double* __restrict tw = twBuffer.data();
  double* a = aBuffer.data();             // the state means, column after column
  double* aNext = a + r * cols;           // T a + g v / f is written here, then the two swap
  transition(q0FirstColumn.data(), g);
  double f = q0FirstColumn[0];
  std::copy(g, g + r, w);
  double m = -1.0 / f;
  bool constantGain = false;
  // sum log F_t as the log of a product kept as mantissa * 2^exponent: a log per step would cost
  // as much as the rest of the step.
  double product = 1.0;
  long exponent = 0;
  result.diffuse = nd;
  for (Eigen::Index t = nd; t < n; ++t) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      const double* y = data.col(c).data();
      double value = y[t];
      for (const auto& [lag, coefficient] : lags) value -= coefficient * y[t - lag];
      v[static_cast<std::size_t>(c)] = value - a[c * r];
    }
    for (Eigen::Index i = 0; i < cols; ++i)
      for (Eigen::Index j = 0; j <= i; ++j)
        result.crossProducts(i, j) += v[static_cast<std::size_t>(i)] * v[static_cast<std::size_t>(j)] / f;
    product *= f;
    if ((t & 31) == 31) {
      int e = 0;
      product = std::frexp(product, &e);
      exponent += e;
    }
    ++result.used;
    if (options.keepInnovations) {
      for (Eigen::Index c = 0; c < cols; ++c) result.innovations(t, c) = v[static_cast<std::size_t>(c)];
      result.variances[t] = f;
    }
    // a <- T a + g v / f, column by column.
    for (Eigen::Index c = 0; c < cols; ++c) {
      const double* __restrict from = a + c * r;
      double* __restrict to = aNext + c * r;
      const double gain = v[static_cast<std::size_t>(c)] / f;
      for (int i = 0; i < r - 1; ++i) to[i] = from[i + 1] + g[i] * gain;
      to[r - 1] = 0.0 + g[r - 1] * gain;
      const double first = from[0];
      for (int i = 0; i < p; ++i) to[i] += ar[i] * first;
    }
    std::swap(a, aNext);
    if (constantGain) continue;
    const double w0 = w[0];
    const double fNext = f + m * w0 * w0;
    transition(w, tw);
    const double scale = m * w0;
    const double k = w0 / fNext;
    for (int i = 0; i < r; ++i) {
      g[i] += tw[i] * scale;
      w[i] = tw[i] - g[i] * k;
    }
    // |W|^2 only decides when the gain has converged: four partial sums let it vectorise.
    double norm[4] = {0.0, 0.0, 0.0, 0.0};
    int i = 0;
    for (; i + 4 <= r; i += 4)
      for (int lane = 0; lane < 4; ++lane) norm[lane] += w[i + lane] * w[i + lane];
    for (; i < r; ++i) norm[0] += w[i] * w[i];
    m *= fNext / f;
    f = fNext;
    constantGain = std::abs(m) * (norm[0] + norm[1] + norm[2] + norm[3]) < kSteadyStateTolerance;
  }
  result.sumLogF += std::log(product) + static_cast<double>(exponent) * std::numbers::ln2;
  for (Eigen::Index i = 0; i < cols; ++i)
    for (Eigen::Index j = i + 1; j < cols; ++j) result.crossProducts(i, j) = result.crossProducts(j, i);
}

}  // namespace

ArimaSystem makeSystem(std::vector<double> ar, std::vector<double> ma, std::vector<double> delta) {
  ArimaSystem s;
  s.r = static_cast<int>(std::max(ar.size(), ma.size() + 1));
  s.nd = static_cast<int>(delta.size());
  s.ar = std::move(ar);
  s.ma = std::move(ma);
  s.delta = std::move(delta);
  return s;
}

Eigen::VectorXd stationaryFirstColumn(const ArimaSystem& s) {
  const int p = static_cast<int>(s.ar.size());
  const int q = static_cast<int>(s.ma.size());
  const int r = s.r;
  auto b = [&](int j) { return j == 0 ? 1.0 : (j <= q ? s.ma[j - 1] : 0.0); };
  // psi weights of the MA(infinity) form.
  std::vector<double> psi(static_cast<std::size_t>(r) + 1, 0.0);
  psi[0] = 1.0;
  for (int h = 1; h <= r; ++h) {
    double value = b(h);
    for (int i = 1; i <= std::min(h, p); ++i) value += s.ar[i - 1] * psi[h - i];
    psi[h] = value;
  }
  // c_k = Cov(w_t, ...) right-hand sides: sum_{j>=k} b_j psi_{j-k}.
  std::vector<double> c(static_cast<std::size_t>(r) + 1, 0.0);
  for (int k = 0; k <= std::min(q, r); ++k) {
    double value = 0.0;
    for (int j = k; j <= q; ++j) value += b(j) * psi[j - k];
    c[k] = value;
  }
  // Autocovariances gamma(0..p) from the linear system gamma(k) - sum a_i gamma(|k-i|) = c_k.
  std::vector<double> gamma(static_cast<std::size_t>(r) + 1, 0.0);
  if (p > 0) {
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(p + 1, p + 1);
    Eigen::VectorXd rhs(p + 1);
    for (int k = 0; k <= p; ++k) {
      rhs[k] = k <= q ? c[k] : 0.0;
      for (int i = 1; i <= p; ++i) m(k, std::abs(k - i)) -= s.ar[i - 1];
    }
    Eigen::PartialPivLU<Eigen::MatrixXd> lu(m);
    const Eigen::VectorXd solution = lu.solve(rhs);
    if (!solution.allFinite()) return {};
    for (int k = 0; k <= p; ++k) gamma[k] = solution[k];
  }
  for (int k = (p > 0 ? p + 1 : 0); k <= r; ++k) {
    double value = k <= q ? c[k] : 0.0;
    for (int i = 1; i <= std::min(k, p); ++i) value += s.ar[i - 1] * gamma[k - i];
    gamma[k] = value;
  }
  if (!(gamma[0] > 0.0) || !std::isfinite(gamma[0])) return {};

  // Cov(w_t, x_t[j]) with x_t[j] = sum_{k>=j} (a_k w_{t-1-(k-j)} + b_{k-1} eps_{t-(k-j)}).
  Eigen::VectorXd first(r);
  for (int j = 0; j < r; ++j) {
    double value = 0.0;
    for (int k = j + 1; k <= r; ++k) value += arAt(s, k - 1) * gamma[k - j] + b(k - 1) * psi[k - 1 - j];
    first[j] = value;
  }
  first[0] = gamma[0];
  if (!first.allFinite()) return {};
  return first;
}

Eigen::MatrixXd stationaryCovariance(const ArimaSystem& s) {
  const Eigen::VectorXd first = stationaryFirstColumn(s);
  if (first.size() == 0) return {};
  const int r = s.r;
  Eigen::MatrixXd q0 = Eigen::MatrixXd::Zero(r, r);
  q0.col(0) = first;
  q0.row(0) = first.transpose();
  // The rest from Q = T Q T' + R R', filled from the bottom-right corner.
  for (int i = r - 1; i >= 1; --i) {
    for (int j = r - 1; j >= i; --j) {
      double value = arAt(s, i) * arAt(s, j) * q0(0, 0) + rAt(s, i) * rAt(s, j);
      if (j + 1 < r) value += arAt(s, i) * q0(0, j + 1);
      if (i + 1 < r) value += arAt(s, j) * q0(0, i + 1);
      if (i + 1 < r && j + 1 < r) value += q0(i + 1, j + 1);
      q0(i, j) = q0(j, i) = value;
    }
  }
  if (!q0.allFinite()) return {};
  return q0;
}

void applyTransition(const ArimaSystem& s, const double* in, double* out) {
  const int r = s.r;
  for (int i = 0; i < r - 1; ++i) out[i] = arAt(s, i) * in[0] + in[i + 1];
  out[r - 1] = arAt(s, r - 1) * in[0];
  if (s.nd > 0) {
    out[r] = observe(s, in);
    for (int j = 1; j < s.nd; ++j) out[r + j] = in[r + j - 1];
  }
}

double observe(const ArimaSystem& s, const double* v) {
  double value = v[0];
  for (int j = 0; j < s.nd; ++j) value += s.delta[j] * v[s.r + j];
  return value;
}

void propagateCovariance(const ArimaSystem& s, Eigen::MatrixXd& cov, bool addNoise) {
  const Eigen::Index m = cov.rows();
  Eigen::MatrixXd b(m, m);
  for (Eigen::Index j = 0; j < m; ++j) applyTransition(s, cov.col(j).data(), b.col(j).data());
  b.transposeInPlace();
  for (Eigen::Index j = 0; j < m; ++j) applyTransition(s, b.col(j).data(), cov.col(j).data());
  if (addNoise)
    for (int j = 0; j < s.r; ++j)
      for (int i = 0; i < s.r; ++i) cov(i, j) += rAt(s, i) * rAt(s, j);
}

FilterResult runFilter(const ArimaSystem& s, const Eigen::MatrixXd& data, const FilterOptions& options) {
  FilterResult result;
  const Eigen::Index n = data.rows();
  const Eigen::Index cols = data.cols();
  const int r = s.r;
  const int nd = s.nd;
  const int m = r + nd;

  const Eigen::VectorXd q0FirstColumn = stationaryFirstColumn(s);
  if (q0FirstColumn.size() == 0) return result;
  result.ok = true;
  result.crossProducts = Eigen::MatrixXd::Zero(cols, cols);
  if (options.keepInnovations) {
    result.innovations = Eigen::MatrixXd::Constant(n, cols, std::nan(""));
    result.variances = Eigen::VectorXd::Constant(n, std::nan(""));
  }

  bool anyMissing = false;
  for (Eigen::Index t = 0; t < n && !anyMissing; ++t) anyMissing = std::isnan(data(t, 0));
  const bool shortcuts = !options.forceFullState;
  if (shortcuts && !anyMissing && !options.keepFinalState && n > nd) {
    runChandrasekhar(s, q0FirstColumn, data, options, result);
    return result;
  }
  const Eigen::MatrixXd q0 = stationaryCovariance(s);
  if (q0.size() == 0) return FilterResult{};
  bool startAfterDiffuse = shortcuts && nd > 0 && n >= nd;
  for (Eigen::Index t = 0; t < nd && startAfterDiffuse; ++t) startAfterDiffuse = !std::isnan(data(t, 0));

  // Reduced (ARMA-block) state.
  Eigen::MatrixXd ax = Eigen::MatrixXd::Zero(r, cols);
  Eigen::MatrixXd px = q0;
  bool steady = false;
  // Full state, used while the lag block is uncertain (start, and around missing values).
  bool full = nd > 0 && !startAfterDiffuse;
  bool diffuse = full;
  const Eigen::Index firstStep = startAfterDiffuse ? nd : 0;
  if (startAfterDiffuse) result.diffuse = nd;
  Eigen::MatrixXd a, p, pinf;
  if (full) {
    a = Eigen::MatrixXd::Zero(m, cols);
    p = Eigen::MatrixXd::Zero(m, m);
    p.topLeftCorner(r, r) = q0;
    pinf = Eigen::MatrixXd::Zero(m, m);
    pinf.bottomRightCorner(nd, nd).setIdentity();
  }
  Eigen::Index lastMissing = -1;
  Eigen::VectorXd g, mStar, mInf, column(m), v(cols), kInf, k;

  auto accumulate = [&](Eigen::Index t, const Eigen::VectorXd& innovation, double f) {
    result.crossProducts.noalias() += innovation * innovation.transpose() / f;
    result.sumLogF += std::log(f);
    ++result.used;
    if (options.keepInnovations) {
      result.innovations.row(t) = innovation.transpose();
      result.variances[t] = f;
    }
  };

  for (Eigen::Index t = firstStep; t < n; ++t) {
    const bool observed = !std::isnan(data(t, 0));
    if (!observed) lastMissing = t;
    if (!full && !observed && nd > 0) {
      // The missing value enters the lag block: go back to the full state.
      full = true;
      diffuse = false;
      a = Eigen::MatrixXd::Zero(m, cols);
      a.topRows(r) = ax;
      for (int j = 1; j <= nd; ++j) a.row(r + j - 1) = data.row(t - j);
      p = Eigen::MatrixXd::Zero(m, m);
      p.topLeftCorner(r, r) = px;
      steady = false;
    }

    if (!full) {
      if (observed) {
        for (Eigen::Index c = 0; c < cols; ++c) {
          double w = data(t, c);
          for (int j = 0; j < nd; ++j) w -= s.delta[j] * data(t - 1 - j, c);
          v[c] = w - ax(0, c);
        }
        if (steady) {
          accumulate(t, v, 1.0);
          for (Eigen::Index c = 0; c < cols; ++c)
            for (int i = 0; i < r; ++i) ax(i, c) += rAt(s, i) * v[c];
          predictArmaMean(s, ax);
        } else {
          const double f = px(0, 0);
          if (f > kMinVariance) {
            accumulate(t, v, f);
            ax.noalias() += px.col(0) * (v.transpose() / f);
            predictArmaMean(s, ax);
            steady = predictArmaBlock(s, px, true, g) < kSteadyStateTolerance;
          } else {
            predictArmaMean(s, ax);
            predictArmaBlock(s, px, false, g);
          }
        }
      } else {
        // Missing value without differencing: predict only. The steady state does not keep P.
        if (steady) {
          for (int j = 0; j < r; ++j)
            for (int i = 0; i < r; ++i) px(i, j) = rAt(s, i) * rAt(s, j);
          steady = false;
        }
        predictArmaMean(s, ax);
        predictArmaBlock(s, px, false, g);
      }
      continue;
    }

    // Full state.
    if (observed) {
      for (Eigen::Index c = 0; c < cols; ++c) v[c] = data(t, c) - observe(s, a.col(c).data());
      observeColumns(s, p, mStar);
      const double fStar = observe(s, mStar.data());
      double fInf = 0.0;
      if (diffuse) {
        observeColumns(s, pinf, mInf);
        fInf = observe(s, mInf.data());
      }
      if (diffuse && fInf > kDiffuseTolerance) {
        kInf = mInf / fInf;
        a.noalias() += kInf * v.transpose();
        p.noalias() += kInf * kInf.transpose() * fStar;
        p.noalias() -= kInf * mStar.transpose();
        p.noalias() -= mStar * kInf.transpose();
        pinf.noalias() -= kInf * mInf.transpose();
        ++result.diffuse;
      } else if (fStar > kMinVariance) {
        accumulate(t, v, fStar);
        a.noalias() += mStar * (v.transpose() / fStar);
        p.noalias() -= mStar * mStar.transpose() / fStar;
      }
    }
    for (Eigen::Index c = 0; c < cols; ++c) {
      column = a.col(c);
      applyTransition(s, column.data(), a.col(c).data());
    }
    propagateCovariance(s, p, true);
    if (diffuse) {
      propagateCovariance(s, pinf, false);
      if (pinf.cwiseAbs().maxCoeff() < kDiffuseTolerance) diffuse = false;
    }
    if (shortcuts && !diffuse && t - lastMissing >= nd) {
      full = false;
      ax = a.topRows(r);
      px = p.topLeftCorner(r, r);
      steady = false;
    }
  }

  if (options.keepFinalState) {
    if (full) {
      result.finalMean = a;
      result.finalCov = p;
    } else {
      result.finalMean = Eigen::MatrixXd::Zero(m, cols);
      result.finalMean.topRows(r) = ax;
      for (int j = 1; j <= nd; ++j) result.finalMean.row(r + j - 1) = data.row(n - j);
      result.finalCov = Eigen::MatrixXd::Zero(m, m);
      if (steady) {
        for (int j = 0; j < r; ++j)
          for (int i = 0; i < r; ++i) result.finalCov(i, j) = rAt(s, i) * rAt(s, j);
      } else {
        result.finalCov.topLeftCorner(r, r) = px;
      }
    }
  }
  return result;
}

}  // namespace stacklens::core::forecast::detail
