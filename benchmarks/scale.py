"""`run.py --scale`: drift on two N x 25 Parquet files, a plain DuckDB SQL baseline and the engines.

Every side runs in its own subprocess (`python benchmarks/scale.py --worker NAME ...`) and
reports the wall time of its job, the CPU time and the peak resident memory of that Python
process (VmHWM, interpreter and libraries included). Spark's JVM is a child process: its
peak (VmHWM of the java process) and CPU time are reported apart. The pandas side runs
under `RLIMIT_AS` = 8 GiB; a MemoryError or a killed process is reported as "out of memory
under 8 GiB".

The baseline is the hand-written query of issue 17's orientation: reference deciles with
`approx_quantile`, then binned counts of both files (one scan each, `histogram` of a CASE
per numeric column and of the value per categorical column), PSI per column from the counts
(an empty bin counts as a share of 1e-4, as mlprod's PSI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale_data import CATEGORICAL, NUMERIC, SHIFTED, make_scale_data  # noqa: E402

T = TypeVar("T")
DATA = HERE / ".data"
PSI_MAX = 0.2
BINS = 10
CAP_GB = 8
EPS = 1e-4


# --- measuring (inside a worker) ---------------------------------------------------------


def _status_kb(field: str, pid: str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _java_children() -> list[str]:
    """Pids of java processes descended from this process (Spark's JVM)."""
    me = str(os.getpid())
    kids: dict[str, list[tuple[str, str]]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            kids.setdefault(fields[1], []).append((p.name, stat.split("(", 1)[1].split(")", 1)[0]))
    out, todo = [], [me]
    while todo:
        for pid, comm in kids.get(todo.pop(), []):
            todo.append(pid)
            if comm == "java":
                out.append(pid)
    return out


def _cpu_s(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn: Callable[[], T]) -> tuple[T, dict]:
    """(result, {"seconds", "cpu_s"}) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def peak_mb() -> float:
    return _status_kb("VmHWM") / 1024


# --- PSI from counts (the baseline's finish) ---------------------------------------------


def psi(ref: dict, cur: dict) -> float:
    import numpy as np

    keys = sorted(set(ref) | set(cur), key=str)
    r = np.array([ref.get(k, 0) for k in keys], dtype=float)
    c = np.array([cur.get(k, 0) for k in keys], dtype=float)
    r, c = np.maximum(r / r.sum(), EPS), np.maximum(c / c.sum(), EPS)
    return float(np.sum((c - r) * np.log(c / r)))


# --- workers -----------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def worker_baseline(ref: str, cur: str) -> dict:
    """Plain DuckDB SQL: approx_quantile deciles of the reference, binned counts of both."""
    import duckdb

    def run() -> dict:
        con = duckdb.connect()
        probs = "[" + ", ".join(str(k / BINS) for k in range(1, BINS)) + "]"
        sel = ", ".join(f"approx_quantile({_q(c)}, {probs}) AS {_q(c)}" for c in NUMERIC)
        row = con.execute(f"SELECT {sel} FROM read_parquet(?)", [ref]).fetchone()
        assert row is not None
        edges = dict(zip(NUMERIC, row, strict=True))
        parts = []
        for c in NUMERIC:
            whens = " ".join(f"WHEN {_q(c)} < {float(e)!r} THEN {k}" for k, e in enumerate(edges[c]))
            parts.append(f"histogram(CASE WHEN {_q(c)} IS NULL THEN -1 {whens} ELSE {BINS - 1} END)")
        parts += [f"histogram(coalesce({_q(c)}, '<missing>'))" for c in CATEGORICAL]
        sql = f"SELECT {', '.join(parts)} FROM read_parquet(?)"
        counts = [con.execute(sql, [p]).fetchone() for p in (ref, cur)]
        values = {
            col: psi(dict(counts[0][i]), dict(counts[1][i]))  # type: ignore[index]
            for i, col in enumerate(NUMERIC + CATEGORICAL)
        }
        return values

    values, m = timed(run)
    return m | {"peak_mb": peak_mb(), "psi": values, "drifted": [c for c, v in values.items() if v > PSI_MAX]}


def worker_engine(engine: str, ref: str, cur: str) -> dict:
    """mlprod's drift (PSI, 10 bins) through a spec's `data` section pointing at the files."""
    if engine == "pandas":  # the stated cap, before anything is allocated
        import resource

        cap = CAP_GB * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from mlprod.checks.drift import feature_drift
    from mlprod.engines import Engines

    data: dict = {"engine": engine, "datasets": {"reference": {"path": ref}, "current": {"path": cur}}}
    if engine == "spark":
        data["spark"] = {"master": "local[2]"}
    engines = Engines(data, root="/")
    _, start = timed(lambda: engines.engine(engine))  # Spark's JVM start: once per process
    jvm = _java_children()
    jvm_cpu0 = sum(_cpu_s(p) for p in jvm)
    spec = {"method": "psi", "max": PSI_MAX, "bins": BINS}

    def run() -> list:
        reference, current = engines.table("reference"), engines.table("current")
        return feature_drift(reference, current, NUMERIC + CATEGORICAL, numeric=spec, categorical=spec)

    try:
        results, m = timed(run)
    except MemoryError:
        return {"error": f"out of memory under {CAP_GB} GiB"}
    out = m | {
        "peak_mb": peak_mb(),
        "startup_s": start["seconds"],
        "psi": {r.subject: r.value for r in results},
        "drifted": [r.subject for r in results if not r.passed],
        "not_judged": [r.subject for r in results if not r.judged],
    }
    if jvm:
        out |= {
            "jvm_peak_mb": sum(_status_kb("VmHWM", p) for p in jvm) / 1024,
            "jvm_cpu_s": sum(_cpu_s(p) for p in jvm) - jvm_cpu0,
        }
    return out


WORKERS = {
    "baseline": worker_baseline,
    "duckdb": lambda ref, cur: worker_engine("duckdb", ref, cur),
    "spark": lambda ref, cur: worker_engine("spark", ref, cur),
    "pandas": lambda ref, cur: worker_engine("pandas", ref, cur),
}
ENGINES = ["duckdb", "spark", "pandas"]


# --- driver ------------------------------------------------------------------------------


def run_worker(name: str, ref: Path, cur: str | Path, timeout: float = 3600) -> dict:
    """Run one side in a fresh interpreter; {"error": ...} when it fails."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(ref), str(cur)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = proc.stderr.strip().splitlines()[-3:]
    if name == "pandas" and (
        "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr or proc.returncode < 0
    ):
        return {"error": f"out of memory under {CAP_GB} GiB", "detail": " | ".join(tail)[-300:]}
    return {"error": f"exit code {proc.returncode}: " + " | ".join(tail)}


def _line(name: str, r: dict) -> str:
    if "error" in r:
        return f"{name:>12}: {r['error']}"
    return (
        f"{name:>12}: {r['seconds']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU, peak {r['peak_mb']:6.0f} MB"
        + (f" (+ JVM {r['jvm_peak_mb']:.0f} MB, {r['jvm_cpu_s']:.0f} s CPU)" if "jvm_peak_mb" in r else "")
        + f"; drifted: {', '.join(r['drifted'])}"
        + ("" if r["drifted"] == SHIFTED else f"  <-- expected exactly {', '.join(SHIFTED)}")
    )


def main_scale(rows: int) -> dict:
    """Generate (cached), run every side, print one line each and return the summary."""
    t0 = time.perf_counter()
    ref, cur = make_scale_data(DATA, rows)
    print(
        f"data: {rows:,} rows x {len(NUMERIC) + len(CATEGORICAL)} columns in {ref.parent} "
        f"({time.perf_counter() - t0:.0f} s); shifted: {', '.join(SHIFTED)}",
        flush=True,
    )
    base = run_worker("baseline", ref, cur)
    print(_line("baseline SQL", base), flush=True)
    engines: dict[str, dict] = {}
    for name in ENGINES:
        engines[name] = run_worker(name, ref, cur)
        print(_line(name, engines[name]), flush=True)
    summary: dict[str, Any] = {
        "rows": rows,
        "columns": len(NUMERIC) + len(CATEGORICAL),
        "shifted": SHIFTED,
        "baseline_sql": base,
        "engines": engines,
        "ratios": ratios(base, engines),
        "found_exactly": {
            k: v.get("drifted") == SHIFTED for k, v in {"baseline_sql": base, **engines}.items()
        },
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print("ratios: " + ", ".join(f"{k} {v:.2f}x" for k, v in summary["ratios"].items()), flush=True)
    return summary


def ratios(base: dict, engines: dict) -> dict:
    """duckdb engine / baseline SQL, spark / duckdb engine and spark / baseline, wall and CPU time."""
    out = {}
    duck, spark = engines.get("duckdb", {}), engines.get("spark", {})
    if "seconds" in duck and "seconds" in base:
        out["duckdb_vs_baseline_wall"] = duck["seconds"] / base["seconds"]
        out["duckdb_vs_baseline_cpu"] = duck["cpu_s"] / base["cpu_s"]
    if "seconds" in spark and "seconds" in base:  # reported beside, for when the duckdb side fails
        out["spark_vs_baseline_wall"] = spark["seconds"] / base["seconds"]
        out["spark_vs_baseline_cpu"] = (spark["cpu_s"] + spark.get("jvm_cpu_s", 0.0)) / base["cpu_s"]
    if "seconds" in spark and "seconds" in duck:
        out["spark_vs_duckdb_wall"] = spark["seconds"] / duck["seconds"]
        cpu = spark["cpu_s"] + spark.get("jvm_cpu_s", 0.0)
        out["spark_vs_duckdb_cpu"] = cpu / duck["cpu_s"]
    return out


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](sys.argv[3], sys.argv[4])))
    else:
        print(json.dumps({"scale": main_scale(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)}))
