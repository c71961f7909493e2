#pragma once
// The data layout the detectors take: one sample per row, one feature per column.

#include <Eigen/Core>
#include <stdexcept>
#include <string>

namespace stacklens::core::detect {

/// Samples × features, row-major so that one sample is contiguous in memory.
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A model blob that cannot be read: wrong magic, unknown version, truncated or inconsistent.
class ModelFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace stacklens::core::detect
