#pragma once
// Small helpers on series with missing values (NaN). Internal to stacklens::core.

#include <span>
#include <vector>

namespace stacklens::core::forecast::detail {

std::vector<double> dropMissing(std::span<const double> x);
/// Linear interpolation of interior NaN; leading/trailing NaN take the nearest value.
std::vector<double> interpolateMissing(std::span<const double> x);
/// x_t - x_{t-lag}, length n - lag (NaN propagates).
std::vector<double> difference(std::span<const double> x, int lag);
/// All non-missing values equal (or none).
bool isConstant(std::span<const double> x);

}  // namespace stacklens::core::forecast::detail
