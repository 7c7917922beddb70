#!/usr/bin/env python
"""Benchmark mlprod.checks against Evidently (drift) and fairlearn (per-cohort metrics).

    python benchmarks/run.py            # drift at 100k and 1M rows, cohort metrics at 1M rows
    python benchmarks/run.py --quick    # everything at 100k rows (< 90 s once the env exists)
    python benchmarks/run.py --scale    # drift on 2 x 20M x 25 Parquet in every engine (scale.py)

One run, one synthetic data set per size (20 numeric + 5 categorical columns, a reference and
a shifted current, plus a label, a score and 3 cohort columns), written once to parquet. Every
measurement runs in its own subprocess that loads the parquet, resets the kernel's peak-RSS
counter (/proc/self/clear_refs), runs the job once, and reports wall time and the peak memory
the job added (VmHWM - VmRSS before): the same yardstick for every library.

Evidently 0.7 does not import under pandas 3, so its side runs in a separate virtualenv
(pandas<3, evidently==0.7.*) built once with pip under benchmarks/.envs/ (git-ignored; the
first build takes a minute or two and is not part of the 90 s). If it cannot be built, the
script says why and still reports our numbers.

The per-cohort comparison asserts that mlprod's numbers equal MetricFrame's within 1e-9.
The last line printed is one JSON object with the times, memory and ratios.
This file imports only the standard library at top level: the Evidently worker runs it
under the other environment's Python.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = HERE / ".envs" / "evidently"
CACHE = HERE / ".envs" / "data"
N_NUM, N_CAT = 20, 5
COHORTS = [
    {"name": "sex", "by": "sex"},
    {"name": "age_band", "by": "age", "bins": [18, 26, 36, 51, 100]},
    {"name": "region", "by": "region"},
]
METRICS = ["roc_auc", "accuracy", "precision", "recall", "false_positive_rate", "selection_rate"]
THRESHOLD = 0.5
SEED = 0


# --- measuring -------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(fn) -> tuple[object, dict]:
    """(result, {"seconds": wall, "cpu_s": process CPU, "extra_mb": peak RSS added by `fn`}).

    CPU seconds are reported beside wall time because on a shared, loaded machine wall
    time mostly measures the other processes; with OMP_NUM_THREADS=1 both sides are
    single-threaded, so CPU time is the fair yardstick for the ratios.
    """
    import gc

    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    base = _status_kb("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return out, {"seconds": seconds, "cpu_s": cpu, "extra_mb": max(_status_kb("VmHWM") - base, 0) / 1024}


# --- data --------------------------------------------------------------------------------


def make_data(rows: int) -> Path:
    """Write ref.parquet and cur.parquet for `rows` rows (cached) and return their folder."""
    folder = CACHE / f"rows{rows}_seed{SEED}_v1"
    if (folder / "cur.parquet").exists():
        return folder
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    cats = [
        list("abcd"),
        list("abcdefgh"),
        [f"c{i}" for i in range(12)],
        ["x", "y"],
        [f"k{i}" for i in range(20)],
    ]

    def frame(shift: float) -> pd.DataFrame:
        data: dict[str, object] = {}
        for i in range(N_NUM):
            kind = i % 4
            s = shift * (i % 3 == 0)  # a third of the numeric columns drift
            if kind == 0:
                data[f"num{i}"] = rng.normal(s, 1 + s, rows)
            elif kind == 1:
                data[f"num{i}"] = rng.lognormal(8 + s, 0.6, rows)
            elif kind == 2:
                data[f"num{i}"] = rng.integers(0, 100 + int(50 * s), rows)
            else:
                x = rng.exponential(1 + s, rows)
                x[rng.random(rows) < 0.02] = np.nan  # some missing values
                data[f"num{i}"] = x
        for j, values in enumerate(cats):
            p = np.linspace(1, 2 + 3 * shift * (j % 2), len(values))
            v = rng.choice(values, rows, p=p / p.sum()).astype(object)
            if shift and j == 0:
                v[rng.random(rows) < 0.05] = "unseen"
            data[f"cat{j}"] = v
        y = rng.integers(0, 2, rows)
        data["y"] = y
        data["score"] = np.clip(0.3 * y + 0.7 * rng.random(rows), 0, 1).round(3)  # rounding makes ties
        data["sex"] = rng.choice(["female", "male"], rows, p=[0.4, 0.6])
        data["age"] = rng.integers(18, 100, rows)
        data["region"] = rng.choice([f"r{i}" for i in range(6)], rows)
        return pd.DataFrame(data).astype({f"cat{j}": "str" for j in range(N_CAT)})

    folder.mkdir(parents=True, exist_ok=True)
    frame(0.0).to_parquet(folder / "ref.parquet")
    frame(0.5).to_parquet(folder / "cur.parquet")
    return folder


def features() -> tuple[list[str], list[str]]:
    return [f"num{i}" for i in range(N_NUM)], [f"cat{j}" for j in range(N_CAT)]


# --- workers (each runs in its own process) ---------------------------------------------


def worker_ours_drift(folder: Path) -> dict:
    import pandas as pd

    from mlprod.checks.drift import feature_drift

    ref, cur = pd.read_parquet(folder / "ref.parquet"), pd.read_parquet(folder / "cur.parquet")
    num, cat = features()
    spec = {"method": "psi", "max": 0.2, "bins": 10}
    res, m = measure(lambda: feature_drift(ref, cur, num + cat, numeric=spec, categorical=spec))
    return m | {"drifted": sum(not r.passed for r in res), "columns": len(res)}


def worker_evidently_drift(folder: Path) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = pd.read_parquet(folder / "ref.parquet"), pd.read_parquet(folder / "cur.parquet")
    num, cat = features()
    ref, cur = ref[num + cat], cur[num + cat]

    def run():
        definition = DataDefinition(numerical_columns=num, categorical_columns=cat)
        r = Dataset.from_pandas(ref, data_definition=definition)
        c = Dataset.from_pandas(cur, data_definition=definition)
        return Report([DataDriftPreset()]).run(c, r).dict()

    snap, m = measure(run)
    drifted = None
    for metric in snap.get("metrics", []):
        if "DriftedColumnsCount" in str(metric.get("metric_id", "")):
            drifted = metric.get("value", {}).get("count")
    return m | {"drifted": drifted, "version": _version("evidently")}


def worker_ours_cohort(folder: Path) -> dict:
    import pandas as pd

    from mlprod.checks.cohorts import cohort_groups
    from mlprod.checks.fairness import cohort_report
    from mlprod.checks.metrics import score_order

    df = pd.read_parquet(folder / "cur.parquet", columns=["y", "score", "sex", "age", "region"])

    def run():
        out = {}
        order = score_order(df["score"])  # one float sort shared by the three cohorts
        for c in COHORTS:
            g = cohort_groups(df, c)
            rep = cohort_report(
                df["y"], df["score"], g, METRICS, threshold=THRESHOLD, min_rows=30, order=order
            )
            out[c["name"]] = {k: v["metrics"] for k, v in rep["groups"].items()}
        return out

    res, m = measure(run)
    return m | {"values": res}


def worker_fairlearn_cohort(folder: Path) -> dict:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
    from sklearn import metrics as skm

    df = pd.read_parquet(folder / "cur.parquet", columns=["y", "score", "sex", "age", "region"])
    bins = COHORTS[1]["bins"]
    labels = [f"[{a}, {b})" for a, b in zip(bins[:-1], bins[1:], strict=True)]  # noqa: RUF007
    sensitive = {
        "sex": df["sex"],
        "age_band": pd.cut(df["age"], bins, right=False, labels=labels).astype(str),
        "region": df["region"],
    }

    def at(fn):
        return lambda y, s: fn(y, (np.asarray(s) >= THRESHOLD).astype(int))

    funcs = {
        "roc_auc": skm.roc_auc_score,
        "accuracy": at(skm.accuracy_score),
        "precision": at(skm.precision_score),
        "recall": at(skm.recall_score),
        "false_positive_rate": at(false_positive_rate),
        "selection_rate": at(selection_rate),
    }

    def run():
        out = {}
        for name, sf in sensitive.items():
            mf = MetricFrame(metrics=funcs, y_true=df["y"], y_pred=df["score"], sensitive_features=sf)
            out[name] = {str(k): {m: float(v) for m, v in row.items()} for k, row in mf.by_group.iterrows()}
        return out

    res, m = measure(run)
    return m | {"values": res, "version": _version("fairlearn")}


WORKERS = {
    "ours-drift": worker_ours_drift,
    "evidently-drift": worker_evidently_drift,
    "ours-cohort": worker_ours_cohort,
    "fairlearn-cohort": worker_fairlearn_cohort,
}


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


# --- driver ------------------------------------------------------------------------------


def ensure_evidently_env() -> tuple[Path | None, str]:
    """The Python of the Evidently env, building it once; (None, why) when it cannot be built."""
    python = ENV / "bin" / "python"
    marker = ENV / ".mlprod-ok"
    if marker.exists() and python.exists():
        return python, "cached"
    print(f"building the Evidently environment in {ENV} (once; not part of the timed run) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True, capture_output=True, text=True)
        pip = [str(python), "-m", "pip", "install", "-q", "pandas<3", "evidently==0.7.*", "pyarrow"]
        proc = subprocess.run(pip, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not create the virtualenv: {exc}"
    if proc.returncode != 0:
        return None, "pip install failed: " + (proc.stderr.strip().splitlines() or ["no output"])[-1]
    marker.write_text("pandas<3 evidently==0.7.*\n")
    return python, "built"


def _fmt(m: dict) -> str:
    return f"{m['seconds']:.2f} s wall, {m['cpu_s']:.2f} s CPU, +{m['extra_mb']:.0f} MB"


def run_worker(name: str, folder: Path, python: str = sys.executable) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--worker", name, "--data", str(folder)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours: dict, theirs: dict, tol: float = 1e-9) -> float:
    """Largest absolute difference between two {cohort: {group: {metric: value}}} trees."""
    worst = 0.0
    for cohort, groups in theirs.items():
        for group, values in groups.items():
            for metric, v in values.items():
                d = abs(ours[cohort][group][metric] - v)
                if d != d:  # NaN: both must be NaN
                    raise AssertionError(f"{cohort}/{group}/{metric}: {ours[cohort][group][metric]} vs {v}")
                worst = max(worst, d)
    if worst > tol:
        raise AssertionError(f"mlprod and MetricFrame differ by {worst:g} > {tol:g}")
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k rows only")
    ap.add_argument("--no-evidently", action="store_true", help="skip the Evidently side")
    ap.add_argument(
        "--scale",
        action="store_true",
        help="drift on two Parquet files of --rows x 25 columns: DuckDB SQL baseline, duckdb, spark, pandas",
    )
    ap.add_argument("--rows", type=int, default=20_000_000, help="rows per file for --scale (default 20M)")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](Path(args.data))))
        return 0
    if args.scale:  # benchmarks/scale.py: its own workers and data
        sys.path.insert(0, str(HERE))
        from scale import main_scale

        print(json.dumps({"scale": main_scale(args.rows)}))
        return 0

    start = time.perf_counter()
    drift_rows = [100_000] if args.quick else [100_000, 1_000_000]
    cohort_rows = 100_000 if args.quick else 1_000_000
    python, why = (None, "skipped (--no-evidently)") if args.no_evidently else ensure_evidently_env()
    if python is None:
        print(f"Evidently: {why}; reporting mlprod's numbers only")
    timed_from = time.perf_counter()
    summary: dict = {"quick": args.quick, "drift": {}, "cohort": {}}

    for rows in drift_rows:
        folder = make_data(rows)
        ours = run_worker("ours-drift", folder)
        entry = {
            "rows": rows,
            "ours_s": ours["seconds"],
            "ours_cpu_s": ours["cpu_s"],
            "ours_extra_mb": ours["extra_mb"],
        }
        line = f"drift {rows:>9,} rows x {N_NUM + N_CAT} cols: mlprod {_fmt(ours)}"
        if python is not None:
            ev = run_worker("evidently-drift", folder, str(python))
            entry |= {
                "evidently_s": ev["seconds"],
                "evidently_cpu_s": ev["cpu_s"],
                "evidently_extra_mb": ev["extra_mb"],
                "speedup_wall": ev["seconds"] / ours["seconds"],
                "speedup_cpu": ev["cpu_s"] / ours["cpu_s"],
                "memory_ratio": ev["extra_mb"] / max(ours["extra_mb"], 1e-9),
                "evidently_version": ev["version"],
            }
            line += (
                f" | Evidently {ev['version']} DataDriftPreset {_fmt(ev)}"
                f" | {entry['speedup_cpu']:.0f}x less CPU "
                f"({entry['speedup_wall']:.0f}x wall), {entry['memory_ratio']:.0f}x less memory"
            )
        print(line, flush=True)
        summary["drift"][str(rows)] = entry

    folder = make_data(cohort_rows)
    ours = run_worker("ours-cohort", folder)
    fl = run_worker("fairlearn-cohort", folder)
    diff = compare(ours["values"], fl["values"])
    summary["cohort"] = {
        "rows": cohort_rows,
        "cohorts": len(COHORTS),
        "metrics": METRICS,
        "ours_s": ours["seconds"],
        "ours_cpu_s": ours["cpu_s"],
        "ours_extra_mb": ours["extra_mb"],
        "fairlearn_s": fl["seconds"],
        "fairlearn_cpu_s": fl["cpu_s"],
        "fairlearn_extra_mb": fl["extra_mb"],
        "speedup_wall": fl["seconds"] / ours["seconds"],
        "speedup_cpu": fl["cpu_s"] / ours["cpu_s"],
        "max_abs_diff": diff,
        "fairlearn_version": fl["version"],
    }
    c = summary["cohort"]
    print(
        f"cohort metrics {cohort_rows:,} rows, {len(COHORTS)} cohorts x {len(METRICS)} metrics: "
        f"mlprod {_fmt(ours)}"
        f" | fairlearn {fl['version']} MetricFrame {_fmt(fl)} | {c['speedup_cpu']:.0f}x less CPU "
        f"({c['speedup_wall']:.0f}x wall), numbers equal (max diff {diff:.1e})",
        flush=True,
    )
    load = os.getloadavg()[0]
    summary["load_average_1min"] = load
    if load > (os.cpu_count() or 1):
        print(
            f"note: load average {load:.1f} on {os.cpu_count()} CPUs; wall times include waiting for the CPU"
        )
    summary["evidently_env"] = why
    summary["seconds_total"] = time.perf_counter() - timed_from
    summary["seconds_including_env_build"] = time.perf_counter() - start
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
