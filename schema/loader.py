"""Safe YAML loading that keeps the position of every node.

`safe_load` semantics, plus: duplicate keys are errors; anchors, aliases, tags and merge
keys are refused before anything is expanded; YAML-1.1 surprises (`no`, `1:30`, `012`,
bare dates) are errors with a "quote it" hint; size and depth are capped.

libyaml (`CSafeLoader`) is used when PyYAML was built with it: it scans and composes the
reference spec about 20x faster than the pure-Python loader, which matters for start-up.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlprod.errors import Problem, RefusedError, SpecError, SpecNotFound

from .indent import INDENT_PROBLEMS, misindented_line

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
_STRAY_BREAK = re.compile("[\r\x85\u2028\u2029]")

Loc = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.1 reads these plain words as booleans. `y`/`n` are left alone: PyYAML (and YAML
# 1.2) read them as text, and `y` is a common target column name.
_BOOL_WORDS = re.compile(r"^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
_TRUE_FALSE = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+(\.[0-9_]*)?([eE][-+]?[0-9]+)?$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str"))


@dataclass
class Positions:
    """Line and column (1-based) of every value and key, by location path.

    `raw` keeps the text of plain scalars that YAML turned into something other than a
    string (`1.10` -> 1.1), so messages can quote what the user actually wrote.
    """

    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    raw: dict[Loc, str] = field(default_factory=dict)

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """The position of `loc` (its key when `key`), or of its nearest existing parent."""
        table = self.keys if key else self.values
        if loc in table:
            return table[loc]
        while True:
            if loc in self.values:
                return self.values[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]


@dataclass
class LoadedYaml:
    data: Any
    positions: Positions
    file: str
    text: str


def _mark(node: yaml.Node | yaml.Token) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into plain Python values, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions = Positions()
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: yaml.Node, loc: Loc, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(self.file, line, col, dotted(loc), message))

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.positions.values[loc] = _mark(node)
        if depth > MAX_DEPTH:  # the token pass normally stops this earlier
            self.problem(node, loc, f"nesting deeper than {MAX_DEPTH} levels is not allowed")
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node, loc)

    def mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problem(key_node, loc, "merge keys ('<<') are not allowed; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, loc, "a mapping key must be a plain name, not a list or mapping")
                continue
            # Keys are names: keep the text as written (so `on:` stays "on", not True).
            key = key_node.value
            if key in seen:
                first_line, _ = _mark(seen[key])
                line, _ = _mark(key_node)
                self.problem(
                    key_node,
                    (*loc, key),
                    f"duplicate key {key!r} on lines {first_line} and {line}; keep one",
                )
                continue
            seen[key] = key_node
            self.positions.keys[(*loc, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out

    def scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        text = node.value
        if node.style:  # quoted or block scalar: always a string (plain is None, or "" from libyaml)
            return text
        tag = node.tag
        hint = f'quote it ("{text}") if you mean the text'
        if _BOOL_WORDS.match(text):
            self.problem(node, loc, f"{text!r} is read as a boolean by YAML 1.1; {hint}, or write true/false")
            return text
        if tag == "tag:yaml.org,2002:timestamp":
            self.problem(
                node, loc, f'bare date {text!r} is read as a date object; write it as a string: "{text}"'
            )
            return text
        if _SEXAGESIMAL.match(text):
            self.problem(node, loc, f"{text!r} is read as a base-60 number by YAML 1.1; {hint}")
            return text
        if _LEADING_ZERO.match(text):
            self.problem(
                node, loc, f"{text!r} has a leading zero (octal in YAML 1.1); {hint}, or drop the zero"
            )
            return text
        if tag == "tag:yaml.org,2002:bool" and not _TRUE_FALSE.match(text):
            self.problem(node, loc, f"{text!r} is read as a boolean by YAML 1.1; {hint}")
            return text
        if tag not in _PLAIN_TAGS:  # `<<` as a value, or any other implicit type we do not read
            self.problem(node, loc, f"{text!r} has a special meaning in YAML; {hint}")
            return text
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            self.problem(node, loc, f"YAML cannot read {text!r}; {hint}")
            return text
        if not isinstance(value, str):
            self.positions.raw[loc] = text
        return value


def dotted(loc: Loc) -> str:
    """`('cohorts', 2, 'where', 0, 'op')` -> `cohorts[2].where[0].op`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.isprintable() or part != part.strip():  # a line break, a blank key
            out += f"[{part!r}]"  # stays on one line of output, and visible
        else:
            out += f".{part}" if out else str(part)
    return out


_OPEN = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _refuse_unsafe_tokens(text: str, file: str) -> list[Problem]:
    """Anchors, aliases, tags and deep nesting are refused from the token stream.

    Working on tokens means nothing is composed or expanded first, so a "billion laughs"
    document or a 10 000-deep `[[[[...` costs no more than reading it once.
    """
    problems: list[Problem] = []
    depth = 0
    for token in yaml.scan(text, Loader=_Loader):
        kind = None
        if isinstance(token, yaml.AnchorToken):
            kind = f"anchor '&{token.value}'"
        elif isinstance(token, yaml.AliasToken):
            kind = f"alias '*{token.value}'"
        elif isinstance(token, yaml.TagToken):
            kind = "tag '" + "".join(t for t in token.value if t) + "'"
        elif isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _mark(token)
                problems.append(
                    Problem(file, line, col, "", f"nesting deeper than {MAX_DEPTH} levels is not allowed")
                )
                return problems
        elif isinstance(token, _CLOSE):
            depth -= 1
        if kind:
            line, col = _mark(token)
            problems.append(
                Problem(
                    file, line, col, "", f"{kind} is not allowed in mlprod.yaml; write the value out in full"
                )
            )
    return problems


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        line, col = _line_col(text, exc.position)
        return Problem(
            file, line, col, "", f"character #x{exc.character:04x} is not allowed in YAML; remove it"
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = str(getattr(exc, "problem", None) or exc)
    context = getattr(exc, "context", None)
    if "maximum nesting depth" in problem:  # libyaml >= 0.2.5 (PyYAML 6.0.4) stops deep nesting itself
        return Problem(file, line, col, "", f"nesting deeper than {MAX_DEPTH} levels is not allowed")
    if "single document" in f"{context} {problem}":
        return Problem(
            file, line, col, "", "the file holds several YAML documents ('---'); mlprod.yaml must hold one"
        )
    # A tab in the indentation gives a confusing scanner message; name the tab instead.
    lines = text.split("\n")
    for number in (line, line - 1):
        tab = _TAB_INDENT.match(lines[number - 1]) if 0 < number <= len(lines) else None
        if tab:
            return Problem(
                file, number, tab.end(), "", "a tab character indents this line; YAML needs spaces"
            )
    if any(m in problem for m in INDENT_PROBLEMS):
        broken = misindented_line(lines, line)
        if broken is not None:
            return broken.problem(file, problem)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        context = f"{context} (line {context_mark.line + 1})"
    message = f"{context}: {problem}" if context else problem
    return Problem(file, line, col, "", f"YAML syntax error, {message}")


def parse_yaml_text(text: str | bytes, file: str = "mlprod.yaml") -> LoadedYaml:
    """Parse YAML text with positions; raise `SpecError` with located problems."""
    too_big = f"the file is larger than {MAX_BYTES // 1024} KiB; mlprod.yaml should be a few KiB"
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_BYTES:
            raise SpecError([Problem(file, 1, 1, "", too_big)])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = raw[: exc.start]
            line = before.count(b"\n") + 1
            col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
            message = f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8"
            raise SpecError([Problem(file, line, col, "", message)]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    # YAML counts a lone \r, NEL, LS and PS as line breaks where editors and every other tool
    # see none, so its line numbers would run ahead of the file's: refuse them, located.
    text = text.replace("\r\n", "\n")
    stray = _STRAY_BREAK.search(text)
    if stray:
        line, col = _line_col(text, stray.start())
        name = {
            "\r": "a carriage return (\\r)",
            "\x85": "U+0085 (NEL)",
            "\u2028": "U+2028 (LINE SEPARATOR)",
            "\u2029": "U+2029 (PARAGRAPH SEPARATOR)",
        }[stray.group()]
        message = f"{name} is a line break in YAML but not in most editors; remove it or use a newline"
        raise SpecError([Problem(file, line, col, "", message)])
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SpecError([Problem(file, 1, 1, "", too_big)])
    try:
        problems = _refuse_unsafe_tokens(text, file)
        if problems:
            raise SpecError(problems)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_error(exc, text, file)]) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style):
        raise SpecError([Problem(file, 1, 1, "", "the file is empty; start from `mlprod init`")])
    if not isinstance(node, yaml.MappingNode):
        line, col = _mark(node)
        what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        message = f"the top level is {what}; it must be a mapping of sections (version, project, data, ...)"
        raise SpecError([Problem(file, line, col, "", message)])
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.problems:
        raise SpecError(builder.problems)
    return LoadedYaml(data=data, positions=builder.positions, file=file, text=text)


def read_yaml_file(path: Path, display: str | None = None) -> LoadedYaml:
    """Read and parse a spec file; a missing file is `SpecNotFound` (exit 2)."""
    name = display or path.name
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise SpecNotFound(f"{path} is not a regular file", hint="pass the path of mlprod.yaml")
        if info.st_size > MAX_BYTES:
            too_big = f"the file is larger than {MAX_BYTES // 1024} KiB; mlprod.yaml should be a few KiB"
            raise SpecError([Problem(name, 1, 1, "", too_big)])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecNotFound(f"no spec file at {path}", hint="run `mlprod init` to create one") from None
    except IsADirectoryError:
        raise SpecNotFound(
            f"{path} is a folder, not a spec file", hint="pass the path of mlprod.yaml"
        ) from None
    except NotADirectoryError:  # `file.txt/mlprod.yaml`: a parent is a file
        raise SpecNotFound(f"no spec file at {path}", hint="check the path of mlprod.yaml") from None
    except OSError as exc:  # permission denied, I/O error: exit 3, like every other I/O error
        raise RefusedError(
            f"cannot read {path}: {exc.strerror or exc}",
            hint="check the file's permissions, or pass another path",
        ) from None
    return parse_yaml_text(raw, name)


def to_json_text(data: Any) -> str:
    """The loaded data as JSON, which pydantic's strict mode reads with enum values."""
    return json.dumps(data, allow_nan=True)
