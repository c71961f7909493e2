#pragma once
// Simulated service histories for the backtest tests.

#include <cstdint>
#include <vector>

#include "stacklens/core/backtest/backtest.h"
#include "stacklens/core/sim/fleet_simulator.h"

namespace stacklens::test {

/// `services` simulated services over `days` days of hourly samples, their incidents as labels.
inline std::vector<core::backtest::ServiceHistory> simulatedHistories(int services, int days, std::uint64_t seed) {
  core::sim::FleetConfig config;
  config.services = services;
  config.hours = days * 24;
  config.seed = seed;
  const core::sim::FleetSimulator simulator(config);
  std::vector<core::backtest::ServiceHistory> out(simulator.serviceNames().size());
  for (std::size_t s = 0; s < out.size(); ++s) out[s].service = simulator.serviceNames()[s];
  for (const auto& sample : simulator.all())
    for (auto& h : out)
      if (h.service == sample.metrics.service) h.samples.push_back(sample.metrics);
  for (const auto& incident : simulator.incidents())
    for (auto& h : out)
      if (h.service == incident.service) h.labels.push_back({incident.start, incident.end});
  return out;
}

}  // namespace stacklens::test
