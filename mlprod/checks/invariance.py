"""Determinism across batches and processes (issue 15).

Inside one process scikit-learn cannot differ from itself, so two real production defects
pass a repeat test: predictions that depend on the batch (a scaler or a rank computed over
the incoming rows, so a row scored alone gets another score than inside a batch) and
predictions that depend on the process (set or dict order under another `PYTHONHASHSEED`,
the BLAS/OpenMP thread count).

- `check_batch_invariance`: each of `rows` sampled rows, scored alone, equals its score
  inside the full batch; the whole batch scored in shuffled order equals it row by row.
- `check_process_invariance`: a fresh Python process with another `PYTHONHASHSEED` and
  `threads` BLAS/OpenMP threads loads the model and scores the same rows
  (`python -m mlprod.checks.score_worker`); the scores equal this process's.
Each has its own tolerance: `determinism.tolerance` is for repeats in one process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .results import CheckResult

CONCERN = "determinism"


def _scores(predict: Callable[[Any], Any], X: Any) -> Any:
    import numpy as np

    return np.asarray(predict(X), dtype=float).ravel()


def _differences(a: Any, b: Any) -> Any:
    """|a - b| with NaN on both sides equal and NaN on one side an infinite difference."""
    import numpy as np

    diff = np.abs(a - b)
    diff = np.where(np.isnan(a) & np.isnan(b), 0.0, diff)
    return np.where(np.isnan(a) != np.isnan(b), np.inf, diff)


def _row_name(X: Any, i: int) -> str:
    return str(X.index[i]) if hasattr(X, "index") else str(i)


def check_batch_invariance(
    predict: Callable[[Any], Any], X: Any, rows: int = 50, tolerance: float = 1e-9, *, seed: int = 0
) -> CheckResult:
    """Rows scored alone and inside a shuffled batch get their score from the full batch, within tolerance."""
    import numpy as np

    n = len(X)
    check = "batch_invariance"
    full = _scores(predict, X)
    if full.size != n:
        msg = f"the model returned {full.size} predictions for a batch of {n} rows"
        return CheckResult(CONCERN, check, False, msg, None, tolerance, "the model")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(int(rows), n), replace=False))
    alone = np.array([_scores(predict, X.iloc[[i]])[0] for i in sample], dtype=float)
    perm = rng.permutation(n)
    shuffled = np.empty(n)
    shuffled[perm] = _scores(predict, X.iloc[perm])
    d_alone, d_shuffled = _differences(alone, full[sample]), _differences(shuffled, full)
    worst = float(max(d_alone.max(initial=0.0), d_shuffled.max(initial=0.0)))
    bad_alone, bad_shuffled = np.flatnonzero(d_alone > tolerance), np.flatnonzero(d_shuffled > tolerance)
    details = {
        "rows": int(sample.size),
        "batch": n,
        "alone_differing": int(bad_alone.size),
        "shuffled_differing": int(bad_shuffled.size),
    }
    if not bad_alone.size and not bad_shuffled.size:
        msg = (
            f"{sample.size} rows scored alone and the {n}-row batch scored shuffled match the batch "
            f"within {tolerance:.3g} (max difference {worst:.3g})"
        )
        return CheckResult(CONCERN, check, True, msg, worst, float(tolerance), "the model", details)
    parts = []
    if bad_alone.size:
        i = int(sample[bad_alone[0]])
        parts.append(
            f"{bad_alone.size} of {sample.size} rows scored alone differ from their score in the "
            f"{n}-row batch (row {_row_name(X, i)}: {alone[bad_alone[0]]:.6g} alone, "
            f"{full[i]:.6g} in the batch)"
        )
    if bad_shuffled.size:
        i = int(bad_shuffled[0])
        parts.append(
            f"{bad_shuffled.size} rows change when the batch is shuffled (row {_row_name(X, i)}: "
            f"{shuffled[i]:.6g} shuffled, {full[i]:.6g} in order)"
        )
    msg = (
        f"predictions depend on the batch: {'; '.join(parts)} (max difference {worst:.3g} > {tolerance:.3g})"
    )
    return CheckResult(CONCERN, check, False, msg, worst, float(tolerance), "the model", details)


def other_hash_seed() -> str:
    """A PYTHONHASHSEED other than this process's (a fixed one when this process's is random)."""
    current = os.environ.get("PYTHONHASHSEED", "")
    return str((int(current) + 1) % 4294967296) if current.isdigit() else "15"


def score_in_subprocess(
    root: str | Path, config: Mapping[str, Any], dataset: str, positions: Sequence[int], threads: int
) -> list[float]:
    """Scores of the rows at `positions` of `dataset`, computed by a fresh Python process."""
    threads_env = {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
    }
    env = dict(os.environ, PYTHONHASHSEED=other_hash_seed(), **threads_env)
    payload = json.dumps(
        {"root": str(root), "config": dict(config), "dataset": dataset, "positions": list(positions)}
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod.checks.score_worker"],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(root),
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError("the scoring subprocess failed: " + " | ".join(tail))
    return [float(v) for v in json.loads(proc.stdout.strip().splitlines()[-1])]


def check_process_invariance(
    here: Any, there: Sequence[float], tolerance: float, *, threads: int, rows_label: str
) -> CheckResult:
    """Scores of this process (`here`) equal those of another process (`there`) within tolerance."""
    import numpy as np

    a, b = np.asarray(here, dtype=float).ravel(), np.asarray(there, dtype=float).ravel()
    check, subject = "process_invariance", "the model"
    where = f"a fresh process (PYTHONHASHSEED={other_hash_seed()}, {threads} BLAS/OpenMP threads)"
    if a.shape != b.shape:
        msg = f"{where} returned {b.size} predictions for {a.size} rows of {rows_label}"
        return CheckResult(CONCERN, check, False, msg, None, tolerance, subject)
    diff = _differences(a, b)
    worst = float(diff.max(initial=0.0))
    bad = np.flatnonzero(diff > tolerance)
    details = {"rows": int(a.size), "rows_differing": int(bad.size), "threads": threads}
    if not bad.size:
        msg = f"{where} gives the same {a.size} predictions on {rows_label} within {tolerance:.3g}"
        return CheckResult(CONCERN, check, True, msg, worst, float(tolerance), subject, details)
    i = int(bad[0])
    msg = (
        f"predictions depend on the process: {bad.size} of {a.size} rows of {rows_label} differ in "
        f"{where} (row {i}: {a[i]:.6g} here, {b[i]:.6g} there; max difference {worst:.3g} > {tolerance:.3g})"
    )
    return CheckResult(CONCERN, check, False, msg, worst, float(tolerance), subject, details)
