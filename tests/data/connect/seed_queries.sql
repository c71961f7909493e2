-- The SQL that the original system's quick start runs against the database, copied verbatim
-- (statement text unchanged; only these comments and the "-- @" markers added) from
-- shared/seeds/001_780781e1fe88f4a8.txt, "Phase 5: ML & Anomaly Detection - Quick Start".
-- tests/connect/test_pg_seed_queries.cpp runs every statement against the migrated schema.
-- A "-- @ name" line starts a statement; the statement runs to the next marker.

-- @ prerequisites: Phase 4 analytics data
SELECT COUNT(*) FROM analytics_metrics_1hour WHERE created_at > NOW() - INTERVAL '24 hours';

-- @ check results: view detected anomalies
SELECT anomaly_id, service, anomaly_type, severity, confidence_score, timestamp
FROM ml_anomalies
ORDER BY timestamp DESC
LIMIT 10;

-- @ check results: view predictive alerts
SELECT alert_id, service, predicted_event, prediction_confidence, predicted_time_start
FROM ml_predictive_alerts
ORDER BY created_at DESC
LIMIT 5;

-- @ check results: view statistics
SELECT * FROM ml_v_recent_anomalies LIMIT 10;

-- @ predictive alerts not generating: history for ARIMA
SELECT COUNT(*), MIN(timestamp), MAX(timestamp)
FROM analytics_metrics_1hour
WHERE timestamp > NOW() - INTERVAL '4 hours'
AND service = 'api';

-- @ data retention: archive anomalies older than 90 days
SELECT ml_archive_old_anomalies(90);

-- @ monitoring: last hour anomalies by service
-- Overview: Last hour anomalies by service
SELECT 
    service,
    COUNT(*) as total_anomalies,
    COUNT(CASE WHEN severity = 'critical' THEN 1 END) as critical,
    COUNT(CASE WHEN severity = 'high' THEN 1 END) as high,
    ROUND(AVG(confidence_score)::numeric, 3) as avg_confidence,
    COUNT(CASE WHEN resolved THEN 1 END) as resolved
FROM ml_anomalies
WHERE timestamp > NOW() - INTERVAL '1 hour'
GROUP BY service
ORDER BY total_anomalies DESC;

-- @ monitoring: predictive alerts status
-- Predictive alerts status
SELECT 
    COUNT(*) as total_predicted,
    COUNT(CASE WHEN alert_sent THEN 1 END) as alerts_sent,
    COUNT(CASE WHEN materialized THEN 1 END) as materialized,
    ROUND(100.0 * COUNT(CASE WHEN materialized THEN 1 END) / COUNT(*)::numeric, 1) as materialization_rate
FROM ml_predictive_alerts
WHERE created_at > NOW() - INTERVAL '24 hours';

-- @ monitoring: top anomalies today
-- Top anomalies today
SELECT 
    service, 
    anomaly_type, 
    COUNT(*) as count,
    ROUND(AVG(confidence_score)::numeric, 3) as avg_confidence
FROM ml_anomalies
WHERE DATE(timestamp) = DATE(NOW())
GROUP BY service, anomaly_type
ORDER BY count DESC;

-- @ no anomalies detected: check database connectivity
SELECT COUNT(*) FROM analytics_metrics_1hour;
