"""`generate_project`: spec -> renderer units -> headers -> validation -> ownership -> writes.

Units are discovered by importing every module of `mlprod.generator.units` (each registers
itself with `@unit`). Everything is rendered and validated in memory first; only then, under
`.mlprod/generate.lock`, are files written (see `writer.py`). Output is deterministic: units
run in name order, files are handled in path order, nothing depends on the clock.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mlprod.errors import ExitCode, MlprodError, Problem, SpecError

from . import writer
from .base import UNITS, Artifact, Context, Kind, UnitFn
from .headers import add_header, header_lines, managed_block
from .manifest import (
    MANIFEST_PATH,
    Manifest,
    Owned,
    read_journal,
    read_manifest,
)
from .ownership import apply_actions, folders_of, plan_actions, recover_manifest, refusal
from .report import Action, FileAction, GenerateReport, Mode

if TYPE_CHECKING:  # pragma: no cover
    from mlprod.schema import LoadedSpec
    from mlprod.schema.models import Spec

__all__ = [
    "Action",
    "FileAction",
    "GenerateError",
    "GenerateReport",
    "Mode",
    "PathConflict",
    "check_outputs",
    "finish",
    "generate_project",
    "load_units",
    "render_artifacts",
    "validate_text",
]


class GenerateError(MlprodError):
    """A renderer unit produced something invalid: a bug in mlprod, nothing was written."""

    exit_code = ExitCode.INTERNAL


class PathConflict(GenerateError):
    """Two artifacts at one path, or one artifact at the folder of another."""

    def __init__(self, message: str, paths: tuple[str, ...]) -> None:
        super().__init__(message)
        self.paths = paths


# --- the spec's output paths -----------------------------------------------------------

# Control characters and line breaks: legal in file names, but no way to name a file in a
# CI variable, a .gitignore pattern or a Markdown line, so outputs paths may not use them.
_BAD_PATH_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def model_card_path(spec: Spec) -> str:
    """`outputs.model_card` in its normal form (`./a//b.md` -> `a/b.md`)."""
    return PurePosixPath(spec.outputs.model_card).as_posix()


def check_outputs(spec: Spec, spec_file: str) -> list[tuple[tuple[str, ...], str]]:
    """Problems of the `outputs` paths that no field-level rule sees: (location, message).

    They may not reach into `.mlprod/` (mlprod's own files), and the model card may be
    neither the spec file nor a folder.
    """
    found: list[tuple[tuple[str, ...], str]] = []
    for key in ("tests", "notebooks", "model_card"):
        raw: str = getattr(spec.outputs, key)
        loc = ("outputs", key)
        if _BAD_PATH_CHARS.search(raw):
            found.append((loc, f"{raw!r} contains a control or line-break character; rename it"))
            continue
        # casefold: on macOS and Windows `MLPROD.yaml` and `.MLPROD/` are the same files.
        norm = PurePosixPath(raw).as_posix().casefold()
        if norm == ".mlprod" or norm.startswith(".mlprod/"):
            found.append((loc, f"{raw!r} is inside .mlprod/, which holds mlprod's own manifest"))
        elif key == "model_card" and (norm == "." or raw.endswith("/")):
            found.append((loc, f"{raw!r} names a folder; give a file name such as 'MODEL_CARD.md'"))
        elif key == "model_card" and norm == PurePosixPath(spec_file).as_posix().casefold():
            found.append((loc, f"{raw!r} is the spec file itself; choose another name for the model card"))
    return found


def spec_problems(loaded: LoadedSpec, display: str, found: list[tuple[tuple[str, ...], str]]) -> SpecError:
    """A `SpecError` (exit 2) locating each (location, message) in the spec text."""
    from mlprod.schema.loader import dotted, parse_yaml_text

    try:
        positions = parse_yaml_text(loaded.text, display).positions
    except SpecError:  # pragma: no cover - the text was parsed once already
        positions = None
    problems = []
    for loc, message in found:
        line, col = positions.locate(loc) if positions else (1, 1)
        problems.append(Problem(display, line, col, dotted(loc), message))
    return SpecError(problems)


# --- rendering -------------------------------------------------------------------------


def load_units() -> dict[str, UnitFn]:
    """Import every module of `mlprod.generator.units`; return the registry in name order."""
    from . import units as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(UNITS.items()))


def render_artifacts(ctx: Context, units: dict[str, UnitFn] | None = None) -> list[Artifact]:
    """Run every unit; check paths are safe and unique. Sorted by path."""
    units = load_units() if units is None else units
    owner: dict[str, str] = {}
    artifacts: list[Artifact] = []
    for name, fn in sorted(units.items()):
        try:
            produced = fn(ctx)
        except MlprodError:
            raise
        except Exception as exc:
            raise GenerateError(f"renderer unit {name!r} failed: {type(exc).__name__}: {exc}") from exc
        for art in produced:
            if not isinstance(art, Artifact) or not isinstance(art.content, str):
                raise GenerateError(f"renderer unit {name!r} returned {art!r}, not an Artifact")
            try:
                writer.check_rel_path(art.path)
            except ValueError as exc:
                raise GenerateError(f"renderer unit {name!r}: {exc}") from None
            if art.path == ".mlprod" or art.path.startswith(".mlprod/"):
                raise GenerateError(f"renderer unit {name!r}: {art.path} is reserved for mlprod itself")
            if art.path in owner:
                raise PathConflict(
                    f"{art.path} is produced by both unit {owner[art.path]!r} and {name!r}", (art.path,)
                )
            owner[art.path] = name
            artifacts.append(art)
    for path in sorted(owner):
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in owner:
                raise PathConflict(
                    f"{folder} (unit {owner[folder]!r}) is also the folder of {path} (unit {owner[path]!r})",
                    (folder, path),
                )
    return sorted(artifacts, key=lambda a: a.path)


def validate_text(path: str, kind: Kind, text: str, *, notebooks: bool = True) -> None:
    """Parse the finished file; `GenerateError` naming it when it does not parse.

    `notebooks=False` skips `nbformat.validate` (its import alone costs ~0.1 s); `--check`
    writes nothing, so it only needs the JSON parse the header step already did.
    """
    try:
        if "\r" in text or "\x00" in text:
            raise ValueError("it contains a carriage return or NUL character")
        if kind == Kind.PYTHON:
            ast.parse(text, filename=path)
        elif kind == Kind.YAML:
            import yaml

            yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        elif kind == Kind.NOTEBOOK and notebooks:
            import nbformat

            nbformat.validate(nbformat.reads(text, as_version=4))
        if path.endswith(".json") and kind != Kind.NOTEBOOK:
            json.loads(text)
    except Exception as exc:
        raise GenerateError(
            f"generated file {path} is not valid {kind.value}: {type(exc).__name__}: {exc}; "
            "nothing was written (this is a bug in mlprod)"
        ) from exc


def finish(art: Artifact, ctx: Context, *, notebooks: bool = True) -> str:
    """The exact text to write: the header added, validated (for managed: the whole block)."""
    lines = header_lines(ctx.version, ctx.spec_file, ctx.spec_sha256)
    content = art.content if art.content.endswith("\n") or art.kind == Kind.NOTEBOOK else art.content + "\n"
    if art.managed:
        try:
            text = managed_block(content, art.kind, lines)
        except ValueError as exc:
            raise GenerateError(f"{art.path}: {exc}") from None
        validate_text(art.path, art.kind if art.kind != Kind.NOTEBOOK else Kind.TEXT, text)
        return text
    meta = {"version": ctx.version, "spec": ctx.spec_file, "spec_sha256": ctx.spec_sha256}
    try:
        # JSON has no comments: a .json TEXT file is recorded in the manifest without a header.
        json_text = art.kind == Kind.TEXT and art.path.endswith(".json")
        text = content if json_text else add_header(content, art.kind, lines, meta)
    except ValueError as exc:  # e.g. a notebook that is not JSON
        raise GenerateError(f"generated file {art.path} is not valid {art.kind.value}: {exc}") from None
    validate_text(art.path, art.kind, text, notebooks=notebooks)
    return text


def generate_project(
    spec_path: str | Path = "mlprod.yaml",
    *,
    mode: Mode | str = Mode.WRITE,
    force: bool = False,
    units: dict[str, UnitFn] | None = None,
) -> GenerateReport:
    """Generate every artifact of the spec at `spec_path` into the spec's folder.

    `mode`: "write" writes (raising `RefusedError` when a hand-edited or foreign file is in
    the way, unless `force`); "check" and "dry-run" write nothing and return the report
    (`report.changed`, `report.diff()`, `report.summary()`). Raises `SpecError` for an
    invalid spec and `GenerateError` when a unit renders an invalid file. `units` replaces
    the discovered renderer units (tests).
    """
    from mlprod.generator.units.suites import suite_summary
    from mlprod.schema import load_spec

    from mlprod import __version__

    mode = Mode(mode)
    loaded = load_spec(spec_path)
    root = loaded.root
    ctx = Context.of(loaded)
    found = check_outputs(loaded.spec, ctx.spec_file)
    if found:
        raise spec_problems(loaded, str(spec_path), found)
    try:
        artifacts = render_artifacts(ctx, units)
    except PathConflict as exc:
        card = model_card_path(loaded.spec)
        if card not in exc.paths:
            raise
        raw = loaded.spec.outputs.model_card
        other = [p for p in exc.paths if p != card]
        if other:
            why = f"{raw!r} is the folder of {other[0]}, which mlprod also generates"
            if other[0] == exc.paths[0]:
                why = f"{raw!r} is inside {other[0]}, which mlprod also generates as a file"
        else:
            why = f"{raw!r} is a path mlprod already generates another file at"
        why += "; choose another path for the model card"
        raise spec_problems(loaded, str(spec_path), [(("outputs", "model_card"), why)]) from None
    full = mode != Mode.CHECK
    finished = [(art, finish(art, ctx, notebooks=full)) for art in artifacts]
    suite = suite_summary(ctx, loaded.text, finished)

    def run(pd: writer.ProjectDir) -> GenerateReport:
        notes = []
        old, old_text = read_manifest(root, force=force)
        journal = read_journal(root)
        if mode == Mode.WRITE:
            paths = [
                MANIFEST_PATH,
                *(a.path for a, _ in finished),
                *old.files,
                *(journal.files if journal else ()),
            ]
            removed = pd.clean_stale_temps(folders_of(paths))
            if removed:
                notes.append(writer.stale_note(removed))
            if journal is not None:  # an interrupted run: first record what is on disk now
                old = recover_manifest(pd, old, journal)
                old_text, journal = old.to_text(), None
        actions = plan_actions(pd, finished, Owned(old, journal), force)
        new = Manifest(__version__, ctx.spec_file, ctx.spec_sha256, suite=suite)
        for a in actions:
            if a.entry is not None:
                new.files[a.path] = a.entry
            elif a.action == Action.REFUSE and a.path in old.files:  # stays as it was
                new.files[a.path] = old.files[a.path]
        report = GenerateReport(root, mode, actions, old_text, new.to_text(), notes=notes)
        if mode != Mode.WRITE:
            return report
        if report.refused:
            raise refusal(report)
        if report.changed:
            apply_actions(pd, actions, old, new)
            report.written = True
        return report

    with writer.ProjectDir(root) as pd:
        if mode != Mode.WRITE:
            return run(pd)
        with writer.interruptible(), writer.generate_lock(pd):
            return run(pd)
