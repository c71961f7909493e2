#pragma once
// What the status bar says is running: named activities ("detection on api", "backtest 3/20"),
// joined into one line, plus an optional progress bar for the longest one.

#include <QObject>
#include <QString>
#include <map>

class QLabel;
class QProgressBar;
class QStatusBar;

namespace stacklens::ui {

class StatusActivity : public QObject {
  Q_OBJECT
 public:
  /// Adds a label and a progress bar to `bar` as permanent widgets.
  explicit StatusActivity(QStatusBar* bar);

  /// Starts or updates an activity. progress in [0,1], or < 0 for none.
  void set(const QString& key, const QString& text, double progress = -1);
  void finish(const QString& key, const QString& doneMessage = {});
  /// "Running: detection on api · backtest 40 %", or "Ready".
  QString text() const;
  bool busy() const { return !activities_.empty(); }

 signals:
  void changed(const QString& text);

 private:
  void refresh();
  struct Activity {
    QString text;
    double progress = -1;
  };
  std::map<QString, Activity> activities_;
  QStatusBar* bar_;
  QLabel* label_;
  QProgressBar* progress_;
};

}  // namespace stacklens::ui
