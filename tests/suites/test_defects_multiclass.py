"""Seeded multiclass defects, each in a fresh copy of the prepared Chile example (issue 16).

Each defect must make the matching generated test fail with a message naming its subject,
while the other tests of the files that run keep passing (the healthy example passes all
of them: tests/suites/test_chile_suite.py). Only the relevant test files run per defect.
Where a defect legitimately affects a second check of the same concern, the test says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from suitekit import Outcome, chile_not_judged, mlprod, run, run_generated

pytestmark = pytest.mark.slow

CLASSES = ["A", "N", "U", "Y"]

#: Appended to chile/model.py: the deployed model (load() without a path) is wrapped so its
#: class probabilities go through `_defect(X, P)`; earlier versions (load(path)) stay untouched.
WRAP_MODEL = """

_deployed_load = load_model


class _Defective:
    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_proba(self, X):
        import numpy as np

        return _defect(X, np.asarray(self.model.predict_proba(X), dtype=float))

    def predict(self, X):
        return self.model.classes_[self.predict_proba(X).argmax(axis=1)]


def load_model(path=None):
    model = _deployed_load(path)
    return model if path is not None else _Defective(model)
"""


def wrap_model(root: Path, defect: str) -> None:
    """Make the deployed model defective: `defect` defines `_defect(X, P)` over the probability matrix."""
    path = root / "chile" / "model.py"
    path.write_text(
        path.read_text(encoding="utf-8") + WRAP_MODEL + "\n\n" + defect.strip() + "\n", encoding="utf-8"
    )


def failures(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {n: o.message for n, o in outcomes.items() if o.status in ("failed", "error")}


def assert_only(
    outcomes: dict[str, Outcome], expected: dict[str, str], also: dict[str, str] | None = None
) -> None:
    """`expected` {test: subject} fail naming their subject; `also` may fail (legitimately); the rest pass."""
    failed = failures(outcomes)
    for name, subject in expected.items():
        assert name in outcomes, f"{name} did not run; ran: {sorted(outcomes)}"
        assert name in failed, f"{name} should fail; outcome {outcomes[name].status}"
        assert subject in failed[name], f"{name}: message does not name {subject!r}: {failed[name]}"
    for name, subject in (also or {}).items():
        if name in failed:
            assert subject in failed[name], f"{name}: {failed[name]}"
    unexpected = {n: m for n, m in failed.items() if n not in expected and n not in (also or {})}
    assert not unexpected, f"the defect leaked into other tests: {unexpected}"
    skipped = [n for n, o in outcomes.items() if o.status == "skipped" and not chile_not_judged(n)]
    assert not skipped, skipped


NEVER_Y = """
def _defect(X, P):
    P = P.copy()
    P[:, 3] = 0.0
    return P / P.sum(axis=1, keepdims=True)
"""


def test_a_model_that_never_predicts_one_class(chile_copy: Path) -> None:
    # the probability of Y (yes) is set to 0 and the rest renormalised: no row is predicted Y
    wrap_model(chile_copy, NEVER_Y)
    outcomes, _ = run_generated(chile_copy, "test_bias.py")
    minimum = "test_bias.py::test_metric_minimum_in_every_group"
    groups = {"sex": ["F", "M"], "age_band": ["[18, 30)", "[60, 71)"], "education": ["P", "PS", "S"]}
    # every judged group's recall of Y is 0, below fairness.min recall[Y] 0.5, and the failure
    # names each group
    assert_only(
        outcomes,
        {f"{minimum}[{cohort}-recall[Y]]": f"recall[Y] of {cohort}=" for cohort in groups},
        # the yes voters go to other classes, so other per-group figures move (same concern)
        also={
            **{f"{minimum}[{cohort}-recall_macro]": "recall_macro" for cohort in groups},
            **{f"{minimum}[{cohort}-recall[N]]": "recall[N]" for cohort in groups},
            "test_bias.py::test_metric_gap_across_groups[sex-recall_macro]": "recall_macro",
            "test_bias.py::test_metric_gap_across_groups[age_band-recall_macro]": "recall_macro",
            "test_bias.py::test_metric_gap_across_groups[sex-recall[U]]": "recall[U]",
            "test_bias.py::test_metric_gap_across_groups[age_band-recall[U]]": "recall[U]",
            "test_bias.py::test_equalized_odds[sex]": "sex",
            "test_bias.py::test_equalized_odds[age_band]": "age_band",
        },
    )
    for cohort, names in groups.items():
        message = failures(outcomes)[f"{minimum}[{cohort}-recall[Y]]"]
        for group in names:
            assert f"recall[Y] of {cohort}={group} is 0.00 < 0.50" in message, message


def test_a_shift_of_the_class_distribution_in_current(chile_copy: Path) -> None:
    import pandas as pd

    # a later wave where most undecided respondents have made up their mind for N: the
    # features are the same rows, only the answers changed
    path = chile_copy / "data" / "current.csv"
    df = pd.read_csv(path)
    undecided = df.index[df["vote"] == "U"]
    df.loc[undecided[: int(0.8 * len(undecided))], "vote"] = "N"
    df.to_csv(path, index=False, lineterminator="\n")
    proc = mlprod(chile_copy, "lock")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes, _ = run_generated(chile_copy, "test_bias.py")
    assert_only(outcomes, {"test_bias.py::test_target_drift": "vote"})


SWAPPED_RETRAIN = """
import sys
from pathlib import Path

import joblib
import pandas as pd

sys.path.insert(0, str(Path.cwd()))
from chile.pipeline import build_features, ingest, train

df = ingest(pd.read_csv("data/train.csv"))
df["vote"] = df["vote"].map({"N": "Y", "Y": "N"}).fillna(df["vote"])  # the labelling bug
joblib.dump(train(build_features(df), 42), "models/model.joblib")
"""


def test_a_retrained_model_that_swaps_two_classes(chile_copy: Path) -> None:
    # a retrain on data whose N and Y labels were swapped; the team locks and records it
    proc = run([sys.executable, "-c", SWAPPED_RETRAIN], chile_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for args in (["lock"], ["record"]):
        proc = mlprod(chile_copy, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes, _ = run_generated(chile_copy, "test_collaboration.py")
    name = "test_collaboration.py::test_flip_rate_against_previous_version"
    assert_only(outcomes, {name: "predicted-class flip rate against models/registry/0.9.0"})
    # the flips the message counts are the rows whose predicted class changed, counted here
    import joblib
    import pandas as pd

    test = pd.read_csv(chile_copy / "data" / "test.csv")
    new = joblib.load(chile_copy / "models" / "model.joblib").predict(test)
    old = joblib.load(chile_copy / "models" / "registry" / "0.9.0" / "model.joblib").predict(test)
    flips = int((new != old).sum())
    assert flips > 0.5 * len(test)  # every N and Y voter changes side
    assert f"({flips} of {len(test)} rows)" in failures(outcomes)[name]


DUMMY = """
import joblib
import pandas as pd
from sklearn.dummy import DummyClassifier

train = pd.read_csv("data/train.csv")
features = ["region", "population", "education", "age", "income", "statusquo"]
joblib.dump(DummyClassifier(strategy="prior").fit(train[features], train["vote"]), "models/model.joblib")
"""


def test_a_dummy_model(chile_copy: Path) -> None:
    # the deployed artifact replaced by the class prior (a model that ignores its inputs)
    proc = run([sys.executable, "-c", DUMMY], chile_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes, _ = run_generated(chile_copy, "test_baseline.py")
    assert_only(
        outcomes,
        {
            "test_baseline.py::test_beats_dummy_model[prior]": "prior",
            "test_baseline.py::test_beats_dummy_model[stratified]": "stratified",
            "test_baseline.py::test_no_worse_than_previous_version": "models/registry/0.9.0/model.joblib",
        },
    )
