// `stacklens detect`: scores a CSV file for anomalies (ARCHITECTURE.md, "Command-line contracts").
//   stream (default): the streaming detector, causal, one score per row;
//   batch: one isolation forest (or DBSCAN) fitted on the whole file, as scikit-learn's
//          fit + score_samples.
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>

#include "stacklens/connect/csv_table.h"
#include "stacklens/core/detect/consensus.h"
#include "stacklens/core/detect/kd_tree.h"
#include "stacklens/core/detect/standard_scaler.h"

#include "commands.h"
#include "detect_settings.h"

namespace stacklens::headless {
namespace {

namespace det = core::detect;

struct DetectOptions {
  std::string input, output, config;
  std::string mode, method, contamination, maxSamples, eps;
  std::optional<int> trees, seed, minSamples, threads;
  std::optional<double> threshold;
  bool standardize = false;
};

struct Row {
  double score = 0;
  bool anomaly = false;
  std::string type, severity;
};

double parseNumber(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v))
    throw std::runtime_error(option + ": '" + text + "' is not a number or 'auto'");
  return v;
}

DetectSettings resolveSettings(const DetectOptions& o) {
  DetectSettings s;
  if (!o.config.empty()) applyTomlFile(o.config, s);
  if (!o.mode.empty()) s.mode = o.mode;
  if (!o.method.empty()) s.method = o.method;
  if (o.threshold) s.threshold = *o.threshold;
  if (o.trees) s.forest.trees = *o.trees;
  if (o.seed) s.forest.seed = static_cast<std::uint64_t>(*o.seed);
  if (o.threads) s.forest.threads = s.dbscan.threads = *o.threads;
  if (!o.maxSamples.empty()) {
    const double v = o.maxSamples == "auto" ? 0 : parseNumber("--max-samples", o.maxSamples);
    if (v != 0 && (v < 2 || v != std::floor(v)))
      throw std::runtime_error("--max-samples: must be an integer >= 2 or 'auto'");
    s.forest.maxSamples = static_cast<int>(std::min(v, 1e9));
  }
  if (!o.contamination.empty()) {
    if (o.contamination == "auto")
      s.forest.contamination.reset();
    else
      s.forest.contamination = parseNumber("--contamination", o.contamination);
    if (s.forest.contamination && !(*s.forest.contamination > 0 && *s.forest.contamination <= 0.5))
      throw std::runtime_error("--contamination: must be 'auto' or in (0, 0.5]");
  }
  if (!o.eps.empty()) {
    if (o.eps == "auto")
      s.dbscan.eps.reset();
    else
      s.dbscan.eps = parseNumber("--eps", o.eps);
    if (s.dbscan.eps && *s.dbscan.eps < 0) throw std::runtime_error("--eps: must be >= 0 or 'auto'");
  }
  if (o.minSamples) s.dbscan.minSamples = *o.minSamples;
  if (o.standardize) s.standardize = true;
  return s;
}

std::vector<Row> streamScores(const connect::TimeSeriesFrame& frame, const DetectSettings& s) {
  det::StreamingDetector detector(frame.columns.size(), s.streaming);
  std::vector<Row> rows(frame.timestamps.size());
  std::vector<double> values(frame.columns.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < values.size(); ++c) values[c] = frame.values[c][r];
    const det::StreamingScore score = detector.update(values);
    rows[r].score = score.score;
    rows[r].anomaly = score.score >= s.threshold;
    if (!rows[r].anomaly) continue;
    const auto type = score.channel >= 0
                          ? det::typeForFeature(frame.columns[static_cast<std::size_t>(score.channel)], score.z)
                          : std::nullopt;
    rows[r].type = std::string(core::toString(type.value_or(core::AnomalyType::kOutlier)));
    rows[r].severity = std::string(core::toString(det::severityFor(score.score)));
  }
  return rows;
}

det::Matrix batchMatrix(const connect::CsvTable& table, const connect::TimeSeriesFrame& frame) {
  det::Matrix x(static_cast<Eigen::Index>(frame.timestamps.size()), static_cast<Eigen::Index>(frame.columns.size()));
  for (std::size_t c = 0; c < frame.columns.size(); ++c)
    for (std::size_t r = 0; r < frame.timestamps.size(); ++r) {
      const double v = frame.values[c][r];
      if (std::isnan(v))
        table.fail(r, static_cast<std::size_t>(table.columnIndex(frame.columns[c])),
                   "missing value (batch mode needs every value)");
      x(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = v;
    }
  if (x.rows() < 2) throw connect::CsvError(table.source + ": batch mode needs at least 2 rows");
  return x;
}

std::vector<Row> forestScores(const det::Matrix& x, const DetectSettings& s) {
  const det::IsolationForest forest = det::IsolationForest::fit(x, s.forest);
  const std::vector<double> scores = forest.scores(x, s.forest.threads);
  std::vector<Row> rows(scores.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    rows[r].score = scores[r];
    rows[r].anomaly = forest.isAnomaly(scores[r]);
    if (!rows[r].anomaly) continue;
    rows[r].type = std::string(core::toString(core::AnomalyType::kOutlier));
    rows[r].severity = std::string(core::toString(det::severityFor(forest.confidence(scores[r]))));
  }
  return rows;
}

std::vector<Row> dbscanScores(det::Matrix x, const DetectSettings& s) {
  if (s.standardize) x = det::StandardScaler::fit(x).transform(x);
  const det::DbscanResult result = det::dbscan(x, s.dbscan);
  std::cerr << "stacklens detect: dbscan eps " << result.eps << ", " << result.clusters << " clusters, "
            << result.noiseCount() << " noise rows\n";
  // Severity of a noise row: how far it lies from the nearest core row, in units of eps.
  det::Matrix cores(static_cast<Eigen::Index>(std::count(result.core.begin(), result.core.end(), 1)), x.cols());
  for (Eigen::Index r = 0, k = 0; r < x.rows(); ++r)
    if (result.core[static_cast<std::size_t>(r)]) cores.row(k++) = x.row(r);
  const det::KdTree tree(cores);
  std::vector<Row> rows(static_cast<std::size_t>(x.rows()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (result.labels[r] != -1) continue;
    rows[r] = {1.0, true, std::string(core::toString(core::AnomalyType::kOutlier)), ""};
    const auto nearest = tree.nearest(
        std::span<const double>(x.row(static_cast<Eigen::Index>(r)).data(), static_cast<std::size_t>(x.cols())));
    const double ratio = result.eps > 0 ? nearest.second / result.eps : 2.0;
    rows[r].severity =
        std::string(core::toString(det::severityFor(std::isinf(ratio) ? 1.0 : 1.0 - 0.5 / std::max(ratio, 1.0))));
  }
  return rows;
}

int run(const DetectOptions& options) {
  DetectSettings settings;
  try {
    settings = resolveSettings(options);
  } catch (const std::runtime_error& e) {
    std::cerr << "stacklens detect: " << e.what() << '\n';
    return 2;
  }
  try {
    const connect::CsvTable table = connect::readCsvFile(options.input);
    const connect::TimeSeriesFrame frame = connect::toTimeSeriesFrame(table, {"label"});
    std::vector<Row> rows;
    if (settings.mode == "stream")
      rows = streamScores(frame, settings);
    else if (settings.method == "iforest")
      rows = forestScores(batchMatrix(table, frame), settings);
    else
      rows = dbscanScores(batchMatrix(table, frame), settings);

    std::ofstream out(options.output, std::ios::trunc);
    if (!out) {
      std::cerr << "stacklens detect: cannot write " << options.output << '\n';
      return 1;
    }
    const int timeColumn = table.columnIndex("timestamp");
    out << "timestamp,anomaly_score,is_anomaly,type,severity\n";
    char score[32];
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::snprintf(score, sizeof score, "%.6g", rows[r].score);
      out << (timeColumn >= 0 ? table.rows[r][static_cast<std::size_t>(timeColumn)] : std::to_string(r)) << ',' << score
          << ',' << (rows[r].anomaly ? 1 : 0) << ',' << rows[r].type << ',' << rows[r].severity << '\n';
    }
    out.flush();
    if (!out) {
      std::cerr << "stacklens detect: error writing " << options.output << '\n';
      return 1;
    }
    return 0;
  } catch (const connect::CsvError& e) {
    std::cerr << "stacklens detect: " << e.what() << '\n';
    return 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << "stacklens detect: " << options.input << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace

void addDetectCommand(CLI::App& app) {
  auto o = std::make_shared<DetectOptions>();
  CLI::App* sub = app.add_subcommand("detect", "Score a CSV file for anomalies (stream or batch mode)");
  sub->footer(
      "Input: timestamp,value or timestamp,<col>,... (or, in batch mode, a plain x0,x1,...[,label] table).\n"
      "Output: timestamp,anomaly_score,is_anomaly,type,severity, one row per input row; in stream mode\n"
      "the score of row t uses rows <= t only.");
  sub->add_option("--input", o->input, "Input CSV file")->required()->check(CLI::ExistingFile);
  sub->add_option("--output", o->output, "Output CSV file")->required();
  sub->add_option("--config", o->config, "TOML file with [detect] and [streaming] settings")->check(CLI::ExistingFile);
  sub->add_option("--mode", o->mode, "stream (default) or batch")->check(CLI::IsMember({"stream", "batch"}));
  sub->add_option("--method", o->method, "Batch method: iforest (default) or dbscan")
      ->check(CLI::IsMember({"iforest", "dbscan"}));
  sub->add_option("--threshold", o->threshold, "Stream mode: is_anomaly when anomaly_score >= this");
  sub->add_option("--trees", o->trees, "iforest: number of trees (100)")->check(CLI::Range(1, 100000));
  sub->add_option("--max-samples", o->maxSamples, "iforest: rows per tree, or auto (256)");
  sub->add_option("--contamination", o->contamination, "iforest: auto (threshold 0.5) or a share in (0, 0.5]");
  sub->add_option("--seed", o->seed, "iforest: random seed (0)")->check(CLI::NonNegativeNumber);
  sub->add_option("--eps", o->eps, "dbscan: neighbourhood radius, or auto (k-distance knee)");
  sub->add_option("--min-samples", o->minSamples, "dbscan: neighbours of a core point, itself included (5)")
      ->check(CLI::Range(1, 1000000));
  sub->add_flag("--standardize", o->standardize, "dbscan: standardise the columns first");
  sub->add_option("--threads", o->threads, "Worker threads for batch mode (0 = all cores)")->check(CLI::Range(0, 256));
  sub->callback([o] {
    if (const int code = run(*o); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace stacklens::headless
