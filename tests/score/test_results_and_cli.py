"""The command: the gate and exit codes, the output formats and the badge, the reference specs."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from scorekit import ALL, REFERENCE

from mlprod import CONCERNS
from mlprod.cli import main
from mlprod.score.badge import render_badge
from mlprod.score.formats import md_cell


def run(project, *args: str, capsys) -> tuple[int, str]:
    code = main(["score", "--spec", str(project.root / "mlprod.yaml"), *args])
    return code, capsys.readouterr().out


# --- results ---------------------------------------------------------------------------------


def test_passing_results_score_20_and_exit_0(full, capsys):
    code, out = run(full, "--results", str(full.junit()), capsys=capsys)
    assert code == 0
    assert "total 20/20; weakest: none, every concern is at level 2" in out
    assert "exceptional" in out
    assert "gate: passed" in out


def test_the_last_run_record_is_read_without_results(full, capsys):
    full.record()
    code, out = run(full, capsys=capsys)
    assert code == 0 and "total 20/20" in out


@pytest.mark.parametrize("content", [None, "not xml at all", "<html></html>"])
def test_missing_or_unreadable_results_exit_2(full, tmp_path, capsys, content):
    path = tmp_path / "bad.xml"
    if content is not None:
        path.write_text(content)
    code = main(["score", "--spec", str(full.root / "mlprod.yaml"), "--results", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "results file" in err and "Traceback" not in err


def test_a_failed_test_of_no_concern_fails_the_gate(project, tmp_path, capsys):
    project.spec()
    project.commit()
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite><testcase classname="tests.unit.test_other" name="t"><failure/></testcase></testsuite>'
    )
    code, out = run(project, "--min-total", "0", "--results", str(path), capsys=capsys)
    assert code == 1
    assert "failed tests of no concern: tests/unit/test_other.py::t" in out
    assert "total 0/20, 1 test failing" in out


# --- gate ----------------------------------------------------------------------------


def test_gate_from_the_spec_and_the_flags(project, capsys):
    project.spec("pipeline", "release", extra="score: {min_total: 5, min_each: 0}\n")
    project.generate()
    project.ci()
    project.commit()
    project.record()
    code, out = run(project, capsys=capsys)
    assert code == 1
    assert "total 4 is below the minimum 5" in out
    assert run(project, "--min-total", "4", capsys=capsys)[0] == 0
    code, out = run(project, "--min-total", "0", "--min-each", "1", capsys=capsys)
    assert code == 1
    assert "determinism, infrastructure" in out


def test_invalid_spec_exits_2(tmp_path, capsys):
    (tmp_path / "mlprod.yaml").write_text("version: 1\nproject: {name: Bad Name}\n")
    assert main(["score", "--spec", str(tmp_path / "mlprod.yaml")]) == 2
    assert main(["score", "--spec", str(tmp_path / "missing.yaml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("value", ["27/11/2026", "20261127", "2026-W48-5", "2026-11-27T00:00", "2026-02-30"])
def test_mlprod_today_must_be_yyyy_mm_dd(project, monkeypatch, capsys, value):
    project.spec()
    monkeypatch.setenv("MLPROD_TODAY", value)
    assert main(["score", "--spec", str(project.root / "mlprod.yaml")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_mlprod_today_is_read_by_the_command(project, monkeypatch, capsys):
    project.spec(extra='privacy:\n  mode: manual\n  signoff: {by: Jane, on: "2026-11-20"}\n')
    monkeypatch.setenv("MLPROD_TODAY", "2026-11-27")
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert data["today"] == "2026-11-27"
    assert data["concerns"][CONCERNS.index("privacy")]["level"] == 1
    monkeypatch.setenv("MLPROD_TODAY", "2027-11-27")
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert data["concerns"][CONCERNS.index("privacy")]["level"] == 0


# --- formats -------------------------------------------------------------------------


def test_json_shape(full, capsys):
    code, out = run(full, "--format", "json", "--results", str(full.junit()), capsys=capsys)
    data = json.loads(out)
    assert code == 0
    assert {"total", "max", "weakest", "passed", "concerns", "failing", "notes"} <= set(data)
    assert (data["total"], data["max"], data["passed"], data["failing"]) == (20, 20, True, 0)
    assert data["weakest"] == list(ALL)  # all tie at 2
    assert [c["id"] for c in data["concerns"]] == list(ALL)
    for c in data["concerns"]:
        assert {"id", "level", "why", "fix", "tests", "failing"} <= set(c)
        assert set(c["tests"]) == {"passed", "failed", "skipped"}
        assert c["failing"] == c["tests"]["failed"] == 0


def test_json_without_any_run_and_weakest(project, capsys):
    project.spec(
        "pipeline", "release", extra='privacy:\n  mode: manual\n  signoff: {by: J, on: "2026-11-01"}\n'
    )
    project.generate()
    project.ci()
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert data["total"] == 3
    assert data["weakest"] == [c for c in ALL if c not in ("pipeline", "release", "privacy")]
    assert all(c["tests"] is None for c in data["concerns"])
    assert data["unmapped_tests"] is None


def parse_markdown_table(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header, separator, *rows = lines
    assert set(separator.replace("|", "").strip()) <= {"-", ":", " "}
    width = len(split_row(header))
    assert len(split_row(separator)) == width
    for row in rows:
        assert len(split_row(row)) == width, row
    return [split_row(r) for r in rows]


def split_row(line: str) -> list[str]:
    cells, cell, escaped = [], "", False
    for ch in line.strip()[1:-1]:
        if ch == "|" and not escaped:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
        escaped = ch == "\\" and not escaped
    return [*cells, cell.strip()]


def test_markdown_renders_as_a_table(project, capsys):
    project.spec("pipeline", "release")
    project.generate()
    project.ci()
    project.commit()
    project.record()
    _code, out = run(project, "--format", "markdown", capsys=capsys)
    rows = parse_markdown_table(out)
    assert len(rows) == 10
    assert [r[0] for r in rows] == list(ALL)
    assert rows[0][1] == "2" and rows[CONCERNS.index("bias")][1] == "0"
    assert "**Total 4/20.**" in out


def test_markdown_cells_are_escaped():
    assert md_cell("a | b <script>\nx") == "a \\| b &lt;script&gt; x"
    assert md_cell("`git add a&b <c>` then a&b") == "`git add a&b <c>` then a&amp;b"
    assert md_cell("`x | y`") == "`x \\| y`"
    assert md_cell("a ` b \\ c") == "a \\` b \\\\ c"


def test_badge_is_valid_deterministic_svg(full, tmp_path, capsys):
    full.record()
    path = full.root / "out" / "score.svg"  # badges are written inside the project only
    code, _ = run(full, "--badge", str(path), capsys=capsys)
    assert code == 0
    root = ET.fromstring(path.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["mlprod", "20/20"]
    assert path.read_text() == render_badge(20, 20)
    assert render_badge(3, 20) != render_badge(18, 20)
    assert 'fill="#4c1"' in render_badge(20, 20) and 'fill="#e05d44"' in render_badge(20, 20, failing=1)
    ET.fromstring(render_badge(5, 20, label="a<b & c"))  # text is escaped


def test_terminal_table_has_one_row_per_concern(project, capsys):
    project.spec("pipeline")
    _code, out = run(project, capsys=capsys)
    lines = out.splitlines()
    for concern in ALL:
        assert any(line.split()[:1] == [concern] for line in lines), concern
    assert "\x1b[" not in out  # no colour when not a tty


def test_fix_lines_are_plain_sentences(project):
    project.spec()
    rows = {r.id: r for r in project.score().concerns}
    assert rows["infrastructure"].fix == (
        "add an `infrastructure` section to mlprod.yaml and run `mlprod generate`"
    )
    assert rows["explainability"].fix.startswith("add an `explainability` section")
    assert rows["pipeline"].fix.startswith("add a `pipeline` section")
    assert rows["bias"].fix.startswith("add a `fairness` or `drift` section")


# --- the reference specs -------------------------------------------------------------


def test_minimal_spec_scores_privacy_1_and_the_rest_0(project, capsys):
    shutil.copy(REFERENCE / "minimal.mlprod.yaml", project.root / "mlprod.yaml")
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    levels = {c["id"]: c["level"] for c in data["concerns"]}
    assert levels == {**dict.fromkeys(ALL, 0), "privacy": 1}
    assert data["total"] == 1


def test_credit_spec_generated_committed_and_run_scores_20(project, capsys):
    project.credit()
    project.commit()
    code, out = run(project, "--format", "markdown", "--results", str(project.junit()), capsys=capsys)
    assert code == 0, out
    assert len(parse_markdown_table(out)) == 10
    assert "**Total 20/20.**" in out


def test_score_imports_no_data_libraries(full):
    """`mlprod score` runs in every CI job: pandas, numpy, scipy and sklearn stay unloaded."""
    import subprocess
    import sys

    full.record()
    code = (
        "import sys\nfrom mlprod.cli import main\n"
        f"rc = main(['score', '--spec', {str(full.root / 'mlprod.yaml')!r}, '--format', 'json'])\n"
        "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'sklearn', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "HEAVY 0 []"
