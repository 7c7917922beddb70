"""`mlprod init` (templates), `init --existing` and the template's single source of truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlprod.schema import load_spec

from mlprod.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_credit_template_validates_with_dates_relative_to_today(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLPROD_TODAY", "2030-03-15")
    code, out = run(["init", str(tmp_path / "proj"), "--no-input", "--name", "my_credit"], capsys)
    assert code == 0, out
    loaded = load_spec(tmp_path / "proj" / "mlprod.yaml")
    spec = loaded.spec
    assert spec.project.name == "my_credit"
    assert spec.release is not None and spec.release.next is not None
    assert spec.release.deployed == "2030-02-17"  # 26 days before today, like the example's plan
    assert spec.release.deployed < "2030-03-15" < spec.release.next.planned < spec.release.expires
    for rel in (
        "credit/pipeline.py",
        "credit/model.py",
        "prepare.py",
        "data/raw/german_credit.csv",
        "data/README.md",
        "requirements.lock",
    ):
        assert (tmp_path / "proj" / rel).is_file(), rel
    # nothing generated: the user runs `mlprod generate`
    assert not (tmp_path / "proj" / "tests").exists()


def test_credit_template_locks_the_python_init_runs_on(tmp_path, monkeypatch, capsys):
    """reproducibility.python and the CI's Python are the interpreter's major.minor, not "3.11"."""
    monkeypatch.setattr("mlprod.generator.ci_common.running_python", lambda: "3.13")
    code, out = run(["init", str(tmp_path / "proj"), "--no-input"], capsys)
    assert code == 0, out
    spec = load_spec(tmp_path / "proj" / "mlprod.yaml").spec
    assert spec.reproducibility is not None and spec.reproducibility.python == "3.13"
    assert spec.release is not None and spec.release.ci.python == ["3.13"]
    assert (
        f"Next: cd {tmp_path / 'proj'}, then run python prepare.py, mlprod lock, mlprod record, "
        "mlprod generate, pytest tests/mlprod and mlprod score."
    ) in out


def test_minimal_template_scores_privacy_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLPROD_TODAY", "2026-11-27")
    code, out = run(["init", str(tmp_path / "m"), "--template", "minimal", "--no-input"], capsys)
    assert code == 0, out
    assert f"Next: cd {tmp_path / 'm'}, add your data and model, then run mlprod validate" in out
    spec = load_spec(tmp_path / "m" / "mlprod.yaml").spec
    assert spec.privacy is not None and spec.privacy.signoff is not None
    assert spec.privacy.signoff.on == "2026-11-27"
    code, out = run(["score", "--spec", str(tmp_path / "m" / "mlprod.yaml"), "--format", "json"], capsys)
    levels = {c["id"]: c["level"] for c in json.loads(out[out.index("{") :])["concerns"]}
    assert levels.pop("privacy") == 1
    assert set(levels.values()) == {0}


def test_non_empty_folder_is_refused_and_left_alone(tmp_path, capsys):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    code, out = run(["init", str(target), "--no-input"], capsys)
    assert code == 3
    assert "not empty" in out and "Traceback" not in out
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("name", ["Credit", "1abc", "class", "a-b", "{{ 7*7 }}", "x y"])
def test_bad_project_names_are_refused_before_cookiecutter(tmp_path, capsys, name):
    code, out = run(["init", str(tmp_path / "p"), "--no-input", "--name", name], capsys)
    assert code == 2, out
    assert "not a valid project name" in out
    assert not (tmp_path / "p").exists()


def test_template_is_a_current_copy_of_the_example():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "sync_templates.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"run `python scripts/sync_templates.py`:\n{proc.stdout}{proc.stderr}"


def _customers(path: Path) -> None:
    n = 120
    df = pd.DataFrame(
        {
            "customer_id": range(n),
            "full_name": [f"Person {i}" for i in range(n)],
            "contact": [f"person{i}@mail.example.com" for i in range(n)],
            "mobile number": [f"+44 20 7946 {i:04d}" for i in range(n)],
            "age": [18 + (i * 7) % 60 for i in range(n)],
            "monthly spend": [100.0 + (i * 13) % 250 for i in range(n)],
            "region": [("north", "south", "east")[i % 3] for i in range(n)],
            "churned": [i % 2 for i in range(n)],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)


def test_existing_puts_pii_in_privacy_and_out_of_features(tmp_path, monkeypatch, capsys):
    _customers(tmp_path / "data" / "customers.csv")
    monkeypatch.chdir(tmp_path)
    code, out = run(
        [
            "init",
            "--existing",
            "--data",
            "data/customers.csv",
            "--target",
            "churned",
            "--model",
            "shop.model:load",
        ],
        capsys,
    )
    assert code == 0, out
    spec = load_spec(tmp_path / "mlprod.yaml").spec
    assert spec.privacy is not None
    assert set(spec.privacy.pii) == {"full_name", "contact", "mobile number"}
    assert not set(spec.privacy.pii) & set(spec.data.features)
    assert set(spec.data.features) == {"age", "monthly spend", "region"}
    assert spec.data.id_column == "customer_id"
    assert spec.model.load == "shop.model:load"
    assert spec.data.columns["region"].values == ["east", "north", "south"]
    assert {c.name for c in spec.cohorts} >= {"age_band", "region"}
    # every inferred choice is commented for the user to confirm
    text = (tmp_path / "mlprod.yaml").read_text()
    assert text.count("#") >= 10


def test_existing_refuses_to_overwrite_a_spec(tmp_path, monkeypatch, capsys):
    _customers(tmp_path / "data" / "customers.csv")
    (tmp_path / "mlprod.yaml").write_text("mine\n")
    monkeypatch.chdir(tmp_path)
    code, out = run(["init", "--existing", "--data", "data/customers.csv", "--target", "churned"], capsys)
    assert code == 3 and "already exists" in out
    assert (tmp_path / "mlprod.yaml").read_text() == "mine\n"


def test_existing_unknown_target_is_a_usage_error(tmp_path, monkeypatch, capsys):
    _customers(tmp_path / "data" / "customers.csv")
    monkeypatch.chdir(tmp_path)
    code, out = run(["init", "--existing", "--data", "data/customers.csv", "--target", "churn"], capsys)
    assert code == 2 and "did you mean 'churned'" in out
    assert not (tmp_path / "mlprod.yaml").exists()


def test_monitor_reports_are_git_ignored(tmp_path):
    import shutil

    from mlprod.generator.units.gitignore import gitignore_pattern

    assert gitignore_pattern("monitoring/reports") == "/monitoring/reports"
    assert gitignore_pattern("my notes/[x]*") == "/my\\ notes/\\[x\\]\\*"
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    proj = tmp_path / "p"
    (proj / "weird [dir]" / "reports" / "2026-11-27").mkdir(parents=True)
    (proj / "weird [dir]" / "reports" / "2026-11-27" / "drift.html").write_text("x")
    (proj / "weird [dir]" / "drift.ipynb").write_text("{}")
    (proj / ".gitignore").write_text(gitignore_pattern("weird [dir]/reports") + "/\n")
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    ignored = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=proj, capture_output=True, text=True
    ).stdout
    assert '!! "weird [dir]/reports/"' in ignored
    assert '?? "weird [dir]/"' in ignored  # the notebook beside the reports is not ignored


def test_init_without_a_terminal_says_how_to_skip_the_prompt(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mlprod", "init", str(tmp_path / "p")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--no-input" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "p").exists()


def test_demo_into_a_busy_folder_names_no_force_option(tmp_path, capsys):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    code, out = run(["demo", str(target)], capsys)
    assert code == 3
    assert "not empty" in out and "--force" not in out and "Traceback" not in out
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def _existing(folder: Path, df: pd.DataFrame, capsys, name: str = "data.csv") -> tuple[int, str]:
    folder.mkdir(parents=True, exist_ok=True)
    if name.endswith(".parquet"):
        df.to_parquet(folder / name)
    else:
        df.to_csv(folder / name, index=False)
    return run(["init", "--existing", str(folder), "--data", str(folder / name), "--target", "y"], capsys)


def test_existing_keyword_names_become_valid_identifiers(tmp_path, capsys):
    """A folder or a column named `class` must not make the inferred spec invalid."""
    df = pd.DataFrame({"class": ["a", "b"] * 10, "if": [1, 2] * 10, "y": [0, 1] * 10})
    code, out = _existing(tmp_path / "class", df, capsys)
    assert code == 0, out
    spec = load_spec(tmp_path / "class" / "mlprod.yaml").spec
    assert spec.project.name == "class_"
    assert {(c.name, c.by) for c in spec.cohorts} == {("class_", "class"), ("if_", "if")}


def test_existing_with_only_the_target_column_is_a_usage_error(tmp_path, capsys):
    code, out = _existing(tmp_path / "p", pd.DataFrame({"y": [0, 1] * 5}), capsys)
    assert code == 2 and "no feature columns" in out and "hint:" in out
    assert not (tmp_path / "p" / "mlprod.yaml").exists()


def test_existing_with_an_empty_target_is_a_usage_error(tmp_path, capsys):
    df = pd.DataFrame({"x": [1, 2] * 5, "y": [float("nan")] * 10})
    code, out = _existing(tmp_path / "p", df, capsys)
    assert code == 2 and "has no values" in out and "Traceback" not in out


def test_existing_infinite_values_leave_the_range_open(tmp_path, capsys):
    inf = float("inf")
    df = pd.DataFrame({"z": [1.5, inf] * 5, "age": [20.0, -inf, 40.0, 61.0, 33.0] * 2, "y": [0, 1] * 5})
    code, out = _existing(tmp_path / "p", df, capsys)
    assert code == 0, out
    spec = load_spec(tmp_path / "p" / "mlprod.yaml").spec
    assert spec.data.columns["z"].min == 1.5 and spec.data.columns["z"].max is None
    assert [c.bins for c in spec.cohorts if c.by == "age"] == [[20, 26, 36, 51, 62]]


def test_existing_reads_parquet_and_odd_column_names(tmp_path, capsys):
    odd = ['we"ird', "new\nline", "{{ 7*7 }}", "ünï côdé", "#hash"]
    df = pd.DataFrame({**{c: ["a", "b"] * 5 for c in odd}, "y": [True, False] * 5})
    code, out = _existing(tmp_path / "p", df, capsys, name="data.parquet")
    assert code == 0, out
    spec = load_spec(tmp_path / "p" / "mlprod.yaml").spec
    assert spec.data.features == odd
    assert spec.data.positive_label is True
