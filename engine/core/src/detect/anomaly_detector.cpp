#include "stacklens/core/detect/anomaly_detector.h"

#include <stdexcept>

#include "detect/byte_stream.h"

namespace stacklens::core::detect {
namespace {
constexpr std::uint32_t kFormatVersion = 1;
}

Matrix toMatrix(std::span<const FeatureVector> samples) {
  Matrix m(static_cast<Eigen::Index>(samples.size()), static_cast<Eigen::Index>(kFeatureCount));
  for (std::size_t r = 0; r < samples.size(); ++r)
    for (std::size_t c = 0; c < kFeatureCount; ++c)
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = samples[r][c];
  return m;
}

AnomalyDetector AnomalyDetector::fit(const Matrix& samples, const AnomalyDetectorParams& params) {
  return fit(samples, params, nullptr);
}

AnomalyDetector AnomalyDetector::fit(const Matrix& samples, const AnomalyDetectorParams& params,
                                     std::vector<double>& trainingScores) {
  return fit(samples, params, &trainingScores);
}

AnomalyDetector AnomalyDetector::fit(const Matrix& samples, const AnomalyDetectorParams& params,
                                     std::vector<double>* trainingScores) {
  AnomalyDetector d;
  d.params_ = params;
  const auto columns = static_cast<std::size_t>(samples.cols());
  d.scaler_ = params.standardize ? StandardScaler::fit(samples)
                                 : StandardScaler::fromStatistics(std::vector<double>(columns, 0.0),
                                                                  std::vector<double>(columns, 1.0));
  const Matrix& x = params.standardize ? d.scaler_.transform(samples) : samples;
  d.forest_ = trainingScores ? IsolationForest::fit(x, params.forest, *trainingScores)
                             : IsolationForest::fit(x, params.forest);
  d.params_.forest = d.forest_.params();
  return d;
}

Detection AnomalyDetector::detect(std::span<const double> sample) const {
  if (!trained()) throw std::logic_error("AnomalyDetector: detect() before fit()");
  std::vector<double> z(sample.size());
  scaler_.transform(sample, z);
  const double s = forest_.score(z);
  return {s, forest_.isAnomaly(s), forest_.confidence(s)};
}

std::vector<Detection> AnomalyDetector::detect(const Matrix& samples) const {
  if (!trained()) throw std::logic_error("AnomalyDetector: detect() before fit()");
  const std::vector<double> s = forest_.scores(scaler_.transform(samples), params_.forest.threads);
  std::vector<Detection> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = {s[i], forest_.isAnomaly(s[i]), forest_.confidence(s[i])};
  return out;
}

std::string AnomalyDetector::serialize() const {
  if (!trained()) throw std::logic_error("AnomalyDetector: serialize() before fit()");
  internal::ByteWriter w("SLAD", kFormatVersion);
  w.put<std::uint8_t>(params_.standardize);
  w.putString(scaler_.serialize());
  w.putString(forest_.serialize());
  return w.take();
}

AnomalyDetector AnomalyDetector::deserialize(std::string_view blob) {
  internal::ByteReader r(blob, "SLAD", kFormatVersion, "AnomalyDetector");
  AnomalyDetector d;
  d.params_.standardize = r.get<std::uint8_t>() != 0;
  d.scaler_ = StandardScaler::deserialize(r.getString());
  d.forest_ = IsolationForest::deserialize(r.getString());
  r.expectEnd();
  if (d.scaler_.features() != d.forest_.features()) r.fail("scaler and forest widths differ");
  d.params_.forest = d.forest_.params();
  return d;
}

}  // namespace stacklens::core::detect
