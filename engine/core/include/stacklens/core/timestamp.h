#pragma once
// Timestamps as the engine sees them: seconds since the Unix epoch, UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stacklens::core {

/// Seconds since 1970-01-01T00:00:00Z. Hourly metrics never need sub-second precision.
using EpochSeconds = std::int64_t;

/// Parses the timestamp forms that StackLens inputs use:
///   - ISO-8601 / RFC 3339: `2024-01-15T10:30:00Z`, `2024-01-15T10:30:00.250+02:00`,
///     `2024-01-15T10:30:00` (no zone: UTC);
///   - `YYYY-MM-DD HH:MM:SS` (NAB and most CSV exports), UTC;
///   - a plain date `YYYY-MM-DD` (midnight UTC).
/// Fractional seconds are truncated. Returns nullopt for anything else, including out-of-range
/// fields (month 13, 31 February, hour 24 ...). O(length).
std::optional<EpochSeconds> parseTimestamp(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SSZ`.
std::string formatTimestamp(EpochSeconds t);

}  // namespace stacklens::core
