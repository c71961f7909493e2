#!/usr/bin/python3
"""The original system's way of writing anomalies, measured on the same server and schema.

The Python Phase 5 service stored each anomaly as it was detected: one INSERT and one commit per
anomaly through psycopg2 ("Database: write latency < 50 ms"). This script times that path, and
psycopg2's fastest batched form (execute_values, 1000 rows a statement, ON CONFLICT DO NOTHING),
on anomalies shaped like bench_pg_store's, in a database of its own that it migrates with
`stacklens db migrate`. Prints one JSON object: rows per second of each mode.

Usage (inside tests/harness/with-servers, which exports STACKLENS_TEST_PG_DSN):
  /usr/bin/python3 tests/bench/pg_store_reference.py --stacklens build/bin/stacklens [--rows 5000]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import psycopg2
import psycopg2.extras

COLUMNS = ("anomaly_id, service, \"timestamp\", anomaly_type, severity, confidence_score, anomaly_score, "
           "detection_methods, metric_values, expected_values, description, resolved")
BASE = 1705276800  # 2024-01-15T00:00:00Z
TYPES = ("error_spike", "latency_degradation")
SEVERITIES = ("low", "medium", "high", "critical")


def anomaly(n):
    """The n-th anomaly of bench_pg_store's fleet: 1000 services, two types per anomalous sample."""
    service = "service-%d" % ((n // 2) % 1000)
    timestamp = BASE + (n // 2000) * 3600
    kind = TYPES[n % 2]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    anomaly_id = hashlib.md5(("%s|%s|%s" % (service, stamp, kind)).encode()).hexdigest()
    return (anomaly_id, service, stamp, kind, SEVERITIES[n % 4], 0.5 + 0.001 * (n % 500), 0.7,
            ["isolation_forest", "dbscan"], json.dumps({"error_rate": 5.5, "latency_p99_ms": 900}),
            json.dumps({"error_rate": 0.5, "latency_p99_ms": 150}), "error rate 11x its baseline", False)


def per_row_commits(conn, first, count):
    cur = conn.cursor()
    sql = "INSERT INTO ml_anomalies (%s) VALUES (%s) ON CONFLICT (anomaly_id) DO NOTHING" % (
        COLUMNS, ", ".join(["%s"] * 12))
    started = time.perf_counter()
    for n in range(first, first + count):
        cur.execute(sql, anomaly(n))
        conn.commit()
    return count / (time.perf_counter() - started)


def execute_values(conn, first, count, batch=1000):
    cur = conn.cursor()
    sql = "INSERT INTO ml_anomalies (%s) VALUES %%s ON CONFLICT (anomaly_id) DO NOTHING" % COLUMNS
    rows = [anomaly(n) for n in range(first, first + count)]  # built before timing, as in the C++ bench
    started = time.perf_counter()
    for offset in range(0, count, batch):
        psycopg2.extras.execute_values(cur, sql, rows[offset:offset + batch], page_size=batch)
        conn.commit()
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacklens", required=True, help="the stacklens binary (for db migrate)")
    parser.add_argument("--rows", type=int, default=5000, help="anomalies per mode")
    args = parser.parse_args()
    admin_dsn = os.environ.get("STACKLENS_TEST_PG_DSN")
    if not admin_dsn:
        sys.exit("STACKLENS_TEST_PG_DSN is not set: run through tests/harness/with-servers")

    database = "sl_reference_%d" % os.getpid()
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE " + database)
    try:
        dsn = admin_dsn + " dbname=" + database
        subprocess.run([args.stacklens, "db", "migrate", "--dsn", dsn], check=True, stdout=subprocess.DEVNULL)
        conn = psycopg2.connect(dsn)
        # Warm the connection and the table the same way for both modes.
        execute_values(conn, 10_000_000, 1000)
        result = {
            "per_row_commits_rows_per_s": per_row_commits(conn, 0, args.rows),
            "execute_values_rows_per_s": execute_values(conn, 1_000_000, args.rows),
        }
        conn.close()
        print(json.dumps(result))
    finally:
        admin.cursor().execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database)
        admin.close()


if __name__ == "__main__":
    main()
