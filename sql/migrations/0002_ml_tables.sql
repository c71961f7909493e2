-- 0002: the ML schema's 9 tables (names and the columns the original's queries use are kept),
-- plus the archive that retention moves old anomalies into.
-- Enumerations are text with CHECK constraints holding the snake_case names of
-- stacklens/core/records.h (a new value needs a migration that widens the check). Identifiers
-- (ids, service names) use the "C" collation: byte order, and B-tree comparisons without the
-- locale's cost.

-- 1. Detected anomalies (AnomalyRecord). anomaly_id is the MD5 hex of service|timestamp|type,
--    so a replayed message maps onto the same row.
CREATE TABLE ml_anomalies (
    anomaly_id         text COLLATE "C"  NOT NULL,
    service            text COLLATE "C"  NOT NULL,
    "timestamp"        timestamptz      NOT NULL,
    anomaly_type       text             NOT NULL,
    severity           text             NOT NULL,
    confidence_score   double precision NOT NULL,
    anomaly_score      double precision NOT NULL DEFAULT 0,
    detection_methods  text[]           NOT NULL DEFAULT '{}',
    metric_values      jsonb            NOT NULL DEFAULT '{}',
    expected_values    jsonb            NOT NULL DEFAULT '{}',
    description        text             NOT NULL DEFAULT '',
    resolved           boolean          NOT NULL DEFAULT false,
    resolved_at        timestamptz,
    created_at         timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ml_anomalies_pkey PRIMARY KEY (anomaly_id),
    CONSTRAINT ml_anomalies_id_check CHECK (
        octet_length(anomaly_id) = 32 AND translate(anomaly_id, '0123456789abcdef', '') = ''),
    CONSTRAINT ml_anomalies_service_check CHECK (service <> ''),
    CONSTRAINT ml_anomalies_type_check CHECK (anomaly_type IN (
        'error_spike', 'latency_degradation', 'traffic_drop', 'traffic_surge',
        'risk_elevation', 'pattern_shift', 'trend_change', 'outlier')),
    CONSTRAINT ml_anomalies_severity_check CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT ml_anomalies_confidence_check CHECK (confidence_score BETWEEN 0 AND 1),
    CONSTRAINT ml_anomalies_score_check CHECK (anomaly_score BETWEEN 0 AND 1),
    CONSTRAINT ml_anomalies_metric_values_check CHECK (jsonb_typeof(metric_values) = 'object'),
    CONSTRAINT ml_anomalies_expected_values_check CHECK (jsonb_typeof(expected_values) = 'object'),
    CONSTRAINT ml_anomalies_resolved_at_check CHECK (resolved OR resolved_at IS NULL)
);
CREATE INDEX ml_anomalies_service_timestamp_idx ON ml_anomalies (service, "timestamp");
-- Anomalies arrive roughly in time order: a BRIN index serves "the last hour / day" across all
-- services at a fraction of a B-tree's cost per insert.
CREATE INDEX ml_anomalies_timestamp_idx ON ml_anomalies USING brin ("timestamp");
CREATE INDEX ml_anomalies_severity_idx ON ml_anomalies (severity, "timestamp");
CREATE INDEX ml_anomalies_type_idx ON ml_anomalies (anomaly_type, "timestamp");
CREATE INDEX ml_anomalies_open_critical_idx ON ml_anomalies ("timestamp")
    WHERE severity = 'critical' AND NOT resolved;

-- 2. Audit trail of status changes (filled by a trigger when resolved changes).
CREATE TABLE ml_anomaly_history (
    history_id   bigint      GENERATED ALWAYS AS IDENTITY,
    anomaly_id   text COLLATE "C" NOT NULL,
    old_status   text,
    new_status   text        NOT NULL,
    changed_by   text        NOT NULL DEFAULT current_user,
    note         text        NOT NULL DEFAULT '',
    changed_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ml_anomaly_history_pkey PRIMARY KEY (history_id),
    CONSTRAINT ml_anomaly_history_anomaly_fkey FOREIGN KEY (anomaly_id)
        REFERENCES ml_anomalies (anomaly_id) ON DELETE CASCADE,
    CONSTRAINT ml_anomaly_history_status_check CHECK (
        new_status IN ('open', 'resolved') AND (old_status IS NULL OR old_status IN ('open', 'resolved')))
);
CREATE INDEX ml_anomaly_history_anomaly_idx ON ml_anomaly_history (anomaly_id, changed_at);

-- 3. Model versions (ModelRecord). The four classic metrics are columns (ml_v_model_health
--    reads them); every metric the engine reports is also in the metrics object.
CREATE TABLE ml_models (
    model_id          text COLLATE "C"  NOT NULL,
    service           text COLLATE "C"  NOT NULL,
    model_type        text             NOT NULL,
    version           integer          NOT NULL,
    trained_at        timestamptz      NOT NULL,
    training_samples  integer          NOT NULL DEFAULT 0,
    accuracy          double precision,
    "precision"       double precision,
    recall            double precision,
    f1_score          double precision,
    metrics           jsonb            NOT NULL DEFAULT '{}',
    hyperparameters   jsonb            NOT NULL DEFAULT '{}',
    model_blob        bytea            NOT NULL DEFAULT '',
    active            boolean          NOT NULL DEFAULT true,
    created_at        timestamptz      NOT NULL DEFAULT now(),
    updated_at        timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ml_models_pkey PRIMARY KEY (model_id),
    CONSTRAINT ml_models_version_key UNIQUE (service, model_type, version),
    CONSTRAINT ml_models_service_check CHECK (service <> '' AND model_type <> ''),
    CONSTRAINT ml_models_version_check CHECK (version >= 1),
    CONSTRAINT ml_models_samples_check CHECK (training_samples >= 0),
    CONSTRAINT ml_models_metric_range_check CHECK (
        (accuracy IS NULL OR accuracy BETWEEN 0 AND 1) AND ("precision" IS NULL OR "precision" BETWEEN 0 AND 1)
        AND (recall IS NULL OR recall BETWEEN 0 AND 1) AND (f1_score IS NULL OR f1_score BETWEEN 0 AND 1)),
    CONSTRAINT ml_models_json_check CHECK (
        jsonb_typeof(metrics) = 'object' AND jsonb_typeof(hyperparameters) = 'object')
);
-- At most one active version per service and model type.
CREATE UNIQUE INDEX ml_models_one_active_idx ON ml_models (service, model_type) WHERE active;

-- 4. Behaviour patterns: one DBSCAN cluster signature (PatternRecord), 8-D vectors in the
--    feature order of records.h.
CREATE TABLE ml_patterns (
    pattern_id     text COLLATE "C"    NOT NULL,
    service        text COLLATE "C"    NOT NULL,
    cluster_label  integer            NOT NULL,
    centroid       double precision[] NOT NULL,
    spread         double precision[] NOT NULL,
    cluster_size   integer            NOT NULL,
    share          double precision   NOT NULL,
    first_seen     timestamptz        NOT NULL,
    last_seen      timestamptz        NOT NULL,
    created_at     timestamptz        NOT NULL DEFAULT now(),
    updated_at     timestamptz        NOT NULL DEFAULT now(),
    CONSTRAINT ml_patterns_pkey PRIMARY KEY (pattern_id),
    CONSTRAINT ml_patterns_service_check CHECK (service <> ''),
    CONSTRAINT ml_patterns_vectors_check CHECK (
        array_ndims(centroid) = 1 AND cardinality(centroid) = 8
        AND array_ndims(spread) = 1 AND cardinality(spread) = 8),
    CONSTRAINT ml_patterns_size_check CHECK (cluster_size >= 0 AND share BETWEEN 0 AND 1),
    CONSTRAINT ml_patterns_seen_check CHECK (last_seen >= first_seen)
);
CREATE INDEX ml_patterns_service_idx ON ml_patterns (service, last_seen);

-- 5. Trend analysis of one metric of one service (TrendRecord).
CREATE TABLE ml_trends (
    service            text COLLATE "C"  NOT NULL,
    metric             text             NOT NULL,
    "timestamp"        timestamptz      NOT NULL,
    direction          text             NOT NULL,
    magnitude          double precision NOT NULL,
    slope              double precision NOT NULL,
    seasonality_score  double precision NOT NULL DEFAULT 0,
    seasonal_period    integer          NOT NULL DEFAULT 0,
    change_point       boolean          NOT NULL DEFAULT false,
    change_point_at    timestamptz,
    created_at         timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ml_trends_pkey PRIMARY KEY (service, metric, "timestamp"),
    CONSTRAINT ml_trends_service_check CHECK (service <> '' AND metric <> ''),
    CONSTRAINT ml_trends_direction_check CHECK (direction IN ('down', 'stable', 'up')),
    CONSTRAINT ml_trends_magnitude_check CHECK (magnitude BETWEEN -1 AND 1),
    CONSTRAINT ml_trends_seasonality_check CHECK (seasonality_score BETWEEN -1 AND 1 AND seasonal_period >= 0),
    CONSTRAINT ml_trends_change_point_check CHECK (change_point OR change_point_at IS NULL)
);

-- 6./7. Aggregates per service and UTC hour / UTC day, kept current by triggers on
--    ml_anomalies (0003) and recomputable with ml_refresh_anomaly_stats(). They count every
--    anomaly ever recorded, live or archived. No CHECK on the counts: the triggers add signed
--    deltas through INSERT ... ON CONFLICT, and PostgreSQL checks the proposed delta row too.
CREATE TABLE ml_anomaly_stats_hourly (
    hour_start              timestamptz      NOT NULL,
    service                 text COLLATE "C"  NOT NULL,
    total_anomalies         bigint           NOT NULL DEFAULT 0,
    critical_count          bigint           NOT NULL DEFAULT 0,
    high_count              bigint           NOT NULL DEFAULT 0,
    medium_count            bigint           NOT NULL DEFAULT 0,
    low_count               bigint           NOT NULL DEFAULT 0,
    confidence_sum          double precision NOT NULL DEFAULT 0,
    resolved_count          bigint           NOT NULL DEFAULT 0,
    avg_confidence          double precision GENERATED ALWAYS AS
        (confidence_sum / NULLIF(total_anomalies, 0)) STORED,
    resolution_rate         double precision GENERATED ALWAYS AS
        (resolved_count::double precision / NULLIF(total_anomalies, 0)) STORED,
    updated_at              timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ml_anomaly_stats_hourly_pkey PRIMARY KEY (service, hour_start)
);

-- The same columns per UTC day (day last in SELECT *).
CREATE TABLE ml_anomaly_stats_daily (LIKE ml_anomaly_stats_hourly INCLUDING DEFAULTS INCLUDING GENERATED);
ALTER TABLE ml_anomaly_stats_daily
    DROP COLUMN hour_start,
    ADD COLUMN day date NOT NULL,
    ADD CONSTRAINT ml_anomaly_stats_daily_pkey PRIMARY KEY (service, day);

-- 8. Forecast steps (ForecastRecord); actual_value is filled in when the target time has
--    passed, and prediction_error follows from it.
CREATE TABLE ml_forecasts (
    service           text COLLATE "C"  NOT NULL,
    metric            text             NOT NULL,
    created_at        timestamptz      NOT NULL,
    step              integer          NOT NULL,
    target_time       timestamptz      NOT NULL,
    forecast_value    double precision NOT NULL,
    lower_bound       double precision NOT NULL,
    upper_bound       double precision NOT NULL,
    confidence_level  double precision NOT NULL DEFAULT 90,
    model             text             NOT NULL DEFAULT '',
    actual_value      double precision,
    prediction_error  double precision GENERATED ALWAYS AS (actual_value - forecast_value) STORED,
    CONSTRAINT ml_forecasts_pkey PRIMARY KEY (service, metric, created_at, step),
    CONSTRAINT ml_forecasts_service_check CHECK (service <> '' AND metric <> ''),
    CONSTRAINT ml_forecasts_step_check CHECK (step >= 1),
    CONSTRAINT ml_forecasts_interval_check CHECK (lower_bound <= upper_bound),
    CONSTRAINT ml_forecasts_level_check CHECK (confidence_level > 0 AND confidence_level < 100)
);
CREATE INDEX ml_forecasts_target_idx ON ml_forecasts (service, metric, target_time);

-- 9. Predicted problems (PredictiveAlert), with send and materialization tracking.
CREATE TABLE ml_predictive_alerts (
    alert_id               text COLLATE "C"  NOT NULL,
    service                text COLLATE "C"  NOT NULL,
    metric                 text             NOT NULL DEFAULT '',
    predicted_event        text             NOT NULL,
    prediction_confidence  double precision NOT NULL,
    breach_probability     double precision NOT NULL DEFAULT 0,
    threshold              double precision NOT NULL DEFAULT 0,
    predicted_time_start   timestamptz      NOT NULL,
    predicted_time_end     timestamptz      NOT NULL,
    severity               text             NOT NULL DEFAULT 'medium',
    recommendation         text             NOT NULL DEFAULT '',
    created_at             timestamptz      NOT NULL DEFAULT now(),
    alert_sent             boolean          NOT NULL DEFAULT false,
    sent_at                timestamptz,
    materialized           boolean          NOT NULL DEFAULT false,
    materialized_at        timestamptz,
    CONSTRAINT ml_predictive_alerts_pkey PRIMARY KEY (alert_id),
    CONSTRAINT ml_predictive_alerts_service_check CHECK (service <> '' AND predicted_event <> ''),
    CONSTRAINT ml_predictive_alerts_confidence_check CHECK (
        prediction_confidence BETWEEN 0 AND 1 AND breach_probability BETWEEN 0 AND 1),
    CONSTRAINT ml_predictive_alerts_window_check CHECK (predicted_time_end >= predicted_time_start),
    CONSTRAINT ml_predictive_alerts_severity_check CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT ml_predictive_alerts_materialized_check CHECK (materialized OR materialized_at IS NULL)
);
CREATE INDEX ml_predictive_alerts_service_idx ON ml_predictive_alerts (service, predicted_time_start);
CREATE INDEX ml_predictive_alerts_created_idx ON ml_predictive_alerts (created_at);
CREATE INDEX ml_predictive_alerts_unsent_idx ON ml_predictive_alerts (created_at) WHERE NOT alert_sent;

-- Retention target of ml_archive_old_anomalies(): the anomaly row as it was, its status
-- history as a JSON array, and when it was archived.
CREATE TABLE ml_anomalies_archive (LIKE ml_anomalies INCLUDING DEFAULTS);
ALTER TABLE ml_anomalies_archive
    ADD COLUMN history jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT ml_anomalies_archive_pkey PRIMARY KEY (anomaly_id);
CREATE INDEX ml_anomalies_archive_timestamp_idx ON ml_anomalies_archive ("timestamp");
CREATE INDEX ml_anomalies_archive_service_idx ON ml_anomalies_archive (service, "timestamp");
