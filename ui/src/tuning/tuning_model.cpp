#include "stacklens/ui/tuning/tuning_model.h"

#include <QUndoCommand>
#include <QUndoStack>

namespace stacklens::ui {

class SetTuningCommand : public QUndoCommand {
 public:
  SetTuningCommand(TuningModel* model, TuningConfig before, TuningConfig after, int field)
      : model_(model), before_(std::move(before)), after_(std::move(after)), field_(field) {
    updateText();
  }
  void undo() override { model_->apply(before_); }
  void redo() override { model_->apply(after_); }
  int id() const override { return field_ >= 0 ? 1000 + field_ : -1; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* next = static_cast<const SetTuningCommand*>(other);
    if (next->field_ != field_) return false;
    after_ = next->after_;
    updateText();
    if (describeChanges(before_, after_).empty()) setObsolete(true);  // back where it started
    return true;
  }

 private:
  void updateText() {
    const auto changes = describeChanges(before_, after_);
    QString text = changes.empty() ? QObject::tr("no change") : QString::fromStdString(changes.front());
    if (changes.size() > 1) text += QObject::tr(" (and %1 more)").arg(changes.size() - 1);
    setText(text);
  }
  TuningModel* model_;
  TuningConfig before_, after_;
  int field_;
};

TuningModel::TuningModel(QObject* parent)
    : QObject(parent), config_(TuningConfig::defaults()), undo_(new QUndoStack(this)) {}

void TuningModel::edit(const TuningConfig& next, int field) {
  if (describeChanges(config_, next).empty()) return;
  undo_->push(new SetTuningCommand(this, config_, next, field));
}

void TuningModel::resetToDefaults() { edit(TuningConfig::defaults(), -1); }

void TuningModel::load(const TuningConfig& config) {
  undo_->clear();
  apply(config);
}

void TuningModel::apply(const TuningConfig& config) {
  config_ = config;
  emit configChanged();
}

}  // namespace stacklens::ui
