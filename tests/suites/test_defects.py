"""Seeded defects: one per concern, each in a fresh copy of the prepared credit example.

Each defect must make the matching generated test fail with a message naming its subject
(stage, cohort, column, feature or file), while the other tests of the files that run keep
passing. Only the relevant test files run per defect, to keep the module fast. Where a
defect legitimately affects a second check of the same concern, the test says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from suitekit import Outcome, not_judged, run_generated

pytestmark = pytest.mark.slow

#: Appended to credit/model.py: the deployed model (load() without a path) is wrapped so its
#: scores go through `_defect(X, p)`; earlier versions (load(path)) stay untouched.
WRAP_MODEL = """

_deployed_load = load_model


class _Defective:
    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_proba(self, X):
        import numpy as np

        p = np.asarray(self.model.predict_proba(_defect_input(X)))[:, 1]
        p = np.clip(_defect(X, p), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])


def _defect_input(X):
    return X


def load_model(path=None):
    model = _deployed_load(path)
    return model if path is not None else _Defective(model)
"""


def append(root: Path, rel: str, code: str) -> None:
    path = root / rel
    path.write_text(path.read_text(encoding="utf-8") + code, encoding="utf-8")


def wrap_model(root: Path, defect: str) -> None:
    """Make the deployed model defective: `defect` defines `_defect(X, p)`, maybe `_defect_input(X)`."""
    append(root, "credit/model.py", WRAP_MODEL + "\n\n" + defect.strip() + "\n")


def failures(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {n: o.message for n, o in outcomes.items() if o.status in ("failed", "error")}


def assert_only(
    outcomes: dict[str, Outcome], expected: dict[str, str], also: dict[str, str] | None = None
) -> None:
    """`expected` {test: subject} fail naming their subject; `also` may fail (legitimately); the rest pass."""
    failed = failures(outcomes)
    for name, subject in {**expected}.items():
        assert name in outcomes, f"{name} did not run; ran: {sorted(outcomes)}"
        assert name in failed, f"{name} should fail; outcome {outcomes[name].status}"
        assert subject in failed[name], f"{name}: message does not name {subject!r}: {failed[name]}"
    for name, subject in (also or {}).items():
        if name in failed:
            assert subject in failed[name], f"{name}: {failed[name]}"
    unexpected = {n: m for n, m in failed.items() if n not in expected and n not in (also or {})}
    assert not unexpected, f"the defect leaked into other tests: {unexpected}"
    # the example's tests with nothing to judge (suitekit.NOT_JUDGED) may skip
    skipped = [n for n, o in outcomes.items() if o.status == "skipped" and not not_judged(n)]
    assert not skipped, skipped


def test_predictions_that_vary_between_calls(credit_copy: Path) -> None:
    wrap_model(
        credit_copy,
        "def _defect(X, p):\n    import numpy as np\n\n"
        "    return p + np.random.default_rng().uniform(-0.01, 0.01, len(p))",
    )
    outcomes, _ = run_generated(credit_copy, "test_determinism.py", "test_collaboration.py")
    # the golden file was recorded before the noise, and every call differs, alone or in another
    # process: those fail legitimately too (same concern)
    assert_only(
        outcomes,
        {
            "test_determinism.py::test_repeated_predictions_agree": "repeated predictions of the model",
            "test_determinism.py::test_predictions_match_golden_file": "tests/golden/predictions.csv",
            "test_determinism.py::test_predictions_independent_of_the_batch": "depend on the batch",
            "test_determinism.py::test_predictions_independent_of_the_process": "depend on the process",
        },
    )


def test_a_stage_that_drops_rows(credit_copy: Path) -> None:
    append(
        credit_copy,
        "credit/pipeline.py",
        "\n\n_build_features = build_features\n\n\n"
        "def build_features(df):\n    return _build_features(df).iloc[5:]\n",
    )
    outcomes, _ = run_generated(credit_copy, "test_pipeline.py")
    assert_only(outcomes, {"test_pipeline.py::test_stage_output_meets_expect[features]": "stage features"})
    assert (
        "195 rows from 200 input rows"
        in failures(outcomes)["test_pipeline.py::test_stage_output_meets_expect[features]"]
    )


def test_a_model_slower_than_the_latency_budget(credit_copy: Path) -> None:
    import yaml

    spec = yaml.safe_load((credit_copy / "mlprod.yaml").read_text(encoding="utf-8"))
    budget_ms = float(spec["infrastructure"]["latency"]["p50_ms"])
    delay = round(1.5 * budget_ms / 1000 + 0.005, 3)  # every call slower than the p50 budget
    wrap_model(credit_copy, f"def _defect(X, p):\n    import time\n\n    time.sleep({delay})\n    return p")
    outcomes, _ = run_generated(credit_copy, "test_infrastructure.py")
    # a 1000-row batch is one call, so the batch budget still holds; only the latency test fails
    assert_only(outcomes, {"test_infrastructure.py::test_latency_within_budget": "p50 latency of model"})


def test_a_model_biased_against_one_cohort(credit_copy: Path) -> None:
    # applicants under 26 get +0.45: all flagged, whatever their risk (recall 1.0 in that band)
    wrap_model(credit_copy, "def _defect(X, p):\n    return p + 0.45 * (X['age_in_years'].to_numpy() < 26)")
    outcomes, _ = run_generated(credit_copy, "test_bias.py")
    failed = failures(outcomes)
    assert "test_bias.py::test_metric_gap_across_groups[age_band-recall]" in failed
    assert (
        "recall gap across age_band" in failed["test_bias.py::test_metric_gap_across_groups[age_band-recall]"]
    )
    # every failure is a fairness judgement of the age_band cohort; drift (data only) is untouched
    for name, message in failed.items():
        assert "age_band" in name and "age_band" in message, (name, message)
    assert not [n for n in outcomes if "drift" in n and n in failed]


def test_drifted_current_data(credit_copy: Path) -> None:
    import pandas as pd

    path = credit_copy / "data" / "current.csv"
    df = pd.read_csv(path)
    df["credit_amount"] = df["credit_amount"] * 3
    df.to_csv(path, index=False, lineterminator="\n")
    outcomes, _ = run_generated(credit_copy, "test_bias.py")
    # the judged cohort groups see the same shift (same concern, same column)
    within = {
        f"test_bias.py::test_drift_within_cohort[{c}]": "credit_amount within"
        for c in ("sex", "young_renters", "foreign_workers", "long_loans")
    }
    assert_only(outcomes, {"test_bias.py::test_feature_drift[credit_amount]": "credit_amount"}, also=within)


def test_an_expired_release(credit_copy: Path) -> None:
    outcomes, _ = run_generated(credit_copy, "test_release.py", MLPROD_TODAY="2027-12-01")
    # the next release (planned 2027-09-01) is then overdue as well: same concern, legitimately
    assert_only(
        outcomes,
        {
            "test_release.py::test_model_not_expired": "expired on 2027-11-01",
            "test_release.py::test_next_release_planned_in_time": "overdue",
        },
    )


def test_a_pii_column_kept_in_the_features_stage(credit_copy: Path) -> None:
    append(
        credit_copy,
        "credit/pipeline.py",
        "\n\n_build_features = build_features\n\n\n"
        "def build_features(df):\n    out = _build_features(df)\n"
        "    if 'email' in df.columns:\n        out['email'] = df['email'].to_numpy()\n    return out\n",
    )
    outcomes, _ = run_generated(credit_copy, "test_privacy.py", "test_pipeline.py")
    # the column check and the value scan of that stage's output both see it (same concern)
    assert_only(
        outcomes,
        {
            "test_privacy.py::test_no_pii_column_in_stage_output[features]": "stage features contains PII "
            "columns: email"
        },
        also={"test_privacy.py::test_no_pii_values[features]": "email"},
    )


def test_a_model_no_better_than_the_prior(credit_copy: Path) -> None:
    # a constant score: the class prior, as a dummy model would give
    wrap_model(credit_copy, "def _defect(X, p):\n    return 0.0 * p + 0.3")
    outcomes, _ = run_generated(credit_copy, "test_baseline.py")
    # it is no better than the stratified dummy either, and far below the previous version
    assert_only(
        outcomes,
        {
            "test_baseline.py::test_beats_dummy_model[prior]": "prior",
            "test_baseline.py::test_beats_dummy_model[stratified]": "stratified",
            "test_baseline.py::test_no_worse_than_previous_version": "models/registry/0.9.0/model.joblib",
        },
    )


def test_a_data_file_changed_after_lock(credit_copy: Path) -> None:
    path = credit_copy / "data" / "test.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = lines[-1].replace("Test Applicant", "Test Applicant X")  # a non-feature value of the last row
    path.write_text("".join(lines), encoding="utf-8")
    outcomes, _ = run_generated(credit_copy, "test_reproducibility.py")
    assert_only(outcomes, {"test_reproducibility.py::test_file_matches_lock[data/test.csv]": "data/test.csv"})


def test_an_expected_top_feature_made_irrelevant(credit_copy: Path) -> None:
    wrap_model(
        credit_copy,
        """
def _defect_input(X):
    X = X.copy()
    X["status_of_existing_checking_account"] = "constant"
    return X


def _defect(X, p):
    return p
""",
    )
    outcomes, _ = run_generated(credit_copy, "test_explainability.py")
    feature = "status_of_existing_checking_account"
    assert_only(outcomes, {f"test_explainability.py::test_feature_in_top_k[{feature}]": feature})


def test_a_flip_rate_above_the_bound(credit_copy: Path) -> None:
    wrap_model(credit_copy, "def _defect(X, p):\n    return p + 0.4")
    outcomes, _ = run_generated(credit_copy, "test_collaboration.py")
    assert_only(
        outcomes,
        {"test_collaboration.py::test_flip_rate_against_previous_version": "against models/registry/0.9.0"},
    )


# --- issue 15: defects a same-process, same-batch suite could not see --------------------------
# Each runs the whole generated suite: the defect's concern fails, and every other test that
# also fails is declared (nothing undeclared may fail).


def record(root: Path) -> None:
    """Re-record the golden file: the defect was already there when the model was recorded."""
    from suitekit import mlprod

    proc = mlprod(root, "record")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_model_whose_single_row_path_differs_from_its_batch_path(credit_copy: Path) -> None:
    # scores pulled towards the batch mean: a row scored alone keeps its raw score
    wrap_model(credit_copy, "def _defect(X, p):\n    return p + 0.001 * (p - p.mean())")
    record(credit_copy)
    outcomes, _ = run_generated(credit_copy)
    # the reason codes, computed on a batch, do not replay on the row alone either (explainability)
    assert_only(
        outcomes,
        {
            "test_determinism.py::test_predictions_independent_of_the_batch": "scored alone differ",
            "test_explainability.py::test_reason_codes_consistent": "not reproduced when the row",
        },
    )


def test_a_model_that_depends_on_the_hash_seed(credit_copy: Path) -> None:
    # string hashing is salted per process unless PYTHONHASHSEED is set
    wrap_model(credit_copy, "def _defect(X, p):\n    return p + (hash('credit') % 1000003) * 1e-9")
    outcomes, _ = run_generated(credit_copy)
    # `mlprod record` ran in another process too: the golden file legitimately differs (same concern)
    assert_only(
        outcomes,
        {
            "test_determinism.py::test_predictions_independent_of_the_process": "depend on the process",
            "test_determinism.py::test_predictions_match_golden_file": "tests/golden/predictions.csv",
        },
    )


def edit_current(root: Path, column: str, rows: int, value: object) -> None:
    """Set `column` of the first `rows` rows of data/current.csv to `value`, then re-lock.

    `current` holds the latest production inputs: they change by design, and the team locks them.
    """
    import pandas as pd
    from suitekit import mlprod

    path = root / "data" / "current.csv"
    df = pd.read_csv(path)
    df[column] = df[column].astype(object)
    df.loc[: rows - 1, column] = value
    df.to_csv(path, index=False, lineterminator="\n")
    proc = mlprod(root, "lock")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_out_of_range_value(credit_copy: Path) -> None:
    edit_current(credit_copy, "age_in_years", 3, 150)  # data.columns: age_in_years max 100
    outcomes, _ = run_generated(credit_copy)
    # the 3 rows fall outside the k-anonymity generalization bins: a group of 3 < 5 (privacy)
    assert_only(
        outcomes,
        {
            "test_pipeline.py::test_column_rules[current]": "3 values above max 100 (e.g. 150)",
            "test_privacy.py::test_k_anonymity[current]": "age_in_years=unbinned",
        },
    )


def test_an_unknown_category(credit_copy: Path) -> None:
    edit_current(credit_copy, "housing", 4, "castle")  # data.columns: housing values [own, rent, for free]
    outcomes, _ = run_generated(credit_copy)
    assert_only(
        outcomes,
        {"test_pipeline.py::test_column_rules[current]": "4 values outside the allowed set"},
    )


def test_a_name_column_kept_in_the_features_stage(credit_copy: Path) -> None:
    faker = pytest.importorskip("faker", reason="the names are generated with Faker (dev extra)")
    fake = faker.Faker("en_NZ")  # a locale the name lists were not built from
    fake.seed_instance(15)
    names = [fake.name() for _ in range(50)]
    # the reference spec scans for email, phone, iban and credit_card: this team adds the new detectors
    spec = credit_copy / "mlprod.yaml"
    old = "scan: {patterns: [email, phone, iban, credit_card],"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    new = "scan: {patterns: [email, phone, iban, credit_card, person_name, date_of_birth, ssn, ipv4, ipv6],"
    spec.write_text(text.replace(old, new), encoding="utf-8")
    from suitekit import mlprod

    proc = mlprod(credit_copy, "generate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    append(
        credit_copy,
        "credit/pipeline.py",
        "\n\n_build_features = build_features\n\n\n"
        "def build_features(df):\n    out = _build_features(df)\n"
        f"    names = {names!r}\n"
        "    out['account_holder'] = [names[i % len(names)] for i in range(len(out))]\n    return out\n",
    )
    outcomes, _ = run_generated(credit_copy)
    # not a declared PII column by name: only the value scan of the stage's output sees it
    assert_only(
        outcomes,
        {"test_privacy.py::test_no_pii_values[features]": "account_holder (200 person_name)"},
    )


NOISE = """
def _defect(X, p):
    import pandas as pd

    # a fixed-key hash of each row's values: the same in every process and batch
    return (pd.util.hash_pandas_object(X, index=False).to_numpy() >> 11) / 2.0**53
"""


def test_a_noise_model_without_expect_top(credit_copy: Path) -> None:
    from suitekit import mlprod

    spec = credit_copy / "mlprod.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "  expect_top: [status_of_existing_checking_account]\n" in text
    spec.write_text(
        text.replace("  expect_top: [status_of_existing_checking_account]\n", ""), encoding="utf-8"
    )
    wrap_model(credit_copy, NOISE)  # the score is a hash of the row: deterministic, finite, meaningless
    for args in (["generate"], ["record"]):
        proc = mlprod(credit_copy, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes, _ = run_generated(credit_copy)
    assert "test_explainability.py::test_importances_computed" not in failures(outcomes)  # finite: no help
    # a meaningless score also fails every quality judgement; per-group ROC AUC (chance-level in
    # each group, some above 0.55 by luck) and the timed latency (hashing rows costs ms, the budget
    # has room for a busy runner) may fail as well
    bias_min = "test_bias.py::test_metric_minimum_in_every_group"
    cohorts = ["sex", "age_band", "young_renters", "foreign_workers", "long_loans"]
    assert_only(
        outcomes,
        {
            "test_explainability.py::test_importances_not_degenerate": "importances are degenerate",
            "test_explainability.py::test_reason_codes_consistent": "does not account",
            "test_baseline.py::test_beats_dummy_model[prior]": "prior",
            "test_baseline.py::test_beats_dummy_model[stratified]": "stratified",
            "test_baseline.py::test_no_worse_than_previous_version": "models/registry/0.9.0",
            "test_collaboration.py::test_flip_rate_against_previous_version": "flip rate",
            "test_reproducibility.py::test_retraining_reproduces_metric": "retrained",
        },
        also={
            **{f"{bias_min}[{c}-roc_auc]": "roc_auc of" for c in cohorts},
            "test_infrastructure.py::test_latency_within_budget": "latency",
            "test_infrastructure.py::test_batch_time_within_budget": "1000 rows",
        },
    )
