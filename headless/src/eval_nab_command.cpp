// `stacklens eval nab`: runs the streaming detector over every file of a NAB corpus with one
// configuration and prints the three profile scores (../shared/data/README.md defines them).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "stacklens/connect/csv_table.h"
#include "stacklens/core/eval/nab_scorer.h"

#include "commands.h"
#include "detect_settings.h"

namespace stacklens::headless {
namespace {

namespace fs = std::filesystem;
using Windows = std::map<std::string, std::vector<std::pair<core::EpochSeconds, core::EpochSeconds>>>;

struct EvalNabOptions {
  std::string data, windows, config, scoresDir;
  bool perFile = false;
};

Windows readWindows(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
  if (!json.is_object())
    throw std::runtime_error(path + ": expected an object {\"category/file.csv\": [[start, end], ...]}");
  Windows windows;
  for (const auto& [file, list] : json.items()) {
    auto& out = windows[file];
    if (!list.is_array()) throw std::runtime_error(path + ": '" + file + "': expected a list of [start, end]");
    for (const auto& w : list) {
      if (!w.is_array() || w.size() != 2 || !w[0].is_string() || !w[1].is_string())
        throw std::runtime_error(path + ": '" + file + "': each window must be [\"start\", \"end\"]");
      const auto start = core::parseTimestamp(w[0].get<std::string>());
      const auto end = core::parseTimestamp(w[1].get<std::string>());
      if (!start || !end || *end < *start)
        throw std::runtime_error(path + ": '" + file + "': bad window [" + w[0].get<std::string>() + ", " +
                                 w[1].get<std::string>() + "]");
      out.emplace_back(*start, *end);
    }
  }
  return windows;
}

// The file of a windows key: DIR/key, or DIR/data/key when DIR is a NAB checkout's root.
std::string resolve(const std::string& dir, const std::string& key) {
  for (const fs::path& p : {fs::path(dir) / key, fs::path(dir) / "data" / key})
    if (fs::exists(p)) return p.string();
  throw std::runtime_error(dir + ": no file " + key + " (listed in the windows file)");
}

core::eval::NabFile scoreFile(const std::string& key, const std::string& path, const Windows::mapped_type& windows,
                              const DetectSettings& settings) {
  const connect::CsvTable table = connect::readCsvFile(path);
  const connect::TimeSeriesFrame frame = connect::toTimeSeriesFrame(table);
  if (table.columnIndex("timestamp") < 0) throw std::runtime_error(path + ":1: no 'timestamp' column");
  for (std::size_t r = 1; r < frame.timestamps.size(); ++r)
    if (frame.timestamps[r] < frame.timestamps[r - 1])
      table.fail(r, static_cast<std::size_t>(table.columnIndex("timestamp")), "timestamps go backwards");
  core::detect::StreamingDetector detector(frame.columns.size(), settings.streaming);
  core::eval::NabFile file;
  file.name = key;
  std::vector<double> values(frame.columns.size());
  for (std::size_t r = 0; r < frame.timestamps.size(); ++r) {
    for (std::size_t c = 0; c < values.size(); ++c) values[c] = frame.values[c][r];
    file.scores.push_back(detector.update(values).score);
  }
  file.windows = core::eval::windowsToRows(frame.timestamps, windows);
  if (file.windows.size() != windows.size())
    throw std::runtime_error(path + ": " + std::to_string(windows.size() - file.windows.size()) +
                             " window(s) match no row of the file");
  return file;
}

int run(const EvalNabOptions& options) {
  DetectSettings settings;
  std::vector<core::eval::NabFile> files;
  try {
    if (!options.config.empty()) applyTomlFile(options.config, settings);
    const Windows windows = readWindows(options.windows);
    for (const auto& [key, list] : windows) files.push_back(scoreFile(key, resolve(options.data, key), list, settings));
  } catch (const std::exception& e) {
    std::cerr << "stacklens eval nab: " << e.what() << '\n';
    return 1;
  }
  if (!options.scoresDir.empty()) {
    for (const auto& f : files) {
      const fs::path out = fs::path(options.scoresDir) / f.name;
      fs::create_directories(out.parent_path());
      std::ofstream s(out);
      s << "anomaly_score\n";
      for (double v : f.scores) s << v << '\n';
    }
  }
  std::size_t windows = 0, rows = 0;
  for (const auto& f : files) windows += f.windows.size(), rows += f.scores.size();
  std::printf("NAB: %zu files, %zu rows, %zu windows; one configuration for every file\n", files.size(), rows, windows);
  std::printf("%-20s %8s %10s %5s %5s\n", "profile", "score", "threshold", "TP", "FP");
  for (const auto& profile : core::eval::nabProfiles()) {
    const core::eval::NabResult r = core::eval::scoreCorpus(files, profile);
    std::printf("%-20s %8.2f %10.6f %5d %5d\n", profile.name.c_str(), r.normalized, r.threshold, r.truePositives,
                r.falsePositives);
    if (options.perFile && profile.name == "standard")
      for (const auto& f : files) {
        const auto s = core::eval::scoreFile(f, r.threshold, profile);
        std::printf("    %-58s raw %7.3f  TP %d FN %d FP %d\n", f.name.c_str(), s.raw, s.truePositives,
                    s.falseNegatives, s.falsePositives);
      }
  }
  return 0;
}

}  // namespace

void addEvalNabCommand(CLI::App& eval) {
  auto o = std::make_shared<EvalNabOptions>();
  CLI::App* sub = eval.add_subcommand("nab", "Score the streaming detector on the Numenta Anomaly Benchmark");
  sub->add_option("--data", o->data, "Directory holding the category folders (or a NAB root with data/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--windows", o->windows, "combined_windows.json")->required()->check(CLI::ExistingFile);
  sub->add_option("--config", o->config, "TOML file with [streaming] settings")->check(CLI::ExistingFile);
  sub->add_flag("--per-file", o->perFile, "Also print each file's raw standard-profile score");
  sub->add_option("--scores-dir", o->scoresDir, "Write each file's anomaly scores under this directory");
  sub->callback([o] {
    if (const int code = run(*o); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace stacklens::headless
