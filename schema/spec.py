"""`load_spec`: YAML with positions -> validated `Spec`, or every problem, located."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlprod.errors import Problem, SpecError

from .loader import LoadedYaml, Loc, dotted, parse_yaml_text, read_yaml_file, to_json_text
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
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def _allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at `loc`, for 'did you mean'."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = [a for a in get_args(current) if a is not type(None)]
            origin = get_origin(current)
            if origin in (list, dict) and args:
                current = args[-1]
                continue
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if not models:
                return []
            current = models[0]
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        # unwrap Optional / containers
        while True:
            args = [a for a in get_args(current) if a is not type(None)]
            origin = get_origin(current)
            if origin in (list, dict) and isinstance(part, str):
                break
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if models and origin not in (list, dict):
                current = models[0]
            break
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    args = [a for a in get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
    return list(args[0].model_fields) if args else []


def _message(err: dict[str, Any], loc: Loc) -> str:
    kind = err["type"]
    inp = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        allowed = _allowed_keys(Spec, loc[:-1])
        listed = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {name!r}{did_you_mean(name, allowed)}{listed}"
    if kind == "missing":
        return f"required key {str(loc[-1])!r} is missing"
    if kind == "string_type" and isinstance(inp, bool | int | float):
        return f"expected text, got {inp!r}; quote it (\"{inp}\") if you mean the text"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{inp!r} is not one of {expected}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{inp!r} is not allowed; expected {expected}"
    if kind in ("finite_number",):
        return "numbers must be finite (no .inf or .nan)"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg


def _clean_loc(raw: tuple[Any, ...]) -> tuple[Loc, bool]:
    """Drop pydantic's union/branch tags from a location; say if it points at a dict key."""
    out: list[str | int] = []
    is_key = False
    for part in raw:
        if part == "[key]":
            is_key = True
            continue
        if isinstance(part, str) and (
            part.startswith(("function-", "tagged-union", "json-or-python"))
            or part in ("str", "int", "float", "bool", "list[...]", "tuple[float, float]", "lax-or-strict")
            or part.startswith(("list[", "dict[", "tuple[", "literal[", "Signoff", "Annotated"))
            or (part[:1].isupper() and part.isidentifier())
        ):
            continue
        out.append(part)
    return tuple(out), is_key


def validate_loaded(loaded: LoadedYaml) -> Spec:
    """Validate parsed YAML; raise `SpecError` with every problem located."""
    try:
        spec = Spec.model_validate_json(to_json_text(loaded.data))
    except ValidationError as exc:
        problems: dict[tuple[Loc, str], Problem] = {}
        for err in exc.errors(include_url=False):
            loc, is_key = _clean_loc(tuple(err["loc"]))
            key_pos = err["type"] == "extra_forbidden" or is_key
            line, col = loaded.positions.locate(loc, key=key_pos)
            message = _message(err, loc)
            problems.setdefault((loc, message), Problem(loaded.file, line, col, dotted(loc), message))
        raise SpecError(_dedupe_union(list(problems.values()))) from None
    findings = check_rules(spec)
    if findings:
        raise SpecError(
            [Problem(loaded.file, *loaded.positions.locate(loc), dotted(loc), msg) for loc, msg in findings]
        )
    return spec


def _dedupe_union(problems: list[Problem]) -> list[Problem]:
    """A value failing every branch of a union yields one error per branch; keep one per path."""
    by_path: dict[str, list[Problem]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    out: list[Problem] = []
    for group in by_path.values():
        out.append(group[0] if len(group) > 2 else group[0])
        if len(group) == 2 and group[0].message != group[1].message and "quote" not in group[0].message:
            out[-1] = group[1] if "quote" in group[1].message else group[0]
    return out


def parse_spec_text(text: str | bytes, file: str = "mlprod.yaml") -> Spec:
    """Validate spec text (for tests and tools)."""
    return validate_loaded(parse_yaml_text(text, file))


def load_spec(path: str | Path = "mlprod.yaml") -> LoadedSpec:
    """Load and validate the spec at `path`; raise `SpecError` or `SpecNotFound`."""
    p = Path(path)
    loaded = read_yaml_file(p, display=str(path))
    spec = validate_loaded(loaded)
    return LoadedSpec(spec=spec, path=p, root=p.resolve().parent, text=loaded.text)
