#include "stacklens/ui/tuning/tuning_toml.h"

#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <toml++/toml.h>

namespace stacklens::ui {
namespace {

namespace detect = core::detect;

std::string number(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  std::string s = out.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a TOML float
  return s;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// One key of a section: how to write it and how to read it into the settings.
struct Key {
  std::string name;
  std::function<std::string(const TuningConfig&)> write;
  std::function<void(TuningConfig&, const toml::node&)> read;  // throws std::invalid_argument with a reason
};

long long integer(const toml::node& n, long long min, long long max) {
  const auto* i = n.as_integer();
  if (!i) throw std::invalid_argument("expected a whole number");
  if (i->get() < min || i->get() > max)
    throw std::invalid_argument("must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return i->get();
}

double real(const toml::node& n, double min, double max) {
  double v = 0;
  if (const auto* f = n.as_floating_point()) {
    v = f->get();
  } else if (const auto* i = n.as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    throw std::invalid_argument("expected a number");
  }
  if (!std::isfinite(v) || v < min || v > max)
    throw std::invalid_argument("must be in [" + number(min) + ", " + number(max) + "]");
  return v;
}

bool isAuto(const toml::node& n) {
  const auto* s = n.as_string();
  if (!s) return false;
  if (s->get() != "auto") throw std::invalid_argument("expected \"auto\" or a number, not \"" + s->get() + "\"");
  return true;
}

std::string text(const toml::node& n) {
  const auto* s = n.as_string();
  if (!s) throw std::invalid_argument("expected a string");
  return s->get();
}

std::vector<Key> mlKeys() {
  using C = TuningConfig;
  auto intKey = [](std::string name, int core::pipeline::MlPipelineConfig::*field, int min, int max) {
    return Key{name, [=](const C& c) { return std::to_string(c.detection.*field); },
               [=](C& c, const toml::node& n) { c.detection.*field = static_cast<int>(integer(n, min, max)); }};
  };
  return {intKey("min_training_samples", &core::pipeline::MlPipelineConfig::minTrainingSamples, 2, 10000000),
          intKey("retrain_every", &core::pipeline::MlPipelineConfig::retrainEvery, 0, 1000000000)};
}

std::vector<Key> detectionKeys() {
  using C = TuningConfig;
  auto severity = [](std::string name, double detect::SeverityCutoffs::*field) {
    return Key{name, [=](const C& c) { return number(c.detection.consensus.severity.*field); },
               [=](C& c, const toml::node& n) { c.detection.consensus.severity.*field = real(n, 0, 1); }};
  };
  return {
      {"history_capacity", [](const C& c) { return std::to_string(c.detection.historyCapacity); },
       [](C& c, const toml::node& n) { c.detection.historyCapacity = static_cast<int>(integer(n, 2, 10000000)); }},
      {"contamination",
       [](const C& c) {
         const auto& v = c.detection.anomaly.forest.contamination;
         return v ? number(*v) : quoted("auto");
       },
       [](C& c, const toml::node& n) {
         c.detection.anomaly.forest.contamination = isAuto(n) ? std::nullopt : std::optional<double>(real(n, 1e-6, 0.5));
       }},
      {"trees", [](const C& c) { return std::to_string(c.detection.anomaly.forest.trees); },
       [](C& c, const toml::node& n) { c.detection.anomaly.forest.trees = static_cast<int>(integer(n, 1, 100000)); }},
      {"max_samples",
       [](const C& c) {
         const int v = c.detection.anomaly.forest.maxSamples;
         return v > 0 ? std::to_string(v) : quoted("auto");
       },
       [](C& c, const toml::node& n) {
         c.detection.anomaly.forest.maxSamples = isAuto(n) ? 0 : static_cast<int>(integer(n, 2, 10000000));
       }},
      {"standardize", [](const C& c) { return std::string(c.detection.anomaly.standardize ? "true" : "false"); },
       [](C& c, const toml::node& n) {
         const auto* b = n.as_boolean();
         if (!b) throw std::invalid_argument("expected true or false");
         c.detection.anomaly.standardize = b->get();
       }},
      {"dbscan_eps",
       [](const C& c) {
         const auto& v = c.detection.patterns.eps;
         return v ? number(*v) : quoted("auto");
       },
       [](C& c, const toml::node& n) {
         c.detection.patterns.eps = isAuto(n) ? std::nullopt : std::optional<double>(real(n, 1e-9, 1e9));
       }},
      {"dbscan_min_samples", [](const C& c) { return std::to_string(c.detection.patterns.minSamples); },
       [](C& c, const toml::node& n) { c.detection.patterns.minSamples = static_cast<int>(integer(n, 1, 100000)); }},
      {"pattern_shift_threshold", [](const C& c) { return number(c.detection.patterns.windowShiftThreshold); },
       [](C& c, const toml::node& n) { c.detection.patterns.windowShiftThreshold = real(n, 0, 1); }},
      {"trend_window", [](const C& c) { return std::to_string(c.detection.trendWindow); },
       [](C& c, const toml::node& n) { c.detection.trendWindow = static_cast<int>(integer(n, 3, 10000000)); }},
      {"trend_degree", [](const C& c) { return std::to_string(c.detection.trends.trend.degree); },
       [](C& c, const toml::node& n) { c.detection.trends.trend.degree = static_cast<int>(integer(n, 0, 5)); }},
      {"seasonal_lag",
       [](const C& c) {
         const int v = c.detection.trends.seasonalLag;
         return v > 0 ? std::to_string(v) : quoted("auto");
       },
       [](C& c, const toml::node& n) {
         c.detection.trends.seasonalLag = isAuto(n) ? 0 : static_cast<int>(integer(n, 1, 1000000));
       }},
      {"change_point_method",
       [](const C& c) { return quoted(detect::toString(c.detection.trends.changePoints.method)); },
       [](C& c, const toml::node& n) {
         const std::string v = text(n);
         const auto method = detect::changePointMethodFromString(v);
         if (!method) throw std::invalid_argument("'" + v + "' is not one of two_window, cusum, bocpd");
         c.detection.trends.changePoints.method = *method;
       }},
      {"change_point_window", [](const C& c) { return std::to_string(c.detection.trends.changePoints.window); },
       [](C& c, const toml::node& n) {
         c.detection.trends.changePoints.window = static_cast<int>(integer(n, 3, 1000000));
       }},
      {"consensus_rule", [](const C& c) { return quoted(detect::toString(c.detection.consensus.rule)); },
       [](C& c, const toml::node& n) {
         const std::string v = text(n);
         const auto rule = detect::consensusRuleFromString(v);
         if (!rule) throw std::invalid_argument("'" + v + "' is not one of any, majority, unanimous, weighted");
         c.detection.consensus.rule = *rule;
       }},
      severity("severity_medium", &detect::SeverityCutoffs::medium),
      severity("severity_high", &detect::SeverityCutoffs::high),
      severity("severity_critical", &detect::SeverityCutoffs::critical),
  };
}

std::string orderText(const ForecastSettings& f) {
  if (f.autoOrder) return "auto";
  return std::to_string(f.p) + "," + std::to_string(f.d) + "," + std::to_string(f.q) + "," +
         std::to_string(f.seasonalP) + "," + std::to_string(f.seasonalD) + "," + std::to_string(f.seasonalQ) + "," +
         std::to_string(f.period);
}

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
      if (used != item.size() || v < 0) throw std::invalid_argument("");
      parts.push_back(v);
    } catch (const std::exception&) {
      throw std::invalid_argument("'" + s + "' is not \"auto\" or p,d,q[,P,D,Q,s] with whole numbers ≥ 0");
    }
  }
  if (parts.size() != 3 && parts.size() != 7)
    throw std::invalid_argument("'" + s + "' is not \"auto\" or p,d,q[,P,D,Q,s]");
  f.autoOrder = false;
  f.p = parts[0], f.d = parts[1], f.q = parts[2];
  if (parts.size() == 7) {
    f.seasonalP = parts[3], f.seasonalD = parts[4], f.seasonalQ = parts[5], f.period = parts[6];
  } else {
    f.seasonalP = f.seasonalD = f.seasonalQ = 0;
    f.period = 1;
  }
}

std::vector<Key> alerterKeys() {
  using C = TuningConfig;
  return {
      {"order", [](const C& c) { return quoted(orderText(c.forecast)); },
       [](C& c, const toml::node& n) { parseOrder(text(n), c.forecast); }},
      {"horizon", [](const C& c) { return std::to_string(c.forecast.horizon); },
       [](C& c, const toml::node& n) { c.forecast.horizon = static_cast<int>(integer(n, 1, 24 * 365)); }},
      {"level", [](const C& c) { return number(c.forecast.level); },
       [](C& c, const toml::node& n) { c.forecast.level = real(n, 50, 99.9); }},
  };
}

void writeSection(std::ostringstream& out, const std::string& header, const std::vector<Key>& keys,
                  const TuningConfig& c) {
  out << '[' << header << "]\n";
  for (const Key& k : keys) out << k.name << " = " << k.write(c) << '\n';
  out << '\n';
}

[[noreturn]] void fail(const std::string& source, const toml::node& node, const std::string& key,
                       const std::string& why) {
  throw TuningTomlError(source + ":" + std::to_string(node.source().begin.line) + ": key '" + key + "': " + why);
}

void readSection(const toml::table& table, const std::string& prefix, const std::vector<Key>& keys,
                 const std::vector<std::string>& subtables, TuningConfig& c, const std::string& source) {
  for (const auto& [name, node] : table) {
    const std::string key(name.str());
    if (std::find(subtables.begin(), subtables.end(), key) != subtables.end()) continue;
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.name == key; });
    if (it == keys.end()) fail(source, node, prefix + key, "unknown key");
    try {
      it->read(c, node);
    } catch (const std::invalid_argument& e) {
      fail(source, node, prefix + key, e.what());
    }
  }
}

void readLimits(const toml::table* table, const std::string& prefix, std::map<std::string, double>& out,
                const std::string& source) {
  if (!table) return;
  out.clear();
  for (const auto& [name, node] : *table) {
    try {
      out[std::string(name.str())] = real(node, -1e300, 1e300);
    } catch (const std::invalid_argument& e) {
      fail(source, node, prefix + std::string(name.str()), e.what());
    }
  }
}

}  // namespace

std::string tuningToToml(const TuningConfig& c) {
  std::ostringstream out;
  out << "# StackLens detection and forecasting settings, exported by stacklens-workbench.\n"
         "# Read by `stacklens ml-service` and `stacklens predictive-alerter` with --config FILE.\n\n";
  writeSection(out, "ml", mlKeys(), c);
  writeSection(out, "ml.detection", detectionKeys(), c);
  writeSection(out, "alerter", alerterKeys(), c);
  out << "[alerter.thresholds]\n";
  for (const auto& [metric, value] : c.forecast.thresholds) out << metric << " = " << number(value) << '\n';
  out << "\n[alerter.capacity]\n";
  for (const auto& [metric, value] : c.forecast.capacity) out << metric << " = " << number(value) << '\n';
  return out.str();
}

TuningConfig tuningFromToml(std::string_view text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw TuningTomlError(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  TuningConfig c = TuningConfig::defaults();
  for (const auto& [name, node] : doc) {
    const std::string section(name.str());
    if (section != "ml" && section != "alerter") fail(source, node, section, "unknown section");
    if (!node.is_table()) fail(source, node, section, "expected a table");
  }
  if (const auto* ml = doc["ml"].as_table()) {
    readSection(*ml, "ml.", mlKeys(), {"detection"}, c, source);
    if (const auto* detection = (*ml)["detection"].as_table())
      readSection(*detection, "ml.detection.", detectionKeys(), {}, c, source);
  }
  if (const auto* alerter = doc["alerter"].as_table()) {
    readSection(*alerter, "alerter.", alerterKeys(), {"thresholds", "capacity"}, c, source);
    readLimits((*alerter)["thresholds"].as_table(), "alerter.thresholds.", c.forecast.thresholds, source);
    readLimits((*alerter)["capacity"].as_table(), "alerter.capacity.", c.forecast.capacity, source);
  }
  return c;
}

}  // namespace stacklens::ui
