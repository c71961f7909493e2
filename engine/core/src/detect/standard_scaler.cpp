#include "stacklens/core/detect/standard_scaler.h"

#include <cmath>

#include "detect/byte_stream.h"

namespace stacklens::core::detect {
namespace {

constexpr std::uint32_t kFormatVersion = 1;

void checkColumns(std::size_t expected, std::size_t got) {
  if (expected != got)
    throw std::invalid_argument("StandardScaler: fitted on " + std::to_string(expected) + " features, got " +
                                std::to_string(got));
}

}  // namespace

StandardScaler StandardScaler::fit(const Matrix& x) {
  if (x.rows() < 1 || x.cols() < 1) throw std::invalid_argument("StandardScaler: empty data");
  StandardScaler s;
  const auto d = static_cast<std::size_t>(x.cols());
  s.mean_.assign(d, 0.0);
  s.scale_.assign(d, 1.0);
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    // Two passes: the mean first, then the centred sum of squares (stable for large offsets).
    double sum = 0;
    long count = 0;
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      if (!std::isnan(x(r, c))) sum += x(r, c), ++count;
    const double mean = count > 0 ? sum / static_cast<double>(count) : 0.0;
    double ss = 0;
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      if (!std::isnan(x(r, c))) ss += (x(r, c) - mean) * (x(r, c) - mean);
    const double sd = count > 0 ? std::sqrt(ss / static_cast<double>(count)) : 0.0;
    s.mean_[c] = mean;
    s.scale_[c] = sd > 1e-12 * std::max(1.0, std::abs(mean)) ? sd : 1.0;
  }
  return s;
}

StandardScaler StandardScaler::fromStatistics(std::vector<double> mean, std::vector<double> scale) {
  if (mean.size() != scale.size()) throw std::invalid_argument("StandardScaler: mean and scale sizes differ");
  for (double v : scale)
    if (!(v > 0) || !std::isfinite(v)) throw std::invalid_argument("StandardScaler: scales must be finite and > 0");
  StandardScaler s;
  s.mean_ = std::move(mean);
  s.scale_ = std::move(scale);
  return s;
}

Matrix StandardScaler::transform(const Matrix& x) const {
  checkColumns(features(), static_cast<std::size_t>(x.cols()));
  Matrix z(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) z(r, c) = (x(r, c) - mean_[c]) / scale_[c];
  return z;
}

void StandardScaler::transform(std::span<const double> sample, std::span<double> out) const {
  checkColumns(features(), sample.size());
  checkColumns(features(), out.size());
  for (std::size_t c = 0; c < sample.size(); ++c) out[c] = (sample[c] - mean_[c]) / scale_[c];
}

Matrix StandardScaler::inverseTransform(const Matrix& z) const {
  checkColumns(features(), static_cast<std::size_t>(z.cols()));
  Matrix x(z.rows(), z.cols());
  for (Eigen::Index r = 0; r < z.rows(); ++r)
    for (Eigen::Index c = 0; c < z.cols(); ++c) x(r, c) = z(r, c) * scale_[c] + mean_[c];
  return x;
}

std::string StandardScaler::serialize() const {
  internal::ByteWriter w("SLSS", kFormatVersion);
  w.putVector(mean_);
  w.putVector(scale_);
  return w.take();
}

StandardScaler StandardScaler::deserialize(std::string_view blob) {
  internal::ByteReader r(blob, "SLSS", kFormatVersion, "StandardScaler");
  auto mean = r.getVector<double>(1 << 20);
  auto scale = r.getVector<double>(1 << 20);
  r.expectEnd();
  if (mean.size() != scale.size()) r.fail("mean and scale sizes differ");
  try {
    return fromStatistics(std::move(mean), std::move(scale));
  } catch (const std::invalid_argument& e) {
    r.fail(e.what());
  }
}

}  // namespace stacklens::core::detect
