#pragma once
// The service explorer: every service of the workspace with its health at a glance (anomalies by
// severity over the last day and week, a sparkline), sortable by any column and filterable by name
// and severity. Selecting a row asks the metric view to show that service.

#include <QWidget>

#include "stacklens/ui/explorer/service_table_model.h"

class QComboBox;
class QLineEdit;
class QTableView;

namespace stacklens::ui {

class ExplorerPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ExplorerPanel(QWidget* parent = nullptr);

  /// Replaces the rows; the selected service stays selected when it is still there.
  void setServices(std::vector<ServiceHealth> services);
  /// Selects a service by name (returns false when it is not listed). Emits serviceSelected.
  bool selectService(const QString& name);
  QString selectedService() const;

  ServiceTableModel* model() const { return model_; }
  ServiceFilterProxy* proxy() const { return proxy_; }
  QTableView* table() const { return table_; }
  QLineEdit* filterEdit() const { return filter_; }
  QComboBox* severityCombo() const { return severity_; }

 signals:
  void serviceSelected(const QString& name);

 private:
  ServiceTableModel* model_;
  ServiceFilterProxy* proxy_;
  QLineEdit* filter_;
  QComboBox* severity_;
  QTableView* table_;
  QString selected_;
};

}  // namespace stacklens::ui
