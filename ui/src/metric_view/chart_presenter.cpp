#include "stacklens/ui/metric_view/chart_presenter.h"

#include <algorithm>
#include <cmath>

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGraphicsLineItem>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QScatterSeries>
#include <QScrollArea>
#include <QSvgGenerator>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>

#include "stacklens/ui/metric_view/decimation.h"
#include "stacklens/ui/severity_style.h"

namespace stacklens::ui {
namespace {

constexpr int kMinPaneHeight = 120;
constexpr qreal kPlotLeft = 78;  // room for the value axis' labels
constexpr qreal kPlotRight = 18;

double toMs(core::EpochSeconds t) { return static_cast<double>(t) * 1000.0; }

// replace() rebuilds the series' graphics (for a scatter series, one item per point): skipped when
// the points are the same, as after a re-run that changed only another part of the chart.
void replaceIfChanged(QXYSeries* series, const QList<QPointF>& points) {
  if (series->count() == points.size() && series->points() == points) return;
  series->replace(points);
}

QDateTime toDateTime(core::EpochSeconds t) { return QDateTime::fromSecsSinceEpoch(t); }

QString formatValue(double v) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  return QString::number(v, 'g', std::abs(v) >= 1000 ? 7 : 4);
}

// A band between x0 and x1 over the full height [y0, y1] for each window; the upper edge drops to
// y0 between windows so one area series draws them all.
void bandPoints(const std::vector<std::pair<double, double>>& windows, double y0, double y1, QList<QPointF>& upper,
                QList<QPointF>& lower) {
  upper.clear();
  lower.clear();
  for (const auto& [x0, x1] : windows) {
    upper << QPointF(x0, y0) << QPointF(x0, y1) << QPointF(x1, y1) << QPointF(x1, y0);
    lower << QPointF(x0, y0) << QPointF(x1, y0);
  }
  if (!lower.isEmpty()) lower = {lower.front(), lower.back()};
}

}  // namespace

struct ChartPresenter::Pane {
  QChart* chart = nullptr;
  QChartView* view = nullptr;
  QDateTimeAxis* x = nullptr;
  QValueAxis* y = nullptr;
  QLineSeries* line = nullptr;
  std::array<QScatterSeries*, 4> marks{};
  QLineSeries* bandUpper = nullptr;
  QLineSeries* bandLower = nullptr;
  QAreaSeries* band = nullptr;  // forecast interval
  QLineSeries* forecastMean = nullptr;
  QLineSeries* threshold = nullptr;
  QLineSeries* breachUpper = nullptr;
  QLineSeries* breachLower = nullptr;
  QAreaSeries* breach = nullptr;
  QLineSeries* incidentUpper = nullptr;
  QLineSeries* incidentLower = nullptr;
  QAreaSeries* incidents = nullptr;
  QLineSeries* capacity = nullptr;
  QLineSeries* capacityLimit = nullptr;
  QGraphicsLineItem* crosshair = nullptr;
  int shownPoints = 0;
  QString laidOutFor;  // the axes and size the plot area was last fitted to (fitPlotArea)

  void attach(QAbstractSeries* s) {
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  }
};

ChartPresenter::ChartPresenter(QWidget* parent)
    : QWidget(parent),
      placeholderChart_(new QChart),
      placeholderView_(new QChartView(placeholderChart_)),
      panesWidget_(new QWidget),
      panesLayout_(new QVBoxLayout(panesWidget_)),
      readoutLabel_(new QLabel),
      legendLabel_(new QLabel),
      redrawTimer_(new QTimer(this)),
      smoothTimer_(new QTimer(this)) {
  setObjectName("chartPresenter");
  placeholderChart_->legend()->hide();
  placeholderView_->setObjectName("chartView");
  placeholderView_->setRenderHint(QPainter::Antialiasing);

  auto* tools = new QHBoxLayout;
  tools->setContentsMargins(6, 2, 6, 0);
  auto addTool = [&](const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton;
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    connect(b, &QToolButton::clicked, this, slot);
    tools->addWidget(b);
  };
  addTool(tr("Zoom in"), tr("Zoom in (Ctrl++, or the mouse wheel)"), &ChartPresenter::zoomIn);
  addTool(tr("Zoom out"), tr("Zoom out (Ctrl+-)"), &ChartPresenter::zoomOut);
  addTool(tr("Reset"), tr("Show everything (Ctrl+0, or double-click)"), &ChartPresenter::resetZoom);
  tools->addSpacing(12);
  legendLabel_->setObjectName("chartLegend");
  legendLabel_->setWordWrap(true);  // a long legend wraps instead of widening the view
  legendLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  tools->addWidget(legendLabel_, 1);
  readoutLabel_->setObjectName("crosshairReadout");
  readoutLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readoutLabel_->setContentsMargins(8, 0, 8, 0);
  readoutLabel_->setMinimumHeight(QFontMetrics(readoutLabel_->font()).height() + 2);

  panesLayout_->setContentsMargins(0, 0, 0, 0);
  panesLayout_->setSpacing(0);
  panesLayout_->addWidget(placeholderView_);
  auto* scroll = new QScrollArea;
  scroll->setObjectName("chartScroll");
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setWidget(panesWidget_);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(tools);
  layout->addWidget(readoutLabel_);
  layout->addWidget(scroll, 1);

  redrawTimer_->setSingleShot(true);
  connect(redrawTimer_, &QTimer::timeout, this, &ChartPresenter::redraw);
  smoothTimer_->setSingleShot(true);
  smoothTimer_->setInterval(kSmoothAfterMs);
  connect(smoothTimer_, &QTimer::timeout, this, [this] { setSmooth(true); });
  sinceRedraw_.start();
  setDarkTheme(false);
}

ChartPresenter::~ChartPresenter() = default;

void ChartPresenter::setPlaceholder(const QString& text) { placeholderChart_->setTitle(text); }

QString ChartPresenter::placeholder() const { return placeholderChart_->title(); }

QChartView* ChartPresenter::paneView(int pane) const {
  return pane >= 0 && pane < paneCount() ? panes_[static_cast<std::size_t>(pane)]->view : nullptr;
}

int ChartPresenter::shownPoints(int pane) const {
  return pane >= 0 && pane < paneCount() ? panes_[static_cast<std::size_t>(pane)]->shownPoints : 0;
}

void ChartPresenter::setPlots(std::vector<MetricPlot> plots, bool keepRange) {
  const bool sameLayout = plots.size() == plots_.size() &&
                          std::equal(plots.begin(), plots.end(), plots_.begin(), [](const MetricPlot& a, const MetricPlot& b) {
                            return a.data == b.data && a.column == b.column;
                          });
  plots_ = std::move(plots);
  if (!sameLayout || panes_.size() != plots_.size()) rebuildPanes();
  if (!keepRange || from_ >= to_) {
    const auto [from, to] = fullRange();
    from_ = from;
    to_ = to;
    emit rangeChanged(from_, to_);
  }
  scheduleRedraw();
}

std::pair<core::EpochSeconds, core::EpochSeconds> ChartPresenter::fullRange() const {
  core::EpochSeconds from = 0, to = 0;
  bool any = false;
  auto extend = [&](core::EpochSeconds t) {
    from = any ? std::min(from, t) : t;
    to = any ? std::max(to, t) : t;
    any = true;
  };
  for (const MetricPlot& p : plots_) {
    if (p.data && !p.data->timestamps.empty()) {
      extend(p.data->timestamps.front());
      extend(p.data->timestamps.back());
    }
    if (p.forecast && !p.forecast->t.empty()) extend(p.forecast->t.back());
    if (p.capacity && !p.capacity->t.empty()) extend(p.capacity->t.back());
  }
  if (to <= from) to = from + 3600;
  return {from, to};
}

void ChartPresenter::rebuildPanes() {
  for (auto& pane : panes_) {
    panesLayout_->removeWidget(pane->view);
    delete pane->view;  // owns its chart, which owns its series and axes
  }
  panes_.clear();
  crosshair_.reset();
  placeholderView_->setVisible(plots_.empty());
  for (std::size_t i = 0; i < plots_.size(); ++i) {
    auto pane = std::make_unique<Pane>();
    pane->chart = new QChart;
    pane->chart->setMargins(QMargins(4, 2, 4, 2));
    pane->chart->setTitle(QString::fromStdString(plots_[i].metric()));
    pane->view = new QChartView(pane->chart);
    pane->view->setObjectName(QStringLiteral("pane_%1").arg(QString::fromStdString(plots_[i].metric())));
    pane->view->setRenderHint(QPainter::Antialiasing);
    pane->view->setMinimumHeight(kMinPaneHeight);
    pane->view->setMouseTracking(true);
    pane->view->viewport()->installEventFilter(this);
    pane->x = new QDateTimeAxis;
    pane->x->setTickCount(7);
    pane->y = new QValueAxis;
    pane->chart->addAxis(pane->x, Qt::AlignBottom);
    pane->chart->addAxis(pane->y, Qt::AlignLeft);

    auto area = [&](QLineSeries*& upper, QLineSeries*& lower, QAreaSeries*& series, const QString& name) {
      upper = new QLineSeries(pane->chart);
      lower = new QLineSeries(pane->chart);
      series = new QAreaSeries(upper, lower);
      series->setName(name);
      pane->attach(series);
    };
    area(pane->incidentUpper, pane->incidentLower, pane->incidents, tr("labelled incident"));
    area(pane->breachUpper, pane->breachLower, pane->breach, tr("predicted breach"));
    area(pane->bandUpper, pane->bandLower, pane->band, tr("forecast interval"));
    pane->line = new QLineSeries;
    pane->line->setName(QString::fromStdString(plots_[i].metric()));
    pane->attach(pane->line);
    auto line = [&](QLineSeries*& series, const QString& name) {
      series = new QLineSeries;
      series->setName(name);
      pane->attach(series);
    };
    line(pane->forecastMean, tr("forecast"));
    line(pane->threshold, tr("threshold"));
    line(pane->capacity, tr("capacity projection"));
    line(pane->capacityLimit, tr("capacity limit"));
    for (core::Severity s : core::kAllSeverities) {
      auto* marks = new QScatterSeries;
      marks->setName(severityName(s));
      marks->setMarkerSize(7.0 + 2.0 * static_cast<int>(s));
      pane->marks[static_cast<std::size_t>(s)] = marks;
      pane->attach(marks);
    }
    pane->chart->legend()->hide();  // one legend for all panes, above them (updateLegend)
    if (i + 1 < plots_.size()) pane->x->setLabelsVisible(false);
    connect(pane->chart, &QGraphicsWidget::geometryChanged, this, [this, p = pane.get()] {
      fitPlotArea(*p);
      updateCrosshairItems();
      scheduleRedraw();  // the number of value ticks follows the height
    });
    pane->crosshair = new QGraphicsLineItem;
    pane->crosshair->setZValue(1000);
    pane->crosshair->hide();
    pane->chart->scene()->addItem(pane->crosshair);
    applyTheme(*pane);
    panesLayout_->addWidget(pane->view, 1);
    panes_.push_back(std::move(pane));
  }
}

void ChartPresenter::setDarkTheme(bool dark) {
  dark_ = dark;
  placeholderChart_->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  for (auto& pane : panes_) applyTheme(*pane);
  scheduleRedraw();
}

void ChartPresenter::applyTheme(Pane& pane) {
  // setTheme() resets the series' colours, so the colours are set after it.
  pane.chart->setTheme(dark_ ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  pane.chart->setBackgroundRoundness(0);
  const QColor lineColor = dark_ ? QColor(0x4f, 0xc3, 0xf7) : QColor(0x1f, 0x5f, 0xa8);
  const QColor forecastColor = dark_ ? QColor(0x81, 0xe6, 0x8c) : QColor(0x1b, 0x8a, 0x3a);
  QPen pen(lineColor, 1.2);
  pane.line->setPen(pen);
  QColor bandColor = forecastColor;
  bandColor.setAlpha(60);
  pane.band->setBrush(bandColor);
  pane.band->setPen(Qt::NoPen);
  pane.forecastMean->setPen(QPen(forecastColor, 1.6, Qt::DashLine));
  pane.threshold->setPen(QPen(QColor(0xd6, 0x27, 0x28), 1.4, Qt::DashLine));
  pane.breach->setBrush(QColor(0xd6, 0x27, 0x28, 45));
  pane.breach->setPen(Qt::NoPen);
  pane.incidents->setBrush(dark_ ? QColor(0xb0, 0x9c, 0xd9, 70) : QColor(0x7e, 0x57, 0xc2, 55));
  pane.incidents->setPen(Qt::NoPen);
  pane.capacity->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 1.6, Qt::DotLine));
  pane.capacityLimit->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 1.0, Qt::DashDotLine));
  for (core::Severity s : core::kAllSeverities) {
    QScatterSeries* marks = pane.marks[static_cast<std::size_t>(s)];
    marks->setColor(severityColor(s));
    marks->setBorderColor(dark_ ? Qt::black : Qt::white);
  }
  if (pane.crosshair) pane.crosshair->setPen(QPen(dark_ ? QColor(220, 220, 220, 160) : QColor(60, 60, 60, 160), 1));
}

void ChartPresenter::setRange(core::EpochSeconds from, core::EpochSeconds to) {
  if (to <= from) to = from + 60;
  if (from == from_ && to == to_) return;
  from_ = from;
  to_ = to;
  emit rangeChanged(from_, to_);
  scheduleRedraw();
}

void ChartPresenter::zoom(double factor, std::optional<core::EpochSeconds> centre) {
  const double width = static_cast<double>(to_ - from_);
  const double c = centre ? static_cast<double>(*centre) : static_cast<double>(from_) + width / 2;
  const double left = (c - static_cast<double>(from_)) * factor;
  const double right = (static_cast<double>(to_) - c) * factor;
  // Never narrower than 10 minutes: hourly data has nothing to show below that.
  if ((left + right) < 600 && factor < 1) return;
  setRange(static_cast<core::EpochSeconds>(std::llround(c - left)), static_cast<core::EpochSeconds>(std::llround(c + right)));
}

void ChartPresenter::pan(double fraction) {
  const auto shift = static_cast<core::EpochSeconds>(std::llround(static_cast<double>(to_ - from_) * fraction));
  setRange(from_ + shift, to_ + shift);
}

void ChartPresenter::resetZoom() {
  const auto [from, to] = fullRange();
  setRange(from, to);
}

bool ChartPresenter::redrawPending() const { return redrawTimer_->isActive(); }

void ChartPresenter::flushRedraw() {
  if (redrawTimer_->isActive()) {
    redrawTimer_->stop();
    redraw();
  }
}

void ChartPresenter::scheduleRedraw() {
  if (redrawTimer_->isActive()) return;  // the pending redraw will pick this change up
  const qint64 wait = std::max<qint64>(0, kMinRedrawIntervalMs - sinceRedraw_.elapsed());
  redrawTimer_->start(static_cast<int>(wait));
}

void ChartPresenter::setSmooth(bool smooth) {
  for (auto& pane : panes_) {
    if (pane->view->renderHints().testFlag(QPainter::Antialiasing) == smooth) continue;
    pane->view->setRenderHint(QPainter::Antialiasing, smooth);
    if (smooth) pane->view->viewport()->update();
  }
}

void ChartPresenter::redraw() {
  sinceRedraw_.restart();
  ++redrawCount_;
  setSmooth(false);
  smoothTimer_->start();
  for (std::size_t i = 0; i < panes_.size(); ++i) drawPane(*panes_[i], plots_[i]);
  updateLegend();
  updateCrosshairItems();
  emit redrawn();
}

void ChartPresenter::drawPane(Pane& pane, const MetricPlot& plot) {
  const ServiceData& history = *plot.data;
  const std::span<const double> values = history.values[static_cast<std::size_t>(plot.column)];
  const qreal plotWidth = pane.chart->plotArea().width();
  const int buckets = std::max(50, static_cast<int>(plotWidth > 10 ? plotWidth : pane.view->width() - 80));
  const std::vector<PlotPoint> points = decimateMinMax(history.timestamps, values, from_, to_, buckets);

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  auto include = [&](core::EpochSeconds t, double v) {
    if (t < from_ || t > to_ || !std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  };
  QList<QPointF> linePoints;
  linePoints.reserve(static_cast<qsizetype>(points.size()));
  for (const PlotPoint& p : points) {
    linePoints.append(QPointF(toMs(p.t), p.value));
    include(p.t, p.value);
  }
  replaceIfChanged(pane.line, linePoints);
  pane.shownPoints = static_cast<int>(linePoints.size());

  // Marks are decimated too: one per severity in each 3-pixel column (the highest), since marks
  // closer than that overlap anyway and every mark is a graphics item.
  std::array<QList<QPointF>, 4> marks;
  std::array<long long, 4> lastColumn;
  lastColumn.fill(-1);
  const double columns = std::max(1.0, (pane.chart->size().width() - kPlotLeft - kPlotRight) / 3.0);
  const double width = std::max<double>(1.0, static_cast<double>(to_ - from_));
  for (const AnomalyMark& m : plot.anomalies) {
    if (m.t < from_ || m.t > to_) continue;
    const auto s = static_cast<std::size_t>(m.severity);
    const auto column = static_cast<long long>(static_cast<double>(m.t - from_) / width * columns);
    if (column == lastColumn[s]) {
      if (m.value > marks[s].back().y()) marks[s].back() = QPointF(toMs(m.t), m.value);
      continue;
    }
    lastColumn[s] = column;
    marks[s].append(QPointF(toMs(m.t), m.value));
  }
  for (std::size_t s = 0; s < marks.size(); ++s) replaceIfChanged(pane.marks[s], marks[s]);

  QList<QPointF> mean, upper, lower;
  if (plot.forecast) {
    const ForecastBand& f = *plot.forecast;
    for (std::size_t k = 0; k < f.t.size(); ++k) {
      mean.append(QPointF(toMs(f.t[k]), f.mean[k]));
      upper.append(QPointF(toMs(f.t[k]), f.upper[k]));
      lower.append(QPointF(toMs(f.t[k]), f.lower[k]));
      include(f.t[k], f.upper[k]);
      include(f.t[k], f.lower[k]);
    }
  }
  replaceIfChanged(pane.forecastMean, mean);
  replaceIfChanged(pane.bandUpper, upper);
  replaceIfChanged(pane.bandLower, lower);

  QList<QPointF> capacity, limit;
  if (plot.capacity) {
    const CapacityProjection& c = *plot.capacity;
    for (std::size_t k = 0; k < c.t.size(); ++k) {
      capacity.append(QPointF(toMs(c.t[k]), c.value[k]));
      include(c.t[k], c.value[k]);
    }
    limit << QPointF(toMs(from_), c.limit) << QPointF(toMs(to_), c.limit);
    include(from_, c.limit);
  }
  replaceIfChanged(pane.capacity, capacity);
  replaceIfChanged(pane.capacityLimit, limit);

  QList<QPointF> threshold;
  if (plot.threshold) {
    threshold << QPointF(toMs(from_), *plot.threshold) << QPointF(toMs(to_), *plot.threshold);
    include(from_, *plot.threshold);
  }
  replaceIfChanged(pane.threshold, threshold);

  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double pad = (hi - lo) * 0.06;
  lo = lo >= 0 ? std::max(0.0, lo - pad) : lo - pad;  // non-negative metrics keep a zero floor
  hi += pad;
  // Round numbers, and no more ticks than the pane's height has room for (Qt elides labels that
  // would overlap, leaving "..."; applyNiceNumbers() does not look at the height).
  const double plotHeight = pane.chart->size().height() - 28 - (pane.x->labelsVisible() ? 30 : 10);
  const int maxTicks = std::clamp(static_cast<int>(plotHeight / 24.0) + 1, 2, 9);
  const double decade = std::pow(10.0, std::floor(std::log10((hi - lo) / (maxTicks - 1))));
  double step = decade;
  for (int k = 0; k < 8 && std::ceil(hi / step) - std::floor(lo / step) > maxTicks - 1; ++k)
    step = decade * std::array{2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0}[static_cast<std::size_t>(k)];
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  pane.y->setRange(lo, hi);
  pane.y->setTickCount(static_cast<int>(std::lround((hi - lo) / step)) + 1);
  const int decimals = step > 0 ? std::clamp(static_cast<int>(-std::floor(std::log10(step))), 0, 6) : 2;
  pane.y->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
  pane.x->setRange(toDateTime(from_), toDateTime(to_));
  const core::EpochSeconds span = to_ - from_;
  pane.x->setFormat(span > 20 * 86400 ? QStringLiteral("MMM d") : span > 2 * 86400 ? QStringLiteral("MMM d HH:mm")
                                                                                  : QStringLiteral("HH:mm"));
  // Fitting the plot area lays the whole chart out twice (most of a redraw's time): only when the
  // axes' labels or the chart's size changed, not when only the series did (e.g. new anomaly marks).
  const QString axes = QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8x%9")
                           .arg(lo, 0, 'g', 17)
                           .arg(hi, 0, 'g', 17)
                           .arg(pane.y->tickCount())
                           .arg(pane.y->labelFormat())
                           .arg(from_)
                           .arg(to_)
                           .arg(pane.x->format())
                           .arg(pane.chart->size().width())
                           .arg(pane.chart->size().height());
  if (axes != pane.laidOutFor) {
    fitPlotArea(pane);
    pane.laidOutFor = axes;
  }

  QList<QPointF> bandUp, bandDown;
  std::vector<std::pair<double, double>> windows;
  if (plot.breach) windows.emplace_back(toMs(plot.breach->start), toMs(plot.breach->end));
  bandPoints(windows, lo, hi, bandUp, bandDown);
  replaceIfChanged(pane.breachUpper, bandUp);
  replaceIfChanged(pane.breachLower, bandDown);
  windows.clear();
  for (const LabelWindow& w : history.labels)
    if (w.end >= from_ && w.start <= to_)
      windows.emplace_back(toMs(std::max(w.start, from_)), toMs(std::min(w.end + 1800, to_)));
  bandPoints(windows, lo, hi, bandUp, bandDown);
  replaceIfChanged(pane.incidentUpper, bandUp);
  replaceIfChanged(pane.incidentLower, bandDown);
}

void ChartPresenter::updateLegend() {
  // One entry per kind of thing any pane shows, in the colours the panes use.
  QStringList entries;
  auto entry = [&](const QColor& color, const QString& symbol, const QString& text) {
    entries << QStringLiteral("<span style='color:%1'>%2</span>&nbsp;%3").arg(color.name(), symbol, text.toHtmlEscaped());
  };
  bool any[16] = {};
  for (const auto& pane : panes_) {
    any[0] = any[0] || pane->line->count() > 0;
    for (std::size_t s = 0; s < 4; ++s) any[1 + s] = any[1 + s] || pane->marks[s]->count() > 0;
    any[5] = any[5] || pane->forecastMean->count() > 0;
    any[6] = any[6] || pane->threshold->count() > 0;
    any[7] = any[7] || pane->breachUpper->count() > 0;
    any[8] = any[8] || pane->incidentUpper->count() > 0;
    any[9] = any[9] || pane->capacity->count() > 0;
  }
  if (panes_.empty()) return legendLabel_->clear();
  const Pane& p = *panes_.front();
  if (any[0]) entry(p.line->pen().color(), QStringLiteral("━"), tr("observed"));
  for (core::Severity s : core::kAllSeverities)
    if (any[1 + static_cast<int>(s)]) entry(severityColor(s), QStringLiteral("●"), severityName(s));
  if (any[5]) entry(p.forecastMean->pen().color(), QStringLiteral("┅"), tr("forecast and interval"));
  if (any[6]) entry(p.threshold->pen().color(), QStringLiteral("┄"), tr("threshold"));
  if (any[7]) entry(p.threshold->pen().color(), QStringLiteral("▮"), tr("predicted breach"));
  if (any[8]) entry(p.incidents->brush().color(), QStringLiteral("▮"), tr("labelled incident"));
  if (any[9]) entry(p.capacity->pen().color(), QStringLiteral("┈"), tr("capacity projection"));
  legendLabel_->setText(entries.join(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
}

void ChartPresenter::fitPlotArea(Pane& pane) {
  // The same plot-area margins in every pane, so the time axes line up whatever the labels' width.
  // Called on a redraw that changes the axes (their labels change) and whenever the chart is
  // resized (a fixed plot area does not follow).
  const QSizeF size = pane.chart->size();
  const qreal top = 28;
  const qreal bottom = pane.x->labelsVisible() ? 30 : 10;
  if (!(size.width() > kPlotLeft + kPlotRight + 10 && size.height() > top + bottom + 10)) return;
  const QRectF area(kPlotLeft, top, size.width() - kPlotLeft - kPlotRight, size.height() - top - bottom);
  // Qt Charts lays out the background, the title and the axis labels only while the plot area is
  // automatic: lay them out for the current size first, then fix the plot area.
  ++layoutCount_;
  pane.chart->setPlotArea(QRectF());
  pane.chart->layout()->setGeometry(QRectF(QPointF(0, 0), size));
  pane.chart->setPlotArea(area);
}

ChartPresenter::Pane* ChartPresenter::paneOfViewport(QObject* viewport) const {
  for (const auto& pane : panes_)
    if (pane->view->viewport() == viewport) return pane.get();
  return nullptr;
}

std::optional<core::EpochSeconds> ChartPresenter::timeAt(const Pane& pane, QPointF viewportPos) const {
  const QPointF scenePos = pane.view->mapToScene(viewportPos.toPoint());
  const QPointF chartPos = pane.chart->mapFromScene(scenePos);
  if (!pane.chart->plotArea().contains(chartPos)) return std::nullopt;
  return static_cast<core::EpochSeconds>(std::llround(pane.chart->mapToValue(chartPos, pane.line).x() / 1000.0));
}

bool ChartPresenter::eventFilter(QObject* watched, QEvent* event) {
  Pane* pane = paneOfViewport(watched);
  if (!pane) return QWidget::eventFilter(watched, event);
  switch (event->type()) {
    case QEvent::Wheel: {
      auto* wheel = static_cast<QWheelEvent*>(event);
      const double notches = wheel->angleDelta().y() / 120.0;
      if (notches != 0) zoom(std::pow(0.8, notches), timeAt(*pane, wheel->position()));
      return true;
    }
    case QEvent::MouseButtonPress: {
      auto* mouse = static_cast<QMouseEvent*>(event);
      if (mouse->button() != Qt::LeftButton) break;
      dragging_ = true;
      dragStartX_ = mouse->position().x();
      dragFrom_ = from_;
      dragTo_ = to_;
      pane->view->viewport()->setCursor(Qt::ClosedHandCursor);
      return true;
    }
    case QEvent::MouseMove: {
      auto* mouse = static_cast<QMouseEvent*>(event);
      if (dragging_) {
        const double width = std::max<qreal>(1, pane->chart->plotArea().width());
        const auto shift = static_cast<core::EpochSeconds>(
            std::llround((dragStartX_ - mouse->position().x()) / width * static_cast<double>(dragTo_ - dragFrom_)));
        setRange(dragFrom_ + shift, dragTo_ + shift);
      }
      if (const auto t = timeAt(*pane, mouse->position())) {
        setCrosshair(*t);
      } else {
        clearCrosshair();
      }
      return dragging_;
    }
    case QEvent::MouseButtonRelease:
      if (dragging_) {
        dragging_ = false;
        pane->view->viewport()->unsetCursor();
        return true;
      }
      break;
    case QEvent::MouseButtonDblClick:
      resetZoom();
      return true;
    case QEvent::Leave:
      clearCrosshair();
      break;
    case QEvent::Resize:
      scheduleRedraw();  // the bucket count follows the width
      break;
    default:
      break;
  }
  return QWidget::eventFilter(watched, event);
}

void ChartPresenter::setCrosshair(core::EpochSeconds t) {
  // Snap to the nearest sample of the top chart, so time and values read out belong together.
  if (!plots_.empty()) {
    const auto& ts = plots_.front().data->timestamps;
    if (!ts.empty() && t >= ts.front() && t <= ts.back()) {
      auto it = std::lower_bound(ts.begin(), ts.end(), t);
      if (it == ts.end() || (it != ts.begin() && t - *(it - 1) < *it - t)) --it;
      t = *it;
    }
  }
  crosshair_ = t;
  QStringList parts;
  parts << toDateTime(t).toString(QStringLiteral("yyyy-MM-dd HH:mm t"));
  for (const MetricPlot& plot : plots_) {
    const ServiceData& history = *plot.data;
    QString part = QString::fromStdString(plot.metric()) + QLatin1Char(' ');
    const auto& ts = history.timestamps;
    if (!ts.empty() && t >= ts.front() - 3600 && t <= ts.back() + 3600) {
      // Nearest sample.
      auto it = std::lower_bound(ts.begin(), ts.end(), t);
      if (it == ts.end() || (it != ts.begin() && t - *(it - 1) < *it - t)) --it;
      const auto row = static_cast<std::size_t>(it - ts.begin());
      part += formatValue(history.values[static_cast<std::size_t>(plot.column)][row]);
      for (const AnomalyMark& m : plot.anomalies)
        if (m.t == *it) part += QStringLiteral(" [%1 %2]").arg(severityName(m.severity), QString::fromStdString(m.text));
    }
    if (plot.forecast && !plot.forecast->t.empty() && t >= plot.forecast->t.front() - 1800 &&
        t <= plot.forecast->t.back() + 1800) {
      const auto& ft = plot.forecast->t;
      auto it = std::lower_bound(ft.begin(), ft.end(), t);
      if (it == ft.end() || (it != ft.begin() && t - *(it - 1) < *it - t)) --it;
      const auto k = static_cast<std::size_t>(it - ft.begin());
      part += QStringLiteral("forecast %1 [%2, %3]")
                  .arg(formatValue(plot.forecast->mean[k]), formatValue(plot.forecast->lower[k]),
                       formatValue(plot.forecast->upper[k]));
    }
    parts << part;
  }
  readout_ = parts.join(QStringLiteral("  ·  "));
  readoutLabel_->setText(readout_);
  updateCrosshairItems();
  emit readoutChanged(readout_);
}

void ChartPresenter::clearCrosshair() {
  if (!crosshair_) return;
  crosshair_.reset();
  readout_.clear();
  readoutLabel_->clear();
  updateCrosshairItems();
  emit readoutChanged(readout_);
}

void ChartPresenter::updateCrosshairItems() {
  for (auto& pane : panes_) {
    if (!crosshair_ || *crosshair_ < from_ || *crosshair_ > to_) {
      pane->crosshair->hide();
      continue;
    }
    const QRectF area = pane->chart->plotArea();
    const qreal x = pane->chart->mapToPosition(QPointF(toMs(*crosshair_), 0), pane->line).x();
    const QPointF top = pane->chart->mapToScene(QPointF(x, area.top()));
    const QPointF bottom = pane->chart->mapToScene(QPointF(x, area.bottom()));
    pane->crosshair->setLine(QLineF(top, bottom));
    pane->crosshair->show();
  }
}

bool ChartPresenter::exportImage(const QString& path, QString* error) {
  flushRedraw();
  const QString suffix = QFileInfo(path).suffix().toLower();
  QWidget* source = panes_.empty() ? static_cast<QWidget*>(placeholderView_) : panesWidget_;
  if (suffix == QLatin1String("png")) {
    if (source->grab().save(path, "PNG")) return true;
    if (error) *error = tr("Cannot write %1").arg(path);
    return false;
  }
  if (suffix == QLatin1String("svg")) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(source->size());
    svg.setViewBox(QRect(QPoint(0, 0), source->size()));
    svg.setTitle(tr("StackLens chart"));
    QPainter painter;
    if (!painter.begin(&svg)) {
      if (error) *error = tr("Cannot write %1").arg(path);
      return false;
    }
    // QGraphicsView::render draws the scene's items straight into the painter: vector output.
    // (QWidget::render would go through the viewport's paint event and lose the items.)
    if (panes_.empty()) {
      placeholderView_->render(&painter, QRectF(placeholderView_->rect()), placeholderView_->viewport()->rect());
    } else {
      for (const auto& pane : panes_)
        pane->view->render(&painter, QRectF(pane->view->geometry()), pane->view->viewport()->rect());
    }
    painter.end();
    return true;
  }
  if (error) *error = tr("Unknown image format '%1': use .png or .svg").arg(suffix);
  return false;
}

}  // namespace stacklens::ui
