#pragma once
// Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
// histograms, each a family with label sets. Updates are lock-free; only creating a new label set
// takes a lock, so hot paths look their metric up once and keep the reference.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stacklens::headless {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void increment(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  /// `upperBounds` ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double value);
  const std::vector<double>& upperBounds() const { return bounds_; }
  /// Cumulative counts per bound, then the total count (the +Inf bucket).
  std::vector<std::uint64_t> cumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // one per bound plus +Inf, not cumulative
  std::atomic<double> sum_{0};
};

/// Latency buckets in seconds, 0.1 ms to 10 s.
std::vector<double> latencyBucketsSeconds();

class MetricsRegistry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& upperBounds,
                       const Labels& labels = {});

  /// All families in the text exposition format, sorted by name.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, Kind kind, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace stacklens::headless
