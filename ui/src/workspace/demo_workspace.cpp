#include "stacklens/ui/workspace/demo_workspace.h"

#include <algorithm>
#include <map>
#include <zlib.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include "stacklens/ui/theme.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/workspace/csv_import.h"
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

namespace {

// A gzip member (gzip -n output) inflated whole.
std::string gunzip(const QByteArray& in, const std::string& name) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw WorkspaceError("demo: cannot inflate " + name);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.constData()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buffer[1 << 16];
  int status = Z_OK;
  while (status == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    status = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  if (status != Z_STREAM_END) throw WorkspaceError("demo: " + name + " is not a complete gzip file");
  return out;
}

}  // namespace

std::string bundledDemoFile(const std::string& name) {
  initResources();
  const bool compressed = name == "metrics.csv";
  const QString resource = ":/stacklens/demo/" + QString::fromStdString(compressed ? name + ".gz" : name);
  QFile file(resource);
  if (!file.open(QIODevice::ReadOnly)) throw WorkspaceError("demo: no bundled " + resource.toStdString());
  const QByteArray bytes = file.readAll();
  return compressed ? gunzip(bytes, name + ".gz") : bytes.toStdString();
}

std::vector<ServiceData> bundledDemoServices() {
  std::vector<ServiceData> services =
      interpretCsv(connect::parseCsv(bundledDemoFile("metrics.csv"), "demo/metrics.csv"), "demo").services;
  const connect::CsvTable incidents = connect::parseCsv(bundledDemoFile("incidents.csv"), "demo/incidents.csv");
  const int service = incidents.columnIndex("service"), start = incidents.columnIndex("start"),
            end = incidents.columnIndex("end");
  if (service < 0 || start < 0 || end < 0)
    throw connect::CsvError("demo/incidents.csv: the header needs service, start and end");
  for (ServiceData& d : services) d.labels.clear();
  for (std::size_t r = 0; r < incidents.rowCount(); ++r) {
    const std::string& name = incidents.rows[r][static_cast<std::size_t>(service)];
    const auto it =
        std::find_if(services.begin(), services.end(), [&](const ServiceData& d) { return d.name == name; });
    if (it == services.end())
      incidents.fail(r, static_cast<std::size_t>(service), "no service '" + name + "' in metrics.csv");
    it->labels.push_back(
        {incidents.time(r, static_cast<std::size_t>(start)), incidents.time(r, static_cast<std::size_t>(end))});
  }
  for (ServiceData& d : services)
    std::sort(d.labels.begin(), d.labels.end(),
              [](const LabelWindow& a, const LabelWindow& b) { return a.start < b.start; });
  return services;
}

QString ensureDemoWorkspace(const QString& path) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  auto ws = Workspace::open(path);
  // The marker names the bundled data, so that a build with other demo data refreshes the file.
  const std::string data = bundledDemoFile("metrics.csv") + bundledDemoFile("incidents.csv");
  const std::string marker =
      "demo_version=" + std::to_string(kDemoVersion) + " data_md5=" +
      QCryptographicHash::hash(QByteArray::fromStdString(data), QCryptographicHash::Md5).toHex().toStdString();
  if (ws->configuration("demo").value_or("") != marker || ws->services().empty()) {
    ws->importServices(bundledDemoServices(), "resources/demo (stacklens simulate --services 12 --days 42 --seed 42)");
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
