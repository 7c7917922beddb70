"""`load_spec`: YAML with positions -> validated `Spec`, or every problem, located.

Pydantic reports a location like `('cohorts', 3, 'where', 0, 'value', 'list[...]', 1, 'str')`,
where some parts are union-branch tags. Rather than guess which parts are tags from their
spelling, `_clean_loc` walks the parsed YAML data alongside the location: a part that
names an existing key or index is a real step, anything else is a tag.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlprod.errors import Problem, SpecError

from .loader import LoadedYaml, Loc, Positions, dotted, parse_yaml_text, read_yaml_file, to_json_text
from .models import Spec
from .rules import check_rules, did_you_mean


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from."""

    spec: Spec
    path: Path  # the spec file
    root: Path  # the folder every spec path is relative to
    text: str

    @property
    def sha256(self) -> str:
        """Hash of the spec text; generated files record it to detect staleness."""
        return spec_hash(self.text)


def spec_hash(text: str) -> str:
    """SHA-256 of the spec text with `\\r\\n` normalised to `\\n`."""
    import hashlib  # its OpenSSL bindings cost ~7 ms at start-up, and `validate` never hashes

    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


# --- locations -------------------------------------------------------------------------

_ABSENT = object()


@dataclass
class _Err:
    loc: Loc
    is_key: bool  # the error is about a mapping key, not its value
    tagged: bool  # the location passed through a union branch
    err: dict[str, Any]


def _is_step(node: Any, part: Any) -> bool:
    """Does `part` name an existing key of `node` (a mapping) or index of `node` (a list)?"""
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and type(part) is int and 0 <= part < len(node)


def _clean_loc(raw: tuple[Any, ...], data: Any, kind: str) -> tuple[Loc, bool, bool]:
    """Real location of a pydantic error, whether it is about a key, and whether it is tagged."""
    node = data
    out: list[str | int] = []
    is_key = tagged = False
    for i, part in enumerate(raw):
        if _is_step(node, part):  # first: a column may well be named "[key]"
            out.append(part)
            node = node[part]
        elif part == "[key]":
            is_key = True
        elif kind == "missing" and i == len(raw) - 1 and isinstance(part, str | int):
            out.append(part)  # the missing key (or tuple item) itself
            node = _ABSENT
        else:
            tagged = True
    return tuple(out), is_key, tagged


def _position(positions: Positions, e: _Err) -> tuple[int, int]:
    if e.err["type"] == "missing":
        parent = e.loc[:-1]
        # Point at the parent's key (`project:`), which is where the missing key belongs.
        return positions.keys.get(parent) or positions.locate(parent)
    return positions.locate(e.loc, key=e.is_key or e.err["type"] == "extra_forbidden")


# --- model lookup for "did you mean" ---------------------------------------------------


def _candidates(tp: Any) -> list[Any]:
    """The alternatives of a (possibly Annotated / Optional / union) type."""
    if typing.get_origin(tp) is typing.Annotated:
        return _candidates(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [c for a in typing.get_args(tp) for c in _candidates(a)]
    return [] if tp is type(None) else [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _type_at(loc: Loc) -> Any:
    current: Any = Spec
    for part in loc:
        nxt: Any = None
        for cand in _candidates(current):
            origin, args = typing.get_origin(cand), typing.get_args(cand)
            if _is_model(cand) and isinstance(part, str) and part in cand.model_fields:
                nxt = cand.model_fields[part].annotation
            elif origin is list and isinstance(part, int):
                nxt = args[0]
            elif origin is dict and isinstance(part, str):
                nxt = args[1]
            elif origin is tuple and isinstance(part, int) and args:
                nxt = args[min(part, len(args) - 1)]
            if nxt is not None:
                break
        if nxt is None:
            return None
        current = nxt
    return current


def allowed_keys(loc: Loc) -> list[str]:
    """Field names of the section at `loc` (empty when it is not a model)."""
    for cand in _candidates(_type_at(loc)):
        if _is_model(cand):
            return list(cand.model_fields)
    return []


# --- messages --------------------------------------------------------------------------

_NOUNS = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true/false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_TYPE_KINDS = {*_NOUNS, "literal_error", "enum"}


def _got(inp: Any, raw: str | None) -> str:
    if inp is None:
        return "nothing (an empty value)"
    if isinstance(inp, bool):
        return f"the boolean {raw or str(inp).lower()}"
    if isinstance(inp, int | float):
        return f"the number {raw or inp}"
    if isinstance(inp, str):
        return f"the text {inp!r}"
    if isinstance(inp, list):
        return "a list"
    if isinstance(inp, dict):
        return "a mapping"
    return repr(inp)


def _expected(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind in ("literal_error", "enum"):
        expected = str(err.get("ctx", {}).get("expected", ""))
        return expected if len(_quoted(err)) <= 1 and " or " not in expected else f"one of {expected}"
    return _NOUNS.get(kind, "another kind of value")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _type_message(errs: list[dict[str, Any]], raw: str | None) -> str:
    """One message for a value that failed one or several (union) type checks."""
    inp = errs[0].get("input")
    expected = list(dict.fromkeys(_expected(e) for e in errs))
    if "a number" in expected and "a whole number" in expected:
        expected.remove("a whole number")
    message = f"expected {_join(expected)}, got {_got(inp, raw)}"
    choices = [c for e in errs if e["type"] in ("literal_error", "enum") for c in _quoted(e)]
    if isinstance(inp, str) and choices and len(errs) == 1:
        message = f"{inp!r} is not {_join(expected)}{did_you_mean(inp, choices)}"
    if "text" in expected and (isinstance(inp, bool | int | float)) and inp is not None:
        text = raw or str(inp)
        message += f'; quote it ("{text}") if you mean the text'
    if "a number" in expected and isinstance(inp, str) and _EXPONENT_NO_DOT.match(inp):
        # YAML 1.1 reads a float only with a dot: `1e-9` is text, `1.0e-9` a number.
        mantissa, _, exponent = inp.lower().partition("e")
        message += f"; YAML reads {inp} as text: write {mantissa}.0e{exponent}"
    return message


_EXPONENT_NO_DOT = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")


def _quoted(err: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))


def _message(e: _Err, raw: str | None) -> str:
    err, loc = e.err, e.loc
    kind = err["type"]
    inp = err.get("input")
    ctx = err.get("ctx", {})
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        allowed = allowed_keys(loc[:-1])
        listed = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {name!r}{did_you_mean(name, allowed)}{listed}"
    if kind == "missing":
        if isinstance(loc[-1], int):
            return f"item {loc[-1]} is missing; this list needs more items"
        return f"required key {str(loc[-1])!r} is missing"
    if loc == ("version",) and kind == "literal_error":
        return f"this mlprod reads spec format version 1, got {_got(inp, raw)}"
    if kind in _TYPE_KINDS:
        return _type_message([err], raw)
    if kind == "finite_number":
        return f"numbers must be finite; got {raw or inp} (.inf and .nan are not allowed)"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        bound = "at least" if kind == "too_short" else "at most"
        return f"needs {bound} {n} item{'s' if n != 1 else ''}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{inp!r} does not have the expected form (pattern {ctx.get('pattern')})"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if msg.startswith("Input should be "):
        return f"must be {msg[len('Input should be ') :]}, got {raw or repr(inp)}"
    return msg


def _problems(exc: ValidationError, loaded: LoadedYaml) -> list[Problem]:
    errs = []
    for err in exc.errors(include_url=False):
        loc, is_key, tagged = _clean_loc(tuple(err["loc"]), loaded.data, err["type"])
        errs.append(_Err(loc, is_key, tagged, dict(err)))
    # A union branch that got deeper (the list branch failing at item 1) explains more
    # than the branches that rejected the value's type outright; keep the deeper one.
    deeper = {e.loc[:k] for e in errs for k in range(len(e.loc))}
    errs = [e for e in errs if not (e.tagged and e.err["type"] in _TYPE_KINDS and e.loc in deeper)]
    groups: dict[tuple[Loc, bool], list[_Err]] = {}
    for e in errs:
        groups.setdefault((e.loc, e.is_key), []).append(e)
    problems: list[Problem] = []
    for (loc, _), group in groups.items():
        raw = None if group[0].is_key else loaded.positions.raw.get(loc)
        finite = [e for e in group if e.err["type"] == "finite_number"]
        if len(group) > 1 and any(e.tagged for e in group) and not finite:
            typed = [e.err for e in group if e.err["type"] in _TYPE_KINDS]
            if len(typed) == len(group):
                messages = [_type_message(typed, raw)]
            else:  # a branch accepted the type but not the value: its message is the one
                messages = [_message(e, raw) for e in group if e.err["type"] not in _TYPE_KINDS]
        else:
            messages = [_message(e, raw) for e in (finite[:1] or group)]
        line, col = _position(loaded.positions, group[0])
        for message in dict.fromkeys(messages):
            problems.append(Problem(loaded.file, line, col, dotted(loc), message))
    return problems


@contextmanager
def _pydantic_plugins_disabled() -> Iterator[None]:
    """Skip pydantic's plugin discovery, which reads the entry points of every installed
    distribution (tens of ms with a data-science stack); spec models need no plugins.
    typer does the same around its own adapters."""
    previous = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = previous


def validate_loaded(loaded: LoadedYaml) -> Spec:
    """Validate parsed YAML; raise `SpecError` with every problem located."""
    try:
        with _pydantic_plugins_disabled():
            spec = Spec.model_validate_json(to_json_text(loaded.data))
    except ValidationError as exc:
        raise SpecError(_problems(exc, loaded)) from None
    findings = check_rules(spec)
    if findings:
        problems = {
            Problem(loaded.file, *loaded.positions.locate(loc), dotted(loc), msg): None
            for loc, msg in findings
        }
        raise SpecError(list(problems))
    return spec


def parse_spec_text(text: str | bytes, file: str = "mlprod.yaml") -> Spec:
    """Validate spec text (for tests and tools)."""
    return validate_loaded(parse_yaml_text(text, file))


def load_spec(path: str | Path = "mlprod.yaml") -> LoadedSpec:
    """Load and validate the spec at `path`; raise `SpecError` or `SpecNotFound`."""
    p = Path(path)
    loaded = read_yaml_file(p, display=str(path))
    spec = validate_loaded(loaded)
    return LoadedSpec(spec=spec, path=p, root=p.resolve().parent, text=loaded.text)
