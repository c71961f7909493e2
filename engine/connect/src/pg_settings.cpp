#include "stacklens/connect/pg_settings.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <libpq-fe.h>
#include <memory>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::connect {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

int environmentInt(const char* name, int fallback) {
  const std::string text = environment(name);
  if (text.empty()) return fallback;
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw PgError(std::string(name) + ": '" + text + "' is not a whole number");
}

using Options = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

Options parseDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    throw PgError("the PostgreSQL DSN cannot be parsed: " + reason);
  }
  return {options, &PQconninfoFree};
}

bool dsnSets(const Options& options, std::string_view keyword) {
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option)
    if (keyword == option->keyword && option->val != nullptr && option->val[0] != '\0') return true;
  return false;
}

void requireReadable(const std::string& path, const char* what) {
  std::ifstream file(path);
  if (!file) throw PgError(std::string(what) + " '" + path + "' cannot be read: " + std::strerror(errno));
}

}  // namespace

PgSettings PgSettings::fromEnvironment() {
  PgSettings settings;
  settings.dsn = environment("STACKLENS_PG_DSN");
  settings.sslMode = environment("STACKLENS_PG_SSLMODE");
  settings.sslRootCert = environment("STACKLENS_PG_SSLROOTCERT");
  settings.passwordFile = environment("STACKLENS_PG_PASSWORD_FILE");
  settings.poolMin = environmentInt("STACKLENS_PG_POOL_MIN", settings.poolMin);
  settings.poolMax = environmentInt("STACKLENS_PG_POOL_MAX", settings.poolMax);
  settings.writeConnections = environmentInt("STACKLENS_PG_WRITE_CONNECTIONS", settings.writeConnections);
  settings.statsRollupInterval = std::chrono::milliseconds(
      environmentInt("STACKLENS_PG_STATS_ROLLUP_MS", static_cast<int>(settings.statsRollupInterval.count())));
  return settings;
}

void PgSettings::validate() const {
  parseDsn(dsn);
  static constexpr std::array<std::string_view, 6> kSslModes = {"disable", "allow",     "prefer",
                                                                "require", "verify-ca", "verify-full"};
  if (!sslMode.empty() && std::find(kSslModes.begin(), kSslModes.end(), sslMode) == kSslModes.end())
    throw PgError("sslmode '" + sslMode + "' is not one of disable, allow, prefer, require, verify-ca, verify-full");
  if (!sslRootCert.empty()) requireReadable(sslRootCert, "sslrootcert");
  if (!passwordFile.empty()) requireReadable(passwordFile, "password file");
  if (poolMax < 1 || poolMax > 64)
    throw PgError("pool size: the maximum must be 1..64, got " + std::to_string(poolMax));
  if (poolMin < 1 || poolMin > poolMax)
    throw PgError("pool size: the minimum must be 1.." + std::to_string(poolMax) + ", got " + std::to_string(poolMin));
  if (writeConnections < 1 || writeConnections > 64)
    throw PgError("write connections: must be 1..64, got " + std::to_string(writeConnections));
  if (statsRollupInterval.count() < 0)
    throw PgError("stats roll-up interval: must be 0 ms or more, got " + std::to_string(statsRollupInterval.count()) +
                  " ms");
  if (connectTimeoutSeconds < 1) throw PgError("connect timeout must be at least 1 second");
}

std::optional<std::string> PgSettings::password() const {
  if (!passwordFile.empty()) {
    std::ifstream file(passwordFile);
    if (!file) throw PgError("password file '" + passwordFile + "' cannot be read: " + std::strerror(errno));
    std::string line;
    std::getline(file, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw PgError("password file '" + passwordFile + "' is empty");
    return line;
  }
  if (const char* value = std::getenv("STACKLENS_PG_PASSWORD"); value != nullptr && value[0] != '\0')
    return std::string(value);
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> PgSettings::connectionParameters() const {
  const Options options = parseDsn(dsn);
  std::vector<std::pair<std::string, std::string>> parameters;
  parameters.emplace_back("dbname", dsn);  // expanded by libpq (expand_dbname = 1)
  if (!sslMode.empty()) parameters.emplace_back("sslmode", sslMode);
  if (!sslRootCert.empty()) parameters.emplace_back("sslrootcert", sslRootCert);
  if (auto secret = password()) parameters.emplace_back("password", std::move(*secret));
  if (!dsnSets(options, "connect_timeout"))
    parameters.emplace_back("connect_timeout", std::to_string(connectTimeoutSeconds));
  if (!dsnSets(options, "application_name")) parameters.emplace_back("application_name", applicationName);
  return parameters;
}

bool dsnContainsPassword(const std::string& dsn) {
  return dsnSets(parseDsn(dsn), "password");
}

std::string redactDsn(const std::string& dsn) {
  Options options{nullptr, &PQconninfoFree};
  try {
    options = parseDsn(dsn);
  } catch (const PgError&) {
    return "(unparsable DSN)";
  }
  std::string text;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr || option->val[0] == '\0') continue;
    if (!text.empty()) text += ' ';
    text += option->keyword;
    text += '=';
    text += std::string_view(option->keyword) == "password" ? "********" : option->val;
  }
  return text;
}

}  // namespace stacklens::connect
