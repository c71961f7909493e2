#include "stacklens/ui/status_activity.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>

namespace stacklens::ui {

StatusActivity::StatusActivity(QStatusBar* bar) : QObject(bar), bar_(bar), label_(new QLabel), progress_(new QProgressBar) {
  label_->setObjectName("activityLabel");
  progress_->setObjectName("activityProgress");
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(180);
  progress_->setTextVisible(false);
  progress_->hide();
  bar_->addPermanentWidget(label_);
  bar_->addPermanentWidget(progress_);
  refresh();
}

void StatusActivity::set(const QString& key, const QString& text, double progress) {
  activities_[key] = {text, progress};
  refresh();
}

void StatusActivity::finish(const QString& key, const QString& doneMessage) {
  activities_.erase(key);
  refresh();
  if (!doneMessage.isEmpty()) bar_->showMessage(doneMessage, 8000);
}

QString StatusActivity::text() const {
  if (activities_.empty()) return tr("Ready");
  QStringList parts;
  for (const auto& [key, a] : activities_)
    parts << (a.progress >= 0 ? QStringLiteral("%1 %2 %").arg(a.text).arg(qRound(a.progress * 100)) : a.text);
  return tr("Running: %1").arg(parts.join(QStringLiteral(" · ")));
}

void StatusActivity::refresh() {
  label_->setText(text());
  double progress = -1;
  for (const auto& [key, a] : activities_) progress = std::max(progress, a.progress);
  progress_->setVisible(progress >= 0);
  if (progress >= 0) progress_->setValue(qRound(progress * 1000));
  emit changed(text());
}

}  // namespace stacklens::ui
