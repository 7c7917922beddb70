"""The collaboration unit: CODEOWNERS and the pull-request template (managed blocks)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import credit_spec_text, minimal_spec_text
from injection_corpus import CORPUS, corpus_spec_text
from mlprod.generator.base import Context, Kind
from mlprod.generator.units.collab import codeowners_pattern, collab
from mlprod.schema import parse_spec_text

from mlprod import CONCERNS
from mlprod.errors import RefusedError, SpecError


def edit(text: str, change: Any) -> str:
    data = yaml.safe_load(text)
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=10_000)


def run(text: str) -> dict[str, str]:
    ctx = Context(parse_spec_text(text), "0" * 64, "0.1.0", Path("."), "mlprod.yaml")
    return {a.path: a.content for a in collab(ctx)}


def tokens(line: str) -> list[str]:
    """Split a CODEOWNERS line on unescaped spaces, undoing backslash escapes."""
    out, cur, i = [], "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur += line[i + 1]
            i += 2
            continue
        if ch == " ":
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    return [*out, cur]


def rules(body: str) -> list[list[str]]:
    return [tokens(line) for line in body.splitlines() if not line.startswith("#")]


def test_credit_files() -> None:
    ctx = Context(parse_spec_text(credit_spec_text()), "0" * 64, "0.1.0", Path("."))
    arts = {a.path: a for a in collab(ctx)}
    assert set(arts) == {".github/CODEOWNERS", ".github/pull_request_template.md"}
    owners, pr = arts[".github/CODEOWNERS"], arts[".github/pull_request_template.md"]
    assert (owners.kind, owners.managed, owners.concern) == (Kind.TEXT, True, "collaboration")
    assert (pr.kind, pr.managed, pr.concern) == (Kind.MARKDOWN, True, "collaboration")
    assert rules(owners.content) == [
        ["*", "@acme/risk-ds", "@acme/ml-platform"],
        ["models/", "@acme/risk-ds"],
        ["mlprod.yaml", "@acme/risk-ds", "@acme/ml-platform"],
        [".github/", "@acme/ml-platform"],
    ]
    boxes = [line for line in pr.content.splitlines() if line.startswith("- [ ] ")]
    assert len(boxes) == len(CONCERNS) == 10
    for i, (line, concern) in enumerate(zip(boxes, CONCERNS, strict=True), start=1):
        assert line.startswith(f"- [ ] {i}. ") and f"(`{concern}`)" in line
    assert "mlprod generate" in pr.content and "mlprod score" in pr.content
    assert "**Review rule:** 1 approving review required" in pr.content


def test_manual_and_undeclared_concerns_and_review_count() -> None:
    def change(d: dict[str, Any]) -> None:
        del d["fairness"], d["drift"]
        d["privacy"]["mode"] = "manual"
        d["collaboration"]["review"] = {"required_approvals": 2}

    pr = run(edit(credit_spec_text(), change))[".github/pull_request_template.md"]
    line = {c: next(x for x in pr.splitlines() if f"(`{c}`)" in x) for c in CONCERNS}
    assert line["bias"].endswith("not declared in mlprod.yaml")
    assert "checked by hand" in line["privacy"]
    assert "automated" in line["pipeline"]
    assert "2 approving reviews required" in pr


def test_no_collaboration_section_no_files() -> None:
    assert run(minimal_spec_text()) == {}

    def no_handles(d: dict[str, Any]) -> None:
        d["collaboration"] = {"review": {"required_approvals": 1}}
        for owner in d["project"]["owners"]:
            del owner["handle"]

    assert set(run(edit(credit_spec_text(), no_handles))) == {".github/pull_request_template.md"}


def test_pattern_escaping() -> None:
    assert codeowners_pattern("docs/my file.md") == "docs/my\\ file.md"
    assert codeowners_pattern("#notacomment") == "\\#notacomment"
    assert codeowners_pattern("!neg") == "\\!neg"
    assert codeowners_pattern("a\\b") == "a\\\\b"
    assert codeowners_pattern("a\nb\r\x00c\td") == "abcd"
    with pytest.raises(RefusedError):
        codeowners_pattern("\n\t")


def test_bad_owner_is_refused() -> None:
    for bad in ("@acme/x @evil", "risk team", "@", "x\n* @evil"):

        def change(d: dict[str, Any], bad: str = bad) -> None:
            d["collaboration"]["codeowners"] = {"models/": [bad]}

        with pytest.raises(SpecError, match="problem"):  # located by `mlprod validate`
            run(edit(credit_spec_text(), change))
    ok = run(edit(credit_spec_text(), lambda d: d["collaboration"].update(codeowners={"x": ["a@b.io"]})))
    assert rules(ok[".github/CODEOWNERS"])[-1] == ["x", "a@b.io"]


def _expected_pattern(s: str) -> str:
    """What a pattern should match after the unit drops what cannot be on one line."""
    return "".join(
        ch
        for ch in s
        if ch == " "
        or not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
    )


@pytest.mark.parametrize("s", CORPUS, ids=range(len(CORPUS)))
def test_injection_corpus(s: str) -> None:
    base = credit_spec_text()
    want = run(base)
    # Free text and column names never reach these files.
    try:
        got = run(corpus_spec_text(base, s))
    except SpecError:
        got = None
    if got is not None:
        assert got == want
    # A corpus pattern stays one rule: the pattern token, then exactly its owners (or the
    # schema refuses a pattern with a line break or control character, located).
    text = edit(base, lambda d: d["collaboration"]["codeowners"].update({s: ["@acme/risk-ds"]}))
    try:
        body = run(text)[".github/CODEOWNERS"]
    except SpecError as exc:
        assert any(p.path.startswith("collaboration.codeowners") for p in exc.problems)
        assert re.search(r"[\x00-\x1f\x7f]", s) or any(ch.isspace() and ch != " " for ch in s)
    else:
        assert len(body.splitlines()) == len(want[".github/CODEOWNERS"].splitlines()) + 1
        assert [line for line in body.splitlines() if line.startswith("#")] == [
            line for line in want[".github/CODEOWNERS"].splitlines() if line.startswith("#")
        ]
        assert rules(body)[-1] == [_expected_pattern(s), "@acme/risk-ds"]
        assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", body.replace("\n", ""))
    # A corpus owner is refused (by the schema, located), never written.
    text = edit(base, lambda d: d["collaboration"]["codeowners"].update({"models/": [s]}))
    with pytest.raises((SpecError, RefusedError)):
        run(text)
