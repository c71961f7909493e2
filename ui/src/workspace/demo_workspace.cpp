#include "stacklens/ui/workspace/demo_workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <map>

#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/workspace/workspace.h"

namespace stacklens::ui {

core::sim::FleetConfig demoFleetConfig() {
  core::sim::FleetConfig config;
  config.services = 12;
  config.hours = 42 * 24;
  config.seed = 42;
  config.incidentsPerServiceWeek = 1.0;
  config.quietHours = 7 * 24;
  return config;
}

std::vector<ServiceData> simulatedServices(const core::sim::FleetConfig& config) {
  const core::sim::FleetSimulator simulator(config);
  std::vector<ServiceData> services(simulator.serviceNames().size());
  std::map<std::string, std::size_t> index;
  for (std::size_t s = 0; s < services.size(); ++s) {
    services[s].name = simulator.serviceNames()[s];
    for (std::string_view f : core::kFeatureNames) services[s].metrics.emplace_back(f);
    services[s].values.assign(core::kFeatureCount, {});
    index[services[s].name] = s;
  }
  for (const core::sim::LabelledSample& sample : simulator.all()) {
    ServiceData& d = services[index.at(sample.metrics.service)];
    d.timestamps.push_back(sample.metrics.timestamp);
    const core::FeatureVector f = sample.metrics.features();
    for (std::size_t k = 0; k < core::kFeatureCount; ++k) d.values[k].push_back(f[k]);
  }
  for (const core::sim::Incident& incident : simulator.incidents())
    services[index.at(incident.service)].labels.push_back({incident.start, incident.end});
  for (ServiceData& d : services)
    std::sort(d.labels.begin(), d.labels.end(), [](const LabelWindow& a, const LabelWindow& b) { return a.start < b.start; });
  return services;
}

QString ensureDemoWorkspace(const QString& path) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  auto ws = Workspace::open(path);
  const std::string marker = "demo_version=" + std::to_string(kDemoVersion);
  if (ws->configuration("demo").value_or("") != marker || ws->services().empty()) {
    ws->importServices(simulatedServices(demoFleetConfig()), "stacklens simulate --services 12 --days 42 --seed 42");
    // Two settings to compare in the backtest panel, next to the current ones.
    TuningConfig strict = TuningConfig::defaults();
    strict.detection.consensus.rule = core::detect::ConsensusRule::kUnanimous;
    ws->saveConfiguration("strict (unanimous)", tuningToToml(strict));
    TuningConfig sensitive = TuningConfig::defaults();
    sensitive.detection.consensus.rule = core::detect::ConsensusRule::kAny;
    sensitive.detection.anomaly.forest.contamination = 0.05;
    ws->saveConfiguration("sensitive (any, 5 %)", tuningToToml(sensitive));
    ws->saveConfiguration("demo", marker);
  }
  return path;
}

QString defaultDemoWorkspacePath() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("demo.stacklens"));
}

}  // namespace stacklens::ui
