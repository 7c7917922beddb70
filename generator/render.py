"""The one jinja2 environment every template is rendered with.

Templates are loaded only from the installed `mlprod.templates` package; no user string is
ever compiled as a template. The `finalize` hook refuses any printed value that is not a
`Safe` string or a number/bool/None, so a value that skipped its escaping (see `safe.py`)
fails the build instead of reaching a file. jinja2 is imported lazily: the CLI starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .safe import Safe

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

_ENV: jinja2.Environment | None = None


class UnsafeValueError(TypeError):
    """A template printed a value that was not made safe for its target."""


def _finalize(value: Any) -> Any:
    if value is None or isinstance(value, Safe | bool | int | float):
        return value
    import jinja2

    if isinstance(value, jinja2.Undefined):  # StrictUndefined raises its own, clearer error
        return value
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise UnsafeValueError(
        f"refusing to print a {type(value).__name__} that is not a Safe value: {shown}; "
        "wrap it with py(), yaml_scalar(), md(), comment() or trusted() before rendering"
    )


def templates_dir() -> Path:
    """The folder of the installed `mlprod.templates` package."""
    import mlprod.templates

    return Path(mlprod.templates.__file__).resolve().parent


def environment() -> jinja2.Environment:
    """The shared environment (created on first use)."""
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_finalize,
            auto_reload=False,
        )
    return _ENV


def render_template(name: str, **data: Any) -> str:
    """Render the package template `name` (e.g. "tests/conftest.py.jinja") with `data`.

    Every value the template prints must be `Safe`, a number, a bool or None; lists and
    dicts of them may be looped over. Raises `UnsafeValueError` naming the template otherwise.
    """
    try:
        # A string constant printed by the template itself is refused too (at compile
        # time): write literal text outside `{{ }}`, and `${{ }}` inside `{% raw %}`.
        return environment().get_template(name).render(**data)
    except UnsafeValueError as exc:
        raise UnsafeValueError(f"template {name}: {exc}") from None
