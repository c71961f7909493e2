#pragma once
// The tuning settings being edited, with undo and redo (QUndoStack). Every edit goes through an
// undo command holding the settings before and after; consecutive edits of one field (a spin
// box's steps, typing a number) merge into one undo step.

#include <QObject>

#include "stacklens/ui/tuning/tuning_config.h"

class QUndoStack;

namespace stacklens::ui {

class TuningModel : public QObject {
  Q_OBJECT
 public:
  explicit TuningModel(QObject* parent = nullptr);

  const TuningConfig& config() const { return config_; }
  QUndoStack* undoStack() const { return undo_; }

  /// Makes `next` the settings as one undoable step. `field` names what was edited (edits of the
  /// same field in a row merge); a step that changes nothing is not recorded.
  void edit(const TuningConfig& next, int field);
  /// Back to TuningConfig::defaults(), undoable.
  void resetToDefaults();
  /// Replaces the settings and clears the history (e.g. a configuration loaded from a workspace).
  void load(const TuningConfig& config);

 signals:
  void configChanged();

 private:
  friend class SetTuningCommand;
  void apply(const TuningConfig& config);

  TuningConfig config_;
  QUndoStack* undo_;
};

}  // namespace stacklens::ui
