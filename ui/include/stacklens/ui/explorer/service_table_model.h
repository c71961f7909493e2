#pragma once
// The explorer's table: one row per service with its health at a glance, and the proxy that
// sorts and filters it (by name and by severity).

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <optional>
#include <vector>

#include "stacklens/ui/explorer/service_health.h"

namespace stacklens::ui {

class ServiceTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kName, kHealth, kLastDay, kLastWeek, kTrend, kSamples, kColumnCount };
  enum Role {
    kSortRole = Qt::UserRole + 1,  ///< a value that sorts the column meaningfully
    kCountsRole,                   ///< QVariantList of 4 ints (low..critical) for kLastDay/kLastWeek
    kSparklineRole,                ///< QList<double> for kTrend
  };

  explicit ServiceTableModel(QObject* parent = nullptr);

  void setServices(std::vector<ServiceHealth> services);
  const std::vector<ServiceHealth>& services() const { return services_; }
  /// Row of the service, or -1.
  int rowOf(const QString& name) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<ServiceHealth> services_;
};

/// Filters by a case-insensitive substring of the name and by a minimum severity.
class ServiceFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  enum class SeverityFilter {
    kAll,               ///< every service
    kAnyThisWeek,       ///< at least one anomaly in the last week
    kHighOrWorseToday,  ///< a high or critical anomaly in the last day
    kCriticalToday,     ///< a critical anomaly in the last day
  };

  explicit ServiceFilterProxy(QObject* parent = nullptr);
  void setNameFilter(const QString& text);
  void setSeverityFilter(SeverityFilter filter);
  SeverityFilter severityFilter() const { return severity_; }

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

 private:
  QString name_;
  SeverityFilter severity_ = SeverityFilter::kAll;
};

}  // namespace stacklens::ui
