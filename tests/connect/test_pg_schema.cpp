// The migrated schema on seeded data: each of the 4 views and the functions returns the rows it
// should; the triggers keep the status history and log the aggregate deltas that roll-ups fold into
// the hourly/daily tables; the constraints refuse what the records never hold.
#include <atomic>
#include <thread>

#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/core/records.h"

#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "test_servers.h"

using stacklens::connect::MigrationRunner;
using stacklens::connect::PgConnection;
using stacklens::connect::PgError;
using stacklens::test::rowsOf;
using stacklens::test::scalarOf;
using stacklens::test::ScratchDatabase;

namespace {

// One anomaly `hoursAgo` hours before now; its id is md5(key).
void addAnomaly(PgConnection& db, const std::string& key, const std::string& service, double hoursAgo,
                const std::string& type, const std::string& severity, double confidence) {
  db.query(
      "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
      "VALUES (md5($1), $2, now() - make_interval(secs => $3::double precision * 3600), $4, $5, $6::double precision)",
      {key, service, std::to_string(hoursAgo), type, severity, std::to_string(confidence)});
}

// `count` anomalies at noon UTC, `daysAgo` UTC days before today.
void addAnomaliesOnDay(PgConnection& db, const std::string& service, int daysAgo, int count) {
  db.query(
      "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
      "SELECT md5($1 || '/' || $2 || '/' || i), $1, "
      "       (((now() AT TIME ZONE 'UTC')::date - $2::int)::timestamp + interval '12 hours') AT TIME ZONE 'UTC' "
      "           + make_interval(secs => i), "
      "       'outlier', 'medium', 0.5 FROM generate_series(1, $3::int) AS i",
      {service, std::to_string(daysAgo), std::to_string(count)});
}

void addModel(PgConnection& db, const std::string& service, const std::string& type, int version, bool active,
              double daysAgo, int samples, const std::string& f1) {
  db.query(
      "INSERT INTO ml_models (model_id, service, model_type, version, trained_at, training_samples, f1_score, active) "
      "VALUES (md5($1 || $2 || $3), $1, $2, $3::int, now() - make_interval(secs => $4::double precision * 86400), "
      "        $5::int, NULLIF($6, '')::double precision, $7::boolean)",
      {service, type, std::to_string(version), std::to_string(daysAgo), std::to_string(samples), f1,
       active ? "true" : "false"});
}

QString errorOf(PgConnection& db, const std::string& sql) {
  return stacklens::test::errorOf([&] { db.execute(sql); });
}

// The hourly and daily aggregates as comparable rows (confidence sums rounded: float addition
// order), from the tables (as of the last roll-up) or from the exact views (prefix "ml_v_").
QStringList statsSnapshot(PgConnection& db, const std::string& prefix = "ml_") {
  return rowsOf(
      db,
      "SELECT 'h', hour_start, service, total_anomalies, critical_count, high_count, medium_count, low_count, "
      "       round(confidence_sum::numeric, 9), resolved_count, round(avg_confidence::numeric, 9) FROM " +
          prefix +
          "anomaly_stats_hourly WHERE total_anomalies <> 0 "
          "UNION ALL "
          "SELECT 'd', day::timestamptz, service, total_anomalies, critical_count, high_count, medium_count, "
          "       low_count, round(confidence_sum::numeric, 9), resolved_count, round(avg_confidence::numeric, 9) "
          "FROM " +
          prefix + "anomaly_stats_daily WHERE total_anomalies <> 0 ORDER BY 1, 2, 3");
}

}  // namespace

class TestPgSchema : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ScratchDatabase> scratch_;
  std::unique_ptr<PgConnection> db_;

 private slots:
  void initTestCase() {
    STACKLENS_REQUIRE_POSTGRES();
    scratch_ = std::make_unique<ScratchDatabase>(stacklens::test::postgresDsn().toStdString(), "schema");
    db_ = std::make_unique<PgConnection>(scratch_->dsn());
    MigrationRunner().migrate(*db_);
  }

  void init() {
    db_->execute(
        "TRUNCATE ml_anomalies, ml_anomaly_history, ml_anomalies_archive, ml_anomaly_stats_hourly, "
        "ml_anomaly_stats_daily, ml_anomaly_stats_pending, ml_models, ml_predictive_alerts");
  }

  void cleanupTestCase() {
    db_.reset();
    scratch_.reset();
  }

  void recentAnomaliesGroupsTheLastDayByServiceAndType() {
    PgConnection& db = *db_;
    addAnomaly(db, "a1", "api", 1, "error_spike", "critical", 0.9);
    addAnomaly(db, "a2", "api", 2, "error_spike", "high", 0.7);
    addAnomaly(db, "a3", "api", 3, "error_spike", "low", 0.5);
    addAnomaly(db, "a4", "api", 30, "outlier", "critical", 0.99);  // older than 24 hours
    addAnomaly(db, "d1", "db", 5, "latency_degradation", "critical", 0.8);
    db.execute("UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('a3')");
    QCOMPARE(rowsOf(db,
                    "SELECT service, anomaly_type, anomaly_count, critical_count, high_count, medium_count, low_count, "
                    "avg_confidence, max_confidence, unresolved_count FROM ml_v_recent_anomalies"),
             QStringList({"api|error_spike|3|1|1|0|1|0.700|0.9|2", "db|latency_degradation|1|1|0|0|0|0.800|0.8|1"}));
  }

  void criticalAnomaliesAreTheUnresolvedCriticalOnes() {
    PgConnection& db = *db_;
    addAnomaly(db, "open-new", "api", 2, "error_spike", "critical", 0.9);
    addAnomaly(db, "closed", "api", 1, "error_spike", "critical", 0.9);
    addAnomaly(db, "open-old", "db", 240, "traffic_drop", "critical", 0.7);
    addAnomaly(db, "high", "api", 1, "outlier", "high", 0.95);
    db.execute("UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('closed')");
    QCOMPARE(rowsOf(db,
                    "SELECT anomaly_id = md5('open-new'), anomaly_id = md5('open-old'), service, anomaly_type, "
                    "open_for > interval '1 hour' FROM ml_v_critical_anomalies"),
             QStringList({"t|f|api|error_spike|t", "f|t|db|traffic_drop|t"}));
  }

  void anomalyTrendsCompareEachDayWithItsBaseline() {
    PgConnection& db = *db_;
    for (int day = 7; day >= 1; --day) addAnomaliesOnDay(db, "api", day, 2);
    addAnomaliesOnDay(db, "api", 0, 5);   // 5 against a baseline of 2 a day: rising
    addAnomaliesOnDay(db, "api", 40, 1);  // outside the 30 days shown
    addAnomaliesOnDay(db, "db", 1, 4);    // nothing the week before: new
    addAnomaliesOnDay(db, "web", 3, 14);
    addAnomaliesOnDay(db, "web", 2, 14);
    addAnomaliesOnDay(db, "web", 1, 1);  // 1 against a baseline of 4 a day: falling
    const QStringList rows = rowsOf(db,
                                    "SELECT (now() AT TIME ZONE 'UTC')::date - day, service, total_anomalies, "
                                    "previous_day_total, baseline_7d, trend FROM ml_v_anomaly_trends");
    QCOMPARE(rows, QStringList({"0|api|5|2|2.000|rising",    //
                                "1|api|2|2|1.714|stable",    //
                                "1|db|4|0|0.000|new",        //
                                "1|web|1|14|4.000|falling",  //
                                "2|api|2|2|1.429|stable",    //
                                "2|web|14|14|2.000|rising",  //
                                "3|api|2|2|1.143|rising",    //
                                "3|web|14|0|0.000|new",      //
                                "4|api|2|2|0.857|rising",    //
                                "5|api|2|2|0.571|rising",    //
                                "6|api|2|2|0.286|rising",    //
                                "7|api|2|0|0.000|new"}));
  }

  void modelHealthJudgesTheActiveModels() {
    PgConnection& db = *db_;
    addModel(db, "api", "isolation_forest", 1, false, 2, 500, "0.9");
    addModel(db, "api", "isolation_forest", 2, true, 1, 500, "0.8");
    addModel(db, "db", "isolation_forest", 1, true, 10, 500, "0.9");
    addModel(db, "web", "dbscan", 1, true, 1, 50, "");
    addModel(db, "cache", "arima", 1, true, 1, 300, "0.3");
    addAnomaly(db, "x1", "api", 1, "outlier", "low", 0.5);
    addAnomaly(db, "x2", "api", 2, "outlier", "low", 0.5);
    addAnomaly(db, "x3", "api", 48, "outlier", "low", 0.5);
    QCOMPARE(rowsOf(db, "SELECT service, model_type, version, anomalies_24h, health_status FROM ml_v_model_health"),
             QStringList({"api|isolation_forest|2|2|healthy", "cache|arima|1|0|degraded",
                          "db|isolation_forest|1|0|stale", "web|dbscan|1|0|insufficient_data"}));
    // One active version per service and model type.
    QVERIFY(errorOf(db, "UPDATE ml_models SET active = true WHERE service = 'api' AND version = 1")
                .contains("ml_models_one_active_idx"));
  }

  void calculateAnomalyStatsSummarisesAPeriod() {
    PgConnection& db = *db_;
    addAnomaly(db, "s1", "api", 1, "error_spike", "critical", 0.9);
    addAnomaly(db, "s2", "api", 2, "error_spike", "high", 0.7);
    addAnomaly(db, "s3", "api", 3, "outlier", "low", 0.2);
    addAnomaly(db, "s4", "api", 48, "outlier", "low", 0.4);
    addAnomaly(db, "s5", "db", 4, "traffic_drop", "medium", 0.6);
    db.execute("UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('s1')");
    const std::string columns =
        "service, total_anomalies, critical_count, high_count, medium_count, low_count, round(avg_confidence::numeric, "
        "6), max_confidence, resolved_count, round(resolution_rate::numeric, 6)";
    QCOMPARE(rowsOf(db, "SELECT " + columns + " FROM ml_calculate_anomaly_stats()"),
             QStringList({"api|3|1|1|0|1|0.600000|0.9|1|0.333333", "db|1|0|0|1|0|0.600000|0.6|0|0.000000"}));
    QCOMPARE(rowsOf(db,
                    "SELECT service, total_anomalies FROM ml_calculate_anomaly_stats(now() - interval '72 hours', "
                    "now() - interval '90 minutes')"),
             QStringList({"api|3", "db|1"}));
  }

  void topAnomaliesAreTheMostConfidentRecentOnes() {
    PgConnection& db = *db_;
    addAnomaly(db, "t1", "api", 1, "outlier", "low", 0.5);
    addAnomaly(db, "t2", "api", 3, "outlier", "high", 0.9);
    addAnomaly(db, "t3", "db", 1, "outlier", "high", 0.9);
    addAnomaly(db, "t4", "db", 2, "outlier", "medium", 0.7);
    addAnomaly(db, "t5", "db", 30, "outlier", "critical", 0.99);
    const std::string ids =
        "SELECT CASE anomaly_id WHEN md5('t1') THEN 't1' WHEN md5('t2') THEN 't2' WHEN md5('t3') THEN 't3' "
        "WHEN md5('t4') THEN 't4' ELSE 't5' END FROM ";
    QCOMPARE(rowsOf(db, ids + "ml_get_top_anomalies(3)"), QStringList({"t3", "t2", "t4"}));
    QCOMPARE(rowsOf(db, ids + "ml_get_top_anomalies()"), QStringList({"t3", "t2", "t4", "t1"}));
    QCOMPARE(rowsOf(db, ids + "ml_get_top_anomalies(2, 48)"), QStringList({"t5", "t3"}));
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_get_top_anomalies(0)"), 0LL);
  }

  void archiveMovesOldAnomaliesWithTheirHistory() {
    PgConnection& db = *db_;
    addAnomaly(db, "old1", "api", 100 * 24, "error_spike", "critical", 0.9);
    addAnomaly(db, "old2", "api", 120 * 24, "outlier", "low", 0.3);
    addAnomaly(db, "new1", "api", 24, "outlier", "low", 0.3);
    db.execute(
        "BEGIN; SET LOCAL stacklens.note = 'fixed by rollback';"
        "UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('old1'); COMMIT");
    const QStringList statsBefore = statsSnapshot(db);

    // The quick start's call, unchanged: one composite value.
    const std::string expected =
        db.queryScalar(
              "SELECT format('(2,%s,%s)', ((now() - interval '120 days') AT TIME ZONE 'UTC')::date, "
              "((now() - interval '100 days') AT TIME ZONE 'UTC')::date)")
            .value();
    QCOMPARE(db.queryScalar("SELECT ml_archive_old_anomalies(90)").value(), expected);

    QCOMPARE(rowsOf(db, "SELECT anomaly_id = md5('new1') FROM ml_anomalies"), QStringList({"t"}));
    QCOMPARE(rowsOf(db,
                    "SELECT anomaly_id = md5('old1'), resolved, jsonb_array_length(history), "
                    "history->0->>'new_status', history->0->>'note' FROM ml_anomalies_archive ORDER BY \"timestamp\" "
                    "DESC"),
             QStringList({"t|t|1|resolved|fixed by rollback", "f|f|0|NULL|NULL"}));
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomaly_history"), 0LL);
    QCOMPARE(statsSnapshot(db), statsBefore);  // archived anomalies keep counting
    QCOMPARE(rowsOf(db, "SELECT total_anomalies FROM ml_calculate_anomaly_stats(now() - interval '200 days', now())"),
             QStringList({"3"}));

    // Nothing left to archive: the documented columns, count 0 and no dates.
    QCOMPARE(rowsOf(db,
                    "SELECT anomalies_archived, earliest_archived, latest_archived "
                    "FROM ml_archive_old_anomalies(90)"),
             QStringList({"0|NULL|NULL"}));
    QVERIFY(errorOf(db, "SELECT ml_archive_old_anomalies(-1)").contains("days must be 0 or more"));
  }

  void statusChangesAreLoggedWithResolutionTime() {
    PgConnection& db = *db_;
    addAnomaly(db, "h1", "api", 1, "error_spike", "high", 0.8);
    db.execute(
        "BEGIN; SET LOCAL stacklens.note = 'restarted pod';"
        "UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('h1'); COMMIT");
    QCOMPARE(rowsOf(db, "SELECT resolved, resolved_at IS NOT NULL FROM ml_anomalies"), QStringList({"t|t"}));
    db.execute("UPDATE ml_anomalies SET resolved = false WHERE anomaly_id = md5('h1')");
    db.execute("UPDATE ml_anomalies SET description = 'edited' WHERE anomaly_id = md5('h1')");  // no status change
    QCOMPARE(rowsOf(db, "SELECT resolved, resolved_at IS NULL FROM ml_anomalies"), QStringList({"f|t"}));
    QCOMPARE(rowsOf(db, "SELECT old_status, new_status, note, changed_by FROM ml_anomaly_history ORDER BY history_id"),
             QStringList({"open|resolved|restarted pod|stacklens", "resolved|open||stacklens"}));
  }

  void aggregatesFollowInsertsAndUpdatesAndMatchARecompute() {
    PgConnection& db = *db_;
    // 2000 anomalies over 10 days and 4 services, some resolved, some reopened, some archived.
    db.execute(
        "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
        "SELECT md5('agg' || i), 'svc' || (i % 4), now() - make_interval(mins => (i * 7919) % 14400), 'outlier', "
        "       (ARRAY['low','medium','high','critical'])[1 + (i * 31) % 4], ((i * 17) % 100) / 100.0 "
        "FROM generate_series(1, 2000) AS i");
    db.execute("UPDATE ml_anomalies SET resolved = true WHERE service IN ('svc1', 'svc2')");
    db.execute("UPDATE ml_anomalies SET resolved = false WHERE service = 'svc2' AND severity = 'low'");
    db.execute("UPDATE ml_anomalies SET \"timestamp\" = \"timestamp\" - interval '3 hours' WHERE service = 'svc3'");
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_archive_old_anomalies(5)"), 1LL);

    // Before a roll-up the deltas are only logged: the tables are empty, the views exact.
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomaly_stats_hourly"), 0LL);
    QCOMPARE(scalarOf(db, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_hourly"), 2000LL);
    QCOMPARE(scalarOf(db, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_daily"), 2000LL);
    QCOMPARE(scalarOf(db, "SELECT sum(resolved_count) FROM ml_v_anomaly_stats_daily"),
             scalarOf(db,
                      "SELECT (SELECT count(*) FROM ml_anomalies WHERE resolved) + "
                      "(SELECT count(*) FROM ml_anomalies_archive WHERE resolved)"));
    const QStringList incremental = statsSnapshot(db, "ml_v_");
    QVERIFY(incremental.size() > 40);

    // A roll-up folds the whole log into the tables, and a second one finds nothing left.
    const long long logged = scalarOf(db, "SELECT count(*) FROM ml_anomaly_stats_pending");
    QVERIFY(logged > 0);
    QCOMPARE(scalarOf(db, "SELECT ml_rollup_anomaly_stats()"), logged);
    QCOMPARE(scalarOf(db, "SELECT ml_rollup_anomaly_stats()"), 0LL);
    QCOMPARE(statsSnapshot(db), incremental);
    QCOMPARE(statsSnapshot(db, "ml_v_"), incremental);

    // The recompute from the rows gives the same aggregates, also with deltas still logged for the
    // recomputed days (they are dropped, not counted twice).
    db.execute("UPDATE ml_anomalies SET resolved = NOT resolved WHERE service = 'svc0'");
    db.execute("UPDATE ml_anomalies SET resolved = NOT resolved WHERE service = 'svc0'");
    QVERIFY(scalarOf(db, "SELECT count(*) FROM ml_anomaly_stats_pending") > 0);
    QCOMPARE(rowsOf(db, "SELECT daily_rows > 0 FROM ml_refresh_anomaly_stats(now() - interval '30 days', now())"),
             QStringList({"t"}));
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomaly_stats_pending"), 0LL);
    QCOMPARE(statsSnapshot(db), incremental);
    QCOMPARE(scalarOf(db,
                      "SELECT count(*) FROM ml_anomaly_stats_hourly WHERE avg_confidence IS NULL AND "
                      "total_anomalies > 0"),
             0LL);
  }

  void concurrentRollUpsFoldEachDeltaOnce() {
    PgConnection& db = *db_;
    addAnomaliesOnDay(db, "api", 1, 30);
    addAnomaliesOnDay(db, "web", 2, 20);
    const QStringList exact = statsSnapshot(db, "ml_v_");
    // One roll-up holds its turn while another starts: the second waits, then finds the log empty.
    PgConnection first(scratch_->dsn());
    first.execute("BEGIN");
    QCOMPARE(scalarOf(first, "SELECT ml_rollup_anomaly_stats()"), 2LL);
    std::atomic<long long> secondFolded{-1};
    std::thread second([&] {
      PgConnection other(scratch_->dsn());
      secondFolded = scalarOf(other, "SELECT ml_rollup_anomaly_stats()");
    });
    QTest::qWait(300);
    QCOMPARE(secondFolded.load(), -1LL);  // still waiting for its turn
    first.execute("COMMIT");
    second.join();
    QCOMPARE(secondFolded.load(), 0LL);
    QCOMPARE(statsSnapshot(db), exact);
    QCOMPARE(rowsOf(db, "SELECT service, total_anomalies FROM ml_anomaly_stats_daily ORDER BY service"),
             QStringList({"api|30", "web|20"}));
  }

  void theCommonLookupsHaveIndexes() {
    PgConnection& db = *db_;
    struct Rollback {
      PgConnection& db;
      ~Rollback() { db.execute("ROLLBACK"); }
    } rollback{db};
    db.execute("BEGIN; SET LOCAL enable_seqscan = off");
    const auto planOf = [&](const std::string& sql) { return rowsOf(db, "EXPLAIN " + sql).join('\n'); };
    QVERIFY(planOf("SELECT * FROM analytics_metrics_1hour WHERE service = 'api' AND \"timestamp\" > now() - "
                   "interval '7 days'")
                .contains("analytics_metrics_1hour_pkey"));
    QVERIFY(planOf("SELECT * FROM ml_anomalies WHERE service = 'api' AND \"timestamp\" > now() - interval '1 day'")
                .contains("ml_anomalies_service_timestamp_idx"));
    QVERIFY(planOf("SELECT * FROM ml_anomalies WHERE severity = 'critical'").contains("ml_anomalies_severity_idx"));
    QVERIFY(planOf("SELECT * FROM ml_anomalies WHERE anomaly_type = 'outlier'").contains("ml_anomalies_type_idx"));
  }

  void modelBlobsAreStoredOutOfLineUncompressed() {
    // SLIF version 3 forests do not compress: the server's attempt would cost CPU for nothing.
    QCOMPARE(rowsOf(*db_, "SELECT attstorage FROM pg_attribute WHERE attrelid = 'ml_models'::regclass AND "
                          "attname = 'model_blob'"),
             QStringList{"e"});
    // A compressible blob of 64 KiB, stored as it is all the same.
    db_->query("INSERT INTO ml_models (model_id, service, model_type, version, trained_at, model_blob) "
               "VALUES ('m', 'api', 'isolation_forest', 1, now(), decode(repeat('78', 65536), 'hex'))");
    QCOMPARE(rowsOf(*db_, "SELECT pg_column_size(model_blob) >= 65536 FROM ml_models"), QStringList{"t"});
  }

  void constraintsRefuseWhatRecordsNeverHold() {
    PgConnection& db = *db_;
    const std::string insert =
        "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
        "VALUES ";
    QVERIFY(errorOf(db, insert + "(md5('c1'), 'api', now(), 'bogus', 'low', 0.5)").contains("ml_anomalies_type_check"));
    QVERIFY(errorOf(db, insert + "(md5('c2'), 'api', now(), 'outlier', 'urgent', 0.5)")
                .contains("ml_anomalies_severity_check"));
    QVERIFY(errorOf(db, insert + "(md5('c3'), 'api', now(), 'outlier', 'low', 1.5)")
                .contains("ml_anomalies_confidence_check"));
    QVERIFY(
        errorOf(db, insert + "('not-an-md5', 'api', now(), 'outlier', 'low', 0.5)").contains("ml_anomalies_id_check"));
    // 32 bytes, but upper case, another letter, or a multibyte character in place of two digits.
    for (const char* id : {"upper(md5('c4'))", "'g' || right(md5('c4'), 31)", "'é' || right(md5('c4'), 30)"})
      QVERIFY2(
          errorOf(db, insert + "(" + id + ", 'api', now(), 'outlier', 'low', 0.5)").contains("ml_anomalies_id_check"),
          id);
    QVERIFY(
        errorOf(db, insert + "(md5('c5'), '', now(), 'outlier', 'low', 0.5)").contains("ml_anomalies_service_check"));
    QVERIFY(errorOf(db,
                    "INSERT INTO ml_predictive_alerts (alert_id, service, predicted_event, prediction_confidence, "
                    "predicted_time_start, predicted_time_end) VALUES ('a', 'api', 'threshold_breach', 0.5, now(), "
                    "now() - interval '1 hour')")
                .contains("ml_predictive_alerts_window_check"));
    QVERIFY(errorOf(db,
                    "INSERT INTO ml_patterns (pattern_id, service, cluster_label, centroid, spread, cluster_size, "
                    "share, first_seen, last_seen) VALUES ('p', 'api', 0, '{1,2,3,4,5,6,7}', '{1,2,3,4,5,6,7,8}', 3, "
                    "0.5, now(), now())")
                .contains("ml_patterns_vectors_check"));
    QVERIFY(errorOf(db, "INSERT INTO ml_anomaly_history (anomaly_id, new_status) VALUES (md5('nobody'), 'open')")
                .contains("ml_anomaly_history_anomaly_fkey"));

    // Every enum value of stacklens/core/records.h is accepted.
    int n = 0;
    for (auto type : stacklens::core::kAllAnomalyTypes)
      for (auto severity : stacklens::core::kAllSeverities)
        addAnomaly(db, "enum" + std::to_string(n++), "api", 1, std::string(toString(type)),
                   std::string(toString(severity)), 0.5);
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomalies"), static_cast<long long>(n));
    for (auto direction : {stacklens::core::TrendDirection::kDown, stacklens::core::TrendDirection::kStable,
                           stacklens::core::TrendDirection::kUp})
      db.query(
          "INSERT INTO ml_trends (service, metric, \"timestamp\", direction, magnitude, slope) "
          "VALUES ('api', 'error_rate', now(), $1, 0, 0)",
          {std::string(toString(direction))});
  }
};

QTEST_GUILESS_MAIN(TestPgSchema)
#include "test_pg_schema.moc"
