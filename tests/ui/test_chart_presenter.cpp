// Min/max decimation and the chart presenter: what the chart holds, how often it redraws, and the
// interactions (zoom, pan, reset, crosshair, export).
#include <cmath>

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QImage>
#include <QLineSeries>
#include <QRandomGenerator>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>

#include "stacklens/ui/metric_view/chart_presenter.h"
#include "stacklens/ui/metric_view/decimation.h"

using namespace stacklens::ui;
namespace core = stacklens::core;

namespace {

constexpr core::EpochSeconds kStart = 1704067200;  // 2024-01-01T00:00:00Z

// `hours` hourly points of a noisy daily cycle with one spike at `spikeAt`.
std::shared_ptr<ServiceData> hourlyService(std::size_t hours, std::size_t spikeAt, std::uint32_t seed = 1) {
  auto d = std::make_shared<ServiceData>();
  d->name = "api";
  d->metrics = {"latency_p99_ms", "error_rate"};
  d->values.assign(2, {});
  QRandomGenerator rng(seed);
  for (std::size_t h = 0; h < hours; ++h) {
    d->timestamps.push_back(kStart + static_cast<core::EpochSeconds>(h) * 3600);
    const double base = 150 + 40 * std::sin(2 * M_PI * static_cast<double>(h % 24) / 24.0) + rng.bounded(20.0);
    d->values[0].push_back(h == spikeAt ? 900.0 : base);
    d->values[1].push_back(0.5 + rng.bounded(0.2));
  }
  return d;
}

template <typename Series>
Series* findSeries(QChartView* view, const QString& name) {
  for (QAbstractSeries* s : view->chart()->series())
    if (s->name() == name) return qobject_cast<Series*>(s);
  return nullptr;
}

}  // namespace

class TestChartPresenter : public QObject {
  Q_OBJECT
 private slots:
  void decimationKeepsEachBucketsMinAndMax() {
    QRandomGenerator rng(7);
    std::vector<core::EpochSeconds> t;
    std::vector<double> v;
    for (int i = 0; i < 100000; ++i) {
      t.push_back(i * 60 + static_cast<core::EpochSeconds>(rng.bounded(30)));
      v.push_back(rng.bounded(1.0) + (i % 9973 == 0 ? 50.0 : 0.0));
    }
    const core::EpochSeconds from = t[1000] + 7, to = t[90000] - 3;
    const int buckets = 400;
    const auto out = decimateMinMax(t, v, from, to, buckets);
    QVERIFY(out.size() <= 2 * buckets + 2);
    QVERIFY(std::is_sorted(out.begin(), out.end(), [](auto& a, auto& b) { return a.t < b.t; }));
    // The neighbours outside the range come first and last.
    QCOMPARE(out.front().t, t[1000]);
    QCOMPARE(out.back().t, t[90000]);
    // Recompute every bucket's extremes by brute force and find them in the output.
    const double width = static_cast<double>(to - from) / buckets;
    for (int b = 0; b < buckets; ++b) {
      const double lo = from + b * width, hi = b + 1 == buckets ? to + 1.0 : from + (b + 1) * width;
      double mn = INFINITY, mx = -INFINITY;
      core::EpochSeconds tmn = 0, tmx = 0;
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] < lo || t[i] >= hi || t[i] < from || t[i] > to) continue;
        if (v[i] < mn) mn = v[i], tmn = t[i];
        if (v[i] > mx) mx = v[i], tmx = t[i];
      }
      if (!std::isfinite(mn)) continue;
      QVERIFY2(std::find(out.begin(), out.end(), PlotPoint{tmn, mn}) != out.end(), qPrintable(QString::number(b)));
      QVERIFY2(std::find(out.begin(), out.end(), PlotPoint{tmx, mx}) != out.end(), qPrintable(QString::number(b)));
    }
  }

  void decimationReturnsSmallRangesWholeAndSkipsNaN() {
    const std::vector<core::EpochSeconds> t{0, 10, 20, 30, 40};
    const std::vector<double> v{1, NAN, 3, 4, 5};
    const auto out = decimateMinMax(t, v, 10, 30, 100);
    QCOMPARE(out, (std::vector<PlotPoint>{{0, 1}, {20, 3}, {30, 4}, {40, 5}}));
    QVERIFY(decimateMinMax(t, v, 50, 40, 10).empty());
  }

  void aYearOfHourlyPointsIsDecimatedAndReplacedNeverAppended() {
    ChartPresenter presenter;
    presenter.resize(1000, 700);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    const auto data = hourlyService(365 * 24, 5000);
    presenter.setPlots({MetricPlot{data, 0, {}, {}, {}, {}, {}}});
    QTRY_VERIFY(presenter.redrawCount() >= 1);
    auto* line = findSeries<QLineSeries>(presenter.paneView(0), "latency_p99_ms");
    QVERIFY(line);
    QSignalSpy added(line, &QXYSeries::pointAdded);
    QSignalSpy replaced(line, &QXYSeries::pointsReplaced);
    presenter.zoom(0.5);
    presenter.flushRedraw();
    presenter.resetZoom();
    presenter.flushRedraw();
    QCOMPARE(added.count(), 0);
    QVERIFY(replaced.count() >= 2);

    const qreal width = presenter.paneView(0)->chart()->plotArea().width();
    QVERIFY(width > 100);
    QVERIFY2(line->count() <= 2 * width + 2, qPrintable(QString("%1 points for %2 px").arg(line->count()).arg(width)));
    QVERIFY(line->count() > width);  // decimated, not thinned out
    QCOMPARE(presenter.shownPoints(0), static_cast<int>(line->count()));
    bool spike = false;
    for (const QPointF& p : line->points()) spike = spike || p.y() == 900.0;
    QVERIFY(spike);  // the one-hour spike survives decimation
  }

  void redrawsAtMost25TimesASecond() {
    ChartPresenter presenter;
    presenter.resize(800, 500);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    presenter.setPlots({MetricPlot{hourlyService(24 * 60, 10), 0, {}, {}, {}, {}, {}}});
    QTRY_VERIFY(presenter.redrawCount() >= 1);
    const int before = presenter.redrawCount();
    QElapsedTimer clock;
    clock.start();
    int changes = 0;
    while (clock.elapsed() < 600) {  // a range change every ~2 ms, as a fast drag produces
      presenter.pan(changes % 2 ? 0.01 : -0.01);
      ++changes;
      QTest::qWait(2);
    }
    QTRY_VERIFY(!presenter.redrawPending());
    const double seconds = clock.elapsed() / 1000.0;
    const int redraws = presenter.redrawCount() - before;
    QVERIFY2(changes >= 40, qPrintable(QString::number(changes)));
    QVERIFY2(redraws >= 1 && redraws <= 25 * seconds + 2 && redraws < changes,
             qPrintable(QString("%1 redraws in %2 s for %3 changes").arg(redraws).arg(seconds).arg(changes)));
  }

  void anIdleChartStaysIdleAndItsTicksFitThePane() {
    ChartPresenter presenter;
    presenter.resize(800, 360);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    const auto data = hourlyService(24 * 30, 10);
    presenter.setPlots({MetricPlot{data, 0, {}, {}, {}, {}, {}}, MetricPlot{data, 0, {}, {}, {}, {}, {}}});
    QTRY_VERIFY(presenter.redrawCount() >= 1 && !presenter.redrawPending());
    QTest::qWait(150);
    const int settled = presenter.redrawCount();
    QTest::qWait(300);
    QCOMPARE(presenter.redrawCount(), settled);  // laying out a pane does not ask for another redraw
    auto ticksFit = [&] {
      for (int p = 0; p < presenter.paneCount(); ++p) {
        QChart* chart = presenter.paneView(p)->chart();
        const auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).front());
        // Room for each value label (Qt shows "..." for labels that would overlap).
        if (y->tickCount() > chart->plotArea().height() / 24.0 + 1.5) return false;
      }
      return true;
    };
    QVERIFY(ticksFit());
    presenter.resize(800, 900);  // taller panes: more ticks, after one more redraw
    QTRY_VERIFY(presenter.redrawCount() > settled && !presenter.redrawPending());
    QVERIFY(ticksFit());
    const auto* y = qobject_cast<QValueAxis*>(presenter.paneView(0)->chart()->axes(Qt::Vertical).front());
    QVERIFY(y->tickCount() >= 4);
  }

  // The paint right after a redraw skips antialiasing (the expensive part); a still chart is
  // painted smooth again.
  void antialiasingIsOffWhileTheChartChangesAndBackWhenItRests() {
    ChartPresenter presenter;
    presenter.resize(800, 500);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    const auto data = hourlyService(24 * 30, 10);
    presenter.setPlots({MetricPlot{data, 0, {}, {}, {}, {}, {}}, MetricPlot{data, 1, {}, {}, {}, {}, {}}});
    auto smooth = [&] {
      for (int p = 0; p < presenter.paneCount(); ++p)
        if (!presenter.paneView(p)->renderHints().testFlag(QPainter::Antialiasing)) return false;
      return true;
    };
    auto rough = [&] {
      for (int p = 0; p < presenter.paneCount(); ++p)
        if (presenter.paneView(p)->renderHints().testFlag(QPainter::Antialiasing)) return false;
      return true;
    };
    QTRY_VERIFY(presenter.redrawCount() >= 1 && !presenter.redrawPending());
    QTRY_VERIFY_WITH_TIMEOUT(smooth(), 3000);
    presenter.zoom(0.5);
    presenter.flushRedraw();
    QVERIFY(rough());
    QTRY_VERIFY_WITH_TIMEOUT(smooth(), 3000);
  }

  // A redraw that changes only series (new anomaly marks) skips the chart's layout, one that moves
  // an axis (a threshold above the data) lays it out again; either way the pane paints exactly
  // what a new presenter shown those plots at once paints.
  void aRedrawLaysOutAgainOnlyWhenTheAxesChangeAndPaintsTheSame() {
    const auto data = hourlyService(24 * 14, 100);
    MetricPlot before{data, 0, {}, {}, {}, {}, {}};
    before.anomalies = {{data->timestamps[100], 900.0, core::Severity::kCritical, ""}};
    MetricPlot marks = before;
    marks.anomalies.push_back({data->timestamps[50], data->values[0][50], core::Severity::kLow, ""});
    MetricPlot threshold = marks;
    threshold.threshold = 1500;
    // Once the pane has settled: no redraw pending and painted smooth again.
    auto painted = [](ChartPresenter& p) {
      p.flushRedraw();
      QChartView* view = p.paneView(0);
      [&] { QTRY_VERIFY(!p.redrawPending() && view->renderHints().testFlag(QPainter::Antialiasing)); }();
      return view->grab().toImage();
    };
    auto fresh = [&](const MetricPlot& plot) {
      ChartPresenter presenter;
      presenter.resize(900, 400);
      presenter.show();
      [&] { QVERIFY(QTest::qWaitForWindowExposed(&presenter)); }();
      presenter.setPlots({plot});
      return painted(presenter);
    };
    ChartPresenter presenter;
    presenter.resize(900, 400);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    presenter.setPlots({before});
    painted(presenter);
    const int layouts = presenter.layoutCount();
    presenter.setPlots({marks}, true);
    QCOMPARE(painted(presenter), fresh(marks));
    QCOMPARE(presenter.layoutCount(), layouts);
    presenter.setPlots({threshold}, true);
    QCOMPARE(painted(presenter), fresh(threshold));
    QVERIFY(presenter.layoutCount() > layouts);
  }

  void zoomPanAndReset() {
    ChartPresenter presenter;
    presenter.resize(800, 500);
    const auto data = hourlyService(24 * 30, 10);
    presenter.setPlots({MetricPlot{data, 0, {}, {}, {}, {}, {}}, MetricPlot{data, 1, {}, {}, {}, {}, {}}});
    QCOMPARE(presenter.paneCount(), 2);
    const auto [from, to] = presenter.fullRange();
    QCOMPARE(from, data->timestamps.front());
    QCOMPARE(to, data->timestamps.back());
    QSignalSpy ranges(&presenter, &ChartPresenter::rangeChanged);
    presenter.zoom(0.5, from + (to - from) / 2);
    QCOMPARE(presenter.rangeEnd() - presenter.rangeStart(), (to - from) / 2);
    const auto zoomedFrom = presenter.rangeStart();
    presenter.pan(0.25);
    QCOMPARE(presenter.rangeStart(), zoomedFrom + (to - from) / 8);
    presenter.resetZoom();
    QCOMPARE(presenter.rangeStart(), from);
    QCOMPARE(presenter.rangeEnd(), to);
    QCOMPARE(ranges.count(), 3);
  }

  void mouseWheelZoomsAndDragPans() {
    ChartPresenter presenter;
    presenter.resize(900, 500);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    presenter.setPlots({MetricPlot{hourlyService(24 * 30, 10), 0, {}, {}, {}, {}, {}}});
    QTRY_VERIFY(presenter.redrawCount() >= 1);
    QWidget* viewport = presenter.paneView(0)->viewport();
    const QPoint centre = viewport->rect().center();
    const auto width0 = presenter.rangeEnd() - presenter.rangeStart();
    QWheelEvent wheel(centre, viewport->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(viewport, &wheel);
    QVERIFY(presenter.rangeEnd() - presenter.rangeStart() < width0);
    const auto before = presenter.rangeStart();
    QTest::mousePress(viewport, Qt::LeftButton, {}, centre);
    QTest::mouseMove(viewport, centre - QPoint(200, 0));
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, centre - QPoint(200, 0));
    QVERIFY(presenter.rangeStart() > before);  // dragging left shows later times
    QTest::mouseDClick(viewport, Qt::LeftButton, {}, centre);
    QCOMPARE(presenter.rangeEnd() - presenter.rangeStart(), width0);
  }

  void crosshairReadsOutTimeAndValues() {
    ChartPresenter presenter;
    const auto data = hourlyService(48, 10);
    MetricPlot p{data, 0, {}, {}, {}, {}, {}};
    p.anomalies.push_back({data->timestamps[10], 900.0, core::Severity::kCritical, "latency_degradation"});
    presenter.setPlots({p, MetricPlot{data, 1, {}, {}, {}, {}, {}}});
    QSignalSpy spy(&presenter, &ChartPresenter::readoutChanged);
    presenter.setCrosshair(data->timestamps[10] + 600);  // nearest sample: hour 10
    QCOMPARE(spy.count(), 1);
    const QString text = presenter.readout();
    QVERIFY2(text.contains(QDateTime::fromSecsSinceEpoch(data->timestamps[10]).toString("yyyy-MM-dd HH:mm")), qPrintable(text));
    QVERIFY2(text.contains("latency_p99_ms 900"), qPrintable(text));
    QVERIFY2(text.contains("critical latency_degradation"), qPrintable(text));
    QVERIFY2(text.contains("error_rate " + QString::number(data->values[1][10], 'g', 4)), qPrintable(text));
    presenter.clearCrosshair();
    QVERIFY(presenter.readout().isEmpty());
  }

  void drawsAnomaliesForecastThresholdBreachAndCapacity() {
    ChartPresenter presenter;
    presenter.resize(900, 500);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    const auto data = hourlyService(24 * 7, 100);
    MetricPlot p{data, 0, {}, {}, {}, {}, {}};
    p.anomalies = {{data->timestamps[100], 900.0, core::Severity::kCritical, ""},
                   {data->timestamps[50], data->values[0][50], core::Severity::kLow, ""}};
    ForecastBand f;
    for (int k = 1; k <= 24; ++k) {
      f.t.push_back(data->timestamps.back() + k * 3600);
      f.mean.push_back(200);
      f.lower.push_back(150);
      f.upper.push_back(250 + k);
    }
    p.forecast = f;
    p.threshold = 260;
    p.breach = BreachWindow{f.t[10], f.t[23], 0.4};
    p.capacity = CapacityProjection{{f.t.front(), f.t.back()}, {200, 240}, 300, std::nullopt};
    presenter.setPlots({p});
    presenter.flushRedraw();
    QTRY_VERIFY(presenter.redrawCount() >= 1);
    QChartView* view = presenter.paneView(0);
    QCOMPARE(findSeries<QScatterSeries>(view, "critical")->count(), 1);
    QCOMPARE(findSeries<QScatterSeries>(view, "low")->count(), 1);
    QCOMPARE(findSeries<QScatterSeries>(view, "high")->count(), 0);
    QCOMPARE(findSeries<QLineSeries>(view, "forecast")->count(), 24);
    QCOMPARE(findSeries<QAreaSeries>(view, "forecast interval")->upperSeries()->count(), 24);
    QCOMPARE(findSeries<QLineSeries>(view, "threshold")->at(0).y(), 260.0);
    QVERIFY(findSeries<QAreaSeries>(view, "predicted breach")->upperSeries()->count() > 0);
    QCOMPARE(findSeries<QLineSeries>(view, "capacity projection")->count(), 2);
    // The full range runs to the end of the forecast.
    QCOMPARE(presenter.rangeEnd(), f.t.back());
  }

  void exportsPngAndSvg() {
    ChartPresenter presenter;
    presenter.resize(800, 400);
    presenter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&presenter));
    presenter.setPlots({MetricPlot{hourlyService(24 * 7, 10), 0, {}, {}, {}, {}, {}}});
    QTemporaryDir dir;
    QVERIFY(presenter.exportImage(dir.filePath("chart.png")));
    QImage png(dir.filePath("chart.png"));
    QVERIFY(!png.isNull() && png.width() > 100);
    QVERIFY(presenter.exportImage(dir.filePath("chart.svg")));
    QFile svg(dir.filePath("chart.svg"));
    QVERIFY(svg.open(QIODevice::ReadOnly));
    const QByteArray text = svg.readAll();
    QVERIFY(text.contains("<svg") && text.contains("polyline"));
    QString error;
    QVERIFY(!presenter.exportImage(dir.filePath("chart.bmpx"), &error));
    QVERIFY(error.contains("bmpx"));
  }
};

QTEST_MAIN(TestChartPresenter)
#include "test_chart_presenter.moc"
