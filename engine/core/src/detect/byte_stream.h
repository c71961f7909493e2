#pragma once
// Little-endian binary writer/reader for the versioned model blobs. Every blob starts with a
// 4-byte magic and a uint32 format version, so a reader rejects foreign or newer blobs.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "stacklens/core/detect/matrix.h"

namespace stacklens::core::detect::internal {

static_assert(std::endian::native == std::endian::little, "model blobs assume a little-endian host");

class ByteWriter {
 public:
  ByteWriter(std::string_view magic, std::uint32_t version) {
    bytes_.append(magic.substr(0, 4));
    put(version);
  }
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes_.append(p, sizeof(T));
  }
  template <typename T>
  void putVector(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<std::uint64_t>(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  void putString(std::string_view s) {
    put<std::uint64_t>(s.size());
    bytes_.append(s);
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  /// Checks the magic and returns a reader positioned after the version; `version()` tells it.
  ByteReader(std::string_view bytes, std::string_view magic, std::uint32_t maxVersion, const char* what)
      : bytes_(bytes), what_(what) {
    if (bytes_.size() < 8 || bytes_.substr(0, 4) != magic.substr(0, 4))
      throw ModelFormatError(std::string(what_) + ": not a " + std::string(magic) + " model blob");
    pos_ = 4;
    version_ = get<std::uint32_t>();
    if (version_ == 0 || version_ > maxVersion)
      throw ModelFormatError(std::string(what_) + ": unsupported format version " + std::to_string(version_));
  }
  std::uint32_t version() const { return version_; }
  template <typename T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  template <typename T>
  std::vector<T> getVector(std::uint64_t maxCount = (1ULL << 32)) {
    const auto n = get<std::uint64_t>();
    if (n > maxCount) fail("implausible array length");
    need(n * sizeof(T));
    std::vector<T> values(n);
    std::memcpy(values.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return values;
  }
  std::string getString() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void expectEnd() const {
    if (pos_ != bytes_.size()) fail("trailing bytes");
  }
  [[noreturn]] void fail(const std::string& reason) const {
    throw ModelFormatError(std::string(what_) + ": " + reason + " at byte " + std::to_string(pos_));
  }

 private:
  void need(std::uint64_t n) const {
    if (n > bytes_.size() - pos_) fail("truncated blob");
  }
  std::string_view bytes_;
  const char* what_;
  std::size_t pos_ = 0;
  std::uint32_t version_ = 0;
};

}  // namespace stacklens::core::detect::internal
