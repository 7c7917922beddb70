"""`.mlprod/manifest.json`: every generated file (or managed block) with its content hash.

Format (sorted by path, deterministic, trailing newline):
{"mlprod_version": str, "spec": "mlprod.yaml", "spec_sha256": str,
 "files": [{"path", "sha256", "kind", "concern", "managed"}],
 "suite": {"fingerprint": str, "tests": {concern: [node ids]}}}
The hash is of the exact bytes written; for a managed block, of the block text including
its marker lines. `suite` (absent when nothing generates tests) is the generated suite's
fingerprint (mlprod.checks.runrecord) and, per concern, the node ids of its tests: what a
run must contain to prove the concern.

The journal `.mlprod/manifest.journal.json` (same format) is the manifest `generate` is
about to commit: written before the first file is replaced, removed after the manifest is.
When a run is killed in between, the next run takes a file whose content matches either
its manifest entry or its journal entry as mlprod's own (`Owned`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlprod.errors import RefusedError

MANIFEST_PATH = ".mlprod/manifest.json"
JOURNAL_PATH = ".mlprod/manifest.journal.json"


def sha256_text(text: str) -> str:
    """Hash of text as written (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str
    kind: str
    concern: str | None
    managed: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "kind": self.kind,
            "concern": self.concern,
            "managed": self.managed,
        }


@dataclass
class Manifest:
    mlprod_version: str = ""
    spec: str = "mlprod.yaml"
    spec_sha256: str = ""
    files: dict[str, Entry] = field(default_factory=dict)
    suite: dict[str, Any] | None = None

    def to_text(self) -> str:
        """The manifest as written: sorted keys and paths, indent 2, trailing newline."""
        data: dict[str, Any] = {
            "mlprod_version": self.mlprod_version,
            "spec": self.spec,
            "spec_sha256": self.spec_sha256,
            "files": [self.files[p].as_dict() for p in sorted(self.files)],
        }
        if self.suite is not None:
            data["suite"] = self.suite
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse_manifest(text: str) -> Manifest:
    """Parse manifest text; raise ValueError when it is not a manifest."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("not an mlprod manifest")
    files: dict[str, Entry] = {}
    for item in data["files"]:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ValueError("a file entry has no path")
        if not isinstance(item.get("sha256"), str):
            raise ValueError(f"{item['path']}: no sha256")
        concern = item.get("concern")
        files[item["path"]] = Entry(
            path=item["path"],
            sha256=item["sha256"],
            kind=str(item.get("kind", "")),
            concern=concern if isinstance(concern, str) else None,
            managed=bool(item.get("managed", False)),
        )
    return Manifest(
        mlprod_version=str(data.get("mlprod_version", "")),
        spec=str(data.get("spec", "mlprod.yaml")),
        spec_sha256=str(data.get("spec_sha256", "")),
        files=files,
        suite=_suite(data.get("suite")),
    )


def _suite(value: object) -> dict[str, Any] | None:
    """The manifest's `suite`, or None when absent or not of its shape."""
    if not isinstance(value, dict) or not isinstance(value.get("fingerprint"), str):
        return None
    tests = value.get("tests")
    if not isinstance(tests, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in tests.values()
    ):
        return None
    return {"fingerprint": value["fingerprint"], "tests": {str(c): list(ids) for c, ids in tests.items()}}


def read_manifest(root: Path, *, force: bool = False) -> tuple[Manifest, str | None]:
    """The manifest under `root` and its text (None when absent).

    A damaged manifest is refused (without it mlprod cannot tell its files from yours),
    unless `force`, which treats it as empty.
    """
    text = _read(root, MANIFEST_PATH)
    if text is None:
        return Manifest(), None
    try:
        return parse_manifest(text), text
    except ValueError as exc:
        if force:
            return Manifest(), text
        raise RefusedError(
            f"{MANIFEST_PATH} is damaged ({exc})",
            hint="restore it from git, or run `mlprod generate --force` to rebuild it",
        ) from None


def _read(root: Path, rel: str) -> str | None:
    """The text of one of mlprod's own files (None when absent); no symlink is followed."""
    from .writer import ProjectDir

    with ProjectDir(root) as pd:
        try:
            data = pd.read_bytes(rel)
        except RefusedError as exc:
            message = exc.message.replace("refusing to write through it", "refusing to follow it")
            raise RefusedError(message) from None
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RefusedError(f"cannot read {rel}: {exc}") from None


def read_journal(root: Path) -> Manifest | None:
    """The manifest an interrupted `generate` was about to commit, or None.

    The journal is written atomically, so a damaged one is not expected; it is ignored
    (mlprod then errs on the side of calling a file hand-edited).
    """
    try:
        text = _read(root, JOURNAL_PATH)
        return parse_manifest(text) if text is not None else None
    except (RefusedError, ValueError):
        return None


@dataclass(frozen=True)
class Owned:
    """What mlprod may call its own at each path: the recorded entry and the journaled one."""

    recorded: Manifest
    journal: Manifest | None = None

    def entries(self, path: str) -> list[Entry]:
        """The entries known for `path` (recorded first)."""
        found = [m.files[path] for m in (self.recorded, self.journal) if m is not None and path in m.files]
        return found

    def matches(self, path: str, sha256: str, *, managed: bool) -> bool:
        """True when `sha256` is the content mlprod recorded or journaled for `path`."""
        return any(e.managed == managed and e.sha256 == sha256 for e in self.entries(path))

    def paths(self) -> set[str]:
        """Every path recorded or journaled."""
        return set(self.recorded.files) | (set(self.journal.files) if self.journal else set())
