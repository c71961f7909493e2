#pragma once
// Process-wide logging through spdlog, to stderr: one JSON object per line ({"time","level",
// "logger","msg"}) for log collectors, or plain text for people at a terminal.

#include <string>

namespace stacklens::headless {

/// `level`: trace, debug, info, warn, error. `format`: json or text. `name` becomes "logger".
void setupLogging(const std::string& name, const std::string& level, const std::string& format);

/// A string escaped for use inside a JSON string literal.
std::string jsonEscape(const std::string& text);

}  // namespace stacklens::headless
