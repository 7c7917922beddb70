"""`mlprod lock`: record data set, artifact and lockfile hashes and the Python version in mlprod.lock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlprod.errors import ExitCode, RefusedError

LOCK_NAME = "mlprod.lock"


def lock(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
) -> int:
    """Record data, artifact and lockfile hashes in mlprod.lock.

    Writes mlprod.lock beside the spec; re-run it to see what changed since the last lock.
    Data sets used only as monitoring data (drift.current, a privacy scan target) are not
    locked unless `datasets.<name>.locked: true`; `locked: false` leaves any data set out.
    """
    from mlprod.checks.reproducibility import build_lock
    from mlprod.generator.locking import unlockable_tables, unlocked_datasets
    from mlprod.generator.units.suites import locked_files
    from mlprod.schema import load_spec

    loaded = load_spec(spec)
    root = loaded.root
    files = locked_files(loaded.spec)
    registry = _registry_paths(loaded.spec)
    artifacts, skipped = [], []
    for path in files["artifacts"]:
        if (root / path).is_file():
            artifacts.append(path)
        elif path in registry:  # a registry version may be absent; the release checks report it
            skipped.append(path)
        else:
            artifacts.append(path)
    required = [*files["datasets"].values(), *artifacts, *([files["lockfile"]] if files["lockfile"] else [])]
    missing = sorted({p for p in required if not _exists(root, p)})
    if missing:
        raise RefusedError(
            f"cannot lock: {len(missing)} file(s) named by the spec do not exist: {', '.join(missing)}",
            hint="create the data and train the model first (in the mlprod examples: python prepare.py)",
        )
    try:
        data = build_lock(root, files["datasets"], artifacts, files["lockfile"])
    except OSError as exc:
        raise RefusedError(f"cannot read the files to lock: {exc}") from exc
    tables = unlockable_tables(loaded.spec)
    if tables:  # recorded, so the lock says what it does not cover and why
        data["not_locked"] = {name: {"reason": why} for name, why in tables.items()}
    changes = _write(root, data)
    n = len(data["datasets"]) + len(data["artifacts"]) + (1 if data.get("lockfile") else 0)
    for path in skipped:
        typer.echo(f"note: {path} does not exist and is not locked", err=True)
    for name, why in tables.items():
        typer.echo(f"not lockable: data set {name} ({why})", err=True)
    left_out = unlocked_datasets(loaded.spec)
    if left_out:
        typer.echo(
            f"not locked (monitoring data, or `locked: false`): {', '.join(left_out)}; "
            "set `datasets.<name>.locked: true` to lock one"
        )
    if not changes:
        typer.echo(f"{LOCK_NAME}: unchanged ({n} files, Python {data['python']}).")
    else:
        typer.echo(f"{LOCK_NAME}: {n} files, Python {data['python']}:")
        for line in changes:
            typer.echo(f"  {line}")
    return ExitCode.OK


def _exists(root: Path, rel: str) -> bool:
    """A file, or a glob matching at least one file."""
    import glob

    if glob.has_magic(rel):
        return any(Path(p).is_file() for p in glob.glob(str(root / rel)))
    return (root / rel).is_file()


def _write(root: Path, data: dict[str, object]) -> list[str]:
    """Write mlprod.lock through the safe writer; what changed since the previous lock.

    `mlprod.lock` beside the spec is mlprod's file by name: a damaged one is replaced (and
    said), but never through a symlink.
    """
    from mlprod.checks.formats import diff_locks, dumps_json, read_lock
    from mlprod.errors import UsageError
    from mlprod.generator import writer

    with writer.ProjectDir(root) as pd:
        exists = pd.read_bytes(LOCK_NAME) is not None
    previous, unreadable = None, None
    if exists:
        try:
            previous = read_lock(root / LOCK_NAME)
        except UsageError as exc:
            unreadable = exc.message
    removed = writer.write_file(root, LOCK_NAME, dumps_json(data), owned=lambda _: True)
    if removed:
        typer.echo(writer.stale_note(removed), err=True)
    if unreadable is not None:
        return [f"replaced the unreadable previous lock ({unreadable})"]
    return diff_locks(previous, data)


def _registry_paths(spec: object) -> set[str]:
    """Artifacts that live in the release registry (the rest of the lock is required)."""
    from pathlib import PurePosixPath

    release = getattr(spec, "release", None)
    if release is None or release.registry is None or not release.registry.path:
        return set()
    base = PurePosixPath(release.registry.path)
    return {str(base / v / "model.joblib") for v in (release.version, release.rollback_to) if v}


def register(app: typer.Typer) -> None:
    app.command("lock", short_help="Record data and artifact hashes.")(lock)
