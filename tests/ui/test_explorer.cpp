// The service explorer: health at a glance, sorting, filtering and selection.
#include <QComboBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QtTest>
#include <cmath>

#include "stacklens/ui/explorer/explorer_panel.h"
#include "stacklens/ui/table_export.h"

using namespace stacklens::ui;
namespace core = stacklens::core;

namespace {

constexpr core::EpochSeconds kNow = 1706745600;  // 2024-02-01T00:00:00Z

core::AnomalyRecord anomaly(core::EpochSeconds t, core::Severity s) {
  core::AnomalyRecord a;
  a.timestamp = t;
  a.severity = s;
  return a;
}

ServiceHealth health(const std::string& name, std::array<int, 4> day, std::array<int, 4> week) {
  ServiceHealth h;
  h.name = name;
  h.lastDay = day;
  h.lastWeek = week;
  return h;
}

QStringList column(const QAbstractItemModel& m, int col) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r) out << m.index(r, col).data().toString();
  return out;
}

}  // namespace

class TestExplorer : public QObject {
  Q_OBJECT
 private slots:
  void countsAnomaliesBySeverityOverTheLastDayAndWeek() {
    const std::vector<core::AnomalyRecord> anomalies{
        anomaly(kNow, core::Severity::kCritical),                      // day and week
        anomaly(kNow - 3600, core::Severity::kLow),                    // day and week
        anomaly(kNow - kDaySeconds, core::Severity::kHigh),            // exactly 24 h ago: week only
        anomaly(kNow - 3 * kDaySeconds, core::Severity::kHigh),        // week
        anomaly(kNow - kWeekSeconds - 1, core::Severity::kCritical),   // older than a week
        anomaly(kNow + 3600, core::Severity::kCritical),               // after "now": ignored
    };
    ServiceSummary summary;
    summary.name = "api";
    summary.metrics = {"latency_p99_ms", "error_rate"};
    summary.last = kNow;
    std::vector<core::EpochSeconds> t;
    std::vector<double> v;
    for (core::EpochSeconds s = kNow - kWeekSeconds; s <= kNow; s += 3600) {
      t.push_back(s);
      v.push_back(static_cast<double>((s - (kNow - kWeekSeconds)) / 3600));
    }
    const ServiceHealth h = summarizeHealth(summary, anomalies, t, v, kNow);
    QCOMPARE(h.lastDay, (std::array<int, 4>{1, 0, 0, 1}));
    QCOMPARE(h.lastWeek, (std::array<int, 4>{1, 0, 2, 1}));
    QVERIFY(h.worstLastDay() == core::Severity::kCritical);
    QCOMPARE(h.sparkMetric, std::string("error_rate"));
    QCOMPARE(h.sparkline.size(), std::size_t(kSparklinePoints));
    // Hour index rises linearly, so the 3-hour bucket means rise by 3 each: 1, 4, 7, ...
    QCOMPARE(h.sparkline.front(), 1.0);
    QCOMPARE(h.sparkline[1], 4.0);
  }

  void bucketMeansLeaveEmptyBucketsAsNaN() {
    const std::vector<core::EpochSeconds> t{0, 1, 2, 9};
    const std::vector<double> v{1, 3, NAN, 10};
    const auto m = bucketMeans(t, v, 0, 10, 5);
    QCOMPARE(m[0], 2.0);
    QVERIFY(std::isnan(m[1]) && std::isnan(m[2]) && std::isnan(m[3]));
    QCOMPARE(m[4], 10.0);
  }

  void urgencyOrdersCriticalBeforeAnyNumberOfLowerOnes() {
    QVERIFY(ServiceHealth::urgency({0, 0, 0, 1}) > ServiceHealth::urgency({50, 50, 50, 0}));
    QVERIFY(ServiceHealth::urgency({0, 0, 2, 0}) > ServiceHealth::urgency({0, 0, 1, 0}));
  }

  void sortsAndFilters() {
    ExplorerPanel panel;
    panel.setServices({health("payments", {0, 0, 0, 1}, {0, 0, 0, 1}), health("api", {0, 0, 0, 0}, {2, 0, 0, 0}),
                       health("checkout", {0, 1, 1, 0}, {0, 1, 1, 0}), health("search", {}, {})});
    ServiceFilterProxy* proxy = panel.proxy();
    // Default: most urgent first.
    QCOMPARE(column(*proxy, ServiceTableModel::kName), (QStringList{"payments", "checkout", "api", "search"}));
    QCOMPARE(column(*proxy, ServiceTableModel::kHealth), (QStringList{"critical", "high", "ok", "ok"}));
    panel.table()->sortByColumn(ServiceTableModel::kName, Qt::AscendingOrder);
    QCOMPARE(column(*proxy, ServiceTableModel::kName), (QStringList{"api", "checkout", "payments", "search"}));
    panel.table()->sortByColumn(ServiceTableModel::kLastWeek, Qt::DescendingOrder);
    QCOMPARE(column(*proxy, ServiceTableModel::kName).first(), QString("payments"));

    panel.filterEdit()->setText("CH");  // case-insensitive substring
    QCOMPARE(column(*proxy, ServiceTableModel::kName), (QStringList{"checkout", "search"}));
    panel.filterEdit()->clear();
    panel.severityCombo()->setCurrentIndex(1);  // anomalies this week
    QCOMPARE(proxy->rowCount(), 3);
    panel.severityCombo()->setCurrentIndex(2);  // high or critical today
    QCOMPARE(proxy->rowCount(), 2);
    panel.severityCombo()->setCurrentIndex(3);  // critical today
    QCOMPARE(column(*proxy, ServiceTableModel::kName), QStringList{"payments"});
    QCOMPARE(proxy->index(0, ServiceTableModel::kLastDay).data(ServiceTableModel::kCountsRole).toList(),
             (QVariantList{0, 0, 0, 1}));
  }

  void exportsTheTableAsShownToCsv() {
    ExplorerPanel panel;
    panel.setServices({health("a,b", {0, 0, 0, 1}, {1, 0, 0, 1}), health("db", {}, {})});
    panel.filterEdit()->setText("a");
    QString csv;
    QTextStream out(&csv);
    writeModelCsv(*panel.proxy(), out);
    const QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);  // header + the one row the filter leaves
    QCOMPARE(lines[0], QString("Service,Health,24 h,7 days,Last week,Samples"));
    QVERIFY2(lines[1].startsWith("\"a,b\",critical,\"1 critical, 0 high, 0 medium, 0 low\",\"1 critical, 0 high, 0 medium, 1 low\","),
             qPrintable(lines[1]));
    QCOMPARE(csvField("say \"hi\""), QString("\"say \"\"hi\"\"\""));
    QTemporaryDir dir;
    QVERIFY(writeModelCsv(*panel.proxy(), dir.filePath("t.csv")));
    QString error;
    QVERIFY(!writeModelCsv(*panel.proxy(), dir.filePath("missing/dir/t.csv"), &error));
    QVERIFY(error.contains("missing/dir/t.csv"));
  }

  void selectionEmitsTheServiceAndSurvivesARefresh() {
    ExplorerPanel panel;
    panel.setServices({health("api", {}, {}), health("db", {}, {})});
    QSignalSpy spy(&panel, &ExplorerPanel::serviceSelected);
    panel.filterEdit()->setText("api");
    QVERIFY(panel.selectService("db"));  // filtered out: the filter is cleared to show it
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.last().at(0).toString(), QString("db"));
    QVERIFY(panel.filterEdit()->text().isEmpty());
    panel.setServices({health("db", {0, 0, 0, 1}, {}), health("api", {}, {}), health("web", {}, {})});
    QCOMPARE(panel.selectedService(), QString("db"));
    QCOMPARE(spy.count(), 1);  // a refresh does not re-select
    const QModelIndex current = panel.table()->currentIndex();
    QCOMPARE(panel.proxy()->index(current.row(), ServiceTableModel::kName).data().toString(), QString("db"));
    // Clicking another row selects it.
    const QModelIndex web = panel.proxy()->mapFromSource(panel.model()->index(panel.model()->rowOf("web"), 0));
    panel.table()->setCurrentIndex(web);
    QCOMPARE(spy.last().at(0).toString(), QString("web"));
    QVERIFY(!panel.selectService("nope"));
  }
};

QTEST_MAIN(TestExplorer)
#include "test_explorer.moc"
