"""The committed JSON Schema matches the models and agrees with them on real specs."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import credit_spec_text, minimal_spec_text
from jsonschema import Draft202012Validator
from mlprod.schema.export import SCHEMA_FILE, json_schema_text
from mlprod.schema.loader import parse_yaml_text

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/mlprod.schema.json is stale; run: python scripts/export_schema.py"
    )


def test_schema_has_dialect_and_title() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "mlprod.yaml" in schema["title"]
    assert schema["additionalProperties"] is False
    assert {"version", "project", "data", "model"} <= set(schema["required"])


def test_export_script_check_mode(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_schema.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("text", [credit_spec_text(), minimal_spec_text()], ids=["credit", "minimal"])
def test_reference_specs_pass_the_json_schema(text: str) -> None:
    data = parse_yaml_text(text).data
    errors = sorted(_validator().iter_errors(data), key=str)
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("task: binary_classification", "task: binary"),  # enum
        ("name: credit_default", "name: Credit-Default"),  # identifier pattern
        ("load: credit.model:load_model", "load: credit/model.py"),  # module:callable
        ("version: 1.0.0", "version: '1.0'"),  # semver
        ("path: data/test.csv", "path: ../data/test.csv"),  # leaves the project
        ("path: data/test.csv", "path: .git/config"),  # into .git
        ("  min_each: 1", "  min_each: 1\n  bogus: 2"),  # unknown key
        ("  min_each: 1", "  min_each: 3"),  # bound
    ],
)
def test_json_schema_rejects_what_the_models_reject(old: str, new: str) -> None:
    text = credit_spec_text()
    assert old in text
    data = parse_yaml_text(text.replace(old, new, 1)).data
    assert list(_validator().iter_errors(data))


def test_schema_ships_inside_the_package() -> None:
    from importlib.resources import files

    assert files("mlprod.schema").joinpath("mlprod.schema.json").is_file()
