"""Bad input to the commands that load data and models: one clear line, the documented exit code.

Each case damages one thing in a prepared copy of the credit example (a data set, the model
artifact, the golden file, the lock, a notebook, the --html target) and checks what the user
sees: an `error:` naming the file, exit 2 or 3 (never 4, the code of an mlprod bug), no
traceback, and no user file written or clobbered. The library pieces are also tested directly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from suitekit import mlprod

from mlprod.checks.data import DataFileError, load_table
from mlprod.checks.formats import read_golden, read_lock, write_lock
from mlprod.checks.loading import load_callable
from mlprod.checks.project import ModelLoadError, Project
from mlprod.checks.project_checks import MissingInput
from mlprod.errors import RefusedError, UsageError

BINARY = bytes(range(128, 256)) * 3  # not UTF-8, not JSON, not CSV


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def user_error(proc, code: int, *names: str) -> None:  # type: ignore[no-untyped-def]
    """The run failed as documented: exit `code`, an `error:` line naming each of `names`."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert "error: " in proc.stderr
    for name in names:
        assert name in proc.stderr, (name, proc.stderr)


# --- the library, directly ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("binary.csv", BINARY),
        ("csv.parquet", b"a,b\n1,2\n"),
        ("csv.jsonl", b"a,b\n1,2\n"),
    ],
    ids=["empty", "binary", "csv-as-parquet", "csv-as-jsonl"],
)
def test_load_table_turns_an_unreadable_file_into_a_refusal(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=name.replace(".", r"\.")) as exc:
        load_table(path)
    assert exc.value.exit_code == 3 and isinstance(exc.value, ValueError)


def _project(root: Path, load: str = "mod_ok:load") -> Project:
    config = {
        "task": "binary_classification",
        "target": "y",
        "features": ["a"],
        "datasets": {"test": "test.csv"},
        "model": {"load": load},
    }
    return Project(root, config)


def test_project_refuses_to_score_a_data_set_without_rows(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("a,y\n", encoding="utf-8")
    with pytest.raises(MissingInput, match=r"data set test \(test\.csv\) has no rows"):
        _project(tmp_path).X("test")


def test_a_failing_load_is_a_model_load_error_naming_the_callable(tmp_path: Path) -> None:
    (tmp_path / "mod_boom_load.py").write_text(
        "def load():\n    raise RuntimeError('boom')\n", encoding="utf-8"
    )
    with pytest.raises(ModelLoadError, match=r"mod_boom_load:load: RuntimeError: boom") as exc:
        _project(tmp_path, "mod_boom_load:load").model()
    assert isinstance(exc.value, RefusedError) and exc.value.exit_code == 3


def test_a_syntax_error_in_the_module_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mod_bad_syntax.py").write_text("x = 1\ndef (\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError) as exc:
        load_callable("mod_bad_syntax:load")
    assert "mod_bad_syntax.py:2" in exc.value.message and "SyntaxError(" not in exc.value.message


def test_binary_golden_and_lock_files_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "golden.csv").write_bytes(BINARY)
    with pytest.raises(UsageError, match="not UTF-8"):
        read_golden(tmp_path / "golden.csv")
    (tmp_path / "mlprod.lock").write_bytes(BINARY)
    with pytest.raises(UsageError, match="not UTF-8"):
        read_lock(tmp_path / "mlprod.lock")


def test_write_lock_says_it_replaced_an_unreadable_lock(tmp_path: Path) -> None:
    path = tmp_path / "mlprod.lock"
    path.write_text("{bad", encoding="utf-8")
    changes = write_lock(path, {"datasets": {}, "artifacts": {}, "python": "3"})
    assert len(changes) == 1 and "replaced the unreadable previous lock" in changes[0]
    assert json.loads(path.read_text(encoding="utf-8"))["python"] == "3"


# --- the commands, as a user runs them ------------------------------------------------------------


def _edit_csv(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    change(pd.read_csv(path)).to_csv(path, index=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (lambda root: (root / "data/test.csv").write_bytes(b""), ["data/test.csv", "as CSV"]),
        (lambda root: (root / "data/test.csv").write_bytes(BINARY), ["data/test.csv", "as CSV"]),
        (
            lambda root: (root / "data/test.csv").write_text(
                (root / "data/test.csv").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
            ),
            ["data set test (data/test.csv) has no rows"],
        ),
        (
            lambda root: _edit_csv(root / "data/test.csv", lambda d: d.drop(columns=["credit_amount"])),
            ["credit_amount"],
        ),
        (
            lambda root: (root / "models/model.joblib").write_text("hello\n"),
            ["models/model.joblib", "load_model"],
        ),
    ],
    ids=["empty", "binary", "header-only", "missing-feature", "corrupt-model"],
)
def test_record_reports_bad_data_and_models_and_writes_nothing(credit_copy: Path, damage, names) -> None:  # type: ignore[no-untyped-def]
    golden = credit_copy / "tests/golden/predictions.csv"
    before = digest(golden)
    damage(credit_copy)
    user_error(mlprod(credit_copy, "record"), 3, *names)
    assert digest(golden) == before


@pytest.mark.slow
def test_record_reads_a_parquet_path_holding_csv_as_an_error(credit_copy: Path) -> None:
    (credit_copy / "data/test.parquet").write_bytes((credit_copy / "data/test.csv").read_bytes())
    spec = credit_copy / "mlprod.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("{path: data/test.csv}", "{path: data/test.parquet}"),
        encoding="utf-8",
    )
    user_error(mlprod(credit_copy, "record"), 3, "data/test.parquet", "as Parquet")


@pytest.mark.slow
def test_record_does_not_overwrite_a_file_that_is_not_a_golden_file(credit_copy: Path) -> None:
    golden = credit_copy / "tests/golden/predictions.csv"
    golden.write_bytes(BINARY)
    user_error(mlprod(credit_copy, "record"), 3, "tests/golden/predictions.csv", "nothing was written")
    assert golden.read_bytes() == BINARY


@pytest.mark.slow
def test_lock_replaces_a_damaged_lock_and_says_so(credit_copy: Path) -> None:
    (credit_copy / "mlprod.lock").write_bytes(BINARY)
    proc = mlprod(credit_copy, "lock")
    assert proc.returncode == 0, proc.stderr
    assert "replaced the unreadable previous lock" in proc.stdout
    assert json.loads((credit_copy / "mlprod.lock").read_text(encoding="utf-8"))["datasets"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "names"),
    [
        ("README.md", ["README.md", "not a model card page"]),
        ("data", ["data", "folder"]),
        ("README.md/x.html", ["is a file"]),
    ],
    ids=["foreign-file", "folder", "under-a-file"],
)
def test_evaluate_html_refuses_a_bad_target_before_writing_anything(
    credit_copy: Path, target: str, names
) -> None:  # type: ignore[no-untyped-def]
    readme, evaluation = credit_copy / "README.md", credit_copy / ".mlprod/evaluation.json"
    before = {p: p.read_bytes() if p.exists() else None for p in (readme, evaluation)}
    user_error(mlprod(credit_copy, "evaluate", "--no-latency", "--html", target), 3, *names)
    assert {p: p.read_bytes() if p.exists() else None for p in (readme, evaluation)} == before


@pytest.mark.slow
def test_monitor_names_a_damaged_notebook(credit_copy: Path) -> None:
    pytest.importorskip("nbclient")
    pytest.importorskip("nbconvert")
    (credit_copy / "monitoring/drift.ipynb").write_text("{bad", encoding="utf-8")
    user_error(mlprod(credit_copy, "monitor", "--notebook", "drift"), 3, "monitoring/drift.ipynb", "generate")


@pytest.mark.slow
def test_monitor_hints_at_generate_for_a_deleted_notebook(credit_copy: Path) -> None:
    (credit_copy / "monitoring/drift.ipynb").unlink()
    proc = mlprod(credit_copy, "monitor", "--notebook", "drift")
    user_error(proc, 2, "no notebook drift")
    assert "mlprod generate" in proc.stderr
