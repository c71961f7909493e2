#pragma once
// Anomalies per day as stacked bars by severity, A and B side by side for each day. Plain
// QPainter (a bar chart needs no chart library; Qt Charts stays inside the chart presenter).

#include <QWidget>
#include <array>
#include <map>

#include "stacklens/core/timestamp.h"

namespace stacklens::ui {

class DailyCountsChart : public QWidget {
  Q_OBJECT
 public:
  using Days = std::map<core::EpochSeconds, std::array<int, 4>>;
  explicit DailyCountsChart(QWidget* parent = nullptr);
  void setDays(const Days& a, const Days& b, const QString& labelA, const QString& labelB);
  QSize sizeHint() const override { return {600, 220}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  Days a_, b_;
  QString labelA_, labelB_;
};

}  // namespace stacklens::ui
