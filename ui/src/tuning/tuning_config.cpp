#include "stacklens/ui/tuning/tuning_config.h"

#include "stacklens/connect/service_config.h"

#include <cstdio>
#include <functional>
#include <optional>

namespace stacklens::ui {
namespace {

std::string text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}
std::string text(int v) { return std::to_string(v); }
std::string text(bool v) { return v ? "on" : "off"; }
std::string text(const std::optional<double>& v) { return v ? text(*v) : "auto"; }
std::string autoInt(int v) { return v <= 0 ? "auto" : text(v); }

}  // namespace

TuningConfig TuningConfig::defaults() {
  // The services' defaults: one source for the workbench and the daemons.
  const connect::ServiceConfig service;
  TuningConfig c;
  c.detection = service.pipelineConfig();
  c.forecast.horizon = service.alerter.horizon;
  c.forecast.level = service.alerter.level;
  c.forecast.thresholds = service.alerter.thresholds;
  c.forecast.capacity = service.alerter.capacity;
  return c;
}

std::vector<std::string> describeChanges(const TuningConfig& a, const TuningConfig& b) {
  std::vector<std::string> out;
  auto field = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(std::string(name) + " " + x + " → " + y);
  };
  const auto& da = a.detection;
  const auto& db = b.detection;
  field("min training samples", text(da.minTrainingSamples), text(db.minTrainingSamples));
  field("history", text(da.historyCapacity), text(db.historyCapacity));
  field("retrain every", text(da.retrainEvery), text(db.retrainEvery));
  field("contamination", text(da.anomaly.forest.contamination), text(db.anomaly.forest.contamination));
  field("trees", text(da.anomaly.forest.trees), text(db.anomaly.forest.trees));
  field("sample size", autoInt(da.anomaly.forest.maxSamples), autoInt(db.anomaly.forest.maxSamples));
  field("standardize", text(da.anomaly.standardize), text(db.anomaly.standardize));
  field("DBSCAN eps", text(da.patterns.eps), text(db.patterns.eps));
  field("min_samples", text(da.patterns.minSamples), text(db.patterns.minSamples));
  field("pattern shift threshold", text(da.patterns.windowShiftThreshold), text(db.patterns.windowShiftThreshold));
  field("trend window", text(da.trendWindow), text(db.trendWindow));
  field("trend degree", text(da.trends.trend.degree), text(db.trends.trend.degree));
  field("seasonality lag", autoInt(da.trends.seasonalLag), autoInt(db.trends.seasonalLag));
  field("change-point method", std::string(core::detect::toString(da.trends.changePoints.method)),
        std::string(core::detect::toString(db.trends.changePoints.method)));
  field("change-point window", text(da.trends.changePoints.window), text(db.trends.changePoints.window));
  field("consensus", std::string(core::detect::toString(da.consensus.rule)),
        std::string(core::detect::toString(db.consensus.rule)));
  field("medium cut-off", text(da.consensus.severity.medium), text(db.consensus.severity.medium));
  field("high cut-off", text(da.consensus.severity.high), text(db.consensus.severity.high));
  field("critical cut-off", text(da.consensus.severity.critical), text(db.consensus.severity.critical));
  const auto& fa = a.forecast;
  const auto& fb = b.forecast;
  auto order = [](const ForecastSettings& f) {
    return f.autoOrder ? std::string("auto")
                       : "(" + text(f.p) + "," + text(f.d) + "," + text(f.q) + ")(" + text(f.seasonalP) + "," +
                             text(f.seasonalD) + "," + text(f.seasonalQ) + ")[" + text(f.period) + "]";
  };
  field("order", order(fa), order(fb));
  field("horizon", text(fa.horizon), text(fb.horizon));
  field("interval level", text(fa.level), text(fb.level));
  auto limits = [&](const char* what, const std::map<std::string, double>& x, const std::map<std::string, double>& y) {
    std::map<std::string, std::pair<std::string, std::string>> all;
    for (const auto& [k, v] : x) all[k].first = text(v);
    for (const auto& [k, v] : y) all[k].second = text(v);
    for (const auto& [k, pair] : all) {
      const std::string name = std::string(what) + " " + k;
      field(name.c_str(), pair.first.empty() ? "none" : pair.first, pair.second.empty() ? "none" : pair.second);
    }
  };
  limits("threshold", fa.thresholds, fb.thresholds);
  limits("capacity", fa.capacity, fb.capacity);
  return out;
}

}  // namespace stacklens::ui

namespace stacklens::ui {

bool sameDetection(const TuningConfig& a, const TuningConfig& b) {
  TuningConfig other = b;
  other.forecast = a.forecast;
  return describeChanges(a, other).empty();
}

bool sameDetectionModels(const TuningConfig& a, const TuningConfig& b) {
  TuningConfig other = b;
  other.forecast = a.forecast;
  other.detection.anomaly.forest.contamination = a.detection.anomaly.forest.contamination;
  other.detection.consensus = a.detection.consensus;
  return describeChanges(a, other).empty();
}

core::backtest::ForecastConfig forecastConfig(const ForecastSettings& f) {
  core::backtest::ForecastConfig c;
  c.period = std::max(f.period, 1);
  if (!f.autoOrder) {
    const bool seasonal = f.period >= 2;
    c.order = core::forecast::ArimaOrder{f.p,
                                         f.d,
                                         f.q,
                                         seasonal ? f.seasonalP : 0,
                                         seasonal ? f.seasonalD : 0,
                                         seasonal ? f.seasonalQ : 0,
                                         seasonal ? f.period : 1};
  }
  c.horizon = f.horizon;
  c.level = f.level;
  c.thresholds = f.thresholds;
  return c;
}

}  // namespace stacklens::ui
