"""Output names the file system can hold, checked by `validate` at the line.

A name (one path component) may be at most NAME_MAX bytes (255 on Linux, macOS and
Windows file systems). mlprod writes every file through a temporary name beside it,
`.<name>.mlprod-tmp-<pid>` (mlprod.generator.writer.temp_name), so a file name must leave
room for that: at most MAX_FILE_NAME bytes. Without this rule a legal 253-byte model-card
name passes `validate` but `generate` can never write it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .models import Spec

NAME_MAX = 255
PID_DIGITS = 7  # Linux pid_max is at most 4194304
TEMP_EXTRA = len(".") + len(".mlprod-tmp-") + PID_DIGITS
MAX_FILE_NAME = NAME_MAX - TEMP_EXTRA

Finding = tuple[tuple[str | int, ...], str]


def _outputs(spec: Spec) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """(location, path, names a file) of every path mlprod writes that the spec names."""
    yield ("outputs", "tests"), spec.outputs.tests, False
    yield ("outputs", "notebooks"), spec.outputs.notebooks, False
    yield ("outputs", "model_card"), spec.outputs.model_card, True
    golden = spec.determinism.golden if spec.determinism is not None else None
    if golden is not None:
        yield ("determinism", "golden", "path"), golden.path, True


def name_limit_rules(spec: Spec) -> Iterator[Finding]:
    """A finding for each output path with a name the file system cannot hold (with its temporary name)."""
    for loc, path, is_file in _outputs(spec):
        parts = PurePosixPath(path).parts
        for i, part in enumerate(parts):
            size = len(part.encode("utf-8", errors="surrogateescape"))
            limit = MAX_FILE_NAME if is_file and i == len(parts) - 1 else NAME_MAX
            if size > limit:
                shown = part if len(part) <= 40 else f"{part[:20]}...{part[-12:]}"
                extra = (
                    f" (the file system allows {NAME_MAX}, and mlprod writes through a temporary "
                    f"name {TEMP_EXTRA} bytes longer)"
                    if limit == MAX_FILE_NAME
                    else ""
                )
                yield loc, f"the name {shown!r} is {size} bytes; at most {limit} bytes fit{extra}; shorten it"
                break
