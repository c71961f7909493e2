#include "stacklens/ui/connected/production_query.h"

namespace stacklens::ui {

namespace {

QString quoted(const QString& identifier) { return '"' + identifier + '"'; }

// WHERE clause of the filter; every value is a bound placeholder, every identifier is from the source.
QString whereClause(const BrowseSource& s, const BrowseFilter& f, QVariantList& bindings) {
  QStringList conditions;
  auto add = [&](const QString& column, const char* what, const QString& condition, const QVariant& value) {
    if (column.isEmpty())
      throw std::invalid_argument(QStringLiteral("%1 cannot be filtered by %2").arg(s.relation, what).toStdString());
    conditions << quoted(column) + condition;
    bindings << value;
  };
  if (!f.service.isEmpty()) add(s.serviceColumn, "service", " = ?", f.service);
  if (!f.severity.isEmpty()) add(s.severityColumn, "severity", " = ?", f.severity);
  if (!f.type.isEmpty()) add(s.typeColumn, "type", " = ?", f.type);
  if (f.from) add(s.timeColumn, "time", " >= ?::timestamptz", f.from->toUTC().toString(Qt::ISODateWithMs));
  if (f.to) add(s.timeColumn, "time", " < ?::timestamptz", f.to->toUTC().toString(Qt::ISODateWithMs));
  if (f.resolved) add(s.resolvedColumn, "resolved", " = ?::boolean", *f.resolved ? "true" : "false");
  return conditions.isEmpty() ? QString() : " WHERE " + conditions.join(" AND ");
}

}  // namespace

const std::vector<BrowseSource>& browseSources() {
  static const std::vector<BrowseSource> sources{
      {"ml_anomalies", "Anomalies",
       {"timestamp", "service", "anomaly_type", "severity", "confidence_score", "anomaly_score", "detection_methods",
        "description", "resolved", "resolved_at", "anomaly_id", "created_at"},
       {"anomaly_id"}, "service", "severity", "anomaly_type", "timestamp", "resolved"},
      {"ml_predictive_alerts", "Predictive alerts",
       {"predicted_time_start", "predicted_time_end", "service", "metric", "predicted_event", "severity",
        "prediction_confidence", "breach_probability", "threshold", "recommendation", "alert_sent", "materialized",
        "created_at", "alert_id"},
       {"alert_id"}, "service", "severity", "predicted_event", "predicted_time_start", "materialized"},
      {"ml_patterns", "Patterns",
       {"last_seen", "first_seen", "service", "cluster_label", "cluster_size", "share", "centroid", "spread",
        "pattern_id"},
       {"pattern_id"}, "service", "", "", "last_seen", ""},
      {"ml_forecasts", "Forecasts",
       {"target_time", "service", "metric", "step", "forecast_value", "lower_bound", "upper_bound",
        "confidence_level", "model", "actual_value", "prediction_error", "created_at"},
       {"service", "metric", "created_at", "step"}, "service", "", "metric", "target_time", ""},
      {"ml_models", "Models",
       {"trained_at", "service", "model_type", "version", "training_samples", "accuracy", "precision", "recall",
        "f1_score", "active", "model_id"},
       {"model_id"}, "service", "", "model_type", "trained_at", ""},
      {"ml_v_recent_anomalies", "Recent anomalies (24 h)",
       {"last_seen", "service", "anomaly_type", "anomaly_count", "critical_count", "high_count", "medium_count",
        "low_count", "avg_confidence", "max_confidence", "unresolved_count", "first_seen"},
       {"service", "anomaly_type"}, "service", "", "anomaly_type", "last_seen", ""},
      {"ml_v_critical_anomalies", "Open critical anomalies",
       {"timestamp", "service", "anomaly_type", "confidence_score", "anomaly_score", "description", "open_for",
        "anomaly_id"},
       {"anomaly_id"}, "service", "", "anomaly_type", "timestamp", ""},
      {"ml_v_anomaly_trends", "Anomaly trends (30 days)",
       {"day", "service", "total_anomalies", "critical_count", "high_count", "avg_confidence", "resolution_rate",
        "previous_day_total", "baseline_7d", "trend"},
       {"day", "service"}, "service", "", "trend", "day", ""},
      {"ml_v_model_health", "Model health",
       {"trained_at", "service", "model_type", "version", "training_samples", "f1_score", "model_age",
        "anomalies_24h", "health_status", "model_id"},
       {"model_id"}, "service", "", "model_type", "trained_at", ""},
  };
  return sources;
}

const BrowseSource& browseSource(const QString& relation) {
  for (const BrowseSource& s : browseSources())
    if (s.relation == relation) return s;
  throw std::invalid_argument("unknown source " + relation.toStdString());
}

BrowseStatement pageStatement(const BrowseSource& s, const BrowseFilter& f, int limit, qint64 offset) {
  const QString sort = f.sortColumn.isEmpty() ? s.timeColumn : f.sortColumn;
  if (!s.columns.contains(sort))
    throw std::invalid_argument(QStringLiteral("%1 has no column %2 to sort by").arg(s.relation, sort).toStdString());
  BrowseStatement st;
  QStringList columns;
  for (const QString& c : s.columns) columns << quoted(c);
  const QString direction = f.descending ? QStringLiteral(" DESC NULLS LAST") : QStringLiteral(" ASC NULLS FIRST");
  QStringList order{quoted(sort) + direction};
  for (const QString& key : s.keyColumns)
    if (key != sort) order << quoted(key) + direction;
  st.sql = "SELECT " + columns.join(", ") + " FROM " + s.relation + whereClause(s, f, st.bindings) + " ORDER BY " +
           order.join(", ") + " LIMIT ?::bigint OFFSET ?::bigint";
  st.bindings << limit << offset;
  return st;
}

BrowseStatement countStatement(const BrowseSource& s, const BrowseFilter& f) {
  BrowseStatement st;
  st.sql = "SELECT count(*) FROM " + s.relation + whereClause(s, f, st.bindings);
  return st;
}

}  // namespace stacklens::ui
