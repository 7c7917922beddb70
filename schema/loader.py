"""Safe YAML loading that keeps the position of every node.

`safe_load` semantics, plus: duplicate keys are errors; anchors, aliases, tags and merge
keys are refused before anything is expanded; YAML-1.1 surprises (`no`, `1:30`, `012`,
bare dates) are errors with a "quote it" hint; size and depth are capped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlprod.errors import Problem, SpecError, SpecNotFound

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_BOOL_WORDS = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_TRUE_FALSE = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+(\.[0-9_]*)?$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


@dataclass
class Positions:
    """Line and column (1-based) of every value and key, by location path."""

    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """The position of `loc`, or of its nearest existing parent."""
        table = self.keys if key else self.values
        if loc in table:
            return table[loc]
        if loc in self.values:
            return self.values[loc]
        while loc:
            loc = loc[:-1]
            if loc in self.values:
                return self.values[loc]
        return (1, 1)


@dataclass
class LoadedYaml:
    data: Any
    positions: Positions
    file: str
    text: str


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into plain Python values, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions = Positions()
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(self._constructor)

    def problem(self, node: yaml.Node, loc: Loc, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(self.file, line, col, dotted(loc), message))

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.positions.values[loc] = _mark(node)
        if depth > MAX_DEPTH:
            self.problem(node, loc, f"nesting deeper than {MAX_DEPTH} levels is not allowed")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problem(key_node, loc, "merge keys ('<<') are not allowed; write the keys out")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problem(key_node, loc, "a mapping key must be a plain string")
                    continue
                # Keys are names: keep the text as written (so `on:` stays "on", not True).
                key = key_node.value
                if key in seen:
                    first = _mark(seen[key])[0]
                    self.problem(
                        key_node,
                        (*loc, key),
                        f"duplicate key {key!r} (first defined on line {first})",
                    )
                    continue
                seen[key] = key_node
                self.positions.keys[(*loc, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*loc, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node, loc)

    def scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        text = node.value
        if node.style is not None:  # quoted or block scalar: always a string
            return text
        tag = node.tag
        hint = f"quote it (\"{text}\") if you mean the text"
        if _BOOL_WORDS.match(text):
            self.problem(node, loc, f"{text!r} is read as a boolean by YAML 1.1; {hint}, or write true/false")
            return text
        if tag == "tag:yaml.org,2002:timestamp":
            self.problem(node, loc, f"bare date {text!r}: dates must be strings; write \"{text}\"")
            return text
        if _SEXAGESIMAL.match(text):
            self.problem(node, loc, f"{text!r} is read as a base-60 number by YAML 1.1; {hint}")
            return text
        if _LEADING_ZERO.match(text) and not re.match(r"^[-+]?0\.", text):
            self.problem(node, loc, f"{text!r} has a leading zero (read as octal by YAML 1.1); {hint} or drop the zero")
            return text
        if tag == "tag:yaml.org,2002:bool" and not _TRUE_FALSE.match(text):
            self.problem(node, loc, f"{text!r} is read as a boolean by YAML 1.1; {hint}")
            return text
        value = self._constructor.construct_object(node, deep=True)
        return value


def dotted(loc: Loc) -> str:
    """`('cohorts', 2, 'where', 0, 'op')` -> `cohorts[2].where[0].op`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _refuse_unsafe_tokens(text: str, file: str) -> list[Problem]:
    """Anchors, aliases and tags are refused from the token stream, before composing."""
    problems: list[Problem] = []
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        kind = None
        if isinstance(token, yaml.AnchorToken):
            kind = f"anchor '&{token.value}'"
        elif isinstance(token, yaml.AliasToken):
            kind = f"alias '*{token.value}'"
        elif isinstance(token, yaml.TagToken):
            kind = "tag"
        elif isinstance(token, (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
                                yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)):
            depth += 1
            if depth > MAX_DEPTH:
                m = token.start_mark
                problems.append(Problem(file, m.line + 1, m.column + 1, "",
                                        f"nesting deeper than {MAX_DEPTH} levels is not allowed"))
                return problems
        elif isinstance(token, (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)):
            depth -= 1
        if kind:
            m = token.start_mark
            problems.append(
                Problem(file, m.line + 1, m.column + 1, "",
                        f"{kind} is not allowed in mlprod.yaml; write the value out in full")
            )
    return problems


def _yaml_error(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}, {problem}" if context else str(problem)
    if "\\t" in message or "'\\t'" in message or "tab" in message.lower():
        message = "tab characters cannot indent YAML; use spaces"
    elif "expected a single document" in message:
        message = "the file holds several YAML documents ('---'); mlprod.yaml must hold one"
    return Problem(file, line, col, "", f"YAML syntax: {message}")


def parse_yaml_text(text: str | bytes, file: str = "mlprod.yaml") -> LoadedYaml:
    """Parse YAML text with positions; raise `SpecError` with located problems."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise SpecError([Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES // 1024} KiB")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = text[: exc.start]
            line = before.count(b"\n") + 1
            col = exc.start - (before.rfind(b"\n") + 1) + 1
            raise SpecError([Problem(file, line, col, "", "the file is not valid UTF-8 text; save it as UTF-8")]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise SpecError([Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES // 1024} KiB")])
    try:
        problems = _refuse_unsafe_tokens(text, file)
        if problems:
            raise SpecError(problems)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_error(exc, file)]) from None
    if node is None:
        raise SpecError([Problem(file, 1, 1, "", "the file is empty; start from `mlprod init`")])
    if not isinstance(node, yaml.MappingNode):
        line, col = _mark(node)
        raise SpecError([Problem(file, line, col, "", "the top level must be a mapping of sections (version, project, data, ...)")])
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.problems:
        raise SpecError(builder.problems)
    return LoadedYaml(data=data, positions=builder.positions, file=file, text=text)


def read_yaml_file(path: Path, display: str | None = None) -> LoadedYaml:
    """Read and parse a spec file; a missing file is `SpecNotFound` (exit 2)."""
    name = display or path.name
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SpecError([Problem(name, 1, 1, "", f"the file is larger than {MAX_BYTES // 1024} KiB")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecNotFound(f"no spec file at {path}", hint="run `mlprod init` to create one") from None
    except IsADirectoryError:
        raise SpecNotFound(f"{path} is a folder, not a spec file", hint="pass the path of mlprod.yaml") from None
    except OSError as exc:
        raise SpecNotFound(f"cannot read {path}: {exc.strerror}") from None
    return parse_yaml_text(raw, name)


def to_json_text(data: Any) -> str:
    """The loaded data as JSON, which pydantic's strict mode reads with enum values."""
    return json.dumps(data, allow_nan=True)
