#include "detect_settings.h"

#include <functional>
#include <map>
#include <stdexcept>
#include <toml++/toml.h>

namespace stacklens::headless {
namespace {

std::string where(const std::string& path, const toml::node& node) {
  const auto& at = node.source().begin;
  return path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

[[noreturn]] void fail(const std::string& path, const toml::node& node, const std::string& key,
                       const std::string& reason) {
  throw std::runtime_error(where(path, node) + ": '" + key + "': " + reason);
}

double number(const std::string& path, const toml::node& node, const std::string& key) {
  if (auto v = node.value<double>()) return *v;
  fail(path, node, key, "expected a number");
}

double positive(const std::string& path, const toml::node& node, const std::string& key) {
  const double v = number(path, node, key);
  if (!(v > 0)) fail(path, node, key, "must be > 0");
  return v;
}

int integer(const std::string& path, const toml::node& node, const std::string& key, int min) {
  const auto v = node.value<std::int64_t>();
  if (!v || *v < min || *v > 1'000'000'000) fail(path, node, key, "expected an integer ≥ " + std::to_string(min));
  return static_cast<int>(*v);
}

using Setter = std::function<void(const std::string&, const toml::node&, const std::string&)>;

void applyTable(const std::string& path, const toml::table& table, const std::string& prefix,
                const std::map<std::string, Setter>& setters) {
  for (const auto& [k, node] : table) {
    const std::string key = prefix + std::string(k.str());
    if (node.is_table()) {
      applyTable(path, *node.as_table(), key + ".", setters);
      continue;
    }
    const auto it = setters.find(key);
    if (it == setters.end()) fail(path, node, key, "unknown setting");
    it->second(path, node, key);
  }
}

}  // namespace

void applyTomlFile(const std::string& path, DetectSettings& s) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw std::runtime_error(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                             std::string(e.description()));
  }
  auto& st = s.streaming;
  const std::map<std::string, Setter> setters = {
      {"detect.mode",
       [&](auto& p, auto& n, auto& k) {
         const auto v = n.template value<std::string>();
         if (!v || (*v != "stream" && *v != "batch")) fail(p, n, k, "expected \"stream\" or \"batch\"");
         s.mode = *v;
       }},
      {"detect.method",
       [&](auto& p, auto& n, auto& k) {
         const auto v = n.template value<std::string>();
         if (!v || (*v != "iforest" && *v != "dbscan")) fail(p, n, k, "expected \"iforest\" or \"dbscan\"");
         s.method = *v;
       }},
      {"detect.threshold", [&](auto& p, auto& n, auto& k) { s.threshold = number(p, n, k); }},
      {"detect.iforest.trees", [&](auto& p, auto& n, auto& k) { s.forest.trees = integer(p, n, k, 1); }},
      {"detect.iforest.max_samples",
       [&](auto& p, auto& n, auto& k) {
         if (n.template value<std::string>() == std::optional<std::string>("auto"))
           s.forest.maxSamples = 0;
         else
           s.forest.maxSamples = integer(p, n, k, 2);
       }},
      {"detect.iforest.contamination",
       [&](auto& p, auto& n, auto& k) {
         if (n.template value<std::string>() == std::optional<std::string>("auto"))
           return s.forest.contamination.reset();
         const double v = number(p, n, k);
         if (!(v > 0 && v <= 0.5)) fail(p, n, k, "must be \"auto\" or in (0, 0.5]");
         s.forest.contamination = v;
       }},
      {"detect.iforest.seed",
       [&](auto& p, auto& n, auto& k) { s.forest.seed = static_cast<std::uint64_t>(integer(p, n, k, 0)); }},
      {"detect.dbscan.eps",
       [&](auto& p, auto& n, auto& k) {
         if (n.template value<std::string>() == std::optional<std::string>("auto")) return s.dbscan.eps.reset();
         s.dbscan.eps = positive(p, n, k);
       }},
      {"detect.dbscan.min_samples", [&](auto& p, auto& n, auto& k) { s.dbscan.minSamples = integer(p, n, k, 1); }},
      {"detect.dbscan.standardize",
       [&](auto& p, auto& n, auto& k) {
         const auto v = n.template value<bool>();
         if (!v) fail(p, n, k, "expected true or false");
         s.standardize = *v;
       }},
      {"streaming.level_alpha", [&](auto& p, auto& n, auto& k) { st.levelAlpha = positive(p, n, k); }},
      {"streaming.scale_alpha", [&](auto& p, auto& n, auto& k) { st.scaleAlpha = positive(p, n, k); }},
      {"streaming.warmup", [&](auto& p, auto& n, auto& k) { st.warmup = integer(p, n, k, 1); }},
      {"streaming.season_buffer", [&](auto& p, auto& n, auto& k) { st.seasonBuffer = integer(p, n, k, 16); }},
      {"streaming.season_check_every", [&](auto& p, auto& n, auto& k) { st.seasonCheckEvery = integer(p, n, k, 1); }},
      {"streaming.season_threshold", [&](auto& p, auto& n, auto& k) { st.seasonThreshold = number(p, n, k); }},
      {"streaming.suppression_half_life",
       [&](auto& p, auto& n, auto& k) { st.suppressionHalfLife = positive(p, n, k); }},
      {"streaming.score_scale", [&](auto& p, auto& n, auto& k) { st.scoreScale = positive(p, n, k); }},
  };
  applyTable(path, root, "", setters);
}

}  // namespace stacklens::headless
