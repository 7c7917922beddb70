"""The `suites` renderer unit: which files it generates, and that they are valid, safe and formatted."""

from __future__ import annotations

import ast
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import credit_spec_text, minimal_spec_text, write_tree
from mlprod.generator.base import Artifact, Context
from mlprod.generator.units._pyfmt import assign
from mlprod.generator.units.suites import locked_paths, render_suites
from mlprod.schema import load_spec

from mlprod import CONCERNS, __version__


def render(tmp_path: Path, text: str) -> dict[str, Artifact]:
    spec = write_tree(tmp_path, {"mlprod.yaml": text}) / "mlprod.yaml"
    loaded = load_spec(spec)
    ctx = Context(loaded.spec, loaded.sha256, __version__, loaded.root)
    return {a.path: a for a in render_suites(ctx)}


def constants(source: str) -> dict[str, object]:
    """Module-level `NAME = literal` assignments of a generated file."""
    out: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def ruff_clean(tmp_path: Path, files: dict[str, str]) -> None:
    """The files pass `ruff check` and `ruff format --check` with ruff's defaults.

    Run from the files' own folder, as in a user's project, where mlprod is a third-party
    package (from this repository's root it would count as first-party for import sorting).
    """
    folder = write_tree(tmp_path / "ruff", files)
    for args in (["check", "--isolated"], ["format", "--isolated", "--check", "--diff"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_minimal_spec_generates_nothing_for_a_manual_concern(tmp_path: Path) -> None:
    # privacy is the only declared concern and it is manual: no test file, and no conftest for nothing
    assert render(tmp_path, minimal_spec_text()) == {}


def test_minimal_spec_with_automated_privacy_gets_only_that_file(tmp_path: Path) -> None:
    text = minimal_spec_text().replace("  mode: manual", "  mode: automated\n  scan: {datasets: [test]}")
    files = render(tmp_path, text)
    assert sorted(files) == ["tests/mlprod/conftest.py", "tests/mlprod/test_privacy.py"]
    assert files["tests/mlprod/test_privacy.py"].concern == "privacy"
    assert files["tests/mlprod/conftest.py"].concern is None
    assert constants(files["tests/mlprod/test_privacy.py"].content)["PII"] == ["customer_email"]


def test_automated_privacy_with_nothing_to_scan_gets_no_file(tmp_path: Path) -> None:
    # PII names among the features are validate's job: no test that cannot fail
    text = minimal_spec_text().replace("  mode: manual", "  mode: automated")
    assert render(tmp_path, text) == {}


def test_no_test_checks_what_validate_already_forbids(tmp_path: Path) -> None:
    files = render(tmp_path, credit_spec_text())
    release = files["tests/mlprod/test_release.py"].content
    privacy = files["tests/mlprod/test_privacy.py"].content
    assert "semver" not in release and "test_registry_holds_deployed_artifact" in release
    assert "pii_not_features" not in privacy and "FEATURES" not in constants(privacy)
    bare = credit_spec_text()
    for line in ("  expires:", "  next:", "  rollback_to:", "  registry:"):
        bare = "\n".join(x for x in bare.splitlines() if not x.startswith(line)) + "\n"
    assert "tests/mlprod/test_release.py" not in render(tmp_path / "bare", bare)


def test_the_stage_a_model_is_fitted_on_is_always_scanned_for_pii(tmp_path: Path) -> None:
    text = credit_spec_text().replace("stages: [features, predict]", "stages: [predict]")
    assert "stages: [predict]" in text
    privacy = constants(render(tmp_path, text)["tests/mlprod/test_privacy.py"].content)
    assert privacy["SCAN_STAGES"] == ["predict", "features"]


def test_every_parametrize_has_explicit_ids(tmp_path: Path) -> None:
    files = render(tmp_path, credit_spec_text())
    for path, art in files.items():
        for node in ast.walk(ast.parse(art.content)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.mark.parametrize":
                assert any(k.arg == "ids" for k in node.keywords), (path, ast.unparse(node))


def test_node_ids_of_unusual_names_equal_pytest_collection(tmp_path: Path) -> None:
    from mlprod.generator.units.suites import suite_node_ids

    odd = ["café €", "tab\there", "a-b", "x[1]", "  spaced"]
    text = credit_spec_text().replace(
        "    - job\n", "    - job\n" + "".join(f"    - {_yaml_quote(o)}\n" for o in odd), 1
    )
    spec = write_tree(tmp_path / "p", {"mlprod.yaml": text}) / "mlprod.yaml"
    loaded = load_spec(spec)
    ctx = Context(loaded.spec, loaded.sha256, __version__, loaded.root)
    planned = suite_node_ids(ctx)["bias"]
    files = {a.path: a.content for a in render_suites(ctx) if a.concern in (None, "bias")}
    root = write_tree(tmp_path / "p", files)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir=."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    collected = sorted(line for line in proc.stdout.splitlines() if "::" in line)
    assert collected == planned, proc.stdout + proc.stderr
    assert any("caf" in i for i in planned)


def test_credit_spec_generates_all_ten_concerns(tmp_path: Path) -> None:
    files = render(tmp_path, credit_spec_text())
    expected = ["tests/mlprod/conftest.py"] + [f"tests/mlprod/test_{c}.py" for c in CONCERNS]
    assert sorted(files) == sorted(expected)
    for concern in CONCERNS:
        art = files[f"tests/mlprod/test_{concern}.py"]
        assert art.concern == concern
        assert f'pytestmark = pytest.mark.mlprod(concern="{concern}")' in art.content
        tree = ast.parse(art.content)
        assert any(isinstance(n, ast.FunctionDef) and n.name.startswith("test_") for n in tree.body)
    ruff_clean(tmp_path, {Path(p).name: a.content for p, a in files.items()})


def test_spec_values_reach_the_tests_as_data(tmp_path: Path) -> None:
    loaded_text = credit_spec_text()
    files = render(tmp_path, loaded_text)
    spec = load_spec(tmp_path / "mlprod.yaml").spec
    conf = constants(files["tests/mlprod/conftest.py"].content)
    assert conf["CONFIG"]["features"] == spec.data.features
    assert list(conf["CONFIG"]["stages"]) == ["ingest", "features", "fit", "predict"]
    assert conf["GENERATED_BY"] == __version__
    bias = constants(files["tests/mlprod/test_bias.py"].content)
    assert ("sex", "recall", spec.fairness.max_gap["recall"]) in bias["MAX_GAP"]
    assert {c for c, *_ in bias["DEMOGRAPHIC_PARITY"]} == set(spec.fairness.protected)
    assert bias["FEATURES"] == spec.data.features
    repro = constants(files["tests/mlprod/test_reproducibility.py"].content)
    assert repro["LOCKED_FILES"] == locked_paths(spec)
    assert "models/registry/0.9.0/model.joblib" in repro["LOCKED_FILES"]
    release = constants(files["tests/mlprod/test_release.py"].content)
    assert release["EXPIRES"] == spec.release.expires


def test_conftest_root_depth_follows_outputs_tests(tmp_path: Path) -> None:
    text = credit_spec_text().replace("tests: tests/mlprod", "tests: qa/generated/mlprod")
    files = render(tmp_path, text)
    assert "parents[3]" in files["qa/generated/mlprod/conftest.py"].content
    assert "qa/generated/mlprod/test_bias.py" in files


def test_manual_section_of_a_two_section_concern_is_left_out(tmp_path: Path) -> None:
    text = credit_spec_text().replace("fairness:\n", "fairness:\n  mode: manual\n", 1)
    bias = render(tmp_path, text)["tests/mlprod/test_bias.py"].content
    assert "test_feature_drift" in bias
    assert "test_metric_gap_across_groups" not in bias


def test_hostile_spec_strings_stay_data(tmp_path: Path) -> None:
    hostile = 'x"); import os; os.system("echo pwned") #'
    text = credit_spec_text().replace("    - job\n", f"    - job\n    - {_yaml_quote(hostile)}\n", 1)
    files = render(tmp_path, text)
    conf = constants(files["tests/mlprod/conftest.py"].content)
    assert conf["CONFIG"]["features"][-1] == hostile
    tree = ast.parse(files["tests/mlprod/test_bias.py"].content)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "system"]
    assert not calls
    ruff_clean(tmp_path, {Path(p).name: a.content for p, a in files.items()})


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    a = render(tmp_path / "a", credit_spec_text())
    b = render(tmp_path / "b", credit_spec_text())
    assert {p: x.content for p, x in a.items()} == {p: x.content for p, x in b.items()}


def _yaml_quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _random_value(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if depth < 3 and r < 0.25:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    if depth < 3 and r < 0.35:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randint(1, 4)))
    if depth < 3 and r < 0.5:
        return {_random_text(rng)[:12]: _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return rng.choice([_random_text(rng), rng.randint(-5, 10**9), rng.random(), True, None, 1e-9, -0.5])


def _random_text(rng: random.Random) -> str:
    alphabet = string.ascii_letters + " '\"\\\n\t\x1b\u2028é_{}#"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("seed", [1, 2])
def test_literal_layout_matches_ruff_format(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    values = [_random_value(rng) for _ in range(150)]
    source = "\n".join(assign(f"V{i}", v) for i, v in enumerate(values)) + "\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # the literals round-trip exactly
    assert [namespace[f"V{i}"] for i in range(len(values))] == values
    ruff_clean(tmp_path, {"values.py": source})
