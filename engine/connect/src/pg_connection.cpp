#include "stacklens/connect/pg_connection.h"

#include <libpq-fe.h>

namespace stacklens::connect {
namespace {

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string lastError(const PGconn* conn) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

PgConnection::PgConnection(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {
  if (conn_ == nullptr) throw PgError("PostgreSQL: out of memory allocating a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = lastError(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("PostgreSQL connection failed: " + reason);
  }
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

PgConnection::PgConnection(PgConnection&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = other.conn_;
    other.conn_ = nullptr;
  }
  return *this;
}

std::optional<std::string> PgConnection::queryScalar(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  Result result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0),
                &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw PgError("PostgreSQL query failed: " + lastError(conn_));
  if (PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0 || PQgetisnull(result.get(), 0, 0))
    return std::nullopt;
  return std::string(PQgetvalue(result.get(), 0, 0));
}

void PgConnection::execute(const std::string& sql) {
  Result result(PQexec(conn_, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw PgError("PostgreSQL statement failed: " + lastError(conn_));
}

int PgConnection::serverVersion() const { return PQserverVersion(conn_); }

}  // namespace stacklens::connect
