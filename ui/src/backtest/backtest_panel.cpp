#include "stacklens/ui/backtest/backtest_panel.h"

#include <cmath>

#include <QDateTime>
#include <QHeaderView>
#include <QInputDialog>
#include <QListWidget>
#include <QTableWidget>

#include "stacklens/ui/backtest/backtest_runner.h"
#include "stacklens/ui/tuning/tuning_config.h"
#include "stacklens/ui/tuning/tuning_job.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/connected/false_positive_labels.h"
#include "stacklens/ui/workspace/workspace.h"

#include "daily_counts_chart.h"
#include "ui_backtest_panel.h"

namespace stacklens::ui {
namespace {

const QString kCurrent = QStringLiteral("current");

QString percent(double v) { return std::isfinite(v) ? QString::number(100 * v, 'f', 1) + QStringLiteral(" %") : "–"; }
QString plain(double v, int decimals = 0) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : "–"; }

// One row of the A-vs-B table: how to read the value, how to print it, and which way is better.
enum class Better { kHigher, kLower, kNeither };
struct Row {
  const char* name;
  std::function<double(const BacktestSummary&)> value;
  std::function<QString(double)> format;
  Better better;
};

std::vector<Row> summaryRows() {
  using S = BacktestSummary;
  auto count = [](int s) { return [s](const S& x) { return double(x.bySeverity[static_cast<std::size_t>(s)]); }; };
  auto integer = [](double v) { return plain(v); };
  auto decimals = [](int d) { return [d](double v) { return plain(v, d); }; };
  return {
      {"Anomalies", [](const S& x) { return double(x.detection.anomalies); }, integer, Better::kLower},
      {"Anomalies per day", [](const S& x) { return x.anomaliesPerDay; }, decimals(1), Better::kLower},
      {"  critical", count(3), integer, Better::kLower},
      {"  high", count(2), integer, Better::kLower},
      {"  medium", count(1), integer, Better::kLower},
      {"  low", count(0), integer, Better::kLower},
      {"Labelled incidents", [](const S& x) { return double(x.detection.windows); }, integer, Better::kNeither},
      {"Incidents detected", [](const S& x) { return double(x.detection.detectedWindows); }, integer, Better::kHigher},
      {"Known false positives", [](const S& x) { return double(x.detection.knownFalsePositives); }, integer,
       Better::kNeither},
      {"  flagged again", [](const S& x) { return double(x.detection.repeatedFalsePositives); }, integer,
       Better::kLower},
      {"Precision", [](const S& x) { return x.detection.precision; }, percent, Better::kHigher},
      {"Recall", [](const S& x) { return x.detection.recall; }, percent, Better::kHigher},
      {"F1", [](const S& x) { return x.detection.f1; }, percent, Better::kHigher},
      {"NAB score (standard)", [](const S& x) { return x.nabScore; }, decimals(1), Better::kHigher},
      {"Forecasts scored", [](const S& x) { return double(x.forecast.forecasts); }, integer, Better::kNeither},
      {"Forecast sMAPE (%)", [](const S& x) { return x.forecast.smape(); }, decimals(2), Better::kLower},
      {"Forecast MASE", [](const S& x) { return x.forecast.mase(); }, decimals(3), Better::kLower},
      // Coverage should be near the interval level: neither more nor less is simply better.
      {"Interval coverage", [](const S& x) { return x.forecast.coverage(); }, percent, Better::kNeither},
      {"Predictive alerts", [](const S& x) { return double(x.forecast.alerts); }, integer, Better::kNeither},
      {"Alerts materialized", [](const S& x) { return x.forecast.materializationRate(); }, percent, Better::kHigher},
      {"Run time (s)", [](const S& x) { return x.seconds; }, decimals(2), Better::kNeither},
  };
}

}  // namespace

struct BacktestPanel::Job {
  struct Step {
    QString label;
    std::string toml;
    TuningConfig config;
  };
  std::vector<core::backtest::ServiceHistory> services;
  std::vector<Step> steps;
  std::size_t step = 0;
  BacktestRecord record;
  core::EpochSeconds from = 0, to = 0;
};

BacktestPanel::BacktestPanel(QWidget* parent)
    : QWidget(parent), ui_(std::make_unique<Ui::BacktestPanel>()), daily_(new DailyCountsChart), runner_(new BacktestRunner(this)) {
  ui_->setupUi(this);
  setObjectName("backtestPanel");
  ui_->dailyTab->layout()->addWidget(daily_);
  for (QTableWidget* table : {ui_->summaryTable, ui_->servicesTable}) {
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->verticalHeader()->setDefaultSectionSize(22);
    table->setAlternatingRowColors(true);
  }
  ui_->summaryTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  ui_->summaryTable->verticalHeader()->hide();
  ui_->servicesTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  ui_->servicesTable->setSortingEnabled(true);

  connect(ui_->runButton, &QPushButton::clicked, this, &BacktestPanel::run);
  connect(ui_->cancelButton, &QPushButton::clicked, this, &BacktestPanel::cancel);
  connect(ui_->selectAll, &QPushButton::clicked, this, [this] {
    for (int i = 0; i < ui_->serviceList->count(); ++i) ui_->serviceList->item(i)->setCheckState(Qt::Checked);
  });
  connect(ui_->selectNone, &QPushButton::clicked, this, [this] {
    for (int i = 0; i < ui_->serviceList->count(); ++i) ui_->serviceList->item(i)->setCheckState(Qt::Unchecked);
  });
  connect(ui_->saveConfigButton, &QPushButton::clicked, this, [this] {
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Save settings"), tr("Name for the current settings:"),
                                               QLineEdit::Normal, QString(), &ok);
    if (ok && !name.trimmed().isEmpty()) saveCurrentSettingsAs(name.trimmed());
  });
  connect(ui_->historyCombo, &QComboBox::currentIndexChanged, this, [this](int index) {
    if (workspace_ && index >= 0) showKept(ui_->historyCombo->itemData(index).toInt());
  });
  connect(runner_, &BacktestRunner::progress, this, [this](double f) {
    if (!job_) return;
    const double total = (static_cast<double>(job_->step) + f) / static_cast<double>(job_->steps.size());
    ui_->progress->setValue(qRound(total * 1000));
    const QString text = tr("backtest %1").arg(job_->steps[job_->step].label);
    emit progressChanged(total, text);
  });
  connect(runner_, &BacktestRunner::finished, this, &BacktestPanel::stepFinished);
  connect(runner_, &BacktestRunner::failed, this, [this](const QString& message) {
    job_.reset();
    setRunning(false);
    ui_->statusLabel->setText(tr("Failed: %1").arg(message));
    emit errorOccurred(message);
    emit finished(true);
  });
  setWorkspace(nullptr);
}

BacktestPanel::~BacktestPanel() = default;

QTableWidget* BacktestPanel::summaryTable() const { return ui_->summaryTable; }
QTableWidget* BacktestPanel::servicesTable() const { return ui_->servicesTable; }
QString BacktestPanel::status() const { return ui_->statusLabel->text(); }
bool BacktestPanel::running() const { return job_ != nullptr; }

void BacktestPanel::setWorkspace(Workspace* workspace) {
  if (job_ && workspace != workspace_) {  // a run over another workspace's data: drop it
    runner_->cancel();
    job_.reset();
    setRunning(false);
  }
  workspace_ = workspace;
  ui_->serviceList->clear();
  core::EpochSeconds first = 0, last = 0;
  int startup = TuningConfig::defaults().detection.historyCapacity;
  if (current_) startup = current_().detection.historyCapacity;
  if (workspace_) {
    bool any = false;
    for (const ServiceSummary& s : workspace_->services()) {
      auto* item = new QListWidgetItem(QString::fromStdString(s.name), ui_->serviceList);
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(Qt::Checked);
      first = any ? std::min(first, s.first) : s.first;
      last = any ? std::max(last, s.last) : s.last;
      any = true;
    }
  }
  // By default the first week (the start-up history) trains and the rest is replayed.
  setRange(std::min(last, first + static_cast<core::EpochSeconds>(startup) * 3600), last);
  ui_->setupGroup->setEnabled(workspace_ != nullptr);
  refreshConfigurations();
  refreshHistory();
  shown_.reset();
  clearResults();
  // The newest kept result, as it was left.
  if (workspace_ && ui_->historyCombo->count() > 0) showKept(ui_->historyCombo->itemData(0).toInt());
}

void BacktestPanel::clearResults() {
  ui_->summaryTable->clear();
  ui_->summaryTable->setRowCount(0);
  ui_->summaryTable->setColumnCount(0);
  ui_->servicesTable->clear();
  ui_->servicesTable->setRowCount(0);
  ui_->servicesTable->setColumnCount(0);
  daily_->setDays({}, {}, QString(), QString());
}

void BacktestPanel::showKept(int id) {
  for (const StoredBacktest& b : workspace_->backtests()) {
    if (b.id != id) continue;
    try {
      show(backtestRecordFromJson(b.resultJson));
    } catch (const std::exception& e) {
      emit errorOccurred(QString::fromStdString(e.what()));
    }
  }
}

void BacktestPanel::refreshConfigurations() {
  for (QComboBox* combo : {ui_->configA, ui_->configB}) {
    const QVariant keep = combo->currentData();
    const QSignalBlocker block(combo);
    combo->clear();
    if (combo == ui_->configB) combo->addItem(tr("(none)"), QString());
    combo->addItem(tr("Current settings"), kCurrent);
    if (workspace_)
      for (const std::string& name : workspace_->configurationNames())
        if (name != "demo") combo->addItem(QString::fromStdString(name), QString::fromStdString(name));
    const int index = combo->findData(keep);
    combo->setCurrentIndex(index >= 0 ? index : 0);
  }
}

void BacktestPanel::refreshHistory() {
  const QSignalBlocker block(ui_->historyCombo);
  ui_->historyCombo->clear();
  if (!workspace_) return;
  const auto kept = workspace_->backtests();
  for (auto it = kept.rbegin(); it != kept.rend(); ++it)
    ui_->historyCombo->addItem(QStringLiteral("%1  (%2)").arg(QString::fromStdString(it->name),
                                                              QDateTime::fromSecsSinceEpoch(it->createdAt).toString(
                                                                  QStringLiteral("yyyy-MM-dd HH:mm"))),
                               it->id);
}

void BacktestPanel::selectServices(const QStringList& names) {
  for (int i = 0; i < ui_->serviceList->count(); ++i)
    ui_->serviceList->item(i)->setCheckState(names.contains(ui_->serviceList->item(i)->text()) ? Qt::Checked
                                                                                                 : Qt::Unchecked);
}

QStringList BacktestPanel::selectedServices() const {
  QStringList out;
  for (int i = 0; i < ui_->serviceList->count(); ++i)
    if (ui_->serviceList->item(i)->checkState() == Qt::Checked) out << ui_->serviceList->item(i)->text();
  return out;
}

void BacktestPanel::setRange(core::EpochSeconds from, core::EpochSeconds to) {
  ui_->fromEdit->setDateTime(QDateTime::fromSecsSinceEpoch(from, Qt::UTC));
  ui_->toEdit->setDateTime(QDateTime::fromSecsSinceEpoch(to, Qt::UTC));
}

void BacktestPanel::setConfigurations(const QString& a, const QString& b) {
  ui_->configA->setCurrentIndex(std::max(0, ui_->configA->findData(a)));
  ui_->configB->setCurrentIndex(std::max(0, ui_->configB->findData(b)));
}

void BacktestPanel::setScoreForecasts(bool on) {
  ui_->forecastCheck->setChecked(on);
}
bool BacktestPanel::scoreForecasts() const {
  return ui_->forecastCheck->isChecked();
}

bool BacktestPanel::saveCurrentSettingsAs(const QString& name) {
  if (!workspace_ || !current_) return false;
  try {
    workspace_->saveConfiguration(name.toStdString(), tuningToToml(current_()));
  } catch (const std::exception& e) {
    emit errorOccurred(QString::fromStdString(e.what()));
    return false;
  }
  refreshConfigurations();
  ui_->statusLabel->setText(tr("Saved the current settings as '%1'.").arg(name));
  return true;
}

std::optional<TuningConfig> BacktestPanel::configFor(const QString& key, std::string* toml, QString* label) {
  if (key == kCurrent) {
    const TuningConfig c = current_ ? current_() : TuningConfig::defaults();
    *toml = tuningToToml(c);
    *label = tr("current settings");
    return c;
  }
  const auto text = workspace_ ? workspace_->configuration(key.toStdString()) : std::nullopt;
  if (!text) return std::nullopt;
  *toml = *text;
  *label = key;
  return tuningFromToml(*text, key.toStdString());
}

bool BacktestPanel::run() {
  if (!workspace_ || job_) return false;
  auto refuse = [this](const QString& why) {
    ui_->statusLabel->setText(why);
    emit errorOccurred(why);
    return false;
  };
  const QStringList services = selectedServices();
  if (services.isEmpty()) return refuse(tr("Pick at least one service."));
  auto job = std::make_unique<Job>();
  job->from = ui_->fromEdit->dateTime().toSecsSinceEpoch();
  job->to = ui_->toEdit->dateTime().toSecsSinceEpoch();
  if (job->to <= job->from) return refuse(tr("The range is empty: 'To' must be after 'From'."));
  try {
    for (const QString& key : {ui_->configA->currentData().toString(), ui_->configB->currentData().toString()}) {
      if (key.isEmpty()) continue;
      Job::Step step;
      QString label;
      const auto config = configFor(key, &step.toml, &label);
      if (!config) return refuse(tr("No configuration '%1' in the workspace.").arg(key));
      step.config = *config;
      step.label = (job->steps.empty() ? QStringLiteral("A: ") : QStringLiteral("B: ")) + label;
      job->steps.push_back(std::move(step));
    }
    for (const QString& name : services) {
      core::backtest::ServiceHistory history = toServiceHistory(workspace_->loadService(name.toStdString()));
      // False positives triaged in production (Production dock) are labels too.
      for (const FalsePositiveLabel& label : FalsePositiveLabels::load(workspace_->path(), name))
        history.falsePositives.push_back(label.timestamp.toSecsSinceEpoch());
      job->services.push_back(std::move(history));
    }
  } catch (const std::exception& e) {
    return refuse(QString::fromStdString(e.what()));
  }
  job->record.name = (job->steps.size() > 1 ? job->steps[0].label + QStringLiteral(" vs ") + job->steps[1].label.mid(3)
                                            : job->steps[0].label)
                         .toStdString();
  job->record.from = job->from;
  job->record.to = job->to;
  for (const QString& name : services) job->record.services.push_back(name.toStdString());
  job_ = std::move(job);
  setRunning(true);
  ui_->progress->setValue(0);
  ui_->statusLabel->setText(tr("Replaying %n service(s)…", nullptr, static_cast<int>(services.size())));
  emit started();
  startNext();
  return true;
}

void BacktestPanel::startNext() {
  const Job::Step& step = job_->steps[job_->step];
  core::backtest::BacktestConfig config;
  config.pipeline = step.config.detection;
  config.from = job_->from;
  config.to = job_->to;
  if (ui_->forecastCheck->isChecked()) config.forecast = forecastConfig(step.config.forecast);
  runner_->start(job_->services, config);
}

void BacktestPanel::stepFinished() {
  if (!job_) return;
  const core::backtest::BacktestResult& result = runner_->result();
  const Job::Step& step = job_->steps[job_->step];
  BacktestSummary summary =
      summarize(result, step.label.toStdString(), step.toml, runner_->seconds(), step.config.forecast.level);
  if (job_->step == 0) {
    job_->record.a = std::move(summary);
  } else {
    job_->record.b = std::move(summary);
  }
  if (result.cancelled) {
    job_.reset();
    setRunning(false);
    ui_->statusLabel->setText(tr("Cancelled: nothing was kept."));
    emit finished(true);
    return;
  }
  if (++job_->step < job_->steps.size()) return startNext();
  const BacktestRecord record = job_->record;
  job_.reset();
  setRunning(false);
  ui_->progress->setValue(1000);
  try {
    workspace_->saveBacktest(record.name, toJson(record));
  } catch (const std::exception& e) {
    emit errorOccurred(QString::fromStdString(e.what()));
  }
  refreshHistory();
  show(record);
  ui_->statusLabel->setText(tr("Done in %1 s; kept in the workspace as '%2'.")
                                .arg(record.a.seconds + (record.b ? record.b->seconds : 0.0), 0, 'f', 1)
                                .arg(QString::fromStdString(record.name)));
  emit finished(false);
}

void BacktestPanel::cancel() {
  if (job_) runner_->cancel();
}

void BacktestPanel::setRunning(bool running) {
  ui_->runButton->setEnabled(!running);
  ui_->cancelButton->setEnabled(running);
}

void BacktestPanel::show(const BacktestRecord& record) {
  shown_ = record;
  const bool two = record.b.has_value();
  const std::vector<Row> rows = summaryRows();
  QTableWidget* t = ui_->summaryTable;
  t->clear();
  t->setRowCount(static_cast<int>(rows.size()));
  t->setColumnCount(two ? 4 : 2);
  QStringList headers{tr("Measure"), QString::fromStdString(record.a.label)};
  if (two) headers << QString::fromStdString(record.b->label) << tr("B − A");
  t->setHorizontalHeaderLabels(headers);
  t->verticalHeader()->hide();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int row = static_cast<int>(r);
    t->setItem(row, 0, new QTableWidgetItem(tr(rows[r].name)));
    const double a = rows[r].value(record.a);
    t->setItem(row, 1, new QTableWidgetItem(rows[r].format(a)));
    if (!two) continue;
    const double b = rows[r].value(*record.b);
    t->setItem(row, 2, new QTableWidgetItem(rows[r].format(b)));
    auto* delta = new QTableWidgetItem(std::isfinite(a) && std::isfinite(b)
                                           ? (b - a >= 0 ? QStringLiteral("+") : QString()) + rows[r].format(b - a)
                                           : QStringLiteral("–"));
    if (std::isfinite(a) && std::isfinite(b) && std::abs(b - a) > 1e-12 && rows[r].better != Better::kNeither)
      delta->setForeground(((b > a) == (rows[r].better == Better::kHigher)) ? QColor(0x2e, 0x9e, 0x4f)
                                                                            : QColor(0xd7, 0x26, 0x3d));
    t->setItem(row, 3, delta);
  }

  QTableWidget* s = ui_->servicesTable;
  s->setSortingEnabled(false);
  s->clear();
  QStringList columns{tr("Service"), tr("A precision"),          tr("A recall"), tr("A F1"), tr("A anomalies"),
                      tr("A sMAPE"), tr("A alerts materialized")};
  if (two)
    columns << tr("B precision") << tr("B recall") << tr("B F1") << tr("B anomalies") << tr("B sMAPE")
            << tr("B alerts materialized");
  s->setColumnCount(static_cast<int>(columns.size()));
  s->setHorizontalHeaderLabels(columns);
  s->setRowCount(static_cast<int>(record.a.services.size()));
  auto number = [](double v, bool pct) {
    auto* item = new QTableWidgetItem;
    if (std::isfinite(v)) item->setData(Qt::DisplayRole, pct ? QVariant(std::round(1000 * v) / 10) : QVariant(v));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
  };
  auto fill = [&](int row, int column, const BacktestSummary::Service& svc) {
    s->setItem(row, column, number(svc.detection.precision, true));
    s->setItem(row, column + 1, number(svc.detection.recall, true));
    s->setItem(row, column + 2, number(svc.detection.f1, true));
    s->setItem(row, column + 3, number(svc.detection.anomalies, false));
    s->setItem(row, column + 4, number(std::round(100 * svc.forecast.smape()) / 100, false));
    s->setItem(row, column + 5, number(svc.forecast.materializationRate(), true));
  };
  for (std::size_t i = 0; i < record.a.services.size(); ++i) {
    const int row = static_cast<int>(i);
    s->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(record.a.services[i].name)));
    fill(row, 1, record.a.services[i]);
    if (two && i < record.b->services.size()) fill(row, 7, record.b->services[i]);
  }
  s->setSortingEnabled(true);
  daily_->setDays(record.a.perDay, two ? record.b->perDay : DailyCountsChart::Days{}, QString::fromStdString(record.a.label),
                  two ? QString::fromStdString(record.b->label) : QString());
}

}  // namespace stacklens::ui
