"""JUnit results, the gate and exit codes, the output formats and the badge."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from mlprod.generator.badge import render_badge
from mlprod.generator.evidence import read_results

from mlprod import CONCERNS
from mlprod.cli import main
from mlprod.commands.score import md_cell

ALL = tuple(CONCERNS)


@pytest.fixture
def full(project):
    """Every concern generated, committed and run by CI: 20/20 before results."""
    project.spec(*ALL)
    project.generate(*ALL)
    project.ci()
    project.commit()
    return project


def run(project, *args: str, capsys) -> tuple[int, str]:
    code = main(["score", "--spec", str(project.root / "mlprod.yaml"), *args])
    return code, capsys.readouterr().out


def passing(concerns=ALL) -> list[tuple[str | None, str, str]]:
    return [(c, f"tests.mlprod.test_{c}", "passed") for c in concerns]


# --- results -----------------------------------------------------------------------------


def test_all_tests_of_a_concern_skipped_drops_it_to_1(full, junit):
    results = junit(
        [*passing([c for c in ALL if c != "bias"]), ("bias", "x", "skipped"), ("bias", "y", "skipped")]
    )
    rows = {r.id: r for r in full.score(results=results).concerns}
    assert rows["bias"].level == 1
    assert rows["bias"].why == "all 2 bias tests were skipped in the results"
    assert rows["bias"].tests.as_dict() == {"passed": 0, "failed": 0, "skipped": 2}
    assert all(rows[c].level == 2 for c in ALL if c != "bias")


def test_a_concern_missing_from_the_results_drops_to_1(full, junit):
    results = junit(passing([c for c in ALL if c != "release"]))
    row = full.row("release", results=results)
    assert row.level == 1
    assert row.why == "no release test is in the results"


def test_some_skipped_tests_keep_level_2(full, junit):
    results = junit([*passing(), ("bias", "b", "skipped")])
    row = full.row("bias", results=results)
    assert row.level == 2
    assert row.tests.as_dict() == {"passed": 1, "failed": 0, "skipped": 1}


def test_failures_keep_the_level_are_shown_and_exit_1(full, junit, capsys):
    results = junit([*passing(), ("privacy", "tests.mlprod.test_privacy", "failed"), ("bias", "b", "error")])
    report = full.score(results=results)
    rows = {r.id: r for r in report.concerns}
    assert rows["privacy"].level == 2 and rows["bias"].level == 2
    assert rows["privacy"].tests.failed == 1 and rows["bias"].tests.failed == 1
    assert rows["privacy"].tests.failures == [f"tests.mlprod.test_privacy::test_{len(ALL)}"]
    assert report.total == 20 and not report.passed
    code, out = run(full, "--results", str(results), capsys=capsys)
    assert code == 1
    assert f"failed: tests.mlprod.test_privacy::test_{len(ALL)}" in out
    assert "failed tests: bias (1), privacy (1)" in out


def test_passing_results_score_20_and_exit_0(full, junit, capsys):
    code, out = run(full, "--results", str(junit(passing())), capsys=capsys)
    assert code == 0
    assert "total 20/20" in out
    assert "gate: passed" in out


def test_junit_cases_map_by_property_then_by_file_or_classname(tmp_path, junit):
    path = junit(
        [
            ("bias", "tests.mlprod.test_privacy", "passed"),  # the property wins
            (None, "tests.mlprod.test_release", "failed"),
            (None, "tests.mlprod.test_release_extra", "passed"),  # not test_release
            (None, "tests.unit.test_other", "passed"),
            ("nonsense", "tests.foo", "passed"),
        ]
    )
    counts, unmapped = read_results(path)
    assert counts["bias"].passed == 1
    assert counts["release"].failed == 1 and counts["release"].passed == 0
    assert "privacy" not in counts
    assert unmapped == 3


def test_junit_file_attribute_maps_a_case(tmp_path):
    path = tmp_path / "r.xml"
    path.write_text(
        '<testsuite><testcase classname="TestX" name="t" file="tests/mlprod/test_baseline.py"/></testsuite>'
    )
    counts, _ = read_results(path)
    assert counts["baseline"].passed == 1


@pytest.mark.parametrize("content", [None, "not xml at all", "<html></html>"])
def test_missing_or_unreadable_results_exit_2(full, tmp_path, capsys, content):
    path = tmp_path / "bad.xml"
    if content is not None:
        path.write_text(content)
    code = main(["score", "--spec", str(full.root / "mlprod.yaml"), "--results", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "results file" in err and "Traceback" not in err


# --- gate ----------------------------------------------------------------------------


def test_gate_from_the_spec_and_the_flags(project, capsys):
    project.spec("pipeline", extra="score: {min_total: 3, min_each: 0}\n")
    project.generate("pipeline")
    project.ci()
    project.commit()
    code, out = run(project, capsys=capsys)
    assert code == 1
    assert "total 2 is below the minimum 3" in out
    assert run(project, "--min-total", "2", capsys=capsys)[0] == 0
    code, out = run(project, "--min-total", "0", "--min-each", "1", capsys=capsys)
    assert code == 1
    assert "determinism, infrastructure" in out


def test_invalid_spec_exits_2(tmp_path, capsys):
    (tmp_path / "mlprod.yaml").write_text("version: 1\nproject: {name: Bad Name}\n")
    assert main(["score", "--spec", str(tmp_path / "mlprod.yaml")]) == 2
    assert main(["score", "--spec", str(tmp_path / "missing.yaml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_bad_mlprod_today_exits_2(project, monkeypatch, capsys):
    project.spec()
    monkeypatch.setenv("MLPROD_TODAY", "27/11/2026")
    code, _ = run(project, capsys=capsys)
    assert code == 2


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


def test_json_shape(full, junit, capsys):
    code, out = run(full, "--format", "json", "--results", str(junit(passing())), capsys=capsys)
    data = json.loads(out)
    assert code == 0
    assert {"total", "max", "weakest", "passed", "concerns"} <= set(data)
    assert (data["total"], data["max"], data["passed"]) == (20, 20, True)
    assert data["weakest"] == list(ALL)  # all tie at 2
    assert [c["id"] for c in data["concerns"]] == list(ALL)
    for c in data["concerns"]:
        assert {"id", "level", "why", "fix", "tests"} <= set(c)
        assert set(c["tests"]) == {"passed", "failed", "skipped"}
        assert c["tests"] == {"passed": 1, "failed": 0, "skipped": 0}


def test_json_without_results_and_weakest(project, capsys):
    project.spec("pipeline", extra='privacy:\n  mode: manual\n  signoff: {by: J, on: "2026-11-01"}\n')
    project.generate("pipeline")
    project.ci()
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert data["total"] == 3
    assert data["weakest"] == [c for c in ALL if c not in ("pipeline", "privacy")]
    assert all(c["tests"] is None for c in data["concerns"])


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
    project.spec("pipeline", "bias")
    project.generate("pipeline")
    project.ci()
    project.commit()
    _code, out = run(project, "--format", "markdown", capsys=capsys)
    rows = parse_markdown_table(out)
    assert len(rows) == 10
    assert [r[0] for r in rows] == list(ALL)
    assert rows[0][1] == "2" and rows[CONCERNS.index("bias")][1] == "0"
    assert "**Total 2/20.**" in out


def test_markdown_cells_are_escaped():
    assert md_cell("a | b <script>\nx") == "a \\| b &lt;script&gt; x"


def test_badge_is_valid_deterministic_svg(full, tmp_path, capsys):
    path = full.root / "out" / "score.svg"  # badges are written inside the project only
    code, _ = run(full, "--badge", str(path), capsys=capsys)
    assert code == 0
    root = ET.fromstring(path.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["mlprod", "20/20"]
    assert path.read_text() == render_badge(20, 20)
    assert render_badge(3, 20) != render_badge(18, 20)
    ET.fromstring(render_badge(5, 20, label="a<b & c"))  # text is escaped


def test_terminal_table_has_one_row_per_concern(project, capsys):
    project.spec("pipeline")
    _code, out = run(project, capsys=capsys)
    lines = out.splitlines()
    for concern in ALL:
        assert any(line.split()[:1] == [concern] for line in lines), concern
    assert "\x1b[" not in out  # no colour when not a tty


# --- the reference specs -------------------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference"


def find_spec(name: str) -> Path:
    return REFERENCE / f"{name}.mlprod.yaml"


def test_minimal_spec_scores_privacy_1_and_the_rest_0(project, capsys):
    shutil.copy(find_spec("minimal"), project.root / "mlprod.yaml")
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    levels = {c["id"]: c["level"] for c in data["concerns"]}
    assert levels == {**dict.fromkeys(ALL, 0), "privacy": 1}
    assert data["total"] == 1


def test_credit_spec_generated_committed_and_run_scores_20(project, junit, capsys):
    shutil.copy(find_spec("credit"), project.root / "mlprod.yaml")
    project.generate(*ALL)
    project.ci("github")
    project.ci("gitlab")
    project.commit()
    code, out = run(project, "--format", "markdown", "--results", str(junit(passing())), capsys=capsys)
    assert code == 0
    assert len(parse_markdown_table(out)) == 10
    assert "**Total 20/20.**" in out


def test_score_imports_no_data_libraries(full):
    """`mlprod score` runs in every CI job: pandas, numpy, scipy and jinja2 stay unloaded."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom mlprod.cli import main\n"
        f"rc = main(['score', '--spec', {str(full.root / 'mlprod.yaml')!r}, '--format', 'json'])\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'scipy', 'jinja2', 'sklearn') if m in sys.modules)\n"
        "print('HEAVY', rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "HEAVY 0 []"


def test_credit_with_the_real_generator(project, capsys):
    """End to end with `mlprod generate`: uncommitted 10/20, committed 20/20, edited 19/20."""
    pytest.importorskip("mlprod.commands.generate")
    shutil.copy(find_spec("credit"), project.root / "mlprod.yaml")
    spec = str(project.root / "mlprod.yaml")
    assert main(["generate", "--spec", spec]) == 0
    capsys.readouterr()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert [c["level"] for c in data["concerns"]] == [1] * 10
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert data["total"] == 20, [(c["id"], c["why"]) for c in data["concerns"]]
    test = project.root / "tests/mlprod/test_privacy.py"
    test.write_text(test.read_text() + "# edited\n")
    project.commit()
    data = json.loads(run(project, "--format", "json", capsys=capsys)[1])
    assert {c["id"]: c["level"] for c in data["concerns"]}["privacy"] == 1
    assert data["total"] == 19
