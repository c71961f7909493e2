#pragma once
// Standard normal distribution functions. Internal to stacklens::core.

namespace stacklens::core::forecast::detail {

/// P(Z <= x).
double normalCdf(double x);
/// x with P(Z <= x) = probability, 0 < probability < 1; full double precision (Acklam's rational
/// approximation refined by two Newton steps on erfc).
double normalQuantile(double probability);

}  // namespace stacklens::core::forecast::detail
