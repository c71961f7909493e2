// `stacklens db migrate|status`: applies or reports the PostgreSQL schema migrations compiled into
// this binary. The DSN comes from --dsn or STACKLENS_PG_DSN; the password never from the command
// line (STACKLENS_PG_PASSWORD, PGPASSWORD, ~/.pgpass or --password-file).
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_settings.h"

#include "commands.h"

namespace stacklens::headless {
namespace {

// Exit codes of `db status`, for scripts and container health checks.
constexpr int kExitError = 1;
constexpr int kExitPending = 3;

struct DbOptions {
  std::string dsn;
  std::string sslMode;
  std::string sslRootCert;
  std::string passwordFile;
  int connectTimeout = 10;
};

void addConnectionOptions(CLI::App& sub, DbOptions& options) {
  sub.add_option("--dsn", options.dsn,
                 "libpq connection string or URI, without a password (default: $STACKLENS_PG_DSN)");
  sub.add_option("--sslmode", options.sslMode, "disable, allow, prefer, require, verify-ca or verify-full");
  sub.add_option("--sslrootcert", options.sslRootCert, "CA certificate the server's certificate must chain to")
      ->check(CLI::ExistingFile);
  sub.add_option("--password-file", options.passwordFile,
                 "File whose first line is the password (default: $STACKLENS_PG_PASSWORD_FILE, "
                 "$STACKLENS_PG_PASSWORD, $PGPASSWORD, ~/.pgpass)")
      ->check(CLI::ExistingFile);
  sub.add_option("--connect-timeout", options.connectTimeout, "Seconds to wait for the server")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

std::string label(int version) {
  std::ostringstream out;
  out << std::setw(4) << std::setfill('0') << version;
  return out.str();
}

connect::PgSettings settingsFrom(const DbOptions& options) {
  connect::PgSettings settings = connect::PgSettings::fromEnvironment();
  const bool dsnOnCommandLine = !options.dsn.empty();
  if (dsnOnCommandLine) settings.dsn = options.dsn;
  if (settings.dsn.empty()) throw connect::PgError("no database given: pass --dsn or set STACKLENS_PG_DSN");
  if (dsnOnCommandLine && connect::dsnContainsPassword(settings.dsn))
    throw connect::PgError(
        "--dsn must not contain a password (command lines are visible to other users): put it in "
        "STACKLENS_PG_PASSWORD, PGPASSWORD, ~/.pgpass or a file given with --password-file");
  if (!options.sslMode.empty()) settings.sslMode = options.sslMode;
  if (!options.sslRootCert.empty()) settings.sslRootCert = options.sslRootCert;
  if (!options.passwordFile.empty()) settings.passwordFile = options.passwordFile;
  settings.connectTimeoutSeconds = options.connectTimeout;
  settings.validate();
  return settings;
}

int runMigrate(const DbOptions& options) {
  const connect::PgSettings settings = settingsFrom(options);
  connect::PgConnection db(settings);
  const connect::MigrationRunner runner;
  std::cout << "database: " << connect::redactDsn(settings.dsn) << '\n';
  const auto applied = runner.migrate(db, [](const connect::Migration& migration, std::chrono::milliseconds took) {
    std::cout << "applied " << migration.name << " (" << took.count() << " ms)" << std::endl;
  });
  if (applied.empty())
    std::cout << "schema already at version " << label(runner.latestVersion()) << " (up to date); nothing to apply\n";
  else
    std::cout << "schema now at version " << label(runner.latestVersion()) << " (" << applied.size() << " migration"
              << (applied.size() == 1 ? "" : "s") << " applied)\n";
  return 0;
}

int runStatus(const DbOptions& options) {
  const connect::PgSettings settings = settingsFrom(options);
  connect::PgConnection db(settings);
  const connect::SchemaStatus status = connect::MigrationRunner().status(db);
  std::cout << "database: " << connect::redactDsn(settings.dsn) << '\n';
  std::cout << "schema version: " << label(status.databaseVersion) << " (this binary: " << label(status.binaryVersion)
            << ")";
  if (status.upToDate())
    std::cout << ", up to date\n";
  else if (status.newerThanBinary())
    std::cout << ", NEWER than this binary: upgrade StackLens\n";
  else if (!status.modified.empty())
    std::cout << ", DIFFERS from this binary's migrations\n";
  else
    std::cout << ", " << status.pending.size() << " pending: run `stacklens db migrate`\n";
  for (const connect::AppliedMigration& applied : status.applied)
    std::cout << "  applied  " << applied.name << "  " << applied.appliedAt << "  " << applied.appliedBy << '\n';
  for (const std::string& name : status.pending) std::cout << "  pending  " << name << '\n';
  for (const std::string& name : status.modified) std::cout << "  modified " << name << " (checksum differs)\n";
  if (status.newerThanBinary() || !status.modified.empty()) return kExitError;
  return status.pending.empty() ? 0 : kExitPending;
}

void runReporting(const char* verb, int (*action)(const DbOptions&), const DbOptions& options) {
  int code = kExitError;
  try {
    code = action(options);
  } catch (const connect::PgError& e) {
    std::cerr << "stacklens db " << verb << ": " << e.what() << '\n';
  }
  if (code != 0) throw CLI::RuntimeError(code);
}

}  // namespace

void addDbCommand(CLI::App& app) {
  CLI::App* db = app.add_subcommand("db", "Apply or report the PostgreSQL schema migrations");
  db->require_subcommand(1);

  auto migrateOptions = std::make_shared<DbOptions>();
  CLI::App* migrate =
      db->add_subcommand("migrate", "Apply the pending schema migrations, each in its own transaction (idempotent)");
  addConnectionOptions(*migrate, *migrateOptions);
  migrate->callback([migrateOptions] { runReporting("migrate", runMigrate, *migrateOptions); });

  auto statusOptions = std::make_shared<DbOptions>();
  CLI::App* status =
      db->add_subcommand("status",
                         "Report the schema version and the applied and pending migrations "
                         "(exit 0 up to date, 3 migrations pending, 1 error or a database newer than this binary)");
  addConnectionOptions(*status, *statusOptions);
  status->callback([statusOptions] { runReporting("status", runStatus, *statusOptions); });
}

}  // namespace stacklens::headless
