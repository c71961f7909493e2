// The workspace file and CSV import: good files land whole, broken files name the line and leave
// the workspace untouched.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "stacklens/connect/csv_table.h"
#include "stacklens/ui/workspace/csv_import.h"
#include "stacklens/ui/workspace/demo_workspace.h"
#include "stacklens/ui/workspace/workspace.h"
#include "stacklens/connect/service_metrics_csv.h"
#include <fstream>

using stacklens::connect::CsvError;
using stacklens::ui::LabelWindow;
using stacklens::ui::ServiceData;
using stacklens::ui::Workspace;
using stacklens::ui::WorkspaceError;
namespace core = stacklens::core;

namespace {

const QString kNabFile = QStringLiteral(STACKLENS_SHARED_DATA_DIR "/nab-dev/data/realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv");

const char* kFeatureHeader =
    "error_rate,latency_p99_ms,latency_p95_ms,latency_mean_ms,unique_users,unique_ips,risk_score,total_requests";

// Writes `text` to `name` in `dir` and returns the path.
QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(text);
  return path;
}

// Everything a workspace holds, as one comparable string.
QString fingerprint(const Workspace& ws) {
  QString out;
  for (const auto& s : ws.services()) {
    out += QString::fromStdString(s.name) + QString(":%1:%2:%3;").arg(s.samples).arg(s.first).arg(s.labelWindows);
    const ServiceData d = ws.loadService(s.name);
    for (const auto& column : d.values)
      for (double v : column) out += QString::number(v) + ',';
  }
  return out;
}

}  // namespace

class TestWorkspace : public QObject {
  Q_OBJECT
 private slots:
  void createsAVersionedSchemaAndReopens() {
    QTemporaryDir dir;
    const QString path = dir.filePath("a.stacklens");
    {
      auto ws = Workspace::open(path);
      QCOMPARE(ws->schemaVersion(), Workspace::kSchemaVersion);
      QVERIFY(ws->services().empty());
      ws->saveConfiguration("default", "[detection]\ncontamination = 0.05\n");
    }
    auto again = Workspace::open(path);
    QCOMPARE(again->configuration("default").value(), std::string("[detection]\ncontamination = 0.05\n"));
  }

  void refusesFilesThatAreNotWorkspaces() {
    QTemporaryDir dir;
    const QString text = writeFile(dir, "notes.stacklens", "this is not sqlite at all, just some text\n");
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, Workspace::open(text));
    try {
      Workspace::open(text);
    } catch (const WorkspaceError& e) {
      QVERIFY2(QString(e.what()).contains("notes.stacklens"), e.what());
    }
  }

  void importsANabFileAsItIs() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    const auto summary = ws->importCsvFiles({kNabFile});
    QCOMPARE(summary.services, QStringList{"ec2_cpu_utilization_24ae8d"});
    const ServiceData d = ws->loadService("ec2_cpu_utilization_24ae8d");
    QCOMPARE(d.metrics, std::vector<std::string>{"value"});
    QCOMPARE(d.rowCount(), std::size_t(4032));
    QCOMPARE(d.timestamps.front(), *core::parseTimestamp("2014-02-14 14:30:00"));
    QCOMPARE(d.values[0][0], 0.132);
    QCOMPARE(d.values[0][1], 0.134);
    // NAB's published windows for this file come along from combined_windows.json.
    QCOMPARE(d.labels.size(), std::size_t(2));
    QCOMPARE(d.labels[0], (LabelWindow{*core::parseTimestamp("2014-02-26 13:45:00"), *core::parseTimestamp("2014-02-27 06:25:00")}));
  }

  void importsTheServiceFormatWithLabels() {
    QTemporaryDir dir;
    QByteArray csv = QByteArray("timestamp,service,") + kFeatureHeader + ",label\n";
    // Two services, interleaved and out of time order; "api" has a 2-hour incident.
    csv += "2024-01-01T02:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000,1\n";
    csv += "2024-01-01T00:00:00Z,api,0.4,140,90,45,900,450,0.2,9000,0\n";
    csv += "2024-01-01T00:00:00Z,db,1.5,30,20,10,10,5,0.1,500,0\n";
    csv += "2024-01-01T01:00:00Z,api,0.6,145,95,47,950,470,0.25,9500,1\n";
    csv += "2024-01-01T03:00:00Z,api,0.4,140,90,45,900,450,0.2,9000,0\n";
    const QString path = writeFile(dir, "fleet.csv", csv);
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    const auto summary = ws->importCsvFiles({path});
    QCOMPARE(summary.services, (QStringList{"api", "db"}));
    QCOMPARE(summary.values, std::size_t(5 * 8));

    const ServiceData api = ws->loadService("api");
    QVERIFY(api.hasAllFeatures());
    QCOMPARE(api.rowCount(), std::size_t(4));
    QCOMPARE(api.timestamps.front(), *core::parseTimestamp("2024-01-01T00:00:00Z"));
    QCOMPARE(api.column("error_rate")[1], 0.6);
    QCOMPARE(api.column("latency_p99_ms")[1], 145.0);
    QCOMPARE(api.labels, (std::vector<LabelWindow>{{*core::parseTimestamp("2024-01-01T01:00:00Z"),
                                                    *core::parseTimestamp("2024-01-01T02:00:00Z")}}));
    const auto samples = api.samples();
    QCOMPARE(samples[2].totalRequests, 10000.0);
    QCOMPARE(samples[2].windowSeconds, 3600);
    QCOMPARE(ws->loadService("db").rowCount(), std::size_t(1));
  }

  void missingValuesOfASingleSeriesAreKept() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importCsvFiles({writeFile(dir, "gappy.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,NA\n2024-01-03,3\n")});
    const ServiceData d = ws->loadService("gappy");
    QCOMPARE(d.rowCount(), std::size_t(3));
    QVERIFY(std::isnan(d.values[0][1]));  // NA is stored as NULL and read back as NaN
    QCOMPARE(d.values[0][2], 3.0);
  }

  void brokenFilesNameTheLineAndImportNothing_data() {
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("where");
    const QByteArray head = QByteArray("timestamp,service,") + kFeatureHeader + "\n";
    const QByteArray good = "2024-01-01T00:00:00Z,api,0.5,150,100,50,1000,500,0.3,10000\n";
    QTest::newRow("bad number") << head + good + "2024-01-01T01:00:00Z,api,0.5,15O,100,50,1000,500,0.3,10000\n"
                                << "broken.csv:3: column 'latency_p99_ms'";
    QTest::newRow("bad timestamp") << head + good + QByteArray(good).replace("01T00", "01T25")
                                   << "broken.csv:3: column 'timestamp'";
    QTest::newRow("repeated timestamp") << head + good + "2024-01-01T00:00:00Z,db,1,1,1,1,1,1,1,1\n" + good
                                        << "broken.csv:4: column 'timestamp'";
    QTest::newRow("ragged row") << head + good + "2024-01-01T01:00:00Z,api,0.5\n" << "broken.csv:3";
    QTest::newRow("missing feature") << QByteArray("timestamp,error_rate\n2024-01-01,1\n") << "broken.csv:1: missing columns";
    QTest::newRow("missing value") << head + good + "2024-01-01T01:00:00Z,api,0.5,,100,50,1000,500,0.3,10000\n"
                                   << "broken.csv:3: column 'latency_p99_ms'";
    QTest::newRow("negative value") << head + good + "2024-01-01T01:00:00Z,api,-1,1,100,50,1000,500,0.3,10000\n"
                                    << "broken.csv:3: column 'error_rate'";
    QTest::newRow("unknown column in the service format")
        << QByteArray("timestamp,service,") + kFeatureHeader + ",colour\n2024-01-01,a,1,1,1,1,1,1,1,1,red\n"
        << "broken.csv:1: column 'colour'";
    QTest::newRow("unknown column") << QByteArray("timestamp,value,colour\n2024-01-01,1,red\n")
                                    << "broken.csv:1: column 'colour'";
    QTest::newRow("bad label") << QByteArray("timestamp,value,label\n2024-01-01,1,0\n2024-01-02,2,yes\n")
                               << "broken.csv:3: column 'label'";
    QTest::newRow("no timestamp") << QByteArray("time,value\n2024-01-01,1\n") << "broken.csv:1";
  }

  void brokenFilesNameTheLineAndImportNothing() {
    QFETCH(QByteArray, csv);
    QFETCH(QString, where);
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importCsvFiles({kNabFile});
    const QString before = fingerprint(*ws);
    // A good file and a broken one in one import: neither lands.
    const QString goodFile = writeFile(dir, "good.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,2\n");
    const QString broken = writeFile(dir, "broken.csv", csv);
    try {
      ws->importCsvFiles({goodFile, broken});
      QFAIL("a broken file was imported");
    } catch (const CsvError& e) {
      QVERIFY2(QString(e.what()).contains(where), e.what());
    }
    QVERIFY(!ws->hasService("good"));
    QCOMPARE(fingerprint(*ws), before);
  }

  void aFailedWriteRollsBackEverything() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ServiceData a{"a", {0, 3600}, {"value"}, {{1.0, 2.0}}, {}};
    ServiceData bad{"b", {0, 3600}, {"value"}, {{1.0}}, {}};  // column shorter than the grid
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, ws->importServices({a, bad}, "test"));
    QVERIFY(ws->services().empty());
    // Two rows with the same time break the samples' primary key in the middle of the write.
    ServiceData dup{"c", {0, 0}, {"value"}, {{1.0, 2.0}}, {}};
    QVERIFY_THROWS_EXCEPTION(WorkspaceError, ws->importServices({a, dup}, "test"));
    QVERIFY(ws->services().empty());
  }

  void reimportReplacesTheService() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importServices({ServiceData{"s", {0, 3600, 7200}, {"value"}, {{1, 2, 3}}, {{0, 3600}}}}, "first");
    core::AnomalyRecord anomaly;
    anomaly.anomalyId = "x";
    anomaly.timestamp = 3600;
    ws->replaceAnomalies("s", {anomaly});
    ws->importServices({ServiceData{"s", {0, 3600}, {"value"}, {{5, 6}}, {}}}, "second");
    const ServiceData d = ws->loadService("s");
    QCOMPARE(d.values[0], (std::vector<double>{5, 6}));
    QVERIFY(d.labels.empty());
    QVERIFY(ws->anomalies("s").empty());  // results of the old data went with it
    QCOMPARE(ws->services().front().source, std::string("second"));
  }

  void theDemoIsTheSimulatedFleetAsStacklensSimulateWritesIt() {
    // `stacklens simulate --services 12 --days 42 --seed 42 --csv DIR` writes metrics.csv with
    // connect's service-format writer; the demo workspace must hold exactly that fleet.
    const auto config = stacklens::ui::demoFleetConfig();
    QCOMPARE(config.services, 12);
    QVERIFY(config.hours >= 30 * 24);
    QTemporaryDir dir;
    const std::string csvPath = dir.filePath("metrics.csv").toStdString();
    {
      std::ofstream out(csvPath);
      const core::sim::FleetSimulator fleet(config);
      stacklens::connect::writeServiceMetricsHeader(out, true);
      for (int h = 0; h < config.hours; ++h)
        for (const auto& sample : fleet.hour(h)) stacklens::connect::writeServiceMetricsRow(out, sample.metrics, sample.anomalous);
    }
    const auto imported = stacklens::ui::importCsvFile(csvPath).services;
    const auto demo = stacklens::ui::simulatedServices(config);
    QCOMPARE(imported.size(), demo.size());
    int labelled = 0;
    for (std::size_t s = 0; s < demo.size(); ++s) {
      const auto it = std::find_if(imported.begin(), imported.end(), [&](const ServiceData& d) { return d.name == demo[s].name; });
      QVERIFY(it != imported.end());
      QCOMPARE(it->timestamps, demo[s].timestamps);
      QCOMPARE(it->pointLabels(), demo[s].pointLabels());
      for (std::size_t m = 0; m < demo[s].metrics.size(); ++m)
        for (std::size_t r = 0; r < demo[s].rowCount(); ++r)
          QVERIFY(std::abs(it->values[m][r] - demo[s].values[m][r]) <= 1e-9 * std::max(1.0, std::abs(demo[s].values[m][r])));
      labelled += static_cast<int>(demo[s].labels.size());
    }
    QVERIFY(labelled >= 12);  // about one incident per service and week after the quiet week

    const QString path = dir.filePath("demo.stacklens");
    stacklens::ui::ensureDemoWorkspace(path);
    auto ws = Workspace::open(path);
    QCOMPARE(ws->services().size(), std::size_t(12));
    QCOMPARE(ws->services().front().samples, std::size_t(config.hours));
  }

  void keepsResultsAndBacktests() {
    QTemporaryDir dir;
    auto ws = Workspace::open(dir.filePath("w.stacklens"));
    ws->importServices({ServiceData{"s", {0, 3600}, {"value"}, {{1, 2}}, {}}}, "t");
    core::AnomalyRecord a;
    a.anomalyId = core::makeAnomalyId("s", 3600, core::AnomalyType::kErrorSpike);
    a.service = "s";
    a.timestamp = 3600;
    a.type = core::AnomalyType::kErrorSpike;
    a.severity = core::Severity::kCritical;
    a.anomalyScore = 0.9;
    a.confidence = 0.8;
    a.detectionMethods = {"isolation_forest", "dbscan"};
    a.description = "error rate 5x baseline";
    ws->replaceAnomalies("s", {a});
    const auto back = ws->anomalies("s");
    QCOMPARE(back.size(), std::size_t(1));
    QCOMPARE(back[0].anomalyId, a.anomalyId);
    QVERIFY(back[0].severity == core::Severity::kCritical);
    QVERIFY(back[0].type == core::AnomalyType::kErrorSpike);
    QCOMPARE(back[0].detectionMethods, a.detectionMethods);
    QCOMPARE(back[0].anomalyScore, 0.9);

    const int id = ws->saveBacktest("A vs B", R"({"f1":0.5})");
    QVERIFY(id > 0);
    QCOMPARE(ws->backtests().size(), std::size_t(1));
    QCOMPARE(ws->backtests()[0].resultJson, std::string(R"({"f1":0.5})"));
  }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
