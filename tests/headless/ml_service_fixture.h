#pragma once
// Helpers of the ml-service tests: the real `stacklens ml-service` as a child process, a
// simulated fleet split into history (analytics_metrics_1hour) and stream (analytics-alerts), and
// the records the engine produces for it in-process (the reference the service must match).

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafka_test_helpers.h"
#include "stacklens/connect/service_config.h"
#include "stacklens/core/pipeline/ml_pipeline.h"
#include "stacklens/core/sim/fleet_simulator.h"

// After the engine headers: <resolv.h>, which httplib includes, defines _res, an Eigen parameter name.
#include <httplib.h>

namespace stacklens::test {

/// "service|timestamp": one input message.
inline std::string messageKey(const core::ServiceMetrics& m) { return m.service + "|" + std::to_string(m.timestamp); }

/// A simulated fleet: hours [0, historyHours) are the history table, the rest the stream.
struct FleetData {
  core::sim::FleetConfig config;
  int historyHours = 0;
  std::vector<core::ServiceMetrics> table;
  std::vector<core::sim::LabelledSample> stream;  ///< hour by hour, services in order
  std::vector<core::sim::Incident> incidents;

  FleetData(core::sim::FleetConfig fleetConfig, int history) : config(fleetConfig), historyHours(history) {
    const core::sim::FleetSimulator fleet(config);
    for (int h = 0; h < config.hours; ++h)
      for (auto& sample : fleet.hour(h)) {
        if (h < historyHours)
          table.push_back(sample.metrics);
        else
          stream.push_back(sample);
      }
    incidents = fleet.incidents();
  }
};

/// What the engine produces for the messages a run of ml-service processes.
struct Reference {
  std::map<std::string, std::set<std::string>> anomaliesByMessage;  ///< messageKey → anomaly ids
  std::set<std::string> anomalies;
  std::set<std::string> models;  ///< model ids
  std::size_t trends = 0;        ///< trend records (rows are keyed by service, metric, timestamp)

  std::set<std::string> anomaliesOf(const std::set<std::string>& messages) const {
    std::set<std::string> ids;
    for (const auto& key : messages)
      if (auto it = anomaliesByMessage.find(key); it != anomaliesByMessage.end()) ids.insert(it->second.begin(), it->second.end());
    return ids;
  }
};

/// Runs the pipeline as ml-service does over the stream messages `include` accepts (per service
/// a contiguous run): the first one of a service trains on the table's rows of the `historyDays`
/// before it.
template <typename Include>
Reference referenceRun(const FleetData& data, const core::pipeline::MlPipelineConfig& config, int historyDays,
                       Include&& include) {
  core::pipeline::MlPipeline pipeline(config);
  Reference ref;
  std::set<std::string> seen;
  auto collect = [&](const core::pipeline::PipelineOutput& out, const std::string& key) {
    for (const auto& a : out.anomalies) {
      ref.anomalies.insert(a.anomalyId);
      if (!key.empty()) ref.anomaliesByMessage[key].insert(a.anomalyId);
    }
    for (const auto& m : out.models) ref.models.insert(m.modelId);
    ref.trends += out.trends.size();
  };
  for (const auto& labelled : data.stream) {
    const core::ServiceMetrics& sample = labelled.metrics;
    if (!include(sample)) continue;
    if (seen.insert(sample.service).second) {
      std::vector<core::ServiceMetrics> history;
      const core::EpochSeconds from = sample.timestamp - 1 - historyDays * 86400;
      for (const auto& row : data.table)
        if (row.service == sample.service && row.timestamp > from && row.timestamp <= sample.timestamp - 1)
          history.push_back(row);
      collect(pipeline.train(sample.service, history), {});
    }
    collect(pipeline.process(sample), messageKey(sample));
  }
  return ref;
}

inline std::string httpBody(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  client.set_read_timeout(5);
  const auto response = client.Get(path);
  if (status) *status = response ? response->status : -1;
  return response ? response->body : std::string();
}

/// The value of an unlabelled sample in Prometheus text, or -1.
inline double metricValue(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

/// `stacklens ml-service` as a child process, configured through a TOML file and STACKLENS_*
/// variables as in production.
class MlServiceProcess {
 public:
  struct Settings {
    std::string bootstrap;
    std::string dsn;
    std::string group;
    std::string inputTopic = "analytics-alerts";
    std::string anomaliesTopic = "ml-anomalies";
    std::string patternsTopic = "ml-patterns";
    std::string deadLetterTopic = "analytics-alerts-dlq";
    int retrainEvery = 24;
    int batchSize = 100;
  };

  explicit MlServiceProcess(Settings settings) : settings_(std::move(settings)), port_(freeTcpPort()) {}
  ~MlServiceProcess() {
    if (process_.state() != QProcess::NotRunning) {
      process_.kill();
      process_.waitForFinished(5000);
    }
  }

  /// The configuration the service runs with (the reference uses its pipelineConfig()).
  connect::ServiceConfig config() const {
    return connect::loadServiceConfig(writeConfig(), [this](const std::string& name) { return variable(name); });
  }

  /// Starts and waits until /healthz answers.
  bool start() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : variables()) env.insert(QString::fromStdString(name), QString::fromStdString(value));
    process_.setProcessEnvironment(env);
    process_.setProcessChannelMode(QProcess::SeparateChannels);
    process_.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"),
                   {"ml-service", "--config", QString::fromStdString(writeConfig())});
    if (!process_.waitForStarted(5000)) return false;
    return waitFor([&] { return running() && httpBody(port_, "/healthz") == "ok\n"; }, std::chrono::seconds(30));
  }

  bool running() const { return process_.state() == QProcess::Running; }
  int port() const { return port_; }
  double metric(const std::string& name) const { return metricValue(httpBody(port_, "/metrics"), name); }

  /// Waits until the group gave this instance partitions.
  bool waitAssigned(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    return waitFor([&] { return metric("stacklens_assigned_partitions") > 0; }, limit);
  }

  void terminate() { process_.terminate(); }  // SIGTERM
  void kill() { process_.kill(); }            // SIGKILL

  /// The exit code, or -1 when it crashed, was killed or did not end within `limit`.
  int waitExit(int limitMs = 30000) {
    if (!process_.waitForFinished(limitMs)) return -1;
    return process_.exitStatus() == QProcess::NormalExit ? process_.exitCode() : -1;
  }

  /// Everything it logged so far (stderr).
  QString log() {
    while (process_.state() == QProcess::Running && process_.waitForReadyRead(100)) log_ += QString::fromUtf8(process_.readAllStandardError());
    return log_ += QString::fromUtf8(process_.readAllStandardError());
  }

 private:
  std::map<std::string, std::string> variables() const {
    return {{"STACKLENS_KAFKA_BOOTSTRAP_SERVERS", settings_.bootstrap},
            {"STACKLENS_KAFKA_GROUP_ID", settings_.group},
            {"STACKLENS_POSTGRES_DSN", settings_.dsn},
            {"STACKLENS_HTTP_BIND", "127.0.0.1"},
            {"STACKLENS_HTTP_PORT", std::to_string(port_)}};
  }
  std::optional<std::string> variable(const std::string& name) const {
    const auto all = variables();
    const auto it = all.find(name);
    return it == all.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

  std::string writeConfig() const {
    const std::string path = dir_.filePath("ml-service.toml").toStdString();
    std::ofstream out(path);
    out << "[kafka.properties]\n\"session.timeout.ms\" = \"6000\"\n\"message.timeout.ms\" = \"60000\"\n"
        << "\"reconnect.backoff.max.ms\" = \"1000\"\n"
        << "\n[postgres]\npool_min = 1\npool_max = 4\n"
        << "\n[log]\nlevel = \"info\"\n"
        << "\n[ml]\ninput_topic = \"" << settings_.inputTopic << "\"\nanomalies_topic = \"" << settings_.anomaliesTopic
        << "\"\npatterns_topic = \"" << settings_.patternsTopic << "\"\ndead_letter_topic = \""
        << settings_.deadLetterTopic << "\"\nretrain_every = " << settings_.retrainEvery
        << "\nbatch_size = " << settings_.batchSize << "\n";
    return path;
  }

  Settings settings_;
  int port_;
  QTemporaryDir dir_;
  QProcess process_;
  QString log_;
};

}  // namespace stacklens::test
