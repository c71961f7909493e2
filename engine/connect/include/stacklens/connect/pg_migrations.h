#pragma once
// The schema as numbered migrations (sql/migrations/NNNN_name.sql, compiled into the binary) and
// the runner that applies them: each pending migration in its own transaction, recorded in the
// table schema_migrations, under an advisory lock so that two migrators never race. A database
// migrated by a newer StackLens, or whose recorded migrations differ from this binary's, is
// refused with a message that says so.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace stacklens::connect {

class PgConnection;

struct Migration {
  int version = 0;       ///< NNNN of the file name, strictly increasing
  std::string name;      ///< file name without ".sql", e.g. "0002_ml_tables"
  std::string sql;       ///< statements; run in one transaction
  std::string checksum;  ///< MD5 hex of sql
};

/// The migrations compiled into this binary, by version.
const std::vector<Migration>& embeddedMigrations();

/// A row of schema_migrations.
struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string appliedAt;  ///< ISO-8601 UTC
  std::string appliedBy;  ///< "stacklens <version> (git <rev>)"
};

struct SchemaStatus {
  int databaseVersion = 0;  ///< highest applied version, 0 for a database without the schema
  int binaryVersion = 0;    ///< highest version this binary knows
  std::vector<AppliedMigration> applied;
  std::vector<std::string> pending;   ///< names of known migrations not applied yet, in order
  std::vector<std::string> modified;  ///< applied migrations whose text differs from this binary's

  bool newerThanBinary() const { return databaseVersion > binaryVersion; }
  bool upToDate() const { return pending.empty() && modified.empty() && !newerThanBinary(); }
};

class MigrationRunner {
 public:
  /// Uses the given migrations (tests); by default the embedded ones. Throws PgError when the
  /// versions are not strictly increasing or a checksum is missing.
  explicit MigrationRunner(std::vector<Migration> migrations = embeddedMigrations());

  /// Reads schema_migrations without changing anything. Throws PgError.
  SchemaStatus status(PgConnection& db) const;

  /// Applies every pending migration in version order and returns their names. Idempotent: on
  /// an up-to-date database it changes nothing. onApplied is called after each commit with the
  /// time it took. Throws PgError, leaving the database at the last committed version, when
  /// the database is newer than this binary, a recorded migration differs, or a statement fails
  /// (the message names the migration).
  std::vector<std::string> migrate(
      PgConnection& db, const std::function<void(const Migration&, std::chrono::milliseconds)>& onApplied = {}) const;

  /// Throws PgError unless the database is exactly at this binary's version ("run stacklens db
  /// migrate" when it is older, "upgrade stacklens" when it is newer).
  void requireCurrent(PgConnection& db) const;

  int latestVersion() const { return migrations_.empty() ? 0 : migrations_.back().version; }
  const std::vector<Migration>& migrations() const { return migrations_; }

 private:
  std::vector<Migration> migrations_;
};

/// Builds a Migration from a name ("0005_add_x") and its SQL, computing version and checksum.
Migration makeMigration(std::string name, std::string sql);

}  // namespace stacklens::connect
