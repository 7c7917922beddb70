"""Evidence for `mlprod score`: the manifest, git, CI configs and JUnit results.

Each reader returns plain data and never raises for a missing or odd file (a missing
manifest is evidence too); only an unreadable `--results` file is an error, because the
user named it. Nothing here imports pandas, numpy or jinja2: `mlprod score` runs in every
CI job and must start fast.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlprod import CONCERNS
from mlprod.errors import UsageError

MANIFEST = ".mlprod/manifest.json"

# --- manifest ------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestFile:
    """One generated file (or managed block) as the manifest records it."""

    path: str
    sha256: str
    kind: str
    concern: str | None
    managed: bool


@dataclass(frozen=True)
class Manifest:
    spec_sha256: str
    files: tuple[ManifestFile, ...]
    problem: str = ""  # why the manifest could not be read ("" when it was)

    def for_concern(self, concern: str) -> list[ManifestFile]:
        return [f for f in self.files if f.concern == concern]


def read_manifest(root: Path) -> Manifest | None:
    """The project's `.mlprod/manifest.json`; None when absent; `problem` set when unreadable."""
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = tuple(
            ManifestFile(
                path=str(f["path"]),
                sha256=str(f["sha256"]),
                kind=str(f.get("kind", "")),
                concern=f.get("concern"),
                managed=bool(f.get("managed", False)),
            )
            for f in data["files"]
        )
        return Manifest(spec_sha256=str(data["spec_sha256"]), files=files)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Manifest(spec_sha256="", files=(), problem=f"{MANIFEST} is unreadable ({exc})")


_BLOCK_START = re.compile(r">>> mlprod")
_BLOCK_END = re.compile(r"<<< mlprod")


def _managed_block(text: str) -> str | None:
    """The `>>> mlprod` ... `<<< mlprod` block of a user-owned file, marker lines included."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _BLOCK_START.search(line)), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if _BLOCK_END.search(lines[i])), None)
    if end is None:
        return None
    return "".join(lines[start : end + 1])


def file_state(root: Path, entry: ManifestFile) -> str:
    """'ok', 'missing' or 'edited': does the file on disk still hold what mlprod wrote?"""
    path = root / entry.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "missing"
    if not entry.managed:
        return "ok" if hashlib.sha256(data).hexdigest() == entry.sha256 else "edited"
    block = _managed_block(data.decode("utf-8", errors="replace").replace("\r\n", "\n"))
    if block is None:
        return "missing"
    # The engine hashes the block text; accept it with or without its final newline.
    candidates = {block, block.rstrip("\n"), block.rstrip("\n") + "\n"}
    hashes = {hashlib.sha256(c.encode("utf-8")).hexdigest() for c in candidates}
    return "ok" if entry.sha256 in hashes else "edited"


# --- git -----------------------------------------------------------------------------


@dataclass
class GitState:
    """What git says about the project: tracked files and files with uncommitted changes.

    Paths are relative to the project root (the spec's folder). `reason` says why git
    evidence is unavailable ("" when it is available).
    """

    reason: str = ""
    toplevel: Path | None = None
    prefix: str = ""  # the project root relative to the repository top, "" or "sub/dir/"
    tracked: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)

    @property
    def available(self) -> bool:
        return not self.reason

    def committed(self, path: str) -> bool:
        return path in self.tracked and path not in self.dirty


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=30)


def read_git(root: Path) -> GitState:
    """Tracked and changed files under `root`: three git calls for the whole project."""
    if shutil.which("git") is None:
        return GitState(reason="git is not installed, so nothing can be shown to be committed")
    try:
        top = _git(root, "rev-parse", "--show-toplevel", "--show-prefix")
        if top.returncode != 0:
            if b"dubious ownership" in top.stderr:
                return GitState(reason="git refuses the repository (dubious ownership: see safe.directory)")
            return GitState(reason="the project is not inside a git repository")
        lines = top.stdout.decode("utf-8", errors="replace").splitlines()
        toplevel = Path(lines[0])
        prefix = lines[1] if len(lines) > 1 else ""
        # ls-files lists paths relative to the current folder, limited to it.
        listed = _git(root, "ls-files", "-z")
        # porcelain paths are relative to the repository top, whatever the folder.
        status = _git(
            root, "status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules", "--", "."
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return GitState(reason=f"git could not be run ({exc})")
    if listed.returncode != 0 or status.returncode != 0:
        message = (listed.stderr or status.stderr).decode("utf-8", errors="replace").strip()
        return GitState(reason=f"git failed: {message.splitlines()[0] if message else 'unknown error'}")
    tracked = {p for p in listed.stdout.decode("utf-8", errors="replace").split("\0") if p}
    dirty: set[str] = set()
    entries = status.stdout.decode("utf-8", errors="replace").split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            i += 1  # the next entry is the rename's source path
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
        dirty.add(path)
    return GitState(toplevel=toplevel, prefix=prefix, tracked=tracked, dirty=dirty)


# --- CI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CIConfig:
    """A CI config file, whether it runs pytest over the generated tests, whether git tracks it."""

    path: Path
    name: str  # relative to the project root, or to the repository top when it lives there
    runs_tests: bool
    tracked: bool


_COMMAND_KEYS = {"run", "script", "before_script", "after_script"}
_ENV_KEYS = {"env", "variables"}
_TESTS_VAR = re.compile(r"\$\{\{\s*env\.MLPROD_TESTS\s*\}\}|\$\{MLPROD_TESTS\}|\$MLPROD_TESTS\b")


def _walk(node: Any, commands: list[str], env: dict[str, str]) -> None:
    """Collect command lines (run/script) and env values from a parsed CI config."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _COMMAND_KEYS:
                items = value if isinstance(value, list) else [value]
                commands.extend(str(v) for v in items if isinstance(v, str | int | float))
            elif key in _ENV_KEYS and isinstance(value, dict):
                for name, val in value.items():
                    if isinstance(val, dict):  # GitLab: {value: ..., description: ...}
                        val = val.get("value")
                    if isinstance(val, str):
                        env[str(name)] = val
            _walk(value, commands, env)
    elif isinstance(node, list):
        for item in node:
            _walk(item, commands, env)


def _norm(path: str) -> str:
    path = path.strip().strip("'\"")
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def _covers(token: str, tests: set[str]) -> bool:
    token = _norm(token)
    return any(token == t or token.startswith(t + "/") or token.startswith(t + "::") for t in tests)


def command_runs_tests(line: str, tests: set[str], env: dict[str, str]) -> bool:
    """Does one shell line run pytest over one of the `tests` folders?"""
    if "pytest" not in line:
        return False
    # substitute the tests variable first: `${{ env.MLPROD_TESTS }}` holds spaces
    tests_var = env.get("MLPROD_TESTS", "").strip() or "\0unset"
    line = _TESTS_VAR.sub(lambda _: tests_var, line)
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        tokens = line.split()
    if not any(t == "pytest" or t.endswith("/pytest") for t in tokens):
        return False
    return any(_covers(token, tests) for token in tokens)


def config_runs_tests(data: Any, tests: set[str]) -> bool:
    """Does a parsed GitHub workflow or GitLab config run pytest over the tests folder?"""
    commands: list[str] = []
    env: dict[str, str] = {}
    _walk(data, commands, env)
    for command in commands:
        # one logical shell line per physical line, backslash continuations joined
        for line in command.replace("\\\n", " ").splitlines():
            if command_runs_tests(line, tests, env):
                return True
    return False


def _load_yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def find_ci(root: Path, tests_path: str, git: GitState) -> list[CIConfig]:
    """GitHub workflows and GitLab configs at the project root and the repository top."""
    folders = [root]
    tests = {_norm(tests_path)}
    if git.toplevel is not None and git.toplevel.resolve() != root.resolve():
        folders.append(git.toplevel)
        tests.add(_norm(git.prefix + tests_path))  # a job at the top runs `pytest sub/tests/mlprod`
    found: list[CIConfig] = []
    for folder in folders:
        workflows = folder / ".github" / "workflows"
        files = (
            sorted(workflows.glob("*.yml")) + sorted(workflows.glob("*.yaml")) if workflows.is_dir() else []
        )
        gitlab = folder / ".gitlab-ci.yml"
        if gitlab.is_file():
            files.append(gitlab)
        names = [f.relative_to(folder).as_posix() for f in files]
        if folder is root:
            tracked = {n for n in names if n in git.tracked}
        else:  # configs at the repository top, outside the project folder: one more git call
            tracked = _tracked_at(folder, names)
        for file, name in zip(files, names, strict=True):
            runs = config_runs_tests(_load_yaml(file), tests)
            found.append(CIConfig(path=file, name=name, runs_tests=runs, tracked=name in tracked))
    return found


def _tracked_at(folder: Path, names: list[str]) -> set[str]:
    if not names:
        return set()
    try:
        out = _git(folder, "ls-files", "-z", "--", *names)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {p for p in out.stdout.decode("utf-8", errors="replace").split("\0") if p}


# --- JUnit results ---------------------------------------------------------------------


@dataclass
class TestCounts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)  # names of failed tests

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    def as_dict(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped}


_CONCERN_IN_NAME = re.compile(r"test_(" + "|".join(CONCERNS) + r")(?![A-Za-z0-9_])")


def _case_concern(case: Any) -> str | None:
    for prop in case.iter("property"):
        if prop.get("name") == "mlprod_concern":
            value = prop.get("value")
            return value if value in CONCERNS else None
    for attr in ("file", "classname"):
        match = _CONCERN_IN_NAME.search(case.get(attr) or "")
        if match:
            return match.group(1)
    return None


def read_results(path: Path) -> tuple[dict[str, TestCounts], int]:
    """Per-concern test counts from a pytest JUnit XML file, and the count of unmapped cases.

    Raises `UsageError` when the file is missing or not JUnit XML.
    """
    import xml.etree.ElementTree as ET

    try:
        tree = ET.parse(path)
    except FileNotFoundError:
        raise UsageError(
            f"results file {path} not found", hint="run pytest with --junitxml=PATH first"
        ) from None
    except (OSError, ET.ParseError) as exc:
        raise UsageError(f"results file {path} is not readable JUnit XML: {exc}") from None
    root = tree.getroot()
    if root.tag not in ("testsuites", "testsuite"):
        raise UsageError(f"results file {path} is not JUnit XML (root element <{root.tag}>)")
    counts: dict[str, TestCounts] = {}
    unmapped = 0
    for case in root.iter("testcase"):
        concern = _case_concern(case)
        if concern is None:
            unmapped += 1
            continue
        c = counts.setdefault(concern, TestCounts())
        if case.find("failure") is not None or case.find("error") is not None:
            c.failed += 1
            c.failures.append(f"{case.get('classname', '')}::{case.get('name', '')}".lstrip(":"))
        elif case.find("skipped") is not None:
            c.skipped += 1
        else:
            c.passed += 1
    return counts, unmapped
