#include "stacklens/core/sim/fleet_simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>

namespace stacklens::core::sim {

namespace {

constexpr std::array<std::string_view, 20> kServiceNames = {
    "checkout-api",     "payments",        "auth",         "search",  "catalog", "cart",    "inventory", "shipping",
    "notifications",    "recommendations", "user-profile", "gateway", "orders",  "pricing", "reviews",   "media",
    "analytics-ingest", "billing",         "fraud-check",  "session"};

// SplitMix64: a tiny, well-mixed hash so that any (service, hour) gets its own reproducible noise
// without generating the hours before it.
std::uint64_t splitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Standard normals from a counter-based stream (Box–Muller on hashed uniforms).
class NoiseStream {
 public:
  explicit NoiseStream(std::uint64_t key) : key_(key) {}
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  double uniform() { return (static_cast<double>(splitMix64(key_ + ++counter_) >> 11) + 0.5) * 0x1.0p-53; }
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

double uniformIn(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<>(lo, hi)(rng);
}

}  // namespace

std::string_view toString(IncidentKind kind) {
  switch (kind) {
    case IncidentKind::kErrorSpike:
      return "error_spike";
    case IncidentKind::kLatencyShift:
      return "latency_shift";
    case IncidentKind::kTrafficDrop:
      return "traffic_drop";
    case IncidentKind::kSlowLeak:
      return "slow_leak";
  }
  return "error_spike";
}

FleetSimulator::FleetSimulator(FleetConfig config) : config_(std::move(config)) {
  if (config_.services <= 0) throw std::invalid_argument("services must be positive");
  if (config_.hours <= 0) throw std::invalid_argument("hours must be positive");
  if (!(config_.incidentsPerServiceWeek >= 0)) throw std::invalid_argument("incident rate must be >= 0");
  config_.start -= ((config_.start % 3600) + 3600) % 3600;

  std::mt19937_64 rng(config_.seed);
  for (int s = 0; s < config_.services; ++s) {
    if (static_cast<std::size_t>(s) < config_.names.size()) {
      names_.push_back(config_.names[s]);
    } else {
      const std::string base(kServiceNames[s % kServiceNames.size()]);
      names_.push_back(
          s < static_cast<int>(kServiceNames.size()) ? base : base + "-" + std::to_string(s / kServiceNames.size()));
    }
    profiles_.push_back(Profile{
        .baseRequests = std::exp(uniformIn(rng, std::log(500.0), std::log(60000.0))),
        .dailyAmplitude = uniformIn(rng, 0.25, 0.7),
        .peakHour = uniformIn(rng, 10, 20),
        .weekendFactor = uniformIn(rng, 0.55, 0.95),
        .growthPerDay = uniformIn(rng, 0.0, 0.008),
        .noise = uniformIn(rng, 0.03, 0.08),
        .userRatio = uniformIn(rng, 0.05, 0.2),
        .ipRatio = uniformIn(rng, 0.5, 0.8),
        .baseErrorRate = uniformIn(rng, 0.1, 1.0),
        .baseLatencyMs = uniformIn(rng, 15, 150),
        .loadSensitivity = uniformIn(rng, 0.1, 0.5),
        .baseRisk = uniformIn(rng, 0.05, 0.3),
    });
  }

  // Incidents: Poisson arrivals per service after the quiet period, never overlapping.
  incidentsByService_.resize(config_.services);
  const double ratePerHour = config_.incidentsPerServiceWeek / (7.0 * 24.0);
  for (int s = 0; s < config_.services && ratePerHour > 0; ++s) {
    std::exponential_distribution<> gap(ratePerHour);
    double hourCursor = config_.quietHours;
    while (true) {
      hourCursor += gap(rng);
      const auto kind = static_cast<IncidentKind>(std::uniform_int_distribution<>(0, 3)(rng));
      int duration = 1;
      double magnitude = 1;
      switch (kind) {
        case IncidentKind::kErrorSpike:
          duration = std::uniform_int_distribution<>(1, 4)(rng);
          magnitude = uniformIn(rng, 5, 20);
          break;
        case IncidentKind::kLatencyShift:
          duration = std::uniform_int_distribution<>(2, 8)(rng);
          magnitude = uniformIn(rng, 1.8, 4);
          break;
        case IncidentKind::kTrafficDrop:
          duration = std::uniform_int_distribution<>(1, 6)(rng);
          magnitude = uniformIn(rng, 0.15, 0.5);
          break;
        case IncidentKind::kSlowLeak:
          duration = std::uniform_int_distribution<>(12, 48)(rng);
          magnitude = uniformIn(rng, 1.8, 3);
          break;
      }
      const int first = static_cast<int>(hourCursor);
      const int last = first + duration - 1;
      if (last >= config_.hours) break;
      incidentsByService_[s].push_back(incidents_.size());
      incidents_.push_back(
          Incident{names_[s], kind, config_.start + first * 3600LL, config_.start + last * 3600LL, magnitude});
      hourCursor = last + 12;  // a quiet gap so windows stay distinct
    }
  }
  std::sort(incidents_.begin(), incidents_.end(), [](const Incident& a, const Incident& b) {
    return a.start != b.start ? a.start < b.start : a.service < b.service;
  });
  for (auto& list : incidentsByService_) list.clear();
  for (std::size_t i = 0; i < incidents_.size(); ++i) {
    const auto it = std::find(names_.begin(), names_.end(), incidents_[i].service);
    incidentsByService_[it - names_.begin()].push_back(i);
  }
}

LabelledSample FleetSimulator::sample(std::size_t service, int hourIndex) const {
  const Profile& p = profiles_[service];
  const EpochSeconds t = config_.start + hourIndex * 3600LL;
  const EpochSeconds days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const int weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // Monday = 0; 1970-01-01 was a Thursday
  const double hourOfDay = static_cast<double>(((t % 86400) + 86400) % 86400) / 3600.0;

  const double daily = 1.0 + p.dailyAmplitude * std::cos(2.0 * std::numbers::pi * (hourOfDay - p.peakHour) / 24.0);
  const double weekly = weekday >= 5 ? p.weekendFactor : 1.0;
  const double growth = std::pow(1.0 + p.growthPerDay, hourIndex / 24.0);
  const double load = daily * weekly * growth;

  NoiseStream noise(splitMix64(config_.seed ^ (0x51ED27ULL * (service + 1))) ^ static_cast<std::uint64_t>(hourIndex));
  double requests = p.baseRequests * load * std::exp(p.noise * noise.normal());
  double users = requests * p.userRatio * std::exp(0.03 * noise.normal());
  double ips = users * p.ipRatio * std::exp(0.03 * noise.normal());
  double errorRate = p.baseErrorRate * (1.0 + 0.3 * (daily - 1.0)) * std::exp(0.15 * noise.normal());
  double latencyMean = p.baseLatencyMs * (1.0 + p.loadSensitivity * (load - 1.0)) * std::exp(0.05 * noise.normal());
  double latencyP95 = latencyMean * (1.9 + 0.05 * noise.normal());
  double latencyP99 = latencyP95 * (1.5 + 0.05 * noise.normal());
  double risk = p.baseRisk * std::exp(0.2 * noise.normal());

  bool anomalous = false;
  for (std::size_t index : incidentsByService_[service]) {
    const Incident& incident = incidents_[index];
    if (t < incident.start || t > incident.end) continue;
    anomalous = true;
    switch (incident.kind) {
      case IncidentKind::kErrorSpike:
        errorRate *= incident.magnitude;
        risk *= 1.3;
        break;
      case IncidentKind::kLatencyShift:
        latencyMean *= incident.magnitude;
        latencyP95 *= incident.magnitude;
        latencyP99 *= incident.magnitude;
        break;
      case IncidentKind::kTrafficDrop:
        requests *= incident.magnitude;
        users *= incident.magnitude;
        ips *= incident.magnitude;
        errorRate *= 1.5;
        break;
      case IncidentKind::kSlowLeak: {
        const double progress =
            static_cast<double>(t - incident.start + 3600) / static_cast<double>(incident.end - incident.start + 3600);
        const double factor = 1.0 + (incident.magnitude - 1.0) * progress;
        latencyMean *= factor;
        latencyP95 *= factor;
        latencyP99 *= factor;
        break;
      }
    }
  }

  LabelledSample out;
  out.anomalous = anomalous;
  ServiceMetrics& m = out.metrics;
  m.service = names_[service];
  m.timestamp = t;
  m.windowSeconds = 3600;
  m.totalRequests = std::round(requests);
  m.uniqueUsers = std::round(std::min(users, requests));
  m.uniqueIps = std::round(std::min(ips, users));
  m.errorRate = std::clamp(errorRate, 0.0, 100.0);
  m.latencyMeanMs = latencyMean;
  m.latencyP95Ms = std::max(latencyP95, latencyMean);
  m.latencyP99Ms = std::max(latencyP99, m.latencyP95Ms);
  m.riskScore = std::clamp(risk, 0.0, 1.0);
  return out;
}

std::vector<LabelledSample> FleetSimulator::hour(int hourIndex) const {
  std::vector<LabelledSample> samples;
  samples.reserve(profiles_.size());
  for (std::size_t s = 0; s < profiles_.size(); ++s) samples.push_back(sample(s, hourIndex));
  return samples;
}

std::vector<LabelledSample> FleetSimulator::all() const {
  std::vector<LabelledSample> samples;
  samples.reserve(profiles_.size() * static_cast<std::size_t>(config_.hours));
  for (int h = 0; h < config_.hours; ++h)
    for (std::size_t s = 0; s < profiles_.size(); ++s) samples.push_back(sample(s, h));
  return samples;
}

}  // namespace stacklens::core::sim
