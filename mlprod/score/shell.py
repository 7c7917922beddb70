"""Read a CI job's shell as the shell would: which pytest runs it makes, and whether a
failing pytest fails the job.

The rule (docs/score.md, "CI that can fail"): pytest's non-zero exit must reach the job's
exit status. A run is *masked* when something in the block hides it: `||` after it (except
mlprod's own `|| touch F` followed by a later `test ! -e F`), a pipe without `pipefail`,
`&` (background), `!`, `&&` after it on a line that is not the block's last (`bash -e`
ignores a failure before `&&`), `set +e` or an `exit` before it, or a selection that leaves
generated tests out (`-k`, `-m`, `--deselect`, the same in `PYTEST_ADDOPTS`).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch

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
    "--co", "--collect-only", "--setup-plan", "--setup-only", "--cache-show", "--fixtures",
    "--fixtures-per-test", "--markers", "-h", "--help", "--version", "-V",
}  # fmt: skip
#: pytest options whose value is a separate argument (the value is not a path to collect)
_VALUE_OPTS = {
    "-k", "-m", "-p", "-c", "-o", "-W", "-n", "-r", "--rootdir", "--confcutdir", "--basetemp",
    "--junitxml", "--junit-xml", "--junit-prefix", "--log-file", "--maxfail", "--tb", "--durations",
    "--cov-config", "--html", "--report-log", "--capture", "--import-mode", "--numprocesses",
    "--dist", "--override-ini", "--config-file", "--cov-report", "--timeout", "--reruns",
}  # fmt: skip
_IGNORE_OPTS = {"--ignore", "--deselect", "--ignore-glob"}
#: options that leave generated tests out or stop the run from being recorded
_SELECTING = {"-k", "-m", "--deselect", "--noconftest", "--lf", "--last-failed", "--sw", "--stepwise"}
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"}
#: where CI checks the repository out: its top
_WORKSPACE = re.compile(
    r"\$\{\{\s*github\.workspace\s*\}\}|\$\{?(GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?(?![A-Za-z0-9_])"
)
_VAR = re.compile(
    r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


@dataclass(frozen=True)
class PytestRun:
    """One pytest invocation in a CI job: what it collects and, when masked, why its
    failure cannot fail the job (`mask`, "" when it can), with its line in the CI file."""

    targets: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    ignored_globs: tuple[str, ...] = ()
    mask: str = ""
    line: int = 0

    def covers(self, file: str, tests_dir: str) -> bool:
        """Does this invocation collect `file`, by an argument inside `tests_dir`?"""
        if any(_under(file, i) for i in self.ignored) or any(fnmatch(file, g) for g in self.ignored_globs):
            return False
        paths = (t.split("::", 1)[0] for t in self.targets)  # a node id runs (part of) its file
        return any(_under(p, tests_dir) and _under(file, p) for p in paths)


def _under(path: str, folder: str) -> bool:
    """`path` is `folder` or inside it (both plain paths, no `::node`)."""
    return path == folder or path.startswith(folder + "/")


def expand(text: str, env: dict[str, str]) -> str:
    """`$X`, `${X}`, `${{ env.X }}` from `env`; the checkout's variables as `.`."""
    text = _WORKSPACE.sub(".", text)

    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return _WORKSPACE.sub(".", env[name]) if name in env else m.group(0)

    return _VAR.sub(value, text)


def resolve(cwd: str | None, path: str) -> str | None:
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


def _override(args: list[str], i: int) -> str | None:
    """The `name=value` of an `-o`/`--override-ini` at `args[i]`, None when it is not one."""
    arg = args[i]
    if arg in ("-o", "--override-ini"):
        return args[i + 1] if i + 1 < len(args) else ""
    if arg.startswith("--override-ini="):
        return arg.partition("=")[2]
    if arg.startswith("-o") and not arg.startswith("--"):
        return arg[2:]
    return None


def selection_problem(args: list[str]) -> str:
    """'' unless the pytest arguments may leave generated tests out: then the construct."""
    for i, arg in enumerate(args):
        name = arg.partition("=")[0]
        if arg in _NO_RUN:
            return f"`{arg}` runs no test"
        plugin = (
            arg[2:]
            if arg.startswith("-p") and arg != "-p"
            else args[i + 1]
            if arg == "-p" and i + 1 < len(args)
            else ""
        )
        if plugin and not plugin.startswith("no:"):
            return f"`-p {plugin}` loads a plugin that can change any test's outcome"
        ini = _override(args, i)
        key, _, opts = (ini or "").partition("=")
        if key.strip() == "addopts" and selection_problem(split_words(opts)):
            return f"`-o {ini}` sets addopts: {selection_problem(split_words(opts))}"
        if key.strip() in ("python_files", "python_functions", "python_classes"):
            return f"`-o {ini}` changes which tests pytest collects"
        short = next((s for s in ("-k", "-m") if arg.startswith(s) and arg != s and name == arg), None)
        if name in _SELECTING or short:
            value = arg if ("=" in arg or short) else f"{arg} {args[i + 1] if i + 1 < len(args) else ''}"
            return f"`{value.strip()}` selects a subset of the generated tests"
    return ""


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
                resolved = resolve(cwd, value)
                if resolved:
                    globs.append(resolved)
            elif name == "--ignore" or "::" not in value:  # a deselected node leaves its file
                resolved = resolve(cwd, value)
                if resolved:
                    ignored.append(resolved)
        elif arg in _VALUE_OPTS:
            i += 1
        elif arg.startswith(">") or arg.startswith("<") or arg in (">&", "<&"):
            i += 1  # a redirection's target
        elif not arg.startswith("-"):
            resolved = resolve(cwd, arg)
            if resolved:
                targets.append(resolved)
    return PytestRun(tuple(targets), tuple(ignored), tuple(globs), mask=selection_problem(args))


def split_words(line: str) -> list[str]:
    """Shell words and operators of one line (quotes removed)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes
        return line.split()


def block_lines(text: str, first_line: int) -> list[tuple[str, int]]:
    """The logical lines of a shell block (continuations joined) with their file line numbers."""
    out: list[tuple[str, int]] = []
    pending, start = "", first_line
    for i, raw in enumerate(text.replace("\r\n", "\n").split("\n")):
        if not pending:
            start = first_line + i if first_line else 0
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        out.append((pending + raw, start))
        pending = ""
    if pending:
        out.append((pending, start))
    return out


@dataclass
class _Shell:
    """The state of one shell while reading its block."""

    env: dict[str, str]
    cwd: str | None
    pipefail: bool
    pipefail_note: str
    errexit: bool = True
    errexit_note: str = "`set +e` before pytest lets the job go on after a failure"
    exited: str = ""  # the `exit` line that ends the block ("" before any)
    trap: str = ""  # a `trap` whose `exit` on EXIT or ERR sets the block's exit status
    runs: list[PytestRun] = field(default_factory=list)
    touched: dict[int, str] = field(default_factory=dict)  # run index -> F of its `|| touch F`
    checked: set[str] = field(default_factory=set)  # files a later `test ! -e F` fails on


def _commands(words: list[str]) -> list[tuple[str, list[str], str]]:
    """(operator before, command words, operator after) for each simple command of a line.

    A subshell `( ... )` is one command for what follows it: its commands take the operator
    after `)` when it is `||`, `&&`, `|` or `&`, and a `!` before `(` negates them. The
    commands of a substitution `$( ... )` get `$(` as their operator after.
    """
    out: list[tuple[str, list[str], str]] = []
    before = ""
    command: list[str] = []
    groups: list[tuple[int, str, list[str], str]] = []  # open: (first command, kind, outer words, before)
    closed: tuple[int, str] | None = None  # a subshell just closed, waiting for its operator
    for word in [*words, ";"]:
        if word == "(":
            if command and command[-1] == "$":  # a substitution inside the command
                groups.append((len(out), "$", command[:-1], before))
                before, command = "", []
            else:
                groups.append((len(out), "!" if command == ["!"] else "", [], before))
                command = []
            continue
        if word == ")" and groups:
            if command:
                out.append((before, command, ")"))
            start, kind, outer, outer_before = groups.pop()
            if kind == "$":
                out[start:] = [(b, c, "$(") for b, c, _ in out[start:]]
                before, command = outer_before, [*outer, "$(...)"]
            else:
                closed, before, command = (start, kind), outer_before, []
            continue
        if word not in _OPERATORS:
            command.append(word)
            continue
        if closed is not None:
            start, kind = closed
            closed = None
            masking = word in ("||", "&&", "|", "|&", "&")
            out[start:] = [
                (b, ["!", *c] if kind == "!" else c, word if masking and a in (";", ")", "&&") else a)
                for b, c, a in out[start:]
            ]
        if command:
            out.append((before, command, word))
        before, command = word, []
    return out


def _set(state: _Shell, args: list[str]) -> None:
    for i, arg in enumerate(args):
        if len(arg) > 1 and arg[0] in "-+" and arg[1:].isalpha():
            on = arg[0] == "-"
            if "e" in arg:
                state.errexit = on
                state.errexit_note = "`set +e` before pytest lets the job go on after a failure"
            if "o" in arg and i + 1 < len(args) and args[i + 1] == "pipefail":
                state.pipefail = on


def _masked(
    before: str,
    command: list[str],
    after: str,
    rest: list[tuple[str, list[str], str]],
    *,
    last_line: bool,
    state: _Shell,
) -> str:
    """Why this pytest command's failure does not fail the job ('' when it does)."""
    if state.exited:
        return f"`{state.exited}` before pytest ends the job first"
    if not state.errexit:
        return state.errexit_note
    if command[0] == "!":
        return "`!` before pytest inverts its exit status"
    if before == "|" or before == "|&":
        return ""  # the last command of a pipe: its status is the pipe's
    if after == "||":
        follow = " ".join(rest[0][1]) if rest else ""
        return f"`|| {follow}` after pytest hides its exit status"
    if after in ("|", "|&") and not state.pipefail:
        follow = " ".join(rest[0][1]) if rest else ""
        return f"`| {follow}` without `set -o pipefail` hides pytest's exit status ({state.pipefail_note})"
    if after == "&":
        return "`&` runs pytest in the background; its exit status is never read"
    if after == "$(":
        return "pytest inside `$( )`: the command's exit status is not pytest's"
    if after == "&&" and not last_line:
        return "`&&` after pytest: `bash -e` ignores a failure before `&&` on a line that is not the last"
    return ""


def shell_runs(
    lines: list[tuple[str, int]],
    env: dict[str, str],
    cwd: str | None = ".",
    *,
    pipefail: bool = False,
    pipefail_note: str = "the shell has no pipefail",
    errexit: str = "",
) -> tuple[list[PytestRun], str | None]:
    """The pytest runs of a shell block (one `run:` or a job's script), and the final folder.

    `errexit`: "" when the shell starts with `-e`, else why it has none (the mask of a
    pytest run a failure does not stop). `cd DIR` moves the folder for the rest of the
    block; a `cd` mlprod cannot follow (no argument, `-`, a variable) makes it unknown,
    and later paths are not counted.
    """
    state = _Shell(dict(env), cwd, pipefail, pipefail_note)
    if errexit:
        state.errexit, state.errexit_note = False, errexit
    nonempty = [i for i, (text, _) in enumerate(lines) if text.strip() and not text.strip().startswith("#")]
    for index, (text, line) in enumerate(lines):
        commands = _commands(split_words(expand(text, state.env)))
        for k in range(len(commands)):
            _step(state, commands, k, line, last_line=bool(nonempty) and index == nonempty[-1])
    runs = [
        replace(
            run, mask=f"`|| touch {state.touched[i]}` after pytest with no later `test ! -e` failing on it"
        )
        if i in state.touched and state.touched[i] not in state.checked
        else run
        for i, run in enumerate(state.runs)
    ]
    if state.trap:
        why = f"`{state.trap}` sets the exit status after pytest"
        runs = [run if run.mask else replace(run, mask=why) for run in runs]
    return runs, state.cwd


def _step(
    state: _Shell, commands: list[tuple[str, list[str], str]], k: int, line: int, *, last_line: bool
) -> None:
    before, command, after = commands[k]
    head = command[0]
    if head in ("cd", "pushd"):
        target = command[1] if len(command) > 1 else ""
        state.cwd = None if target in ("", "-") else resolve(state.cwd, target)
    elif head == "popd":
        state.cwd = None
    elif head == "set":
        _set(state, command[1:])
    elif head == "export":
        for word in command[1:]:
            if _ASSIGN.match(word):
                name, _, value = word.partition("=")
                state.env[name] = value
    elif head == "trap" and len(command) > 2:
        signals = {s.upper().removeprefix("SIG") for s in command[2:]}
        action = split_words(command[1])
        if signals & {"EXIT", "0", "ERR"} and "exit" in action and action[-1:] != ["$?"]:
            state.trap = state.trap or " ".join(shlex.quote(w) for w in command)
    elif head == "exit" and before in ("", ";") and after == ";" and not state.exited:
        state.exited = " ".join(command)
    elif head in ("test", "[") and command[1:3] == ["!", "-e"] and len(command) > 3:
        # fails the job on a file an earlier `pytest ... || touch F` wrote: nothing may mask it
        unmasked = all(op != "||" for _, _, op in commands) and state.errexit and not state.exited
        if unmasked and command[3] in state.touched.values():
            state.checked.add(command[3])
    else:
        _pytest_step(state, commands, k, line, last_line=last_line)


def _pytest_step(
    state: _Shell, commands: list[tuple[str, list[str], str]], k: int, line: int, *, last_line: bool
) -> None:
    before, command, after = commands[k]
    negated = command[0] == "!"
    words = command[1:] if negated else command
    args = _pytest_args(words)
    if args is None:
        return
    run = _pytest_run(args, state.cwd)
    if run is None:
        return
    assigned = {w.partition("=")[0]: w.partition("=")[2] for w in words if _ASSIGN.match(w)}
    addopts = assigned.get("PYTEST_ADDOPTS", state.env.get("PYTEST_ADDOPTS", ""))
    rest = commands[k + 1 :]
    # mlprod's own GitLab pattern: `pytest ... || touch F`, then a later `test ! -e F`
    touch = after == "||" and len(rest) == 1 and len(rest[0][1]) == 2 and rest[0][1][0] == "touch"
    plain_after = ";" if touch else after
    mask = run.mask or _masked(before, command, plain_after, rest, last_line=last_line, state=state)
    if not mask and addopts:
        problem = selection_problem(split_words(addopts))
        if problem:
            mask = f"PYTEST_ADDOPTS: {problem}"
    plugins = assigned.get("PYTEST_PLUGINS", state.env.get("PYTEST_PLUGINS", ""))
    if not mask and plugins.strip():
        mask = f"PYTEST_PLUGINS: `{plugins.strip()}` loads a plugin that can change any test's outcome"
    if touch and not mask:
        state.touched[len(state.runs)] = rest[0][1][1]
    state.runs.append(replace(run, mask=mask, line=line))
