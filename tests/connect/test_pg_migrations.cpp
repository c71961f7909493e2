// The migration runner against the real throwaway PostgreSQL: from an empty database, again on
// top of itself, partial states, refusals, and two migrators at once.
#include <algorithm>
#include <thread>

#include <QDir>
#include <QFile>
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"

#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "test_servers.h"

using stacklens::connect::embeddedMigrations;
using stacklens::connect::makeMigration;
using stacklens::connect::Migration;
using stacklens::connect::MigrationRunner;
using stacklens::connect::PgConnection;
using stacklens::connect::PgError;
using stacklens::test::errorOf;
using stacklens::test::ScratchDatabase;

namespace {

std::string adminDsn() {
  return stacklens::test::postgresDsn().toStdString();
}

int count(PgConnection& db, const std::string& sql) {
  return std::stoi(db.queryScalar(sql).value());
}

}  // namespace

class TestPgMigrations : public QObject {
  Q_OBJECT
 private slots:
  void embeddedMigrationsAreTheSqlFolder() {
    const QDir folder(QStringLiteral(STACKLENS_SOURCE_DIR "/sql/migrations"));
    const QStringList files = folder.entryList({"*.sql"}, QDir::Files, QDir::Name);
    const auto& embedded = embeddedMigrations();
    QCOMPARE(static_cast<qsizetype>(embedded.size()), files.size());
    QVERIFY(files.size() >= 4);
    for (qsizetype i = 0; i < files.size(); ++i) {
      QFile file(folder.filePath(files[i]));
      QVERIFY(file.open(QIODevice::ReadOnly));
      QCOMPARE(QString::fromStdString(embedded[i].name + ".sql"), files[i]);
      QCOMPARE(QByteArray::fromStdString(embedded[i].sql), file.readAll());
      QCOMPARE(embedded[i].version, files[i].left(4).toInt());  // gaps are allowed, order is not
      if (i > 0) QVERIFY(embedded[i].version > embedded[i - 1].version);
    }
  }

  void rejectsBadMigrationLists() {
    QVERIFY_THROWS_EXCEPTION(PgError, makeMigration("add_index", "SELECT 1"));
    QVERIFY_THROWS_EXCEPTION(PgError, MigrationRunner({makeMigration("0002_b", ""), makeMigration("0001_a", "")}));
    QVERIFY_THROWS_EXCEPTION(PgError, MigrationRunner({makeMigration("0001_a", ""), makeMigration("0001_b", "")}));
  }

  void migratesAnEmptyDatabase() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_empty");
    PgConnection db(scratch.dsn());
    const MigrationRunner runner;
    const auto before = runner.status(db);
    QCOMPARE(before.databaseVersion, 0);
    QCOMPARE(before.pending.size(), embeddedMigrations().size());
    QVERIFY(!before.upToDate());
    QCOMPARE(db.queryScalar("SELECT to_regclass('schema_migrations') IS NULL").value(), std::string("t"));

    std::vector<std::string> reported;
    const auto applied =
        runner.migrate(db, [&](const Migration& m, std::chrono::milliseconds) { reported.push_back(m.name); });
    QCOMPARE(applied.size(), embeddedMigrations().size());
    QCOMPARE(reported, applied);

    const auto after = runner.status(db);
    QVERIFY(after.upToDate());
    QCOMPARE(after.databaseVersion, runner.latestVersion());
    QCOMPARE(after.applied.size(), embeddedMigrations().size());
    QVERIFY(after.applied.front().appliedBy.find("stacklens") == 0);

    // Every object the original schema names, plus the input table and the archive.
    for (const char* table : {"analytics_metrics_1hour", "ml_anomalies", "ml_anomaly_history", "ml_models",
                              "ml_patterns", "ml_trends", "ml_anomaly_stats_hourly", "ml_anomaly_stats_daily",
                              "ml_forecasts", "ml_predictive_alerts", "ml_anomalies_archive"})
      QVERIFY2(count(db, std::string("SELECT count(*) FROM pg_tables WHERE tablename = '") + table + "'") == 1, table);
    for (const char* view :
         {"ml_v_recent_anomalies", "ml_v_critical_anomalies", "ml_v_anomaly_trends", "ml_v_model_health"})
      QVERIFY2(count(db, std::string("SELECT count(*) FROM pg_views WHERE viewname = '") + view + "'") == 1, view);
    for (const char* function :
         {"ml_calculate_anomaly_stats", "ml_get_top_anomalies", "ml_archive_old_anomalies", "ml_refresh_anomaly_stats"})
      QVERIFY2(count(db, std::string("SELECT count(*) FROM pg_proc WHERE proname = '") + function + "'") == 1,
               function);
    QVERIFY_THROWS_NO_EXCEPTION(runner.requireCurrent(db));
  }

  void migratingAgainChangesNothing() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_twice");
    PgConnection db(scratch.dsn());
    const MigrationRunner runner;
    runner.migrate(db);
    const auto stamps = db.queryScalar("SELECT string_agg(version || '@' || applied_at, ',') FROM schema_migrations");
    QVERIFY(runner.migrate(db).empty());
    QVERIFY(runner.migrate(db).empty());
    QCOMPARE(db.queryScalar("SELECT string_agg(version || '@' || applied_at, ',') FROM schema_migrations"), stamps);
    QCOMPARE(count(db, "SELECT count(*) FROM schema_migrations"), static_cast<int>(embeddedMigrations().size()));
  }

  void appliesOnlyWhatIsPending() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_partial");
    PgConnection db(scratch.dsn());
    const auto& all = embeddedMigrations();
    MigrationRunner({all[0], all[1]}).migrate(db);
    const MigrationRunner full;
    QCOMPARE(full.status(db).databaseVersion, 2);
    QVERIFY(errorOf([&] { full.requireCurrent(db); }).contains("stacklens db migrate"));
    const auto applied = full.migrate(db);
    QCOMPARE(applied.size(), all.size() - 2);
    QCOMPARE(applied.front(), all[2].name);
    QVERIFY(full.status(db).upToDate());
  }

  // 0008 moves the aggregates from per-batch upserts to a logged roll-up: a database that
  // collected aggregates the old way keeps them, and what is written after the upgrade adds to them.
  void upgradingKeepsTheAggregatesCollectedBefore() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_stats");
    PgConnection db(scratch.dsn());
    const auto& all = embeddedMigrations();
    const auto deferred = std::find_if(all.begin(), all.end(), [](const Migration& m) { return m.version == 8; });
    QVERIFY(deferred != all.end());
    MigrationRunner(std::vector<Migration>(all.begin(), deferred)).migrate(db);
    const std::string insert =
        "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
        "SELECT md5($1 || i), 'svc' || (i % 3), timestamptz '2024-01-15 00:00+00' + make_interval(mins => i * 7), "
        "       'outlier', (ARRAY['low','high','critical'])[1 + i % 3], 0.5 FROM generate_series(1, 600) AS i";
    db.query(insert, {"before"});
    QCOMPARE(count(db, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 600);

    MigrationRunner().migrate(db);
    db.query(insert, {"after"});
    QCOMPARE(count(db, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"), 600);  // logged, not folded
    QCOMPARE(count(db, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_daily"), 1200);
    QVERIFY(count(db, "SELECT ml_rollup_anomaly_stats()") > 0);
    const std::string snapshot =
        "SELECT string_agg(concat_ws(':', service, hour_start, total_anomalies, critical_count, high_count, "
        "low_count), "
        "',' ORDER BY service, hour_start) FROM ml_anomaly_stats_hourly";
    const auto folded = db.queryScalar(snapshot);
    db.execute("SELECT ml_refresh_anomaly_stats('2024-01-15', '2024-01-18')");
    QCOMPARE(db.queryScalar(snapshot), folded);
    QCOMPARE(count(db, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_hourly"), 1200);
    QCOMPARE(count(db, "SELECT sum(critical_count) FROM ml_anomaly_stats_daily"), 400);
  }

  void aFailingMigrationRollsBackAndSaysWhich() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_fail");
    PgConnection db(scratch.dsn());
    std::vector<Migration> migrations = embeddedMigrations();
    MigrationRunner(migrations).migrate(db);
    migrations.push_back(makeMigration("0099_broken",
                                       "CREATE TABLE half_done (x int);\n"
                                       "SELECT no_such_column FROM ml_anomalies;"));
    const MigrationRunner runner(migrations);
    const QString error = errorOf([&] { runner.migrate(db); });
    QVERIFY2(error.contains("0099_broken") && error.contains("no_such_column"), qPrintable(error));
    QCOMPARE(db.queryScalar("SELECT to_regclass('half_done') IS NULL").value(), std::string("t"));
    const auto status = runner.status(db);
    QCOMPARE(status.databaseVersion, MigrationRunner().latestVersion());
    QCOMPARE(status.pending, std::vector<std::string>{"0099_broken"});
    QVERIFY(!db.inTransaction());
  }

  void refusesADatabaseNewerThanTheBinary() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_newer");
    PgConnection db(scratch.dsn());
    const MigrationRunner runner;
    runner.migrate(db);
    db.query("INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES ($1::int, $2, 'x', 'future')",
             {std::to_string(runner.latestVersion() + 1), "9999_future"});
    QVERIFY(runner.status(db).newerThanBinary());
    const QString error = errorOf([&] { runner.migrate(db); });
    QVERIFY2(error.contains("newer"), qPrintable(error));
    QVERIFY2(errorOf([&] { runner.requireCurrent(db); }).contains("upgrade StackLens"), qPrintable(error));
  }

  void refusesAModifiedMigration() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_modified");
    PgConnection db(scratch.dsn());
    const MigrationRunner runner;
    runner.migrate(db);
    db.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2");
    const auto status = runner.status(db);
    QCOMPARE(status.modified, std::vector<std::string>{embeddedMigrations()[1].name});
    QVERIFY(!status.upToDate());
    const QString error = errorOf([&] { runner.migrate(db); });
    QVERIFY2(error.contains(QString::fromStdString(embeddedMigrations()[1].name)), qPrintable(error));
  }

  void concurrentMigratorsApplyEachMigrationOnce() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(adminDsn(), "migrate_concurrent");
    std::vector<std::size_t> appliedCounts(3);
    std::vector<std::string> errors(3);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < appliedCounts.size(); ++i) {
      threads.emplace_back([&, i] {
        try {
          PgConnection db(scratch.dsn());
          appliedCounts[i] = MigrationRunner().migrate(db).size();
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& error : errors) QVERIFY2(error.empty(), error.c_str());
    std::size_t total = 0;
    for (std::size_t n : appliedCounts) total += n;
    QCOMPARE(total, embeddedMigrations().size());
    PgConnection db(scratch.dsn());
    QCOMPARE(count(db, "SELECT count(*) FROM schema_migrations"), static_cast<int>(embeddedMigrations().size()));
  }
};

QTEST_GUILESS_MAIN(TestPgMigrations)
#include "test_pg_migrations.moc"
