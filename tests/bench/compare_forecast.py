#!/usr/bin/python3
"""Forecasting engine versus R forecast 8.20 and statsmodels 0.13.5, in the same run, same data.

    /usr/bin/python3 tests/bench/compare_forecast.py [--build build] [--repetitions 30]
                     [--m4-r-forecasts FILE] [--threads 1]

Part 1: ARIMA(1,1,1) fit + 24-step forecast (90% interval) on 168 hourly points (the first week of
M4 H10, tests/data/forecast/m4_H10.csv): Google Benchmark medians of bench/bench_forecast, and the
median of `--repetitions` timed runs of R's forecast::Arima + forecast() and of statsmodels'
ARIMA(...).fit() + get_forecast(). CPU and wall times are both shown; on a shared machine the CPU
times are the fairer comparison, and the ratios use the same kind of time on both sides.

Part 2 (with --m4-r-forecasts, the output of m4_auto_arima_reference.R): automatic seasonal ARIMA on
the same M4 hourly series as R's auto.arima run (every 10th series unless the file says otherwise),
scoring both with `stacklens eval m4` (same hold-out, same metric code) and comparing total CPU times.

Needs a build configured with -DSTACKLENS_BENCHMARKS=ON (bench/bench_forecast and bin/stacklens).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERIES = os.path.join(ROOT, "tests", "data", "forecast", "m4_H10.csv")
M4 = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "m4-hourly", "Hourly-train.csv"))

R_TIMING = r"""
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
y <- ts(read.csv(args[1])$value, frequency = 24)
reps <- as.integer(args[2])
fit <- Arima(y, order = c(1, 1, 1)); fc <- forecast(fit, h = 24, level = 90)  # warm-up
cpu <- numeric(reps); wall <- numeric(reps)
for (i in seq_len(reps)) {
  t0 <- proc.time()
  fit <- Arima(y, order = c(1, 1, 1))
  fc <- forecast(fit, h = 24, level = 90)
  dt <- proc.time() - t0
  cpu[i] <- dt[["user.self"]] + dt[["sys.self"]]
  wall[i] <- dt[["elapsed"]]
}
cat(sprintf("%.9f %.9f %.10g\n", median(cpu), median(wall), fc$mean[24]))
"""


def bench_stacklens(build, path):
    out = subprocess.run([os.path.join(build, "bench", "bench_forecast"), "--series", path,
                          "--benchmark_filter=BM_Arima111FitForecast24", "--benchmark_repetitions=10",
                          "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
            return b["cpu_time"] * scale, b["real_time"] * scale
    raise RuntimeError("no median in the benchmark output")


def bench_r(path, reps):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as script:
        script.write(R_TIMING)
    out = subprocess.run(["Rscript", script.name, path, str(reps)], check=True, capture_output=True, text=True).stdout
    os.unlink(script.name)
    cpu, wall, last = out.split()
    return float(cpu), float(wall), float(last)


def bench_statsmodels(y, reps):
    from statsmodels.tsa.arima.model import ARIMA
    cpu, wall = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(reps + 1):
            c0, w0 = time.process_time(), time.perf_counter()
            res = ARIMA(y, order=(1, 1, 1)).fit()
            fc = res.get_forecast(24)
            fc.conf_int(alpha=0.1)
            if i > 0:  # the first run warms up imports and caches
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), float(fc.predicted_mean[-1])


def part1(args):
    y = pd.read_csv(SERIES)["value"].values[:168]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "week.csv")
        np.savetxt(path, y, header="value", comments="", fmt="%.17g")
        ours_cpu, ours_wall = bench_stacklens(args.build, path)
        r_cpu, r_wall, r_last = bench_r(path, args.repetitions)
        sm_cpu, sm_wall, sm_last = bench_statsmodels(y, args.repetitions)
    print("ARIMA(1,1,1) fit + 24-step forecast, 168 hourly points (M4 H10, first week); medians")
    print(f"{'':24s}{'CPU ms':>10s}{'wall ms':>10s}{'CPU ratio':>11s}{'wall ratio':>11s}")
    print(f"{'StackLens':24s}{ours_cpu * 1e3:10.3f}{ours_wall * 1e3:10.3f}")
    for name, cpu, wall in (("R forecast::Arima", r_cpu, r_wall), ("statsmodels ARIMA", sm_cpu, sm_wall)):
        print(f"{name:24s}{cpu * 1e3:10.3f}{wall * 1e3:10.3f}{cpu / ours_cpu:10.1f}x{wall / ours_wall:10.1f}x")
    print(f"(24-step forecasts: R {r_last:.4f}, statsmodels {sm_last:.4f})")


def eval_m4(args, extra):
    out = subprocess.run([os.path.join(args.build, "bin", "stacklens"), "eval", "m4", "--train", M4] + extra,
                         check=True, capture_output=True, text=True).stdout
    return out


def part2(args):
    text = open(args.m4_r_forecasts).read()
    done = re.findall(r"^# (H\d+) \S+ cpu_seconds=([\d.]+)", text, re.M)
    ids = [d[0] for d in done]
    r_cpu = sum(float(d[1]) for d in done)
    numbers = [int(i[1:]) for i in ids]
    step = numbers[1] - numbers[0] if len(numbers) > 1 else 1
    print(f"\nAutomatic seasonal ARIMA on {len(ids)} M4 hourly series (H1, H{1 + step}, ...; "
          f"last 48 points held out)")
    r_scores = eval_m4(args, ["--score-forecasts", args.m4_r_forecasts, "--every", str(step)])
    ours = eval_m4(args, ["--every", str(step), "--limit", str(len(ids)), "--threads", str(args.threads)])
    ours_cpu = float(re.search(r"([\d.]+) s CPU", ours).group(1))
    print("R forecast::auto.arima (default settings):")
    print("\n".join("  " + line for line in r_scores.strip().splitlines()[1:]))
    print(f"  CPU time {r_cpu:.1f} s")
    print("StackLens autoArima:")
    print("\n".join("  " + line for line in ours.strip().splitlines()[1:]))
    print(f"CPU time ratio (R / StackLens): {r_cpu / ours_cpu:.1f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--repetitions", type=int, default=30)
    parser.add_argument("--m4-r-forecasts")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-part1", action="store_true")
    args = parser.parse_args()
    if not args.skip_part1:
        part1(args)
    if args.m4_r_forecasts:
        part2(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
