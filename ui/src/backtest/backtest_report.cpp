#include "stacklens/ui/backtest/backtest_report.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace stacklens::ui {
namespace {

using nlohmann::json;

json scoreJson(const core::backtest::DetectionScore& s) {
  return {{"anomalies", s.anomalies}, {"true_alarms", s.trueAlarms}, {"windows", s.windows},
          {"detected_windows", s.detectedWindows}, {"known_false_positives", s.knownFalsePositives},
          {"repeated_false_positives", s.repeatedFalsePositives}, {"precision", s.precision}, {"recall", s.recall},
          {"f1", s.f1}};
}

core::backtest::DetectionScore scoreFrom(const json& j) {
  core::backtest::DetectionScore s;
  s.anomalies = j.at("anomalies").get<int>();
  s.trueAlarms = j.at("true_alarms").get<int>();
  s.windows = j.at("windows").get<int>();
  s.detectedWindows = j.at("detected_windows").get<int>();
  s.knownFalsePositives = j.value("known_false_positives", 0);  // absent in records kept before labels were scored
  s.repeatedFalsePositives = j.value("repeated_false_positives", 0);
  s.finish();
  return s;
}

json forecastJson(const core::backtest::ForecastScore& f) {
  return {{"forecasts", f.forecasts},   {"smape_sum", f.smapeSum},
          {"mase_sum", f.maseSum},      {"mase_forecasts", f.maseForecasts},
          {"points", f.points},         {"covered", f.covered},
          {"alerts", f.alerts},         {"materialized", f.materialized},
          {"failed_fits", f.failedFits}};
}

// Records written before forecasts were scored have no "forecast": an empty score.
core::backtest::ForecastScore forecastFrom(const json& parent) {
  core::backtest::ForecastScore f;
  if (!parent.contains("forecast")) return f;
  const json& j = parent.at("forecast");
  f.forecasts = j.at("forecasts").get<int>();
  f.smapeSum = j.at("smape_sum").get<double>();
  f.maseSum = j.at("mase_sum").get<double>();
  f.maseForecasts = j.at("mase_forecasts").get<int>();
  f.points = j.at("points").get<int>();
  f.covered = j.at("covered").get<int>();
  f.alerts = j.at("alerts").get<int>();
  f.materialized = j.at("materialized").get<int>();
  f.failedFits = j.at("failed_fits").get<int>();
  return f;
}

json summaryJson(const BacktestSummary& s) {
  json perDay = json::object();
  for (const auto& [day, counts] : s.perDay) perDay[std::to_string(day)] = counts;
  json services = json::array();
  for (const auto& svc : s.services)
    services.push_back({{"name", svc.name},
                        {"detection", scoreJson(svc.detection)},
                        {"rejected", svc.rejected},
                        {"forecast", forecastJson(svc.forecast)}});
  return {{"label", s.label},
          {"config_toml", s.configToml},
          {"detection", scoreJson(s.detection)},
          {"nab_score", std::isfinite(s.nabScore) ? json(s.nabScore) : json(nullptr)},
          {"days", s.days},
          {"anomalies_per_day", s.anomaliesPerDay},
          {"by_severity", s.bySeverity},
          {"per_day", perDay},
          {"services", services},
          {"forecast", forecastJson(s.forecast)},
          {"level", s.level},
          {"seconds", s.seconds},
          {"cancelled", s.cancelled}};
}

BacktestSummary summaryFrom(const json& j) {
  BacktestSummary s;
  s.label = j.at("label").get<std::string>();
  s.configToml = j.at("config_toml").get<std::string>();
  s.detection = scoreFrom(j.at("detection"));
  s.nabScore = j.at("nab_score").is_null() ? std::numeric_limits<double>::quiet_NaN() : j.at("nab_score").get<double>();
  s.days = j.at("days").get<int>();
  s.anomaliesPerDay = j.at("anomalies_per_day").get<double>();
  s.bySeverity = j.at("by_severity").get<std::array<int, 4>>();
  for (const auto& [day, counts] : j.at("per_day").items()) s.perDay[std::stoll(day)] = counts.get<std::array<int, 4>>();
  for (const auto& svc : j.at("services"))
    s.services.push_back({svc.at("name").get<std::string>(), scoreFrom(svc.at("detection")),
                          svc.at("rejected").get<int>(), forecastFrom(svc)});
  s.forecast = forecastFrom(j);
  s.level = j.value("level", 90.0);
  s.seconds = j.at("seconds").get<double>();
  s.cancelled = j.at("cancelled").get<bool>();
  return s;
}

}  // namespace

BacktestSummary summarize(const core::backtest::BacktestResult& result, const std::string& label,
                          const std::string& configToml, double seconds, double level) {
  BacktestSummary s;
  s.label = label;
  s.configToml = configToml;
  s.detection = result.detection;
  if (result.nab.windows > 0) s.nabScore = result.nab.normalized;
  s.days = result.days;
  s.anomaliesPerDay = result.anomaliesPerDayMean;
  s.perDay = result.anomaliesPerDay;
  for (const auto& [day, counts] : result.anomaliesPerDay)
    for (std::size_t k = 0; k < 4; ++k) s.bySeverity[k] += counts[k];
  for (const auto& svc : result.services)
    s.services.push_back({svc.service, svc.detection, svc.rejected, svc.forecast.score});
  s.forecast = result.forecast;
  s.level = level;
  s.seconds = seconds;
  s.cancelled = result.cancelled;
  return s;
}

std::string toJson(const BacktestRecord& r) {
  json j = {{"format", "stacklens-backtest"}, {"version", 1},           {"name", r.name}, {"from", r.from},
            {"to", r.to},                     {"services", r.services}, {"a", summaryJson(r.a)}};
  j["b"] = r.b ? summaryJson(*r.b) : json(nullptr);
  return j.dump();
}

BacktestRecord backtestRecordFromJson(const std::string& text) {
  try {
    const json j = json::parse(text);
    if (j.at("format") != "stacklens-backtest") throw std::invalid_argument("not a StackLens backtest");
    if (j.at("version").get<int>() != 1) throw std::invalid_argument("unknown backtest format version");
    BacktestRecord r;
    r.name = j.at("name").get<std::string>();
    r.from = j.at("from").get<core::EpochSeconds>();
    r.to = j.at("to").get<core::EpochSeconds>();
    r.services = j.at("services").get<std::vector<std::string>>();
    r.a = summaryFrom(j.at("a"));
    if (!j.at("b").is_null()) r.b = summaryFrom(j.at("b"));
    return r;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("backtest record: ") + e.what());
  }
}

}  // namespace stacklens::ui
