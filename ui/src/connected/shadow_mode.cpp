#include "stacklens/ui/connected/shadow_mode.h"

namespace stacklens::ui {

ShadowRow::Verdict ShadowRow::verdict() const {
  if (local && !production) return Verdict::kLocalOnly;
  if (!local && production) return Verdict::kProductionOnly;
  if (local->type != production->type || local->severity != production->severity) return Verdict::kDiffer;
  return Verdict::kAgree;
}

ShadowMode::ShadowMode(core::pipeline::MlPipelineConfig config) : pipeline_(std::move(config)) {}

void ShadowMode::train(const std::string& service, const std::vector<core::ServiceMetrics>& history) {
  pipeline_.train(service, history);
}

bool ShadowMode::addInput(const core::ServiceMetrics& sample) {
  ++inputs_;
  core::pipeline::PipelineOutput out;
  try {
    out = pipeline_.process(sample);
  } catch (const core::pipeline::InvalidSample&) {
    ++rejected_;
    return false;
  }
  for (auto& a : out.anomalies) {
    ShadowRow& row = rows_[{a.service, a.timestamp}];
    row.service = a.service;
    row.timestamp = a.timestamp;
    row.local = std::move(a);
  }
  return true;
}

void ShadowMode::addProduction(const core::AnomalyRecord& anomaly) {
  ShadowRow& row = rows_[{anomaly.service, anomaly.timestamp}];
  row.service = anomaly.service;
  row.timestamp = anomaly.timestamp;
  row.production = anomaly;
}

std::vector<ShadowRow> ShadowMode::rows() const {
  std::vector<ShadowRow> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.push_back(row);
  return out;
}

std::vector<ShadowRow> ShadowMode::disagreements() const {
  std::vector<ShadowRow> out;
  for (const auto& [key, row] : rows_)
    if (row.verdict() != ShadowRow::Verdict::kAgree) out.push_back(row);
  return out;
}

}  // namespace stacklens::ui
