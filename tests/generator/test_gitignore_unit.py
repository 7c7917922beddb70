"""The `.gitignore` unit: its managed block ignores exactly the monitoring reports folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import minimal_spec_text
from mlprod.generator.base import Context
from mlprod.generator.units.gitignore import render_gitignore
from mlprod.schema import parse_spec_text


@pytest.mark.parametrize("notebooks", ["monitoring", "./monitoring", "monitoring/", "./monitoring//"])
def test_reports_pattern_is_normalised(notebooks: str) -> None:
    """`/./monitoring/reports/` would match nothing in git: the path is normalised first."""
    text = minimal_spec_text() + f'outputs:\n  notebooks: "{notebooks}"\n'
    ctx = Context(parse_spec_text(text), "0" * 64, "0.1.0", Path("."), "mlprod.yaml")
    (art,) = render_gitignore(ctx)
    assert art.managed and art.content.splitlines()[-1] == "/monitoring/reports/"
