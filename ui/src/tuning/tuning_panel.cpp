#include "stacklens/ui/tuning/tuning_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>
#include <cmath>

#include "stacklens/ui/tuning/tuning_model.h"

namespace stacklens::ui {
namespace {

namespace detect = core::detect;

QString qs(std::string_view s) { return QString::fromLatin1(s.data(), static_cast<qsizetype>(s.size())); }

}  // namespace

TuningPanel::TuningPanel(TuningModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  setObjectName("tuningPanel");
  auto* content = new QWidget;
  auto* column = new QVBoxLayout(content);
  column->setContentsMargins(4, 4, 4, 4);
  auto group = [&](const QString& title) {
    auto* box = new QGroupBox(title);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setContentsMargins(6, 4, 6, 4);
    column->addWidget(box);
    return form;
  };
  using C = TuningConfig;

  QFormLayout* training = group(tr("Training"));
  // Ranges as the services' configuration accepts them (connect::serviceConfigKeys()).
  auto* minTraining = intEditor("minTrainingSamples", 10, 1000000);
  bind(minTraining, [=](const C& c) { minTraining->setValue(c.detection.minTrainingSamples); },
       [=](C& c) { c.detection.minTrainingSamples = minTraining->value(); });
  auto* history = intEditor("historyCapacity", 2, 100000);
  history->setSuffix(tr(" samples"));
  bind(history, [=](const C& c) { history->setValue(c.detection.historyCapacity); },
       [=](C& c) { c.detection.historyCapacity = history->value(); });
  auto* retrain = intEditor("retrainEvery", 1, 10000000);
  retrain->setSuffix(tr(" samples"));
  bind(retrain, [=](const C& c) { retrain->setValue(c.detection.retrainEvery); },
       [=](C& c) { c.detection.retrainEvery = retrain->value(); });
  training->addRow(tr("Min. samples"), minTraining);
  training->addRow(tr("History kept"), history);
  training->addRow(tr("Retrain every"), retrain);

  QFormLayout* forest = group(tr("Isolation forest"));
  auto* contamination = doubleEditor("contamination", 0.0, 0.5, 0.01, 3, tr("auto"));
  bind(contamination, [=](const C& c) { contamination->setValue(c.detection.anomaly.forest.contamination.value_or(0.0)); },
       [=](C& c) {
         const double v = contamination->value();
         c.detection.anomaly.forest.contamination = v > 0 ? std::optional<double>(v) : std::nullopt;
       });
  auto* trees = intEditor("trees", 1, 1000);
  bind(trees, [=](const C& c) { trees->setValue(c.detection.anomaly.forest.trees); },
       [=](C& c) { c.detection.anomaly.forest.trees = trees->value(); });
  auto* sampleSize = intEditor("maxSamples", 0, 100000, tr("auto (min(256, n))"));
  bind(sampleSize, [=](const C& c) { sampleSize->setValue(std::max(0, c.detection.anomaly.forest.maxSamples)); },
       [=](C& c) { c.detection.anomaly.forest.maxSamples = sampleSize->value(); });
  forest->addRow(tr("Contamination"), contamination);
  forest->addRow(tr("Trees"), trees);
  forest->addRow(tr("Sample size"), sampleSize);

  QFormLayout* dbscan = group(tr("DBSCAN patterns"));
  auto* eps = doubleEditor("eps", 0.0, 100.0, 0.05, 3, tr("auto (k-distance knee)"));
  bind(eps, [=](const C& c) { eps->setValue(c.detection.patterns.eps.value_or(0.0)); },
       [=](C& c) {
         c.detection.patterns.eps = eps->value() > 0 ? std::optional<double>(eps->value()) : std::nullopt;
       });
  auto* minSamples = intEditor("minSamples", 1, 1000);
  bind(minSamples, [=](const C& c) { minSamples->setValue(c.detection.patterns.minSamples); },
       [=](C& c) { c.detection.patterns.minSamples = minSamples->value(); });
  dbscan->addRow(tr("eps"), eps);
  dbscan->addRow(tr("min_samples"), minSamples);

  QFormLayout* trend = group(tr("Trend and change points"));
  auto* window = intEditor("trendWindow", 3, 100000);
  bind(window, [=](const C& c) { window->setValue(c.detection.trendWindow); },
       [=](C& c) { c.detection.trendWindow = window->value(); });
  auto* degree = intEditor("trendDegree", 0, 5);
  bind(degree, [=](const C& c) { degree->setValue(c.detection.trends.trend.degree); },
       [=](C& c) { c.detection.trends.trend.degree = degree->value(); });
  auto* lag = intEditor("seasonalLag", 0, 10000, tr("auto (dominant period)"));
  bind(lag, [=](const C& c) { lag->setValue(std::max(0, c.detection.trends.seasonalLag)); },
       [=](C& c) { c.detection.trends.seasonalLag = lag->value(); });
  const QStringList methods{qs(detect::toString(detect::ChangePointMethod::kTwoWindow)),
                            qs(detect::toString(detect::ChangePointMethod::kCusum)),
                            qs(detect::toString(detect::ChangePointMethod::kBayesianOnline))};
  auto* method = choiceEditor("changePointMethod", methods);
  bind(method, [=](const C& c) { method->setCurrentText(qs(detect::toString(c.detection.trends.changePoints.method))); },
       [=](C& c) {
         c.detection.trends.changePoints.method =
             detect::changePointMethodFromString(method->currentText().toStdString()).value_or(detect::ChangePointMethod::kCusum);
       });
  auto* cpWindow = intEditor("changePointWindow", 3, 10000);
  bind(cpWindow, [=](const C& c) { cpWindow->setValue(c.detection.trends.changePoints.window); },
       [=](C& c) { c.detection.trends.changePoints.window = cpWindow->value(); });
  trend->addRow(tr("Trend window"), window);
  trend->addRow(tr("Degree"), degree);
  trend->addRow(tr("Seasonality lag"), lag);
  trend->addRow(tr("Change points"), method);
  trend->addRow(tr("Change-point window"), cpWindow);

  QFormLayout* consensus = group(tr("Consensus and severity"));
  const QStringList rules{qs(detect::toString(detect::ConsensusRule::kAny)),
                          qs(detect::toString(detect::ConsensusRule::kMajority)),
                          qs(detect::toString(detect::ConsensusRule::kUnanimous)),
                          qs(detect::toString(detect::ConsensusRule::kWeighted))};
  auto* rule = choiceEditor("consensusRule", rules);
  bind(rule, [=](const C& c) { rule->setCurrentText(qs(detect::toString(c.detection.consensus.rule))); },
       [=](C& c) {
         c.detection.consensus.rule =
             detect::consensusRuleFromString(rule->currentText().toStdString()).value_or(detect::ConsensusRule::kMajority);
       });
  consensus->addRow(tr("Rule"), rule);
  auto cutoff = [&](const char* name, const QString& label, double detect::SeverityCutoffs::*field) {
    auto* editor = doubleEditor(name, 0.0, 1.0, 0.01, 2);
    bind(editor, [=](const C& c) { editor->setValue(c.detection.consensus.severity.*field); },
         [=](C& c) { c.detection.consensus.severity.*field = editor->value(); });
    consensus->addRow(label, editor);
  };
  cutoff("severityMedium", tr("Medium from"), &detect::SeverityCutoffs::medium);
  cutoff("severityHigh", tr("High from"), &detect::SeverityCutoffs::high);
  cutoff("severityCritical", tr("Critical from"), &detect::SeverityCutoffs::critical);

  QFormLayout* forecast = group(tr("Forecasting"));
  auto* autoOrder = checkEditor("autoOrder", tr("automatic (AICc)"));
  bind(autoOrder, [=](const C& c) { autoOrder->setChecked(c.forecast.autoOrder); },
       [=](C& c) { c.forecast.autoOrder = autoOrder->isChecked(); });
  auto* orderRow0 = new QWidget;
  auto* orderLine = new QHBoxLayout(orderRow0);
  orderLine->setContentsMargins(0, 0, 0, 0);
  orderLine->addWidget(autoOrder, 1);
  auto* refit = new QPushButton(tr("Fit again"));
  refit->setObjectName("refitForecast");
  refit->setToolTip(
      tr("Fit the forecast models again (with automatic orders: a new order search). Settings changes "
         "keep the fitted models while the data and the order settings stay the same."));
  connect(refit, &QPushButton::clicked, this, &TuningPanel::refitRequested);
  orderLine->addWidget(refit);
  forecast->addRow(tr("Order"), orderRow0);
  auto orderRow = [&](const QString& label, std::initializer_list<std::pair<const char*, int ForecastSettings::*>> parts) {
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    for (const auto& [name, field] : parts) {
      auto* editor = intEditor(name, 0, 5);
      const auto member = field;
      bind(editor, [=](const C& c) {
             editor->setValue(c.forecast.*member);
             editor->setEnabled(!c.forecast.autoOrder);
           },
           [=](C& c) { c.forecast.*member = editor->value(); });
      h->addWidget(editor);
    }
    forecast->addRow(label, row);
  };
  orderRow(tr("p, d, q"), {{"orderP", &ForecastSettings::p}, {"orderD", &ForecastSettings::d}, {"orderQ", &ForecastSettings::q}});
  orderRow(tr("P, D, Q"), {{"orderSeasonalP", &ForecastSettings::seasonalP},
                           {"orderSeasonalD", &ForecastSettings::seasonalD},
                           {"orderSeasonalQ", &ForecastSettings::seasonalQ}});
  auto* period = intEditor("period", 1, 1000, tr("none"));
  bind(period, [=](const C& c) { period->setValue(std::max(1, c.forecast.period)); },
       [=](C& c) { c.forecast.period = period->value(); });
  forecast->addRow(tr("Season s"), period);
  auto* horizon = intEditor("horizon", 1, 24 * 90);
  horizon->setSuffix(tr(" h"));
  bind(horizon, [=](const C& c) { horizon->setValue(c.forecast.horizon); }, [=](C& c) { c.forecast.horizon = horizon->value(); });
  forecast->addRow(tr("Horizon"), horizon);
  auto* level = doubleEditor("level", 50.0, 99.9, 1.0, 1);
  level->setSuffix(QStringLiteral(" %"));
  bind(level, [=](const C& c) { level->setValue(c.forecast.level); }, [=](C& c) { c.forecast.level = level->value(); });
  forecast->addRow(tr("Interval level"), level);

  limitMetric_ = new QComboBox;
  limitMetric_->setObjectName("limitMetric");
  forecast->addRow(tr("Limits for"), limitMetric_);
  auto limit = [&](const char* name, const QString& label, std::map<std::string, double> ForecastSettings::*field) {
    auto* editor = doubleEditor(name, -1.0, 1e12, 1.0, 3, tr("none"));
    bind(editor, [this, editor, field](const C& c) {
           const auto& map = c.forecast.*field;
           const auto it = map.find(limitMetric().toStdString());
           editor->setValue(it == map.end() ? -1.0 : it->second);
         },
         [this, editor, field](C& c) {
           auto& map = c.forecast.*field;
           const std::string metric = limitMetric().toStdString();
           if (metric.empty()) return;
           if (editor->value() < 0) {
             map.erase(metric);
           } else {
             map[metric] = editor->value();
           }
         });
    forecast->addRow(label, editor);
  };
  limit("threshold", tr("Threshold"), &ForecastSettings::thresholds);
  limit("capacity", tr("Capacity"), &ForecastSettings::capacity);
  connect(limitMetric_, &QComboBox::currentIndexChanged, this, &TuningPanel::showConfig);

  auto* buttons = new QHBoxLayout;
  // Short button texts; what would be undone or redone is in the tooltip (it can be long).
  auto stackButton = [this](const QString& text, QAction* action) {
    auto* button = new QToolButton;
    button->setText(text);
    button->setEnabled(action->isEnabled());
    button->setToolTip(action->text());
    connect(action, &QAction::changed, button, [button, action] {
      button->setEnabled(action->isEnabled());
      button->setToolTip(action->text());
    });
    connect(button, &QToolButton::clicked, action, &QAction::trigger);
    return button;
  };
  auto* undo = stackButton(tr("Undo"), model_->undoStack()->createUndoAction(this, tr("Undo")));
  auto* redo = stackButton(tr("Redo"), model_->undoStack()->createRedoAction(this, tr("Redo")));
  auto* reset = new QPushButton(tr("Defaults"));
  reset->setObjectName("resetDefaults");
  connect(reset, &QPushButton::clicked, model_, &TuningModel::resetToDefaults);
  buttons->addWidget(undo);
  buttons->addWidget(redo);
  buttons->addStretch(1);
  buttons->addWidget(reset);
  column->addLayout(buttons);
  status_ = new QLabel;
  status_->setObjectName("tuningStatus");
  status_->setWordWrap(true);
  column->addWidget(status_);
  column->addStretch(1);

  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setWidget(content);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(scroll);

  connect(model_, &TuningModel::configChanged, this, &TuningPanel::showConfig);
  setMetrics({});
  showConfig();
}

QSpinBox* TuningPanel::intEditor(const QString& name, int min, int max, const QString& special) {
  auto* editor = new QSpinBox;
  editor->setObjectName(name);
  editor->setRange(min, max);
  editor->setKeyboardTracking(false);  // typed numbers apply on Enter or focus out, not per digit
  if (!special.isEmpty()) editor->setSpecialValueText(special);
  connect(editor, &QSpinBox::valueChanged, this, [this, n = static_cast<int>(bindings_.size())] { edited(n); });
  return editor;
}

QDoubleSpinBox* TuningPanel::doubleEditor(const QString& name, double min, double max, double step, int decimals,
                                          const QString& special) {
  auto* editor = new QDoubleSpinBox;
  editor->setObjectName(name);
  editor->setDecimals(decimals);
  editor->setRange(min, max);
  editor->setSingleStep(step);
  editor->setKeyboardTracking(false);
  if (!special.isEmpty()) editor->setSpecialValueText(special);
  connect(editor, &QDoubleSpinBox::valueChanged, this, [this, n = static_cast<int>(bindings_.size())] { edited(n); });
  return editor;
}

QComboBox* TuningPanel::choiceEditor(const QString& name, const QStringList& items) {
  auto* editor = new QComboBox;
  editor->setObjectName(name);
  editor->addItems(items);
  connect(editor, &QComboBox::currentIndexChanged, this, [this, n = static_cast<int>(bindings_.size())] { edited(n); });
  return editor;
}

QCheckBox* TuningPanel::checkEditor(const QString& name, const QString& text) {
  auto* editor = new QCheckBox(text);
  editor->setObjectName(name);
  connect(editor, &QCheckBox::toggled, this, [this, n = static_cast<int>(bindings_.size())] { edited(n); });
  return editor;
}

void TuningPanel::bind(QWidget* widget, std::function<void(const TuningConfig&)> load,
                       std::function<void(TuningConfig&)> store) {
  // Editors are created right before they are bound, so their index is the binding's.
  bindings_.push_back({widget, std::move(load), std::move(store)});
}

void TuningPanel::edited(int field) {
  if (field < 0 || field >= static_cast<int>(bindings_.size())) return;
  TuningConfig next = model_->config();
  bindings_[static_cast<std::size_t>(field)].store(next);
  model_->edit(next, field);
}

void TuningPanel::showConfig() {
  const TuningConfig& config = model_->config();
  for (const Binding& b : bindings_) {
    const QSignalBlocker block(b.widget);
    b.load(config);
  }
}

QString TuningPanel::limitMetric() const { return limitMetric_ ? limitMetric_->currentText() : QString(); }

void TuningPanel::setMetrics(const QStringList& metrics) {
  const QString keep = limitMetric();
  {
    const QSignalBlocker block(limitMetric_);
    limitMetric_->clear();
    QStringList all = metrics;
    if (all.isEmpty())
      for (std::string_view f : core::kFeatureNames) all << qs(f);
    limitMetric_->addItems(all);
    if (all.contains(keep)) limitMetric_->setCurrentText(keep);
  }
  showConfig();
}

void TuningPanel::setStatus(const QString& text) { status_->setText(text); }

QWidget* TuningPanel::editor(const QString& objectName) const { return findChild<QWidget*>(objectName); }

}  // namespace stacklens::ui
