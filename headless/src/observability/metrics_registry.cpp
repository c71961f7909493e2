#include "observability/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace stacklens::headless {
namespace {

std::string escapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string formatLabels(const Labels& labels, const std::string& extraName = {}, const std::string& extraValue = {}) {
  if (labels.empty() && extraName.empty()) return {};
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name + "=\"" + escapeLabelValue(value) + "\"";
  }
  if (!extraName.empty()) {
    if (out.size() > 1) out += ',';
    out += extraName + "=\"" + extraValue + "\"";
  }
  return out + "}";
}

std::string formatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  // The shortest text that reads back as the same double, as Prometheus' own clients write it
  // (le="0.1", not le="0.10000000000000001").
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

}  // namespace

Histogram::Histogram(std::vector<double> upperBounds)
    : bounds_(std::move(upperBounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end())) throw std::invalid_argument("histogram bounds must ascend");
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulativeCounts() const {
  std::vector<std::uint64_t> cumulative(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    cumulative[i] = running += counts_[i].load(std::memory_order_relaxed);
  return cumulative;
}

std::vector<double> latencyBucketsSeconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, Kind kind, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name, Family{kind, help, {}, {}, {}});
  if (!inserted && it->second.kind != kind) throw std::logic_error("metric " + name + " registered with two types");
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kCounter, help).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kGauge, help).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& upperBounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, Kind::kHistogram, help).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(upperBounds);
  return *slot;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, family] : families_) {
    static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out << "# HELP " << name << ' ' << family.help << "\n# TYPE " << name << ' '
        << kTypeNames[static_cast<int>(family.kind)] << '\n';
    for (const auto& [labels, counter] : family.counters)
      out << name << formatLabels(labels) << ' ' << formatValue(counter->value()) << '\n';
    for (const auto& [labels, gauge] : family.gauges)
      out << name << formatLabels(labels) << ' ' << formatValue(gauge->value()) << '\n';
    for (const auto& [labels, histogram] : family.histograms) {
      const auto cumulative = histogram->cumulativeCounts();
      for (std::size_t i = 0; i < histogram->upperBounds().size(); ++i)
        out << name << "_bucket" << formatLabels(labels, "le", formatValue(histogram->upperBounds()[i])) << ' '
            << cumulative[i] << '\n';
      out << name << "_bucket" << formatLabels(labels, "le", "+Inf") << ' ' << cumulative.back() << '\n';
      out << name << "_sum" << formatLabels(labels) << ' ' << formatValue(histogram->sum()) << '\n';
      out << name << "_count" << formatLabels(labels) << ' ' << cumulative.back() << '\n';
    }
  }
  return out.str();
}

}  // namespace stacklens::headless
