"""Loading and validating specs: reference specs, positions, messages, helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import credit_spec_text, minimal_spec_text, write_tree
from mlprod.schema import LoadedSpec, Spec, load_spec, parse_spec_text, spec_hash
from mlprod.schema.loader import parse_yaml_text
from mlprod.schema.rules import did_you_mean, stage_order
from mlprod.schema.spec import allowed_keys

from mlprod.errors import SpecError, SpecNotFound

MINI = """version: 1
project: {name: churn, task: binary_classification}
data:
  target: churned
  features: [tenure, charges]
  datasets: {train: {path: data/train.csv}, test: {path: data/test.csv}}
model: {load: churn.model:load}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec_text(text)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("text", [credit_spec_text(), minimal_spec_text()], ids=["credit", "minimal"])
def test_reference_specs_validate_unchanged(text: str) -> None:
    assert isinstance(parse_spec_text(text), Spec)


def test_load_spec_returns_path_root_text_and_hash(tmp_path: Path) -> None:
    write_tree(tmp_path, {"proj/mlprod.yaml": credit_spec_text()})
    loaded = load_spec(tmp_path / "proj" / "mlprod.yaml")
    assert isinstance(loaded, LoadedSpec)
    assert loaded.root == (tmp_path / "proj").resolve()
    assert loaded.text == credit_spec_text()
    import hashlib

    assert loaded.sha256 == hashlib.sha256(credit_spec_text().encode()).hexdigest()
    assert loaded.spec.project.name == "credit_default"


def test_spec_hash_ignores_line_endings() -> None:
    assert spec_hash("a: 1\r\nb: 2\r\n") == spec_hash("a: 1\nb: 2\n")
    assert spec_hash("a: 1\n") != spec_hash("a: 2\n")


def test_missing_file_is_spec_not_found(tmp_path: Path) -> None:
    with pytest.raises(SpecNotFound) as info:
        load_spec(tmp_path / "mlprod.yaml")
    assert "mlprod init" in (info.value.hint or "")


def test_bom_and_crlf_are_accepted() -> None:
    assert parse_spec_text(("\ufeff" + MINI).replace("\n", "\r\n").encode("utf-8")).project.name == "churn"


def test_positions_of_keys_and_values() -> None:
    loaded = parse_yaml_text(MINI)
    assert loaded.positions.values[("data", "features", 1)] == (5, 22)
    assert loaded.positions.keys[("data", "target")] == (4, 3)
    assert loaded.positions.locate(("data", "nothing", 3)) == loaded.positions.values[("data",)]


@pytest.mark.parametrize("word", ["y", "n", '"no"', "'off'", "true_col"])
def test_words_that_stay_text(word: str) -> None:
    # `y`/`n` are text in PyYAML and YAML 1.2; quoted words are always text.
    spec = parse_spec_text(MINI.replace("target: churned", f"target: {word}"))
    assert spec.data.target == word.strip("'\"")


def test_keys_are_kept_as_written() -> None:
    """`on:` is a key name (the signoff date), not the boolean true."""
    text = MINI + 'privacy: {mode: manual, signoff: {by: Jane, on: "2026-11-20"}}\n'
    assert parse_spec_text(text).privacy.signoff.on == "2026-11-20"


def test_dict_keys_that_look_like_union_tags_are_real_steps() -> None:
    """A column named `str` or `int` must not be mistaken for pydantic's branch tag."""
    text = MINI + "  columns:\n    str: {dtype: texty}\n    int: {min: x}\n"
    text = text.replace("model: {load: churn.model:load}\n", "") + "model: {load: churn.model:load}\n"
    problems = _problems(text)
    assert any(
        p.startswith("mlprod.yaml:8:18: data.columns.str.dtype: 'texty' is not one of") for p in problems
    )
    assert "mlprod.yaml:9:16: data.columns.int.min: expected a number, got the text 'x'" in problems


def test_union_failures_give_one_message() -> None:
    text = MINI + "cohorts:\n  - name: c\n    where: [{column: tenure, op: '==', value: null}]\n"
    problems = _problems(text)
    assert problems == [
        "mlprod.yaml:10:47: cohorts[0].where[0].value: "
        "expected text, a number, true/false or a list, got nothing (an empty value)"
    ]


def test_every_problem_of_the_fields_at_once() -> None:
    text = MINI.replace("task: binary_classification", "task: nope").replace("charges", "1.5") + "zzz: 1\n"
    assert len(_problems(text)) == 3


def test_cross_field_rules_report_together() -> None:
    text = (
        MINI
        + "baseline: {dataset: nope}\n"
        + "explainability: {dataset: alsonope, top_k: 1, expect_top: [tenure]}\n"
        + "privacy: {pii: [tenure]}\n"
    )
    problems = _problems(text)
    assert [p.split(": ")[1] for p in problems] == [
        "baseline.dataset",
        "explainability.dataset",
        "privacy.pii[0]",
    ]


def test_billion_laughs_is_refused_without_expanding(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlprod.schema.loader as loader

    def no_compose(*args: object, **kwargs: object) -> None:
        raise AssertionError("the document was composed (and could expand) before the refusal")

    monkeypatch.setattr(loader.yaml, "compose", no_compose)
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(SpecError) as info:
        parse_spec_text("\n".join(lines) + "\n")
    assert all("not allowed" in p.message for p in info.value.problems)


def test_deep_nesting_does_not_recurse() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nesting deeper" in info.value.problems[0].message


def test_control_character_is_located() -> None:
    problems = _problems(MINI.replace("churned", "chu\x07rned"))
    assert problems == ["mlprod.yaml:4:14: character #x0007 is not allowed in YAML; remove it"]


def test_allowed_keys_follow_lists_dicts_and_optionals() -> None:
    assert "threshold" in allowed_keys(("model",))
    assert "min_rows" in allowed_keys(("pipeline", "stages", 3, "expect"))
    assert allowed_keys(("data", "datasets", "train")) == ["path", "table", "engine", "sha256", "locked"]
    assert allowed_keys(("data", "features")) == []


def test_did_you_mean() -> None:
    assert did_you_mean("tset", {"test", "train"}) == " (did you mean 'test'?)"
    assert did_you_mean("zzzz", {"test"}) == ""


def test_stage_order_puts_inputs_first() -> None:
    text = MINI + (
        "pipeline:\n  stages:\n"
        "    - {name: fit, run: m:fit, inputs: [feats]}\n"
        "    - {name: feats, run: m:feats, inputs: [clean]}\n"
        "    - {name: clean, run: m:clean, inputs: [train]}\n"
    )
    assert stage_order(parse_spec_text(text)) == ["clean", "feats", "fit"]


@pytest.mark.parametrize("name", ["type", "match", "case"])
def test_soft_keywords_are_valid_names_on_every_python(name: str) -> None:
    """`type` became a soft keyword in 3.12: a spec must not validate on one Python only."""
    spec = parse_spec_text(MINI + f"cohorts: [{{name: {name}, by: charges}}]\n")
    assert spec.cohorts[0].name == name


@pytest.mark.parametrize(
    ("version", "following"),
    [
        ("1.0.0-rc.9", "1.0.0-rc.10"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.0.0+build.9", "1.0.1+build.1"),
    ],
)
def test_semver_precedence_of_pre_releases(version: str, following: str) -> None:
    """Numeric pre-release identifiers compare as numbers (semver.org item 11)."""
    nxt = f'release: {{version: "{version}", next: {{version: "{following}", planned: "2027-01-01"}}}}\n'
    assert parse_spec_text(MINI + nxt).release is not None
    back = f'release: {{version: "{following}", rollback_to: "{version}"}}\n'
    assert parse_spec_text(MINI + back).release is not None
    wrong = f'release: {{version: "{following}", next: {{version: "{version}", planned: "2027-01-01"}}}}\n'
    assert any("must be above" in p for p in _problems(MINI + wrong))


def test_a_column_named_like_the_key_tag_is_located() -> None:
    text = MINI + "  columns:\n    '[key]': {dtype: texty}\n"
    text = text.replace("model: {load: churn.model:load}\n", "") + "model: {load: churn.model:load}\n"
    problems = _problems(text)
    assert len(problems) == 1
    assert problems[0].startswith("mlprod.yaml:8:22: data.columns.[key].dtype: 'texty' is not one of")


def test_a_key_with_a_line_break_stays_on_one_output_line() -> None:
    text = MINI + 'collaboration: {codeowners: {"a\\nb": ["@acme/ds"]}}\n'
    (problem,) = _problems(text)
    assert "\n" not in problem
    assert "collaboration.codeowners['a\\nb']" in problem


@pytest.mark.parametrize(
    "path", ["data/train.csv\n", ".GIT/config", "data/.Git", "a\x1fb", ".", "./", "a\x7fb"]
)
def test_paths_that_are_refused(path: str) -> None:
    text = MINI.replace("{path: data/train.csv}", "{path: " + json.dumps(path) + "}")
    (problem,) = _problems(text)
    assert problem.startswith("mlprod.yaml:6:28: data.datasets.train.path: ")


@pytest.mark.parametrize("path", ["./data/train.csv", "data/", ".github/data.csv", ".gitignore.csv"])
def test_paths_that_are_accepted(path: str) -> None:
    text = MINI.replace("{path: data/train.csv}", "{path: " + json.dumps(path) + "}")
    assert parse_spec_text(text).data.datasets["train"].path == path


@pytest.mark.parametrize("value", ["churn\n", "churn.model:load\n"])
def test_a_trailing_newline_never_passes_a_pattern(value: str) -> None:
    text = MINI.replace("name: churn,", f"name: {json.dumps(value)},")
    text = text.replace("load: churn.model:load", f"load: {json.dumps(value)}")
    assert len(_problems(text)) == 2


def test_seeds_are_bounded_like_numpy_and_sklearn() -> None:
    ok = parse_spec_text(MINI + "determinism: {seed: 4294967295}\nreproducibility: {seed: 0}\n")
    assert ok.determinism is not None and ok.determinism.seed == 2**32 - 1
    assert len(_problems(MINI + "determinism: {seed: 4294967296}\n")) == 1


def test_libyaml_nesting_limit_gets_the_same_message() -> None:
    # PyYAML 6.0.4's libyaml stops at ~1000 levels before mlprod's token pass sees them;
    # its error must read like mlprod's own depth limit.
    import yaml
    from mlprod.schema.loader import _yaml_error

    mark = yaml.Mark("mlprod.yaml", 0, 0, 3, None, None)
    exc = yaml.scanner.ScannerError(
        "while increasing flow level", mark, "exceeded maximum nesting depth", mark
    )
    assert "nesting deeper than" in _yaml_error(exc, "a: [[[", "mlprod.yaml").message


@pytest.mark.parametrize("brk", ["\r", "\x85", "\u2028", "\u2029"])
def test_a_stray_yaml_line_break_does_not_shift_line_numbers(brk: str) -> None:
    # Found by the fuzz test: YAML counts a lone \r (or NEL, LS, PS) inside a line as a line
    # break, so its line numbers ran ahead of the file's (and past its end).
    lines = MINI.split("\n")
    target = next(i for i, line in enumerate(lines) if "churned" in line)
    lines[target] = lines[target] + brk + "oops"
    (problem,) = _problems("\n".join(lines))
    col = len(lines[target]) - len("oops")
    assert problem.startswith(f"mlprod.yaml:{target + 1}:{col}: "), problem
    assert "line break in YAML but not in most editors" in problem


def test_crlf_files_are_read_as_lf() -> None:
    assert parse_spec_text(MINI.replace("\n", "\r\n")) == parse_spec_text(MINI)
