#pragma once
// False positives marked during triage, kept in the local workspace file (table
// false_positive_labels, created on first use; the workspace's own tables are untouched) so that
// backtests can check a tuned configuration against them: a configuration that still flags a
// known false positive is worse.

#include <QDateTime>
#include <QString>
#include <vector>

namespace stacklens::ui {

struct FalsePositiveLabel {
  QString anomalyId;
  QString service;
  QDateTime timestamp;  ///< the anomaly's window time
  QString anomalyType;
  QString note;
  QString markedBy;
  QDateTime markedAt;
};

class FalsePositiveLabels {
 public:
  /// Adds (or replaces, by anomaly id) a label in the workspace at `workspacePath`. Throws
  /// std::runtime_error naming the file when it cannot be written.
  static void add(const QString& workspacePath, const FalsePositiveLabel& label);
  /// The labels of `service` (all services when empty), oldest first.
  static std::vector<FalsePositiveLabel> load(const QString& workspacePath, const QString& service = {});
};

}  // namespace stacklens::ui
