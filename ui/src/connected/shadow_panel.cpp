#include "stacklens/ui/connected/shadow_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "stacklens/connect/message_codec.h"
#include "stacklens/ui/connected/live_panel.h"

namespace stacklens::ui {

namespace {

QString describe(const std::optional<core::AnomalyRecord>& a) {
  if (!a) return QStringLiteral("—");
  return QStringLiteral("%1 %2 (%3)")
      .arg(QString::fromUtf8(core::toString(a->severity).data(), static_cast<qsizetype>(core::toString(a->severity).size())),
           QString::fromUtf8(core::toString(a->type).data(), static_cast<qsizetype>(core::toString(a->type).size())))
      .arg(a->anomalyScore, 0, 'f', 2);
}

QString verdictName(ShadowRow::Verdict v) {
  switch (v) {
    case ShadowRow::Verdict::kAgree: return QStringLiteral("agree");
    case ShadowRow::Verdict::kLocalOnly: return QStringLiteral("local only");
    case ShadowRow::Verdict::kProductionOnly: return QStringLiteral("production only");
    case ShadowRow::Verdict::kDiffer: return QStringLiteral("differ");
  }
  return {};
}

}  // namespace

void ShadowTableModel::setRows(std::vector<ShadowRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

int ShadowTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int ShadowTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant ShadowTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || role != Qt::DisplayRole) return {};
  const ShadowRow& r = rows_[index.row()];
  switch (index.column()) {
    case kService: return QString::fromStdString(r.service);
    case kTime: return QDateTime::fromSecsSinceEpoch(r.timestamp, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    case kVerdict: return verdictName(r.verdict());
    case kLocal: return describe(r.local);
    case kProduction: return describe(r.production);
    default: return {};
  }
}

QVariant ShadowTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  static const char* const kNames[] = {"service", "window", "verdict", "local (tuned)", "production"};
  return section < kColumnCount ? QString::fromLatin1(kNames[section]) : QVariant();
}

ShadowPanel::ShadowPanel(std::function<core::pipeline::MlPipelineConfig()> settings, QWidget* parent)
    : QWidget(parent), settings_(std::move(settings)), model_(new ShadowTableModel(this)) {
  setObjectName("shadowPanel");
  table_ = new QTableView;
  table_->setModel(model_);
  fitRowsToOneLine(table_);
  table_->setColumnWidth(ShadowTableModel::kService, 140);
  table_->setColumnWidth(ShadowTableModel::kTime, 130);
  table_->setColumnWidth(ShadowTableModel::kVerdict, 120);
  table_->setColumnWidth(ShadowTableModel::kLocal, 280);
  toggle_ = new QPushButton(tr("Start shadow mode"));
  toggle_->setCheckable(true);
  status_ = new QLabel(tr("Shadow mode runs the tuned settings on the live stream and lists where they and production disagree."));
  status_->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(toggle_);
  layout->addWidget(table_, 1);
  layout->addWidget(status_);
  connect(toggle_, &QPushButton::toggled, this, &ShadowPanel::setActive);
}

void ShadowPanel::setTopics(const QString& inputTopic, const QString& anomaliesTopic) {
  inputTopic_ = inputTopic;
  anomaliesTopic_ = anomaliesTopic;
}

void ShadowPanel::setActive(bool active) {
  if (active == isActive()) return;
  shadow_ = active ? std::make_unique<ShadowMode>(settings_()) : nullptr;
  seen_.clear();
  badMessages_ = 0;
  historyError_.clear();
  toggle_->blockSignals(true);
  toggle_->setChecked(active);
  toggle_->setText(active ? tr("Stop shadow mode") : tr("Start shadow mode"));
  toggle_->blockSignals(false);
  model_->setRows({});
}

void ShadowPanel::onMessages(const QList<TailMessage>& batch) {
  if (!shadow_) return;
  for (const TailMessage& m : batch) {
    const std::string_view payload(m.value.constData(), static_cast<std::size_t>(m.value.size()));
    if (m.topic == inputTopic_) {
      const auto sample = connect::decodeServiceMetrics(payload);
      if (!sample) {
        ++badMessages_;
        continue;
      }
      if (history_ && seen_.insert(sample.value->service).second) train(*sample.value);
      if (!shadow_->addInput(*sample.value)) ++badMessages_;
    } else if (m.topic == anomaliesTopic_) {
      const auto anomaly = connect::decodeAnomaly(payload);
      if (anomaly)
        shadow_->addProduction(*anomaly.value);
      else
        ++badMessages_;
    }
  }
  model_->setRows(shadow_->disagreements());
  status_->setText(tr("%1 windows shadowed · %2 disagreements · %3 unreadable messages%4")
                       .arg(shadow_->inputs())
                       .arg(model_->rowCount())
                       .arg(badMessages_)
                       .arg(historyError_.isEmpty() ? QString() : QStringLiteral(" · ") + historyError_));
}

void ShadowPanel::train(const core::ServiceMetrics& first) {
  try {
    shadow_->train(first.service, history_(first.service, first.timestamp - 1));
  } catch (const std::exception& e) {  // the database or its rows: warm up from the stream instead
    historyError_ = tr("%1 warms up from the stream: %2").arg(QString::fromStdString(first.service), QString::fromUtf8(e.what()));
  }
}

}  // namespace stacklens::ui
