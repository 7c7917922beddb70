"""Model card escaping: only what Markdown would misread, and the card renders the same.

`md_text` replaced escaping every punctuation character (`2026\\-12\\-01`, `credit\\_default`).
Each string here, and the whole example card, is rendered with markdown-it-py (CommonMark,
GFM tables and strikethrough, raw HTML *enabled* as GitHub does) with the old escaping and
with the new: the HTML must be identical, and show the text literally.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from helpers import credit_spec_text
from injection_corpus import CORPUS
from markdown_it import MarkdownIt
from mlprod.generator.base import Context
from mlprod.generator.engine import finish
from mlprod.generator.safe import md
from mlprod.generator.units import _cardfmt
from mlprod.generator.units._cardfmt import md_text
from mlprod.generator.units.model_card import render_model_card
from mlprod.schema import parse_spec_text, spec_hash

from mlprod import __version__

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [
    *CORPUS,
    "2026-12-01",
    "credit_default",
    "_emphasis_ and __strong__ and *star* and ~~struck~~",
    "a_b_ _c",
    "# heading",
    "#hashtag",
    "- item",
    "-5 below zero",
    "+ plus",
    "1. first",
    "1.0.0",
    "12) twelve",
    "===",
    "---",
    "> quote",
    "`code` and ``double``",
    "[link](https://example.com) ![img](x.png)",
    "<https://example.com> and <b>bold</b> &amp; &#x27; &copy;",
    "a\\*b \\ trailing\\",
    "pipes | in || a cell",
    "    four spaces",
    "x = 1 == 2",
]


#: Values the old escaping let Markdown misread (it never escaped `.`): a list item.
OLD_MISREAD = {"1. first"}


def render(text: str) -> str:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])
    return parser.render(text)


def old(value: object) -> str:
    """The former escaping: every Markdown punctuation character."""
    return str(md(_cardfmt._BREAKS.sub(" ", str(value))))


@pytest.mark.parametrize("s", SAMPLES)
def test_a_value_renders_the_same_and_literally(s: str) -> None:
    new = md_text(s)
    if s not in OLD_MISREAD:
        assert render(new) == render(old(s))  # a paragraph (the value starts the line)
    cell = "| a | b |\n| --- | --- |\n| x | {} |\n"
    assert render(cell.format(new)) == render(cell.format(old(s)))
    shown = " ".join(_cardfmt._BREAKS.sub(" ", s).split())
    text = render(f"x {new}")  # inline, after other text: exactly the text, no markup
    assert " ".join(html.unescape(text.removeprefix("<p>").removesuffix("</p>\n")).split()) == f"x {shown}"


def test_readable_values_are_not_escaped() -> None:
    for s in ("2026-12-01", "credit_default", "predict_proba", "credit.model:load_model", "1.0.0"):
        assert md_text(s) == s
    assert md_text("_x_") == "\\_x\\_" and md_text("a*b") == "a\\*b" and md_text("<b>") == "&lt;b&gt;"
    assert md_text("1. first") == "1\\. first" and md_text("# h") == "\\# h"


def test_the_example_card_renders_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = REPO / "examples" / "credit"
    text = (root / "mlprod.yaml").read_text(encoding="utf-8")
    ctx = Context(parse_spec_text(text), spec_hash(text), __version__, root, "mlprod.yaml")
    [art] = render_model_card(ctx)
    new = finish(art, ctx)
    assert "2026\\-" not in new and "credit\\_default" not in new
    monkeypatch.setattr(_cardfmt, "md_text", old)
    [art] = render_model_card(ctx)
    before = finish(art, ctx)
    assert before != new and "2026\\-" in before  # the old escaping really ran
    assert render(new) == render(before)


def test_hostile_text_in_the_card_renders_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from injection_corpus import corpus_spec_text

    for s in CORPUS:
        text = corpus_spec_text(credit_spec_text(), s)
        try:
            spec = parse_spec_text(text)
        except Exception:
            continue
        ctx = Context(spec, spec_hash(text), __version__, tmp_path, "mlprod.yaml")
        with monkeypatch.context() as m:
            new = finish(render_model_card(ctx)[0], ctx)
            m.setattr(_cardfmt, "md_text", old)
            before = finish(render_model_card(ctx)[0], ctx)
        assert render(new) == render(before), s
