#include "stacklens/ui/tuning/tuning_toml.h"

#include <sstream>

#include "stacklens/connect/service_config.h"

namespace stacklens::ui {
namespace {

// The keys of the service configuration that the workbench tunes; the rest (Kafka, PostgreSQL,
// topics ...) belongs to the deployment and is left out of the export.
const std::vector<std::string> kTunedKeys = {"ml.min_training_samples", "ml.retrain_every", "ml.detection.",
                                             "alerter.order",          "alerter.horizon",  "alerter.level",
                                             "alerter.thresholds",     "alerter.capacity"};

std::string orderText(const ForecastSettings& f) {
  if (f.autoOrder) return "auto";
  return std::to_string(f.p) + "," + std::to_string(f.d) + "," + std::to_string(f.q) + "," +
         std::to_string(f.seasonalP) + "," + std::to_string(f.seasonalD) + "," + std::to_string(f.seasonalQ) + "," +
         std::to_string(f.period);
}

// "auto" or p,d,q[,P,D,Q,s]; throws std::invalid_argument with the reason.
void parseOrder(const std::string& s, ForecastSettings& f) {
  if (s == "auto") {
    f.autoOrder = true;
    return;
  }
  std::vector<int> parts;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      std::size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 0) throw std::invalid_argument(item);
      parts.push_back(v);
    } catch (const std::exception&) {
      throw std::invalid_argument("'" + s + "' is not \"auto\" or p,d,q[,P,D,Q,s] with whole numbers ≥ 0");
    }
  }
  if (parts.size() != 3 && parts.size() != 7) throw std::invalid_argument("'" + s + "' is not \"auto\" or p,d,q[,P,D,Q,s]");
  f.autoOrder = false;
  f.p = parts[0], f.d = parts[1], f.q = parts[2];
  if (parts.size() == 7) {
    f.seasonalP = parts[3], f.seasonalD = parts[4], f.seasonalQ = parts[5], f.period = parts[6];
  } else {
    f.seasonalP = f.seasonalD = f.seasonalQ = 0;
    f.period = 1;
  }
}

}  // namespace

std::string tuningToToml(const TuningConfig& c) {
  connect::ServiceConfig s;
  s.ml.minTrainingSamples = c.detection.minTrainingSamples;
  s.ml.retrainEvery = c.detection.retrainEvery;
  s.ml.detection = c.detection;
  s.alerter.order = orderText(c.forecast);
  s.alerter.horizon = c.forecast.horizon;
  s.alerter.level = c.forecast.level;
  s.alerter.thresholds = c.forecast.thresholds;
  s.alerter.capacity = c.forecast.capacity;
  return "# StackLens detection and forecasting settings, exported by stacklens-workbench.\n"
         "# Read by `stacklens ml-service` and `stacklens predictive-alerter` with --config FILE\n"
         "# (keys: stacklens --help-config); add the deployment's [kafka] and [postgres] sections.\n\n" +
         connect::writeServiceConfig(s, kTunedKeys);
}

TuningConfig tuningFromToml(std::string_view text, const std::string& source) {
  connect::ServiceConfig s;
  try {
    s = connect::parseServiceConfig(text, source, [](const std::string&) { return std::optional<std::string>(); });
  } catch (const connect::ConfigError& e) {
    throw TuningTomlError(e.what());
  }
  TuningConfig c;
  c.detection = s.pipelineConfig();
  try {
    parseOrder(s.alerter.order, c.forecast);
  } catch (const std::invalid_argument& e) {
    throw TuningTomlError(source + ": alerter.order: " + e.what());
  }
  c.forecast.horizon = s.alerter.horizon;
  c.forecast.level = s.alerter.level;
  c.forecast.thresholds = s.alerter.thresholds;
  c.forecast.capacity = s.alerter.capacity;
  return c;
}

}  // namespace stacklens::ui
