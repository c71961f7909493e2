#!/usr/bin/python3
"""Detection engine versus scikit-learn 1.2.1, in the same run and on the same data.

    /usr/bin/python3 tests/bench/compare_detect.py [--build build-bench] [--repetitions 5]

Needs a build configured with -DSTACKLENS_BENCHMARKS=ON (bench/bench_detect and bin/stacklens).
Writes the data sets to a temporary directory, times scikit-learn (median of the repetitions, one
thread), runs bench_detect on the same files (Google Benchmark medians), prints both and the
ratio, then scores the streaming detector on ../shared/data/nab-dev with `stacklens eval nab`.
Wall-clock and CPU times are both shown: on a shared machine the CPU times are the fairer
comparison; the ratio uses the same kind of time on both sides.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def datasets(directory):
    rng = np.random.default_rng(7)
    x = np.vstack([rng.normal(size=(9900, 8)), rng.uniform(-6, 6, size=(100, 8))])
    rows = np.arange(9800)
    regime = rows % 6
    centres = 3.0 * np.sin(regime[:, None] * 1.7 + np.arange(8)[None, :])
    spread = (0.3 + 0.1 * regime)[:, None]
    blobs = np.vstack([centres + spread * rng.normal(size=(9800, 8)), rng.uniform(-6, 6, size=(200, 8))])
    header = ",".join(f"x{i}" for i in range(8))
    for name, data in (("iforest", x), ("blobs", blobs)):
        np.savetxt(os.path.join(directory, name + ".csv"), data, delimiter=",", header=header, comments="", fmt="%.17g")
    return x, blobs


def timed(fn, repetitions):
    wall, cpu = [], []
    for _ in range(repetitions):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def knee_eps(x, min_samples):
    d = np.sort(NearestNeighbors(n_neighbors=min_samples).fit(x).kneighbors(x)[0][:, -1])
    grid = np.arange(len(d)) / (len(d) - 1)
    return d[int(np.argmax(grid - (d - d[0]) / (d[-1] - d[0])))]


def sklearn_times(x, blobs, repetitions):
    out = {}
    out["IsolationForestFitScore"] = timed(
        lambda: IsolationForest(n_estimators=100, random_state=0).fit(x).score_samples(x), repetitions)
    model = IsolationForest(n_estimators=100, random_state=0).fit(x)
    one = x[:1]
    w, c = timed(lambda: [model.score_samples(one) for _ in range(20)], repetitions)
    out["IsolationForestScoreOne"] = (w / 20, c / 20)
    out["DbscanAutoEps"] = timed(lambda: DBSCAN(eps=knee_eps(blobs, 5), min_samples=5).fit(blobs), repetitions)
    out["DbscanAutoEpsGaussian"] = timed(lambda: DBSCAN(eps=knee_eps(x, 5), min_samples=5).fit(x), max(1, repetitions // 2))
    return out


def dbscan_results(x, blobs):
    """eps, clusters and noise of the timed scikit-learn runs, to print beside ours."""
    out = {}
    for name, data in (("DbscanAutoEps", blobs), ("DbscanAutoEpsGaussian", x)):
        eps = knee_eps(data, 5)
        labels = DBSCAN(eps=eps, min_samples=5).fit(data).labels_
        out[name] = (eps, labels.max() + 1, int((labels == -1).sum()))
    return out


def engine_times(build, data_dir, repetitions):
    env = dict(os.environ, STACKLENS_BENCH_DATA=data_dir)
    result = subprocess.run([os.path.join(build, "bench", "bench_detect"), "--benchmark_format=json",
                             "--benchmark_filter=-AutoEpsSampleAccuracy",
                             f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true"],
                            env=env, check=True, capture_output=True, text=True)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    out = {}
    for b in json.loads(result.stdout)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/")[0].removeprefix("BM_")
        out[name] = (b["real_time"] * scale[b["time_unit"]], b["cpu_time"] * scale[b["time_unit"]])
        if "eps" in b:
            out[name + "/result"] = (b["eps"], int(b["clusters"]), int(b["noise"]))
    return out


def fmt(seconds):
    return f"{seconds * 1e3:10.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:10.2f} us"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as data_dir:
        x, blobs = datasets(data_dir)
        engine = engine_times(args.build, data_dir, args.repetitions)
        reference = sklearn_times(x, blobs, args.repetitions)
        results = dbscan_results(x, blobs)
    print(f"{'benchmark (10,000 x 8, 1 thread)':34} {'StackLens wall':>14} {'sklearn wall':>13} {'ratio':>7}"
          f" {'StackLens cpu':>14} {'sklearn cpu':>13} {'ratio':>7}")
    for name, (sw, sc) in reference.items():
        ew, ec = engine[name]
        print(f"{name:34} {fmt(ew)} {fmt(sw)} {sw / ew:6.1f}x {fmt(ec)} {fmt(sc)} {sc / ec:6.1f}x")
    for name, (eps, clusters, noise) in results.items():
        ours = engine.get(name + "/result")
        if ours:
            print(f"{name:34} eps {ours[0]:.4f} vs {eps:.4f} (full curve), clusters {ours[1]} vs {clusters},"
                  f" noise {ours[2]} vs {noise}")
    for name in ("StreamingDetector8D", "StreamingDetector1D"):
        ew, ec = engine[name]
        print(f"{name:34} {fmt(ew)} per step = {1 / ew:,.0f} steps/s wall, {1 / ec:,.0f} steps/s cpu")
    nab = os.path.join(ROOT, "..", "shared", "data", "nab-dev")
    start = time.perf_counter()
    scores = subprocess.run([os.path.join(args.build, "bin", "stacklens"), "eval", "nab", "--data", os.path.join(nab, "data"),
                             "--windows", os.path.join(nab, "combined_windows.json")], check=True, capture_output=True,
                            text=True).stdout
    print(f"\nstacklens eval nab on nab-dev ({time.perf_counter() - start:.2f} s wall, default configuration):")
    print(scores, end="")


if __name__ == "__main__":
    sys.exit(main())
