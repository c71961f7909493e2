#pragma once
// A database of its own for one test: created on the throwaway server that the harness started
// (or any server whose superuser DSN is given) and dropped again, also when the test fails.
// Needs stacklens::connect.

#include <atomic>
#include <string>
#include <unistd.h>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::test {

class ScratchDatabase {
 public:
  /// Creates database "sl_<tag>_<pid>_<n>" through adminDsn (a superuser connection string in
  /// key=value form).
  ScratchDatabase(std::string adminDsn, const std::string& tag) : adminDsn_(std::move(adminDsn)) {
    static std::atomic<int> counter{0};
    name_ = "sl_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    connect::PgConnection admin(adminDsn_);
    admin.execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    admin.execute("CREATE DATABASE " + name_);
  }

  ~ScratchDatabase() {
    try {
      connect::PgConnection admin(adminDsn_);
      admin.execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const connect::PgError&) {  // the server may be gone already; it is throwaway
    }
  }

  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  /// The admin DSN pointed at this database (a later keyword wins in a libpq conninfo string).
  std::string dsn() const { return adminDsn_ + " dbname=" + name_; }

 private:
  std::string adminDsn_;
  std::string name_;
};

}  // namespace stacklens::test
