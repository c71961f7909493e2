#pragma once
// The backtest panel: pick services, a time range and one or two configurations (the tuning
// panel's current settings or ones kept in the workspace), replay the range through the
// production pipeline (core::backtest) in the background with progress and cancel, and compare A
// and B side by side: anomalies and anomalies per day, precision, recall, F1 and the NAB score
// against the labelled incidents, and (unless switched off) the forecasts' sMAPE, MASE and
// interval coverage and the predictive alerts' materialization rate (core::backtest::
// forecast_replay.h), per service and per day. Every finished run is kept in the workspace.

#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

#include "stacklens/ui/backtest/backtest_report.h"
#include "stacklens/ui/tuning/tuning_config.h"

class QTableWidget;

namespace Ui {
class BacktestPanel;
}

namespace stacklens::ui {

class BacktestRunner;
class DailyCountsChart;
class Workspace;

class BacktestPanel : public QWidget {
  Q_OBJECT
 public:
  explicit BacktestPanel(QWidget* parent = nullptr);
  ~BacktestPanel() override;

  /// The workspace to backtest (nullptr: none). Refreshes services, range, configurations and
  /// kept results.
  void setWorkspace(Workspace* workspace);
  /// Where "current settings" come from (the tuning panel).
  void setCurrentSettings(std::function<TuningConfig()> current) { current_ = std::move(current); }

  /// Starts the backtest with what the form says; false (with a message) when it cannot.
  bool run();
  void cancel();
  bool running() const;
  BacktestRunner* runner() const { return runner_; }

  // The form, for tests and for session restore.
  void selectServices(const QStringList& names);
  QStringList selectedServices() const;
  void setRange(core::EpochSeconds from, core::EpochSeconds to);
  /// "current", a kept configuration's name, or "" (B only: none).
  void setConfigurations(const QString& a, const QString& b);
  /// Whether the run also replays and scores forecasts and predictive alerts (on by default).
  void setScoreForecasts(bool on);
  bool scoreForecasts() const;
  /// Keeps the current settings in the workspace under `name` and offers them as A/B.
  bool saveCurrentSettingsAs(const QString& name);

  const std::optional<BacktestRecord>& shownRecord() const { return shown_; }
  QTableWidget* summaryTable() const;
  QTableWidget* servicesTable() const;
  QString status() const;

 signals:
  void started();
  /// A run ended (kept in the workspace unless cancelled).
  void finished(bool cancelled);
  void progressChanged(double fraction, const QString& text);
  void errorOccurred(const QString& message);

 private:
  struct Job;
  void refreshConfigurations();
  void refreshHistory();
  std::optional<TuningConfig> configFor(const QString& key, std::string* toml, QString* label);
  void startNext();
  void stepFinished();
  void show(const BacktestRecord& record);
  void showKept(int id);
  void clearResults();
  void setRunning(bool running);

  std::unique_ptr<Ui::BacktestPanel> ui_;
  DailyCountsChart* daily_;
  BacktestRunner* runner_;
  Workspace* workspace_ = nullptr;
  std::function<TuningConfig()> current_;
  std::unique_ptr<Job> job_;
  std::optional<BacktestRecord> shown_;
};

}  // namespace stacklens::ui
