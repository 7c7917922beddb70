"""Start-up of `mlprod validate` on the reference spec vs a bare typer app, same run.

Usage: python benchmarks/bench_startup.py [--runs N] [--spec PATH]

Each command runs N times (interleaved, after one warm-up each, so both see the same
machine load); the script prints wall and CPU medians, the ratio, and, as its last line,
one JSON object. Modules are byte-compiled to a temporary PYTHONPYCACHEPREFIX, as an
installed wheel would be, even when PYTHONDONTWRITEBYTECODE is set in the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parents[1] / "shared" / "spec" / "credit.mlprod.yaml"


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and child CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="mlprod-bench-pyc-")
    commands = {
        "bare_typer": [sys.executable, str(HERE / "_bare_typer_app.py"), "validate", str(args.spec)],
        "mlprod_validate": [sys.executable, "-m", "mlprod", "validate", str(args.spec)],
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm-up: byte-compile, fill the OS file cache
        _run(cmd, env)
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(_run(cmd, env))

    result: dict[str, object] = {"runs": args.runs, "spec": str(args.spec), "load_avg_1m": os.getloadavg()[0]}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        result[f"{name}_wall_s"] = round(wall, 4)
        result[f"{name}_cpu_s"] = round(cpu, 4)
        print(f"{name:16} median wall {wall * 1000:7.1f} ms   median cpu {cpu * 1000:7.1f} ms")
    wall_ratio = result["mlprod_validate_wall_s"] / result["bare_typer_wall_s"]  # type: ignore[operator]
    cpu_ratio = result["mlprod_validate_cpu_s"] / result["bare_typer_cpu_s"]  # type: ignore[operator]
    result["ratio_wall"] = round(wall_ratio, 3)
    result["ratio_cpu"] = round(cpu_ratio, 3)
    result["target_wall_s"] = 0.25
    result["meets_target"] = result["mlprod_validate_wall_s"] <= 0.25  # type: ignore[operator]
    print(
        f"ratio mlprod/bare typer: wall {wall_ratio:.2f}x, cpu {cpu_ratio:.2f}x"
        f" (load avg {result['load_avg_1m']:.2f})"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
