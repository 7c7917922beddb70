"""Project check methods added by issue 15 (batch and process invariance, column rules,
the end-to-end model check, explainability consistency), as a mixin of `Project`.

Like project_checks.py, each method only connects the project's inputs (cached data sets,
model, sampled pipeline run) to the concern modules, which hold the logic.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    # --- 1 pipeline --------------------------------------------------------------------------

    def check_column_rules(self, dataset: str, rules: Mapping[str, Mapping[str, Any]]) -> list[CheckResult]:
        """`data.columns` rules on the columns of `dataset` that it has."""
        from .columns import check_column_rules

        return check_column_rules(
            self.data_for_checks(dataset), {k: dict(v) for k, v in rules.items()}, dataset
        )

    def check_deployed_on_pipeline(self) -> list[CheckResult]:
        """The deployed model scores the chained stages' feature output: numbers, one per row, in range."""
        from .pipeline_scoring import check_scores_of_stage, feature_stage

        outputs = self.stage_outputs()
        stage = feature_stage(self.stages, outputs, self.features_list)
        if stage is None:
            msg = (
                "no stage output has all the model's features, so the deployed model cannot "
                "score the pipeline: nothing to judge"
            )
            return [CheckResult("pipeline", "deployed_scores", True, msg, subject="pipeline", judged=False)]
        X = outputs[stage].loc[:, self.features_list]
        try:
            scores = self.predict_fn()(X)
        except Exception as exc:  # the user's model failed on the pipeline's output
            msg = f"the deployed model failed on the output of stage {stage}: {type(exc).__name__}: {exc}"
            return [CheckResult("pipeline", "deployed_scores", False, msg, subject=stage)]
        bounded = self.predict_method == "predict_proba"
        return check_scores_of_stage(scores, len(X), stage, bounded=bounded)

    # --- 9 explainability ----------------------------------------------------------------------

    def check_importances_informative(self, method: str, dataset: str) -> CheckResult:
        """Importances are not all zero and not all equal within their noise (permutation repeats)."""
        from .explain_quality import check_importances_informative, permutation_stats
        from .explainability import _score_fn
        from .project_governance import IMPORTANCE_METRIC

        if method != "permutation":
            return check_importances_informative(self.importances(method, dataset))
        metric = IMPORTANCE_METRIC.get(self.task, "accuracy")
        scoring = _score_fn(metric, self.predict_method, self.threshold())

        def compute() -> tuple[dict[str, float], dict[str, float]]:
            X, y = self.X(dataset), self.y(dataset)
            return permutation_stats(self.model(), X, y, scoring, seed=self.seed)

        means, stds = self._cached(("permutation_stats", dataset, metric), compute)
        return check_importances_informative(means, stds)

    def check_reason_codes_consistent(
        self, dataset: str, reference: str, *, rows: int, top_k: int
    ) -> list[CheckResult]:
        """Each row's top code replays on the row alone; the codes account for the score's change."""
        from .explain_quality import check_reason_codes_consistent
        from .explainability import reason_codes, reference_values

        X = self.X(dataset).iloc[:rows]
        ref = reference_values(self.X(reference))
        codes = reason_codes(self.predict_fn(), X, ref, top_k)
        return check_reason_codes_consistent(
            self.predict_fn(), X, ref, codes, subject=f"{len(X)} rows of {dataset}"
        )
