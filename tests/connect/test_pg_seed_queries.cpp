// The SQL of the original system's quick start (tests/data/connect/seed_queries.sql, cut verbatim
// from shared/seeds/001_780781e1fe88f4a8.txt) runs unchanged against the migrated schema and
// answers what it should on seeded data.
#include <QFile>
#include <QMap>
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"

#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "test_servers.h"

using stacklens::connect::MigrationRunner;
using stacklens::connect::PgConnection;
using stacklens::test::rowsOf;
using stacklens::test::ScratchDatabase;

namespace {

struct SeedQuery {
  QString name;
  QString sql;
};

// Statements start at "-- @ name" lines and run to the next one.
QList<SeedQuery> loadSeedQueries() {
  QFile file(QStringLiteral(STACKLENS_TEST_DATA_DIR "/connect/seed_queries.sql"));
  if (!file.open(QIODevice::ReadOnly)) return {};
  QList<SeedQuery> queries;
  for (const QString& line : QString::fromUtf8(file.readAll()).split('\n')) {
    if (line.startsWith(QStringLiteral("-- @ "))) {
      queries.append({line.mid(5).trimmed(), {}});
    } else if (!queries.isEmpty()) {
      queries.last().sql += line + '\n';
    }
  }
  for (SeedQuery& query : queries) query.sql = query.sql.trimmed();
  return queries;
}

}  // namespace

class TestPgSeedQueries : public QObject {
  Q_OBJECT
 private slots:
  void fixtureIsVerbatimFromTheSeed() {
    const QList<SeedQuery> queries = loadSeedQueries();
    QCOMPARE(queries.size(), 10);
    QFile seed(QStringLiteral(STACKLENS_SHARED_DATA_DIR "/../seeds/001_780781e1fe88f4a8.txt"));
    if (!seed.open(QIODevice::ReadOnly)) QSKIP("shared/seeds is not next to this checkout");
    const QString text = QString::fromUtf8(seed.readAll());
    for (const SeedQuery& query : queries) QVERIFY2(text.contains(query.sql), qPrintable(query.name));
  }

  void seedQueriesRunUnchangedOnSeededData() {
    STACKLENS_REQUIRE_POSTGRES();
    ScratchDatabase scratch(stacklens::test::postgresDsn().toStdString(), "seed_queries");
    PgConnection db(scratch.dsn());
    MigrationRunner().migrate(db);

    // Phase 4 history: 5 rows written in the last day (3 of them 'api' in the last 4 hours), one
    // written 30 hours ago.
    db.execute(
        "INSERT INTO analytics_metrics_1hour (service, \"timestamp\", total_requests, error_rate) VALUES "
        "('api', now() - interval '1 hour', 1000, 0.5), ('api', now() - interval '2 hours', 1100, 0.4), "
        "('api', now() - interval '3 hours', 900, 0.6), ('api', now() - interval '5 hours', 950, 0.5), "
        "('db', now() - interval '1 hour', 300, 0.1);"
        "INSERT INTO analytics_metrics_1hour (service, \"timestamp\", created_at) VALUES "
        "('api', now() - interval '30 hours', now() - interval '30 hours')");
    // Anomalies: three now, one 100 days old (the retention call archives it).
    db.execute(
        "INSERT INTO ml_anomalies (anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score) "
        "VALUES (md5('a1'), 'api', now(), 'error_spike', 'critical', 0.9), "
        "       (md5('a2'), 'api', now(), 'error_spike', 'high', 0.6), "
        "       (md5('d1'), 'db', now(), 'latency_degradation', 'critical', 0.8), "
        "       (md5('old'), 'api', now() - interval '100 days', 'outlier', 'low', 0.3);"
        "UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = md5('a1')");
    // Predictive alerts: four in the last day (2 sent, 1 materialized), one two days old.
    db.execute(
        "INSERT INTO ml_predictive_alerts (alert_id, service, predicted_event, prediction_confidence, "
        "  predicted_time_start, predicted_time_end, created_at, alert_sent, materialized) "
        "SELECT 'alert' || i, 'api', 'threshold_breach', 0.5 + i / 10.0, now() + interval '1 hour', "
        "       now() + interval '2 hours', now() - make_interval(hours => i), i <= 2, i = 1 "
        "FROM generate_series(1, 4) AS i;"
        "INSERT INTO ml_predictive_alerts (alert_id, service, predicted_event, prediction_confidence, "
        "  predicted_time_start, predicted_time_end, created_at) "
        "VALUES ('alert-old', 'db', 'capacity_exhaustion', 0.7, now(), now(), now() - interval '2 days')");

    const QString retentionResult =
        QString::fromStdString(db.queryScalar("SELECT format('(1,%1$s,%1$s)', ((now() - interval '100 days') AT TIME "
                                              "ZONE 'UTC')::date)")
                                   .value());
    const QMap<QString, QStringList> expected = {
        {"prerequisites: Phase 4 analytics data", {"5"}},
        {"check results: view statistics",
         {"api|error_spike|2|1|1|0|0|0.750|0.9|1|", "db|latency_degradation|1|1|0|0|0|0.800|0.8|1|"}},
        {"data retention: archive anomalies older than 90 days", {retentionResult}},
        {"monitoring: last hour anomalies by service", {"api|2|1|1|0.750|1", "db|1|1|0|0.800|0"}},
        {"monitoring: predictive alerts status", {"4|2|1|25.0"}},
        {"monitoring: top anomalies today", {"api|error_spike|2|0.750", "db|latency_degradation|1|0.800"}},
        {"no anomalies detected: check database connectivity", {"6"}},
    };

    const QList<SeedQuery> queries = loadSeedQueries();
    QCOMPARE(queries.size(), 10);
    for (const SeedQuery& query : queries) {
      QStringList rows;
      try {
        rows = rowsOf(db, query.sql.toStdString());
      } catch (const std::exception& e) {
        QFAIL(qPrintable(query.name + ": " + e.what()));
      }
      if (query.name == "check results: view detected anomalies") {
        QCOMPARE(rows.size(), 4);
        QVERIFY2(rows.last().contains("|api|outlier|low|0.3|"), qPrintable(rows.last()));
      } else if (query.name == "check results: view predictive alerts") {
        QCOMPARE(rows.size(), 5);
        QVERIFY2(rows.first().startsWith("alert1|api|threshold_breach|0.6|"), qPrintable(rows.first()));
        QVERIFY2(rows.last().startsWith("alert-old|db|capacity_exhaustion|0.7|"), qPrintable(rows.last()));
      } else if (query.name == "predictive alerts not generating: history for ARIMA") {
        QCOMPARE(rows.size(), 1);
        QVERIFY2(rows.first().startsWith("3|"), qPrintable(rows.first()));
      } else if (query.name == "check results: view statistics") {
        // Drop the first_seen/last_seen timestamps, which are "now".
        QStringList trimmed;
        for (const QString& row : rows) trimmed << row.section('|', 0, 9) + '|';
        QCOMPARE(trimmed, expected.value(query.name));
      } else {
        QVERIFY2(expected.contains(query.name), qPrintable("no expectation for " + query.name));
        QCOMPARE(rows, expected.value(query.name));
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestPgSeedQueries)
#include "test_pg_seed_queries.moc"
