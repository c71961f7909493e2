#include "stacklens/ui/explorer/service_table_model.h"

#include <QDateTime>
#include <cmath>
#include <numeric>

#include "stacklens/ui/severity_style.h"
#include "stacklens/ui/table_export.h"

namespace stacklens::ui {
namespace {

int total(const std::array<int, 4>& counts) { return std::accumulate(counts.begin(), counts.end(), 0); }

QVariantList countList(const std::array<int, 4>& counts) { return {counts[0], counts[1], counts[2], counts[3]}; }

QString breakdown(const std::array<int, 4>& counts) {
  QStringList parts;
  for (int s = 3; s >= 0; --s)
    parts << QStringLiteral("%1 %2").arg(counts[static_cast<std::size_t>(s)]).arg(severityName(static_cast<core::Severity>(s)));
  return parts.join(QStringLiteral(", "));
}

}  // namespace

ServiceTableModel::ServiceTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ServiceTableModel::setServices(std::vector<ServiceHealth> services) {
  beginResetModel();
  services_ = std::move(services);
  endResetModel();
}

int ServiceTableModel::rowOf(const QString& name) const {
  const std::string wanted = name.toStdString();
  for (std::size_t r = 0; r < services_.size(); ++r)
    if (services_[r].name == wanted) return static_cast<int>(r);
  return -1;
}

int ServiceTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(services_.size());
}

int ServiceTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant ServiceTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const ServiceHealth& h = services_[static_cast<std::size_t>(index.row())];
  const auto worst = h.worstLastDay();
  switch (index.column()) {
    case kName:
      if (role == Qt::DisplayRole) return QString::fromStdString(h.name);
      if (role == kSortRole) return QString::fromStdString(h.name).toLower();
      if (role == Qt::ToolTipRole)
        return tr("%1: %2 samples up to %3, %4 labelled incidents")
            .arg(QString::fromStdString(h.name))
            .arg(h.samples)
            .arg(QDateTime::fromSecsSinceEpoch(h.lastSample).toString(QStringLiteral("yyyy-MM-dd HH:mm")))
            .arg(h.labelWindows);
      break;
    case kHealth:
      if (role == Qt::DisplayRole) return worst ? severityName(*worst) : tr("ok");
      if (role == Qt::DecorationRole) return worst ? severityColor(*worst) : QColor(0x2e, 0x9e, 0x4f);
      if (role == kSortRole) return ServiceHealth::urgency(h.lastDay) * 1e6 + ServiceHealth::urgency(h.lastWeek) / 1e6;
      if (role == Qt::ToolTipRole) return tr("Worst anomaly in the last 24 hours of data");
      break;
    case kLastDay:
    case kLastWeek: {
      const auto& counts = index.column() == kLastDay ? h.lastDay : h.lastWeek;
      if (role == Qt::DisplayRole) return total(counts);
      if (role == kCountsRole) return countList(counts);
      if (role == kSortRole) return ServiceHealth::urgency(counts);
      if (role == Qt::ToolTipRole || role == kExportRole) return breakdown(counts);
      break;
    }
    case kTrend:
      if (role == kSparklineRole) return QVariant::fromValue(QList<double>(h.sparkline.begin(), h.sparkline.end()));
      if (role == kSortRole) {
        for (auto it = h.sparkline.rbegin(); it != h.sparkline.rend(); ++it)
          if (std::isfinite(*it)) return *it;
        return 0.0;
      }
      if (role == Qt::ToolTipRole) return tr("%1 over the last week").arg(QString::fromStdString(h.sparkMetric));
      if (role == kExportRole) {
        QStringList values;
        for (double v : h.sparkline) values << (std::isfinite(v) ? QString::number(v, 'g', 6) : QString());
        return QString::fromStdString(h.sparkMetric) + QLatin1Char(':') + values.join(QLatin1Char(' '));
      }
      break;
    case kSamples:
      if (role == Qt::DisplayRole || role == kSortRole) return static_cast<qulonglong>(h.samples);
      if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    default:
      break;
  }
  return {};
}

QVariant ServiceTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) {
    switch (section) {
      case kName: return tr("Service");
      case kHealth: return tr("Health");
      case kLastDay: return tr("24 h");
      case kLastWeek: return tr("7 days");
      case kTrend: return tr("Last week");
      case kSamples: return tr("Samples");
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole && (section == kLastDay || section == kLastWeek))
    return tr("Anomalies by severity (critical, high, medium, low) before the newest sample");
  return {};
}

ServiceFilterProxy::ServiceFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(ServiceTableModel::kSortRole);
}

void ServiceFilterProxy::setNameFilter(const QString& text) {
  name_ = text.trimmed();
  invalidateRowsFilter();
}

void ServiceFilterProxy::setSeverityFilter(SeverityFilter filter) {
  severity_ = filter;
  invalidateRowsFilter();
}

bool ServiceFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  const auto* model = qobject_cast<const ServiceTableModel*>(sourceModel());
  if (!model || sourceParent.isValid()) return true;
  const ServiceHealth& h = model->services()[static_cast<std::size_t>(sourceRow)];
  if (!name_.isEmpty() && !QString::fromStdString(h.name).contains(name_, Qt::CaseInsensitive)) return false;
  const auto day = [&](core::Severity s) { return h.lastDay[static_cast<std::size_t>(s)]; };
  switch (severity_) {
    case SeverityFilter::kAll: return true;
    case SeverityFilter::kAnyThisWeek: return total(h.lastWeek) > 0;
    case SeverityFilter::kHighOrWorseToday: return day(core::Severity::kHigh) + day(core::Severity::kCritical) > 0;
    case SeverityFilter::kCriticalToday: return day(core::Severity::kCritical) > 0;
  }
  return true;
}

}  // namespace stacklens::ui
