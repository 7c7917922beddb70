"""The checks of the generated tests, as methods of `Project` (see project.py).

Each method takes one check's spec values as plain data, gets the data it needs from the
project (cached data sets, model, scores, sampled pipeline run) and returns the
`CheckResult`s of the concern modules. The logic of every check lives in those modules;
these methods only connect the project's inputs to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlprod.errors import ExitCode, MlprodError

from .results import CheckResult

# The mixin calls Project's data methods (dataset, X, y, model, scores, ...); typing its base
# as Any spares a circular import.
_Base: Any = object


class MissingInput(MlprodError):
    """An input file a check needs does not exist. `optional` inputs skip the test instead of failing it."""

    exit_code = ExitCode.REFUSED  # through the CLI (mlprod record): an I/O problem

    def __init__(self, message: str, *, optional: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.optional = optional

    def __str__(self) -> str:
        return self.message + (f": {self.hint}" if self.hint else "")


class CheckFailure(AssertionError):
    """One or more checks failed; the text is their messages, one per line."""


class StageError:
    """A stage that did not produce an output in the sampled run, and why."""

    def __init__(self, stage: str, why: str) -> None:
        self.stage = stage
        self.why = why

    def __str__(self) -> str:
        return f"stage {self.stage} {self.why}"


def ensure(*results: CheckResult | Iterable[CheckResult]) -> None:
    """Raise CheckFailure naming every failed result (results or lists of results); skip the
    test (pytest.skip, with the reasons) when no result judged anything: a check that
    judges nothing is never a pass."""
    flat: list[CheckResult] = []
    for r in results:
        flat.extend([r] if isinstance(r, CheckResult) else list(r))
    failed = [r for r in flat if not r.passed]
    if failed:
        raise CheckFailure("\n".join(r.message for r in failed))
    if not any(r.judged for r in flat):
        import pytest  # only generated tests call ensure

        reasons = list(dict.fromkeys(r.message for r in flat)) or ["no check ran"]
        pytest.skip("nothing to judge: " + "; ".join(reasons))


class ConcernChecks(_Base):
    """Per-concern check methods; mixed into Project."""

    # --- 1 pipeline ------------------------------------------------------------------------

    def check_stage(self, stage: str, expect: Mapping[str, Any]) -> list[CheckResult]:
        """The stage runs on the sampled inputs and its output meets `expect`."""
        from .data import check_expect

        output = self.stage_output(stage)
        first_df = next((x for x in self.stage_inputs(stage) if _is_frame(x)), None)
        results = check_expect(
            output, dict(expect), subject=stage, first_input=first_df, predict_method=self.predict_method
        )
        if not results:  # no expectation: running without an error is the check
            results = [
                CheckResult("pipeline", "runs", True, f"stage {stage} ran on the sample", subject=stage)
            ]
        return results

    def check_end_to_end(self, last: str) -> list[CheckResult]:
        """All stages chained in order give one finite prediction per row of the last stage's data input."""
        import numpy as np

        from .data import check_expect

        output = self.stage_output(last)
        first_df = next((x for x in self.stage_inputs(last) if _is_frame(x)), None)
        chain = " -> ".join(self.stages)
        expect: dict[str, Any] = {"rows": "preserved"}
        if self.predict_method == "predict_proba":
            expect["range"] = [0.0, 1.0]
        results = check_expect(output, expect, subject=last, first_input=first_df)
        try:
            values = np.asarray(output, dtype=float)
            finite = bool(values.size) and bool(np.isfinite(values).all())
        except (TypeError, ValueError):
            finite = False
        results.append(
            CheckResult(
                "pipeline",
                "end_to_end",
                finite,
                f"the pipeline {chain} gave finite predictions"
                if finite
                else f"the pipeline {chain} did not give finite numeric predictions (stage {last} returned "
                f"a {type(output).__name__})",
                subject=last,
            )
        )
        return [_prefixed(r, f"end to end ({chain}): ") for r in results]

    # --- 2 determinism ---------------------------------------------------------------------

    def check_repeatable(self, dataset: str, repeats: int, tolerance: float) -> CheckResult:
        from .determinism import check_repeatable

        return check_repeatable(self.predict_fn(), self.X(dataset), repeats, tolerance, subject="the model")

    def check_golden(self, path: str, dataset: str, tolerance: float) -> CheckResult:
        from .determinism import align_to_golden, check_golden, read_golden

        self.require_file(path, "golden predictions", "run `mlprod record`")
        golden = read_golden(self.path(path))
        golden.path = path
        rows = align_to_golden(self.dataset(dataset), golden, self.config.get("id_column"))
        scores = self.predict_fn()(rows.loc[:, self.features_list])
        return check_golden(scores, golden, tolerance, self.model_sha256())

    def check_prediction_drift(self, reference: str, current: str, *, method: str, max: float) -> CheckResult:
        """Drift of the deployed model's scores from the reference data set to the current one."""
        from .drift import check_prediction_drift

        return check_prediction_drift(self.scores(reference), self.scores(current), method=method, max=max)

    # --- 3 infrastructure ------------------------------------------------------------------

    def check_latency(
        self, dataset: str, batch_size: int, runs: int, warmup: int, p50_ms: float, p95_ms: float
    ) -> list[CheckResult]:
        from .infrastructure import check_latency

        return check_latency(self.predict_fn(), self.X(dataset), batch_size, runs, warmup, p50_ms, p95_ms)

    def check_batch_time(self, dataset: str, rows: int, max_ms: float) -> CheckResult:
        from .infrastructure import check_batch_time

        return check_batch_time(self.predict_fn(), self.X(dataset), rows, max_ms)

    def check_memory(self, dataset: str, rows: int, max_mb: float) -> CheckResult:
        from .infrastructure import check_memory

        return check_memory(self.predict_fn(), self.X(dataset), rows, max_mb)

    def check_log_growth(self, log: Mapping[str, Any]) -> CheckResult:
        """Latency growth in the prediction log, an optional input: absent, the test is skipped."""
        from .infrastructure import check_log_growth, read_log

        path = log["path"]
        self.require_file(
            path,
            "the prediction log",
            "no prediction log yet: the serving process writes it "
            "through mlprod.checks.infrastructure.PredictionLogger",
            optional=True,
        )
        return check_log_growth(
            read_log(self.path(path)),
            timestamp=log.get("timestamp", "ts"),
            latency_ms=log.get("latency_ms", "latency_ms"),
            max_growth_pct=float(log.get("max_growth_pct", 20.0)),
            window_days=int(log.get("window_days", 7)),
            subject=path,
        )

    # --- 4 bias: cohorts and fairness --------------------------------------------------------

    def groups(self, dataset: str, cohort: Mapping[str, Any]) -> Any:
        from .cohorts import cohort_groups

        key = ("groups", dataset, cohort["name"])
        return self._cached(key, lambda: cohort_groups(self.dataset(dataset), dict(cohort)))

    def cohort_report(
        self, dataset: str, cohort: Mapping[str, Any], metrics: list[str], min_rows: int
    ) -> Any:
        from .fairness import cohort_report

        return cohort_report(
            self.y(dataset),
            self.scores(dataset),
            self.groups(dataset, cohort),
            metrics,
            threshold=self.threshold(),
            min_rows=min_rows,
        )

    def check_max_gap(
        self, dataset: str, cohort: Mapping[str, Any], metric: str, limit: float, min_rows: int
    ) -> CheckResult:
        from .fairness import check_max_gap

        report = self.cohort_report(dataset, cohort, [metric], min_rows)
        return check_max_gap(report, metric, limit, cohort=cohort["name"])

    def check_min(
        self, dataset: str, cohort: Mapping[str, Any], metric: str, minimum: float, min_rows: int
    ) -> list[CheckResult]:
        from .fairness import check_min

        report = self.cohort_report(dataset, cohort, [metric], min_rows)
        return check_min(report, metric, minimum, cohort=cohort["name"])

    def check_demographic_parity(
        self, dataset: str, cohort: Mapping[str, Any], limit: float, min_rows: int
    ) -> CheckResult:
        from .fairness import check_demographic_parity

        return check_demographic_parity(
            self.y(dataset),
            self.scores(dataset),
            self.groups(dataset, cohort),
            limit,
            threshold=self.threshold(),
            min_rows=min_rows,
        )

    def check_equalized_odds(
        self, dataset: str, cohort: Mapping[str, Any], limit: float, min_rows: int
    ) -> CheckResult:
        from .fairness import check_equalized_odds

        return check_equalized_odds(
            self.y(dataset),
            self.scores(dataset),
            self.groups(dataset, cohort),
            limit,
            threshold=self.threshold(),
            min_rows=min_rows,
        )

    # --- 4 bias: drift ------------------------------------------------------------------------

    def check_feature_drift(
        self,
        reference: str,
        current: str,
        column: str,
        *,
        numeric: Mapping[str, Any],
        categorical: Mapping[str, Any],
        skew: float | None,
    ) -> list[CheckResult]:
        """Drift of one feature (the method's statistic), and its skewness change when numeric."""
        from .drift import check_skew, feature_drift

        ref, cur = self.table(reference), self.table(current)
        features = list(dict.fromkeys([*self.features_list, column]))
        # every feature in one go (three aggregate scans), cached: one test per column reads it
        key = (
            "feature_drift",
            reference,
            current,
            repr(sorted(numeric.items())),
            repr(sorted(categorical.items())),
        )
        every = self._cached(
            key,
            lambda: dict(
                zip(
                    features,
                    feature_drift(ref, cur, features, numeric=dict(numeric), categorical=dict(categorical)),
                    strict=True,
                )
            ),
        )
        results = [every[column]]
        if skew is not None:
            skews = self._cached(
                ("skew", reference, current, skew), lambda: check_skew(ref, cur, features, skew)
            )
            results += [r for r in skews if r.subject == column]
        return results

    def check_target_drift(self, reference: str, current: str, *, method: str, max: float) -> CheckResult:
        from .drift import check_target_drift

        if self.engine_name(reference) != "pandas" or self.engine_name(current) != "pandas":
            from .drift_tables import target_drift

            return target_drift(self.table(reference), self.table(current), str(self.target), method, max)
        ref, cur = self.dataset(reference), self.dataset(current)
        for name, df in ((reference, ref), (current, cur)):
            if self.target not in df.columns:
                raise MissingInput(f"data set {name} has no target column {self.target!r}")
        return check_target_drift(ref[self.target], cur[self.target], method, max)

    def check_cohort_drift(
        self,
        reference: str,
        current: str,
        cohort: Mapping[str, Any],
        features: list[str],
        *,
        min_rows: int,
        numeric: Mapping[str, Any],
        categorical: Mapping[str, Any],
    ) -> list[CheckResult]:
        """Feature drift within each group of a cohort with enough rows on both sides."""
        from .drift import drift_by_cohort

        return drift_by_cohort(
            self.table(reference),
            self.table(current),
            [dict(cohort)],
            features,
            numeric=dict(numeric),
            categorical=dict(categorical),
            min_rows=min_rows,
        )

    # --- serving: the deployed endpoint (determinism and infrastructure) -------------------

    def check_serving_golden(
        self,
        serving: Mapping[str, Any],
        dataset: str,
        *,
        path: str,
        tolerance: float,
        rows: int | None = None,
    ) -> CheckResult:
        """Golden replay: the rows of `determinism.golden` sent to the endpoint give its predictions."""
        from .determinism import align_to_golden, read_golden
        from .serving import check_served_golden

        unset = _unless_unset(serving, "determinism", "served_golden")
        if unset is not None:  # no URL: skip before reading any data
            return unset
        self.require_file(path, "golden predictions", "run `mlprod record`")
        golden = read_golden(self.path(path))
        golden.path = path
        aligned = align_to_golden(self.dataset(dataset), golden, self.config.get("id_column"))
        return check_served_golden(serving, golden, aligned.loc[:, self.features_list], tolerance)

    def check_serving_repeat(self, serving: Mapping[str, Any], dataset: str, tolerance: float) -> CheckResult:
        """The same request twice gives the same answer."""
        from .serving import check_served_repeat

        return _unless_unset(serving, "determinism", "served_repeat") or check_served_repeat(
            serving, self.X(dataset), tolerance
        )

    def check_serving_latency(self, serving: Mapping[str, Any], dataset: str) -> list[CheckResult]:
        """Open-loop latency and error rate under `serving.load` within `serving.budget`."""
        from .serving import check_served_latency

        unset = _unless_unset(serving, "infrastructure", "served_latency")
        return [unset] if unset else check_served_latency(serving, self.X(dataset))

    def check_serving_robustness(self, serving: Mapping[str, Any], dataset: str) -> list[CheckResult]:
        """Bad requests (a missing feature, a wrong type) get a 4xx with a message."""
        from .serving import check_served_robustness

        unset = _unless_unset(serving, "infrastructure", "served_bad_request")
        return [unset] if unset else check_served_robustness(serving, self.X(dataset))


TRAIN_HINT = "train the model first (in the mlprod examples: python prepare.py)"


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "iloc")


def _prefixed(result: CheckResult, prefix: str) -> CheckResult:
    from dataclasses import replace

    return replace(result, message=prefix + result.message)


def _unless_unset(serving: Mapping[str, Any], concern: str, check: str) -> CheckResult | None:
    """The not-judged result when the serving URL variable is unset (checked before loading data)."""
    from .serving_client import resolve_endpoint

    result = resolve_endpoint(serving, concern, check)
    return result if isinstance(result, CheckResult) and not result.judged else None
