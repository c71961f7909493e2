#include "stacklens/core/eval/nab_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace stacklens::core::eval {
namespace {

// Where a row sits: inside window `window`, or outside with `previous` the last window that
// ended before it (−1 if none).
struct RowPlace {
  int window = -1;
  int previous = -1;
};

std::vector<RowPlace> placeRows(const NabFile& f) {
  std::vector<RowPlace> place(f.scores.size());
  int previous = -1;
  std::size_t w = 0;
  for (std::size_t i = 0; i < place.size(); ++i) {
    while (w < f.windows.size() && f.windows[w].end < i) previous = static_cast<int>(w++);
    if (w < f.windows.size() && f.windows[w].begin <= i) place[i].window = static_cast<int>(w);
    place[i].previous = previous;
  }
  return place;
}

double detectionValue(const NabFile& f, std::size_t row, const RowPlace& p, const NabProfile& profile) {
  if (p.window >= 0) {
    const NabWindow& w = f.windows[static_cast<std::size_t>(p.window)];
    const double width = static_cast<double>(w.end - w.begin + 1);
    return profile.tp * nabSigmoid(-static_cast<double>(w.end - row + 1) / width) / nabSigmoid(-1.0);
  }
  if (p.previous < 0) return -profile.fp;
  const NabWindow& w = f.windows[static_cast<std::size_t>(p.previous)];
  const double width = static_cast<double>(w.end - w.begin + 1);
  return profile.fp * nabSigmoid(static_cast<double>(row - w.end) / std::max(width - 1.0, 1.0));
}

void checkFile(const NabFile& f) {
  for (std::size_t w = 0; w < f.windows.size(); ++w) {
    const NabWindow& win = f.windows[w];
    if (win.begin > win.end || win.end >= f.scores.size() || (w > 0 && win.begin <= f.windows[w - 1].end))
      throw std::invalid_argument("NAB: windows of " + f.name + " are out of range, unsorted or overlapping");
  }
}

}  // namespace

const std::array<NabProfile, 3>& nabProfiles() {
  static const std::array<NabProfile, 3> profiles = {NabProfile{"standard", 1.0, 1.0, 0.11},
                                                     NabProfile{"reward_low_FP_rate", 1.0, 1.0, 0.22},
                                                     NabProfile{"reward_low_FN_rate", 1.0, 2.0, 0.11}};
  return profiles;
}

double nabSigmoid(double y) {
  if (y > 3) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

std::size_t nabProbation(std::size_t rows) {
  return std::min<std::size_t>(rows * 15 / 100, 750);
}

std::vector<NabWindow> windowsToRows(std::span<const EpochSeconds> timestamps,
                                     std::span<const std::pair<EpochSeconds, EpochSeconds>> windows) {
  std::vector<NabWindow> out;
  for (const auto& [start, end] : windows) {
    const auto lo = std::lower_bound(timestamps.begin(), timestamps.end(), start);
    const auto hi = std::upper_bound(timestamps.begin(), timestamps.end(), end);
    if (lo >= hi) continue;
    out.push_back(
        {static_cast<std::size_t>(lo - timestamps.begin()), static_cast<std::size_t>(hi - timestamps.begin()) - 1});
  }
  return out;
}

NabFileScore scoreFile(const NabFile& f, double threshold, const NabProfile& profile) {
  checkFile(f);
  const auto place = placeRows(f);
  std::vector<double> best(f.windows.size(), -std::numeric_limits<double>::infinity());
  NabFileScore s;
  for (std::size_t i = nabProbation(f.scores.size()); i < f.scores.size(); ++i) {
    if (!(f.scores[i] >= threshold)) continue;
    const double v = detectionValue(f, i, place[i], profile);
    if (place[i].window >= 0) {
      double& b = best[static_cast<std::size_t>(place[i].window)];
      b = std::max(b, v);
    } else {
      s.raw += v;
      ++s.falsePositives;
    }
  }
  for (double b : best) {
    if (std::isinf(b)) {
      s.raw -= profile.fn;
      ++s.falseNegatives;
    } else {
      s.raw += b;
      ++s.truePositives;
    }
  }
  return s;
}

NabResult scoreCorpus(std::span<const NabFile> files, const NabProfile& profile) {
  struct Event {
    double score;
    std::int32_t window;  // global window index, −1 outside windows
    double value;
  };
  std::vector<Event> events;
  int windows = 0;
  for (const NabFile& f : files) {
    checkFile(f);
    const auto place = placeRows(f);
    for (std::size_t i = nabProbation(f.scores.size()); i < f.scores.size(); ++i) {
      if (std::isnan(f.scores[i])) continue;
      const int w = place[i].window;
      events.push_back({f.scores[i], w >= 0 ? windows + w : -1, detectionValue(f, i, place[i], profile)});
    }
    windows += static_cast<int>(f.windows.size());
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.score > b.score; });

  NabResult r;
  r.profile = profile.name;
  r.windows = windows;
  r.null = -profile.fn * windows;
  r.perfect = profile.tp * windows;
  // Lower θ step by step: each distinct score adds its rows' detections.
  std::vector<double> best(static_cast<std::size_t>(windows), -std::numeric_limits<double>::infinity());
  double total = r.null;
  int tp = 0, fp = 0;
  r.raw = total;
  r.threshold = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < events.size();) {
    const double theta = events[i].score;
    for (; i < events.size() && events[i].score == theta; ++i) {
      const Event& e = events[i];
      if (e.window < 0) {
        total += e.value;
        ++fp;
        continue;
      }
      double& b = best[static_cast<std::size_t>(e.window)];
      if (std::isinf(b)) {
        total += e.value + profile.fn;
        b = e.value;
        ++tp;
      } else if (e.value > b) {
        total += e.value - b;
        b = e.value;
      }
    }
    if (total > r.raw) {
      r.raw = total;
      r.threshold = theta;
      r.truePositives = tp;
      r.falsePositives = fp;
    }
  }
  r.normalized = windows == 0 ? 0.0 : 100.0 * (r.raw - r.null) / (r.perfect - r.null);
  return r;
}

}  // namespace stacklens::core::eval
