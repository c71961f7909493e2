#include "stacklens/connect/pg_migrations.h"

#include <algorithm>
#include <map>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/core/records.h"
#include "stacklens/core/version.h"

#include "embedded_migrations.h"

namespace stacklens::connect {
namespace {

// Any fixed key works: advisory locks are per database, and only migrators take this one.
constexpr const char* kLockSql = "SELECT pg_advisory_lock(x'5353494c454e53'::bigint)";
constexpr const char* kUnlockSql = "SELECT pg_advisory_unlock(x'5353494c454e53'::bigint)";

constexpr const char* kCreateTableSql = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text        NOT NULL
))sql";

constexpr const char* kSelectAppliedSql = R"sql(
SELECT version, name, checksum,
       to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), applied_by
FROM schema_migrations ORDER BY version)sql";

constexpr const char* kRecordSql =
    "INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES ($1::integer, $2, $3, $4)";

std::string binaryName() {
  return std::string("stacklens ") + kVersion + " (git " + kGitRevision + ")";
}

// Releases the advisory lock on every exit path; the session ending would release it too.
class MigrationLock {
 public:
  explicit MigrationLock(PgConnection& db) : db_(db) { db_.query(kLockSql); }
  ~MigrationLock() {
    try {
      if (db_.isOpen() && !db_.inTransaction()) db_.query(kUnlockSql);
    } catch (const PgError&) {  // the session is going away; its locks go with it
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  PgConnection& db_;
};

std::string migrationLabel(int version) {
  std::string digits = std::to_string(version);
  return std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}

}  // namespace

Migration makeMigration(std::string name, std::string sql) {
  Migration migration;
  const auto underscore = name.find('_');
  try {
    migration.version = std::stoi(name.substr(0, underscore));
  } catch (const std::exception&) {
    throw PgError("migration '" + name + "': the name must start with its number, e.g. 0005_add_index");
  }
  migration.name = std::move(name);
  migration.checksum = core::md5Hex(sql);
  migration.sql = std::move(sql);
  return migration;
}

const std::vector<Migration>& embeddedMigrations() {
  static const std::vector<Migration> migrations = [] {
    std::vector<Migration> list;
    for (std::size_t i = 0; i < detail::kEmbeddedMigrationCount; ++i)
      list.push_back(makeMigration(detail::kEmbeddedMigrations[i].name, detail::kEmbeddedMigrations[i].sql));
    return list;
  }();
  return migrations;
}

MigrationRunner::MigrationRunner(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {
  for (std::size_t i = 0; i < migrations_.size(); ++i) {
    if (migrations_[i].version < 1) throw PgError("migration '" + migrations_[i].name + "': versions start at 1");
    if (i > 0 && migrations_[i].version <= migrations_[i - 1].version)
      throw PgError("migrations '" + migrations_[i - 1].name + "' and '" + migrations_[i].name +
                    "' are out of order or share a version");
    if (migrations_[i].checksum.empty()) throw PgError("migration '" + migrations_[i].name + "' has no checksum");
  }
}

SchemaStatus MigrationRunner::status(PgConnection& db) const {
  SchemaStatus status;
  status.binaryVersion = latestVersion();
  std::map<int, const AppliedMigration*> byVersion;
  if (db.queryScalar("SELECT to_regclass('schema_migrations') IS NOT NULL") == "t") {
    const PgResult rows = db.query(kSelectAppliedSql);
    for (int r = 0; r < rows.rows(); ++r) {
      status.applied.push_back({static_cast<int>(rows.toInt64(r, 0)), std::string(rows.text(r, 1)),
                                std::string(rows.text(r, 2)), std::string(rows.text(r, 3)),
                                std::string(rows.text(r, 4))});
    }
  }
  for (const AppliedMigration& applied : status.applied) {
    byVersion[applied.version] = &applied;
    status.databaseVersion = std::max(status.databaseVersion, applied.version);
  }
  for (const Migration& migration : migrations_) {
    const auto found = byVersion.find(migration.version);
    if (found == byVersion.end())
      status.pending.push_back(migration.name);
    else if (found->second->checksum != migration.checksum || found->second->name != migration.name)
      status.modified.push_back(migration.name);
  }
  return status;
}

std::vector<std::string> MigrationRunner::migrate(
    PgConnection& db, const std::function<void(const Migration&, std::chrono::milliseconds)>& onApplied) const {
  MigrationLock lock(db);
  db.execute(kCreateTableSql);
  const SchemaStatus before = status(db);
  if (before.newerThanBinary())
    throw PgError("the database schema is at version " + migrationLabel(before.databaseVersion) +
                  ", newer than this binary knows (" + migrationLabel(before.binaryVersion) +
                  "): it was migrated by a newer StackLens; use that version or newer");
  if (!before.modified.empty())
    throw PgError("migration " + before.modified.front() +
                  " was applied from a different text than this binary's (checksum mismatch): the database was "
                  "migrated by a different StackLens build; refusing to continue");

  std::vector<std::string> applied;
  for (const Migration& migration : migrations_) {
    if (std::find(before.pending.begin(), before.pending.end(), migration.name) == before.pending.end()) continue;
    const auto started = std::chrono::steady_clock::now();
    try {
      db.execute("BEGIN");
      db.execute(migration.sql);
      db.query(kRecordSql, {std::to_string(migration.version), migration.name, migration.checksum, binaryName()});
      db.execute("COMMIT");
    } catch (const PgError& e) {
      try {
        if (db.isOpen()) db.execute("ROLLBACK");
      } catch (const PgError&) {  // the original error is the one worth reporting
      }
      throw PgError("migration " + migration.name + " failed and was rolled back: " + e.what(), e.kind(), e.sqlState());
    }
    applied.push_back(migration.name);
    if (onApplied)
      onApplied(migration,
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
  }
  return applied;
}

void MigrationRunner::requireCurrent(PgConnection& db) const {
  const SchemaStatus current = status(db);
  if (current.newerThanBinary())
    throw PgError("the database schema is at version " + migrationLabel(current.databaseVersion) +
                  ", newer than this binary (" + migrationLabel(current.binaryVersion) + "): upgrade StackLens");
  if (!current.modified.empty())
    throw PgError("migration " + current.modified.front() + " in the database differs from this binary's");
  if (!current.pending.empty())
    throw PgError("the database schema is at version " + migrationLabel(current.databaseVersion) +
                  ", this binary needs " + migrationLabel(current.binaryVersion) +
                  ": run `stacklens db migrate` first (pending: " + current.pending.front() +
                  (current.pending.size() > 1 ? " ..." : "") + ")");
}

}  // namespace stacklens::connect
