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

-- Contributions of anomaly rows to the aggregates: sign +1 adds a row, -1 takes it away.
CREATE TYPE ml_anomaly_stats_row AS (
    sign              integer,
    service           text,
    "timestamp"       timestamptz,
    severity          text,
    confidence_score  double precision,
    resolved          boolean
);

-- Adds rows' contributions to the hourly and daily aggregates (UTC hours and days). Buckets are
-- locked in key order, so concurrent writers cannot deadlock on them. PL/pgSQL keeps the plans.
CREATE FUNCTION ml_apply_anomaly_stats(contributions ml_anomaly_stats_row[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT date_bin('1 hour', c."timestamp", timestamptz '2000-01-01 00:00:00+00') AS hour_start, c.service,
               sum(c.sign) AS total_anomalies,
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'critical'), 0) AS critical_count,
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'high'), 0) AS high_count,
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'medium'), 0) AS medium_count,
               COALESCE(sum(c.sign) FILTER (WHERE c.severity = 'low'), 0) AS low_count,
               sum(c.sign * c.confidence_score) AS confidence_sum,
               COALESCE(sum(c.sign) FILTER (WHERE c.resolved), 0) AS resolved_count
        FROM unnest(contributions) AS c
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
    SELECT (d.hour_start AT TIME ZONE 'UTC')::date, d.service, sum(d.total_anomalies), sum(d.critical_count),
           sum(d.high_count), sum(d.medium_count), sum(d.low_count), sum(d.confidence_sum), sum(d.resolved_count)
    FROM delta d
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
        updated_at = now();
END;
$$;

-- Statement-level triggers see a whole batch at once (transition tables), so a COPY or a
-- multi-row INSERT of thousands of anomalies costs one aggregate, not one upsert per row.
-- Deletes are not subtracted: archived anomalies keep counting.
CREATE FUNCTION ml_anomalies_maintain_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ml_apply_anomaly_stats(ARRAY(
            SELECT ROW(1, n.service, n."timestamp", n.severity, n.confidence_score, n.resolved)::ml_anomaly_stats_row
            FROM new_rows n));
    ELSE
        PERFORM ml_apply_anomaly_stats(ARRAY(
            SELECT ROW(1, n.service, n."timestamp", n.severity, n.confidence_score, n.resolved)::ml_anomaly_stats_row
            FROM new_rows n
            UNION ALL
            SELECT ROW(-1, o.service, o."timestamp", o.severity, o.confidence_score, o.resolved)::ml_anomaly_stats_row
            FROM old_rows o));
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
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ml_refresh_anomaly_stats: need p_from <= p_to, got [%, %)', p_from, p_to;
    END IF;
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
