"""Reproducibility: hashes against `mlprod.lock`, a pinned requirements lockfile, retraining.

`mlprod.lock` (format in docs/formats.md) is JSON with the mlprod and Python versions,
data set hashes, artifact hashes and the requirements lockfile's hash. `mlprod lock`
writes it with `build_lock` + `write_lock`; the generated tests read it back.
"""

from __future__ import annotations

import glob
import hashlib
import platform
import re
from pathlib import Path
from typing import Any

from .formats import LOCK_FILE, LOCK_FORMAT, diff_locks, file_sha256, read_lock, write_lock
from .results import CheckResult, at_most, is_missing

CONCERN = "reproducibility"

__all__ = [
    "build_lock",
    "check_hashes",
    "check_lock_present",
    "check_lockfile",
    "check_retrain_metric",
    "diff_locks",
    "read_lock",
    "write_lock",
]

# A pip requirement line pinned exactly: name[extras]==version (optionally ; marker, --hash=...).
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s;,*]+(\s*;.*)?$")


def _rel(root: Path, path: str | Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def glob_files(root: Path, pattern: str) -> list[str]:
    """The files a glob data set matches, relative POSIX paths, sorted."""
    return sorted(
        Path(p).relative_to(root).as_posix() for p in glob.glob(str(root / pattern)) if Path(p).is_file()
    )


def files_sha256(files: dict[str, str]) -> str:
    """One sha256 over {path: sha256} of a glob's files (sorted `path<TAB>sha256` lines)."""
    text = "".join(f"{p}\t{h}\n" for p, h in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def build_lock(
    root: str | Path,
    datasets: dict[str, str | Path],
    artifacts: list[str | Path],
    lockfile: str | Path | None = None,
) -> dict[str, Any]:
    """The lock of a project: hashes of each data set and artifact, the lockfile, and versions.

    Paths are stored relative to `root` (POSIX). A missing file raises (mlprod lock refuses).
    """
    import mlprod

    root = Path(root)
    lock: dict[str, Any] = {
        "format": LOCK_FORMAT,
        "mlprod": mlprod.__version__,
        "python": platform.python_version(),
        "datasets": {},
        "artifacts": {},
        "lockfile": None,
    }
    for name, path in sorted(datasets.items()):
        rel = _rel(root, path)
        if glob.has_magic(rel):  # a glob: each file hashed, sorted; one hash over the list
            files = {f: file_sha256(root / f) for f in glob_files(root, rel)}
            if not files:
                raise FileNotFoundError(f"no file matches {rel}")
            lock["datasets"][name] = {"path": rel, "sha256": files_sha256(files), "files": files}
        else:
            lock["datasets"][name] = {"path": rel, "sha256": file_sha256(root / rel)}
    for path in sorted(artifacts, key=str):
        rel = _rel(root, path)
        lock["artifacts"][rel] = file_sha256(root / rel)
    if lockfile is not None:
        rel = _rel(root, lockfile)
        lock["lockfile"] = {"path": rel, "sha256": file_sha256(root / rel)}
    return lock


def check_lock_present(root: str | Path, name: str = LOCK_FILE) -> CheckResult:
    """`mlprod.lock` exists and parses."""
    path = Path(root) / name
    if not path.is_file():
        return CheckResult(
            CONCERN, "lock_present", False, f"{name} is missing: run `mlprod lock`", subject=name
        )
    from mlprod.errors import MlprodError

    try:
        lock = read_lock(path)
    except MlprodError as exc:
        return CheckResult(CONCERN, "lock_present", False, f"{exc.message}: run `mlprod lock`", subject=name)
    n = len(lock["datasets"]) + len(lock["artifacts"])
    return CheckResult(
        CONCERN, "lock_present", True, f"{name} is present and records {n} files", float(n), subject=name
    )


def check_hashes(root: str | Path, lock: dict[str, Any]) -> list[CheckResult]:
    """One result per file recorded in the lock: its current sha256 equals the recorded one."""
    root = Path(root)
    entries: list[tuple[str, str, str | None]] = []  # (label, path, recorded sha)
    for name, entry in sorted(lock.get("datasets", {}).items()):
        entries.append((f"dataset {name}", entry.get("path", ""), entry.get("sha256")))
    for path, sha in sorted(lock.get("artifacts", {}).items()):
        entries.append(("artifact", path, sha))
    if lock.get("lockfile"):
        entries.append(
            ("requirements lockfile", lock["lockfile"].get("path", ""), lock["lockfile"].get("sha256"))
        )
    out = []
    for label, path, recorded in entries:
        details = {"what": label, "recorded": recorded}
        if glob.has_magic(path):
            out.append(_glob_hash(root, label, path, recorded, lock))
            continue
        file = root / path
        if not file.is_file():
            out.append(
                CheckResult(
                    CONCERN,
                    "hash",
                    False,
                    f"{path} ({label}) recorded in mlprod.lock is missing",
                    subject=path,
                    details=details,
                )
            )
            continue
        now = file_sha256(file)
        details["current"] = now
        if now == recorded:
            out.append(
                CheckResult(
                    CONCERN,
                    "hash",
                    True,
                    f"{path} matches mlprod.lock (sha256 {now[:12]})",
                    subject=path,
                    details=details,
                )
            )
        else:
            out.append(
                CheckResult(
                    CONCERN,
                    "hash",
                    False,
                    f"{path} changed since `mlprod lock` (sha256 {now[:12]} != {str(recorded)[:12]}): "
                    "restore it, or run `mlprod lock` if the change is intended",
                    subject=path,
                    details=details,
                )
            )
    return out


def check_python(lock: dict[str, Any], expected: str | None = None) -> CheckResult:
    """The running Python's major.minor equals the locked one (or `expected`, the spec's)."""
    want = expected or ".".join(str(lock.get("python", "")).split(".")[:2])
    have = ".".join(platform.python_version().split(".")[:2])
    ok = bool(want) and have == want
    return CheckResult(
        CONCERN,
        "python",
        ok,
        f"Python {have} {'matches' if ok else 'differs from'} the locked Python {want or 'unknown'}",
        subject="python",
        details={"running": platform.python_version(), "expected": want},
    )


def check_lockfile(path: str | Path, *, name: str | None = None) -> CheckResult:
    """The requirements lockfile exists and pins every requirement with `==` (`name`: shown in messages)."""
    path = Path(path)
    name = name or path.as_posix()
    if not path.is_file():
        return CheckResult(
            CONCERN,
            "lockfile",
            False,
            f"requirements lockfile {name} is missing (e.g. `pip freeze > {path.name}`)",
            subject=name,
        )
    unpinned: list[str] = []
    count = 0
    text = path.read_text(encoding="utf-8", errors="replace")
    # Join backslash continuations (pip-compile writes `pkg==1.0 \` + `--hash=...` lines).
    for raw in text.replace("\\\n", " ").splitlines():
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()  # pip: "#" after whitespace
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):  # options: -r, -c, --index-url, -e (an editable is not pinned)
            if line.startswith(("-e", "--editable")):
                unpinned.append(line)
            continue
        line = re.sub(r"\s+--hash[= ]\S+", "", line).strip()
        count += 1
        if " @ " in line:  # a direct URL reference pins a file, not a version
            if "#sha256=" not in line and "@ git+" in line and not re.search(r"@[0-9a-f]{40}", line):
                unpinned.append(line)
            continue
        if not _PINNED.match(line):
            unpinned.append(line)
    details = {"requirements": count, "unpinned": unpinned}
    if unpinned:
        shown = ", ".join(unpinned[:5]) + (f" and {len(unpinned) - 5} more" if len(unpinned) > 5 else "")
        return CheckResult(
            CONCERN,
            "lockfile",
            False,
            f"{len(unpinned)} requirements in {name} are not pinned with ==: {shown}",
            float(len(unpinned)),
            0.0,
            name,
            details,
        )
    if count == 0:
        return CheckResult(
            CONCERN,
            "lockfile",
            False,
            f"requirements lockfile {name} lists no requirement",
            0.0,
            None,
            name,
            details,
        )
    return CheckResult(
        CONCERN,
        "lockfile",
        True,
        f"all {count} requirements in {name} are pinned with ==",
        0.0,
        0.0,
        name,
        details,
    )


def check_retrain_metric(retrained: float, deployed: float, tolerance: float, metric: str) -> CheckResult:
    """The retrained model's metric is within `tolerance` of the deployed model's (absolute difference)."""
    details = {"metric": metric, "retrained": retrained, "deployed": deployed}
    if is_missing(retrained) or is_missing(deployed):
        return at_most(
            CONCERN,
            "retrain_metric",
            None,
            float(tolerance),
            f"{metric} difference between the retrained and the deployed model",
            subject=metric,
            details=details,
        )
    diff = abs(float(retrained) - float(deployed))
    return at_most(
        CONCERN,
        "retrain_metric",
        diff,
        float(tolerance),
        f"{metric} difference between the retrained ({retrained:.4g}) and the deployed ({deployed:.4g}) "
        "model",
        subject=metric,
        details=details,
    )


def _glob_hash(
    root: Path, label: str, pattern: str, recorded: str | None, lock: dict[str, Any]
) -> CheckResult:
    """A glob data set: the sorted files it matches now, each hashed, against the recorded list."""
    before: dict[str, str] = next(
        (e.get("files", {}) for e in lock.get("datasets", {}).values() if e.get("path") == pattern), {}
    )
    now = {f: file_sha256(root / f) for f in glob_files(root, pattern)}
    combined = files_sha256(now)
    details = {"what": label, "recorded": recorded, "current": combined, "files": len(now)}
    if combined == recorded:
        msg = f"{pattern} ({label}, {len(now)} files) matches mlprod.lock (sha256 {combined[:12]})"
        return CheckResult(CONCERN, "hash", True, msg, subject=pattern, details=details)
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(f for f in set(now) & set(before) if now[f] != before[f])
    parts = [
        f"{what}: {', '.join(fs[:5])}"
        for what, fs in (("added", added), ("removed", removed), ("changed", changed))
        if fs
    ]
    why = "; ".join(parts) or "the recorded file list is missing"
    msg = f"{pattern} ({label}) differs from mlprod.lock ({why}): re-run `mlprod lock` if intended"
    return CheckResult(CONCERN, "hash", False, msg, subject=pattern, details=details)
