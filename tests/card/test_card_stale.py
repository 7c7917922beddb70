"""A changed threshold makes the card's measured sections stale; generate and --check say so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlprod.generator.units.model_card import settings_sha256, stale_reason
from mlprod.schema import load_spec, parse_spec_text

from mlprod.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "credit"
BATCH = "  batch: {rows: 1000, max_ms: 250}"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The committed example (evaluation, models and card included), copied."""
    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "logs", "reports"))
    return root


def test_settings_hash_ignores_comments_and_unmeasured_sections() -> None:
    text = (EXAMPLE / "mlprod.yaml").read_text(encoding="utf-8")
    base = settings_sha256(parse_spec_text(text))
    assert settings_sha256(parse_spec_text(text.replace("# concern 3", "# the third concern"))) == base
    retitled = text.replace("title: German credit default model", "title: Credit model")
    assert settings_sha256(parse_spec_text(retitled)) == base
    assert BATCH in text
    assert settings_sha256(parse_spec_text(text.replace(BATCH, BATCH.replace("250", "300")))) != base


def test_committed_card_is_current(example: Path) -> None:
    loaded = load_spec(example / "mlprod.yaml")
    assert stale_reason(loaded.spec, loaded.root) is None


def test_changed_threshold_marks_the_card_and_names_the_command(
    example: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = example / "mlprod.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(BATCH, BATCH.replace("250", "300")))
    monkeypatch.chdir(example)
    assert main(["generate", "--check"]) == 1
    err = capsys.readouterr().err
    assert "MODEL_CARD.md" in err and "run `mlprod evaluate` to measure again and refresh the card" in err
    assert main(["generate"]) == 0
    out = capsys.readouterr()
    assert "stale model card:" in out.err and "`mlprod evaluate`" in out.err
    card = (example / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "**The evaluation is stale**: mlprod.yaml's data, model or check settings changed" in card
    assert main(["generate", "--check"]) == 0  # the files are current; the card still says stale
    assert "note: the model card's measured sections" in capsys.readouterr().err
