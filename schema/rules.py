"""Cross-field rules of the spec; each yields the exact location it is about."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

from .models import Expect, Spec
from .types import EMAIL_RE, HANDLE_RE, Mode, Task

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]


def did_you_mean(name: str, choices: list[str] | set[str]) -> str:
    """A ' (did you mean ...?)' suffix, or '' when nothing is close."""
    import difflib  # only needed when something is wrong

    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _ref(loc: Loc, name: str, kind: str, known: set[str]) -> Iterator[Finding]:
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        yield loc, f"unknown {kind} {name!r}{did_you_mean(name, known)}; known: {listed}"


def check_rules(spec: Spec) -> list[Finding]:
    """Every cross-field problem of a spec that passed the field-level schema."""
    from .bounds import check_bounds
    from .names import name_limit_rules

    return [
        *_rules(spec),
        *_ci_rules(spec),
        *_serving_rules(spec),
        *name_limit_rules(spec),
        *check_bounds(spec),
    ]


#: Most requests one latency check may send (warm-up included): load tests stay bounded.
MAX_SERVING_REQUESTS = 50_000


def _serving_rules(spec: Spec) -> Iterator[Finding]:
    """The serving section: protocol needs, ordered budgets, a bounded load, a safe start command."""
    sv = spec.serving
    if sv is None:
        return
    if sv.protocol == "kserve_v2" and sv.model_name is None:
        yield (
            ("serving", "protocol"),
            "protocol kserve_v2 needs serving.model_name (the model in /v2/models/<name>/infer)",
        )
    elif sv.protocol != "kserve_v2" and sv.model_name is not None:
        yield (
            ("serving", "model_name"),
            f"model_name is used by protocol kserve_v2 only, not {sv.protocol.value}",
        )
    if sv.budget is not None:
        set_ = [(k, v) for k in ("p50_ms", "p95_ms", "p99_ms") if (v := getattr(sv.budget, k)) is not None]
        for (lo_name, lo), (hi_name, hi) in pairwise(set_):
            if lo > hi:
                yield ("serving", "budget", hi_name), f"{hi_name} {hi:g} is below {lo_name} {lo:g}"
    requests = sv.load.rate_per_s * (sv.load.duration_s + sv.load.warmup_s)
    if requests > MAX_SERVING_REQUESTS:
        yield (
            ("serving", "load"),
            f"this schedule sends {requests:,.0f} requests, more than {MAX_SERVING_REQUESTS:,}: "
            "lower rate_per_s or duration_s",
        )
    if sv.start is not None and any(ch in sv.start for ch in "\r\n\0"):
        yield ("serving", "start"), "the start command must be one line"


_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_ACTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")


def _ci_rules(spec: Spec) -> Iterator[Finding]:
    """Values that reach CI configs and CODEOWNERS, checked here so `validate` locates them."""
    expr = "contains '${{', which GitHub Actions would evaluate as an expression; remove it"
    for loc, value in (
        (("outputs", "tests"), spec.outputs.tests),
        (("reproducibility", "lockfile"), spec.reproducibility.lockfile if spec.reproducibility else None),
    ):
        if value is not None and "${{" in value:
            yield loc, f"the path {expr}"
    start = spec.serving.start if spec.serving is not None else None
    if start is not None and "${{" in start:  # the serving job's start command, issue 18
        yield ("serving", "start"), f"the start command {expr}"
    rel = spec.release
    if rel is not None:
        for i, command in enumerate(rel.ci.install or []):
            if "${{" in command:
                yield ("release", "ci", "install", i), f"the install command {expr}"
        for i, command in enumerate(rel.ci.setup or []):
            if "${{" in command:
                yield ("release", "ci", "setup", i), f"the setup command {expr}"
        yield from _ci_python(spec)
        for action, sha in rel.ci.pins.items():
            if not _ACTION_RE.fullmatch(action):
                yield (
                    ("release", "ci", "pins", action),
                    f"{action!r} is not an action name such as 'actions/checkout'",
                )
            if not _SHA_RE.fullmatch(sha):
                yield (
                    ("release", "ci", "pins", action),
                    "a pin must be a full 40-character commit SHA (mlprod pins by release tag otherwise)",
                )
    collab = spec.collaboration
    if collab is not None:
        for pattern, owners in collab.codeowners.items():
            if not pattern.strip():
                yield ("collaboration", "codeowners", pattern), "a CODEOWNERS pattern must not be blank"
            elif any(not ch.isprintable() and ch != " " for ch in pattern):
                yield (
                    ("collaboration", "codeowners", pattern),
                    f"the pattern {pattern!r} contains a line break, tab or control character; remove it",
                )
            for j, owner in enumerate(owners):
                if not (HANDLE_RE.fullmatch(owner) or EMAIL_RE.fullmatch(owner)):
                    yield (
                        ("collaboration", "codeowners", pattern, j),
                        f"{owner!r} is not a CODEOWNERS owner: write '@user', '@org/team' or an e-mail",
                    )


def _ci_python(spec: Spec) -> Iterator[Finding]:
    """release.ci.python holds only the locked Python: a job on another one fails by construction."""
    locked = spec.reproducibility.python if spec.reproducibility is not None else None
    ci = spec.release.ci if spec.release is not None else None
    if locked is None or ci is None or not ci.python:
        return
    for i, version in enumerate(ci.python):
        if version != locked:
            yield (
                ("release", "ci", "python", i),
                f"CI would run Python {version}, but reproducibility.python is {locked!r}: the job's "
                f"reproducibility check fails on any other Python; fix: remove {version!r} from "
                f'release.ci.python (or the whole key: the CI then runs ["{locked}"])',
            )


def _multiclass(spec: Spec) -> Iterator[Finding]:
    """Generated checks score binary classifiers and regressors; say so instead of failing later."""
    if spec.project.task != Task.MULTICLASS:
        return
    scored = [
        name
        for name, section in (
            ("determinism", spec.determinism),
            ("infrastructure", spec.infrastructure),
            ("fairness", spec.fairness),
            ("baseline", spec.baseline),
            ("explainability", spec.explainability),
            (
                "collaboration",
                spec.collaboration if spec.collaboration and spec.collaboration.regression else None,
            ),
            (
                "reproducibility",
                spec.reproducibility if spec.reproducibility and spec.reproducibility.retrain else None,
            ),
        )
        if section is not None and section.mode == Mode.AUTOMATED
    ]
    if scored:
        yield (
            ("project", "task"),
            "generated checks for multiclass_classification are not available yet (they score binary "
            f"classifiers and regressors); set `mode: manual` with a signoff on {', '.join(scored)}, "
            "or model the task as one-vs-rest binary_classification",
        )


def _engine_rules(spec: Spec) -> Iterator[Finding]:
    """Data sets name a path or a table (tables need duckdb or spark); Spark has one address."""
    default = spec.data.engine.value if spec.data.engine else "pandas"
    for name, ds in spec.data.datasets.items():
        loc: Loc = ("data", "datasets", name)
        if (ds.path is None) == (ds.table is None):
            yield loc, "give exactly one of `path` (a file or a glob) and `table` (a table the engine knows)"
            continue
        engine = ds.engine.value if ds.engine else default
        if ds.table is not None and engine == "pandas":
            yield (
                (*loc, "table"),
                f"a table needs the duckdb or spark engine, but data set {name} uses pandas; "
                "set `engine: duckdb` or `engine: spark` here or in data.engine",
            )
        if ds.table is not None and ds.locked:
            yield (
                (*loc, "locked"),
                "a table has no file to hash, so it cannot be locked; remove `locked: true`",
            )
    sp = spec.data.spark
    if sp is not None and sp.master is not None and sp.remote is not None:
        yield (
            ("data", "spark", "remote"),
            "give either `master` (a SparkSession) or `remote` (Spark Connect), not both",
        )


def _rules(spec: Spec) -> Iterator[Finding]:
    yield from _multiclass(spec)
    yield from _engine_rules(spec)
    datasets = set(spec.data.datasets)
    features = spec.data.features
    # features unique
    seen: set[str] = set()
    for i, f in enumerate(features):
        if f in seen:
            yield ("data", "features", i), f"feature {f!r} is listed twice"
        seen.add(f)
    if spec.data.target in features:
        yield ("data", "target"), f"the target {spec.data.target!r} cannot also be a feature"
    id_column = spec.data.id_column
    if id_column is not None and id_column == spec.data.target:
        yield ("data", "id_column"), f"the id column {id_column!r} cannot also be the target"
    elif id_column is not None and id_column in features:
        yield (
            ("data", "id_column"),
            f"the id column {id_column!r} is also listed as a feature; remove it from data.features",
        )
    for col, expect in spec.data.columns.items():
        lo, hi = expect.min, expect.max
        if lo is not None and hi is not None and lo > hi:
            yield ("data", "columns", col, "min"), f"min ({lo:g}) must not exceed max ({hi:g})"

    # stages: names unique, one namespace with datasets, references resolve, acyclic
    stages = spec.pipeline.stages if spec.pipeline else []
    stage_names: set[str] = set()
    for i, st in enumerate(stages):
        if st.name in stage_names:
            yield ("pipeline", "stages", i, "name"), f"stage name {st.name!r} is used twice"
        elif st.name in datasets:
            yield (
                ("pipeline", "stages", i, "name"),
                f"stage name {st.name!r} is also a data set name; stages and data sets share one namespace",
            )
        stage_names.add(st.name)
    known_inputs = datasets | stage_names
    for i, st in enumerate(stages):
        yield from _expect_bounds(i, st.expect)
        for j, name in enumerate(st.inputs):
            if name == st.name:
                yield ("pipeline", "stages", i, "inputs", j), f"stage {st.name!r} cannot take itself as input"
            else:
                yield from _ref(
                    ("pipeline", "stages", i, "inputs", j), name, "data set or stage", known_inputs
                )
    yield from _cycles(spec)

    # cohorts
    cohort_names: set[str] = set()
    for i, c in enumerate(spec.cohorts):
        loc: Loc = ("cohorts", i)
        if c.name in cohort_names:
            yield (*loc, "name"), f"cohort name {c.name!r} is used twice"
        cohort_names.add(c.name)
        if (c.by is None) == (c.where is None):
            yield loc, "a cohort needs exactly one of 'by' (one group per value) or 'where' (a filter)"
        if c.bins is not None:
            if c.by is None:
                yield (*loc, "bins"), "'bins' only applies with 'by'"
            if len(c.bins) < 2:
                yield (*loc, "bins"), "'bins' needs at least two edges"
            for k in range(1, len(c.bins)):
                if c.bins[k] <= c.bins[k - 1]:
                    yield (*loc, "bins", k), "bin edges must be strictly increasing"
                    break
        for j, flt in enumerate(c.where or []):
            is_list = isinstance(flt.value, list)
            if flt.op in ("in", "not_in") and not is_list:
                yield (*loc, "where", j, "value"), f"op {flt.op.value!r} needs a list value, e.g. [a, b]"
            if flt.op in ("in", "not_in") and is_list and not flt.value:
                yield (*loc, "where", j, "value"), f"op {flt.op.value!r} needs at least one value in the list"
            if flt.op not in ("in", "not_in") and is_list:
                yield (*loc, "where", j, "value"), f"op {flt.op.value!r} needs a single value, not a list"
            if flt.op in ("<", "<=", ">", ">=") and (
                isinstance(flt.value, bool) or not isinstance(flt.value, int | float)
            ):
                yield (*loc, "where", j, "value"), f"op {flt.op.value!r} needs a number"

    fair = spec.fairness
    if fair is not None:
        yield from _ref(("fairness", "dataset"), fair.dataset, "data set", datasets)
        for j, name in enumerate(fair.protected):
            yield from _ref(("fairness", "protected", j), name, "cohort", cohort_names)
        if fair.mode == Mode.AUTOMATED and not spec.cohorts:
            yield ("fairness",), "fairness checks need at least one entry under 'cohorts'"
    drift = spec.drift
    if drift is not None:
        yield from _ref(("drift", "reference"), drift.reference, "data set", datasets)
        yield from _ref(("drift", "current"), drift.current, "data set", datasets)

    det = spec.determinism
    if det is not None and det.prediction_drift is not None:
        yield from _ref(
            ("determinism", "prediction_drift", "reference"),
            det.prediction_drift.reference,
            "data set",
            datasets,
        )
        yield from _ref(
            ("determinism", "prediction_drift", "current"), det.prediction_drift.current, "data set", datasets
        )

    infra = spec.infrastructure
    if infra is not None:
        if infra.latency is not None and infra.latency.p50_ms > infra.latency.p95_ms:
            yield ("infrastructure", "latency", "p50_ms"), "p50_ms must not exceed p95_ms"
        if infra.scaling is not None and infra.scaling.min_replicas > infra.scaling.max_replicas:
            yield ("infrastructure", "scaling", "min_replicas"), "min_replicas must not exceed max_replicas"

    rel = spec.release
    if rel is not None:
        if rel.deployed and rel.expires and rel.expires <= rel.deployed:
            yield ("release", "expires"), f"expires ({rel.expires}) must be after deployed ({rel.deployed})"
        if rel.next is not None:
            if rel.expires and rel.next.planned >= rel.expires:
                yield (
                    ("release", "next", "planned"),
                    f"the next release ({rel.next.planned}) must be planned before the model expires"
                    f" ({rel.expires})",
                )
            if _semver_key(rel.next.version) <= _semver_key(rel.version):
                yield (
                    ("release", "next", "version"),
                    f"next version {rel.next.version} must be above {rel.version}",
                )
        if rel.rollback_to is not None and _semver_key(rel.rollback_to) >= _semver_key(rel.version):
            yield (
                ("release", "rollback_to"),
                f"rollback_to {rel.rollback_to} must be an earlier version than {rel.version}",
            )
        if rel.registry is not None and rel.registry.kind == "directory" and rel.registry.path is None:
            yield ("release", "registry", "path"), "a directory registry needs a 'path'"
        if rel.registry is not None and rel.registry.kind == "mlflow" and not rel.registry.name:
            yield (
                ("release", "registry", "name"),
                "an mlflow registry needs 'name', the registered model name",
            )

    priv = spec.privacy
    if priv is not None:
        fset = set(features)
        for j, col in enumerate(priv.pii):
            if col in fset:
                yield (
                    ("privacy", "pii", j),
                    f"PII column {col!r} is listed as a feature; remove it from data.features",
                )
        if priv.k_anonymity is not None:
            for j, name in enumerate(priv.k_anonymity.datasets):
                yield from _ref(("privacy", "k_anonymity", "datasets", j), name, "data set", datasets)
            if not priv.quasi_identifiers:
                yield ("privacy", "k_anonymity"), "k_anonymity needs 'quasi_identifiers'"
            for col, edges in priv.k_anonymity.generalize.items():
                if len(edges) < 2:
                    yield (
                        ("privacy", "k_anonymity", "generalize", col),
                        "generalize needs at least two bin edges",
                    )
                elif any(edges[k] <= edges[k - 1] for k in range(1, len(edges))):
                    yield (
                        ("privacy", "k_anonymity", "generalize", col),
                        "bin edges must be strictly increasing",
                    )
        if priv.scan is not None:
            for pname, rx in priv.scan.custom.items():
                try:
                    re.compile(rx)
                except re.error as exc:
                    yield (
                        ("privacy", "scan", "custom", pname),
                        f"{rx!r} is not a valid regular expression ({exc})",
                    )
            for j, name in enumerate(priv.scan.datasets):
                yield from _ref(("privacy", "scan", "datasets", j), name, "data set", datasets)
            for j, name in enumerate(priv.scan.stages):
                yield from _ref(("privacy", "scan", "stages", j), name, "stage", stage_names)

    base = spec.baseline
    if base is not None:
        yield from _ref(("baseline", "dataset"), base.dataset, "data set", datasets)
    rep = spec.reproducibility
    if rep is not None and rep.retrain is not None:
        yield from _ref(("reproducibility", "retrain", "stage"), rep.retrain.stage, "stage", stage_names)
        yield from _ref(("reproducibility", "retrain", "dataset"), rep.retrain.dataset, "data set", datasets)
    exp = spec.explainability
    if exp is not None:
        yield from _ref(("explainability", "dataset"), exp.dataset, "data set", datasets)
        if exp.mode == Mode.AUTOMATED:
            for j, f in enumerate(exp.expect_top):
                if f not in fset_of(spec):
                    yield (
                        ("explainability", "expect_top", j),
                        f"{f!r} is not a feature{did_you_mean(f, set(features))}",
                    )
            if len(exp.expect_top) > exp.top_k:
                yield (
                    ("explainability", "expect_top"),
                    f"expect_top lists more features than top_k ({exp.top_k})",
                )
    collab = spec.collaboration
    if collab is not None and collab.regression is not None:
        yield from _ref(
            ("collaboration", "regression", "dataset"), collab.regression.dataset, "data set", datasets
        )

    # Score bounds (0..20, 0..2) and keyword names are field-level rules (models, types).


def _expect_bounds(i: int, ex: Expect | None) -> Iterator[Finding]:
    """A stage's `expect` bounds the right way round (else the check can never pass)."""
    if ex is None:
        return
    if ex.range is not None and ex.range[0] > ex.range[1]:
        yield (
            ("pipeline", "stages", i, "expect", "range"),
            f"range [{ex.range[0]:g}, {ex.range[1]:g}] is reversed: write [low, high]",
        )
    if ex.min_rows is not None and ex.max_rows is not None and ex.min_rows > ex.max_rows:
        yield (
            ("pipeline", "stages", i, "expect", "min_rows"),
            f"min_rows ({ex.min_rows}) must not exceed max_rows ({ex.max_rows})",
        )


def fset_of(spec: Spec) -> set[str]:
    return set(spec.data.features)


def _semver_key(v: str) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
    """Semantic-version precedence (semver.org, item 11); build metadata is ignored."""
    core, _, pre = v.split("+", 1)[0].partition("-")
    major, minor, patch = (int(x) for x in core.split("."))
    # Pre-release identifiers compare one by one: numeric ones as numbers and below
    # alphanumeric ones (so rc.9 < rc.10 and 1 < alpha); a longer list wins a tie.
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    # a pre-release sorts before its release
    return (major, minor, patch, 0 if pre else 1, ids)


def _cycles(spec: Spec) -> Iterator[Finding]:
    stages = spec.pipeline.stages if spec.pipeline else []
    index = {st.name: i for i, st in enumerate(stages)}
    graph = {st.name: [n for n in st.inputs if n in index and n != st.name] for st in stages}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = 1
        for nxt in graph[name]:
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt] if nxt in trail else [name, nxt]
            if nxt not in state:
                found = visit(nxt, [*trail, nxt])
                if found:
                    return found
        state[name] = 2
        return None

    for st in stages:
        if st.name not in state:
            cycle = visit(st.name, [st.name])
            if cycle:
                yield (
                    ("pipeline", "stages", index[cycle[0]], "inputs"),
                    "the stages form a cycle: " + " -> ".join(cycle),
                )
                return


def stage_order(spec: Spec) -> list[str]:
    """Stage names in dependency order (inputs first), stable by declaration order."""
    stages = spec.pipeline.stages if spec.pipeline else []
    names = [st.name for st in stages]
    deps = {st.name: [n for n in st.inputs if n in names] for st in stages}
    done: list[str] = []
    while len(done) < len(names):
        progressed = False
        for n in names:
            if n not in done and all(d in done for d in deps[n]):
                done.append(n)
                progressed = True
        if not progressed:  # a cycle; validate reports it
            done.extend(n for n in names if n not in done)
    return done
