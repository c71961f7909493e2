#pragma once
// A bounded pool of PostgreSQL connections shared by threads. It opens PgSettings::poolMin
// connections up front and more on demand up to poolMax; a caller that finds none free waits up
// to acquireTimeout. Connections come back through a Lease: a broken one is closed, one left
// inside a transaction is rolled back. Every new connection runs the setup hook (prepared
// statements, session settings) before first use, also after a reconnect.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_settings.h"

namespace stacklens::connect {

class PgPool {
 public:
  using Setup = std::function<void(PgConnection&)>;

  /// Validates the settings and opens poolMin connections. Throws PgError (the first
  /// connection failure, or a settings problem).
  explicit PgPool(PgSettings settings, Setup setup = {});
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  /// Exclusive use of one connection until destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() const { return *connection_; }
    PgConnection* operator->() const { return connection_.get(); }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection);
    PgPool* pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  /// A free connection, opening one if fewer than poolMax are open, else waiting up to
  /// acquireTimeout. Throws PgError(kConnection) when a new connection cannot be opened and
  /// PgError(kTransient) on timeout.
  Lease acquire();
  /// A free connection if one is idle or fewer than poolMax are open, else nullopt at once:
  /// for extra connections a caller can do without (a batch split over several). Throws
  /// PgError(kConnection) when a new connection cannot be opened.
  std::optional<Lease> tryAcquire();

  /// Closes the idle connections: after one connection found the server gone, the others are
  /// most likely broken as well, and fresh ones are cheaper than failing on each in turn.
  void closeIdle();

  int openConnections() const;
  int idleConnections() const;
  const PgSettings& settings() const { return settings_; }

 private:
  std::unique_ptr<PgConnection> open();
  Lease take(std::unique_lock<std::mutex>& lock);
  void release(std::unique_ptr<PgConnection> connection);

  PgSettings settings_;
  Setup setup_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_ = 0;  // idle + leased + being opened
};

}  // namespace stacklens::connect
