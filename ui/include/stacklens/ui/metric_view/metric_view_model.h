#pragma once
// The model behind the metric view: the shown service's history, the metrics the user picked and
// the engine's latest results for that service. It turns them into MetricPlots (one per picked
// metric) and says when they changed; the chart presenter draws them.

#include <QObject>
#include <QStringList>
#include <map>
#include <memory>
#include <vector>

#include "stacklens/ui/metric_view/metric_plot.h"

namespace stacklens::ui {

/// What the engine produced for one service (detection and forecasting), keyed by metric.
struct ServiceResults {
  std::vector<core::AnomalyRecord> anomalies;
  std::map<std::string, ForecastBand> forecasts;
  std::map<std::string, double> thresholds;
  std::map<std::string, BreachWindow> breaches;
  std::map<std::string, CapacityProjection> capacity;
  std::vector<core::PredictiveAlert> alerts;
  std::string note;  ///< e.g. "ARIMA(1,0,1)(0,1,1)[24] · 42 anomalies · 38 ms"
};

/// Whether an anomaly of this type is drawn on this metric's chart: error spikes on error_rate,
/// latency degradations on the latencies, traffic drops and surges on requests, users and IPs,
/// risk elevations on risk_score; pattern shifts, trend changes and outliers (and anything on a
/// single-value series) on every chart.
bool anomalyConcerns(core::AnomalyType type, std::string_view metric);

/// The plots for `metrics` of `data` with `results` drawn over them (Qt-free, O(rows + results)).
std::vector<MetricPlot> buildPlots(const std::shared_ptr<const ServiceData>& data, const QStringList& metrics,
                                   const ServiceResults& results);

/// The metrics shown by default: error rate, p99 latency and requests for the service format,
/// otherwise the first metric.
QStringList defaultMetrics(const ServiceData& data);

class MetricViewModel : public QObject {
  Q_OBJECT
 public:
  explicit MetricViewModel(QObject* parent = nullptr);

  /// A new service: results are cleared, the picked metrics kept where the service has them.
  void setService(std::shared_ptr<const ServiceData> data);
  std::shared_ptr<const ServiceData> service() const { return data_; }
  void setMetrics(const QStringList& metrics);
  QStringList metrics() const { return metrics_; }
  QStringList availableMetrics() const;
  void setResults(ServiceResults results);
  const ServiceResults& results() const { return results_; }
  /// How many times results were set for the current service (tests watch this).
  int resultGeneration() const { return resultGeneration_; }

  std::vector<MetricPlot> plots() const;

 signals:
  /// The plots changed; `sameService` is true when only results or picked metrics changed (the
  /// chart keeps its zoom then).
  void plotsChanged(bool sameService);
  void serviceChanged();
  /// The user picked other metrics (the same service).
  void metricsChanged();

 private:
  std::shared_ptr<const ServiceData> data_;
  QStringList metrics_;
  ServiceResults results_;
  int resultGeneration_ = 0;
};

}  // namespace stacklens::ui
