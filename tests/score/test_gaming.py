"""Issue 13's gaming cases: each once reached 20/20; each now stays below 2 with its reason.

(The masking CI constructs are in test_ci.py, one test per construct; the `assert True`
suite with rewritten manifest hashes is test_evidence.py::test_the_render_is_the_proof_not_the_manifest.)
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from scorekit import ALL

from mlprod.cli import main

NO_RUN = "no run of the current suite: run `pytest tests/mlprod`"


def run(project, *args: str, capsys) -> tuple[int, str]:
    code = main(["score", "--spec", str(project.root / "mlprod.yaml"), *args])
    return code, capsys.readouterr().out


def handmade(full, *, outcome: str = "passed", fingerprint: str | None = None):
    """The 10-line JUnit of the issue: one invented test per concern."""
    cases = []
    for c in ALL:
        inner = '<failure message="no">boom</failure>' if outcome == "failed" else ""
        cases.append(f'<testcase classname="tests.mlprod.test_{c}" name="test_x">{inner}</testcase>')
    props = f'<properties><property name="mlprod_fingerprint" value="{fingerprint}"/></properties>'
    path = full.root.parent / "handmade.xml"
    suite = (props if fingerprint else "") + "".join(cases)
    path.write_text(f'<testsuites><testsuite name="pytest">{suite}</testsuite></testsuites>')
    return path


def test_a_handwritten_junit_is_refused_with_its_reason(full):
    path = handmade(full)
    report = full.score(results=path)
    assert report.notes == [f"{path}: not a run of the generated suite (no mlprod_fingerprint)"]
    assert report.total == 10
    assert {r.why for r in report.concerns} == {NO_RUN}


def test_a_handwritten_junit_with_a_copied_fingerprint_misses_the_generated_tests(full):
    path = handmade(full, fingerprint=full.suite().fingerprint)
    report = full.score(results=path)
    assert report.notes == []
    assert report.total == 10
    bias = report.concerns[ALL.index("bias")]
    n = len(full.suite().node_ids["bias"])
    first = full.suite().node_ids["bias"][0]
    assert bias.why == f"{n} of {n} generated tests missing from the results (first: {first})"


def test_a_handwritten_junit_of_failures_is_loud(full, capsys, tmp_path):
    path = handmade(full, outcome="failed")
    badge = full.root / "badge.svg"
    code, out = run(full, "--results", str(path), "--badge", str(badge), capsys=capsys)
    assert code == 1
    rows = [line for line in out.splitlines() if line.split()[:1] and line.split()[0] in ALL]
    assert len(rows) == 10
    for line in rows:
        assert "FAILING: 1 of 1 tests failed (first: tests/mlprod/test_" in line
        assert " ok" not in line
    assert "total 10/20, 10 tests failing" in out
    assert "exceptional" not in out
    texts = [t.text for t in ET.fromstring(badge.read_text()).iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["mlprod", "10/20 | 10 failing"]
    assert 'fill="#e05d44"' in badge.read_text()  # red


def test_a_real_run_with_failures_keeps_the_level_and_reads_failing(full, capsys, tmp_path):
    tests = full.tests()
    for t in tests:
        if t["concern"] in ("privacy", "bias"):
            t["outcome"], t["message"] = "failed", "PII column email in train"
    full.record(tests)
    report = full.score()
    assert report.total == 20 and report.failing == 3
    assert report.total_text == "20/20, 3 tests failing"
    bias = report.concerns[ALL.index("bias")]
    assert bias.level == 2 and bias.failing == 2
    badge = full.root / "b.svg"
    code, out = run(full, "--badge", str(badge), capsys=capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("  bias"))
    assert line.endswith(f"FAILING: 2 of 2 tests failed (first: {bias.tests.failures[0]})")
    assert "total 20/20, 3 tests failing" in out
    assert "exceptional" not in out and "ok" not in line.split()
    assert "20/20 | 3 failing" in badge.read_text()
    code, out = run(full, "--format", "json", capsys=capsys)
    data = json.loads(out)
    assert data["failing"] == 3
    assert [c["failing"] for c in data["concerns"]] == [c["tests"]["failed"] for c in data["concerns"]]
    code, out = run(full, "--format", "markdown", capsys=capsys)
    assert out.startswith("### mlprod score: 20/20, 3 tests failing")


def test_no_results_and_no_run_record_cap_automated_concerns_at_1(full):
    report = full.score()
    assert report.total == 10
    assert all(
        r.why == NO_RUN and r.fix == "run `pytest tests/mlprod` and score again" for r in report.concerns
    )


def test_a_concern_none_of_whose_tests_judged_anything_is_1_with_the_reasons(full):
    full.record(full.tests(bias="notjudged"))
    row = full.row("bias")
    n = len(full.suite().node_ids["bias"])
    assert (row.level, row.why) == (
        1,
        f"none of its {n} tests judged anything: no group reaches drift.min_rows",
    )
    assert "pytest tests/mlprod -rs" in row.fix
    assert full.score().total == 19


def test_some_not_judged_tests_keep_level_2(full):
    tests = full.tests()
    bias = [t for t in tests if t["concern"] == "bias"]
    bias[0].update(outcome="skipped", judged=False, message="no group reaches drift.min_rows")
    full.record(tests)
    assert full.row("bias").level == 2


def test_a_threshold_edit_and_generate_is_one_note_not_ten_rows(full):
    full.record()
    spec = full.root / "mlprod.yaml"
    spec.write_text(spec.read_text().replace("max_mb: 100", "max_mb: 120"))
    full.generate()
    report = full.score()
    assert len(report.notes) == 2, report.notes
    assert report.notes[0].startswith("uncommitted changes: mlprod.yaml, ")
    assert report.notes[1].startswith(".mlprod/last-run.json: results of another suite (fingerprint ")
    for row in report.concerns:
        assert row.why == f"uncommitted changes (see the note above); {NO_RUN}"
    full.commit("raise the memory budget")
    full.record()
    assert full.score().total == 20


def test_a_stale_run_record_is_refused(full):
    full.record(fingerprint="1a2b" * 16)
    report = full.score()
    ours = full.suite().fingerprint[:8]
    assert report.notes == [
        f".mlprod/last-run.json: results of another suite (fingerprint 1a2b1a2b... vs {ours}...)"
    ]
    assert report.total == 10


def test_evaluate_drops_no_row(full):
    """`mlprod evaluate` writes .mlprod/evaluation.json and regenerates the card and the manifest:
    none of them decides a level, so nothing drops and nothing is noted."""
    full.record()
    full.write({".mlprod/evaluation.json": json.dumps({"format": 1, "metrics": {}})})
    full.generate()
    status = full.git("status", "--porcelain")
    assert "MODEL_CARD.md" in status or ".mlprod/" in status
    report = full.score()
    assert report.total == 20 and report.notes == []
