#pragma once
// The rows of one production table or view, fetched a page at a time as the view scrolls
// (canFetchMore/fetchMore), with filtering and sorting done by PostgreSQL. Never holds more
// than the pages the user has scrolled through.

#include <QAbstractTableModel>
#include <QSqlDatabase>
#include <QVariant>
#include <vector>

#include "stacklens/ui/connected/production_query.h"

namespace stacklens::ui {

class ProductionTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  static constexpr int kDefaultPageSize = 200;

  explicit ProductionTableModel(QObject* parent = nullptr);

  /// The connection to read through (by connection name, so the model never outlives it silently).
  void setConnection(const QString& connectionName);
  /// Shows `relation` (see browseSources()) under `filter`; returns false with lastError() when the
  /// query fails. Resets the model and fetches the first page.
  bool setQuery(const QString& relation, const BrowseFilter& filter);
  bool refresh();
  /// Forgets the rows and the source (e.g. after disconnecting).
  void clear();
  void setPageSize(int rows) { pageSize_ = rows; }

  const BrowseSource* source() const { return source_; }
  const BrowseFilter& filter() const { return filter_; }
  /// Rows that match the filter in the database (one count(*) per query).
  qint64 totalRows() const { return total_; }
  int pagesFetched() const { return pages_; }
  QString lastError() const { return error_; }
  /// The value of `column` (a source column name) in `row`.
  QVariant value(int row, const QString& column) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  bool canFetchMore(const QModelIndex& parent = {}) const override;
  void fetchMore(const QModelIndex& parent = {}) override;
  /// Sorting is a new query ordered by that column.
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

 signals:
  void queryFailed(const QString& message);

 private:
  bool fetchPage();
  bool fail(const QString& message);

  QString connection_;
  const BrowseSource* source_ = nullptr;
  BrowseFilter filter_;
  int pageSize_ = kDefaultPageSize;
  qint64 total_ = 0;
  int pages_ = 0;
  bool exhausted_ = true;
  std::vector<std::vector<QVariant>> rows_;
  QString error_;
};

}  // namespace stacklens::ui
