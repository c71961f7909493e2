-- 0008: the hourly/daily anomaly aggregates are folded in bulk instead of upserted by every write.
-- The statement-level trigger of 0003 upserted one hour row and one day row per service and batch:
-- about a quarter of the server's CPU per written anomaly (docs/BENCHMARKS.md, "PostgreSQL store").
-- Now the trigger appends the batch's per-(service, hour) deltas to ml_anomaly_stats_pending, a log
-- without indexes, and ml_rollup_anomaly_stats() folds the log into ml_anomaly_stats_hourly/daily:
-- the store calls it about once a second (PgSettings::statsRollupInterval), and anyone may. Every
-- writer (also psql) still feeds the aggregates through the trigger. Between two roll-ups the tables
-- lag; ml_v_anomaly_stats_hourly/daily (table + log) and ml_v_anomaly_trends are always exact.

-- One row per writing statement and (service, hour). The counts of one statement fit an integer,
-- and sums of integers are bigint: the roll-up adds them without numeric arithmetic.
CREATE TABLE ml_anomaly_stats_pending (
    hour_start        timestamptz      NOT NULL,
    service           text COLLATE "C" NOT NULL,
    total_anomalies   integer          NOT NULL,
    critical_count    integer          NOT NULL,
    high_count        integer          NOT NULL,
    medium_count      integer          NOT NULL,
    low_count         integer          NOT NULL,
    confidence_sum    double precision NOT NULL,
    resolved_count    integer          NOT NULL
);

-- Inserted rows add their contribution, updated rows take the old one away and add the new one.
CREATE OR REPLACE FUNCTION ml_anomalies_maintain_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ml_anomaly_stats_pending
        SELECT date_bin('1 hour', n."timestamp", timestamptz '2000-01-01 00:00:00+00'), n.service, count(*),
               count(*) FILTER (WHERE n.severity = 'critical'), count(*) FILTER (WHERE n.severity = 'high'),
               count(*) FILTER (WHERE n.severity = 'medium'), count(*) FILTER (WHERE n.severity = 'low'),
               sum(n.confidence_score), count(*) FILTER (WHERE n.resolved)
        FROM new_rows n
        GROUP BY 1, 2;
    ELSE
        INSERT INTO ml_anomaly_stats_pending
        SELECT date_bin('1 hour', c."timestamp", timestamptz '2000-01-01 00:00:00+00'), c.service, sum(c.sign),
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'critical'), 0),
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'high'), 0),
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'medium'), 0),
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'low'), 0),
               sum(c.sign * c.confidence_score), COALESCE(sum(c.sign) FILTER (WHERE c.resolved), 0)
        FROM (SELECT 1 AS sign, n.service, n."timestamp", n.severity, n.confidence_score, n.resolved FROM new_rows n
              UNION ALL
              SELECT -1, o.service, o."timestamp", o.severity, o.confidence_score, o.resolved FROM old_rows o) c
        GROUP BY 1, 2;
    END IF;
    RETURN NULL;
END;
$$;

-- Moves every delta committed before the call into the aggregate tables, in one transaction;
-- returns how many log rows it folded. Roll-ups take turns (a transaction-level advisory lock), so
-- they neither deadlock on the log's rows nor fold a delta twice; the next in line sees what the
-- previous one left.
CREATE FUNCTION ml_rollup_anomaly_stats() RETURNS bigint
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(x'4d4c524f4c4c5550'::bigint);
    WITH moved AS (
        DELETE FROM ml_anomaly_stats_pending RETURNING *
    ), hourly AS (
        INSERT INTO ml_anomaly_stats_hourly AS s (hour_start, service, total_anomalies, critical_count,
                                                  high_count, medium_count, low_count, confidence_sum,
                                                  resolved_count)
        SELECT m.hour_start, m.service, sum(m.total_anomalies), sum(m.critical_count), sum(m.high_count),
               sum(m.medium_count), sum(m.low_count), sum(m.confidence_sum), sum(m.resolved_count)
        FROM moved m
        GROUP BY m.service, m.hour_start
        ORDER BY m.service, m.hour_start
        ON CONFLICT (service, hour_start) DO UPDATE SET
            total_anomalies = s.total_anomalies + excluded.total_anomalies,
            critical_count = s.critical_count + excluded.critical_count,
            high_count = s.high_count + excluded.high_count,
            medium_count = s.medium_count + excluded.medium_count,
            low_count = s.low_count + excluded.low_count,
            confidence_sum = s.confidence_sum + excluded.confidence_sum,
            resolved_count = s.resolved_count + excluded.resolved_count,
            updated_at = now()
        RETURNING 1
    ), daily AS (
        INSERT INTO ml_anomaly_stats_daily AS s (day, service, total_anomalies, critical_count, high_count,
                                                 medium_count, low_count, confidence_sum, resolved_count)
        SELECT (m.hour_start AT TIME ZONE 'UTC')::date, m.service, sum(m.total_anomalies), sum(m.critical_count),
               sum(m.high_count), sum(m.medium_count), sum(m.low_count), sum(m.confidence_sum),
               sum(m.resolved_count)
        FROM moved m
        GROUP BY 2, 1
        ORDER BY 2, 1
        ON CONFLICT (service, day) DO UPDATE SET
            total_anomalies = s.total_anomalies + excluded.total_anomalies,
            critical_count = s.critical_count + excluded.critical_count,
            high_count = s.high_count + excluded.high_count,
            medium_count = s.medium_count + excluded.medium_count,
            low_count = s.low_count + excluded.low_count,
            confidence_sum = s.confidence_sum + excluded.confidence_sum,
            resolved_count = s.resolved_count + excluded.resolved_count,
            updated_at = now()
        RETURNING 1
    )
    SELECT count(*) FROM moved;
$$;

-- Hour rows are now mostly inserted once and updated by a few roll-ups, not by every batch: new
-- pages of the hourly table are filled again (0005 left 30 % free for per-batch updates).
ALTER TABLE ml_anomaly_stats_hourly SET (fillfactor = 100);

-- The aggregates as they are after a roll-up, without one: the tables plus the log's deltas.
CREATE VIEW ml_v_anomaly_stats_hourly AS
SELECT hour_start, service, total_anomalies, critical_count, high_count, medium_count, low_count,
       confidence_sum, resolved_count,
       confidence_sum / NULLIF(total_anomalies, 0) AS avg_confidence,
       resolved_count::double precision / NULLIF(total_anomalies, 0) AS resolution_rate
FROM (SELECT hour_start, service, sum(total_anomalies)::bigint AS total_anomalies, sum(critical_count)::bigint AS critical_count,
             sum(high_count)::bigint AS high_count, sum(medium_count)::bigint AS medium_count, sum(low_count)::bigint AS low_count,
             sum(confidence_sum) AS confidence_sum, sum(resolved_count)::bigint AS resolved_count
      FROM (SELECT hour_start, service, total_anomalies, critical_count, high_count, medium_count, low_count,
                   confidence_sum, resolved_count
            FROM ml_anomaly_stats_hourly
            UNION ALL
            SELECT hour_start, service, total_anomalies, critical_count, high_count, medium_count, low_count,
                   confidence_sum, resolved_count
            FROM ml_anomaly_stats_pending) AS both_parts
      GROUP BY hour_start, service) AS summed;

CREATE VIEW ml_v_anomaly_stats_daily AS
SELECT day, service, total_anomalies, critical_count, high_count, medium_count, low_count,
       confidence_sum, resolved_count,
       confidence_sum / NULLIF(total_anomalies, 0) AS avg_confidence,
       resolved_count::double precision / NULLIF(total_anomalies, 0) AS resolution_rate
FROM (SELECT day, service, sum(total_anomalies)::bigint AS total_anomalies, sum(critical_count)::bigint AS critical_count,
             sum(high_count)::bigint AS high_count, sum(medium_count)::bigint AS medium_count, sum(low_count)::bigint AS low_count,
             sum(confidence_sum) AS confidence_sum, sum(resolved_count)::bigint AS resolved_count
      FROM (SELECT day, service, total_anomalies, critical_count, high_count, medium_count, low_count,
                   confidence_sum, resolved_count
            FROM ml_anomaly_stats_daily
            UNION ALL
            SELECT (hour_start AT TIME ZONE 'UTC')::date, service, total_anomalies, critical_count, high_count,
                   medium_count, low_count, confidence_sum, resolved_count
            FROM ml_anomaly_stats_pending) AS both_parts
      GROUP BY day, service) AS summed;

-- The trends read the exact daily aggregates (otherwise as in 0004).
CREATE OR REPLACE VIEW ml_v_anomaly_trends AS
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
    FROM ml_v_anomaly_stats_daily d
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

-- The repair path recomputes its days from the anomalies, so the log's deltas for those days are
-- dropped with the old aggregates. The lock holds back writers' deltas until the recompute commits:
-- a delta logged before it is dropped and counted by the recompute, one logged after it belongs to
-- rows the recompute did not see.
CREATE OR REPLACE FUNCTION ml_refresh_anomaly_stats(p_from timestamptz, p_to timestamptz,
                                                    OUT hourly_rows bigint, OUT daily_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    day_from constant date := (p_from AT TIME ZONE 'UTC')::date;
    day_to constant date := (p_to AT TIME ZONE 'UTC')::date + 1;
    ts_from constant timestamptz := day_from::timestamp AT TIME ZONE 'UTC';
    ts_to constant timestamptz := day_to::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ml_refresh_anomaly_stats: need p_from <= p_to, got [%, %)', p_from, p_to;
    END IF;
    LOCK TABLE ml_anomaly_stats_pending IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM ml_anomaly_stats_pending WHERE hour_start >= ts_from AND hour_start < ts_to;
    DELETE FROM ml_anomaly_stats_hourly WHERE hour_start >= ts_from AND hour_start < ts_to;
    DELETE FROM ml_anomaly_stats_daily WHERE day >= day_from AND day < day_to;
    PERFORM ml_apply_anomaly_stats(ARRAY(
        SELECT ROW(1, a.service, a."timestamp", a.severity, a.confidence_score, a.resolved)::ml_anomaly_stats_row
        FROM ml_anomalies a WHERE a."timestamp" >= ts_from AND a."timestamp" < ts_to
        UNION ALL
        SELECT ROW(1, a.service, a."timestamp", a.severity, a.confidence_score, a.resolved)::ml_anomaly_stats_row
        FROM ml_anomalies_archive a WHERE a."timestamp" >= ts_from AND a."timestamp" < ts_to));
    SELECT count(*) INTO hourly_rows FROM ml_anomaly_stats_hourly WHERE hour_start >= ts_from AND hour_start < ts_to;
    SELECT count(*) INTO daily_rows FROM ml_anomaly_stats_daily WHERE day >= day_from AND day < day_to;
END;
$$;
