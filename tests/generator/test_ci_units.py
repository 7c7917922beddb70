"""The CI units: GitHub workflow and GitLab config.

Generated configs are checked against the vendor JSON schemas that check-jsonschema ships
(no network), re-parsed for their exact jobs and steps, and fed the injection corpus: no
spec text may reach a `run:`/`script:` line or a `${{ }}` expression.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import credit_spec_text, minimal_spec_text
from injection_corpus import CORPUS, corpus_spec_text
from mlprod.generator.actions import ACTIONS
from mlprod.generator.base import Artifact, Context
from mlprod.generator.units.ci_github import ci_github
from mlprod.generator.units.ci_gitlab import ci_gitlab
from mlprod.schema import parse_spec_text

from mlprod.errors import RefusedError, SpecError

VERSION = "0.1.0"
SHA = "0123456789abcdef0123456789abcdef01234567"

TEST_STEPS = [
    "Check out",
    "Set up Python ${{ matrix.python-version }}",
    "Install",
    "Validate the spec",
    "Check generated files are current",
    "Run mlprod tests",
    "Score",
    "Upload reports",
]
MONITOR_STEPS = ["Check out", "Set up Python ${{ matrix.python-version }}", "Install", "Run monitoring tests"]
MONITOR_STEPS.append("Upload reports")
#: Every `${{ }}` expression a generated workflow may contain: constants, no spec value.
ALLOWED_EXPRESSIONS = {"matrix.python-version", "github.ref", "github.event_name", "!cancelled()"}


def edit(text: str, change: Any) -> str:
    """The spec text with `change(dict)` applied, dumped with yaml.safe_dump."""
    data = yaml.safe_load(text)
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=10_000)


def ctx_of(text: str, root: Path) -> Context:
    return Context(parse_spec_text(text), "0" * 64, VERSION, root, "mlprod.yaml")


def one(arts: list[Artifact]) -> Artifact:
    assert len(arts) == 1
    return arts[0]


def commands(node: Any) -> list[str]:
    """Every run/script line of a parsed config, in order."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script", "after_script"):
                for item in value if isinstance(value, list) else [value]:
                    out.extend(str(item).splitlines())
            else:
                out.extend(commands(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(commands(item))
    return out


def expressions(text: str) -> set[str]:
    return {m.strip() for m in re.findall(r"\$\{\{(.*?)\}\}", text, flags=re.S)}


def check_schema(schema: str, files: list[Path]) -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    proc = subprocess.run(
        [exe, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- shapes ----------------------------------------------------------------------------


def test_credit_workflow_jobs_and_steps(tmp_path: Path) -> None:
    art = one(ci_github(ctx_of(credit_spec_text(), tmp_path)))
    assert (art.path, art.kind.value, art.concern, art.managed) == (
        ".github/workflows/mlprod.yml",
        "yaml",
        "release",
        False,
    )
    wf = yaml.safe_load(art.content)
    assert list(wf) == ["name", "on", "permissions", "concurrency", "env", "jobs"]
    assert wf["permissions"] == {"contents": "read"}
    assert set(wf["on"]) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    assert wf["on"]["schedule"] == [{"cron": "0 6 * * *"}]
    assert wf["env"] == {"OMP_NUM_THREADS": "1"}
    assert "MLPROD_TODAY" not in art.content  # CI uses the real today
    assert list(wf["jobs"]) == ["test", "monitor"]
    test, monitor = wf["jobs"]["test"], wf["jobs"]["monitor"]
    assert [s["name"] for s in test["steps"]] == TEST_STEPS
    assert [s["name"] for s in monitor["steps"]] == MONITOR_STEPS
    assert test["strategy"]["matrix"]["python-version"] == ["3.11"]  # the locked Python
    assert monitor["strategy"]["matrix"]["python-version"] == ["3.11"]
    assert test["env"] == {"MLPROD_TESTS": "tests/mlprod", "MLPROD_LOCKFILE": "requirements.lock"}
    uses = [s["uses"] for job in (test, monitor) for s in job["steps"] if "uses" in s]
    assert set(uses) == {f"{a}@{tag}" for a, tag in ACTIONS.items()}
    run = {s["name"]: s.get("run") for s in test["steps"]}
    assert run["Install"].splitlines() == [
        "python -m pip install --upgrade pip",
        'pip install -r "$MLPROD_LOCKFILE"',
        f'pip install "mlprod[checks]=={VERSION}"',
    ]
    assert run["Run mlprod tests"] == 'pytest "$MLPROD_TESTS" --junitxml=reports/junit.xml'
    assert run["Score"].startswith("mlprod score --results reports/junit.xml --format markdown >>")
    mon = {s["name"]: s.get("run") for s in monitor["steps"]}["Run monitoring tests"]
    for concern in ("determinism", "infrastructure", "bias"):
        assert f'"$MLPROD_TESTS/test_{concern}.py"' in mon
    assert expressions(art.content) <= ALLOWED_EXPRESSIONS


@pytest.mark.parametrize("spec_file", ["credit.mlprod.yaml", "my spec $HOME `x`.yaml"])
def test_spec_not_named_mlprod_yaml_is_passed_to_every_mlprod_command(tmp_path: Path, spec_file: str) -> None:
    """CI must read the spec it was generated from: a bare `mlprod validate` looks for mlprod.yaml."""
    ctx = Context(parse_spec_text(credit_spec_text()), "0" * 64, VERSION, tmp_path, spec_file)
    wf = yaml.safe_load(one(ci_github(ctx)).content)
    gl = yaml.safe_load(one(ci_gitlab(ctx)).content)
    assert wf["jobs"]["test"]["env"]["MLPROD_SPEC"] == spec_file
    assert gl["variables"]["MLPROD_SPEC"] == {"value": spec_file, "expand": False}
    for lines in (commands(wf["jobs"]["test"]), gl["mlprod-test"]["script"]):
        mlprod = [line for line in lines if line.startswith("mlprod ")]
        assert [line.split()[1] for line in mlprod] == ["validate", "generate", "score"]
        assert mlprod[0] == 'mlprod validate "$MLPROD_SPEC"'
        assert all('"$MLPROD_SPEC"' in line for line in mlprod)
        assert not any(spec_file in line for line in lines)  # the name itself is data only
    default = Context(parse_spec_text(credit_spec_text()), "0" * 64, VERSION, tmp_path, "mlprod.yaml")
    assert "MLPROD_SPEC" not in one(ci_github(default)).content


def test_credit_gitlab_jobs_and_script(tmp_path: Path) -> None:
    art = one(ci_gitlab(ctx_of(credit_spec_text(), tmp_path)))
    assert (art.path, art.concern) == (".gitlab-ci.yml", "release")
    cfg = yaml.safe_load(art.content)
    assert list(cfg) == ["stages", "variables", "mlprod-test", "mlprod-monitor"]
    test, monitor = cfg["mlprod-test"], cfg["mlprod-monitor"]
    assert test["image"] == monitor["image"] == "python:$PYTHON_VERSION"
    assert test["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11"]}]
    assert test["artifacts"]["reports"] == {"junit": "reports/junit.xml"}
    assert monitor["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert test["rules"][0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert cfg["variables"]["MLPROD_TESTS"] == {"value": "tests/mlprod", "expand": False}
    assert (
        'pytest "$MLPROD_TESTS" --junitxml=reports/junit.xml || touch reports/tests-failed' in test["script"]
    )
    assert test["script"][-1] == "test ! -e reports/tests-failed && test ! -e reports/score-failed"


def test_providers_pins_install_and_no_release(tmp_path: Path) -> None:
    def gitlab_only(d: dict[str, Any]) -> None:
        d["release"]["ci"] = {"providers": ["gitlab"]}

    ctx = ctx_of(edit(credit_spec_text(), gitlab_only), tmp_path)
    assert ci_github(ctx) == [] and len(ci_gitlab(ctx)) == 1

    def pinned(d: dict[str, Any]) -> None:
        d["release"]["ci"]["pins"] = {"actions/checkout": SHA}
        d["release"]["ci"]["install"] = ["pip install -r requirements.txt", "pip install mlprod"]

    wf = yaml.safe_load(one(ci_github(ctx_of(edit(credit_spec_text(), pinned), tmp_path))).content)
    steps = wf["jobs"]["test"]["steps"]
    assert steps[0]["uses"] == f"actions/checkout@{SHA}"
    assert steps[1]["uses"] == f"actions/setup-python@{ACTIONS['actions/setup-python']}"
    assert steps[2]["run"].splitlines() == ['bash -c "$MLPROD_INSTALL_1"', 'bash -c "$MLPROD_INSTALL_2"']
    assert wf["jobs"]["test"]["env"]["MLPROD_INSTALL_2"] == "pip install mlprod"
    assert "MLPROD_LOCKFILE" not in wf["jobs"]["test"]["env"]  # the override replaces the default

    for bad in ({"actions/checkout": "v4"}, {"actions/checkout": SHA.upper()}, {"evil/action": SHA}):

        def bad_pin(d: dict[str, Any], bad: dict[str, str] = bad) -> None:
            d["release"]["ci"]["pins"] = bad

        # A pin that is not a full SHA is a spec error (located by `mlprod validate`); a pin
        # for an action the workflow does not use is refused when the workflow is rendered.
        with pytest.raises((SpecError, RefusedError)):
            ci_github(ctx_of(edit(credit_spec_text(), bad_pin), tmp_path))

    # Without a release section, a workflow is still generated when any concern is automated.
    def no_release(d: dict[str, Any]) -> None:
        del d["release"]

    ctx = ctx_of(edit(credit_spec_text(), no_release), tmp_path)
    wf = yaml.safe_load(one(ci_github(ctx)).content)
    assert wf["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11"]  # reproducibility.python
    assert ci_gitlab(ctx) == []
    # The minimal spec automates nothing: no CI to run.
    ctx = ctx_of(minimal_spec_text(), tmp_path)
    assert ci_github(ctx) == [] and ci_gitlab(ctx) == []


def test_setup_commands_run_from_environment_variables(tmp_path: Path) -> None:
    """release.ci.setup: one step after Install (GitHub), lines after install (GitLab), values in env."""
    fetch = ["dvc pull", "mlflow artifacts download -u 'runs:/abc/model' -d models"]

    def setup(d: dict[str, Any]) -> None:
        d["release"]["ci"]["setup"] = fetch

    ctx = ctx_of(edit(credit_spec_text(), setup), tmp_path)
    wf = yaml.safe_load(one(ci_github(ctx)).content)
    for job in ("test", "monitor"):
        steps = wf["jobs"][job]["steps"]
        names = [st["name"] for st in steps]
        assert names[names.index("Install") + 1] == "Fetch data and models"
        assert steps[names.index("Fetch data and models")]["run"].splitlines() == [
            'bash -c "$MLPROD_SETUP_1"',
            'bash -c "$MLPROD_SETUP_2"',
        ]
        assert wf["jobs"][job]["env"]["MLPROD_SETUP_2"] == fetch[1]
    assert all("mlflow" not in line and "dvc" not in line for line in commands(wf))
    cfg = yaml.safe_load(one(ci_gitlab(ctx)).content)
    script = cfg["mlprod-test"]["script"]
    assert script[3:5] == ['bash -c "$MLPROD_SETUP_1"', 'bash -c "$MLPROD_SETUP_2"']
    assert script.index('bash -c "$MLPROD_SETUP_1"') < script.index("mlprod validate")
    assert cfg["variables"]["MLPROD_SETUP_1"] == {"value": "dvc pull", "expand": False}
    assert 'bash -c "$MLPROD_SETUP_1"' in cfg["mlprod-monitor"]["script"]


def test_python_matrix_is_the_locked_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No release.ci.python: reproducibility.python, else the Python running generate."""

    def unset(d: dict[str, Any]) -> None:
        d["release"]["ci"].pop("python")

    def unlocked(d: dict[str, Any]) -> None:
        unset(d)
        d["reproducibility"].pop("python")

    wf = yaml.safe_load(one(ci_github(ctx_of(edit(credit_spec_text(), unset), tmp_path))).content)
    assert wf["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11"]
    monkeypatch.setattr("mlprod.generator.ci_common.running_python", lambda: "3.13")
    cfg = yaml.safe_load(one(ci_gitlab(ctx_of(edit(credit_spec_text(), unlocked), tmp_path))).content)
    assert cfg["mlprod-test"]["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.13"]}]


def test_no_scheduled_concerns_means_no_schedule(tmp_path: Path) -> None:
    def drop(d: dict[str, Any]) -> None:
        for key in ("determinism", "infrastructure", "fairness", "drift"):
            del d[key]
        d["privacy"]["k_anonymity"] = None
        d["privacy"].pop("k_anonymity")

    ctx = ctx_of(edit(credit_spec_text(), drop), tmp_path)
    wf = yaml.safe_load(one(ci_github(ctx)).content)
    assert set(wf["on"]) == {"push", "pull_request"} and list(wf["jobs"]) == ["test"]
    cfg = yaml.safe_load(one(ci_gitlab(ctx)).content)
    assert cfg["stages"] == ["test"] and "mlprod-monitor" not in cfg


def test_deterministic(tmp_path: Path) -> None:
    a = ctx_of(credit_spec_text(), tmp_path)
    b = ctx_of(credit_spec_text(), tmp_path / "other")
    assert ci_github(a) == ci_github(b) and ci_gitlab(a) == ci_gitlab(b)


# --- schemas ---------------------------------------------------------------------------


def _variants() -> dict[str, str]:
    def pinned(d: dict[str, Any]) -> None:
        d["release"]["ci"].update(pins={"actions/upload-artifact": SHA}, install=["pip install x"])
        d["release"]["ci"]["schedule"] = "*/30 1-5 * * 1,3"

    def no_release(d: dict[str, Any]) -> None:
        del d["release"]

    def no_lockfile(d: dict[str, Any]) -> None:
        del d["reproducibility"]["lockfile"]

    base = credit_spec_text()
    return {
        "credit": base,
        "pinned": edit(base, pinned),
        "no_release": edit(base, no_release),
        "no_lockfile": edit(base, no_lockfile),
    }


def test_generated_configs_pass_vendor_schemas(tmp_path: Path) -> None:
    github: list[Path] = []
    gitlab: list[Path] = []
    for name, text in _variants().items():
        ctx = ctx_of(text, tmp_path)
        for art in ci_github(ctx):
            github.append(tmp_path / f"{name}.yml")
            github[-1].write_text(art.content, encoding="utf-8")
        for art in ci_gitlab(ctx):
            gitlab.append(tmp_path / f"{name}.gitlab-ci.yml")
            gitlab[-1].write_text(art.content, encoding="utf-8")
    assert len(github) == 4 and len(gitlab) == 3
    check_schema("vendor.github-workflows", github)
    check_schema("vendor.gitlab-ci", gitlab)
    if shutil.which("actionlint"):  # only where it installed (it does not build offline)
        proc = subprocess.run(["actionlint", *map(str, github)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The schema check above can fail: a workflow without `runs-on` is rejected."""
    wf = yaml.safe_load(one(ci_github(ctx_of(credit_spec_text(), tmp_path))).content)
    del wf["jobs"]["test"]["runs-on"]
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(wf), encoding="utf-8")
    with pytest.raises(AssertionError):
        check_schema("vendor.github-workflows", [bad])


# --- injection -------------------------------------------------------------------------


def _shape(text: str) -> tuple[Any, list[str]]:
    """Jobs with their step names (GitHub) or keys (GitLab), and every command line."""
    data = yaml.safe_load(text)
    jobs = data.get("jobs") if "jobs" in data else {k: v for k, v in data.items() if k.startswith("mlprod-")}
    names = {j: [s.get("name") for s in v["steps"]] if "steps" in v else sorted(v) for j, v in jobs.items()}
    return names, commands(data)


def _put(field: str, s: str) -> Any:
    def change(d: dict[str, Any]) -> None:
        if field == "tests":
            d["outputs"]["tests"] = s
        elif field == "lockfile":
            d["reproducibility"]["lockfile"] = s
        elif field == "install":
            d["release"]["ci"]["install"] = [s, "pip install mlprod"]
        elif field == "setup":
            d["release"]["ci"]["setup"] = [s]

    return change


@functools.cache
def _rendered(field: str | None) -> dict[str, tuple[list[Artifact], Any]]:
    """Artifacts and shape per CI unit for the credit spec (with a benign value in `field`)."""
    text = credit_spec_text() if field is None else edit(credit_spec_text(), _put(field, "benign/value"))
    ctx = ctx_of(text, Path("."))
    out = {}
    for fn in (ci_github, ci_gitlab):
        arts = fn(ctx)
        out[fn.__name__] = (arts, _shape(one(arts).content))
    return out


@pytest.mark.parametrize("s", CORPUS, ids=range(len(CORPUS)))
def test_injection_corpus_never_reaches_commands(s: str, tmp_path: Path) -> None:
    base = credit_spec_text()
    expected = {name: shape for name, (_, shape) in _rendered(None).items()}
    # 1. Every free-text field and column name: the CI files do not change at all.
    try:
        ctx = ctx_of(corpus_spec_text(base, s), tmp_path)
    except SpecError:
        ctx = None  # the schema rightly rejects this value somewhere
    if ctx is not None:
        for fn in (ci_github, ci_gitlab):
            assert fn(ctx) == _rendered(None)[fn.__name__][0]
    # 2. The fields CI does use: tests folder, lockfile, install and setup commands.
    checked = 0
    for field in ("tests", "lockfile", "install", "setup"):
        try:
            ctx = ctx_of(edit(base, _put(field, s)), tmp_path)
        except SpecError:
            continue
        checked += 1
        for fn in (ci_github, ci_gitlab):
            if fn is ci_github and "${{" in s:
                with pytest.raises(RefusedError):
                    fn(ctx)
                continue
            text = one(fn(ctx)).content
            names, lines = _shape(text)
            want_names, want_lines = _rendered(field)[fn.__name__][1]
            assert names == want_names
            if field != "setup":  # setup adds its own step (its shape is checked above)
                assert names == expected[fn.__name__][0]
            assert lines == want_lines  # no command line depends on the value
            assert all(s not in line for line in lines)
            if fn is ci_github:  # GitLab has no `${{ }}` evaluation: there it is plain data
                assert expressions(text) <= ALLOWED_EXPRESSIONS
            data = yaml.safe_load(text)
            env = data["jobs"]["test"]["env"] if fn is ci_github else data["variables"]
            values = [v["value"] if isinstance(v, dict) else v for v in env.values()]
            assert s in values  # carried as data, exactly
            if fn is ci_gitlab:  # GitLab must not expand `$...` inside spec values
                assert all(v["expand"] is False for k, v in env.items() if k.startswith("MLPROD_"))
    if "${{" in s:  # refused by `mlprod validate`, located, before any unit sees it
        assert checked == 0
    else:
        assert checked >= 1  # install commands take any other text
