"""The exact level of each concern in each situation the rubric distinguishes."""

from __future__ import annotations

from datetime import date

import pytest
from mlprod.generator import evidence

from mlprod import CONCERNS

ALL = tuple(CONCERNS)


def signoff_spec(on: str | None, max_age: int | None = None) -> str:
    text = "privacy:\n  mode: manual\n  pii: [email]\n"
    if on is not None:
        text += f'  signoff: {{by: Jane, on: "{on}"}}\n'
    if max_age is not None:
        text += f"score: {{signoff_max_age_days: {max_age}}}\n"
    return text


# --- sections and manual signoffs ------------------------------------------------------


def test_no_section_scores_0_with_a_fix(project):
    project.spec("pipeline")
    project.commit()
    rows = {r.id: r for r in project.score().concerns}
    for concern in ALL:
        if concern == "pipeline":
            continue
        assert rows[concern].level == 0, concern
        assert rows[concern].why == "no section in mlprod.yaml"
    assert "`fairness` or `drift`" in rows["bias"].fix
    assert "`privacy`" in rows["privacy"].fix


def test_manual_with_a_fresh_signoff_scores_1(project):
    project.spec(extra=signoff_spec("2026-11-20"))
    row = project.row("privacy")
    assert row.level == 1
    assert "manual" in row.why
    assert "mode: automated" in row.fix


def test_manual_without_a_signoff_scores_0(project):
    project.spec(extra=signoff_spec(None))
    row = project.row("privacy")
    assert row.level == 0
    assert "no signoff" in row.why
    assert "signoff: {by: NAME" in row.fix


@pytest.mark.parametrize(
    ("on", "level"),
    [
        ("2026-08-29", 1),  # 90 days old: still valid (the limit is inclusive)
        ("2026-08-28", 0),  # 91 days old: stale
        ("2025-01-01", 0),
        ("2026-11-27", 1),  # signed today
        ("2026-11-28", 0),  # dated tomorrow: invalid
    ],
)
def test_signoff_age_against_the_default_limit(project, on, level):
    project.spec(extra=signoff_spec(on))
    row = project.row("privacy")
    assert row.level == level
    if on == "2026-08-28":
        assert "91 days old (limit 90)" in row.why
    if on == "2026-11-28":
        assert "in the future" in row.why


def test_signoff_limit_comes_from_the_spec(project):
    project.spec(extra=signoff_spec("2026-11-01", max_age=20))  # 26 days old
    assert project.row("privacy").level == 0
    project.spec(extra=signoff_spec("2026-11-10", max_age=20))  # 17 days old
    assert project.row("privacy").level == 1


def test_today_decides_the_signoff_age(project):
    project.spec(extra=signoff_spec("2026-11-20"))
    assert project.row("privacy", today=date(2026, 12, 1)).level == 1
    assert project.row("privacy", today=date(2027, 6, 1)).level == 0


# --- automated concerns ------------------------------------------------------------------


def test_automated_with_nothing_generated_scores_0(project):
    project.spec("pipeline", "baseline")
    project.ci()
    project.commit()
    row = project.row("pipeline")
    assert row.level == 0
    assert "no .mlprod/manifest.json" in row.why
    assert "mlprod generate" in row.fix


def test_generated_committed_and_run_by_ci_scores_2(project):
    project.spec(*ALL)
    project.generate(*ALL)
    project.ci("github")
    project.commit()
    report = project.score()
    assert [r.level for r in report.concerns] == [2] * 10
    assert all(r.why == "" and r.fix == "" for r in report.concerns)
    assert report.total == 20
    assert report.passed


def test_gitlab_ci_with_the_tests_path_in_a_variable_counts(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci("gitlab")
    project.commit()
    assert project.row("pipeline").level == 2


def test_generated_but_uncommitted_scores_1(project):
    project.spec("pipeline", "bias")
    project.ci()
    project.commit()  # spec and CI committed, generated files not
    project.generate("pipeline", "bias")
    row = project.row("bias")
    assert row.level == 1
    assert "not committed: tests/mlprod/test_bias.py" in row.why
    assert "git add tests/mlprod/test_bias.py" in row.fix


def test_generated_and_committed_but_changed_again_scores_1(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    test = project.root / "tests/mlprod/test_pipeline.py"
    test.write_text(test.read_text() + "# local change\n")
    row = project.row("pipeline")
    assert row.level == 1
    assert "edited by hand: tests/mlprod/test_pipeline.py" in row.why
    assert "not committed" in row.why


def test_generated_and_committed_without_ci_scores_1(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.commit()
    row = project.row("pipeline")
    assert row.level == 1
    assert "no CI config runs tests/mlprod" in row.why
    assert "release.ci.providers" in row.fix


def test_ci_that_runs_other_tests_does_not_count(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci(
        "github", "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest tests/unit\n"
    )
    project.commit()
    row = project.row("pipeline")
    assert row.level == 1
    assert ".github/workflows/mlprod.yml do not" in row.why


def test_uncommitted_ci_config_does_not_count(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.commit()
    project.ci()
    row = project.row("pipeline")
    assert row.level == 1
    assert row.why == "the CI config is not committed: .github/workflows/mlprod.yml"
    assert row.fix == "`git add .github/workflows/mlprod.yml` and commit"


def test_spec_edited_after_generation_is_stale(project):
    project.spec("pipeline", "baseline")
    project.generate("pipeline", "baseline")
    project.ci()
    project.commit()
    project.spec("pipeline", "baseline", extra="# a comment changes the hash\n")
    project.commit("edit the spec")
    levels = project.levels()
    assert levels["pipeline"] == levels["baseline"] == 1
    row = project.row("pipeline")
    assert "mlprod.yaml changed since the files were generated" in row.why
    assert row.fix.startswith("run `mlprod generate`")


def test_hand_edited_generated_test_scores_1_even_when_committed(project):
    project.spec("pipeline", "baseline")
    project.generate("pipeline", "baseline")
    project.ci()
    test = project.root / "tests/mlprod/test_baseline.py"
    test.write_text(test.read_text().replace("assert True", "assert 1"))
    project.commit()
    levels = project.levels()
    assert levels == {**dict.fromkeys(ALL, 0), "pipeline": 2, "baseline": 1}
    row = project.row("baseline")
    assert row.why == "generated file(s) edited by hand: tests/mlprod/test_baseline.py"
    assert "mlprod generate --force" in row.fix


def test_deleted_generated_test_scores_1(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    project.git("rm", "-q", "tests/mlprod/test_pipeline.py")
    project.commit("drop it")
    row = project.row("pipeline")
    assert row.level == 1
    assert "missing: tests/mlprod/test_pipeline.py" in row.why


def test_only_a_monitoring_notebook_scores_1(project):
    project.spec("infrastructure", "bias")
    project.generate(notebooks={"infrastructure.ipynb": "infrastructure", "drift.ipynb": "bias"}, tests=False)
    project.ci()
    project.commit()
    levels = project.levels()
    assert levels["infrastructure"] == levels["bias"] == 1
    assert "monitoring/drift.ipynb" in project.row("bias").why


def test_a_notebook_on_disk_without_manifest_counts_by_name(project):
    project.spec("baseline")
    project.write({"monitoring/baseline.ipynb": "{}"})
    assert project.row("baseline").level == 1


def test_manual_and_automated_halves_of_bias(project):
    extra = 'fairness:\n  mode: manual\n  signoff: {by: Jane, on: "2026-11-01"}\n'
    project.spec("bias", extra=extra)
    project.generate("bias")
    project.ci()
    project.commit()
    row = project.row("bias")
    assert row.level == 1  # the automated drift half cannot lift a hand-checked fairness to 2
    assert "fairness is manual" in row.why


# --- git ---------------------------------------------------------------------------------


def test_outside_git_every_concern_caps_at_1(make_project):
    project = make_project("nogit", git=False)
    project.spec("pipeline", extra=signoff_spec("2026-11-20"))
    project.generate("pipeline")
    project.ci()
    report = project.score()
    rows = {r.id: r for r in report.concerns}
    assert rows["pipeline"].level == 1
    assert "not inside a git repository" in rows["pipeline"].why
    assert rows["pipeline"].fix == "run `git init` and commit the project"
    assert rows["privacy"].level == 1
    assert max(r.level for r in report.concerns) == 1


def test_without_the_git_executable_every_concern_caps_at_1(project, monkeypatch):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    monkeypatch.setattr(evidence.shutil, "which", lambda name: None)
    row = project.row("pipeline")
    assert row.level == 1
    assert "git is not installed" in row.why


def test_project_in_a_subfolder_with_ci_at_the_repository_top(make_project):
    top = make_project("mono")
    sub = type(top)(top.root / "services" / "credit", git=False)
    sub.spec("pipeline")
    sub.generate("pipeline")
    top.ci(
        "github",
        "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
        "      - run: python -m pytest services/credit/tests/mlprod -q\n",
    )
    top.commit()
    assert sub.row("pipeline").level == 2
    (sub.root / "tests/mlprod/test_pipeline.py").write_text("# changed\n")
    assert sub.row("pipeline").level == 1
