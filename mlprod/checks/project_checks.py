"""The checks of the generated tests, as methods of `Project` (see project.py).

Each method takes one check's spec values as plain data, gets the data it needs from the
project (cached data sets, model, scores, sampled pipeline run) and returns the
`CheckResult`s of the concern modules. The logic of every check lives in those modules;
these methods only connect the project's inputs to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mlprod.errors import ExitCode, MlprodError

from .results import CheckResult

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project as _Base
else:
    _Base = object


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
    """Raise CheckFailure naming every failed result (results or lists of results)."""
    flat: list[CheckResult] = []
    for r in results:
        flat.extend([r] if isinstance(r, CheckResult) else list(r))
    if not flat:
        raise CheckFailure("no check ran (nothing to judge)")
    failed = [r for r in flat if not r.passed]
    if failed:
        raise CheckFailure("\n".join(r.message for r in failed))


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

        ref, cur = self.dataset(reference), self.dataset(current)
        results = feature_drift(ref, cur, [column], numeric=dict(numeric), categorical=dict(categorical))
        if skew is not None:
            results += check_skew(ref, cur, [column], skew)
        return results

    def check_target_drift(self, reference: str, current: str, *, method: str, max: float) -> CheckResult:
        from .drift import check_target_drift

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
            self.dataset(reference),
            self.dataset(current),
            [dict(cohort)],
            features,
            numeric=dict(numeric),
            categorical=dict(categorical),
            min_rows=min_rows,
        )

    # --- 5 release ---------------------------------------------------------------------------

    def check_semver(self, version: str) -> CheckResult:
        from .release import check_semver

        return check_semver(version)

    def check_not_expired(self, expires: str) -> CheckResult:
        from .release import check_not_expired, today

        return check_not_expired(expires, today())

    def check_next_planned(self, next_release: Mapping[str, Any], expires: str | None) -> CheckResult:
        from .release import check_next_planned, today

        return check_next_planned(
            next_release.get("planned"), expires, today(), next_version=next_release.get("version")
        )

    def registry(self, registry: Mapping[str, Any]) -> Any:
        from .registry import open_registry

        return open_registry(
            registry.get("kind", "directory"), registry.get("path"), registry.get("name"), root=self.root
        )

    def check_registry(self, registry: Mapping[str, Any], version: str) -> CheckResult:
        from .release import check_registry

        artifact = self.model_cfg.get("artifact")
        if not artifact:
            return CheckResult(
                "release",
                "registry",
                False,
                "model.artifact is not set: the deployed artifact cannot be compared with the registry",
                subject=version,
            )
        self.require_file(artifact, "the model artifact", TRAIN_HINT)
        return check_registry(self.registry(registry), version, self.path(artifact))

    def check_rollback(self, registry: Mapping[str, Any] | None, version: str) -> CheckResult:
        from .release import check_rollback_present

        if registry is None:
            return CheckResult(
                "release",
                "rollback_present",
                False,
                f"rollback version {version} cannot be found: no registry is declared (release.registry)",
                subject=version,
            )
        return check_rollback_present(self.registry(registry), version)

    # --- 6 privacy ---------------------------------------------------------------------------

    def check_pii_not_features(self, features: list[str], pii: list[str]) -> CheckResult:
        from .privacy import check_pii_not_features

        return check_pii_not_features(features, pii)

    def check_pii_absent_dataset(self, dataset: str, pii: list[str]) -> CheckResult:
        from .privacy import check_pii_columns_absent

        return check_pii_columns_absent(self.dataset(dataset), pii, subject=f"data set {dataset}")

    def check_pii_absent_stage(self, stage: str, pii: list[str]) -> CheckResult:
        from .privacy import check_pii_columns_absent

        return check_pii_columns_absent(self.stage_output(stage), pii, subject=f"the output of stage {stage}")

    def check_pii_patterns(self, source: str, patterns: list[str], custom: dict[str, str]) -> CheckResult:
        """`source` is a data set name, or a stage name (its output on the sampled run)."""
        from .privacy import check_pii_patterns

        if source in self.stages:
            data, subject = self.stage_output(source), f"the output of stage {source}"
            if not _is_frame(data):  # predictions carry no text
                return CheckResult(
                    "privacy", "pii_patterns", True, f"{subject} has no text columns", 0.0, 0.0, subject
                )
        else:
            data, subject = self.dataset(source), f"data set {source}"
        return check_pii_patterns(data, patterns, custom, subject=subject)

    def check_k_anonymity(
        self, dataset: str, quasi_identifiers: list[str], min_k: int, generalize: dict[str, list[float]]
    ) -> CheckResult:
        from .privacy import check_k_anonymity

        return check_k_anonymity(
            self.dataset(dataset), quasi_identifiers, min_k, generalize, subject=f"data set {dataset}"
        )

    # --- 7 baseline --------------------------------------------------------------------------

    def check_beats_dummy(
        self, strategy: str, metric: str, dataset: str, train: str, min_lift: float
    ) -> list[CheckResult]:
        from .baseline import check_beats_dummies, dummy_scores

        dummy = dummy_scores(strategy, self.X(train), self.y(train), self.X(dataset), seed=self.seed)
        return check_beats_dummies(
            self.scores(dataset),
            self.y(dataset),
            {strategy: dummy},
            metric,
            min_lift,
            threshold=self.threshold(),
        )

    def check_previous(self, path: str, metric: str, dataset: str, max_drop: float) -> CheckResult:
        from .baseline import check_previous
        from .metrics import compute_metric

        y = self.y(dataset)
        now = compute_metric(metric, y, self.scores(dataset), threshold=self.threshold())
        before = compute_metric(metric, y, self.previous_scores(path, dataset), threshold=self.threshold())
        return check_previous(now, before, max_drop, metric, previous=path)

    # --- 8 reproducibility -------------------------------------------------------------------

    def check_lock_present(self, lock: str) -> CheckResult:
        from .reproducibility import check_lock_present

        return check_lock_present(self.root, lock)

    def read_lock(self, lock: str) -> dict[str, Any]:
        from .reproducibility import read_lock

        self.require_file(lock, "the hashes of data and artifacts", "run `mlprod lock`")
        return self._cached(("lock", lock), lambda: read_lock(self.path(lock)))

    def check_locked_hash(self, lock: str, path: str) -> list[CheckResult]:
        """The file's sha256 equals the one recorded in the lock (every entry for that path)."""
        from .reproducibility import check_hashes

        results = [r for r in check_hashes(self.root, self.read_lock(lock)) if r.subject == path]
        if not results:
            return [
                CheckResult(
                    "reproducibility",
                    "hash",
                    False,
                    f"{path} is not recorded in {lock}: run `mlprod lock`",
                    subject=path,
                )
            ]
        return results

    def check_lockfile(self, lockfile: str) -> CheckResult:
        from .reproducibility import check_lockfile

        return check_lockfile(self.path(lockfile))

    def check_python(self, lock: str, python: str) -> CheckResult:
        from .reproducibility import check_python

        return check_python(self.read_lock(lock), python)

    def check_retrain(self, retrain: Mapping[str, Any], dataset: str) -> CheckResult:
        """Retrain with the seed (the stages feeding `retrain.stage`, on full data); compare the metric."""
        from .metrics import compute_metric
        from .reproducibility import check_retrain_metric

        stage, source = retrain["stage"], retrain["dataset"]
        if stage not in self.stages:
            raise MissingInput(f"retrain stage {stage!r} is not a pipeline stage")
        chain = self.ancestors(stage)
        inputs = {i for n in chain for i in self.stages[n].get("inputs", []) if i not in self.stages}
        replace = {next(iter(inputs)): source} if len(inputs) == 1 and source not in inputs else None
        self._path_ready()
        out = self.run_stages(chain, full=True, replace=replace)[stage]
        if isinstance(out, StageError):
            raise CheckFailure(f"retraining failed: {out}")
        metric = retrain.get("metric", "roc_auc")
        y, t = self.y(dataset), self.threshold()
        retrained = compute_metric(metric, y, self.predict_fn(out)(self.X(dataset)), threshold=t)
        deployed = compute_metric(metric, y, self.scores(dataset), threshold=t)
        return check_retrain_metric(retrained, deployed, float(retrain.get("tolerance", 0.01)), metric)

    # --- 9 explainability ----------------------------------------------------------------------

    def importances(self, method: str, dataset: str, metric: str = "roc_auc") -> dict[str, float]:
        from .explainability import global_importance

        def compute() -> dict[str, float]:
            y = self.y(dataset) if method == "permutation" else None
            return global_importance(
                self.model(),
                self.X(dataset),
                y,
                method=method,
                metric=metric,
                predict_method=self.predict_method,
                seed=self.seed,
                threshold=self.threshold(),
            )

        return self._cached(("importances", method, dataset), compute)

    def check_importances(self, method: str, dataset: str) -> CheckResult:
        from .explainability import check_importances_computed

        return check_importances_computed(self.importances(method, dataset))

    def check_expected_top(self, method: str, dataset: str, feature: str, top_k: int) -> CheckResult:
        from .explainability import check_expected_top

        return check_expected_top(self.importances(method, dataset), [feature], top_k)

    def check_reason_codes(self, dataset: str, reference: str, *, rows: int, top_k: int) -> CheckResult:
        """Reason codes of the first `rows` rows, against the reference data set's medians and modes."""
        from .explainability import check_reason_codes, reason_codes, reference_values

        X = self.X(dataset).iloc[:rows]
        codes = reason_codes(self.predict_fn(), X, reference_values(self.X(reference)), top_k)
        return check_reason_codes(
            codes, top_k, n_features=len(self.features_list), subject=f"{len(X)} rows of {dataset}"
        )

    # --- 10 collaboration ----------------------------------------------------------------------

    def check_flip_rate(self, previous: str, dataset: str, max_flip_rate: float) -> CheckResult:
        from .regression import check_flip_rate

        threshold = self.threshold() if self.task == "binary_classification" else None
        return check_flip_rate(
            self.scores(dataset),
            self.previous_scores(previous, dataset),
            threshold,
            max_flip_rate,
            previous=previous,
        )


TRAIN_HINT = "train the model first (in the mlprod examples: python prepare.py)"


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "iloc")


def _prefixed(result: CheckResult, prefix: str) -> CheckResult:
    from dataclasses import replace

    return replace(result, message=prefix + result.message)
