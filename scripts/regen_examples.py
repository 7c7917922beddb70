"""Regenerate the examples' committed golden outputs in one command.

    python scripts/regen_examples.py

For each example: rebuild its data and models (prepare.py), then `mlprod evaluate
--no-latency` (timings differ on every run, so the golden evaluation leaves them out),
which also runs `mlprod generate`. MLPROD_TODAY is pinned so the recorded date is stable.
Review the diff with `git diff examples/` before committing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-27"


def main() -> int:
    env = dict(os.environ, MLPROD_TODAY=TODAY, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    for spec in sorted((ROOT / "examples").glob("*/mlprod.yaml")):
        folder = spec.parent
        print(f"== {folder.relative_to(ROOT)}")
        if (folder / "prepare.py").exists():
            subprocess.run([sys.executable, "prepare.py"], cwd=folder, env=env, check=True)
        subprocess.run(
            [sys.executable, "-m", "mlprod", "evaluate", "--no-latency"], cwd=folder, env=env, check=True
        )
        subprocess.run(
            [sys.executable, "-m", "mlprod", "generate", "--check"], cwd=folder, env=env, check=True
        )
    subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_templates.py")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
