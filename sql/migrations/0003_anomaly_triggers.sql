-- 0003: what keeps the derived tables right without anyone remembering to: the status audit
-- trail (ml_anomaly_history) and the hourly/daily aggregates (ml_anomaly_stats_*).

-- Status changes: resolved_at follows resolved, and every change is logged with who made it and
-- an optional note (SET LOCAL stacklens.note = '...' in the same transaction).
CREATE FUNCTION ml_anomalies_track_resolution() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.resolved AND NOT OLD.resolved THEN
        NEW.resolved_at := COALESCE(NEW.resolved_at, now());
    ELSIF NOT NEW.resolved THEN
        NEW.resolved_at := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION ml_anomalies_log_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ml_anomaly_history (anomaly_id, old_status, new_status, note)
    VALUES (NEW.anomaly_id,
            CASE WHEN OLD.resolved THEN 'resolved' ELSE 'open' END,
            CASE WHEN NEW.resolved THEN 'resolved' ELSE 'open' END,
            COALESCE(current_setting('stacklens.note', true), ''));
    RETURN NULL;
END;
$$;

CREATE TRIGGER ml_anomalies_track_resolution BEFORE UPDATE OF resolved ON ml_anomalies
    FOR EACH ROW WHEN (OLD.resolved IS DISTINCT FROM NEW.resolved)
    EXECUTE FUNCTION ml_anomalies_track_resolution();
CREATE TRIGGER ml_anomalies_log_status AFTER UPDATE OF resolved ON ml_anomalies
    FOR EACH ROW WHEN (OLD.resolved IS DISTINCT FROM NEW.resolved)
    EXECUTE FUNCTION ml_anomalies_log_status();

-- The one statement that adds rows' contributions to the hourly and daily aggregates. SOURCE is a
-- query yielding (sign, service, "timestamp", severity, confidence_score, resolved); sign is +1
-- for rows to add and -1 for rows to take away. Buckets are UTC hours and days, locked in key
-- order so that concurrent writers cannot deadlock on them.
CREATE FUNCTION ml_anomaly_stats_upsert_sql(source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    WITH delta AS (
        SELECT date_trunc('hour', r."timestamp", 'UTC') AS hour_start, r.service,
               sum(r.sign) AS total_anomalies,
               sum(CASE WHEN r.severity = 'critical' THEN r.sign ELSE 0 END) AS critical_count,
               sum(CASE WHEN r.severity = 'high' THEN r.sign ELSE 0 END) AS high_count,
               sum(CASE WHEN r.severity = 'medium' THEN r.sign ELSE 0 END) AS medium_count,
               sum(CASE WHEN r.severity = 'low' THEN r.sign ELSE 0 END) AS low_count,
               sum(r.sign * r.confidence_score) AS confidence_sum,
               sum(CASE WHEN r.resolved THEN r.sign ELSE 0 END) AS resolved_count
        FROM (%s) AS r
        GROUP BY 1, 2
    ), hourly AS (
        INSERT INTO ml_anomaly_stats_hourly AS s (hour_start, service, total_anomalies, critical_count,
                                                  high_count, medium_count, low_count, confidence_sum,
                                                  resolved_count)
        SELECT * FROM delta ORDER BY hour_start, service
        ON CONFLICT (hour_start, service) DO UPDATE SET
            total_anomalies = s.total_anomalies + excluded.total_anomalies,
            critical_count = s.critical_count + excluded.critical_count,
            high_count = s.high_count + excluded.high_count,
            medium_count = s.medium_count + excluded.medium_count,
            low_count = s.low_count + excluded.low_count,
            confidence_sum = s.confidence_sum + excluded.confidence_sum,
            resolved_count = s.resolved_count + excluded.resolved_count,
            updated_at = now()
    )
    INSERT INTO ml_anomaly_stats_daily AS s (day, service, total_anomalies, critical_count, high_count,
                                             medium_count, low_count, confidence_sum, resolved_count)
    SELECT (hour_start AT TIME ZONE 'UTC')::date AS day, service, sum(total_anomalies), sum(critical_count),
           sum(high_count), sum(medium_count), sum(low_count), sum(confidence_sum), sum(resolved_count)
    FROM delta
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, service) DO UPDATE SET
        total_anomalies = s.total_anomalies + excluded.total_anomalies,
        critical_count = s.critical_count + excluded.critical_count,
        high_count = s.high_count + excluded.high_count,
        medium_count = s.medium_count + excluded.medium_count,
        low_count = s.low_count + excluded.low_count,
        confidence_sum = s.confidence_sum + excluded.confidence_sum,
        resolved_count = s.resolved_count + excluded.resolved_count,
        updated_at = now()
$q$, source);
$fn$;

-- Statement-level triggers see a whole batch at once (transition tables), so a COPY or a
-- multi-row INSERT of thousands of anomalies costs one aggregate, not one upsert per row.
-- Deletes are not subtracted: archived anomalies keep counting.
CREATE FUNCTION ml_anomalies_maintain_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    columns constant text := 'service, "timestamp", severity, confidence_score, resolved';
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE ml_anomaly_stats_upsert_sql(format('SELECT 1 AS sign, %s FROM new_rows', columns));
    ELSE
        EXECUTE ml_anomaly_stats_upsert_sql(format(
            'SELECT 1 AS sign, %1$s FROM new_rows UNION ALL SELECT -1, %1$s FROM old_rows', columns));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ml_anomalies_stats_insert AFTER INSERT ON ml_anomalies
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ml_anomalies_maintain_stats();
CREATE TRIGGER ml_anomalies_stats_update AFTER UPDATE ON ml_anomalies
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ml_anomalies_maintain_stats();

-- Recomputes the aggregates of the UTC days that overlap [p_from, p_to) from ml_anomalies and
-- ml_anomalies_archive: the repair path after manual edits, and the way to backfill.
CREATE FUNCTION ml_refresh_anomaly_stats(p_from timestamptz, p_to timestamptz,
                                         OUT hourly_rows bigint, OUT daily_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    day_from constant date := (p_from AT TIME ZONE 'UTC')::date;
    day_to constant date := (p_to AT TIME ZONE 'UTC')::date + 1;
    ts_from constant timestamptz := day_from::timestamp AT TIME ZONE 'UTC';
    ts_to constant timestamptz := day_to::timestamp AT TIME ZONE 'UTC';
    columns constant text := 'service, "timestamp", severity, confidence_score, resolved';
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ml_refresh_anomaly_stats: need p_from <= p_to, got [%, %)', p_from, p_to;
    END IF;
    DELETE FROM ml_anomaly_stats_hourly WHERE hour_start >= ts_from AND hour_start < ts_to;
    DELETE FROM ml_anomaly_stats_daily WHERE day >= day_from AND day < day_to;
    EXECUTE ml_anomaly_stats_upsert_sql(format(
        'SELECT 1 AS sign, %1$s FROM ml_anomalies WHERE "timestamp" >= %2$L AND "timestamp" < %3$L
         UNION ALL
         SELECT 1, %1$s FROM ml_anomalies_archive WHERE "timestamp" >= %2$L AND "timestamp" < %3$L',
        columns, ts_from, ts_to));
    SELECT count(*) INTO hourly_rows FROM ml_anomaly_stats_hourly WHERE hour_start >= ts_from AND hour_start < ts_to;
    SELECT count(*) INTO daily_rows FROM ml_anomaly_stats_daily WHERE day >= day_from AND day < day_to;
END;
$$;
