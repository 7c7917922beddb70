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
from mlprod.generator.locking import locked_datasets
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

    Data sets: see generator/locking.py (monitoring-only data such as `current` is left out).

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
        "datasets": locked_datasets(spec),  # monitoring-only data is not locked
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
    out.extend(_serving_suite(spec, tests))
    if out:
        files = sorted([f"{tests}/conftest.py", *(a.path for a in out)])
        text = render_template(
            "tests/conftest.py.jinja",
            depth=len(tests.parts),
            generated_by=assign("GENERATED_BY", ctx.version),
            config=assign("CONFIG", project_config(spec)),
            suite=assign("SUITE", {"spec": ctx.spec_file, "files": files}),
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
    } | engines_config(spec)


def engines_config(spec: Spec) -> dict[str, Any]:
    """{"engines": the data section's engine settings} when the spec uses an engine beside pandas, else {}.

    The dict `mlprod.engines.Engines` reads (engine, sample_rows, spark, duckdb, datasets with
    path/table/engine); absent for a pandas-only spec, so its generated files do not change.
    """
    data = spec.data
    used = (
        data.engine not in (None, "pandas")
        or data.spark is not None
        or data.duckdb is not None
        or data.sample_rows != 200
        or any(ds.engine is not None or ds.table is not None for ds in data.datasets.values())
    )
    if not used:
        return {}
    out = data.model_dump(
        mode="json", include={"engine", "sample_rows", "spark", "duckdb"}, exclude_none=True
    )
    out["datasets"] = {
        name: ds.model_dump(mode="json", include={"path", "table", "engine"}, exclude_none=True)
        for name, ds in sorted(data.datasets.items())
    }
    return {"engines": dict(sorted(out.items()))}


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
    data: Data = {
        "expect": assign("EXPECT", expect),
        "stages": assign("STAGES", order),
        "last_stage": assign("LAST_STAGE", order[-1]),
    }
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
            max_gap_ids=assign("MAX_GAP_IDS", [f"{c}-{m}" for c, m, _ in gaps]),
            minimum=assign("MINIMUM", mins) if mins else None,
            minimum_ids=assign("MINIMUM_IDS", [f"{c}-{m}" for c, m, _ in mins]),
            parity=assign("DEMOGRAPHIC_PARITY", parity) if parity else None,
            parity_ids=assign("DEMOGRAPHIC_PARITY_IDS", [c for c, _ in parity]),
            odds=assign("EQUALIZED_ODDS", odds) if odds else None,
            odds_ids=assign("EQUALIZED_ODDS_IDS", [c for c, _ in odds]),
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
    if registry is None and not (r.expires or r.next or r.rollback_to):
        return None  # the version's form is validate's job; nothing here to test
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
    # The stages a model is fitted on are scanned too: their columns are what the model gets.
    stages = [*(scan.stages if scan else []), *model_input_stages(spec)]
    stages = list(dict.fromkeys(stages))
    patterns = bool(scan and (scan.patterns or scan.custom))
    if not (p.pii and (stages or (scan and scan.datasets))) and not patterns and k is None:
        return None  # nothing left to test: PII names among features are validate's job
    return {
        "pii": assign("PII", list(p.pii)),
        "datasets": assign("SCAN_DATASETS", list(scan.datasets))
        if scan and scan.datasets and p.pii
        else None,
        "stages": assign("SCAN_STAGES", stages) if stages and p.pii else None,
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


def model_input_stages(spec: Spec) -> list[str]:
    """The stages whose output a model-fitting stage (`expect.returns: model`) takes as input."""
    if spec.pipeline is None:
        return []
    names = {st.name for st in spec.pipeline.stages}
    out: list[str] = []
    for st in spec.pipeline.stages:
        if st.expect is not None and st.expect.returns == "model":
            out.extend(i for i in st.inputs if i in names)
    return list(dict.fromkeys(out))


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


def suite_node_ids(ctx: Context) -> dict[str, list[str]]:
    """{concern: sorted node ids of its generated tests}, from the rendered plan (no collection).

    Node ids are relative to the spec folder: `tests/mlprod/test_bias.py::test_feature_drift[age]`.
    """

    out: dict[str, list[str]] = {}
    for art in render_suites(ctx):
        if art.path.endswith("/conftest.py"):
            continue
        for concern, ids in _ids_by_concern(art.path, art.content, art.concern).items():
            out.setdefault(concern, []).extend(ids)
    return {concern: sorted(ids) for concern, ids in out.items()}


def _ids_by_concern(path: str, text: str, concern: str | None) -> dict[str, list[str]]:
    """{concern: node ids} of one generated test module: all of the file's concern, or, for a
    file of no single concern (test_serving.py), each test by its own marker."""
    from mlprod.generator.units._nodeids import module_node_ids

    ids = module_node_ids(path, text)
    if concern is not None:
        return {concern: ids}
    marks = marked_concerns(text)
    out: dict[str, list[str]] = {}
    for nodeid in ids:
        function = nodeid.split("::", 1)[1].split("[", 1)[0]
        if function in marks:
            out.setdefault(marks[function], []).append(nodeid)
    return out


def suite_summary(
    ctx: Context, spec_text: str, finished: list[tuple[Artifact, str]]
) -> dict[str, Any] | None:
    """The manifest's `suite`: the fingerprint of the generated suite as written (`finished`:
    artifacts with their final text) and each concern's node ids; None without a suite."""

    from mlprod.checks.runrecord import suite_fingerprint

    tests = PurePosixPath(ctx.spec.outputs.tests)
    modules = {f"{tests}/test_{c}.py" for c in CONCERNS} | {f"{tests}/test_serving.py"}
    files: dict[str, bytes] = {}
    ids: dict[str, list[str]] = {}
    for art, text in finished:
        if art.managed or (art.path != f"{tests}/conftest.py" and art.path not in modules):
            continue
        files[art.path] = text.encode("utf-8")
        if art.path in modules:
            for concern, found in _ids_by_concern(art.path, text, art.concern).items():
                ids.setdefault(concern, []).extend(found)
    if not files:
        return None
    fingerprint = suite_fingerprint(ctx.version, spec_text, files)
    return {"fingerprint": fingerprint, "tests": {c: sorted(v) for c, v in sorted(ids.items())}}


def _serving_suite(spec: Spec, tests: PurePosixPath) -> list[Artifact]:
    """test_serving.py: checks against the deployed endpoint, each marked with its own concern
    (golden replay and repeat: determinism; latency and bad requests: infrastructure), so the
    file belongs to no single concern. Only the automated concerns' tests are written."""
    sv = spec.serving
    if sv is None:
        return []
    wanted = set(automated(spec))
    det = spec.determinism if "determinism" in wanted else None
    infra = "infrastructure" in wanted
    data: Data = {
        "golden": assign("GOLDEN", det.golden.model_dump(mode="json")) if det and det.golden else None,
        "repeat": det is not None,
        "tolerance": assign("TOLERANCE", det.tolerance) if det else None,
        "latency": infra and sv.budget is not None,
        "robustness": infra,
    }
    if not any(data.values()):
        return []
    text = render_template(
        "tests/test_serving.py.jinja",
        serving=assign("SERVING", sv.model_dump(mode="json")),
        dataset=assign("DATASET", eval_dataset(spec)),
        determinism=literal("determinism"),
        infrastructure=literal("infrastructure"),
        **data,
    )
    return [Artifact(f"{tests}/test_serving.py", text, Kind.PYTHON, concern=None)]


def marked_concerns(text: str) -> dict[str, str]:
    """{test function: concern} from each test's own `@pytest.mark.mlprod(concern=...)` marker.

    For test_serving.py, whose tests belong to two concerns: run records and node ids map
    its tests by these markers instead of by the file's name.
    """
    import ast

    out: dict[str, str] = {}
    for node in ast.parse(text).body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "pytest.mark.mlprod":
                for kw in dec.keywords:
                    if kw.arg == "concern" and isinstance(kw.value, ast.Constant):
                        out[node.name] = str(kw.value.value)
    return out
