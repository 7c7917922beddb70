"""Project check methods added by issue 15 (batch and process invariance, column rules,
the end-to-end model check, explainability consistency), as a mixin of `Project`.

Like project_checks.py, each method only connects the project's inputs (cached data sets,
model, sampled pipeline run) to the concern modules, which hold the logic.
"""

from __future__ import annotations

from typing import Any

from .results import CheckResult

_Base: Any = object  # Project's data methods; typed as Any to spare a circular import

PROCESS_ROWS = 100  # rows the fresh process scores


class QualityChecks(_Base):
    """Check methods of issue 15; mixed into Project."""

    # --- 2 determinism ---------------------------------------------------------------------

    def check_batch_invariance(self, dataset: str, rows: int, tolerance: float) -> CheckResult:
        """Rows scored alone and in a shuffled batch get the score they get inside the full batch."""
        from .invariance import check_batch_invariance

        seed = self.seed if self.seed is not None else 0
        return check_batch_invariance(self.predict_fn(), self.X(dataset), rows, tolerance, seed=seed)

    def check_process_invariance(self, dataset: str, threads: int, tolerance: float) -> CheckResult:
        """A fresh process (another PYTHONHASHSEED, `threads` threads) scores the first rows the same."""
        from .invariance import check_process_invariance, score_in_subprocess

        X = self.X(dataset)
        positions = list(range(min(PROCESS_ROWS, len(X))))
        here = self.predict_fn()(X.iloc[positions])
        try:
            there = score_in_subprocess(self.root, self.config, dataset, positions, threads)
        except (RuntimeError, OSError, ValueError) as exc:
            msg = f"could not score in a fresh process: {exc}"
            return CheckResult("determinism", "process_invariance", False, msg, None, tolerance, "the model")
        label = f"the first {len(positions)} rows of {dataset}"
        return check_process_invariance(here, there, tolerance, threads=threads, rows_label=label)
