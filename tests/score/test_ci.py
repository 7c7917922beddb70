"""CI as evidence: which jobs run the generated tests, and whether a failing test fails the job.

Each masking construct of issue 13 ("CI that can fail") is a test that keeps the concern
below 2 with the exact reason: the file, the line and the construct.
"""

from __future__ import annotations

import pytest
from scorekit import GITHUB_CI

from mlprod.score.ci import config_runs
from mlprod.score.cron import cron_never_fires
from mlprod.score.shell import block_lines, shell_runs

TESTS = "tests/mlprod"
FILE = "tests/mlprod/test_bias.py"
WORKFLOW = "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: {cmd}\n"


def runs_line(line: str, env: dict[str, str] | None = None) -> list:
    return shell_runs(block_lines(line, 1), env or {})[0]


def collects(line: str, env: dict[str, str] | None = None) -> bool:
    return any(r.covers(FILE, TESTS) for r in runs_line(line, env))


def masks(line: str, **kw) -> list[str]:
    return [r.mask for r in shell_runs(block_lines(line, 1), {}, **kw)[0]]


# --- which shell lines run pytest over the tests -----------------------------------------


@pytest.mark.parametrize(
    ("line", "env", "expected"),
    [
        ("pytest tests/mlprod", {}, True),
        ("python -m pytest ./tests/mlprod/ --junitxml=r.xml", {}, True),
        ("pytest -q tests/mlprod/test_bias.py", {}, True),
        ("pytest tests/mlprod::test_x", {}, True),
        ('pytest "$MLPROD_TESTS"', {"MLPROD_TESTS": "tests/mlprod"}, True),
        ("pytest ${{ env.MLPROD_TESTS }}", {"MLPROD_TESTS": "./tests/mlprod"}, True),
        ("pytest $MLPROD_TESTS", {"MLPROD_TESTS": "tests/unit"}, False),
        ("pytest $MLPROD_TESTS", {}, False),
        ("pytest tests/unit", {}, False),
        ("pytest tests/mlprod_old", {}, False),
        ("echo pytest tests/mlprod", {}, False),
        ('echo "running" && echo pytest tests/mlprod', {}, False),
        ("pip install pytest tests/mlprod", {}, False),
        ("ls tests/mlprod", {}, False),
        ("# pytest tests/mlprod", {}, False),
        ("pip install pytest && pytest tests/mlprod", {}, True),
        ("pytest --collect-only tests/mlprod", {}, False),
        ("pytest --co -q tests/mlprod", {}, False),
        ("pytest --setup-only tests/mlprod", {}, False),
        ("pytest tests/unit --ignore tests/mlprod", {}, False),
        ("pytest tests/mlprod --ignore=tests/mlprod", {}, False),
        ("cd other && pytest tests/mlprod", {}, False),
        ("cd tests && pytest mlprod", {}, True),
        ("uv run pytest tests/mlprod", {}, True),
        ("timeout 600 python3.11 -X dev -m pytest -q tests/mlprod", {}, True),
        ("OMP_NUM_THREADS=1 .venv/bin/pytest tests/mlprod", {}, True),
        ("coverage run -m pytest tests/mlprod", {}, True),
        ("pytest $GITHUB_WORKSPACE/tests/mlprod", {}, True),
        ("python -c 'import pytest' tests/mlprod", {}, False),
    ],
)
def test_only_a_real_pytest_invocation_counts(line, env, expected):
    assert collects(line, env) is expected


def test_env_is_scoped_to_its_job():
    workflow = {
        "on": ["push"],
        "jobs": {
            "a": {"env": {"MLPROD_TESTS": "tests/mlprod"}, "steps": [{"run": "echo $MLPROD_TESTS"}]},
            "b": {"steps": [{"run": "pytest $MLPROD_TESTS"}]},
        },
    }
    assert not any(r.covers(FILE, TESTS) for r in config_runs(workflow))
    workflow["env"] = {"MLPROD_TESTS": "tests/mlprod"}
    assert any(r.covers(FILE, TESTS) and not r.mask for r in config_runs(workflow))


def test_gitlab_variables_and_nested_scripts():
    gitlab = {
        "job": {
            "variables": {"MLPROD_TESTS": {"value": "tests/mlprod"}},
            "script": [["pytest $MLPROD_TESTS"]],
        }
    }
    assert [r.mask for r in config_runs(gitlab)] == [""]
    assert config_runs(None) == []


# --- the shell: what hides pytest's exit status ------------------------------------------


@pytest.mark.parametrize(
    ("block", "mask"),
    [
        ("pytest tests/mlprod", ""),
        ("pytest tests/mlprod; echo done", ""),
        ("pip install . && pytest tests/mlprod", ""),
        ("pytest tests/mlprod || true", "`|| true` after pytest hides its exit status"),
        ("pytest tests/mlprod || echo failed", "`|| echo failed` after pytest hides its exit status"),
        (
            "pytest tests/mlprod | tee log.txt",
            "`| tee log.txt` without `set -o pipefail` hides pytest's exit status"
            " (the shell has no pipefail)",
        ),
        ("set -o pipefail\npytest tests/mlprod | tee log.txt", ""),
        ("echo start | cat\npytest tests/mlprod", ""),
        ("set +e\npytest tests/mlprod", "`set +e` before pytest lets the job go on after a failure"),
        ("set +e\nset -e\npytest tests/mlprod", ""),
        ("exit 0\npytest tests/mlprod", "`exit 0` before pytest ends the job first"),
        ("test -f x && exit 0\npytest tests/mlprod", ""),
        ("! pytest tests/mlprod", "`!` before pytest inverts its exit status"),
        ("pytest tests/mlprod &", "`&` runs pytest in the background; its exit status is never read"),
        (
            "pytest tests/mlprod && echo ok\necho next",
            "`&&` after pytest: `bash -e` ignores a failure before `&&` on a line that is not the last",
        ),
        ("pytest tests/mlprod && echo ok", ""),
        ("pytest tests/mlprod -k nothing", "`-k nothing` selects a subset of the generated tests"),
        ("pytest tests/mlprod -knothing", "`-knothing` selects a subset of the generated tests"),
        ("pytest tests/mlprod -m 'not slow'", "`-m not slow` selects a subset of the generated tests"),
        (
            "pytest tests/mlprod --deselect tests/mlprod/test_bias.py::test_x",
            "`--deselect tests/mlprod/test_bias.py::test_x` selects a subset of the generated tests",
        ),
        (
            "PYTEST_ADDOPTS='-k nothing' pytest tests/mlprod",
            "PYTEST_ADDOPTS: `-k nothing` selects a subset of the generated tests",
        ),
        (
            "export PYTEST_ADDOPTS=--deselect=tests/mlprod/test_bias.py\npytest tests/mlprod",
            "PYTEST_ADDOPTS: `--deselect=tests/mlprod/test_bias.py` selects a subset of the generated tests",
        ),
        # mlprod's own GitLab pattern, exactly, and nothing looser
        ("pytest tests/mlprod || touch reports/failed\nmlprod score\ntest ! -e reports/failed", ""),
        (
            "pytest tests/mlprod || touch reports/failed\nmlprod score",
            "`|| touch reports/failed` after pytest with no later `test ! -e` failing on it",
        ),
        (
            "pytest tests/mlprod || touch reports/failed\ntest ! -e reports/other",
            "`|| touch reports/failed` after pytest with no later `test ! -e` failing on it",
        ),
        (
            "pytest tests/mlprod || touch reports/failed\ntest ! -e reports/failed || true",
            "`|| touch reports/failed` after pytest with no later `test ! -e` failing on it",
        ),
        (
            "test ! -e reports/failed\npytest tests/mlprod || touch reports/failed",
            "`|| touch reports/failed` after pytest with no later `test ! -e` failing on it",
        ),
        (
            "pytest tests/mlprod || touch a b\ntest ! -e a",
            "`|| touch a b` after pytest hides its exit status",
        ),
        # a subshell is one command for what follows it; a substitution's status is not pytest's
        ("(pytest tests/mlprod)", ""),
        ("(pytest tests/mlprod) || true", "`|| true` after pytest hides its exit status"),
        ("! (pytest tests/mlprod)", "`!` before pytest inverts its exit status"),
        ("echo $(pytest tests/mlprod)", "pytest inside `$( )`: the command's exit status is not pytest's"),
        # a trap that exits sets the status the job ends with, wherever it is set
        ("trap 'exit 0' EXIT\npytest tests/mlprod", "`trap 'exit 0' EXIT` sets the exit status after pytest"),
        ("pytest tests/mlprod; trap 'exit 0' ERR", "`trap 'exit 0' ERR` sets the exit status after pytest"),
        ("trap 'rm -f log' EXIT\npytest tests/mlprod", ""),
        # what runs no test, or overrides the config's addopts
        ("PYTEST_ADDOPTS=--co pytest tests/mlprod", "PYTEST_ADDOPTS: `--co` runs no test"),
        (
            "pytest tests/mlprod -o addopts='-k nothing'",
            "`-o addopts=-k nothing` sets addopts: `-k nothing` selects a subset of the generated tests",
        ),
        ("pytest tests/mlprod -o addopts=-ra", ""),
        (
            "pytest tests/mlprod -o python_functions=test_no_*",
            "`-o python_functions=test_no_*` changes which tests pytest collects",
        ),
        # a plugin, like a conftest, can turn any failure into a pass; disabling one cannot
        ("pytest -p no:cacheprovider tests/mlprod", ""),
        (
            "pytest -p forcepass tests/mlprod",
            "`-p forcepass` loads a plugin that can change any test's outcome",
        ),
        (
            "PYTEST_PLUGINS=forcepass pytest tests/mlprod",
            "PYTEST_PLUGINS: `forcepass` loads a plugin that can change any test's outcome",
        ),
    ],
)
def test_the_shell_reads_pytest_exit_status_as_bash_does(block, mask):
    assert masks(block) == [mask]


def test_an_explicit_bash_shell_has_pipefail():
    assert masks("pytest tests/mlprod | tee log", pipefail=True) == [""]


# --- jobs that cannot fail, or never run --------------------------------------------------


def scored(project, ci: str, kind: str = "github", concern: str = "bias"):
    project.spec(concern, "release")  # release: no generated CI, the test's is the only one
    project.generate()
    project.ci(kind, ci)
    project.commit()
    project.record()
    return project.row(concern)


GH = ".github/workflows/ci.yml"
ON = "on: {on}\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest tests/mlprod\n"
JOB = "on: [push]\njobs:\n  t:\n    runs-on: x\n{job}    steps:\n      - {step}run: {cmd}\n"


@pytest.mark.parametrize(
    ("ci", "reason"),
    [
        (
            JOB.format(job="", step="", cmd="pytest tests/mlprod || true"),
            f"{GH}:6: `|| true` after pytest hides its exit status",
        ),
        (
            JOB.format(job="", step="", cmd="pytest tests/mlprod | tee log"),
            f"{GH}:6: `| tee log` without `set -o pipefail` hides pytest's exit status "
            "(GitHub's default shell `bash -e` has no pipefail)",
        ),
        (
            "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: |\n          set +e\n"
            "          pytest tests/mlprod\n",
            f"{GH}:8: `set +e` before pytest lets the job go on after a failure",
        ),
        (
            "on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: |\n          exit 0\n"
            "          pytest tests/mlprod\n",
            f"{GH}:8: `exit 0` before pytest ends the job first",
        ),
        (
            JOB.format(job="    continue-on-error: true\n", step="", cmd="pytest tests/mlprod"),
            f"{GH}:5: `continue-on-error: true` on the job t",
        ),
        (
            JOB.format(job="", step="continue-on-error: true\n        ", cmd="pytest tests/mlprod"),
            f"{GH}:6: `continue-on-error: true` on the step",
        ),
        (
            JOB.format(job="", step="", cmd="pytest tests/mlprod -k no_such_test"),
            f"{GH}:6: `-k no_such_test` selects a subset of the generated tests",
        ),
        (
            "on: [push]\nenv:\n  PYTEST_ADDOPTS: -m nothing\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
            f"{GH}:8: PYTEST_ADDOPTS: `-m nothing` selects a subset of the generated tests",
        ),
        (
            "on:\n  schedule:\n    - cron: '0 0 31 2 *'\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
            f"{GH}:1: the only trigger is a schedule whose cron names no real date (`0 0 31 2 *`)",
        ),
        (
            JOB.format(job="    if: false\n", step="", cmd="pytest tests/mlprod"),
            f"{GH}:5: `if: false` never runs the job t",
        ),
        (
            JOB.format(job="", step="if: ${{ false }}\n        ", cmd="pytest tests/mlprod"),
            f"{GH}:6: `if: ${{{{ false }}}}` never runs the step",
        ),
        (
            JOB.format(job="", step="", cmd="pytest tests/mlprod").replace("[push]", "[workflow_dispatch]"),
            f"{GH}:1: `on: workflow_dispatch` only: the workflow is started by hand only",
        ),
        (  # a reusable workflow nothing calls never runs
            ON.format(on="[workflow_call, repository_dispatch]"),
            f"{GH}:1: `on: repository_dispatch, workflow_call` only: the workflow is started by hand,"
            " the API or a caller only",
        ),
        (  # event filters are matched against the repository's branches and the suite's files
            ON.format(on="\n  push:\n    branches: [nonexistent]"),
            f"{GH}:1: `push` branch filters match no branch of the repository",
        ),
        (
            ON.format(on="\n  push:\n    paths: ['docs/**']\n  pull_request:\n    branches-ignore: ['**']"),
            f"{GH}:1: `push` path filters match no file of the generated suite or the spec; "
            "`pull_request` branch filters match no branch of the repository",
        ),
        (
            ON.format(on="\n  push:\n    paths: ['**', '!tests/**', '!mlprod.yaml']"),
            f"{GH}:1: `push` path filters match no file of the generated suite or the spec",
        ),
        (  # GitHub skips the jobs that need a skipped job
            "on: [push]\njobs:\n  gate:\n    runs-on: x\n    if: false\n    steps:\n      - run: echo\n"
            "  t:\n    runs-on: x\n    needs: [gate]\n    if: success()\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
            f"{GH}:10: `needs: gate`, a job that never runs, skips the job t",
        ),
        (  # a constant expression is evaluated, not matched as text
            JOB.format(job="    if: ${{ false && github.ref == 'x' }}\n", step="", cmd="pytest tests/mlprod"),
            f"{GH}:5: `if: ${{{{ false && github.ref == 'x' }}}}` never runs the job t",
        ),
        (
            JOB.format(job="", step="if: success() && 1 == 2\n        ", cmd="pytest tests/mlprod"),
            f"{GH}:6: `if: success() && 1 == 2` never runs the step",
        ),
        (  # the events that start the workflow are the only values of github.event_name
            JOB.format(job="    if: github.event_name == 'schedule'\n", step="", cmd="pytest tests/mlprod"),
            f"{GH}:5: `if: github.event_name == 'schedule'` never runs the job t",
        ),
        (  # a custom shell has exactly its own options: no `-e`, the job goes on
            JOB.format(
                job="",
                step="shell: bash {0}\n        ",
                cmd="|\n          pytest tests/mlprod\n          echo done",
            ),
            f"{GH}:8: `shell: bash {{0}}` has no `-e`: the job goes on after a failing pytest",
        ),
        (
            JOB.format(
                job="    defaults:\n      run:\n        shell: sh {0}\n", step="", cmd="pytest tests/mlprod"
            ),
            f"{GH}:9: `shell: sh {{0}}` has no `-e`: the job goes on after a failing pytest",
        ),
        (
            JOB.format(job="", step="shell: python\n        ", cmd="pytest tests/mlprod"),
            f"{GH}:7: `shell: python` is not a POSIX shell: its lines are not read as bash's",
        ),
    ],
)
def test_a_github_job_that_cannot_fail_keeps_the_concern_at_1(project, ci, reason):
    row = scored(project, ci)
    assert row.level == 1
    assert row.why == f"CI cannot fail on its tests: {reason}"
    assert "let a failing pytest fail the job" in row.fix


GL = ".gitlab-ci.yml"


@pytest.mark.parametrize(
    ("ci", "reason"),
    [
        (
            "tests:\n  allow_failure: true\n  script:\n    - pytest tests/mlprod\n",
            f"{GL}:2: `allow_failure: true` on the job tests",
        ),
        (
            "tests:\n  allow_failure: {exit_codes: [1]}\n  script:\n    - pytest tests/mlprod\n",
            f'{GL}:2: `allow_failure: {{"exit_codes": [1]}}` on the job tests',
        ),
        (
            "tests:\n  script:\n    - pip install .\n    - pytest tests/mlprod || true\n",
            f"{GL}:4: `|| true` after pytest hides its exit status",
        ),
        (
            "tests:\n  script:\n    - pytest tests/mlprod || touch failed\n    - mlprod score\n",
            f"{GL}:3: `|| touch failed` after pytest with no later `test ! -e` failing on it",
        ),
        (
            "tests:\n  when: manual\n  script:\n    - pytest tests/mlprod\n",
            f"{GL}:2: `when: manual` keeps the job tests from running",
        ),
        (
            "tests:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n    - when: never\n"
            "  script:\n    - pytest tests/mlprod\n",
            f"{GL}:2: `rules` that all say `when: manual` or `when: never` keeps the job tests from running",
        ),
        (
            "workflow:\n  rules:\n    - when: never\ntests:\n  script:\n    - pytest tests/mlprod\n",
            f"{GL}:2: `workflow: rules` never start a pipeline",
        ),
        (
            "variables:\n  PYTEST_ADDOPTS: -k x\ntests:\n  script:\n    - pytest tests/mlprod\n",
            f"{GL}:5: PYTEST_ADDOPTS: `-k x` selects a subset of the generated tests",
        ),
        (
            "tests:\n  script:\n    - echo hi\n  after_script:\n    - pytest tests/mlprod\n",
            f"{GL}:1: `after_script` never fails the job tests",
        ),
        (  # `only`/`except` are matched against the repository's branches
            "tests:\n  only: [nonexistent]\n  script:\n    - pytest tests/mlprod\n",
            f'{GL}:2: `only: ["nonexistent"]` (no push, merge request or branch of the repository)'
            " keeps the job tests from running",
        ),
        (
            "tests:\n  only:\n    refs: [web, schedules, '/^release-/']\n"
            "  script:\n    - pytest tests/mlprod\n",
            f'{GL}:2: `only: ["web", "schedules", "/^release-/"]` (no push, merge request or branch of the'
            " repository) keeps the job tests from running",
        ),
        (
            "tests:\n  except: [branches, tags]\n  script:\n    - pytest tests/mlprod\n",
            f'{GL}:2: `except: ["branches", "tags"]` (every pipeline a push starts)'
            " keeps the job tests from running",
        ),
    ],
)
def test_a_gitlab_job_that_cannot_fail_keeps_the_concern_at_1(project, ci, reason):
    row = scored(project, ci, "gitlab")
    assert row.level == 1
    assert row.why == f"CI cannot fail on its tests: {reason}"


@pytest.mark.parametrize(
    ("kind", "ci"),
    [
        ("gitlab", ".base:\n  script:\n    - pytest tests/mlprod\ntests:\n  extends: .base\n"),
        (
            "gitlab",
            'tests:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"\n      when: never\n'
            "    - when: on_success\n  script:\n    - pytest tests/mlprod\n",
        ),
        ("gitlab", "default:\n  before_script:\n    - cd tests\ntests:\n  script:\n    - pytest mlprod\n"),
        (  # mlprod's own pattern
            "gitlab",
            "tests:\n  script:\n    - mkdir -p reports\n"
            "    - pytest tests/mlprod || touch reports/tests-failed\n"
            "    - mlprod score --results r.xml > reports/score.md || touch reports/score-failed\n"
            "    - test ! -e reports/tests-failed && test ! -e reports/score-failed\n",
        ),
        ("github", JOB.format(job="", step="shell: bash\n        ", cmd="pytest tests/mlprod | tee log")),
        (
            "github",
            JOB.format(
                job="",
                step="shell: bash --noprofile --norc -eo pipefail {0}\n        ",
                cmd="pytest tests/mlprod | tee log",
            ),
        ),
        (
            "github",
            JOB.format(
                job="",
                step="shell: bash -e {0}\n        ",
                cmd="|\n          pytest tests/mlprod\n          echo done",
            ),
        ),
        ("github", JOB.format(job="    continue-on-error: false\n", step="", cmd="pytest tests/mlprod")),
        (
            "github",
            "on:\n  schedule:\n    - cron: '0 6 * * *'\njobs:\n  t:\n    runs-on: x\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
        ),
        (
            "github",
            JOB.format(job="    if: github.event_name == 'push'\n", step="", cmd="pytest tests/mlprod"),
        ),
        (
            "github",
            JOB.format(
                job="    if: ${{ !cancelled() && (github.event_name == 'push' || false) }}\n",
                step="",
                cmd="pytest tests/mlprod",
            ),
        ),
        ("github", ON.format(on="\n  push:\n    branches: ['**']\n    paths: ['tests/mlprod/**']")),
        ("github", ON.format(on="\n  push:\n    paths-ignore: ['docs/**']")),
        ("github", ON.format(on="\n  push:\n    tags: ['v*']")),  # runs on tags
        ("github", ON.format(on="\n  push:\n    branches: [nonexistent]\n  pull_request:")),
        ("gitlab", "tests:\n  only: [merge_requests, '/^ma/']\n  script:\n    - pytest tests/mlprod\n"),
        ("gitlab", "tests:\n  except: [tags]\n  script:\n    - pytest tests/mlprod\n"),
        (  # a status function other than success() runs the job after a skipped need
            "github",
            "on: [push]\njobs:\n  gate:\n    runs-on: x\n    if: false\n    steps:\n      - run: echo\n"
            "  t:\n    runs-on: x\n    needs: gate\n    if: ${{ !cancelled() }}\n    steps:\n"
            "      - run: pytest tests/mlprod\n",
        ),
        ("github", GITHUB_CI),
    ],
)
def test_a_job_that_can_fail_counts(project, kind, ci):
    row = scored(project, ci, kind)
    assert (row.level, row.why) == (2, "")


def test_one_masked_job_does_not_hide_a_job_that_can_fail(project):
    ci = JOB.format(job="", step="", cmd="pytest tests/mlprod || true")
    ci += "  u:\n    runs-on: x\n    steps:\n      - run: pytest tests/mlprod\n"
    assert scored(project, ci).level == 2


def test_a_job_running_one_file_covers_only_its_concern(project):
    project.spec("pipeline", "bias", "release")
    project.generate()
    project.ci("github", WORKFLOW.format(cmd="pytest tests/mlprod/test_bias.py"))
    project.commit()
    project.record()
    rows = {r.id: r for r in project.score().concerns}
    assert rows["bias"].level == 2
    assert rows["pipeline"].level == 1
    assert "no CI config runs tests/mlprod/test_pipeline.py" in rows["pipeline"].why


def test_the_workflow_file_may_be_named_yaml(project):
    project.spec("pipeline", "release")
    project.generate()
    project.write({".github/workflows/ci.yaml": WORKFLOW.format(cmd="pytest tests/mlprod")})
    project.commit()
    project.record()
    assert project.row("pipeline").level == 2


@pytest.mark.parametrize(
    ("cron", "never"),
    [
        ("0 0 31 2 *", True),
        ("0 0 30 2 *", True),
        ("0 0 31 4,6,9,11 *", True),
        ("0 0 29 2 *", False),  # leap years
        ("0 6 * * *", False),
        ("0 0 31 2 1", False),  # day of month or weekday: Mondays in February
        ("*/15 * * * *", False),
        ("0 0 31 1-12/2 *", False),
        ("0 0 * FEB MON", False),
        ("61 0 * * *", True),  # not a valid cron
        ("0 0 * *", True),
    ],
)
def test_a_cron_that_names_no_real_date_never_fires(cron, never):
    assert cron_never_fires(cron) is never


# --- subfolders and working directories ----------------------------------------------------


def sub_project(make_project):
    top = make_project("mono")
    sub = type(top)(top.root / "services" / "credit", git=False)
    sub.spec("pipeline", "release")
    sub.generate()
    return top, sub


def test_a_workflow_in_the_project_subfolder_is_never_run_by_github(make_project):
    top, sub = sub_project(make_project)
    sub.ci("github", WORKFLOW.format(cmd="pytest tests/mlprod"))
    top.commit()
    sub.record()
    row = sub.row("pipeline")
    assert row.level == 1
    assert "GitHub runs only workflows at the repository top" in row.why


def test_a_top_level_job_must_name_the_subfolder(make_project):
    top, sub = sub_project(make_project)
    top.ci("github", WORKFLOW.format(cmd="pytest tests/mlprod"))  # the top's tests/mlprod, not ours
    top.commit()
    sub.record()
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
    sub.record()
    assert sub.row("pipeline").level == 2


def test_a_reusable_workflow_counts_when_another_workflow_calls_it(project):
    project.spec("bias", "release")
    project.generate()
    project.write({".github/workflows/tests.yml": ON.format(on="[workflow_call]")})
    project.commit()
    project.record()
    assert project.row("bias").level == 1
    caller = "on: [push]\njobs:\n  tests:\n    uses: ./.github/workflows/tests.yml\n"
    project.write({".github/workflows/ci.yml": caller})
    project.commit()
    assert (project.row("bias").level, project.row("bias").why) == (2, "")
