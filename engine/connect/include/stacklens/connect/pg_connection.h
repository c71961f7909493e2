#pragma once
// One libpq connection with RAII and errors that say what failed. The pool (pg_pool.h) and the
// store (pg_store.h) build on this.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace stacklens::connect {

struct PgSettings;

class PgError : public std::runtime_error {
 public:
  enum class Kind {
    kConnection,  ///< the server went away or cannot be reached now: retry after a backoff
    kTransient,   ///< deadlock, serialization failure, too many connections: retry
    kInput,       ///< the data was refused (constraint, bad value): retrying cannot help
    kStatement,   ///< any other error (SQL, permissions, configuration): retrying cannot help
  };

  explicit PgError(const std::string& message, Kind kind = Kind::kStatement, std::string sqlState = {})
      : std::runtime_error(message), kind_(kind), sqlState_(std::move(sqlState)) {}

  Kind kind() const { return kind_; }
  /// Five-character SQLSTATE when the server reported one ("23505"), else empty.
  const std::string& sqlState() const { return sqlState_; }
  bool retryable() const { return kind_ == Kind::kConnection || kind_ == Kind::kTransient; }

 private:
  Kind kind_;
  std::string sqlState_;
};

/// The rows of a statement. Values are libpq's text forms; the typed accessors throw PgError
/// naming the column when a value does not parse.
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  ~PgResult();
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) noexcept;

  int rows() const;
  int columns() const;
  std::string columnName(int column) const;
  bool isNull(int row, int column) const;
  std::string_view text(int row, int column) const;
  double toDouble(int row, int column) const;
  std::int64_t toInt64(int row, int column) const;
  bool toBool(int row, int column) const;
  /// Rows inserted/updated/deleted by the statement (libpq's PQcmdTuples), 0 when not reported.
  std::int64_t affectedRows() const;

  pg_result* native() const { return result_; }

 private:
  pg_result* result_ = nullptr;
};

class PgConnection {
 public:
  /// Connects with a libpq connection string or URI. Throws PgError with libpq's reason.
  explicit PgConnection(const std::string& dsn);
  /// Connects with the DSN, TLS and password settings (see PgSettings). Throws PgError.
  explicit PgConnection(const PgSettings& settings);
  ~PgConnection();
  PgConnection(PgConnection&&) noexcept;
  PgConnection& operator=(PgConnection&&) noexcept;

  /// Runs a statement with text parameters ($1, $2 ...) and returns the first column of the
  /// first row, or nullopt when there is no row or the value is NULL. Throws PgError.
  std::optional<std::string> queryScalar(const std::string& sql, const std::vector<std::string>& params = {});

  /// Runs statements that return no rows (several may be separated by ';' when no params).
  void execute(const std::string& sql);

  /// Runs one statement with text parameters and returns its rows. Throws PgError.
  PgResult query(const std::string& sql, const std::vector<std::string>& params = {});

  /// Prepares a named statement on this connection (once; later calls with the same name are
  /// no-ops). Throws PgError.
  void prepare(const std::string& name, const std::string& sql);
  bool isPrepared(const std::string& name) const;
  /// Prepares a named statement whose parameters have the given type OIDs, as binary parameters
  /// need (no-op when already prepared). Throws PgError.
  void prepare(const std::string& name, const std::string& sql, const std::vector<unsigned int>& parameterTypes);
  /// Runs a statement prepared with prepare(). Throws PgError.
  PgResult queryPrepared(const std::string& name, const std::vector<std::string>& params = {});
  /// As queryPrepared(), with the parameters at the indices in `binaryParams` sent in libpq's
  /// binary format: for a bytea parameter the raw bytes (no hex text twice their size).
  PgResult queryPrepared(const std::string& name, const std::vector<std::string>& params,
                         std::span<const std::size_t> binaryParams);

  /// Sends a prepared statement with parameters in PostgreSQL's binary format (of the types
  /// given to prepare()) and returns without waiting, so that several connections work at the
  /// same time; receive() collects the result. One statement at a time per connection. Throws
  /// PgError when it cannot be sent.
  void sendPreparedBinary(const std::string& name, const std::vector<std::string>& params);
  /// Waits for the result of the statement sent last; `what` names it in errors. Throws PgError
  /// as queryPrepared() does.
  PgResult receive(const std::string& what);

  /// False once libpq has seen the connection break.
  bool isOpen() const;
  /// True inside a transaction block (also a failed one).
  bool inTransaction() const;

  /// The server's version number, e.g. 150018 for 15.18.
  int serverVersion() const;

  pg_conn* native() const { return conn_; }

 private:
  PgResult check(pg_result* result, const char* what);

  pg_conn* conn_ = nullptr;
  std::vector<std::string> prepared_;
};

}  // namespace stacklens::connect
