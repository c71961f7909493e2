#include "stacklens/ui/connected/production_table_model.h"

#include <QSqlError>
#include <QSqlQuery>

#include "stacklens/ui/connected/pg_session.h"

namespace stacklens::ui {

ProductionTableModel::ProductionTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ProductionTableModel::setConnection(const QString& connectionName) { connection_ = connectionName; }

bool ProductionTableModel::setQuery(const QString& relation, const BrowseFilter& filter) {
  try {
    source_ = &browseSource(relation);
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()));
  }
  filter_ = filter;
  return refresh();
}

void ProductionTableModel::clear() {
  beginResetModel();
  rows_.clear();
  source_ = nullptr;
  pages_ = 0;
  total_ = 0;
  exhausted_ = true;
  endResetModel();
}

bool ProductionTableModel::refresh() {
  beginResetModel();
  rows_.clear();
  pages_ = 0;
  total_ = 0;
  exhausted_ = true;
  endResetModel();
  if (!source_) return fail(tr("no table chosen"));
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  if (!db.isOpen()) return fail(tr("not connected to PostgreSQL"));
  try {
    QSqlQuery count(db);
    const BrowseStatement statement = countStatement(*source_, filter_);
    if (!execBound(count, statement.sql, statement.bindings) || !count.next())
      return fail(tr("%1: %2").arg(source_->relation, count.lastError().text()));
    total_ = count.value(0).toLongLong();
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()));
  }
  exhausted_ = false;
  error_.clear();
  return fetchPage();
}

bool ProductionTableModel::fetchPage() {
  QSqlDatabase db = QSqlDatabase::database(connection_, false);
  QSqlQuery query(db);
  query.setForwardOnly(true);
  BrowseStatement statement;
  try {
    statement = pageStatement(*source_, filter_, pageSize_, static_cast<qint64>(rows_.size()));
  } catch (const std::exception& e) {
    exhausted_ = true;
    return fail(QString::fromStdString(e.what()));
  }
  if (!execBound(query, statement.sql, statement.bindings)) {
    exhausted_ = true;
    return fail(tr("%1: %2").arg(source_->relation, query.lastError().text()));
  }
  std::vector<std::vector<QVariant>> page;
  const int columns = static_cast<int>(source_->columns.size());
  while (query.next()) {
    std::vector<QVariant> row(columns);
    for (int c = 0; c < columns; ++c) row[c] = query.value(c);
    page.push_back(std::move(row));
  }
  ++pages_;
  exhausted_ = static_cast<int>(page.size()) < pageSize_ || static_cast<qint64>(rows_.size() + page.size()) >= total_;
  if (page.empty()) return true;
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(page.size()) - 1);
  for (auto& row : page) rows_.push_back(std::move(row));
  endInsertRows();
  return true;
}

bool ProductionTableModel::fail(const QString& message) {
  error_ = message;
  emit queryFailed(message);
  return false;
}

QVariant ProductionTableModel::value(int row, const QString& column) const {
  if (!source_ || row < 0 || row >= rowCount()) return {};
  const auto c = source_->columns.indexOf(column);
  return c < 0 ? QVariant() : rows_[row][c];
}

int ProductionTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ProductionTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || !source_ ? 0 : static_cast<int>(source_->columns.size());
}

QVariant ProductionTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const QVariant& v = rows_[index.row()][index.column()];
  if (role == Qt::DisplayRole) {
    if (v.isNull()) return QString();
    if (v.typeId() == QMetaType::QDateTime) return v.toDateTime().toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (v.typeId() == QMetaType::Double) return QString::number(v.toDouble(), 'g', 6);
    return v;
  }
  if (role == Qt::UserRole) return v;
  return {};
}

QVariant ProductionTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal || !source_ || section >= columnCount()) return {};
  return source_->columns[section];
}

bool ProductionTableModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && !exhausted_ && source_ != nullptr;
}

void ProductionTableModel::fetchMore(const QModelIndex& parent) {
  if (canFetchMore(parent)) fetchPage();
}

void ProductionTableModel::sort(int column, Qt::SortOrder order) {
  if (!source_ || column < 0 || column >= columnCount()) return;
  filter_.sortColumn = source_->columns[column];
  filter_.descending = order == Qt::DescendingOrder;
  refresh();
}

}  // namespace stacklens::ui
