#pragma once
// The bundled demo workspace: the fleet `stacklens simulate` makes (resources/demo/make-demo writes
// resources/demo/metrics.csv.gz and incidents.csv; the Qt resources bundle them), imported into a
// workspace file with the incidents as labels. Also the same fleet straight from the core
// simulator, for tests and benchmarks.

#include <QString>
#include <vector>

#include "stacklens/core/sim/fleet_simulator.h"
#include "stacklens/ui/workspace/service_data.h"

namespace stacklens::ui {

/// A dozen services, six weeks of hourly data (the first week quiet), seed 42. Bump
/// kDemoVersion when this changes so existing demo files are regenerated.
core::sim::FleetConfig demoFleetConfig();
inline constexpr int kDemoVersion = 3;

/// The simulated fleet as workspace services (the 8 features; incidents as label windows).
/// Qt-free, deterministic. O(services × hours).
std::vector<ServiceData> simulatedServices(const core::sim::FleetConfig& config);

/// A bundled demo file: "metrics.csv" (decompressed from metrics.csv.gz) or "incidents.csv".
/// Throws WorkspaceError when it is missing or corrupt.
std::string bundledDemoFile(const std::string& name);

/// The bundled demo fleet: the services of metrics.csv with the windows of incidents.csv as their
/// labels. Throws WorkspaceError or connect::CsvError naming the file and line. O(rows).
std::vector<ServiceData> bundledDemoServices();

/// Creates (or refreshes, when made from other bundled data or an older kDemoVersion) the demo
/// workspace at `path` from bundledDemoServices() and returns it; it also holds two settings to
/// compare ("strict (unanimous)", "sensitive (any, 5 %)"). Throws WorkspaceError.
QString ensureDemoWorkspace(const QString& path);

/// Where the demo lives for this user: <app data>/demo.stacklens.
QString defaultDemoWorkspacePath();

}  // namespace stacklens::ui
