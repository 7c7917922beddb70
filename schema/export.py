"""The JSON Schema of `mlprod.yaml`, exported from the pydantic models.

Editors use it through the modeline `# yaml-language-server: $schema=...` to complete and
check the spec. The models stay the authority: cross-field rules and the YAML traps are
only checked by `mlprod validate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("mlprod.schema.json")


def json_schema() -> dict[str, Any]:
    """The spec's JSON Schema (draft 2020-12) as a dict."""
    from .models import Spec

    body = Spec.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mlprod.yaml, spec format version 1",
        "description": "The production checklist of a machine-learning system. "
        "Validate with `mlprod validate`, which also checks cross-field rules.",
        **{k: v for k, v in body.items() if k not in ("title", "description")},
    }


def json_schema_text() -> str:
    """The committed file's exact text: indented, `\\n` endings, trailing newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
