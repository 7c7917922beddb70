"""The generated suite of a three-class project with string labels: every check judges and passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from multiclass_kit import build_multiclass_project
from suitekit import run_generated

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def multiclass_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_multiclass_project(tmp_path_factory.mktemp("multiclass") / "triage")


def test_generated_suite_judges_and_passes_on_healthy_multiclass_data(multiclass_project: Path) -> None:
    outcomes, proc = run_generated(multiclass_project)
    bad = {n: o.message for n, o in outcomes.items() if o.status != "passed"}
    assert not bad, f"{bad}\n{proc.stdout[-4000:]}"
    names = set(outcomes)
    # the multiclass checks are all there: per-class and macro gaps, per-class parity and odds,
    # class-distribution drift of target and predictions, golden format 2, flip rate, baseline
    for name in (
        "test_bias.py::test_metric_gap_across_groups[sex-recall[high]]",
        "test_bias.py::test_metric_gap_across_groups[sex-recall_macro]",
        "test_bias.py::test_metric_minimum_in_every_group[age_band-top_k_accuracy]",
        "test_bias.py::test_demographic_parity[sex]",
        "test_bias.py::test_equalized_odds[sex]",
        "test_bias.py::test_target_drift",
        "test_determinism.py::test_predictions_match_golden_file",
        "test_determinism.py::test_prediction_distribution_stable",
        "test_collaboration.py::test_flip_rate_against_previous_version",
        "test_baseline.py::test_beats_dummy_model[uniform]",
        "test_baseline.py::test_no_worse_than_previous_version",
        "test_explainability.py::test_reason_codes_consistent",
        "test_reproducibility.py::test_retraining_reproduces_metric",
    ):
        assert name in names, sorted(names)
    golden = (multiclass_project / "tests" / "golden" / "predictions.csv").read_text().splitlines()
    assert "format 2" in golden[0] and golden[1] == "id,label,p_high,p_low,p_mid"


def test_generated_multiclass_files_pass_ruff(multiclass_project: Path) -> None:
    import subprocess
    import sys

    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "tests/mlprod"],
            cwd=multiclass_project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
