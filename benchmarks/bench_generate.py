"""Benchmark `mlprod generate --check` on the fully generated credit project vs a bare typer app.

`generate --check` runs in every CI job and pre-commit hook, so its wall time matters. The
reference is the cheapest typer CLI started the same way in the same run, so the ratio does
not depend on how fast or loaded the machine is. Budget: 0.5 s wall.

Usage: python benchmarks/bench_generate.py [--runs 10]
The last line of output is JSON: {"check_s", "typer_s", "ratio", "check_cpu_s", "typer_cpu_s",
"cpu_ratio", "budget_s", "within_budget", "files"}. On a busy machine compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (
    ROOT / "examples" / "credit" / "mlprod.yaml",
    ROOT.parent / "shared" / "spec" / "credit.mlprod.yaml",
)
BUDGET_S = 0.5
BARE_TYPER = (
    "import typer\napp = typer.Typer()\napp.command()(lambda: None)\napp([], standalone_mode=False)\n"
)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], cwd: Path, expect: int = 0) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU time barely moves when the machine is busy."""
    start, cpu = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    spec = next((p for p in CANDIDATES if p.is_file()), None)
    if spec is None:
        sys.exit("credit spec not found (examples/credit/mlprod.yaml or ../shared/spec)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(spec, folder / "mlprod.yaml")
        mlprod = [sys.executable, "-m", "mlprod"]
        _run([*mlprod, "generate"], folder)
        manifest = json.loads((folder / ".mlprod" / "manifest.json").read_text())
        check = [*mlprod, "generate", "--check"]
        typer_cmd = [sys.executable, "-c", BARE_TYPER]
        _run(check, folder)  # warm the file cache
        _run(typer_cmd, folder)
        checks, typers = [], []
        for _ in range(args.runs):  # interleaved, so load changes hit both sides alike
            checks.append(_run(check, folder))
            typers.append(_run(typer_cmd, folder))
    check_s, typer_s = (statistics.median(w for w, _ in runs) for runs in (checks, typers))
    check_cpu, typer_cpu = (statistics.median(c for _, c in runs) for runs in (checks, typers))
    result = {
        "check_s": round(check_s, 4),
        "typer_s": round(typer_s, 4),
        "ratio": round(check_s / typer_s, 2),
        "check_cpu_s": round(check_cpu, 4),
        "typer_cpu_s": round(typer_cpu, 4),
        "cpu_ratio": round(check_cpu / typer_cpu, 2),
        "budget_s": BUDGET_S,
        "within_budget": check_s <= BUDGET_S,
        "files": len(manifest["files"]),
    }
    print(f"mlprod generate --check ({result['files']} files): {check_s:.3f} s wall, {check_cpu:.3f} s CPU")
    print(f"bare typer app:                     {typer_s:.3f} s wall, {typer_cpu:.3f} s CPU")
    print(f"ratio {result['ratio']}x wall, {result['cpu_ratio']}x CPU (medians of {args.runs})")
    print(f"budget {BUDGET_S} s wall: {'ok' if result['within_budget'] else 'OVER'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
