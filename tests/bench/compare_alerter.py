#!/usr/bin/python3
"""Predictive alerter per-anomaly cost: StackLens' pipeline versus the original's work in
statsmodels 0.13.5, in the same run, on the same rows.

    /usr/bin/python3 tests/bench/compare_alerter.py [--build build-bench] [--messages 20] [--repetitions 5]

StackLens: Google Benchmark medians of bench/bench_alerter, BM_AlerterNewHour (one anomaly per new
hour: 4-hour history re-read, forecasts of the 5 thresholded metrics, breach simulation with 1000
paths, a capacity plan every 100 anomalies), with the original's fixed ARIMA(1,1,1) and with
automatic seasonal orders.

Reference (the original predictive_alerter's per-message work): for each of the same 5 metrics,
statsmodels ARIMA(1,1,1) fitted to the same 168 hourly rows, a 24-step forecast with its 90%
interval and the threshold check (mean or upper bound above the threshold). The original read only
4 hours per message; ARIMA(1,1,1) cannot be fitted to 4 hourly points, so the reference gets the
same 7-day window StackLens fits on. CPU times on both sides (the machine is shared).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.arima.model import ARIMA  # before the filter below: statsmodels resets warning filters

THRESHOLDS = {"error_rate": 5.0, "latency_mean_ms": 500.0, "latency_p95_ms": 800.0, "latency_p99_ms": 1000.0,
              "risk_score": 0.8}
FIRST_ANOMALY_HOUR = 7 * 24


def bench_stacklens(build, repetitions):
    out = subprocess.run([os.path.join(build, "bench", "bench_alerter"), "--benchmark_filter=BM_Alerter",
                          f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    medians = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
            medians[b["run_name"]] = (b["cpu_time"] * scale, b["real_time"] * scale)
    return medians


def original_message(frame, hour):
    window = frame.iloc[hour - 167:hour + 1]
    breaches = 0
    for metric, threshold in THRESHOLDS.items():
        fit = ARIMA(window[metric].to_numpy(), order=(1, 1, 1)).fit()
        forecast = fit.get_forecast(24)
        upper = forecast.conf_int(alpha=0.1)[:, 1]
        breaches += bool(np.any(forecast.predicted_mean > threshold) or np.any(upper > threshold))
    return breaches


def bench_statsmodels(frame, messages):
    cpu, wall = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original_message(frame, FIRST_ANOMALY_HOUR)  # warm-up (imports, caches)
        for hour in range(FIRST_ANOMALY_HOUR + 1, FIRST_ANOMALY_HOUR + 1 + messages):
            c0, w0 = time.process_time(), time.perf_counter()
            original_message(frame, hour)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build-bench")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as f:
        path = f.name
    subprocess.run([os.path.join(args.build, "bench", "bench_alerter"), "--write-history", path], check=True)
    frame = pd.read_csv(path)
    os.unlink(path)

    ours = bench_stacklens(args.build, args.repetitions)
    ref_cpu, ref_wall = bench_statsmodels(frame, args.messages)

    print(f"{'per anomaly (5 metrics)':48s} {'CPU ms':>10s} {'wall ms':>10s} {'ratio (CPU)':>12s}")
    print(f"{'statsmodels ARIMA(1,1,1) x5 (the original)':48s} {1e3 * ref_cpu:10.2f} {1e3 * ref_wall:10.2f}")
    for name, (cpu, wall) in sorted(ours.items()):
        print(f"{'StackLens ' + name:48s} {1e3 * cpu:10.3f} {1e3 * wall:10.3f} {ref_cpu / cpu:11.1f}x")


if __name__ == "__main__":
    main()
