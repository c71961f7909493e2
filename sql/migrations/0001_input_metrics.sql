-- 0001: Phase 4's hourly aggregates, the history the ML service trains on.
-- One row per service and window; the columns are the fields of an analytics-alerts message
-- ("window": "3600s" becomes window_seconds = 3600) plus created_at.
-- IF NOT EXISTS: in a deployment next to Phase 4 the table may already exist; it is kept as is.
CREATE TABLE IF NOT EXISTS analytics_metrics_1hour (
    service          text COLLATE "C"  NOT NULL,
    "timestamp"      timestamptz      NOT NULL,
    window_seconds   integer          NOT NULL DEFAULT 3600,
    total_requests   double precision NOT NULL DEFAULT 0,
    error_rate       double precision NOT NULL DEFAULT 0,
    latency_p99_ms   double precision NOT NULL DEFAULT 0,
    latency_p95_ms   double precision NOT NULL DEFAULT 0,
    latency_mean_ms  double precision NOT NULL DEFAULT 0,
    unique_users     double precision NOT NULL DEFAULT 0,
    unique_ips       double precision NOT NULL DEFAULT 0,
    risk_score       double precision NOT NULL DEFAULT 0,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT analytics_metrics_1hour_pkey PRIMARY KEY (service, "timestamp"),
    CONSTRAINT analytics_metrics_1hour_service_check CHECK (service <> ''),
    CONSTRAINT analytics_metrics_1hour_window_check CHECK (window_seconds > 0),
    CONSTRAINT analytics_metrics_1hour_nonnegative_check CHECK (
        total_requests >= 0 AND error_rate >= 0 AND latency_p99_ms >= 0 AND latency_p95_ms >= 0
        AND latency_mean_ms >= 0 AND unique_users >= 0 AND unique_ips >= 0 AND risk_score >= 0)
);

-- The primary key (service, timestamp) serves "7 days of one service"; this one serves the
-- quick start's "rows written in the last 24 hours" check.
CREATE INDEX IF NOT EXISTS analytics_metrics_1hour_created_at_idx ON analytics_metrics_1hour (created_at);

COMMENT ON TABLE analytics_metrics_1hour IS
    'Phase 4 hourly aggregates per service (input of the ML service; 7 days per service are its training history)';
