"""Benchmark `mlprod score --results` against `mlprod generate --check` and a bare typer app.

`mlprod score` and `mlprod generate --check` run in every CI job and pre-commit hook, so
their wall time matters. Since score re-renders the generated files in memory (the same
engine as `generate --check`), the bar is: `score --results` within 1.2x of
`generate --check`, and `generate --check` within 3x of the cheapest possible typer CLI,
all three started the same way, interleaved in the same run, so the ratios do not depend
on how fast or loaded the machine is.

The project is a real generated one: the credit example (its spec, `mlprod generate`,
`mlprod.lock` and golden file, committed in a fresh git repository) with a JUnit file
holding every generated test as the generated conftest records it (fingerprint, node ids).

Usage: python benchmarks/bench_score.py [--runs 10]
The last line of output is JSON: {"score_s", "check_s", "typer_s", "score_vs_check",
"check_vs_typer", "within_budget", "runs"}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
SCORE_VS_CHECK = 1.2
CHECK_VS_TYPER = 3.0
BARE_TYPER = (
    "import typer\napp = typer.Typer()\napp.command()(lambda: None)\napp([], standalone_mode=False)\n"
)
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"]


def build_project(folder: Path) -> tuple[Path, Path]:
    """The credit example's spec generated and committed, and a JUnit of a passing run."""
    from mlprod.generator.engine import generate_project
    from mlprod.schema import load_spec

    from mlprod.score.current import render_project

    shutil.copy(EXAMPLE / "mlprod.yaml", folder / "mlprod.yaml")
    generate_project(folder / "mlprod.yaml")
    spec = load_spec(folder / "mlprod.yaml")
    golden = spec.spec.determinism.golden if spec.spec.determinism else None
    (folder / "mlprod.lock").write_text("{}\n")
    if golden is not None:
        (folder / golden.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / golden.path).write_text("score\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run([*GIT, *args], cwd=folder, check=True)
    render = render_project(spec)
    cases = []
    for concern, ids in render.node_ids.items():
        for nodeid in ids:
            props = {"mlprod_concern": concern, "mlprod_nodeid": nodeid, "mlprod_judged": "true"}
            inner = "".join(f"<property name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in props.items())
            cases.append(f"<testcase classname='c' name='n'><properties>{inner}</properties></testcase>")
    junit = folder / "junit.xml"
    junit.write_text(
        "<testsuites><testsuite name='pytest'><properties><property name='mlprod_fingerprint' "
        f"value='{render.fingerprint}'/></properties>{''.join(cases)}</testsuite></testsuites>"
    )
    return folder / "mlprod.yaml", junit


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "MLPROD_TODAY": "2026-11-27", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        spec, junit = build_project(Path(tmp))
        mlprod = [sys.executable, "-m", "mlprod"]
        score_cmd = [*mlprod, "score", "--spec", str(spec), "--results", str(junit), "--min-total", "0"]
        check_cmd = [*mlprod, "generate", "--check", "--spec", str(spec)]
        typer_cmd = [sys.executable, "-c", BARE_TYPER]
        probe = subprocess.run(score_cmd, env=env, capture_output=True, text=True, check=False)
        if probe.returncode != 0 or "total 20/20;" not in probe.stdout:
            sys.exit(f"unexpected score output (exit {probe.returncode}):\n{probe.stdout}{probe.stderr}")
        if subprocess.run(check_cmd, env=env, capture_output=True, check=False).returncode != 0:
            sys.exit("generate --check does not pass on the benchmark project")
        times: dict[str, list[float]] = {"score": [], "check": [], "typer": []}
        for _ in range(args.runs):  # interleaved, so a load spike hits all three alike
            times["score"].append(wall(score_cmd, env))
            times["check"].append(wall(check_cmd, env))
            times["typer"].append(wall(typer_cmd, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "score_s": round(med["score"], 4),
        "check_s": round(med["check"], 4),
        "typer_s": round(med["typer"], 4),
        "score_vs_check": round(med["score"] / med["check"], 2),
        "check_vs_typer": round(med["check"] / med["typer"], 2),
        "runs": args.runs,
    }
    result["within_budget"] = (
        result["score_vs_check"] <= SCORE_VS_CHECK and result["check_vs_typer"] <= CHECK_VS_TYPER
    )
    print(f"mlprod score --results (credit, 20/20): median {result['score_s']:.3f} s over {args.runs} runs")
    print(f"mlprod generate --check:                median {result['check_s']:.3f} s")
    print(f"bare typer app:                         median {result['typer_s']:.3f} s")
    print(
        f"score/check {result['score_vs_check']:.2f}x (budget {SCORE_VS_CHECK}x), "
        f"check/typer {result['check_vs_typer']:.2f}x (budget {CHECK_VS_TYPER}x): "
        f"{'ok' if result['within_budget'] else 'OVER'}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
