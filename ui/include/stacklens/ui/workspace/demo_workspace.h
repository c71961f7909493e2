#pragma once
// The bundled demo workspace: a fleet made by the core fleet simulator (the code behind
// `stacklens simulate`), turned into workspace services with the incidents as labels.

#include <QString>
#include <vector>

#include "stacklens/core/sim/fleet_simulator.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

/// A dozen services, six weeks of hourly data (the first week quiet), seed 42. Bump
/// kDemoVersion when this changes so existing demo files are regenerated.
core::sim::FleetConfig demoFleetConfig();
inline constexpr int kDemoVersion = 2;

/// The simulated fleet as workspace services (the 8 features; incidents as label windows).
/// Qt-free, deterministic. O(services × hours).
std::vector<ServiceData> simulatedServices(const core::sim::FleetConfig& config);

/// Creates (or refreshes, when older than kDemoVersion) the demo workspace at `path` and returns
/// it; it also holds two settings to compare ("strict (unanimous)", "sensitive (any, 5 %)").
/// Throws WorkspaceError.
QString ensureDemoWorkspace(const QString& path);

/// Where the demo lives for this user: <app data>/demo.stacklens.
QString defaultDemoWorkspacePath();

}  // namespace stacklens::ui
