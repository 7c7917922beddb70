"""Edge cases of the evidence: CI configs that do not really run the tests, and setups
that do and must reach 2 (subfolders, working directories, line endings)."""

from __future__ import annotations

import json

import pytest
from mlprod.generator.evidence import command_runs_tests, config_runs_tests

from mlprod import CONCERNS
from mlprod.cli import main
from mlprod.commands.score import md_cell

TESTS = {"tests/mlprod"}

WORKFLOW = "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: {cmd}\n"


def scored(project, ci: str, kind: str = "github", concerns=("pipeline", "bias")):
    project.spec(*concerns)
    project.generate(*concerns)
    project.ci(kind, ci)
    project.commit()
    return {r.id: r for r in project.score().concerns}


# --- which shell lines run pytest over the tests -----------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo pytest tests/mlprod", False),
        ('echo "running" && echo pytest tests/mlprod', False),
        ("pip install pytest tests/mlprod", False),
        ("pytest --collect-only tests/mlprod", False),
        ("pytest --co -q tests/mlprod", False),
        ("pytest tests/unit --ignore tests/mlprod", False),
        ("pytest tests/mlprod --ignore=tests/mlprod", False),
        ("cd other && pytest tests/mlprod", False),
        ("cd tests && pytest mlprod", True),
        ("uv run pytest tests/mlprod", True),
        ("timeout 600 python3.11 -X dev -m pytest -q tests/mlprod", True),
        ("OMP_NUM_THREADS=1 .venv/bin/pytest tests/mlprod", True),
        ("coverage run -m pytest tests/mlprod", True),
        ("pytest $GITHUB_WORKSPACE/tests/mlprod", True),
        ("pytest tests/mlprod 2>&1 | tee log.txt", True),
        ("python -c 'import pytest' tests/mlprod", False),
    ],
)
def test_only_a_real_pytest_invocation_counts(line, expected):
    assert command_runs_tests(line, TESTS, {}) is expected


def test_env_is_scoped_to_its_job():
    workflow = {
        "on": ["push"],
        "jobs": {
            "a": {"env": {"MLPROD_TESTS": "tests/mlprod"}, "steps": [{"run": "echo $MLPROD_TESTS"}]},
            "b": {"steps": [{"run": "pytest $MLPROD_TESTS"}]},
        },
    }
    assert not config_runs_tests(workflow, TESTS)
    workflow["env"] = {"MLPROD_TESTS": "tests/mlprod"}
    assert config_runs_tests(workflow, TESTS)


# --- disabled or manual jobs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "ci"),
    [
        (
            "github",
            "on: [push]\njobs:\n  t:\n    if: false\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
        ),
        (
            "github",
            "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - if: ${{ false }}\n        run: pytest tests/mlprod\n",
        ),
        (
            "github",
            "on: [workflow_dispatch]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
        ),
        (
            "github",
            "# pytest tests/mlprod\non: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/unit  # not tests/mlprod\n",
        ),
        ("gitlab", "tests:\n  when: manual\n  script:\n    - pytest tests/mlprod\n"),
        ("gitlab", ".tests:\n  script:\n    - pytest tests/mlprod\n"),
        (
            "gitlab",
            "tests:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n    - when: never\n"
            "  script:\n    - pytest tests/mlprod\n",
        ),
        ("gitlab", "workflow:\n  rules:\n    - when: never\ntests:\n  script:\n    - pytest tests/mlprod\n"),
    ],
)
def test_a_disabled_or_manual_job_does_not_count(project, kind, ci):
    rows = scored(project, ci, kind)
    assert rows["pipeline"].level == 1, rows["pipeline"].why
    assert "no CI config runs" in rows["pipeline"].why


@pytest.mark.parametrize(
    "ci",
    [
        ".base:\n  script:\n    - pytest tests/mlprod\ntests:\n  extends: .base\n",
        'tests:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"\n      when: never\n'
        "    - when: on_success\n  script:\n    - pytest tests/mlprod\n",
        "default:\n  before_script:\n    - cd tests\ntests:\n  script:\n    - pytest mlprod\n",
    ],
)
def test_gitlab_templates_rules_and_defaults_that_run_count(project, ci):
    assert scored(project, ci, "gitlab")["pipeline"].level == 2


def test_a_job_running_one_file_covers_only_its_concern(project):
    rows = scored(project, WORKFLOW.format(cmd="pytest tests/mlprod/test_bias.py"))
    assert rows["bias"].level == 2
    assert rows["pipeline"].level == 1
    assert "no CI config runs tests/mlprod/test_pipeline.py" in rows["pipeline"].why


def test_the_workflow_file_may_be_named_yaml(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.write({".github/workflows/ci.yaml": WORKFLOW.format(cmd="pytest tests/mlprod")})
    project.commit()
    assert project.row("pipeline").level == 2


# --- subfolders and working directories ----------------------------------------------------


def sub_project(make_project):
    top = make_project("mono")
    sub = type(top)(top.root / "services" / "credit", git=False)
    sub.spec("pipeline")
    sub.generate("pipeline")
    return top, sub


def test_a_workflow_in_the_project_subfolder_is_never_run_by_github(make_project):
    top, sub = sub_project(make_project)
    sub.ci("github", WORKFLOW.format(cmd="pytest tests/mlprod"))
    top.commit()
    row = sub.row("pipeline")
    assert row.level == 1
    assert "GitHub runs only workflows at the repository top" in row.why


def test_a_top_level_job_must_name_the_subfolder(make_project):
    top, sub = sub_project(make_project)
    top.ci("github", WORKFLOW.format(cmd="pytest tests/mlprod"))  # the top's tests/mlprod, not ours
    top.commit()
    assert sub.row("pipeline").level == 1


@pytest.mark.parametrize(
    "ci",
    [
        WORKFLOW.format(cmd="cd services/credit && pytest tests/mlprod"),
        "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest tests/mlprod\n"
        "        working-directory: services/credit\n",
        "on: [push]\ndefaults:\n  run:\n    working-directory: ./services/credit\njobs:\n  t:\n"
        "    runs-on: x\n    steps:\n      - run: pytest tests/mlprod\n",
    ],
)
def test_a_top_level_job_in_the_subfolder_counts(make_project, ci):
    top, sub = sub_project(make_project)
    top.ci("github", ci)
    top.commit()
    assert sub.row("pipeline").level == 2


# --- current and committed -------------------------------------------------------------------


def test_the_shared_conftest_is_part_of_every_concern(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.write({"tests/mlprod/conftest.py": "# generated\n"})
    manifest = json.loads((project.root / ".mlprod/manifest.json").read_text())
    import hashlib

    manifest["files"].append(
        {
            "path": "tests/mlprod/conftest.py",
            "sha256": hashlib.sha256(b"# generated\n").hexdigest(),
            "kind": "python",
            "concern": None,
            "managed": False,
        }
    )
    project.write({".mlprod/manifest.json": json.dumps(manifest)})
    project.ci()
    project.commit()
    assert project.row("pipeline").level == 2
    project.write({"tests/mlprod/conftest.py": "collect_ignore_glob = ['*']\n"})
    project.commit("skip everything")
    row = project.row("pipeline")
    assert row.level == 1
    assert "edited by hand: tests/mlprod/conftest.py" in row.why


def test_an_uncommitted_manifest_caps_at_1(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    project.write({".gitignore": ".mlprod/manifest.json\n"})
    project.git("rm", "-q", "--cached", ".mlprod/manifest.json")
    project.commit("untrack the manifest")
    row = project.row("pipeline")
    assert row.level == 1
    assert "not committed: .mlprod/manifest.json" in row.why


def test_an_uncommitted_spec_caps_at_1(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    project.write({".gitignore": "mlprod.yaml\n"})
    project.git("rm", "-q", "--cached", "mlprod.yaml")
    project.commit("untrack the spec")
    assert "not committed: mlprod.yaml" in project.row("pipeline").why


def test_windows_line_endings_from_git_autocrlf_keep_level_2(project):
    project.spec("pipeline")
    project.generate("pipeline")
    project.ci()
    project.commit()
    project.git("config", "core.autocrlf", "true")
    test = project.root / "tests/mlprod/test_pipeline.py"
    test.unlink()
    project.git("checkout", "--", "tests/mlprod/test_pipeline.py")
    assert b"\r\n" in test.read_bytes()
    assert project.git("status", "--porcelain") == ""
    assert project.row("pipeline").level == 2


# --- today and markdown ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["20261127", "2026-W48-5", "2026-11-27T00:00", "2026-02-30"])
def test_mlprod_today_must_be_yyyy_mm_dd(project, monkeypatch, capsys, value):
    project.spec()
    monkeypatch.setenv("MLPROD_TODAY", value)
    assert main(["score", "--spec", str(project.root / "mlprod.yaml")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_markdown_code_spans_are_not_entity_escaped():
    assert md_cell("`git add a&b <c>` then a&b") == "`git add a&b <c>` then a&amp;b"
    assert md_cell("`x | y`") == "`x \\| y`"


def test_concern_list_is_complete():
    assert len(CONCERNS) == 10


def test_markdown_unpaired_backtick_is_escaped_once():
    assert md_cell("a ` b \\ c") == "a \\` b \\\\ c"


# --- JUnit results -----------------------------------------------------------------------------


def test_a_collection_error_maps_to_its_concern_and_fails_the_gate(project, tmp_path, capsys):
    from mlprod.generator.evidence import read_results

    path = tmp_path / "r.xml"
    path.write_text(  # what pytest writes when tests/mlprod/test_bias.py cannot be imported
        '<testsuites><testsuite name="pytest"><testcase classname="" name="tests.mlprod.test_bias">'
        '<error message="collection failure">ImportError</error></testcase></testsuite></testsuites>'
    )
    counts, unmapped = read_results(path)
    assert counts["bias"].failed == 1 and unmapped == 0


def test_a_failed_test_of_no_concern_fails_the_gate(project, tmp_path, capsys):
    project.spec()
    project.commit()
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite><testcase classname="tests.unit.test_other" name="t"><failure/></testcase></testsuite>'
    )
    code = main(
        ["score", "--spec", str(project.root / "mlprod.yaml"), "--min-total", "0", "--results", str(path)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "failed tests of no concern: tests.unit.test_other::t" in out


def test_a_large_results_file_is_streamed(tmp_path):
    import tracemalloc

    from mlprod.generator.evidence import read_results

    path = tmp_path / "big.xml"
    case = (
        '<testcase classname="tests.mlprod.test_bias" name="test_x[a|b-{i}]">'
        '<properties><property name="mlprod_concern" value="bias"/></properties>'
        "<system-out>" + "x" * 400 + "</system-out></testcase>"
    )
    path.write_text(
        "<testsuites><testsuite>"
        + "".join(case.format(i=i) for i in range(20000))
        + "</testsuite></testsuites>"
    )
    tracemalloc.start()
    try:
        counts, _ = read_results(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts["bias"].passed == 20000
    assert peak < path.stat().st_size / 4  # not the whole tree in memory
