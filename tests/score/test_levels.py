"""The exact level of each concern in each situation the rubric distinguishes."""

from __future__ import annotations

from datetime import date

import pytest
from scorekit import ALL

from mlprod.score import git as score_git


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


def test_nothing_generated_on_disk_scores_1(project):
    project.spec("pipeline", "baseline")
    project.ci()
    project.commit()
    project.write({"tests/mlprod/.keep": ""})
    row = project.row("pipeline")
    assert row.level == 1  # the render says what generate would write; nothing is on disk
    assert "generated file(s) missing: tests/mlprod/conftest.py, tests/mlprod/test_pipeline.py" in row.why
    assert row.fix.startswith("run `mlprod generate` and commit the result")


def test_generated_committed_run_by_ci_and_run_scores_2(full):
    full.record()
    report = full.score()
    assert [r.level for r in report.concerns] == [2] * 10
    assert all(r.why == "" and r.fix == "" for r in report.concerns)
    assert report.total == 20
    assert report.notes == []
    assert report.passed


def test_gitlab_ci_with_the_tests_path_in_a_variable_counts(project):
    project.spec("pipeline")
    project.generate()
    project.ci("gitlab")
    project.commit()
    project.record()
    assert project.row("pipeline").level == 2


def test_generated_but_uncommitted_is_one_note_not_a_row_each(project):
    project.spec(*ALL)
    project.ci()
    project.commit()  # spec and CI committed, generated files not
    project.generate()
    project.evidence()
    project.git("add", "mlprod.lock")
    project.git("commit", "-q", "-m", "lock")
    project.record()
    report = project.score()
    assert len(report.notes) == 1
    assert report.notes[0].startswith("uncommitted changes: .github/pull_request_template.md, ")
    assert "`git add " in report.notes[0] and "tests/mlprod/conftest.py" in report.notes[0]
    for row in report.concerns:
        assert row.level == 1
        assert row.why == "uncommitted changes (see the note above)"
        assert row.fix == ""


def test_generated_and_committed_but_changed_again_scores_1(full):
    full.record()
    test = full.root / "tests/mlprod/test_pipeline.py"
    test.write_text(test.read_text() + "# local change\n")
    row = full.row("pipeline")
    assert row.level == 1
    assert "not what `mlprod generate` writes now: tests/mlprod/test_pipeline.py" in row.why
    assert "uncommitted changes (see the note above)" in row.why
    assert "mlprod generate --force" in row.fix


def test_generated_and_committed_without_ci_scores_1(project):
    project.spec("pipeline", "release")  # release: no generated CI
    project.generate()
    project.commit()
    project.record()
    row = project.row("pipeline")
    assert row.level == 1
    assert row.why == "no CI config runs tests/mlprod (no .github/workflows or .gitlab-ci.yml)"
    assert "release.ci.providers" in row.fix


def test_ci_that_runs_other_tests_does_not_count(project):
    project.spec("pipeline", "release")  # release: no generated CI
    project.generate()
    project.ci(
        "github", "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest tests/unit\n"
    )
    project.commit()
    project.record()
    row = project.row("pipeline")
    assert row.level == 1
    assert ".github/workflows/ci.yml do not" in row.why


def test_uncommitted_ci_config_does_not_count(project):
    project.spec("pipeline", "release")  # release: no generated CI
    project.generate()
    project.commit()
    project.ci()
    project.record()
    row = project.row("pipeline")
    assert row.level == 1
    assert row.why == "the CI config is not committed: .github/workflows/ci.yml"
    assert row.fix == "`git add .github/workflows/ci.yml` and commit"


def test_spec_edited_after_generation_is_stale(full):
    full.write({"mlprod.yaml": (full.root / "mlprod.yaml").read_text() + "# a comment changes the files\n"})
    full.commit("edit the spec")
    row = full.row("pipeline")
    assert row.level == 1
    assert "not what `mlprod generate` writes now: " in row.why
    assert "tests/mlprod/test_pipeline.py" in row.why
    assert row.fix.startswith("run `mlprod generate --force` and commit the result")


def test_hand_edited_generated_test_scores_1_even_when_committed(full):
    test = full.root / "tests/mlprod/test_baseline.py"
    test.write_text(test.read_text() + "\n\ndef test_extra():\n    assert True\n")
    full.commit()
    full.record()
    levels = full.levels()
    assert levels == {**dict.fromkeys(ALL, 2), "baseline": 1}
    row = full.row("baseline")
    assert row.why == "not what `mlprod generate` writes now: tests/mlprod/test_baseline.py"
    assert "mlprod generate --force" in row.fix


def test_deleted_generated_test_scores_1(full):
    full.git("rm", "-q", "tests/mlprod/test_pipeline.py")
    full.commit("drop it")
    full.record()
    row = full.row("pipeline")
    assert row.level == 1
    assert "missing: tests/mlprod/test_pipeline.py" in row.why


def test_automated_with_nothing_generated_scores_0(project):
    project.spec(extra="infrastructure: {}\n")  # no budget: nothing to test
    project.commit()
    row = project.row("infrastructure")
    assert (row.level, row.why) == (0, "nothing is generated for it")
    assert row.fix == "run `mlprod generate` and commit the generated files"


def test_only_a_monitoring_notebook_scores_1(project):
    project.spec(extra="infrastructure: {}\n")
    project.write({"monitoring/infrastructure.ipynb": "{}"})
    project.commit()
    row = project.row("infrastructure")
    assert (row.level, row.why) == (1, "no generated tests; only monitoring/infrastructure.ipynb covers it")


def test_manual_and_automated_halves_of_bias(project):
    extra = 'fairness:\n  mode: manual\n  signoff: {by: Jane, on: "2026-11-01"}\n'
    project.spec("bias", extra=extra)
    project.generate()
    project.ci()
    project.commit()
    project.record()
    row = project.row("bias")
    assert row.level == 1  # the automated drift half cannot lift a hand-checked fairness to 2
    assert "fairness is manual" in row.why


# --- git ---------------------------------------------------------------------------------


def test_outside_git_every_concern_caps_at_1(make_project):
    project = make_project("nogit", git=False)
    project.spec("pipeline", extra=signoff_spec("2026-11-20"))
    project.generate()
    project.ci()
    project.record()
    report = project.score()
    rows = {r.id: r for r in report.concerns}
    assert rows["pipeline"].level == 1
    assert rows["pipeline"].why == "level 2 needs git: the project is not inside a git repository"
    assert rows["pipeline"].fix == "run `git init` and commit the project"
    assert rows["privacy"].level == 1
    assert max(r.level for r in report.concerns) == 1


def test_without_the_git_executable_every_concern_caps_at_1(full, monkeypatch):
    full.record()
    monkeypatch.setattr(score_git.shutil, "which", lambda name: None)
    row = full.row("pipeline")
    assert row.level == 1
    assert "git is not installed" in row.why


def test_project_in_a_subfolder_with_ci_at_the_repository_top(make_project):
    top = make_project("mono")
    sub = type(top)(top.root / "services" / "credit", git=False)
    sub.spec("pipeline")
    sub.generate()
    top.ci(
        "github",
        "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
        "      - run: python -m pytest services/credit/tests/mlprod -q\n",
    )
    top.commit()
    sub.record()
    assert sub.row("pipeline").level == 2
    (sub.root / "tests/mlprod/test_pipeline.py").write_text("# changed\n")
    assert sub.row("pipeline").level == 1
