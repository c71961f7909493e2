#pragma once
// The Production dock: browse what the production services wrote (tables and views, filtered and
// sorted by PostgreSQL, fetched a page at a time) and triage anomalies (acknowledge, resolve,
// reopen, false positive, with a note).

#include <QWidget>
#include <functional>

#include "stacklens/ui/connected/anomaly_triage.h"
#include "stacklens/ui/connected/production_query.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace stacklens::ui {

class ProductionTableModel;

class ProductionPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ProductionPanel(QWidget* parent = nullptr);

  /// The QPSQL connection to read and write through (empty: disconnected) and the user's name.
  void setConnection(const QString& connectionName, const QString& who);
  /// Runs the query the controls describe.
  bool reload();
  /// The filter the controls describe (relative times against now).
  BrowseFilter filter() const;
  QString relation() const;

  /// Triage of the anomaly in the selected row; emits triaged or errorOccurred.
  bool triageSelected(AnomalyTriage::Action action);

  ProductionTableModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  QComboBox* sourceCombo() const { return source_; }
  QLineEdit* serviceEdit() const { return service_; }
  QComboBox* severityCombo() const { return severity_; }
  QLineEdit* typeEdit() const { return type_; }
  QComboBox* timeCombo() const { return time_; }
  QComboBox* resolvedCombo() const { return resolved_; }
  QLineEdit* noteEdit() const { return note_; }
  QLabel* statusLabel() const { return status_; }

 signals:
  /// An anomaly was triaged; `row` holds the anomaly's service, timestamp and type.
  void triaged(const QString& anomalyId, AnomalyTriage::Action action, const QString& service,
               const QDateTime& timestamp, const QString& type, const QString& note);
  void errorOccurred(const QString& message);

 private:
  void updateControls();
  void updateStatus();

  ProductionTableModel* model_;
  QComboBox* source_;
  QLineEdit* service_;
  QComboBox* severity_;
  QLineEdit* type_;
  QComboBox* time_;
  QComboBox* resolved_;
  QTableView* table_;
  QLineEdit* note_;
  QList<QPushButton*> triageButtons_;
  QLabel* status_;
  QString connection_;
  QString who_;
};

}  // namespace stacklens::ui
