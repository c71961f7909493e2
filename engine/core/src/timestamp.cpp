#include "stacklens/core/timestamp.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace stacklens::core {
namespace {

// Reads exactly `width` digits at `pos`; advances pos on success.
bool readDigits(std::string_view s, std::size_t& pos, int width, int& out) {
  if (pos + width > s.size()) return false;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + width, value);
  if (ec != std::errc{} || end != s.data() + pos + width) return false;
  out = value;
  pos += width;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<EpochSeconds> parseTimestamp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);

  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(s, pos, 4, year) || !expect(s, pos, '-') || !readDigits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !readDigits(s, pos, 2, day))
    return std::nullopt;

  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!readDigits(s, pos, 2, hour) || !expect(s, pos, ':') || !readDigits(s, pos, 2, minute))
      return std::nullopt;
    if (pos < s.size() && s[pos] == ':' && !(++pos, readDigits(s, pos, 2, second))) return std::nullopt;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;
    }
  }

  int offsetSeconds = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!readDigits(s, pos, 2, oh)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !readDigits(s, pos, 2, om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offsetSeconds = sign * (oh * 3600 + om * 60);
    }
  }
  if (pos != s.size()) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: leap second

  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto days = sys_days{ymd}.time_since_epoch().count();
  return static_cast<EpochSeconds>(days) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
}

std::string formatTimestamp(EpochSeconds t) {
  using namespace std::chrono;
  const auto dayCount = static_cast<int>(t >= 0 ? t / 86400 : (t - 86399) / 86400);
  const EpochSeconds secondsOfDay = t - static_cast<EpochSeconds>(dayCount) * 86400;
  const year_month_day ymd{sys_days{days{dayCount}}};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(secondsOfDay / 3600), static_cast<int>(secondsOfDay % 3600 / 60),
                static_cast<int>(secondsOfDay % 60));
  return buffer;
}

}  // namespace stacklens::core
