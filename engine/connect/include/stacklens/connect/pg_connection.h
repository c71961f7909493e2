#pragma once
// One libpq connection with RAII and errors that say what failed. The pooled, prepared, batched
// store builds on this.

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;

namespace stacklens::connect {

class PgError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PgConnection {
 public:
  /// Connects with a libpq connection string or URI. Throws PgError with libpq's reason.
  explicit PgConnection(const std::string& dsn);
  ~PgConnection();
  PgConnection(PgConnection&&) noexcept;
  PgConnection& operator=(PgConnection&&) noexcept;

  /// Runs a statement with text parameters ($1, $2 ...) and returns the first column of the
  /// first row, or nullopt when there is no row or the value is NULL. Throws PgError.
  std::optional<std::string> queryScalar(const std::string& sql, const std::vector<std::string>& params = {});

  /// Runs statements that return no rows (several may be separated by ';' when no params).
  void execute(const std::string& sql);

  /// The server's version number, e.g. 150018 for 15.18.
  int serverVersion() const;

  pg_conn* native() const { return conn_; }

 private:
  pg_conn* conn_ = nullptr;
};

}  // namespace stacklens::connect
