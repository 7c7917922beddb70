"""One YAML emitter for the spec text mlprod writes (`init --existing`, the project template).

A string is written plain only when it is a simple name or path that every YAML reader,
YAML 1.1 (PyYAML, libyaml) and mlprod's own loader, reads back as the same string;
everything else is double-quoted. Inside quotes only `\\`, `"`, and characters that are not
printable YAML (controls, line and paragraph separators, lone surrogates, the BOM) are
escaped; characters outside the basic plane are written as themselves, never as the
surrogate-pair escapes that libyaml refuses.
"""

from __future__ import annotations

import math
import re
from typing import Any

# A plain scalar that cannot start an indicator (`*&!|>%@` ...), hold `: `, ` #`, a flow
# character or a space, and does not look like a number or a date (it starts with a letter).
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[./-][A-Za-z0-9_]+)*")
# Words YAML 1.1 reads as booleans or null (in any case), and the words for infinity and NaN.
_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


def needs_quotes(text: str) -> bool:
    """True when `text` written plain would be read as something else (or not at all)."""
    return not _PLAIN.fullmatch(text) or text.lower() in _WORDS


def _printable(ch: str) -> bool:
    """YAML's printable set, less the breaks a reader may fold (\\x85, \\u2028, \\u2029)."""
    o = ord(ch)
    if o < 0x7F:
        return o >= 0x20
    return not (o < 0xA0 or 0xD800 <= o <= 0xDFFF or o in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF))


def quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return '"' + "".join(out) + '"'


def yaml_str(text: str) -> str:
    """A YAML scalar that reads back as exactly `text`: plain when safe, else double-quoted."""
    return quoted(text) if needs_quotes(text) else text


def yaml_float(value: float) -> str:
    """A float YAML 1.1 reads as a float: `1e-05` (a string in YAML 1.1) becomes `1.0e-05`."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    elif "." not in text:
        text += ".0"
    return text


def yaml_value(value: Any) -> str:
    """Plain data as one YAML flow value (strings through `yaml_str`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yaml_float(value)
    if isinstance(value, str):
        return yaml_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_str(str(k))}: {yaml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not plain data: {type(value).__name__}")


try:  # the cookiecutter template renders its values through the same emitter
    from jinja2.ext import Extension

    class YamlExtension(Extension):
        """Jinja extension for cookiecutter templates: the `yaml` filter (`{{ x | yaml }}`)."""

        def __init__(self, environment: Any) -> None:
            super().__init__(environment)
            environment.filters["yaml"] = yaml_value

except ImportError:  # pragma: no cover - jinja2 is a dependency of mlprod
    pass
