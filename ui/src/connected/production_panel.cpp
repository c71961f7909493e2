#include "stacklens/ui/connected/production_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSqlDatabase>
#include <QTableView>
#include <QVBoxLayout>

#include "stacklens/ui/connected/production_table_model.h"

namespace stacklens::ui {

namespace {

struct TimeRange {
  const char* label;
  qint64 seconds;  ///< 0: any time
};
constexpr TimeRange kTimeRanges[] = {
    {"Any time", 0}, {"Last hour", 3600}, {"Last 24 hours", 86400}, {"Last 7 days", 7 * 86400}, {"Last 30 days", 30 * 86400},
};

}  // namespace

ProductionPanel::ProductionPanel(QWidget* parent) : QWidget(parent), model_(new ProductionTableModel(this)) {
  setObjectName("productionPanel");
  source_ = new QComboBox;
  for (const BrowseSource& s : browseSources()) source_->addItem(s.title, s.relation);
  service_ = new QLineEdit;
  service_->setPlaceholderText(tr("service"));
  severity_ = new QComboBox;
  severity_->addItem(tr("Any severity"), QString());
  for (const char* s : {"critical", "high", "medium", "low"}) severity_->addItem(s, QString::fromLatin1(s));
  type_ = new QLineEdit;
  type_->setPlaceholderText(tr("type"));
  time_ = new QComboBox;
  for (const TimeRange& r : kTimeRanges) time_->addItem(tr(r.label), r.seconds);
  resolved_ = new QComboBox;
  resolved_->addItem(tr("Open and resolved"), QVariant());
  resolved_->addItem(tr("Open"), false);
  resolved_->addItem(tr("Resolved"), true);
  table_ = new QTableView;
  table_->setModel(model_);
  table_->setSortingEnabled(true);
  table_->horizontalHeader()->setSortIndicator(0, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->hide();
  note_ = new QLineEdit;
  note_->setPlaceholderText(tr("note for the triage history"));
  status_ = new QLabel;

  auto* filters = new QHBoxLayout;
  for (QWidget* w : std::initializer_list<QWidget*>{source_, service_, severity_, type_, time_, resolved_})
    filters->addWidget(w);
  auto* triage = new QHBoxLayout;
  triage->addWidget(note_, 1);
  const std::pair<QString, AnomalyTriage::Action> actions[] = {
      {tr("Acknowledge"), AnomalyTriage::Action::kAcknowledge},
      {tr("Resolve"), AnomalyTriage::Action::kResolve},
      {tr("Reopen"), AnomalyTriage::Action::kReopen},
      {tr("False positive"), AnomalyTriage::Action::kFalsePositive},
  };
  for (const auto& [label, action] : actions) {
    auto* button = new QPushButton(label);
    button->setObjectName("triage_" + AnomalyTriage::actionName(action));
    connect(button, &QPushButton::clicked, this, [this, action = action] { triageSelected(action); });
    triageButtons_ << button;
    triage->addWidget(button);
  }
  triage->addWidget(status_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(filters);
  layout->addWidget(table_, 1);
  layout->addLayout(triage);

  connect(source_, &QComboBox::currentIndexChanged, this, [this] {
    updateControls();
    reload();
  });
  for (QLineEdit* edit : {service_, type_}) connect(edit, &QLineEdit::editingFinished, this, &ProductionPanel::reload);
  for (QComboBox* combo : {severity_, time_, resolved_})
    connect(combo, &QComboBox::currentIndexChanged, this, &ProductionPanel::reload);
  connect(model_, &ProductionTableModel::queryFailed, this, &ProductionPanel::errorOccurred);
  connect(model_, &QAbstractItemModel::rowsInserted, this, &ProductionPanel::updateStatus);
  connect(model_, &QAbstractItemModel::modelReset, this, &ProductionPanel::updateStatus);
  updateControls();
}

void ProductionPanel::setConnection(const QString& connectionName, const QString& who) {
  connection_ = connectionName;
  who_ = who;
  model_->setConnection(connectionName);
  updateControls();
  if (connection_.isEmpty())
    model_->clear();
  else
    reload();
}

QString ProductionPanel::relation() const { return source_->currentData().toString(); }

BrowseFilter ProductionPanel::filter() const {
  const BrowseSource& s = browseSource(relation());
  BrowseFilter f;
  if (!s.serviceColumn.isEmpty()) f.service = service_->text().trimmed();
  if (!s.severityColumn.isEmpty()) f.severity = severity_->currentData().toString();
  if (!s.typeColumn.isEmpty()) f.type = type_->text().trimmed();
  const qint64 seconds = time_->currentData().toLongLong();
  if (seconds > 0 && !s.timeColumn.isEmpty()) f.from = QDateTime::currentDateTimeUtc().addSecs(-seconds);
  if (!s.resolvedColumn.isEmpty() && resolved_->currentData().isValid()) f.resolved = resolved_->currentData().toBool();
  const int sortSection = table_->horizontalHeader()->sortIndicatorSection();
  if (sortSection >= 0 && sortSection < s.columns.size()) f.sortColumn = s.columns[sortSection];
  f.descending = table_->horizontalHeader()->sortIndicatorOrder() == Qt::DescendingOrder;
  return f;
}

bool ProductionPanel::reload() {
  if (connection_.isEmpty()) return false;
  if (model_->source() == nullptr || model_->source()->relation != relation())
    table_->horizontalHeader()->setSortIndicator(0, Qt::DescendingOrder);  // a new source: newest first
  return model_->setQuery(relation(), filter());
}

void ProductionPanel::updateControls() {
  const BrowseSource& s = browseSource(relation());
  service_->setEnabled(!s.serviceColumn.isEmpty());
  severity_->setEnabled(!s.severityColumn.isEmpty());
  type_->setEnabled(!s.typeColumn.isEmpty());
  type_->setPlaceholderText(s.typeColumn.isEmpty() ? tr("type") : s.typeColumn);
  resolved_->setEnabled(!s.resolvedColumn.isEmpty());
  const bool canTriage = !connection_.isEmpty() && s.columns.contains("anomaly_id");
  for (QPushButton* b : triageButtons_) b->setEnabled(canTriage);
  note_->setEnabled(canTriage);
}

void ProductionPanel::updateStatus() {
  status_->setText(tr("%1 of %2 rows").arg(model_->rowCount()).arg(model_->totalRows()));
}

bool ProductionPanel::triageSelected(AnomalyTriage::Action action) {
  const QModelIndexList rows = table_->selectionModel()->selectedRows();
  if (rows.isEmpty() || !model_->source() || !model_->source()->columns.contains("anomaly_id")) {
    emit errorOccurred(tr("Select an anomaly first"));
    return false;
  }
  const int row = rows.front().row();
  const QString id = model_->value(row, "anomaly_id").toString();
  AnomalyTriage triage(QSqlDatabase::database(connection_, false), who_);
  if (!triage.apply(id, action, note_->text())) {
    emit errorOccurred(tr("Triage of %1: %2").arg(id, triage.error()));
    return false;
  }
  const QString service = model_->value(row, "service").toString();
  const QDateTime timestamp = model_->value(row, "timestamp").toDateTime();
  const QString type = model_->value(row, "anomaly_type").toString();
  const QString note = note_->text();
  note_->clear();
  emit triaged(id, action, service, timestamp, type, note);
  reload();
  return true;
}

}  // namespace stacklens::ui
