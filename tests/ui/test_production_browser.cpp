// Browsing what production wrote and triaging it, against the harness's real PostgreSQL: filters
// and sorting are done by the server and return the right rows, pages are fetched as the view
// asks for them, and triage writes ml_anomaly_history with who and when (and false positives
// become labels of the local workspace).
#include <QAction>
#include <QDockWidget>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "connected_test_support.h"
#include <set>

#include "pg_test_helpers.h"
#include "scratch_database.h"
#include "stacklens/connect/pg_connection.h"
#include "stacklens/connect/pg_migrations.h"
#include "stacklens/ui/connected/anomaly_triage.h"
#include "stacklens/ui/connected/connected_workbench.h"
#include "stacklens/ui/connected/false_positive_labels.h"
#include "stacklens/ui/connected/pg_session.h"
#include "stacklens/ui/connected/production_panel.h"
#include "stacklens/ui/connected/production_query.h"
#include "stacklens/ui/connected/production_table_model.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/workspace/workspace.h"
#include "test_servers.h"

using namespace stacklens::ui;
using stacklens::connect::PgConnection;
using stacklens::test::ScratchDatabase;

namespace {

constexpr int kAnomalies = 1000;
const char* const kServices[] = {"api", "db", "web"};
const char* const kSeverities[] = {"low", "medium", "high", "critical"};
const char* const kTypes[] = {"error_spike", "latency_degradation", "traffic_drop", "traffic_surge", "outlier"};
const QDateTime kStart(QDate(2024, 1, 1), QTime(0, 0), Qt::UTC);

// Row i of the seeded ml_anomalies, as the generating SQL below defines it.
struct Seeded {
  QString id;  // md5('a' || i), computed by the server; the test compares by index instead
  QString service, severity, type;
  QDateTime timestamp;
  double confidence;
  bool resolved;
};
Seeded seeded(int i) {
  return {QString(), kServices[i % 3], kSeverities[i % 4], kTypes[i % 5], kStart.addSecs(3600LL * i),
          (i * 37 % 100) / 100.0, i % 7 == 0};
}

// Seeds through SQL; the expected values come from seeded() above, not from the database.
void seed(PgConnection& db) {
  db.execute(R"sql(
    INSERT INTO ml_anomalies (anomaly_id, service, "timestamp", anomaly_type, severity, confidence_score,
                              anomaly_score, description)
    SELECT md5('a' || i), (ARRAY['api','db','web'])[i % 3 + 1], '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 hour',
           (ARRAY['error_spike','latency_degradation','traffic_drop','traffic_surge','outlier'])[i % 5 + 1],
           (ARRAY['low','medium','high','critical'])[i % 4 + 1], (i * 37 % 100) / 100.0, 0.5, 'seeded ' || i
    FROM generate_series(0, 999) AS i)sql");
  db.execute("UPDATE ml_anomalies SET resolved = true WHERE substr(description, 8)::int % 7 = 0");
  db.execute(R"sql(
    INSERT INTO ml_models (model_id, service, model_type, version, trained_at, training_samples, f1_score)
    VALUES ('m1', 'api', 'isolation_forest', 1, now(), 500, 0.8), ('m2', 'db', 'isolation_forest', 1, now(), 50, 0.9))sql");
}

int indexOf(const ProductionTableModel& m, int row) {
  return m.value(row, "description").toString().mid(7).toInt();
}

void fetchAll(ProductionTableModel& m) {
  while (m.canFetchMore()) m.fetchMore();
}

}  // namespace

class TestProductionBrowser : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<ScratchDatabase> scratch_;
  std::unique_ptr<PgConnection> db_;
  std::unique_ptr<PgSession> session_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    STACKLENS_REQUIRE_POSTGRES();
    scratch_ = std::make_unique<ScratchDatabase>(stacklens::test::postgresDsn().toStdString(), "browse");
    db_ = std::make_unique<PgConnection>(scratch_->dsn());
    stacklens::connect::MigrationRunner().migrate(*db_);
    seed(*db_);
    session_ = std::make_unique<PgSession>(stacklens::test::harnessPgProfile(scratch_->name()), QString());
    QVERIFY2(session_->open(), qPrintable(session_->lastError().text()));
  }

  void cleanupTestCase() {
    session_.reset();
    db_.reset();
    scratch_.reset();
  }

  void filtersReturnExactlyTheMatchingRows() {
    BrowseFilter f;
    f.service = "db";
    f.severity = "critical";
    f.resolved = false;
    f.from = kStart.addSecs(3600 * 100);
    f.to = kStart.addSecs(3600 * 700);
    std::set<int> expected;
    for (int i = 0; i < kAnomalies; ++i) {
      const Seeded s = seeded(i);
      if (s.service == f.service && s.severity == f.severity && !s.resolved && s.timestamp >= *f.from &&
          s.timestamp < *f.to)
        expected.insert(i);
    }
    QVERIFY(expected.size() > 10);
    ProductionTableModel model;
    model.setConnection(session_->connectionName());
    model.setPageSize(7);
    QVERIFY2(model.setQuery("ml_anomalies", f), qPrintable(model.lastError()));
    QCOMPARE(model.totalRows(), qint64(expected.size()));
    fetchAll(model);
    std::set<int> got;
    for (int r = 0; r < model.rowCount(); ++r) got.insert(indexOf(model, r));
    QCOMPARE(model.rowCount(), int(expected.size()));  // no row twice across pages
    QCOMPARE(got, expected);
    // Newest first by default.
    for (int r = 1; r < model.rowCount(); ++r)
      QVERIFY(model.value(r - 1, "timestamp").toDateTime() >= model.value(r, "timestamp").toDateTime());

    BrowseFilter byType;
    byType.type = "outlier";
    byType.resolved = true;
    QVERIFY(model.setQuery("ml_anomalies", byType));
    int count = 0;
    for (int i = 0; i < kAnomalies; ++i) count += (i % 5 == 4 && i % 7 == 0);
    QCOMPARE(model.totalRows(), qint64(count));
  }

  void sortingIsDoneByTheServerAcrossPages() {
    ProductionTableModel model;
    model.setConnection(session_->connectionName());
    model.setPageSize(100);
    BrowseFilter f;
    f.service = "web";
    QVERIFY(model.setQuery("ml_anomalies", f));
    model.sort(static_cast<int>(browseSource("ml_anomalies").columns.indexOf("confidence_score")), Qt::AscendingOrder);
    fetchAll(model);
    QCOMPARE(model.rowCount(), 333);  // i % 3 == 2 for i < 1000
    std::vector<double> expected;
    for (int i = 2; i < kAnomalies; i += 3) expected.push_back(seeded(i).confidence);
    std::sort(expected.begin(), expected.end());
    for (int r = 0; r < model.rowCount(); ++r) QCOMPARE(model.value(r, "confidence_score").toDouble(), expected[r]);
  }

  void pagesAreFetchedOnlyWhenAsked() {
    ProductionTableModel model;
    model.setConnection(session_->connectionName());
    model.setPageSize(50);
    QVERIFY(model.setQuery("ml_anomalies", {}));
    QCOMPARE(model.totalRows(), qint64(kAnomalies));
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.pagesFetched(), 1);
    QVERIFY(model.canFetchMore());
    model.fetchMore();
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.pagesFetched(), 2);
    fetchAll(model);
    QCOMPARE(model.rowCount(), kAnomalies);
    QCOMPARE(model.pagesFetched(), kAnomalies / 50);
    QVERIFY(!model.canFetchMore());
    // A view fetches from the model as it scrolls, not the whole table up front.
    QTableView view;
    view.resize(400, 300);
    model.setQuery("ml_anomalies", {});
    view.setModel(&model);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(model.rowCount() < kAnomalies);
  }

  void userTextIsNeverSql() {
    ProductionTableModel model;
    model.setConnection(session_->connectionName());
    BrowseFilter f;
    f.service = "api' OR '1'='1";
    QVERIFY(model.setQuery("ml_anomalies", f));
    QCOMPARE(model.totalRows(), qint64(0));
    BrowseFilter badSort;
    badSort.sortColumn = "timestamp; DROP TABLE ml_anomalies";
    QVERIFY(!model.setQuery("ml_anomalies", badSort));
    QVERIFY2(model.lastError().contains("no column"), qPrintable(model.lastError()));
    BrowseFilter badFilter;
    badFilter.severity = "high";
    QVERIFY(!model.setQuery("ml_patterns", badFilter));
    QVERIFY2(model.lastError().contains("cannot be filtered by severity"), qPrintable(model.lastError()));
  }

  void everyTableAndViewCanBeBrowsed() {
    ProductionTableModel model;
    model.setConnection(session_->connectionName());
    for (const BrowseSource& s : browseSources()) {
      QVERIFY2(model.setQuery(s.relation, {}), qPrintable(model.lastError()));
      QCOMPARE(model.columnCount(), int(s.columns.size()));
    }
    QVERIFY(model.setQuery("ml_v_model_health", {}));
    QCOMPARE(model.totalRows(), qint64(2));
    BrowseFilter f;
    f.service = "db";
    QVERIFY(model.setQuery("ml_v_model_health", f));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.value(0, "health_status").toString(), QStringLiteral("insufficient_data"));
    QVERIFY(model.setQuery("ml_v_critical_anomalies", {}));
    int critical = 0;
    for (int i = 0; i < kAnomalies; ++i) critical += (i % 4 == 3 && i % 7 != 0);
    QCOMPARE(model.totalRows(), qint64(critical));
  }

  void triageWritesHistoryWithWhoAndWhen() {
    const QString id = QString::fromStdString(*db_->queryScalar("SELECT md5('a' || 1)"));  // open, i = 1
    AnomalyTriage triage(session_->database(), "alice");
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-5);
    QVERIFY2(triage.apply(id, AnomalyTriage::Action::kAcknowledge, "looking"), qPrintable(triage.error()));
    QVERIFY2(triage.apply(id, AnomalyTriage::Action::kResolve, "deploy rolled back"), qPrintable(triage.error()));
    QVERIFY(!triage.apply(id, AnomalyTriage::Action::kResolve, "twice"));
    QVERIFY2(triage.error().contains("already resolved"), qPrintable(triage.error()));
    QVERIFY(triage.apply(id, AnomalyTriage::Action::kReopen, "came back"));
    QVERIFY(!triage.apply("0123456789abcdef0123456789abcdef", AnomalyTriage::Action::kAcknowledge, ""));
    QVERIFY2(triage.error().contains("no anomaly"), qPrintable(triage.error()));

    const auto events = triage.history(id);
    QCOMPARE(events.size(), std::size_t(3));
    QStringList rows;
    for (const TriageEvent& e : events) {
      rows << QStringList{e.oldStatus, e.newStatus, e.changedBy, e.note}.join('|');
      QVERIFY(e.changedAt >= before && e.changedAt <= QDateTime::currentDateTimeUtc().addSecs(5));
    }
    QCOMPARE(rows, (QStringList{"open|acknowledged|alice|looking", "open|resolved|alice|deploy rolled back",
                                "resolved|open|alice|came back"}));
    QCOMPARE(stacklens::test::rowsOf(*db_, "SELECT resolved::text FROM ml_anomalies WHERE anomaly_id = $1",
                                     {id.toStdString()}),
             QStringList{"false"});
    // A service's own status change (no actor set) is still recorded as the database role.
    db_->query("UPDATE ml_anomalies SET resolved = true WHERE anomaly_id = $1", {id.toStdString()});
    QCOMPARE(triage.history(id).back().changedBy, QStringLiteral("stacklens"));
  }

  void falsePositiveFromThePanelBecomesAWorkspaceLabel() {
    QTemporaryDir dir;
    MainWindow window;
    window.setSaveSessionOnClose(false);
    QVERIFY(window.openWorkspace(dir.filePath("w.stacklens")));
    ConnectedWorkbench* connected = window.connected();
    QVERIFY(connected);
    qputenv("STACKLENS_USER", "bob");
    const ConnectionDiagnosis d = connected->connectTo({"test", stacklens::test::harnessPgProfile(scratch_->name()), {}, false}, {});
    QVERIFY2(d.ok(), qPrintable(d.summary));
    QVERIFY(connected->disconnectAction()->isEnabled());
    ProductionPanel* panel = connected->productionPanel();
    panel->serviceEdit()->setText("api");
    QVERIFY(panel->reload());
    QVERIFY(panel->model()->rowCount() > 0);
    panel->table()->selectRow(0);
    const QString id = panel->model()->value(0, "anomaly_id").toString();
    const QString service = panel->model()->value(0, "service").toString();
    const bool wasResolved = panel->model()->value(0, "resolved").toBool();
    panel->noteEdit()->setText("maintenance window");
    QSignalSpy triaged(panel, &ProductionPanel::triaged);
    panel->findChild<QPushButton*>("triage_false_positive")->click();
    QCOMPARE(triaged.count(), 1);

    const auto labels = FalsePositiveLabels::load(window.workspace()->path(), "api");
    QCOMPARE(labels.size(), std::size_t(1));
    QCOMPARE(labels[0].anomalyId, id);
    QCOMPARE(labels[0].service, service);
    QCOMPARE(labels[0].note, QStringLiteral("maintenance window"));
    QCOMPARE(labels[0].markedBy, QStringLiteral("bob"));
    QVERIFY(FalsePositiveLabels::load(window.workspace()->path(), "db").empty());
    const QStringList history = stacklens::test::rowsOf(
        *db_, "SELECT new_status, changed_by, note FROM ml_anomaly_history WHERE anomaly_id = $1 ORDER BY history_id",
        {id.toStdString()});
    QStringList expected{"false_positive|bob|maintenance window"};
    if (!wasResolved) expected << "resolved|bob|maintenance window";
    QCOMPARE(history, expected);
    connected->disconnectFromProduction();
    QCOMPARE(panel->model()->rowCount(), 0);
    qunsetenv("STACKLENS_USER");
  }
};

QTEST_MAIN(TestProductionBrowser)
#include "test_production_browser.moc"
