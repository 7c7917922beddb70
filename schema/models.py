"""Pydantic models of `mlprod.yaml`, format version 1.

Field-level rules live here (types, ranges, identifiers, paths); rules that relate fields
to each other live in `rules.py`, so each can report the exact location it is about.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from .types import (
    HANDLE_RE,
    CallableRef,
    CIProvider,
    ColumnDtype,
    CronSchedule,
    DriftMethod,
    DummyStrategy,
    EngineName,
    EnvName,
    ExplainMethod,
    Fraction,
    HeaderName,
    Identifier,
    IsoDate,
    Level,
    Metric,
    Mode,
    NonEmptyStr,
    NonNegFloat,
    NonNegInt,
    Op,
    PiiPattern,
    PositiveInt,
    PyVersion,
    RegistryKind,
    ReleaseStage,
    RelPath,
    Scalar,
    Seed,
    SemVer,
    Sha256,
    SparkMaster,
    SparkRemote,
    StrictModel,
    TableName,
    Task,
)


class Signoff(StrictModel):
    """A person's signature on a manual check."""

    by: NonEmptyStr
    on: IsoDate
    note: str | None = None


class Concern(StrictModel):
    """Fields every concern section has."""

    mode: Mode = Mode.AUTOMATED
    signoff: Signoff | None = None


# --- project and data ------------------------------------------------------------------


class Owner(StrictModel):
    name: NonEmptyStr
    role: str | None = None
    contact: str | None = None
    handle: str | None = Field(default=None, pattern=HANDLE_RE.pattern)


class Project(StrictModel):
    name: Identifier
    title: str | None = None
    description: str | None = None
    task: Task
    owners: list[Owner] = Field(default_factory=list)


class Dataset(StrictModel):
    # Exactly one of `path` (a file or a glob of files, e.g. data/ref/*.parquet) and `table`
    # (a table the engine knows; duckdb and spark only). `engine` overrides `data.engine`.
    path: RelPath | None = None
    table: TableName | None = None
    engine: EngineName | None = None
    sha256: Sha256 | None = None
    # Added (optional): whether `mlprod lock` records this data set. Unset: locked unless it
    # is only monitoring data (drift.current, determinism.prediction_drift.current, a
    # privacy scan target), which changes by design.
    locked: bool | None = None


class ColumnExpect(StrictModel):
    dtype: ColumnDtype | None = None
    min: float | None = None
    max: float | None = None
    values: list[Scalar] | None = None
    not_null: bool = False
    unique: bool = False


class SparkOptions(StrictModel):
    # A SparkSession from `master` (default local[2]), or Spark Connect from `remote`.
    master: SparkMaster | None = None
    remote: SparkRemote | None = None
    conf: dict[Annotated[str, Field(pattern=r"^spark\.[A-Za-z0-9._-]+$", max_length=200)], str] = Field(
        default_factory=dict
    )


class DuckDBOptions(StrictModel):
    # A DuckDB database file (opened read-only) holding the `table:` data sets.
    database: RelPath | None = None
    # DuckDB's memory cap, e.g. "600MB" (the default) or "4GB"; beyond it DuckDB spills to disk.
    memory_limit: (
        Annotated[str, Field(pattern=r"^[1-9][0-9]{0,5}(\.[0-9]+)?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")] | None
    ) = None


class Data(StrictModel):
    target: NonEmptyStr
    positive_label: Scalar | None = None
    id_column: str | None = None
    features: list[NonEmptyStr] = Field(min_length=1)
    datasets: dict[Identifier, Dataset] = Field(min_length=1)
    columns: dict[str, ColumnExpect] = Field(default_factory=dict)
    # Added (optional, issue 17): where data-only checks compute their aggregates, and how
    # many rows model-based checks draw through the engine (by a hash of the id column).
    engine: EngineName | None = None
    sample_rows: PositiveInt = 200
    spark: SparkOptions | None = None
    duckdb: DuckDBOptions | None = None


class Artifact(StrictModel):
    path: RelPath
    sha256: Sha256 | None = None


class ModelSpec(StrictModel):
    load: CallableRef
    artifact: Artifact | None = None
    predict: Identifier | None = None
    threshold: Fraction = 0.5


# --- 1 pipeline ------------------------------------------------------------------------


class Expect(StrictModel):
    min_rows: NonNegInt | None = None
    max_rows: NonNegInt | None = None
    rows: Literal["preserved"] | None = None
    columns: list[str] | None = None
    columns_exclude: list[str] | None = None
    not_null: Literal["all"] | list[str] | None = None
    returns: Literal["model", "dataframe"] | None = None
    range: tuple[float, float] | None = None


class Stage(StrictModel):
    name: Identifier
    run: CallableRef
    inputs: list[Identifier] = Field(default_factory=list)
    expect: Expect | None = None


class Pipeline(Concern):
    sample_rows: PositiveInt = 200
    stages: list[Stage] = Field(default_factory=list)


# --- 2 determinism ---------------------------------------------------------------------


class Golden(StrictModel):
    path: RelPath
    rows: PositiveInt = 100
    tolerance: NonNegFloat = 1e-9


class PredictionDrift(StrictModel):
    reference: Identifier
    current: Identifier
    method: DriftMethod = DriftMethod.PSI
    max: NonNegFloat = 0.25


class BatchInvariance(StrictModel):
    """Each of `rows` rows scored alone and inside a shuffled batch equals its score in the full batch."""

    rows: PositiveInt = 50
    tolerance: NonNegFloat = 1e-9


class ProcessInvariance(StrictModel):
    """A fresh process with another PYTHONHASHSEED and `threads` BLAS/OpenMP threads scores the same."""

    threads: PositiveInt = 2
    tolerance: NonNegFloat = 1e-9


class Determinism(Concern):
    seed: Seed | None = None
    repeats: int = Field(default=3, ge=2)
    tolerance: NonNegFloat = 0.0
    golden: Golden | None = None
    prediction_drift: PredictionDrift | None = None
    # on by default when automated (absent = defaults); `false` turns one off
    batch_invariance: BatchInvariance | Literal[False] | None = None
    process_invariance: ProcessInvariance | Literal[False] | None = None


# --- 3 infrastructure ------------------------------------------------------------------


class Latency(StrictModel):
    batch_size: PositiveInt = 1
    runs: PositiveInt = 100
    warmup: NonNegInt = 5
    p50_ms: NonNegFloat
    p95_ms: NonNegFloat


class Batch(StrictModel):
    rows: PositiveInt
    max_ms: NonNegFloat


class Memory(StrictModel):
    max_mb: NonNegFloat


class PredictionLog(StrictModel):
    path: RelPath
    timestamp: NonEmptyStr = "ts"
    latency_ms: NonEmptyStr = "latency_ms"
    max_growth_pct: NonNegFloat = 20.0
    window_days: PositiveInt = 7


class Scaling(StrictModel):
    min_replicas: PositiveInt
    max_replicas: PositiveInt
    target_cpu_percent: int = Field(ge=1, le=100)


class Infrastructure(Concern):
    latency: Latency | None = None
    batch: Batch | None = None
    memory: Memory | None = None
    log: PredictionLog | None = None
    scaling: Scaling | None = None


# --- 4 cohorts, fairness, drift --------------------------------------------------------


class Filter(StrictModel):
    column: NonEmptyStr
    op: Op
    value: Scalar | list[Scalar]


class Cohort(StrictModel):
    name: Identifier
    by: NonEmptyStr | None = None
    bins: list[float] | None = None
    where: Annotated[list[Filter], Field(min_length=1)] | None = None


class Fairness(Concern):
    dataset: Identifier = "test"
    min_cohort_rows: PositiveInt = 30
    protected: list[Identifier] = Field(default_factory=list)
    max_gap: dict[Metric, NonNegFloat] = Field(default_factory=dict)
    min: dict[Metric, float] = Field(default_factory=dict)
    demographic_parity_difference: Fraction | None = None
    equalized_odds_difference: Fraction | None = None


class NumericDrift(StrictModel):
    method: DriftMethod = DriftMethod.PSI
    max: NonNegFloat = 0.2
    bins: int = Field(default=10, ge=2, le=100)


class CategoricalDrift(StrictModel):
    method: DriftMethod = DriftMethod.PSI
    max: NonNegFloat = 0.2


class SkewDrift(StrictModel):
    # change of Bowley's quantile skewness, which lies in [-1, 1]: a change of 2 or more cannot fail
    max_change: NonNegFloat = Field(default=1.0, lt=2.0)


class TargetDrift(StrictModel):
    method: DriftMethod = DriftMethod.PSI
    max: NonNegFloat = 0.2


class Drift(Concern):
    reference: Identifier = "reference"
    current: Identifier = "current"
    numeric: NumericDrift = Field(default_factory=NumericDrift)
    categorical: CategoricalDrift = Field(default_factory=CategoricalDrift)
    skew: SkewDrift | None = None
    target: TargetDrift | None = None
    by_cohort: bool = False
    min_rows: PositiveInt = 500


# --- 5 release -------------------------------------------------------------------------


class NextRelease(StrictModel):
    version: SemVer
    planned: IsoDate
    changes: str | None = None


class Registry(StrictModel):
    kind: RegistryKind = RegistryKind.DIRECTORY
    path: RelPath | None = None
    name: str | None = None  # the registered model name for kind: mlflow


class CI(StrictModel):
    providers: list[CIProvider] = Field(default_factory=lambda: [CIProvider.GITHUB])
    # Unset: the CI runs reproducibility.python (else the Python running `generate`); a
    # list may hold only that version (validate refuses any other).
    python: list[PyVersion] | None = Field(default=None, min_length=1)
    # Added (optional): the cron schedule of the monitoring job, the install command of
    # the CI job, and full commit SHAs for actions (a SHA cannot be verified offline, so
    # mlprod writes one only when the spec gives it).
    schedule: CronSchedule = "0 6 * * *"
    install: list[str] | None = None
    # Added (optional): commands that fetch byte-identical data and models before the
    # tests (dvc pull, mlflow artifacts download); never a retrain.
    setup: list[NonEmptyStr] | None = None
    pins: dict[str, str] = Field(default_factory=dict)


class Release(Concern):
    version: SemVer
    stage: ReleaseStage = ReleaseStage.EXPERIMENTAL
    deployed: IsoDate | None = None
    expires: IsoDate | None = None
    next: NextRelease | None = None
    rollback_to: SemVer | None = None
    registry: Registry | None = None
    ci: CI = Field(default_factory=CI)


# --- 6 privacy -------------------------------------------------------------------------


class KAnonymity(StrictModel):
    min_k: int = Field(ge=2)
    datasets: list[Identifier] = Field(min_length=1)
    generalize: dict[str, list[float]] = Field(default_factory=dict)


class Scan(StrictModel):
    patterns: list[PiiPattern] = Field(default_factory=list)
    # Added (optional): user regexes by name, scanned like the built-in patterns.
    custom: dict[Identifier, NonEmptyStr] = Field(default_factory=dict)
    datasets: list[Identifier] = Field(default_factory=list)
    stages: list[Identifier] = Field(default_factory=list)


class Impact(StrictModel):
    stakeholder: NonEmptyStr
    harm: NonEmptyStr
    likelihood: Level
    severity: Level
    mitigation: str | None = None


class Privacy(Concern):
    pii: list[NonEmptyStr] = Field(default_factory=list)
    sensitive: list[NonEmptyStr] = Field(default_factory=list)
    quasi_identifiers: list[NonEmptyStr] = Field(default_factory=list)
    k_anonymity: KAnonymity | None = None
    scan: Scan | None = None
    regulations: list[NonEmptyStr] = Field(default_factory=list)
    retention_days: PositiveInt | None = None
    impact: list[Impact] = Field(default_factory=list)


# --- 7 baseline ------------------------------------------------------------------------


class Previous(StrictModel):
    artifact: RelPath
    max_drop: NonNegFloat = 0.0


class Baseline(Concern):
    metric: Metric = Metric.ROC_AUC
    dataset: Identifier = "test"
    strategies: list[DummyStrategy] = Field(default_factory=lambda: [DummyStrategy.PRIOR])
    min_lift: float = 0.0
    previous: Previous | None = None


# --- 8 reproducibility -----------------------------------------------------------------


class Retrain(StrictModel):
    stage: Identifier
    dataset: Identifier
    metric: Metric = Metric.ROC_AUC
    tolerance: NonNegFloat = 0.01


class Reproducibility(Concern):
    seed: Seed | None = None
    lockfile: RelPath | None = None
    python: PyVersion | None = None
    retrain: Retrain | None = None


# --- 9 explainability ------------------------------------------------------------------


class ReasonCodes(StrictModel):
    rows: PositiveInt = 50
    top_k: PositiveInt = 3


class Explainability(Concern):
    method: ExplainMethod = ExplainMethod.PERMUTATION
    dataset: Identifier = "test"
    top_k: PositiveInt = 5
    expect_top: list[NonEmptyStr] = Field(default_factory=list)
    reason_codes: ReasonCodes | None = None


# --- 10 collaboration ------------------------------------------------------------------


class Review(StrictModel):
    required_approvals: NonNegInt = 1


class Regression(StrictModel):
    previous: RelPath
    dataset: Identifier = "test"
    max_flip_rate: Fraction = 0.1
    # Added (optional): for `task: regression`, a prediction "flips" when it moves by more
    # than this absolute amount (default: any change). Classifiers compare decisions instead.
    tolerance: NonNegFloat | None = None


class Collaboration(Concern):
    codeowners: dict[NonEmptyStr, list[NonEmptyStr]] = Field(default_factory=dict)
    review: Review | None = None
    regression: Regression | None = None


# --- serving: checks against the deployed endpoint (determinism and infrastructure) ----


class ServingProtocol(StrEnum):
    RECORDS = "records"
    MLFLOW = "mlflow"
    KSERVE_V2 = "kserve_v2"


class ServingLoad(StrictModel):
    """The open-loop schedule of the latency check: `rate_per_s` requests a second, bounded."""

    rate_per_s: float = Field(default=20.0, gt=0, le=2000)
    duration_s: float = Field(default=10.0, gt=0, le=300)
    warmup_s: float = Field(default=2.0, ge=0, le=60)


class ServingBudget(StrictModel):
    p50_ms: NonNegFloat | None = None
    p95_ms: NonNegFloat | None = None
    p99_ms: NonNegFloat | None = None
    max_error_rate: Fraction = 0.0


class Serving(StrictModel):
    """Where the deployed model answers (the URL comes from an environment variable, never a literal)."""

    url_env: EnvName = "MODEL_URL"
    protocol: ServingProtocol = ServingProtocol.RECORDS
    model_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=200)
    health_path: str = Field(default="/health", pattern=r"^/[A-Za-z0-9/_.~-]*$", max_length=200)
    headers_env: dict[HeaderName, EnvName] = Field(default_factory=dict)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    start: NonEmptyStr | None = None  # CI only: the command that starts the server
    load: ServingLoad = Field(default_factory=ServingLoad)
    budget: ServingBudget | None = None


# --- outputs and score -----------------------------------------------------------------


class Outputs(StrictModel):
    tests: RelPath = "tests/mlprod"
    notebooks: RelPath = "monitoring"
    model_card: RelPath = "MODEL_CARD.md"


class ScoreBar(StrictModel):
    min_total: int = Field(default=0, ge=0, le=20)
    min_each: int = Field(default=0, ge=0, le=2)
    # Added (optional): how old a manual signoff may be and still count (days).
    signoff_max_age_days: PositiveInt = 90


class Spec(StrictModel):
    """The whole `mlprod.yaml`."""

    version: Literal[1]
    project: Project
    data: Data
    model: ModelSpec
    pipeline: Pipeline | None = None
    determinism: Determinism | None = None
    infrastructure: Infrastructure | None = None
    cohorts: list[Cohort] = Field(default_factory=list)
    fairness: Fairness | None = None
    drift: Drift | None = None
    release: Release | None = None
    privacy: Privacy | None = None
    baseline: Baseline | None = None
    reproducibility: Reproducibility | None = None
    explainability: Explainability | None = None
    collaboration: Collaboration | None = None
    serving: Serving | None = None
    outputs: Outputs = Field(default_factory=Outputs)
    score: ScoreBar = Field(default_factory=ScoreBar)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, value: Any) -> Any:
        # `Literal[1]` also takes `true` and `1.0` (both equal 1 in Python).
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError("literal_error", "Input should be 1", {"expected": "1"})
        return value

    # -- helpers used by the generator, the score and the checks -------------------------

    def concern_sections(self, concern: str) -> list[Concern]:
        """The declared spec sections that make up one concern (bias has two)."""
        if concern == "bias":
            return [s for s in (self.fairness, self.drift) if s is not None]
        section = getattr(self, concern)
        return [section] if section is not None else []

    def concern_mode(self, concern: str) -> Mode | None:
        """`automated`, `manual`, or None when the concern is not declared."""
        sections = self.concern_sections(concern)
        if not sections:
            return None
        if any(s.mode == Mode.AUTOMATED for s in sections):
            return Mode.AUTOMATED
        return Mode.MANUAL

    @property
    def predict_method(self) -> str:
        if self.model.predict:
            return self.model.predict
        return "predict" if self.project.task == Task.REGRESSION else "predict_proba"
