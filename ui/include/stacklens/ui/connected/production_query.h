#pragma once
// What the Production browser can read and the SQL it sends: the five tables production writes
// (ml_anomalies, ml_predictive_alerts, ml_patterns, ml_forecasts, ml_models) and the four views.
// Filters, sorting and paging all happen in PostgreSQL: every statement is parameterised (user
// text is only ever a bound value) and a sort column must be one of the source's known columns,
// so no SQL is ever built from what the user typed.

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVariantList>
#include <optional>
#include <stdexcept>
#include <vector>

namespace stacklens::ui {

/// A table or view and which of its columns the generic filters apply to (empty: not filterable).
struct BrowseSource {
  QString relation;        ///< e.g. "ml_anomalies"
  QString title;           ///< e.g. "Anomalies"
  QStringList columns;     ///< shown and sortable, in this order
  QStringList keyColumns;  ///< unique together: the tie-break that makes paging stable
  QString serviceColumn;
  QString severityColumn;
  QString typeColumn;      ///< anomaly_type, predicted_event, model_type ...
  QString timeColumn;      ///< what the time range applies to, and the default sort (newest first)
  QString resolvedColumn;  ///< a boolean "done" column (resolved, materialized)
};

/// The nine sources, tables first.
const std::vector<BrowseSource>& browseSources();
/// The source of that relation name; throws std::invalid_argument for an unknown one.
const BrowseSource& browseSource(const QString& relation);

struct BrowseFilter {
  QString service;   ///< exact service name; empty: all
  QString severity;  ///< low/medium/high/critical; empty: all
  QString type;      ///< exact type; empty: all
  std::optional<QDateTime> from;  ///< inclusive
  std::optional<QDateTime> to;    ///< exclusive
  std::optional<bool> resolved;
  QString sortColumn;  ///< empty: the source's time column (or its first key)
  bool descending = true;
};

/// A statement with '?' placeholders and the values bound to them, in order.
struct BrowseStatement {
  QString sql;
  QVariantList bindings;
};

/// One page of rows: LIMIT `limit` OFFSET `offset` in the filter's order, ties broken by the key
/// columns. Throws std::invalid_argument when the sort column is not one of the source's, or a
/// filter is set that the source does not have.
BrowseStatement pageStatement(const BrowseSource& source, const BrowseFilter& filter, int limit, qint64 offset);
/// The number of rows that match the filter.
BrowseStatement countStatement(const BrowseSource& source, const BrowseFilter& filter);

}  // namespace stacklens::ui
