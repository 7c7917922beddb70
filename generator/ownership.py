"""Ownership and the write phase of `generate`: what to do with each path, then doing it.

`plan_actions` decides per path (create, update, unchanged, remove, leave, refuse) from
the file on disk and what mlprod recorded (`Owned`: the manifest and, after an
interrupted run, the journal). `apply_actions` writes: all temporary files, the journal,
then each replace, the manifest last (see `writer.py` for the folder handles).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from mlprod.errors import MlprodError, RefusedError

from . import guard, writer
from .base import Artifact, Kind
from .headers import block_markers
from .manifest import JOURNAL_PATH, MANIFEST_PATH, Entry, Manifest, Owned, sha256_text
from .report import Action, FileAction, GenerateReport

# --- ownership -------------------------------------------------------------------------


def _plan_file(pd: writer.ProjectDir, art: Artifact, text: str, owned: Owned, force: bool) -> FileAction:
    old = pd.read_text(art.path)
    entry = Entry(art.path, sha256_text(text), art.kind.value, art.concern, art.managed)
    known = bool(owned.entries(art.path))
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
        if owned.matches(art.path, sha256_text(current), managed=True):
            return FileAction(art.path, Action.UPDATE, "", old, new, entry)
        why = "its mlprod block was edited by hand" if known else "it has an unrecorded mlprod block"
        if force:
            return FileAction(art.path, Action.UPDATE, f"{why}; overwritten (--force)", old, new, entry)
        return FileAction(art.path, Action.REFUSE, why, old, new)
    if old is None:
        return FileAction(art.path, Action.CREATE, "was missing" if known else "", None, text, entry)
    # A checkout with CRLF line endings (git's autocrlf on Windows) holds the same file:
    # git stores it with `\n`, so it is neither stale nor edited by hand.
    if writer.lf(old) == text:
        return FileAction(art.path, Action.UNCHANGED, "", old, old, entry)
    if owned.matches(art.path, sha256_text(writer.lf(old)), managed=False):
        return FileAction(art.path, Action.UPDATE, "", old, text, entry)
    why = "edited by hand since mlprod generated it" if known else "exists; mlprod did not generate it"
    if force:
        return FileAction(art.path, Action.UPDATE, f"{why}; overwritten (--force)", old, text, entry)
    return FileAction(art.path, Action.REFUSE, why, old, text)


def _plan_orphan(pd: writer.ProjectDir, path: str, owned: Owned) -> FileAction | None:
    """A file mlprod generated before (or was generating when killed) that no unit produces now."""
    try:
        writer.check_rel_path(path)
    except ValueError as exc:
        raise RefusedError(f"{MANIFEST_PATH} lists an unsafe path: {exc}") from None
    old = pd.read_text(path)
    if old is None:
        return None
    entry = owned.entries(path)[0]
    if not entry.managed:
        if owned.matches(path, sha256_text(writer.lf(old)), managed=False):
            return FileAction(path, Action.REMOVE, "no longer generated", old, None)
        return FileAction(path, Action.LEAVE, "no longer generated, but edited by hand", old, old)
    try:
        start, end = block_markers(Kind(entry.kind))
        span = writer.find_block(old, start, end)
    except ValueError:
        why = "no longer generated; its block markers are damaged"
        return FileAction(path, Action.LEAVE, why, old, old)
    if span is None:
        return None
    if not owned.matches(path, sha256_text(writer.lf(writer.block_text(old, span))), managed=True):
        why = "no longer generated, but its block was edited by hand"
        return FileAction(path, Action.LEAVE, why, old, old)
    rest = writer.remove_block(old, span)
    return FileAction(path, Action.REMOVE, "mlprod block removed", old, rest if rest.strip() else None)


def plan_actions(
    pd: writer.ProjectDir, finished: list[tuple[Artifact, str]], owned: Owned, force: bool
) -> list[FileAction]:
    """What to do with every generated path and every path generated before. Path order."""
    actions = [_plan_file(pd, art, text, owned, force) for art, text in finished]
    produced = {art.path for art, _ in finished}
    for path in sorted(owned.paths() - produced):
        orphan = _plan_orphan(pd, path, owned)
        if orphan is not None:
            actions.append(orphan)
    return sorted(actions, key=lambda a: a.path)


# --- writing ---------------------------------------------------------------------------


def folders_of(paths: Iterable[str]) -> set[str]:
    """The folders (relative to the root, \"\" for the root) of `paths`."""
    return {p.rsplit("/", 1)[0] if "/" in p else "" for p in paths}


def _check_writable(pd: writer.ProjectDir) -> None:
    if pd.read_only(MANIFEST_PATH):
        raise RefusedError(
            f"{MANIFEST_PATH} is read-only, so mlprod could not record what it writes; nothing was written",
            hint=f"make it writable (chmod u+w {MANIFEST_PATH}) and run `mlprod generate` again",
        )


def _disk_hash(pd: writer.ProjectDir, entry: Entry) -> str | None:
    """The hash of what is on disk at `entry.path`, the way the manifest records it."""
    text = pd.read_text(entry.path)
    if text is None:
        return None
    if not entry.managed:
        return sha256_text(writer.lf(text))
    try:
        span = writer.find_block(text, *block_markers(Kind(entry.kind)))
    except ValueError:
        return None
    return sha256_text(writer.lf(writer.block_text(text, span))) if span is not None else None


def recover_manifest(pd: writer.ProjectDir, old: Manifest, journal: Manifest) -> Manifest:
    """After an interrupted run: the manifest of what is on disk, committed; the journal removed.

    Each path takes its journaled entry when the file holds that content, else its recorded
    one. Folding the journal in before this run writes its own keeps a file replaced by the
    first interrupted run known when a second run is interrupted too.
    """
    _check_writable(pd)
    recovered = Manifest(
        old.mlprod_version or journal.mlprod_version,
        old.spec,
        old.spec_sha256 or journal.spec_sha256,
        suite=old.suite if old.suite is not None else journal.suite,
    )
    for path in sorted(set(old.files) | set(journal.files)):
        try:
            writer.check_rel_path(path)
        except ValueError as exc:
            raise RefusedError(f"{JOURNAL_PATH} lists an unsafe path: {exc}") from None
        mine = journal.files.get(path)
        if mine is not None and _disk_hash(pd, mine) == mine.sha256:
            recovered.files[path] = mine
        elif path in old.files:
            recovered.files[path] = old.files[path]
    pd.write(MANIFEST_PATH, recovered.to_text())
    pd.unlink(JOURNAL_PATH)
    return recovered


def apply_actions(pd: writer.ProjectDir, actions: list[FileAction], old: Manifest, new: Manifest) -> None:
    """Write every change: all temporary files, the journal, then `os.replace` each, manifest last.

    A failure (or SIGTERM/SIGINT) while writing temporary files leaves every target
    untouched. Once the journal (the manifest about to be committed) is written, each
    target is replaced; an interruption there leaves each target old or new, records the
    files already replaced in the manifest, and, should even that fail, the journal still
    tells the next run which contents are mlprod's own.
    """
    todo = [a for a in actions if a.action in (Action.CREATE, Action.UPDATE, Action.REMOVE)]
    _check_writable(pd)
    temps: dict[str, str] = {}
    try:
        for a in todo:
            if a.new is not None:
                temps[a.path] = pd.write_temp(a.path, a.new)
        temps[MANIFEST_PATH] = pd.write_temp(MANIFEST_PATH, new.to_text())
        pd.write(JOURNAL_PATH, new.to_text())
        guard.test_pause("temps")
    except BaseException:
        for path, tmp in temps.items():
            pd.remove_temp(path, tmp)
        with suppress(MlprodError, OSError):
            pd.unlink(JOURNAL_PATH)
        raise
    state = Manifest(new.mlprod_version, new.spec, new.spec_sha256, dict(old.files), suite=new.suite)
    try:
        for i, a in enumerate(todo, 1):
            if a.new is None:
                pd.unlink(a.path)
            else:
                pd.commit(a.path, temps.pop(a.path))
            if a.entry is not None:
                state.files[a.path] = a.entry
            else:
                state.files.pop(a.path, None)
            guard.test_pause(f"replaced:{i}")
        pd.commit(MANIFEST_PATH, temps.pop(MANIFEST_PATH))
        pd.unlink(JOURNAL_PATH)
    except BaseException:
        for path, tmp in temps.items():
            pd.remove_temp(path, tmp)
        with suppress(MlprodError, OSError):  # best effort: the next run knows the replaced files
            pd.write(MANIFEST_PATH, state.to_text())
            pd.unlink(JOURNAL_PATH)  # only once the manifest says exactly what is on disk
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
