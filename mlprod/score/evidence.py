"""Evidence for `mlprod score`: the manifest, git, CI configs and JUnit results.

Each reader returns plain data and never raises for a missing or odd file (a missing
manifest is evidence too); only an unreadable `--results` file is an error, because the
user named it. Nothing here imports pandas, numpy or jinja2: `mlprod score` runs in every
CI job and must start fast.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from fnmatch import fnmatch
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
        if hashlib.sha256(data).hexdigest() == entry.sha256:
            return "ok"
        # git's core.autocrlf checks files out with CRLF endings (Windows): the same content
        if b"\r\n" in data and hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest() == entry.sha256:
            return "ok"
        return "edited"
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
#
# A CI config counts for a test file when an enabled job runs pytest with that file, or a
# folder or node that holds it, as an argument. Paths in commands are resolved the way the
# CI runner resolves them: from the repository top (the checkout), moved by GitHub's
# `working-directory` and by `cd` inside a command block. Paths are compared relative to
# the repository top (to the project root outside git).


@dataclass(frozen=True)
class PytestRun:
    """One pytest invocation in a CI job: its path arguments and the paths it ignores."""

    targets: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    ignored_globs: tuple[str, ...] = ()

    def covers(self, file: str, tests_dir: str) -> bool:
        """Does this invocation collect `file`, by an argument inside `tests_dir`?"""
        if any(_under(file, i) for i in self.ignored) or any(fnmatch(file, g) for g in self.ignored_globs):
            return False
        paths = (t.split("::", 1)[0] for t in self.targets)  # a node id runs (part of) its file
        return any(_under(p, tests_dir) and _under(file, p) for p in paths)


@dataclass(frozen=True)
class CIConfig:
    """A CI config file, the pytest runs of its enabled jobs, whether git tracks it."""

    path: Path
    name: str  # relative to the project root, or to the repository top when it lives there
    runs: tuple[PytestRun, ...]
    tracked: bool
    note: str = ""  # why the config cannot run anything where it is ("" when it can)

    def covers(self, file: str, tests_dir: str) -> bool:
        return not self.note and any(r.covers(file, tests_dir) for r in self.runs)

    @property
    def runs_tests(self) -> bool:
        return not self.note and any(r.targets for r in self.runs)


def _under(path: str, folder: str) -> bool:
    """`path` is `folder` or inside it (both plain paths, no `::node`)."""
    return path == folder or path.startswith(folder + "/")


_PYTEST = {"pytest", "py.test", "pytest.exe"}
_PYTHON = re.compile(r"^(python(\d+(\.\d+)?)?|py|pypy\d*)(\.exe)?$")
_WRAPPERS = {
    "uv", "uvx", "poetry", "pipenv", "pdm", "hatch", "rye", "pixi", "conda", "mamba", "micromamba",
    "coverage", "pipx", "time", "env", "timeout", "xvfb-run", "sudo", "nice", "nohup", "exec",
    "command", "stdbuf", "run",
}  # fmt: skip
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
#: pytest options after which nothing is run
_NO_RUN = {
    "--co", "--collect-only", "--setup-plan", "--fixtures", "--fixtures-per-test", "--markers",
    "-h", "--help", "--version", "-V",
}  # fmt: skip
#: pytest options whose value is a separate argument (the value is not a path to collect)
_VALUE_OPTS = {
    "-k", "-m", "-p", "-c", "-o", "-W", "-n", "-r", "--rootdir", "--confcutdir", "--basetemp",
    "--junitxml", "--junit-xml", "--junit-prefix", "--log-file", "--maxfail", "--tb", "--durations",
    "--cov-config", "--html", "--report-log", "--capture", "--import-mode", "--numprocesses",
    "--dist", "--override-ini", "--config-file", "--cov-report", "--timeout", "--reruns",
}  # fmt: skip
_IGNORE_OPTS = {"--ignore", "--deselect", "--ignore-glob"}
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"}
#: where CI checks the repository out: its top
_WORKSPACE = re.compile(
    r"\$\{\{\s*github\.workspace\s*\}\}|\$\{?(GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?(?![A-Za-z0-9_])"
)
_VAR = re.compile(
    r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def _expand(text: str, env: dict[str, str]) -> str:
    text = _WORKSPACE.sub(".", text)

    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return _WORKSPACE.sub(".", env[name]) if name in env else m.group(0)

    return _VAR.sub(value, text)


def _resolve(cwd: str | None, path: str) -> str | None:
    """`path` as the runner sees it from `cwd`, relative to the checkout; None when unknown."""
    if cwd is None or not path or path.startswith(("/", "~", "$")) or "\0" in path:
        return None
    node = ""
    if "::" in path:
        path, node = path.split("::", 1)
        node = "::" + node
    joined = posixpath.normpath(posixpath.join(cwd, path))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined + node


def _pytest_args(words: list[str]) -> list[str] | None:
    """The arguments given to pytest by one simple shell command, or None if it is not pytest."""
    i = 0
    while i < len(words) and _ASSIGN.match(words[i]):
        i += 1
    if i == len(words):
        return None
    first = posixpath.basename(words[i])
    if first in _PYTEST:
        return words[i + 1 :]
    if _PYTHON.match(first):
        return _python_m(words, i + 1)
    if first in _WRAPPERS:  # uv run / timeout 600 / coverage run -m / env X=1 ...
        for j in range(i + 1, len(words)):
            word = posixpath.basename(words[j])
            if word in _PYTEST:
                return words[j + 1 :]
            if words[j] == "-m" and j + 1 < len(words):
                return words[j + 2 :] if words[j + 1] == "pytest" else None
            if _PYTHON.match(word):
                return _python_m(words, j + 1)
    return None


def _python_m(words: list[str], i: int) -> list[str] | None:
    while i < len(words):
        word = words[i]
        if word == "-m":
            return words[i + 2 :] if i + 1 < len(words) and words[i + 1] == "pytest" else None
        if word == "-mpytest":
            return words[i + 1 :]
        if word == "-c" or not word.startswith("-"):  # code or a script, not pytest
            return None
        i += 2 if word in ("-X", "-W") else 1
    return None


def _pytest_run(args: list[str], cwd: str | None) -> PytestRun | None:
    targets: list[str] = []
    ignored: list[str] = []
    globs: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in _NO_RUN:
            return None
        name, eq, value = arg.partition("=")
        if name in _IGNORE_OPTS:
            if not eq:
                value = args[i] if i < len(args) else ""
                i += 1
            if name == "--ignore-glob":
                resolved = _resolve(cwd, value)
                if resolved:
                    globs.append(resolved)
            elif name == "--ignore" or "::" not in value:  # a deselected node leaves its file
                resolved = _resolve(cwd, value)
                if resolved:
                    ignored.append(resolved)
        elif arg in _VALUE_OPTS:
            i += 1
        elif arg.startswith(">") or arg.startswith("<") or arg in (">&", "<&"):
            i += 1  # a redirection's target
        elif not arg.startswith("-"):
            resolved = _resolve(cwd, arg)
            if resolved:
                targets.append(resolved)
    return PytestRun(tuple(targets), tuple(ignored), tuple(globs))


def _split_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes
        return line.split()


def shell_runs(block: str, env: dict[str, str], cwd: str | None = ".") -> tuple[list[PytestRun], str | None]:
    """The pytest runs of a shell block (one `run:` or a job's script), and the final folder.

    `cd DIR` moves the folder for the rest of the block; a `cd` mlprod cannot follow
    (no argument, `-`, a variable) makes it unknown, and later paths are not counted.
    """
    runs: list[PytestRun] = []
    for line in block.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
        words = _split_words(_expand(line, env))
        command: list[str] = []
        for word in [*words, ";"]:
            if word not in _OPERATORS:
                command.append(word)
                continue
            if command and command[0] in ("cd", "pushd"):
                target = command[1] if len(command) > 1 else ""
                cwd = None if target in ("", "-") else _resolve(cwd, target)
            elif command and command[0] == "popd":
                cwd = None
            elif command:
                args = _pytest_args(command)
                if args is not None:
                    run = _pytest_run(args, cwd)
                    if run is not None:
                        runs.append(run)
            command = []
    return runs, cwd


def _env(value: Any, inherited: dict[str, str]) -> dict[str, str]:
    """`inherited` plus an `env:`/`variables:` mapping (GitLab's `{value: ...}` form included)."""
    out = dict(inherited)
    if isinstance(value, dict):
        for name, val in value.items():
            if isinstance(val, dict):
                val = val.get("value")
            if isinstance(val, str | int | float) and not isinstance(val, bool):
                out[str(name)] = _expand(str(val), inherited)
    return out


def _lines(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, list):  # GitLab allows nested lists (from !reference)
            out += _lines(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            out.append(str(item))
    return out


def _is_false(condition: Any) -> bool:
    """A GitHub `if:` that can never be true (`false`, `${{ false }}`)."""
    if condition is False or condition == 0:
        return True
    if isinstance(condition, str):
        text = condition.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2].strip()
        return text.lower() in ("false", "0")
    return False


_MANUAL_TRIGGERS = {"workflow_dispatch"}


def _github_runs(data: dict[str, Any]) -> list[PytestRun]:
    raw: dict[Any, Any] = data
    on = raw.get("on", raw.get(True))  # YAML 1.1 reads a bare `on` key as True
    if on is not None:
        triggers = set(on) if isinstance(on, dict | list) else {on}
        if triggers and triggers <= _MANUAL_TRIGGERS:
            return []  # started by hand only
    env0 = _env(data.get("env"), {})
    wd0 = _working_dir(data.get("defaults"))
    runs: list[PytestRun] = []
    jobs = data.get("jobs")
    for job in jobs.values() if isinstance(jobs, dict) else []:
        if not isinstance(job, dict) or _is_false(job.get("if")):
            continue
        env1 = _env(job.get("env"), env0)
        wd1 = _working_dir(job.get("defaults")) or wd0
        steps = job.get("steps")
        for step in steps if isinstance(steps, list) else []:
            if (
                not isinstance(step, dict)
                or _is_false(step.get("if"))
                or not isinstance(step.get("run"), str)
            ):
                continue
            env2 = _env(step.get("env"), env1)
            wd = step.get("working-directory") if isinstance(step.get("working-directory"), str) else wd1
            cwd = _resolve(".", _expand(wd, env2)) if wd else "."
            runs += shell_runs(step["run"], env2, cwd)[0]
    return runs


def _working_dir(defaults: Any) -> str | None:
    if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
        value = defaults["run"].get("working-directory")
        return value if isinstance(value, str) else None
    return None


_GITLAB_GLOBALS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script",
}  # fmt: skip


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _extended(data: dict[str, Any], job: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A GitLab job with its `extends:` templates merged in (the job's own keys win)."""
    parents = job.get("extends")
    names = parents if isinstance(parents, list) else [parents] if isinstance(parents, str) else []
    if depth > 10 or not names:
        return job
    merged: dict[str, Any] = {}
    for name in names:
        parent = data.get(name)
        if isinstance(parent, dict):
            merged = _merge(merged, _extended(data, parent, depth + 1))
    return _merge(merged, {k: v for k, v in job.items() if k != "extends"})


def _gitlab_enabled(job: dict[str, Any]) -> bool:
    """False for a job that never runs on its own: `when: manual|never`, or only such rules."""
    if job.get("when") in ("manual", "never"):
        return False
    rules = job.get("rules")
    if isinstance(rules, list) and rules:
        return any(not isinstance(r, dict) or r.get("when") not in ("manual", "never") for r in rules)
    return True


def _gitlab_runs(data: dict[str, Any]) -> list[PytestRun]:
    workflow = data.get("workflow")
    if isinstance(workflow, dict) and not _gitlab_enabled({"rules": workflow.get("rules")}):
        return []
    env0 = _env(data.get("variables"), {})
    default_value = data.get("default")
    default: dict[str, Any] = default_value if isinstance(default_value, dict) else {}
    before = default.get("before_script", data.get("before_script"))
    after = default.get("after_script", data.get("after_script"))
    runs: list[PytestRun] = []
    for name, job in data.items():
        if not isinstance(name, str) or name in _GITLAB_GLOBALS or name.startswith("."):
            continue  # a hidden job (`.name`) runs only through `extends`
        if not isinstance(job, dict):
            continue
        job = _extended(data, job)
        if not _gitlab_enabled(job) or "script" not in job:
            continue
        env = _env(job.get("variables"), env0)
        # before_script and script share one shell; after_script runs in a new one
        main = _lines(job.get("before_script", before)) + _lines(job["script"])
        runs += shell_runs("\n".join(main), env)[0]
        runs += shell_runs("\n".join(_lines(job.get("after_script", after))), env)[0]
    return runs


def config_runs(data: Any) -> list[PytestRun]:
    """The pytest runs of the enabled jobs of a parsed GitHub workflow or GitLab config."""
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("jobs"), dict):
        return _github_runs(data)
    return _gitlab_runs(data)


def _runs_any(runs: list[PytestRun], tests: set[str]) -> bool:
    folders = {posixpath.normpath(t) for t in tests}
    return any(
        r.covers(p, t) for r in runs for t in folders for p in (x.split("::", 1)[0] for x in r.targets)
    )


def command_runs_tests(line: str, tests: set[str], env: dict[str, str]) -> bool:
    """Does one shell line, run at the checkout's top, run pytest over one of the `tests` folders?"""
    return _runs_any(shell_runs(line, env)[0], tests)


def config_runs_tests(data: Any, tests: set[str]) -> bool:
    """Does a parsed GitHub workflow or GitLab config run pytest over one of the `tests` folders?"""
    return _runs_any(config_runs(data), tests)


def _load_yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def find_ci(root: Path, git: GitState) -> list[CIConfig]:
    """GitHub workflows and GitLab configs at the project root and the repository top.

    GitHub reads workflows only at the repository top; a GitLab config elsewhere may be
    included or set as the project's CI file, but its jobs still start at the top.
    """
    in_sub = git.toplevel is not None and git.toplevel.resolve() != root.resolve()
    folders = [root, git.toplevel] if in_sub and git.toplevel is not None else [root]
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
            note = ""
            if in_sub and folder is root and name.startswith(".github/"):
                note = "GitHub runs only workflows at the repository top"
            runs = tuple(config_runs(_load_yaml(file)))
            found.append(CIConfig(path=file, name=name, runs=runs, tracked=name in tracked, note=note))
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
    # a collection error has no classname; its name is the module (`tests.mlprod.test_bias`)
    attrs = ("file", "classname") if case.get("classname") else ("file", "name")
    for attr in attrs:
        match = _CONCERN_IN_NAME.search(case.get(attr) or "")
        if match:
            return match.group(1)
    return None


def read_results(path: Path) -> tuple[dict[str, TestCounts], int]:
    """Per-concern test counts from a pytest JUnit XML file, and the count of unmapped cases.

    Raises `UsageError` when the file is missing or not JUnit XML.
    """
    counts, unmapped = read_results_detail(path)
    return counts, unmapped.passed + unmapped.failed + unmapped.skipped


def read_results_detail(path: Path) -> tuple[dict[str, TestCounts], TestCounts]:
    """Like `read_results`, with the outcomes (and failed names) of the unmapped cases."""
    import xml.etree.ElementTree as ET

    counts: dict[str, TestCounts] = {}
    unmapped = TestCounts()
    stack: list[Any] = []
    try:
        # streamed: a results file of a large suite can be hundreds of megabytes
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if not stack and elem.tag not in ("testsuites", "testsuite"):
                    raise UsageError(f"results file {path} is not JUnit XML (root element <{elem.tag}>)")
                stack.append(elem)
                continue
            stack.pop()
            if elem.tag != "testcase":
                continue
            concern = _case_concern(elem)
            c = unmapped if concern is None else counts.setdefault(concern, TestCounts())
            if elem.find("failure") is not None or elem.find("error") is not None:
                c.failed += 1
                c.failures.append(f"{elem.get('classname', '')}::{elem.get('name', '')}".lstrip(":"))
            elif elem.find("skipped") is not None:
                c.skipped += 1
            else:
                c.passed += 1
            if stack:  # drop the finished case: memory stays flat
                stack[-1].remove(elem)
    except FileNotFoundError:
        raise UsageError(
            f"results file {path} not found", hint="run pytest with --junitxml=PATH first"
        ) from None
    except (OSError, ET.ParseError) as exc:
        raise UsageError(f"results file {path} is not readable JUnit XML: {exc}") from None
    return counts, unmapped
