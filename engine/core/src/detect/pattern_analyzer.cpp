#include "stacklens/core/detect/pattern_analyzer.h"

#include <algorithm>
#include <cmath>

#include "stacklens/core/detect/dbscan.h"

#include "detect/byte_stream.h"

namespace stacklens::core::detect {
namespace {
constexpr std::uint32_t kFormatVersion = 1;

double matchScore(double ratio) {
  return ratio <= 1 ? 0.5 * ratio : 1.0 - 0.5 / ratio;
}
}  // namespace

PatternModel PatternModel::fit(const Matrix& samples, const PatternParams& params) {
  if (samples.rows() < 1) throw std::invalid_argument("PatternModel: no samples");
  PatternModel m;
  m.params_ = params;
  m.scaler_ = StandardScaler::fit(samples);
  const Matrix z = m.scaler_.transform(samples);
  const DbscanResult clusters = dbscan(z, {params.eps, params.minSamples, params.threads});
  m.eps_ = clusters.eps;
  m.trainingLabels_ = clusters.labels;

  const auto n = static_cast<std::size_t>(samples.rows());
  const auto d = static_cast<std::size_t>(samples.cols());
  m.signatures_.resize(static_cast<std::size_t>(clusters.clusters));
  for (int k = 0; k < clusters.clusters; ++k) {
    auto& sig = m.signatures_[static_cast<std::size_t>(k)];
    sig.label = k;
    sig.centroid.assign(d, 0.0);
    sig.spread.assign(d, 0.0);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (clusters.labels[i] < 0) continue;
    auto& sig = m.signatures_[static_cast<std::size_t>(clusters.labels[i])];
    ++sig.size;
    for (std::size_t c = 0; c < d; ++c)
      sig.centroid[c] += samples(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c));
  }
  for (auto& sig : m.signatures_)
    for (double& v : sig.centroid) v /= sig.size;
  for (std::size_t i = 0; i < n; ++i) {
    if (clusters.labels[i] < 0) continue;
    auto& sig = m.signatures_[static_cast<std::size_t>(clusters.labels[i])];
    for (std::size_t c = 0; c < d; ++c) {
      const double dev = samples(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) - sig.centroid[c];
      sig.spread[c] += dev * dev;
    }
  }
  for (auto& sig : m.signatures_) {
    for (double& v : sig.spread) v = std::sqrt(v / sig.size);
    sig.share = static_cast<double>(sig.size) / static_cast<double>(n);
  }

  const auto cores = static_cast<Eigen::Index>(std::count(clusters.core.begin(), clusters.core.end(), 1));
  m.corePoints_.resize(cores, static_cast<Eigen::Index>(d));
  for (std::size_t i = 0, r = 0; i < n; ++i)
    if (clusters.core[i]) {
      m.corePoints_.row(static_cast<Eigen::Index>(r++)) = z.row(static_cast<Eigen::Index>(i));
      m.coreLabels_.push_back(clusters.labels[i]);
    }
  m.coreTree_ = KdTree(m.corePoints_);
  return m;
}

double PatternModel::noiseShare() const {
  if (trainingLabels_.empty()) return 0.0;
  return static_cast<double>(std::count(trainingLabels_.begin(), trainingLabels_.end(), -1)) /
         static_cast<double>(trainingLabels_.size());
}

PatternMatch PatternModel::match(std::span<const double> sample) const {
  if (scaler_.features() == 0) throw std::logic_error("PatternModel: match() before fit()");
  std::vector<double> z(sample.size());
  scaler_.transform(sample, z);
  PatternMatch result;
  if (coreTree_.size() == 0) return result;  // no pattern learned: nothing to shift from
  const auto [index, distance] = coreTree_.nearest(z);
  result.pattern = coreLabels_[static_cast<std::size_t>(index)];
  result.distance = distance;
  result.ratio = eps_ > 0 ? distance / eps_ : (distance > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  result.isShift = result.ratio > 1;
  result.score = std::isinf(result.ratio) ? 1.0 : matchScore(result.ratio);
  return result;
}

WindowShift PatternModel::windowShift(const Matrix& window) const {
  WindowShift shift;
  const std::size_t k = signatures_.size();
  shift.shares.assign(k + 1, 0.0);
  if (window.rows() == 0) return shift;
  for (Eigen::Index r = 0; r < window.rows(); ++r) {
    const Eigen::RowVectorXd row = window.row(r);
    const PatternMatch m = match(std::span<const double>(row.data(), static_cast<std::size_t>(row.size())));
    shift.shares[m.pattern < 0 || m.isShift ? k : static_cast<std::size_t>(m.pattern)] += 1.0;
  }
  for (double& s : shift.shares) s /= static_cast<double>(window.rows());
  shift.outsideShare = shift.shares[k];
  double tv = std::abs(shift.shares[k] - noiseShare());
  for (std::size_t i = 0; i < k; ++i) tv += std::abs(shift.shares[i] - signatures_[i].share);
  shift.divergence = std::min(1.0, 0.5 * tv);
  shift.isShift = k > 0 && shift.divergence > params_.windowShiftThreshold;
  return shift;
}

double PatternModel::similarity(const PatternSignature& a, const PatternSignature& b) {
  if (a.centroid.size() != b.centroid.size() || a.spread.size() != a.centroid.size() ||
      b.spread.size() != b.centroid.size())
    throw std::invalid_argument("PatternModel::similarity: signatures of different widths");
  double distance = 0;  // Bhattacharyya distance of two diagonal Gaussians
  for (std::size_t c = 0; c < a.centroid.size(); ++c) {
    const double magnitude = 0.5 * (std::abs(a.centroid[c]) + std::abs(b.centroid[c]));
    const double floor = 1e-6 * magnitude * magnitude + 1e-12;
    const double va = a.spread[c] * a.spread[c] + floor, vb = b.spread[c] * b.spread[c] + floor;
    const double v = 0.5 * (va + vb), diff = a.centroid[c] - b.centroid[c];
    distance += 0.125 * diff * diff / v + 0.5 * std::log(v / std::sqrt(va * vb));
  }
  return std::exp(-distance);
}

std::string PatternModel::serialize() const {
  internal::ByteWriter w("SLPM", kFormatVersion);
  w.put<std::uint8_t>(params_.eps.has_value());
  w.put<double>(params_.eps.value_or(0.0));
  w.put<std::int32_t>(params_.minSamples);
  w.put<double>(params_.windowShiftThreshold);
  w.putString(scaler_.serialize());
  w.put<double>(eps_);
  w.put<std::uint64_t>(signatures_.size());
  for (const auto& s : signatures_) {
    w.put<std::int32_t>(s.label);
    w.putVector(s.centroid);
    w.putVector(s.spread);
    w.put<std::int32_t>(s.size);
    w.put<double>(s.share);
  }
  w.putVector(trainingLabels_);
  w.putVector(std::vector<double>(corePoints_.data(), corePoints_.data() + corePoints_.size()));
  w.putVector(coreLabels_);
  return w.take();
}

PatternModel PatternModel::deserialize(std::string_view blob) {
  internal::ByteReader r(blob, "SLPM", kFormatVersion, "PatternModel");
  PatternModel m;
  const bool hasEps = r.get<std::uint8_t>() != 0;
  const double eps = r.get<double>();
  if (hasEps) m.params_.eps = eps;
  m.params_.minSamples = r.get<std::int32_t>();
  m.params_.windowShiftThreshold = r.get<double>();
  m.scaler_ = StandardScaler::deserialize(r.getString());
  m.eps_ = r.get<double>();
  const auto count = r.get<std::uint64_t>();
  if (count > (1u << 24)) r.fail("implausible pattern count");
  const std::size_t d = m.scaler_.features();
  for (std::uint64_t i = 0; i < count; ++i) {
    PatternSignature s;
    s.label = r.get<std::int32_t>();
    s.centroid = r.getVector<double>();
    s.spread = r.getVector<double>();
    s.size = r.get<std::int32_t>();
    s.share = r.get<double>();
    if (s.centroid.size() != d || s.spread.size() != d) r.fail("signature width differs from the scaler's");
    m.signatures_.push_back(std::move(s));
  }
  m.trainingLabels_ = r.getVector<int>();
  const auto core = r.getVector<double>();
  m.coreLabels_ = r.getVector<int>();
  r.expectEnd();
  if (d == 0 || core.size() != m.coreLabels_.size() * d) r.fail("core points inconsistent");
  for (int label : m.coreLabels_)
    if (label < 0 || static_cast<std::uint64_t>(label) >= count) r.fail("core label out of range");
  m.corePoints_ = Eigen::Map<const Matrix>(core.data(), static_cast<Eigen::Index>(m.coreLabels_.size()),
                                           static_cast<Eigen::Index>(d));
  m.coreTree_ = KdTree(m.corePoints_);
  return m;
}

}  // namespace stacklens::core::detect
