"""What renderer units produce and receive. Units are pure: spec in, artifacts out.

A unit is a function `(ctx: Context) -> list[Artifact]` registered with `@unit("name")`.
The engine (`engine.py`) adds the generated-file header, validates every artifact
(`ast.parse`, YAML re-parse, `nbformat.validate`), records the manifest and writes safely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mlprod.schema.models import Spec


class Kind(StrEnum):
    """How an artifact is validated and how its header is written."""

    PYTHON = "python"  # header: '#' comment lines; checked with ast.parse
    YAML = "yaml"  # header: '#' comment lines; re-parsed with yaml.safe_load
    MARKDOWN = "markdown"  # header: an HTML comment (after YAML front matter, if any)
    NOTEBOOK = "notebook"  # header: in notebook metadata; checked with nbformat.validate
    TEXT = "text"  # header: '#' comment lines (CODEOWNERS, .gitignore)
    SVG = "svg"  # header: an XML comment


@dataclass(frozen=True)
class Artifact:
    """One file (or one managed block inside a user-owned file) to write.

    `content` is the body without the generated-file header; the engine adds it.
    With `managed=True`, `content` is the body of the `# >>> mlprod` ... `# <<< mlprod`
    block, and the rest of the file belongs to the user.
    """

    path: str  # relative POSIX path under the project root
    content: str
    kind: Kind
    concern: str | None = None  # the rubric concern this file serves (tests, notebooks)
    managed: bool = False


@dataclass(frozen=True)
class Context:
    """What every unit receives."""

    spec: Spec
    spec_sha256: str
    version: str  # the mlprod version generating
    root: Path  # the project root (the spec's folder); units must not read user code
    spec_file: str = "mlprod.yaml"  # the spec's path relative to the root

    @classmethod
    def of(cls, loaded: Any) -> Context:
        """The context of a loaded spec (`mlprod.schema.LoadedSpec`), for this mlprod version;
        `generate` and `score` (which re-renders in memory) build it the same way."""
        from mlprod import __version__

        return cls(loaded.spec, loaded.sha256, __version__, loaded.root, loaded.path.name)


UnitFn = Callable[[Context], list[Artifact]]
UNITS: dict[str, UnitFn] = {}


def unit(name: str) -> Callable[[UnitFn], UnitFn]:
    """Register a renderer unit under `name` (one module per artifact family)."""

    def deco(fn: UnitFn) -> UnitFn:
        if name in UNITS and UNITS[name] is not fn:
            raise ValueError(f"renderer unit {name!r} registered twice")
        UNITS[name] = fn
        return fn

    return deco
