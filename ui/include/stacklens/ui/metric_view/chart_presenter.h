#pragma once
// The one place that knows about Qt Charts (deprecated after Qt 6.10): everything else talks to
// this presenter, so a later switch of chart library touches one class.
//
// It draws one time chart ("pane") per MetricPlot, stacked, sharing one time range. The raw
// history stays in the plots (shared with the engine); each redraw decimates the visible range to
// about two points per pixel (decimateMinMax) and hands the chart whole point lists with
// replace() — never append(). Redraws are coalesced: at most one per kMinRedrawIntervalMs (25 a
// second), however fast data, range or size change. No OpenGL series (they crash offscreen).
// Antialiasing, most of a pane's paint in software, is off for the paint right after a redraw
// (a setting change, a zoom, a drag) and back on once the chart has been still for
// kSmoothAfterMs: interaction stays quick and the resting chart is smooth.
//
// Mouse: wheel zooms time around the cursor, drag pans, double-click resets; a crosshair follows
// the cursor and readout() gives time and values under it.

#include <QElapsedTimer>
#include <QWidget>
#include <memory>
#include <vector>

#include "stacklens/ui/metric_view/metric_plot.h"

class QChart;
class QChartView;
class QLabel;
class QTimer;
class QVBoxLayout;

namespace stacklens::ui {

class ChartPresenter : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kMinRedrawIntervalMs = 40;
  static constexpr int kSmoothAfterMs = 300;

  explicit ChartPresenter(QWidget* parent = nullptr);
  ~ChartPresenter() override;

  /// Text shown in the chart area while it has no plots (e.g. "Open a workspace ...").
  void setPlaceholder(const QString& text);
  QString placeholder() const;
  /// The placeholder chart's view (shown while there are no plots).
  QChartView* view() const { return placeholderView_; }

  /// Shows these plots, one pane each. With keepRange the current time range stays (a re-run
  /// of the engine on the same service); otherwise the view resets to the whole data.
  void setPlots(std::vector<MetricPlot> plots, bool keepRange = false);
  const std::vector<MetricPlot>& plots() const { return plots_; }
  int paneCount() const { return static_cast<int>(panes_.size()); }
  QChartView* paneView(int pane) const;
  /// Points of the pane's metric line after decimation (what the chart holds, not the history).
  int shownPoints(int pane) const;

  // --- the shared time range (UTC seconds) -----------------------------------------------------
  core::EpochSeconds rangeStart() const { return from_; }
  core::EpochSeconds rangeEnd() const { return to_; }
  /// The whole extent of the plots (history, forecast and projection).
  std::pair<core::EpochSeconds, core::EpochSeconds> fullRange() const;
  void setRange(core::EpochSeconds from, core::EpochSeconds to);
  /// factor < 1 zooms in; the centre stays put (default: the middle of the range).
  void zoom(double factor, std::optional<core::EpochSeconds> centre = std::nullopt);
  /// Shifts the range by `fraction` of its width (positive: later).
  void pan(double fraction);

  // --- crosshair ---------------------------------------------------------------------------
  void setCrosshair(core::EpochSeconds t);
  void clearCrosshair();
  /// "2024-01-15 10:00 · error_rate 0.52 · latency_p99_ms 150 (forecast 148 [120, 176]) ..."
  QString readout() const { return readout_; }

  /// Saves the panes as PNG or SVG (by the file's suffix). Returns false with `error` set otherwise.
  bool exportImage(const QString& path, QString* error = nullptr);
  void setDarkTheme(bool dark);
  bool darkTheme() const { return dark_; }

  /// Redraws done so far (each is one replace() per series); for tests and benchmarks.
  int redrawCount() const { return redrawCount_; }
  /// Full layouts of a pane's chart (after its axes or size changed; a redraw that changes only
  /// series skips it).
  int layoutCount() const { return layoutCount_; }
  /// Redraws now if one is pending (benchmarks measure "setting change → chart updated").
  void flushRedraw();
  bool redrawPending() const;

 public slots:
  void zoomIn() { zoom(0.5); }
  void zoomOut() { zoom(2.0); }
  void resetZoom();

 signals:
  void rangeChanged(qint64 from, qint64 to);
  void readoutChanged(const QString& text);
  void redrawn();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  struct Pane;
  void rebuildPanes();
  void scheduleRedraw();
  void redraw();
  void drawPane(Pane& pane, const MetricPlot& plot);
  void updateCrosshairItems();
  void updateLegend();
  void fitPlotArea(Pane& pane);
  void setSmooth(bool smooth);
  void applyTheme(Pane& pane);
  Pane* paneOfViewport(QObject* viewport) const;
  std::optional<core::EpochSeconds> timeAt(const Pane& pane, QPointF viewportPos) const;

  std::vector<MetricPlot> plots_;
  std::vector<std::unique_ptr<Pane>> panes_;
  QChart* placeholderChart_;
  QChartView* placeholderView_;
  QWidget* panesWidget_;
  QVBoxLayout* panesLayout_;
  QLabel* readoutLabel_;
  QLabel* legendLabel_;
  QTimer* redrawTimer_;
  QTimer* smoothTimer_;  ///< antialiasing back on after kSmoothAfterMs without a redraw
  QElapsedTimer sinceRedraw_;
  core::EpochSeconds from_ = 0, to_ = 0;
  std::optional<core::EpochSeconds> crosshair_;
  QString readout_;
  bool dark_ = false;
  int redrawCount_ = 0;
  int layoutCount_ = 0;
  // Drag-to-pan state.
  bool dragging_ = false;
  double dragStartX_ = 0;
  core::EpochSeconds dragFrom_ = 0, dragTo_ = 0;
};

}  // namespace stacklens::ui
