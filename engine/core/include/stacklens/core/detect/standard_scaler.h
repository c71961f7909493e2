#pragma once
// Per-feature standardisation z = (x − mean) / scale, as scikit-learn's StandardScaler.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/detect/matrix.h"

namespace stacklens::core::detect {

/// A fitted standardiser. `scale` is the population standard deviation (ddof = 0, as
/// scikit-learn); a constant column (standard deviation ≤ 1e-12·max(1,|mean|)) gets scale 1,
/// so it maps to 0 instead of dividing by zero. NaN values are ignored when fitting.
class StandardScaler {
 public:
  StandardScaler() = default;

  /// Fits on the rows of `x` (n × d, n ≥ 1). O(n·d).
  static StandardScaler fit(const Matrix& x);
  /// Builds a scaler from known statistics (sizes must match; scales must be > 0).
  static StandardScaler fromStatistics(std::vector<double> mean, std::vector<double> scale);

  std::size_t features() const { return mean_.size(); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& scale() const { return scale_; }

  /// Standardises every row. Throws std::invalid_argument when the column count differs.
  Matrix transform(const Matrix& x) const;
  /// Standardises one sample into `out` (both of size features()).
  void transform(std::span<const double> sample, std::span<double> out) const;
  /// The inverse map back to original units.
  Matrix inverseTransform(const Matrix& z) const;

  /// Versioned binary blob ("SLSS", version 1) and its reader (throws ModelFormatError).
  std::string serialize() const;
  static StandardScaler deserialize(std::string_view blob);

 private:
  std::vector<double> mean_;
  std::vector<double> scale_;
};

}  // namespace stacklens::core::detect
