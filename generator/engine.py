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
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mlprod.errors import ExitCode, MlprodError, Problem, RefusedError, SpecError

from . import writer
from .base import UNITS, Artifact, Context, Kind, UnitFn
from .headers import add_header, block_markers, header_lines, managed_block
from .manifest import MANIFEST_PATH, Entry, Manifest, read_manifest, sha256_text
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


# --- ownership -------------------------------------------------------------------------


def _plan_file(root: Path, art: Artifact, text: str, old_entry: Entry | None, force: bool) -> FileAction:
    old = writer.read_text(writer.safe_target(root, art.path))
    entry = Entry(art.path, sha256_text(text), art.kind.value, art.concern, art.managed)
    if art.managed:
        start, end = block_markers(art.kind)
        if old is None:
            return FileAction(art.path, Action.CREATE, "", old, text, entry)
        try:
            span = writer.find_block(old, start, end)
        except ValueError as exc:
            return FileAction(art.path, Action.REFUSE, f"{exc}; fix or delete them", old, old)
        if span is None:
            added = writer.splice_block(old, None, text)
            return FileAction(art.path, Action.UPDATE, "mlprod block added", old, added, entry)
        current = writer.lf(writer.block_text(old, span))
        new = writer.splice_block(old, span, text)
        if current == text:
            return FileAction(art.path, Action.UNCHANGED, "", old, old, entry)
        if old_entry is not None and old_entry.managed and old_entry.sha256 == sha256_text(current):
            return FileAction(art.path, Action.UPDATE, "", old, new, entry)
        why = "its mlprod block was edited by hand" if old_entry else "it has an unrecorded mlprod block"
        if force:
            return FileAction(art.path, Action.UPDATE, f"{why}; overwritten (--force)", old, new, entry)
        return FileAction(art.path, Action.REFUSE, why, old, new)
    if old is None:
        return FileAction(art.path, Action.CREATE, "was missing" if old_entry else "", None, text, entry)
    # A checkout with CRLF line endings (git's autocrlf on Windows) holds the same file:
    # git stores it with `\n`, so it is neither stale nor edited by hand.
    if writer.lf(old) == text:
        return FileAction(art.path, Action.UNCHANGED, "", old, old, entry)
    if old_entry is not None and not old_entry.managed and old_entry.sha256 == sha256_text(writer.lf(old)):
        return FileAction(art.path, Action.UPDATE, "", old, text, entry)
    why = "edited by hand since mlprod generated it" if old_entry else "exists; mlprod did not generate it"
    if force:
        return FileAction(art.path, Action.UPDATE, f"{why}; overwritten (--force)", old, text, entry)
    return FileAction(art.path, Action.REFUSE, why, old, text)


def _plan_orphan(root: Path, entry: Entry) -> FileAction | None:
    """A file mlprod generated before that no unit produces any more."""
    try:
        writer.check_rel_path(entry.path)
    except ValueError as exc:
        raise RefusedError(f"{MANIFEST_PATH} lists an unsafe path: {exc}") from None
    old = writer.read_text(writer.safe_target(root, entry.path))
    if old is None:
        return None
    if not entry.managed:
        if sha256_text(writer.lf(old)) == entry.sha256:
            return FileAction(entry.path, Action.REMOVE, "no longer generated", old, None)
        return FileAction(entry.path, Action.LEAVE, "no longer generated, but edited by hand", old, old)
    try:
        start, end = block_markers(Kind(entry.kind))
        span = writer.find_block(old, start, end)
    except ValueError:
        why = "no longer generated; its block markers are damaged"
        return FileAction(entry.path, Action.LEAVE, why, old, old)
    if span is None:
        return None
    if sha256_text(writer.lf(writer.block_text(old, span))) != entry.sha256:
        why = "no longer generated, but its block was edited by hand"
        return FileAction(entry.path, Action.LEAVE, why, old, old)
    rest = writer.remove_block(old, span)
    return FileAction(entry.path, Action.REMOVE, "mlprod block removed", old, rest if rest.strip() else None)


def plan_actions(
    root: Path, finished: list[tuple[Artifact, str]], manifest: Manifest, force: bool
) -> list[FileAction]:
    """What to do with every generated path and every path generated before. Path order."""
    actions = [_plan_file(root, art, text, manifest.files.get(art.path), force) for art, text in finished]
    produced = {art.path for art, _ in finished}
    for path in sorted(set(manifest.files) - produced):
        orphan = _plan_orphan(root, manifest.files[path])
        if orphan is not None:
            actions.append(orphan)
    return sorted(actions, key=lambda a: a.path)


# --- writing ---------------------------------------------------------------------------


def apply_actions(root: Path, actions: list[FileAction], old: Manifest, new: Manifest) -> None:
    """Write every change: all temporary files first, then `os.replace` each, manifest last.

    A failure while writing temporary files leaves every target untouched. A failure while
    replacing leaves each target old or new, and records the files already replaced in
    the manifest so the next run still knows them as its own.
    """
    todo = [a for a in actions if a.action in (Action.CREATE, Action.UPDATE, Action.REMOVE)]
    for folder in sorted({(root / a.path).parent for a in todo} | {root / ".mlprod"}):
        writer.clean_stale_temps(folder)
    temps: dict[str, Path] = {}
    try:
        for a in todo:
            if a.new is not None:
                temps[a.path] = writer.write_temp(root, a.path, a.new)
        temps[MANIFEST_PATH] = writer.write_temp(root, MANIFEST_PATH, new.to_text())
    except BaseException:
        for tmp in temps.values():
            writer.remove_quietly(tmp)
        raise
    state = Manifest(new.mlprod_version, new.spec, new.spec_sha256, dict(old.files), suite=new.suite)
    try:
        for a in todo:
            if a.new is None:
                writer.remove_file(root, a.path)
            else:
                writer.commit_temp(temps.pop(a.path), root, a.path)
            if a.entry is not None:
                state.files[a.path] = a.entry
            else:
                state.files.pop(a.path, None)
        writer.commit_temp(temps.pop(MANIFEST_PATH), root, MANIFEST_PATH)
    except BaseException:
        for tmp in temps.values():
            writer.remove_quietly(tmp)
        with suppress(MlprodError, OSError):  # best effort: the next run knows the replaced files
            writer.commit_temp(writer.write_temp(root, MANIFEST_PATH, state.to_text()), root, MANIFEST_PATH)
        raise


_DAMAGED = "block markers are damaged"


def refusal(report: GenerateReport) -> RefusedError:
    """The error naming every refused file.

    Damaged block markers are refused even with `--force` (mlprod cannot tell which part
    of the file is its own), so the hint only offers `--force` for the other refusals.
    """
    names = "\n".join(f"  {a.path}: {a.reason}" for a in report.refused)
    damaged = [a for a in report.refused if _DAMAGED in a.reason]
    hints = []
    if len(damaged) < len(report.refused):
        hints.append(
            "move your changes out of these files, or run `mlprod generate --force` to overwrite "
            "them (your edits to them are lost)"
        )
    if damaged:
        hints.append(
            "leave exactly one start and one end marker line of the mlprod block in "
            f"{', '.join(a.path for a in damaged)}, or delete them all (--force does not repair them)"
        )
    return RefusedError(
        f"refusing to overwrite {len(report.refused)} file(s) mlprod does not own:\n{names}",
        hint="; ".join(hints),
    )


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
    ctx = Context(
        spec=loaded.spec,
        spec_sha256=loaded.sha256,
        version=__version__,
        root=root,
        spec_file=loaded.path.name,
    )
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

    def run() -> GenerateReport:
        old, old_text = read_manifest(root, force=force)
        actions = plan_actions(root, finished, old, force)
        new = Manifest(__version__, ctx.spec_file, ctx.spec_sha256, suite=suite)
        for a in actions:
            if a.entry is not None:
                new.files[a.path] = a.entry
            elif a.action == Action.REFUSE and a.path in old.files:  # stays as it was
                new.files[a.path] = old.files[a.path]
        report = GenerateReport(root, mode, actions, old_text, new.to_text())
        if mode != Mode.WRITE:
            return report
        if report.refused:
            raise refusal(report)
        if report.changed:
            apply_actions(root, actions, old, new)
            report.written = True
        return report

    if mode != Mode.WRITE:
        return run()
    with writer.generate_lock(root):
        return run()
