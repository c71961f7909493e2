#pragma once
// How StackLens reaches PostgreSQL: the connection string, TLS, where the password comes from,
// the pool size and the retry policy. The password is never part of a command line: it comes
// from the environment (STACKLENS_PG_PASSWORD, or libpq's own PGPASSWORD / ~/.pgpass) or from a
// file holding just the password (e.g. a container secret).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace stacklens::connect {

/// Backoff between attempts when the server goes away: initialDelay, doubled each attempt up to
/// maxDelay, with +-20 % jitter, until maxElapsed has passed since the first attempt.
struct PgRetryPolicy {
  std::chrono::milliseconds initialDelay{100};
  std::chrono::milliseconds maxDelay{5000};
  std::chrono::milliseconds maxElapsed{60000};
};

struct PgSettings {
  /// libpq connection string ("host=db port=5432 dbname=stacklens user=stacklens") or URI
  /// ("postgresql://stacklens@db/stacklens").
  std::string dsn;
  /// libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full; empty keeps the
  /// DSN's or libpq's default (prefer).
  std::string sslMode;
  /// CA certificate file the server certificate must chain to (verify-ca / verify-full).
  std::string sslRootCert;
  /// File whose first line is the password; empty: STACKLENS_PG_PASSWORD, then libpq's own
  /// PGPASSWORD / PGPASSFILE.
  std::string passwordFile;
  int connectTimeoutSeconds = 10;  ///< used when the DSN does not set connect_timeout
  std::string applicationName = "stacklens";
  int poolMin = 2;                                  ///< connections opened up front, 1..poolMax
  int poolMax = 10;                                 ///< connections at most, poolMin..64
  std::chrono::milliseconds acquireTimeout{30000};  ///< waiting for a free pooled connection
  /// Pooled connections one large batch write is spread over (by service, each part its own
  /// transaction, run in parallel by the server), 1..64; fewer when the pool has no more free.
  int writeConnections = 2;
  /// How often anomaly writes fold the logged aggregate deltas into ml_anomaly_stats_hourly/daily
  /// (PgStore::rollUpAnomalyStats); 0: after every anomaly write. Folding many batches at once is
  /// what makes it cheap; the stats views are exact in between.
  std::chrono::milliseconds statsRollupInterval{1000};
  PgRetryPolicy retry;

  /// Reads STACKLENS_PG_DSN, STACKLENS_PG_SSLMODE, STACKLENS_PG_SSLROOTCERT,
  /// STACKLENS_PG_PASSWORD_FILE, STACKLENS_PG_POOL_MIN, STACKLENS_PG_POOL_MAX,
  /// STACKLENS_PG_WRITE_CONNECTIONS and STACKLENS_PG_STATS_ROLLUP_MS (all optional).
  static PgSettings fromEnvironment();

  /// Throws PgError naming the field when a value is unusable (unknown sslmode, unreadable
  /// certificate or password file, pool bounds, write connections, roll-up interval, a DSN libpq cannot parse).
  void validate() const;

  /// The password to send, if StackLens supplies one: the password file's first line, else
  /// STACKLENS_PG_PASSWORD. nullopt leaves it to libpq (PGPASSWORD, .pgpass). Throws PgError
  /// when the file cannot be read.
  std::optional<std::string> password() const;

  /// libpq keyword/value pairs for PQconnectdbParams: the DSN (expanded) first, then the
  /// settings that override it.
  std::vector<std::pair<std::string, std::string>> connectionParameters() const;
};

/// True when the DSN carries a password (password=... or user:secret@ in a URI). Command-line
/// front ends refuse such a DSN. Throws PgError when libpq cannot parse the DSN.
bool dsnContainsPassword(const std::string& dsn);

/// The DSN with any password removed, for messages and logs.
std::string redactDsn(const std::string& dsn);

}  // namespace stacklens::connect
