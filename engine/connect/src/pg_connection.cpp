#include "stacklens/connect/pg_connection.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <libpq-fe.h>
#include <limits>

#include "stacklens/connect/pg_settings.h"

namespace stacklens::connect {
namespace {

std::string trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

std::string lastError(const PGconn* conn) {
  return trimmed(PQerrorMessage(conn));
}

// SQLSTATE classes and codes after which the same statement may succeed later.
PgError::Kind classify(const PGconn* conn, const std::string& sqlState) {
  if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) return PgError::Kind::kConnection;
  if (sqlState.rfind("08", 0) == 0) return PgError::Kind::kConnection;
  static constexpr std::array<std::string_view, 3> kServerGoingAway = {"57P01", "57P02", "57P03"};
  if (std::find(kServerGoingAway.begin(), kServerGoingAway.end(), sqlState) != kServerGoingAway.end())
    return PgError::Kind::kConnection;
  static constexpr std::array<std::string_view, 4> kTransient = {"40001", "40P01", "53300", "55P03"};
  if (std::find(kTransient.begin(), kTransient.end(), sqlState) != kTransient.end()) return PgError::Kind::kTransient;
  if (sqlState.rfind("22", 0) == 0 || sqlState.rfind("23", 0) == 0) return PgError::Kind::kInput;
  if (sqlState.empty()) return PgError::Kind::kConnection;  // no server answer at all
  return PgError::Kind::kStatement;
}

// A connection attempt that fails for a reason a retry cannot fix (wrong password, unknown
// database or role, TLS misconfiguration) is a configuration error, not an outage.
PgError::Kind classifyConnectFailure(const std::string& reason) {
  static constexpr std::array<std::string_view, 6> kPermanent = {
      "authentication failed", "does not exist", "no password supplied", "certificate", "SSL", "invalid"};
  for (std::string_view marker : kPermanent)
    if (reason.find(marker) != std::string::npos) return PgError::Kind::kStatement;
  return PgError::Kind::kConnection;
}

PGconn* connectWith(const std::vector<std::pair<std::string, std::string>>& parameters) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : parameters) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  return PQconnectdbParams(keywords.data(), values.data(), 1);
}

// NOTICEs ("relation already exists, skipping") are chatter for a service; WARNINGs still reach
// stderr as libpq would print them.
void forwardWarnings(void*, const char* message) {
  if (std::string_view(message).rfind("WARNING", 0) == 0) std::fputs(message, stderr);
}

std::string describeValue(const PgResult& result, int row, int column) {
  return "column '" + result.columnName(column) + "' row " + std::to_string(row) + " value '" +
         std::string(result.text(row, column)) + "'";
}

}  // namespace

// ---- PgResult ----

PgResult::PgResult(pg_result* result) : result_(result) {}
PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}
PgResult::PgResult(PgResult&& other) noexcept : result_(other.result_) {
  other.result_ = nullptr;
}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const {
  return PQntuples(result_);
}
int PgResult::columns() const {
  return PQnfields(result_);
}
std::string PgResult::columnName(int column) const {
  const char* name = PQfname(result_, column);
  return name != nullptr ? name : "?";
}
bool PgResult::isNull(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}
std::string_view PgResult::text(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

double PgResult::toDouble(int row, int column) const {
  const std::string_view value = text(row, column);
  if (value == "NaN") return std::nan("");
  if (value == "Infinity") return HUGE_VAL;
  if (value == "-Infinity") return -HUGE_VAL;
  double parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size())
    throw PgError("not a number: " + describeValue(*this, row, column));
  return parsed;
}

std::int64_t PgResult::toInt64(int row, int column) const {
  const std::string_view value = text(row, column);
  std::int64_t parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size())
    throw PgError("not an integer: " + describeValue(*this, row, column));
  return parsed;
}

bool PgResult::toBool(int row, int column) const {
  const std::string_view value = text(row, column);
  if (value == "t") return true;
  if (value == "f") return false;
  throw PgError("not a boolean: " + describeValue(*this, row, column));
}

std::int64_t PgResult::affectedRows() const {
  const std::string_view value = PQcmdTuples(result_);
  std::int64_t parsed = 0;
  std::from_chars(value.data(), value.data() + value.size(), parsed);
  return parsed;
}

// ---- PgConnection ----

PgConnection::PgConnection(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {
  if (conn_ == nullptr) throw PgError("PostgreSQL: out of memory allocating a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = lastError(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("PostgreSQL connection failed: " + reason, classifyConnectFailure(reason));
  }
  PQsetNoticeProcessor(conn_, forwardWarnings, nullptr);
}

PgConnection::PgConnection(const PgSettings& settings) : conn_(connectWith(settings.connectionParameters())) {
  if (conn_ == nullptr) throw PgError("PostgreSQL: out of memory allocating a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = lastError(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("PostgreSQL connection to '" + redactDsn(settings.dsn) + "' failed: " + reason,
                  classifyConnectFailure(reason));
  }
  PQsetNoticeProcessor(conn_, forwardWarnings, nullptr);
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

PgConnection::PgConnection(PgConnection&& other) noexcept : conn_(other.conn_), prepared_(std::move(other.prepared_)) {
  other.conn_ = nullptr;
}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = other.conn_;
    prepared_ = std::move(other.prepared_);
    other.conn_ = nullptr;
  }
  return *this;
}

PgResult PgConnection::check(pg_result* raw, const char* what) {
  PgResult result(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  std::string sqlState;
  std::string message;
  if (raw != nullptr) {
    if (const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE)) sqlState = state;
    message = trimmed(PQresultErrorMessage(raw));
  }
  if (message.empty()) message = lastError(conn_);
  throw PgError(std::string("PostgreSQL ") + what + " failed: " + message, classify(conn_, sqlState), sqlState);
}

std::optional<std::string> PgConnection::queryScalar(const std::string& sql, const std::vector<std::string>& params) {
  const PgResult result = query(sql, params);
  if (result.rows() == 0 || result.columns() == 0 || result.isNull(0, 0)) return std::nullopt;
  return std::string(result.text(0, 0));
}

void PgConnection::execute(const std::string& sql) {
  check(PQexec(conn_, sql.c_str()), "statement");
}

PgResult PgConnection::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  return check(
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0),
      "query");
}

void PgConnection::prepare(const std::string& name, const std::string& sql) {
  prepare(name, sql, {});
}

void PgConnection::prepare(const std::string& name, const std::string& sql,
                           const std::vector<unsigned int>& parameterTypes) {
  if (isPrepared(name)) return;
  check(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(parameterTypes.size()),
                  parameterTypes.empty() ? nullptr : parameterTypes.data()),
        ("preparing " + name).c_str());
  prepared_.push_back(name);
}

bool PgConnection::isPrepared(const std::string& name) const {
  return std::find(prepared_.begin(), prepared_.end(), name) != prepared_.end();
}

PgResult PgConnection::queryPrepared(const std::string& name, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  return check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0),
               name.c_str());
}

void PgConnection::sendPreparedBinary(const std::string& name, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p.data());
    lengths.push_back(static_cast<int>(p.size()));
  }
  const std::vector<int> formats(params.size(), 1);
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(),
                          formats.data(), 0) == 0)
    throw PgError("PostgreSQL " + name + " could not be sent: " + lastError(conn_), classify(conn_, {}));
}

PgResult PgConnection::receive(const std::string& what) {
  // libpq hands out a statement's result at CommandComplete, but the implicit transaction of the
  // extended protocol commits only at the Sync that follows: a server that goes away in between
  // leaves a successful first result and then an error before the closing null result. The
  // outcome is then unknown (the commit may not have happened), so the error is what counts:
  // acknowledging the first result would report rows written that a crash lost.
  pg_result* first = PQgetResult(conn_);
  pg_result* failure = nullptr;
  while (pg_result* extra = PQgetResult(conn_)) {
    const ExecStatusType status = PQresultStatus(extra);
    if (failure == nullptr && (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE))
      failure = extra;
    else
      PQclear(extra);
  }
  if (failure != nullptr) {
    PQclear(first);
    return check(failure, what.c_str());
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    PQclear(first);
    throw PgError(std::string("PostgreSQL ") + what + ": the connection was lost before the statement completed: " +
                      lastError(conn_),
                  PgError::Kind::kConnection);
  }
  return check(first, what.c_str());
}

PgResult PgConnection::queryPrepared(const std::string& name, const std::vector<std::string>& params,
                                     std::span<const std::size_t> binaryParams) {
  std::vector<const char*> values;
  std::vector<int> lengths(params.size(), 0), formats(params.size(), 0);
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  for (const std::size_t i : binaryParams) {
    if (i >= params.size()) throw std::out_of_range("PgConnection::queryPrepared: binary parameter index");
    if (params[i].size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw PgError(name + ": parameter " + std::to_string(i + 1) + " is too large", PgError::Kind::kInput);
    lengths[i] = static_cast<int>(params[i].size());
    formats[i] = 1;
  }
  return check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), lengths.data(),
                              formats.data(), 0),
               name.c_str());
}

bool PgConnection::isOpen() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

bool PgConnection::inTransaction() const {
  return conn_ != nullptr && PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

int PgConnection::serverVersion() const {
  return PQserverVersion(conn_);
}

}  // namespace stacklens::connect
