"""Constrained value types of the spec: identifiers, paths, callables, versions, dates."""

from __future__ import annotations

import datetime as _dt
import keyword
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

IDENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Entry-point grammar (PEP 621 / importlib.metadata): module[.sub]:attr[.attr]
CALLABLE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
#: A CODEOWNERS owner: a GitHub handle ('@user', '@org/team') or an e-mail address.
HANDLE_RE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
PY_VERSION_RE = re.compile(r"^3\.\d{1,2}$")
# Five cron fields (minute hour day month weekday), as GitHub and GitLab schedules read them.
CRON_RE = re.compile(r"^[0-9*/,\-]+( [0-9*/,\-]+){4}$")


# Regexes are matched with `fullmatch`: `re.match` lets `$` match before a trailing
# newline, so "churn\n" would pass as an identifier.


def _identifier(value: str) -> str:
    if not IDENT_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an identifier: use lower-case letters, digits and '_', "
            "starting with a letter (for example 'credit_default')"
        )
    # Hard keywords only: soft keywords (`match`, `case`, `type`) are valid names, and their
    # list grows with the Python version, so a spec valid on 3.11 would fail on 3.12.
    if keyword.iskeyword(value):
        raise ValueError(f"{value!r} is a Python keyword; choose another name")
    return value


def _rel_path(value: str) -> str:
    if not value or value.strip() != value:
        raise ValueError("a path must be non-empty, without leading or trailing spaces")
    if "\\" in value:
        raise ValueError(f"{value!r}: use a relative POSIX path with '/' separators")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{value!r} contains a control character (a newline or tab); remove it")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"{value!r} is absolute: paths are relative to the spec's folder")
    parts = value.split("/")
    if ".." in parts:
        raise ValueError(f"{value!r} leaves the project folder ('..' is not allowed)")
    if not [p for p in parts if p not in ("", ".")]:
        raise ValueError(f"{value!r} names the project folder itself; name a file or folder inside it")
    # Case-insensitive: on macOS and Windows `.GIT/config` is `.git/config`.
    if ".git" in (p.lower() for p in parts):
        raise ValueError(f"{value!r} points into .git, which mlprod never touches")
    return value


def _callable(value: str) -> str:
    if not CALLABLE_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a 'module:callable' reference (for example 'credit.model:load_model')"
        )
    return value


def _semver(value: str) -> str:
    if not SEMVER_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a semantic version such as '1.2.0'")
    return value


def _date(value: str) -> str:
    if not DATE_RE.fullmatch(value):
        raise ValueError(f'{value!r} is not an ISO date: write it as "YYYY-MM-DD" in quotes')
    try:
        _dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date ({exc})") from None
    return value


def _sha256(value: str) -> str:
    if not SHA256_RE.fullmatch(value):
        raise ValueError("expected 64 lower-case hex digits (a SHA-256 digest)")
    return value


def _python_version(value: str) -> str:
    if not PY_VERSION_RE.fullmatch(value):
        raise ValueError(f'{value!r} is not a Python version such as "3.11" (quote it)')
    return value


def _cron(value: str) -> str:
    if not CRON_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a cron schedule: write five fields, minute hour day month weekday,"
            ' separated by single spaces (for example "0 6 * * *")'
        )
    return value


def _json(pattern: str | None = None, **extra: str) -> WithJsonSchema:
    """The JSON Schema of a constrained string, for editors (the validator stays the authority)."""
    schema: dict[str, str] = {"type": "string", **extra}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    _json(IDENT_RE.pattern, description="lower-case identifier, not a keyword"),
]
RelPath = Annotated[
    str,
    AfterValidator(_rel_path),
    _json(
        r"^(?!/)(?![A-Za-z]:)(?!(.*/)?\.\.(/|$))(?!(.*/)?\.[gG][iI][tT](/|$))(?![./]*$)[^\\\x00-\x1f\x7f]+$",
        description="relative POSIX path inside the project",
    ),
]
CallableRef = Annotated[
    str, AfterValidator(_callable), _json(CALLABLE_RE.pattern, description="module:callable")
]
SemVer = Annotated[str, AfterValidator(_semver), _json(SEMVER_RE.pattern, description="semantic version")]
IsoDate = Annotated[str, AfterValidator(_date), _json(DATE_RE.pattern, format="date")]
Sha256 = Annotated[str, AfterValidator(_sha256), _json(SHA256_RE.pattern)]
PyVersion = Annotated[
    str, AfterValidator(_python_version), _json(PY_VERSION_RE.pattern, description='e.g. "3.11"')
]
CronSchedule = Annotated[str, AfterValidator(_cron), _json(CRON_RE.pattern, description="cron schedule")]
NonEmptyStr = Annotated[str, Field(min_length=1)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
# numpy and scikit-learn accept seeds in [0, 2**32 - 1] only; anything else crashes the checks.
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Scalar = str | int | float | bool


class StrictModel(BaseModel):
    """Base of every spec model: unknown keys are errors, types are strict, numbers finite."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        frozen=True,
        populate_by_name=True,
        # Build validators on first use: validating a `Spec` then builds one validator with
        # every section inlined, instead of ~50 per-class validators at import (-20% start-up).
        defer_build=True,
    )


class Task(StrEnum):
    BINARY = "binary_classification"
    MULTICLASS = "multiclass_classification"
    REGRESSION = "regression"


class Mode(StrEnum):
    AUTOMATED = "automated"
    MANUAL = "manual"


class DriftMethod(StrEnum):
    PSI = "psi"
    KS = "ks"
    JS = "jensenshannon"
    CHI2 = "chi2"


class Metric(StrEnum):
    ROC_AUC = "roc_auc"
    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"
    LOG_LOSS = "log_loss"
    BRIER = "brier"
    SELECTION_RATE = "selection_rate"
    FPR = "false_positive_rate"
    FNR = "false_negative_rate"
    RMSE = "rmse"
    MAE = "mae"
    R2 = "r2"


class DummyStrategy(StrEnum):
    PRIOR = "prior"
    STRATIFIED = "stratified"
    MOST_FREQUENT = "most_frequent"
    UNIFORM = "uniform"
    MEAN = "mean"
    MEDIAN = "median"


class ReleaseStage(StrEnum):
    EXPERIMENTAL = "experimental"
    STAGING = "staging"
    PRODUCTION = "production"
    RETIRED = "retired"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not_in"


class ExplainMethod(StrEnum):
    PERMUTATION = "permutation"
    SHAP = "shap"
    COEFFICIENTS = "coefficients"


class EngineName(StrEnum):
    """Where data-only checks compute their aggregates (mlprod/engines)."""

    PANDAS = "pandas"
    DUCKDB = "duckdb"
    SPARK = "spark"


#: A table the engine knows: `name`, `schema.name` or `catalog.schema.name`; no SQL text.
TableName = Annotated[
    str,
    Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$", max_length=200),
]
#: A Spark master URL: local, local[n], local[*], spark://host:port, yarn, k8s://https://host:port.
SparkMaster = Annotated[
    str,
    Field(
        pattern=r"^(local(\[([1-9][0-9]{0,3}|\*)\])?|spark://[A-Za-z0-9.-]+(:[0-9]{1,5})?(,[A-Za-z0-9.-]+(:[0-9]{1,5})?)*|yarn|k8s://https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)$",
        max_length=300,
    ),
]
#: A Spark Connect address (Databricks, a Connect server): sc://host[:port][/;params].
SparkRemote = Annotated[str, Field(pattern=r"^sc://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$", max_length=500)]


class CIProvider(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"


class RegistryKind(StrEnum):
    DIRECTORY = "directory"
    MLFLOW = "mlflow"


class ColumnDtype(StrEnum):
    INT = "int"
    FLOAT = "float"
    STR = "str"
    CATEGORY = "category"
    BOOL = "bool"
    DATETIME = "datetime"


class PiiPattern(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    CREDIT_CARD = "credit_card"
    PERSON_NAME = "person_name"
    DATE_OF_BIRTH = "date_of_birth"
    SSN = "ssn"
    IPV4 = "ipv4"
    IPV6 = "ipv6"


# --- serving: where secrets come from ---------------------------------------------------

_ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")


def _env_name(value: str) -> str:
    if not _ENV_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an environment variable name such as MODEL_URL: the spec names the "
            "variable, the value (a URL, a token) stays out of it"
        )
    return value


#: An environment variable name: where the URL, or a header's value, comes from.
EnvName = Annotated[
    str, AfterValidator(_env_name), WithJsonSchema({"type": "string", "pattern": _ENV_RE.pattern})
]
#: An HTTP header name (RFC 9110 token).
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", max_length=100)]
