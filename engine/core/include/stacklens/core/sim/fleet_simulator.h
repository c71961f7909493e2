#pragma once
// A realistic fleet of services for demos, tests and benchmarks: hourly ServiceMetrics with daily and
// weekly seasonality, growth and noise, and injected incidents with their labels. Deterministic for a
// given configuration and seed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/core/records.h"

namespace stacklens::core::sim {

enum class IncidentKind {
  kErrorSpike,    ///< error rate ×5–20 for 1–4 h
  kLatencyShift,  ///< all latency percentiles ×1.8–4 for 2–8 h
  kTrafficDrop,   ///< requests, users and IPs ×0.15–0.5 for 1–6 h
  kSlowLeak,      ///< latency grows linearly to ×1.8–3 over 12–48 h, then recovers (a restart)
};
std::string_view toString(IncidentKind kind);

struct Incident {
  std::string service;
  IncidentKind kind = IncidentKind::kErrorSpike;
  EpochSeconds start = 0;  ///< first anomalous hour
  EpochSeconds end = 0;    ///< last anomalous hour (inclusive)
  double magnitude = 1;    ///< peak factor applied to the affected metric(s)
};

struct FleetConfig {
  int services = 12;
  EpochSeconds start = 1767225600;  ///< 2026-01-01T00:00:00Z; rounded down to the hour
  int hours = 30 * 24;
  std::uint64_t seed = 42;
  double incidentsPerServiceWeek = 1.0;  ///< mean incident rate (Poisson)
  int quietHours = 7 * 24;               ///< no incidents in the first hours (a clean training week)
  std::vector<std::string> names;        ///< service names; generated ("checkout-api" ...) when empty
};

/// One generated sample and its ground truth.
struct LabelledSample {
  ServiceMetrics metrics;
  bool anomalous = false;  ///< inside an incident window
};

class FleetSimulator {
 public:
  /// Throws std::invalid_argument naming the field for a non-positive service count or hours,
  /// or a negative incident rate.
  explicit FleetSimulator(FleetConfig config);

  const FleetConfig& config() const { return config_; }
  const std::vector<std::string>& serviceNames() const { return names_; }
  const std::vector<Incident>& incidents() const { return incidents_; }

  /// All services' samples of hour `hour` (0-based from config.start), in service order.
  /// Pure function of (config, hour): any hour can be generated independently. O(services).
  std::vector<LabelledSample> hour(int hour) const;

  /// Every sample, hour by hour. O(services × hours).
  std::vector<LabelledSample> all() const;

 private:
  // What makes one service differ from another; drawn from the seed.
  struct Profile {
    double baseRequests;     // per hour at the daily mean
    double dailyAmplitude;   // relative swing of the daily cycle
    double peakHour;         // UTC hour of the daily peak
    double weekendFactor;    // load on Saturdays and Sundays
    double growthPerDay;     // relative traffic growth per day
    double noise;            // log-normal sigma of the request count
    double userRatio;        // unique users per request
    double ipRatio;          // unique IPs per user
    double baseErrorRate;    // percent
    double baseLatencyMs;    // mean latency at mean load
    double loadSensitivity;  // relative latency increase per unit of extra load
    double baseRisk;         // [0,1]
  };

  LabelledSample sample(std::size_t service, int hour) const;

  FleetConfig config_;
  std::vector<std::string> names_;
  std::vector<Profile> profiles_;
  std::vector<Incident> incidents_;
  std::vector<std::vector<std::size_t>> incidentsByService_;
};

}  // namespace stacklens::core::sim
