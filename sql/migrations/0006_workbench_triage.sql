-- 0006: triage from the workbench. ml_anomaly_history also records acknowledgements and
-- false-positive verdicts (which do not change `resolved`), and the status trigger records who
-- acted: the application may name its user in the transaction (SET LOCAL stacklens.actor = '...'),
-- otherwise the database role is recorded as before.

ALTER TABLE ml_anomaly_history DROP CONSTRAINT ml_anomaly_history_status_check;
ALTER TABLE ml_anomaly_history ADD CONSTRAINT ml_anomaly_history_status_check CHECK (
    new_status IN ('open', 'acknowledged', 'resolved', 'false_positive')
    AND (old_status IS NULL OR old_status IN ('open', 'acknowledged', 'resolved', 'false_positive')));

CREATE OR REPLACE FUNCTION ml_anomalies_log_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ml_anomaly_history (anomaly_id, old_status, new_status, changed_by, note)
    VALUES (NEW.anomaly_id,
            CASE WHEN OLD.resolved THEN 'resolved' ELSE 'open' END,
            CASE WHEN NEW.resolved THEN 'resolved' ELSE 'open' END,
            COALESCE(NULLIF(current_setting('stacklens.actor', true), ''), current_user),
            COALESCE(current_setting('stacklens.note', true), ''));
    RETURN NULL;
END;
$$;
