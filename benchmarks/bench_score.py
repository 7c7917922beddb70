"""Benchmark `mlprod score` start-to-finish on the credit spec against a bare typer app.

`mlprod score` runs in every CI job and pre-commit hook, so its wall time matters more
than its throughput. The reference is the cheapest possible typer CLI started in the same
way in the same run, so the ratio does not depend on how fast or loaded the machine is.

Usage: python benchmarks/bench_score.py [--runs 10]
The last line of output is JSON: {"score_s", "typer_s", "ratio", "budget_s", "within_budget"}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlprod import CONCERNS

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (
    ROOT / "examples" / "credit" / "mlprod.yaml",
    ROOT.parent / "shared" / "spec" / "credit.mlprod.yaml",
)
BUDGET_S = 0.25
BARE_TYPER = (
    "import typer\napp = typer.Typer()\napp.command()(lambda: None)\napp([], standalone_mode=False)\n"
)
CI = "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest tests/mlprod\n"


def build_project(folder: Path) -> Path:
    """A committed git project: the credit spec, a test file per concern, a manifest, CI."""
    from mlprod.schema import load_spec

    spec = next((p for p in CANDIDATES if p.is_file()), None)
    if spec is None:
        sys.exit("credit spec not found (examples/credit/mlprod.yaml or ../shared/spec)")
    shutil.copy(spec, folder / "mlprod.yaml")
    (folder / "tests/mlprod").mkdir(parents=True)
    entries = []
    for concern in CONCERNS:
        path = f"tests/mlprod/test_{concern}.py"
        text = f"import pytest\n\npytestmark = pytest.mark.mlprod(concern={concern!r})\n"
        (folder / path).write_text(text)
        entries.append(
            {
                "path": path,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "kind": "python",
                "concern": concern,
                "managed": False,
            }
        )
    (folder / ".mlprod").mkdir()
    manifest = {"spec_sha256": load_spec(folder / "mlprod.yaml").sha256, "files": entries}
    (folder / ".mlprod/manifest.json").write_text(json.dumps(manifest))
    (folder / ".github/workflows").mkdir(parents=True)
    (folder / ".github/workflows/mlprod.yml").write_text(CI)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run([*git, *args], cwd=folder, check=True)
    return folder / "mlprod.yaml"


def median_wall(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "MLPROD_TODAY": "2026-11-27"}
    with tempfile.TemporaryDirectory() as tmp:
        spec = build_project(Path(tmp))
        score_cmd = [sys.executable, "-m", "mlprod", "score", "--spec", str(spec), "--min-total", "0"]
        check = subprocess.run(score_cmd, env=env, capture_output=True, text=True, check=False)
        if check.returncode != 0 or "total 20/20" not in check.stdout:
            sys.exit(f"unexpected score output (exit {check.returncode}):\n{check.stdout}{check.stderr}")
        # interleave the two so a load spike hits both alike
        score_s, typer_s = [], []
        for _ in range(args.runs):
            score_s.append(median_wall(score_cmd, 1, env))
            typer_s.append(median_wall([sys.executable, "-c", BARE_TYPER], 1, env))
    result = {
        "score_s": round(statistics.median(score_s), 4),
        "typer_s": round(statistics.median(typer_s), 4),
        "ratio": round(statistics.median(score_s) / statistics.median(typer_s), 2),
        "budget_s": BUDGET_S,
        "within_budget": statistics.median(score_s) <= BUDGET_S,
        "runs": args.runs,
    }
    print(f"mlprod score (credit, 20/20): median {result['score_s']:.3f} s over {args.runs} runs")
    print(f"bare typer app:               median {result['typer_s']:.3f} s")
    print(f"ratio {result['ratio']:.2f}x; budget {BUDGET_S} s: {'ok' if result['within_budget'] else 'OVER'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
