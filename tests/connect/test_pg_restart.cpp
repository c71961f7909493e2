// The store while its PostgreSQL server goes away: a crash restart and a clean restart in the
// middle of concurrent batch writes lose nothing that was acknowledged and duplicate nothing; a
// server gone for longer than the retry budget gives a clear error, and writing resumes when it
// is back. Uses a private server (tests/support/throwaway_postgres.h), not the shared one.
#include <atomic>
#include <mutex>
#include <thread>

#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/connect/pg_store.h"

#include "pg_test_helpers.h"
#include "throwaway_postgres.h"

using namespace stacklens;
using connect::PgConnection;
using connect::PgError;
using connect::PgSettings;
using connect::PgStore;
using test::scalarOf;
using test::ThrowawayPostgres;

namespace {

constexpr core::EpochSeconds kBase = 1705276800;  // 2024-01-15T00:00:00Z

std::vector<core::AnomalyRecord> batchOf(const std::string& writer, int batch, int size) {
  std::vector<core::AnomalyRecord> anomalies;
  for (int i = 0; i < size; ++i) {
    core::AnomalyRecord a;
    a.service = writer + "-" + std::to_string(i % 4);  // several services: a batch is split over connections
    a.timestamp = kBase + static_cast<core::EpochSeconds>(batch) * size * 60 + i * 60;
    a.type = core::AnomalyType::kOutlier;
    a.anomalyId = core::makeAnomalyId(a.service, a.timestamp, a.type);
    a.confidence = 0.5;
    anomalies.push_back(a);
  }
  return anomalies;
}

// Counts how many of `ids` are stored, in one query.
long long storedCount(PgConnection& db, const std::vector<std::string>& ids) {
  std::string array = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) array += (i ? "," : "") + ids[i];
  array += "}";
  return scalarOf(db, "SELECT count(*) FROM ml_anomalies WHERE anomaly_id = ANY($1::text[])", {array});
}

PgSettings settingsFor(const ThrowawayPostgres& server, std::chrono::milliseconds budget) {
  PgSettings settings;
  settings.dsn = server.dsn();
  settings.poolMin = 2;
  settings.poolMax = 4;
  settings.connectTimeoutSeconds = 2;
  settings.retry.initialDelay = std::chrono::milliseconds(50);
  settings.retry.maxDelay = std::chrono::milliseconds(500);
  settings.retry.maxElapsed = budget;
  return settings;
}

}  // namespace

class TestPgRestart : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ThrowawayPostgres> server_;

 private slots:
  void initTestCase() {
    server_ = std::make_unique<ThrowawayPostgres>();
    QVERIFY2(server_->isReady(), qPrintable(server_->error()));
    PgConnection db(server_->dsn());
    connect::MigrationRunner().migrate(db);
  }

  void init() {
    if (!server_->isRunning()) QVERIFY2(server_->start(), qPrintable(server_->error()));
    PgConnection(server_->dsn())
        .execute(
            "TRUNCATE ml_anomalies, ml_anomaly_history, ml_anomaly_stats_hourly, ml_anomaly_stats_daily, "
            "ml_anomaly_stats_pending");
  }

  void cleanupTestCase() { server_.reset(); }

  void acknowledgedWritesSurviveRestartsMidStream() {
    ThrowawayPostgres& server = *server_;
    PgStore store(settingsFor(server, std::chrono::seconds(60)));

    std::mutex mutex;
    std::vector<std::string> acknowledged;
    std::atomic<int> acknowledgedBatches{0};
    std::atomic<int> failedBatches{0};
    std::atomic<bool> stop{false};
    std::string firstFailure;
    auto writer = [&](const std::string& name) {
      for (int batch = 0; !stop; ++batch) {
        const auto anomalies = batchOf(name, batch, 600);
        try {
          store.writeAnomalies(anomalies);
        } catch (const std::exception& e) {
          ++failedBatches;
          std::lock_guard lock(mutex);
          if (firstFailure.empty()) firstFailure = e.what();
          continue;
        }
        std::lock_guard lock(mutex);
        for (const auto& a : anomalies) acknowledged.push_back(a.anomalyId);
        ++acknowledgedBatches;
      }
    };
    auto waitForBatches = [&](int count) {
      const int target = acknowledgedBatches + count;
      QTRY_VERIFY_WITH_TIMEOUT(acknowledgedBatches >= target, 60000);
    };

    std::thread first(writer, "writer-a");
    std::thread second(writer, "writer-b");
    waitForBatches(10);
    QVERIFY2(server.restart(ThrowawayPostgres::StopMode::kImmediate), qPrintable(server.error()));  // a crash
    waitForBatches(10);
    QVERIFY2(server.restart(ThrowawayPostgres::StopMode::kFast), qPrintable(server.error()));  // sessions terminated
    waitForBatches(10);
    stop = true;
    first.join();
    second.join();

    QVERIFY2(failedBatches == 0, firstFailure.c_str());
    QVERIFY2(store.statistics().retries > 0, "the restarts did not interrupt any write");
    PgConnection db(server.dsn());
    QCOMPARE(storedCount(db, acknowledged), static_cast<long long>(acknowledged.size()));
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomalies"), static_cast<long long>(acknowledged.size()));
    // A retry after an unknown commit outcome did not count twice in the aggregates either, and the
    // deltas not yet rolled up survive a crash in the log.
    QVERIFY2(server.restart(ThrowawayPostgres::StopMode::kImmediate), qPrintable(server.error()));
    PgConnection after(server.dsn());
    QCOMPARE(scalarOf(after, "SELECT sum(total_anomalies) FROM ml_v_anomaly_stats_hourly"),
             static_cast<long long>(acknowledged.size()));
    store.rollUpAnomalyStats();
    QCOMPARE(scalarOf(after, "SELECT count(*) FROM ml_anomaly_stats_pending"), 0LL);
    QCOMPARE(scalarOf(after, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_hourly"),
             static_cast<long long>(acknowledged.size()));
    QCOMPARE(scalarOf(after, "SELECT sum(total_anomalies) FROM ml_anomaly_stats_daily"),
             static_cast<long long>(acknowledged.size()));
  }

  void aLongOutageFailsClearlyAndWritingResumes() {
    ThrowawayPostgres& server = *server_;
    PgStore store(settingsFor(server, std::chrono::milliseconds(1500)));
    QCOMPARE(store.writeAnomalies(batchOf("api", 0, 10)), std::size_t{10});

    QVERIFY2(server.stop(), qPrintable(server.error()));
    const auto lost = batchOf("api", 1, 10);
    const auto started = std::chrono::steady_clock::now();
    try {
      store.writeAnomalies(lost);
      QFAIL("expected PgError while the server is down");
    } catch (const PgError& e) {
      QCOMPARE(e.kind(), PgError::Kind::kConnection);
      QVERIFY2(QString(e.what()).contains("writing to ml_anomalies: gave up after"), e.what());
    }
    QVERIFY(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));

    QVERIFY2(server.start(), qPrintable(server.error()));
    QCOMPARE(store.writeAnomalies(batchOf("api", 2, 10)), std::size_t{10});
    PgConnection db(server.dsn());
    QCOMPARE(scalarOf(db, "SELECT count(*) FROM ml_anomalies"), 20LL);
    std::vector<std::string> lostIds;
    for (const auto& a : lost) lostIds.push_back(a.anomalyId);
    QCOMPARE(storedCount(db, lostIds), 0LL);                // not acknowledged, and indeed not stored
    QCOMPARE(store.writeAnomalies(lost), std::size_t{10});  // the caller's replay stores them once
  }
};

QTEST_GUILESS_MAIN(TestPgRestart)
#include "test_pg_restart.moc"
