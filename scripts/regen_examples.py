"""Regenerate the examples' committed golden outputs in one command.

    python scripts/regen_examples.py                # every example (examples/*/mlprod.yaml)
    python scripts/regen_examples.py chile          # only the named example(s)

For each example: rebuild its data and models (prepare.py), then `mlprod evaluate
--no-latency` (timings differ on every run, so the golden evaluation leaves them out),
which also runs `mlprod generate`, then `mlprod generate --check`. MLPROD_TODAY is pinned
so the recorded date is stable. The `mlprod init` templates synced from examples are
rewritten last (scripts/sync_templates.py). Review the diff with `git diff examples/`
before committing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-27"


def examples() -> dict[str, Path]:
    """Every example folder holding an mlprod.yaml, by name, in name order."""
    return {spec.parent.name: spec.parent for spec in sorted((ROOT / "examples").glob("*/mlprod.yaml"))}


def regenerate(folder: Path, env: dict[str, str]) -> None:
    """Prepare, evaluate (which generates) and check one example folder."""
    print(f"== {folder.relative_to(ROOT)}", flush=True)
    if (folder / "prepare.py").exists():
        subprocess.run([sys.executable, "prepare.py"], cwd=folder, env=env, check=True)
    for args in (["evaluate", "--no-latency"], ["generate", "--check"]):
        subprocess.run([sys.executable, "-m", "mlprod", *args], cwd=folder, env=env, check=True)


def main(argv: list[str] | None = None) -> int:
    known = examples()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="EXAMPLE", help=f"examples to regenerate (default: {', '.join(known)})"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"no example named {', '.join(unknown)}; known: {', '.join(known)}")
    env = dict(os.environ, MLPROD_TODAY=TODAY, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    for name in args.names or known:
        regenerate(known[name], env)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_templates.py")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
