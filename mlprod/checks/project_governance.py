"""The checks of concerns 5 to 10 (release, privacy, baseline, reproducibility,
explainability, collaboration), as methods of `Project` (see project.py and project_checks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .project_checks import TRAIN_HINT, CheckFailure, MissingInput, StageError, _is_frame
from .results import CheckResult

#: The metric permutation importance scores with, per task (a regression has no ROC AUC).
IMPORTANCE_METRIC = {"binary_classification": "roc_auc", "regression": "r2"}

# The mixin calls Project's data methods (dataset, X, y, model, scores, ...); typing its base
# as Any spares a circular import.
_Base: Any = object


class GovernanceChecks(_Base):
    """Per-concern check methods of concerns 5-10; mixed into Project."""

    # --- 5 release ---------------------------------------------------------------------------

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

    def check_pii_absent_dataset(self, dataset: str, pii: list[str]) -> CheckResult:
        from .privacy import check_pii_columns_absent

        return check_pii_columns_absent(self.data_for_checks(dataset), pii, subject=f"data set {dataset}")

    def check_pii_absent_stage(self, stage: str, pii: list[str]) -> CheckResult:
        from .privacy import check_pii_columns_absent

        return check_pii_columns_absent(self.stage_output(stage), pii, subject=f"the output of stage {stage}")

    def check_pii_patterns(self, source: str, patterns: list[str], custom: dict[str, str]) -> CheckResult:
        """`source` is a data set name, or a stage name (its output on the sampled run)."""
        from .privacy import check_pii_patterns

        if source in self.stages:
            data, subject = self.stage_output(source), f"the output of stage {source}"
            if not _is_frame(data):  # predictions carry no text: nothing to judge (issue 15)
                why = f"PII values in {subject} not judged: a {type(data).__name__}, no text to scan"
                return CheckResult("privacy", "pii_patterns", True, why, None, 0.0, subject, judged=False)
        else:
            data, subject = self.data_for_checks(source), f"data set {source}"
        return check_pii_patterns(data, patterns, custom, subject=subject)

    def check_k_anonymity(
        self, dataset: str, quasi_identifiers: list[str], min_k: int, generalize: dict[str, list[float]]
    ) -> CheckResult:
        from .privacy import check_k_anonymity

        return check_k_anonymity(
            self.data_for_checks(dataset), quasi_identifiers, min_k, generalize, subject=f"data set {dataset}"
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

    def importances(self, method: str, dataset: str, metric: str | None = None) -> dict[str, float]:
        """Global importances; permutation scores with `metric`, by default the task's
        (roc_auc for binary classification, r2 for regression, accuracy otherwise)."""
        from .explainability import global_importance

        metric = metric or IMPORTANCE_METRIC.get(self.task, "accuracy")

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

        return self._cached(("importances", method, dataset, metric), compute)

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

    def check_flip_rate(
        self, previous: str, dataset: str, max_flip_rate: float, tolerance: float | None = None
    ) -> CheckResult:
        from .regression import check_flip_rate

        threshold = self.threshold() if self.task == "binary_classification" else None
        return check_flip_rate(
            self.scores(dataset),
            self.previous_scores(previous, dataset),
            threshold,
            max_flip_rate,
            previous=previous,
            tolerance=tolerance if self.task == "regression" else None,
        )
