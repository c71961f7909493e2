#include "daily_counts_chart.h"

#include <QDateTime>
#include <QPainter>
#include <algorithm>
#include <numeric>
#include <set>

#include "stacklens/ui/severity_style.h"

namespace stacklens::ui {

DailyCountsChart::DailyCountsChart(QWidget* parent) : QWidget(parent) {
  setObjectName("dailyCountsChart");
  setMinimumHeight(160);
}

void DailyCountsChart::setDays(const Days& a, const Days& b, const QString& labelA, const QString& labelB) {
  a_ = a;
  b_ = b;
  labelA_ = labelA;
  labelB_ = labelB;
  update();
}

void DailyCountsChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QColor text = palette().color(QPalette::WindowText);
  std::set<core::EpochSeconds> days;
  for (const auto& [d, c] : a_) days.insert(d);
  for (const auto& [d, c] : b_) days.insert(d);
  if (days.empty()) {
    p.setPen(text);
    p.drawText(rect(), Qt::AlignCenter, tr("Run a backtest to see the anomalies per day"));
    return;
  }
  auto total = [](const std::array<int, 4>& c) { return std::accumulate(c.begin(), c.end(), 0); };
  int peak = 1;
  for (const auto& [d, c] : a_) peak = std::max(peak, total(c));
  for (const auto& [d, c] : b_) peak = std::max(peak, total(c));
  const QRectF area = QRectF(rect()).adjusted(40, 24, -10, -26);
  const double slot = area.width() / static_cast<double>(days.size());
  const bool two = !b_.empty();
  const double bar = std::max(1.0, slot * (two ? 0.4 : 0.7));

  p.setPen(text);
  p.drawText(QRectF(area.left(), 2, area.width(), 20), Qt::AlignLeft | Qt::AlignVCenter,
             two ? tr("%1 (left)  ·  %2 (right, hatched)").arg(labelA_, labelB_) : labelA_);
  p.drawText(QRectF(0, area.top() - 8, 36, 16), Qt::AlignRight | Qt::AlignVCenter, QString::number(peak));
  p.drawText(QRectF(0, area.bottom() - 8, 36, 16), Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("0"));
  p.setPen(QPen(palette().color(QPalette::Mid), 1));
  p.drawLine(area.bottomLeft(), area.bottomRight());

  auto drawBar = [&](const std::array<int, 4>& counts, double x, bool hatched) {
    double y = area.bottom();
    for (int s = 0; s < 4; ++s) {
      const double h = area.height() * counts[static_cast<std::size_t>(s)] / peak;
      if (h <= 0) continue;
      QBrush brush(severityColor(static_cast<core::Severity>(s)), hatched ? Qt::Dense3Pattern : Qt::SolidPattern);
      p.fillRect(QRectF(x, y - h, bar, h), brush);
      y -= h;
    }
  };
  int index = 0;
  const int labelEvery = std::max(1, static_cast<int>(days.size() / 8));
  for (core::EpochSeconds d : days) {
    const double x = area.left() + index * slot + (slot - (two ? 2 * bar : bar)) / 2;
    if (auto it = a_.find(d); it != a_.end()) drawBar(it->second, x, false);
    if (auto it = b_.find(d); two && it != b_.end()) drawBar(it->second, x + bar, true);
    if (index % labelEvery == 0) {
      p.setPen(text);
      p.drawText(QRectF(area.left() + index * slot - 30, area.bottom() + 4, slot + 60, 18), Qt::AlignHCenter,
                 QDateTime::fromSecsSinceEpoch(d, Qt::UTC).toString(QStringLiteral("MMM d")));
    }
    ++index;
  }
}

}  // namespace stacklens::ui
