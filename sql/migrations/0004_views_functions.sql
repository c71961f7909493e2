-- 0004: the original's 4 views and 3 functions.

-- Last 24 hours of anomalies, one row per service and anomaly type, busiest first.
CREATE VIEW ml_v_recent_anomalies AS
SELECT service,
       anomaly_type,
       count(*) AS anomaly_count,
       count(*) FILTER (WHERE severity = 'critical') AS critical_count,
       count(*) FILTER (WHERE severity = 'high') AS high_count,
       count(*) FILTER (WHERE severity = 'medium') AS medium_count,
       count(*) FILTER (WHERE severity = 'low') AS low_count,
       round(avg(confidence_score)::numeric, 3) AS avg_confidence,
       max(confidence_score) AS max_confidence,
       count(*) FILTER (WHERE NOT resolved) AS unresolved_count,
       min("timestamp") AS first_seen,
       max("timestamp") AS last_seen
FROM ml_anomalies
WHERE "timestamp" > now() - interval '24 hours'
GROUP BY service, anomaly_type
ORDER BY anomaly_count DESC, service, anomaly_type;

-- Critical anomalies nobody has resolved yet, newest first.
CREATE VIEW ml_v_critical_anomalies AS
SELECT anomaly_id,
       service,
       anomaly_type,
       confidence_score,
       anomaly_score,
       "timestamp",
       description,
       detection_methods,
       metric_values,
       expected_values,
       created_at,
       now() - "timestamp" AS open_for
FROM ml_anomalies
WHERE severity = 'critical' AND NOT resolved
ORDER BY "timestamp" DESC, anomaly_id;

-- 30 days of daily counts per service, with the previous day and a trailing 7-day baseline (days
-- without anomalies count as zero). trend: 'rising' above 1.5x the baseline, 'falling' below
-- 0.5x, 'new' when the baseline is empty, else 'stable'.
CREATE VIEW ml_v_anomaly_trends AS
WITH daily AS (
    SELECT d.day,
           d.service,
           d.total_anomalies,
           d.critical_count,
           d.high_count,
           d.avg_confidence,
           d.resolution_rate,
           COALESCE(sum(d.total_anomalies) OVER (PARTITION BY d.service ORDER BY d.day
               RANGE BETWEEN '1 day' PRECEDING AND '1 day' PRECEDING), 0) AS previous_day_total,
           COALESCE(sum(d.total_anomalies) OVER (PARTITION BY d.service ORDER BY d.day
               RANGE BETWEEN '7 days' PRECEDING AND '1 day' PRECEDING), 0) / 7.0 AS baseline_7d
    FROM ml_anomaly_stats_daily d
    WHERE d.day > (now() AT TIME ZONE 'UTC')::date - 37
)
SELECT day,
       service,
       total_anomalies,
       critical_count,
       high_count,
       round(avg_confidence::numeric, 3) AS avg_confidence,
       round(resolution_rate::numeric, 3) AS resolution_rate,
       previous_day_total,
       round(baseline_7d, 3) AS baseline_7d,
       CASE WHEN baseline_7d = 0 THEN CASE WHEN total_anomalies > 0 THEN 'new' ELSE 'stable' END
            WHEN total_anomalies > 1.5 * baseline_7d THEN 'rising'
            WHEN total_anomalies < 0.5 * baseline_7d THEN 'falling'
            ELSE 'stable' END AS trend
FROM daily
WHERE day > (now() AT TIME ZONE 'UTC')::date - 30
ORDER BY day DESC, service;

-- The active model of each service and model type, with its quality and a health verdict:
-- 'insufficient_data' (trained on fewer than 100 samples), 'stale' (older than 7 days),
-- 'degraded' (F1 below 0.5 where known), else 'healthy'.
CREATE VIEW ml_v_model_health AS
SELECT m.model_id,
       m.service,
       m.model_type,
       m.version,
       m.trained_at,
       m.training_samples,
       m.accuracy,
       m."precision",
       m.recall,
       m.f1_score,
       now() - m.trained_at AS model_age,
       (SELECT count(*) FROM ml_anomalies a
        WHERE a.service = m.service AND a."timestamp" > now() - interval '24 hours') AS anomalies_24h,
       CASE WHEN m.training_samples < 100 THEN 'insufficient_data'
            WHEN m.trained_at < now() - interval '7 days' THEN 'stale'
            WHEN m.f1_score < 0.5 THEN 'degraded'
            ELSE 'healthy' END AS health_status
FROM ml_models m
WHERE m.active
ORDER BY m.service, m.model_type;

-- Statistics per service over [p_start, p_end), live and archived anomalies alike.
CREATE FUNCTION ml_calculate_anomaly_stats(p_start timestamptz DEFAULT now() - interval '24 hours',
                                           p_end timestamptz DEFAULT now())
RETURNS TABLE (service text, total_anomalies bigint, critical_count bigint, high_count bigint,
               medium_count bigint, low_count bigint, avg_confidence double precision,
               max_confidence double precision, resolved_count bigint, resolution_rate double precision,
               first_seen timestamptz, last_seen timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT a.service,
           count(*),
           count(*) FILTER (WHERE a.severity = 'critical'),
           count(*) FILTER (WHERE a.severity = 'high'),
           count(*) FILTER (WHERE a.severity = 'medium'),
           count(*) FILTER (WHERE a.severity = 'low'),
           avg(a.confidence_score),
           max(a.confidence_score),
           count(*) FILTER (WHERE a.resolved),
           (count(*) FILTER (WHERE a.resolved))::double precision / count(*),
           min(a."timestamp"),
           max(a."timestamp")
    FROM (SELECT service, "timestamp", severity, confidence_score, resolved FROM ml_anomalies
          WHERE "timestamp" >= p_start AND "timestamp" < p_end
          UNION ALL
          SELECT service, "timestamp", severity, confidence_score, resolved FROM ml_anomalies_archive
          WHERE "timestamp" >= p_start AND "timestamp" < p_end) AS a
    GROUP BY a.service
    ORDER BY count(*) DESC, a.service;
$$;

-- The p_limit most confident anomalies of the last p_hours hours (ties: newest first).
CREATE FUNCTION ml_get_top_anomalies(p_limit integer DEFAULT 10, p_hours integer DEFAULT 24)
RETURNS TABLE (anomaly_id text, service text, anomaly_type text, severity text,
               confidence_score double precision, anomaly_score double precision,
               "timestamp" timestamptz, description text, resolved boolean)
LANGUAGE sql STABLE AS $$
    SELECT a.anomaly_id, a.service, a.anomaly_type, a.severity, a.confidence_score, a.anomaly_score,
           a."timestamp", a.description, a.resolved
    FROM ml_anomalies a
    WHERE a."timestamp" > now() - make_interval(hours => p_hours)
    ORDER BY a.confidence_score DESC, a."timestamp" DESC, a.anomaly_id
    LIMIT greatest(p_limit, 0);
$$;

-- Retention: moves anomalies whose timestamp is more than `days` days old, with their status
-- history, into ml_anomalies_archive, in one statement (nothing is deleted unarchived).
-- SELECT ml_archive_old_anomalies(90) gives one composite value; SELECT * FROM
-- ml_archive_old_anomalies(90) gives the columns anomalies_archived | earliest_archived |
-- latest_archived (UTC dates; NULL when nothing was old enough).
CREATE FUNCTION ml_archive_old_anomalies(days integer DEFAULT 90,
                                         OUT anomalies_archived bigint,
                                         OUT earliest_archived date,
                                         OUT latest_archived date)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
BEGIN
    IF days IS NULL OR days < 0 THEN
        RAISE EXCEPTION 'ml_archive_old_anomalies: days must be 0 or more, got %', days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - make_interval(days => days);
    WITH moved AS (
        DELETE FROM ml_anomalies a WHERE a."timestamp" < cutoff
        RETURNING a.*
    ), archived AS (
        INSERT INTO ml_anomalies_archive (anomaly_id, service, "timestamp", anomaly_type, severity,
                                          confidence_score, anomaly_score, detection_methods,
                                          metric_values, expected_values, description, resolved,
                                          resolved_at, created_at, history)
        SELECT m.anomaly_id, m.service, m."timestamp", m.anomaly_type, m.severity, m.confidence_score,
               m.anomaly_score, m.detection_methods, m.metric_values, m.expected_values, m.description,
               m.resolved, m.resolved_at, m.created_at,
               COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                    'old_status', h.old_status, 'new_status', h.new_status,
                                    'changed_by', h.changed_by, 'note', h.note, 'changed_at', h.changed_at)
                                ORDER BY h.changed_at, h.history_id)
                         FROM ml_anomaly_history h WHERE h.anomaly_id = m.anomaly_id), '[]'::jsonb)
        FROM moved m
        ON CONFLICT (anomaly_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*), (min(m."timestamp") AT TIME ZONE 'UTC')::date, (max(m."timestamp") AT TIME ZONE 'UTC')::date
    INTO anomalies_archived, earliest_archived, latest_archived
    FROM moved m;
END;
$$;
