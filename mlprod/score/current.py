"""Currency by content: what `generate` would write now, compared with the files on disk.

`score` renders every artifact in memory with the engine `generate --check` uses (the
same units, headers and validation, no notebook schema check, no data library) and
compares each with its file. The manifest is a cache for `generate`; it proves nothing
here. The render also gives the suite's fingerprint and each concern's node ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlprod.errors import MlprodError


@dataclass(frozen=True)
class Rendered:
    """One generated file (or managed block) and how the disk compares with it."""

    path: str
    concern: str | None
    kind: str
    managed: bool
    state: str  # "ok", "missing" or "edited"


@dataclass
class Render:
    """The in-memory render of a project: files, suite fingerprint and node ids."""

    files: list[Rendered] = field(default_factory=list)
    fingerprint: str = ""
    node_ids: dict[str, list[str]] = field(default_factory=dict)
    problem: str = ""  # why nothing could be rendered ("" when it could)

    def for_concern(self, concern: str) -> list[Rendered]:
        return [f for f in self.files if f.concern == concern]


def _state(pd: Any, art: Any, text: str) -> str:
    """ "ok", "missing" or "edited": the file on disk (read through the folder handles of
    `pd`, a `generator.writer.ProjectDir`, never through a symlink) against `text`."""
    from mlprod.generator import writer
    from mlprod.generator.headers import block_markers

    try:
        writer.check_rel_path(art.path)
        old = pd.read_text(art.path)
    except (MlprodError, ValueError):
        return "edited"  # a symlink or a folder where the file belongs
    if old is None:
        return "missing"
    if not art.managed:
        return "ok" if writer.lf(old) == text else "edited"
    start, end = block_markers(art.kind)
    try:
        span = writer.find_block(old, start, end)
    except ValueError:
        return "edited"
    if span is None:
        return "missing"
    return "ok" if writer.lf(writer.block_text(old, span)) == text else "edited"


def render_project(loaded: Any) -> Render:
    """Render the spec `loaded` (a `LoadedSpec`) in memory and compare with its folder."""
    from mlprod.generator.base import Context
    from mlprod.generator.engine import finish, render_artifacts
    from mlprod.generator.units.suites import suite_summary

    root = loaded.root
    ctx = Context.of(loaded)
    try:
        artifacts = render_artifacts(ctx)
        finished = [(art, finish(art, ctx, notebooks=False)) for art in artifacts]
    except MlprodError as exc:
        return Render(problem=f"`mlprod generate` cannot render this spec: {exc}")
    from mlprod.generator.writer import ProjectDir

    out = Render()
    with ProjectDir(root) as pd:
        for art, text in finished:
            state = _state(pd, art, text)
            out.files.append(Rendered(art.path, art.concern, art.kind.value, art.managed, state))
    suite = suite_summary(ctx, loaded.text, finished)
    if suite is not None:
        out.fingerprint = suite["fingerprint"]
        out.node_ids = {c: list(ids) for c, ids in suite["tests"].items()}
    return out
