"""`<outputs.tests>/conftest.py` and one `test_<concern>.py` per declared, automated concern.

The generated tests are thin: every spec value they use is a module-level constant (a
Python literal laid out by `_pyfmt`), and each test is one call of a `Project` check
method (mlprod/checks/project.py) wrapped in `ensure(...)`. Tests are parametrized by
stage, cohort, column, metric or file, so a failure's test id names its subject.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.generator.render import render_template
from mlprod.generator.safe import Safe
from mlprod.generator.units._pyfmt import assign, literal
from mlprod.schema.models import BatchInvariance, ProcessInvariance, Spec

from mlprod import CONCERNS

LOCK_FILE = "mlprod.lock"


# --- rules shared with `mlprod lock` and `mlprod record` -------------------------------------


def eval_dataset(spec: Spec) -> str:
    """The data set models are scored on by default: baseline.dataset, else `test`, else the first."""
    if spec.baseline is not None:
        return spec.baseline.dataset
    return "test" if "test" in spec.data.datasets else next(iter(spec.data.datasets))


def train_dataset(spec: Spec) -> str:
    """The data set dummy baselines are fitted on: `train` when declared, else the evaluation set."""
    return "train" if "train" in spec.data.datasets else eval_dataset(spec)


def locked_files(spec: Spec) -> dict[str, Any]:
    """What `mlprod lock` records: {"datasets": {name: path}, "artifacts": [paths], "lockfile": path|None}.

    Artifacts are the deployed model and every registry artifact the spec references
    (the deployed and rollback versions, baseline.previous, collaboration.regression.previous).
    """
    artifacts: set[str] = set()
    if spec.model.artifact is not None:
        artifacts.add(spec.model.artifact.path)
    if spec.baseline is not None and spec.baseline.previous is not None:
        artifacts.add(spec.baseline.previous.artifact)
    if spec.collaboration is not None and spec.collaboration.regression is not None:
        artifacts.add(spec.collaboration.regression.previous)
    rel = spec.release
    if (
        rel is not None
        and rel.registry is not None
        and rel.registry.kind == "directory"
        and rel.registry.path
    ):
        for version in (rel.version, rel.rollback_to):
            if version:
                artifacts.add(f"{PurePosixPath(rel.registry.path) / version / 'model.joblib'}")
    lockfile = spec.reproducibility.lockfile if spec.reproducibility is not None else None
    return {
        "datasets": {name: ds.path for name, ds in sorted(spec.data.datasets.items())},
        "artifacts": sorted(artifacts),
        "lockfile": lockfile,
    }


def locked_paths(spec: Spec) -> list[str]:
    """Every file path `mlprod lock` hashes, sorted and unique."""
    files = locked_files(spec)
    paths = set(files["datasets"].values()) | set(files["artifacts"])
    if files["lockfile"]:
        paths.add(files["lockfile"])
    return sorted(paths)


# --- the unit ----------------------------------------------------------------------------------


def automated(spec: Spec) -> list[str]:
    """The concerns that get a test file: declared and automated."""
    return [c for c in CONCERNS if spec.concern_mode(c) == "automated"]


@unit("suites")
def render_suites(ctx: Context) -> list[Artifact]:
    """conftest.py plus test_<concern>.py for each automated concern that has a check to run."""
    spec = ctx.spec
    tests = PurePosixPath(spec.outputs.tests)
    out: list[Artifact] = []
    for concern in automated(spec):
        data = _BUILDERS[concern](spec)
        if data is None:  # the section declares nothing an automated test can check
            continue
        text = render_template(f"tests/test_{concern}.py.jinja", concern=literal(concern), **data)
        out.append(Artifact(f"{tests}/test_{concern}.py", text, Kind.PYTHON, concern=concern))
    if out:
        text = render_template(
            "tests/conftest.py.jinja",
            depth=len(tests.parts),
            generated_by=assign("GENERATED_BY", ctx.version),
            config=assign("CONFIG", project_config(spec)),
        )
        out.insert(0, Artifact(f"{tests}/conftest.py", text, Kind.PYTHON, concern=None))
    return out


def project_config(spec: Spec) -> dict[str, Any]:
    """What `Project` needs at test time, as plain data."""
    from mlprod.schema.rules import stage_order

    stages = {st.name: st for st in (spec.pipeline.stages if spec.pipeline else [])}
    seed = next(
        (s.seed for s in (spec.determinism, spec.reproducibility) if s is not None and s.seed is not None),
        None,
    )
    return {
        "task": spec.project.task.value,
        "target": spec.data.target,
        "positive_label": spec.data.positive_label,
        "id_column": spec.data.id_column,
        "features": list(spec.data.features),
        "datasets": {name: ds.path for name, ds in spec.data.datasets.items()},
        "model": {
            "load": spec.model.load,
            "artifact": spec.model.artifact.path if spec.model.artifact else None,
            "predict": spec.predict_method,
            "threshold": spec.model.threshold,
        },
        "stages": {n: {"run": stages[n].run, "inputs": list(stages[n].inputs)} for n in stage_order(spec)},
        "sample_rows": spec.pipeline.sample_rows if spec.pipeline else 200,
        "seed": seed,
    }


# --- per-concern render data (None: nothing to generate) --------------------------------------

Data = dict[str, Safe | int | bool | None]


def _pipeline(spec: Spec) -> Data | None:
    from mlprod.schema.rules import stage_order

    if spec.pipeline is None or not spec.pipeline.stages:
        return None
    by_name = {st.name: st for st in spec.pipeline.stages}
    order = stage_order(spec)
    expect = {
        n: by_name[n].expect.model_dump(mode="json", exclude_none=True) if by_name[n].expect else {}
        for n in order
    }
    data: Data = {"expect": assign("EXPECT", expect), "last_stage": assign("LAST_STAGE", order[-1])}
    # data.columns rules, checked on every declared data set that has the column (issue 15)
    rules = {
        c: e.model_dump(mode="json", exclude_defaults=True) for c, e in sorted(spec.data.columns.items())
    }
    rules = {c: r for c, r in rules.items() if r}
    data["column_rules"] = assign("COLUMN_RULES", rules) if rules else None
    data["column_datasets"] = assign("COLUMN_DATASETS", sorted(spec.data.datasets)) if rules else None
    return data


def _determinism(spec: Spec) -> Data | None:
    d = spec.determinism
    assert d is not None
    data: Data = {
        "dataset": assign("DATASET", eval_dataset(spec)),
        "repeats": assign("REPEATS", d.repeats),
        "tolerance": assign("TOLERANCE", d.tolerance),
        "golden": None,
        "drift": None,
    }
    if d.golden is not None:
        data["golden"] = assign("GOLDEN", d.golden.model_dump(mode="json"))
    if d.prediction_drift is not None:
        data["drift"] = assign("PREDICTION_DRIFT", d.prediction_drift.model_dump(mode="json"))
    # batch and process invariance: on by default (absent), off with `false` (issue 15)
    batch = BatchInvariance() if d.batch_invariance is None else d.batch_invariance
    process = ProcessInvariance() if d.process_invariance is None else d.process_invariance
    data["batch"] = assign("BATCH_INVARIANCE", batch.model_dump(mode="json")) if batch else None
    data["process"] = assign("PROCESS_INVARIANCE", process.model_dump(mode="json")) if process else None
    return data


def _infrastructure(spec: Spec) -> Data | None:
    inf = spec.infrastructure
    assert inf is not None
    parts = {
        "latency": inf.latency,
        "batch": inf.batch,
        "memory": inf.memory,
        "log": inf.log,
    }
    if all(v is None for v in parts.values()):
        return None
    data: Data = {"dataset": assign("DATASET", eval_dataset(spec))}
    for key, section in parts.items():
        data[key] = assign(key.upper(), section.model_dump(mode="json")) if section is not None else None
    # memory is measured on one batch: the batch size when declared, else 1000 rows
    data["memory_rows"] = assign("MEMORY_ROWS", inf.batch.rows if inf.batch else 1000)
    return data


def _bias(spec: Spec) -> Data | None:
    data: Data = {"fairness": False, "drift": False}
    cohorts = {c.name: c.model_dump(mode="json", exclude_none=True) for c in spec.cohorts}
    data["cohorts"] = assign("COHORTS", cohorts)
    f = spec.fairness
    if f is not None and f.mode == "automated" and spec.cohorts:
        protected = [c for c in f.protected if c in cohorts]
        gaps = [(c, m.value, v) for c in protected for m, v in sorted(f.max_gap.items())]
        mins = [(c, m.value, v) for c in cohorts for m, v in sorted(f.min.items())]
        parity = (
            [(c, f.demographic_parity_difference) for c in protected]
            if f.demographic_parity_difference
            else []
        )
        odds = [(c, f.equalized_odds_difference) for c in protected] if f.equalized_odds_difference else []
        data.update(
            fairness=True,
            fairness_dataset=assign("FAIRNESS_DATASET", f.dataset),
            min_rows=assign("MIN_COHORT_ROWS", f.min_cohort_rows),
            max_gap=assign("MAX_GAP", gaps) if gaps else None,
            minimum=assign("MINIMUM", mins) if mins else None,
            parity=assign("DEMOGRAPHIC_PARITY", parity) if parity else None,
            odds=assign("EQUALIZED_ODDS", odds) if odds else None,
        )
    d = spec.drift
    if d is not None and d.mode == "automated":
        data.update(
            drift=True,
            drift_datasets=assign("DRIFT_DATASETS", [d.reference, d.current]),
            features=assign("FEATURES", list(spec.data.features)),
            numeric=assign("NUMERIC", d.numeric.model_dump(mode="json")),
            categorical=assign("CATEGORICAL", d.categorical.model_dump(mode="json")),
            skew=assign("SKEW_MAX_CHANGE", d.skew.max_change if d.skew else None),
            target=assign("TARGET_DRIFT", d.target.model_dump(mode="json")) if d.target else None,
            by_cohort=assign("DRIFT_COHORTS", list(cohorts)) if d.by_cohort and cohorts else None,
            drift_min_rows=assign("DRIFT_MIN_ROWS", d.min_rows),
        )
    if not data["fairness"] and not data["drift"]:
        return None
    return data


def _release(spec: Spec) -> Data | None:
    r = spec.release
    assert r is not None
    registry = r.registry.model_dump(mode="json") if r.registry is not None else None
    return {
        "version": assign("VERSION", r.version),
        "expires": assign("EXPIRES", r.expires) if r.expires else None,
        "next": assign("NEXT_RELEASE", r.next.model_dump(mode="json", exclude_none=True)) if r.next else None,
        "registry": assign("REGISTRY", registry) if registry else None,
        "rollback": assign("ROLLBACK_TO", r.rollback_to) if r.rollback_to else None,
    }


def _privacy(spec: Spec) -> Data | None:
    p = spec.privacy
    assert p is not None
    scan = p.scan
    k = p.k_anonymity
    return {
        "pii": assign("PII", list(p.pii)),
        "features": assign("FEATURES", list(spec.data.features)),
        "datasets": assign("SCAN_DATASETS", list(scan.datasets))
        if scan and scan.datasets and p.pii
        else None,
        "stages": assign("SCAN_STAGES", list(scan.stages)) if scan and scan.stages and p.pii else None,
        "patterns": assign("PATTERNS", [str(x) for x in scan.patterns])
        if scan and (scan.patterns or scan.custom)
        else None,
        "custom": assign("CUSTOM_PATTERNS", dict(scan.custom)) if scan else None,
        "sources": assign("PATTERN_SOURCES", [*scan.datasets, *scan.stages]) if scan else None,
        "k_datasets": assign("K_DATASETS", list(k.datasets)) if k else None,
        "k": assign(
            "K_ANONYMITY",
            {
                "quasi_identifiers": list(p.quasi_identifiers),
                "min_k": k.min_k,
                "generalize": dict(k.generalize),
            },
        )
        if k
        else None,
    }


def _baseline(spec: Spec) -> Data | None:
    b = spec.baseline
    assert b is not None
    return {
        "metric": assign("METRIC", b.metric.value),
        "dataset": assign("DATASET", b.dataset),
        "train": assign("TRAIN_DATASET", train_dataset(spec)),
        "strategies": assign("STRATEGIES", [s.value for s in b.strategies]) if b.strategies else None,
        "min_lift": assign("MIN_LIFT", b.min_lift),
        "previous": assign("PREVIOUS", b.previous.model_dump(mode="json")) if b.previous else None,
    }


def _reproducibility(spec: Spec) -> Data | None:
    r = spec.reproducibility
    assert r is not None
    retrain = r.retrain.model_dump(mode="json") if r.retrain else None
    return {
        "lock": assign("LOCK_FILE", LOCK_FILE),
        "files": assign("LOCKED_FILES", locked_paths(spec)),
        "lockfile": assign("LOCKFILE", r.lockfile) if r.lockfile else None,
        "python": assign("PYTHON", r.python) if r.python else None,
        "retrain": assign("RETRAIN", retrain) if retrain else None,
        "eval_dataset": assign("EVAL_DATASET", eval_dataset(spec)),
    }


def _explainability(spec: Spec) -> Data | None:
    e = spec.explainability
    assert e is not None
    return {
        "method": assign("METHOD", e.method.value),
        "dataset": assign("DATASET", e.dataset),
        "top_k": assign("TOP_K", e.top_k),
        "expect_top": assign("EXPECT_TOP", list(e.expect_top)) if e.expect_top else None,
        "reasons": assign("REASON_CODES", e.reason_codes.model_dump(mode="json")) if e.reason_codes else None,
        "reference": assign("REFERENCE_DATASET", train_dataset(spec)),
    }


def _collaboration(spec: Spec) -> Data | None:
    c = spec.collaboration
    assert c is not None
    if c.regression is None:
        return None  # codeowners and review are files (CODEOWNERS, PR template), not tests
    return {"regression": assign("REGRESSION", c.regression.model_dump(mode="json"))}


_BUILDERS = {
    "pipeline": _pipeline,
    "determinism": _determinism,
    "infrastructure": _infrastructure,
    "bias": _bias,
    "release": _release,
    "privacy": _privacy,
    "baseline": _baseline,
    "reproducibility": _reproducibility,
    "explainability": _explainability,
    "collaboration": _collaboration,
}
