#include "stacklens/ui/metric_view/metric_view_model.h"

#include <algorithm>

namespace stacklens::ui {

bool anomalyConcerns(core::AnomalyType type, std::string_view metric) {
  using core::AnomalyType;
  const bool latency = metric == "latency_p99_ms" || metric == "latency_p95_ms" || metric == "latency_mean_ms";
  const bool traffic = metric == "total_requests" || metric == "unique_users" || metric == "unique_ips";
  const bool known = latency || traffic || metric == "error_rate" || metric == "risk_score";
  if (!known) return true;  // a single-value series: every anomaly is about it
  switch (type) {
    case AnomalyType::kErrorSpike: return metric == "error_rate";
    case AnomalyType::kLatencyDegradation: return latency;
    case AnomalyType::kTrafficDrop:
    case AnomalyType::kTrafficSurge: return traffic;
    case AnomalyType::kRiskElevation: return metric == "risk_score";
    case AnomalyType::kPatternShift:
    case AnomalyType::kTrendChange:
    case AnomalyType::kOutlier: return true;
  }
  return true;
}

std::vector<MetricPlot> buildPlots(const std::shared_ptr<const ServiceData>& data, const QStringList& metrics,
                                   const ServiceResults& results) {
  std::vector<MetricPlot> plots;
  if (!data) return plots;
  for (const QString& name : metrics) {
    const std::string metric = name.toStdString();
    const int column = data->metricIndex(metric);
    if (column < 0) continue;
    MetricPlot plot;
    plot.data = data;
    plot.column = column;
    const auto& ts = data->timestamps;
    const auto& values = data->values[static_cast<std::size_t>(column)];
    for (const core::AnomalyRecord& a : results.anomalies) {
      if (!anomalyConcerns(a.type, metric)) continue;
      const auto it = std::lower_bound(ts.begin(), ts.end(), a.timestamp);
      if (it == ts.end() || *it != a.timestamp) continue;
      const auto typeName = core::toString(a.type);
      plot.anomalies.push_back({a.timestamp, values[static_cast<std::size_t>(it - ts.begin())], a.severity,
                                std::string(typeName)});
    }
    if (auto f = results.forecasts.find(metric); f != results.forecasts.end()) plot.forecast = f->second;
    if (auto t = results.thresholds.find(metric); t != results.thresholds.end()) plot.threshold = t->second;
    if (auto b = results.breaches.find(metric); b != results.breaches.end()) plot.breach = b->second;
    if (auto c = results.capacity.find(metric); c != results.capacity.end()) plot.capacity = c->second;
    plots.push_back(std::move(plot));
  }
  return plots;
}

QStringList defaultMetrics(const ServiceData& data) {
  if (data.hasAllFeatures()) return {"error_rate", "latency_p99_ms", "total_requests"};
  return data.metrics.empty() ? QStringList() : QStringList{QString::fromStdString(data.metrics.front())};
}

MetricViewModel::MetricViewModel(QObject* parent) : QObject(parent) {}

void MetricViewModel::setService(std::shared_ptr<const ServiceData> data) {
  data_ = std::move(data);
  results_ = {};
  resultGeneration_ = 0;
  QStringList kept;
  if (data_)
    for (const QString& m : metrics_)
      if (data_->metricIndex(m.toStdString()) >= 0) kept << m;
  metrics_ = kept.isEmpty() && data_ ? defaultMetrics(*data_) : kept;
  emit serviceChanged();
  emit plotsChanged(false);
}

void MetricViewModel::setMetrics(const QStringList& metrics) {
  if (metrics == metrics_) return;
  metrics_ = metrics;
  emit metricsChanged();
  emit plotsChanged(true);
}

QStringList MetricViewModel::availableMetrics() const {
  QStringList out;
  if (data_)
    for (const std::string& m : data_->metrics) out << QString::fromStdString(m);
  return out;
}

void MetricViewModel::setResults(ServiceResults results) {
  results_ = std::move(results);
  ++resultGeneration_;
  emit plotsChanged(true);
}

std::vector<MetricPlot> MetricViewModel::plots() const { return buildPlots(data_, metrics_, results_); }

}  // namespace stacklens::ui
