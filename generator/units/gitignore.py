"""`.gitignore`: a managed block that keeps mlprod's transient files out of git.

`.mlprod/` itself (manifest, evaluation) is committed; only the lock of a running
`generate`, the record of the last run of the generated tests (`.mlprod/last-run.json`,
local evidence: CI keeps its own), the temporary files a killed one may leave behind, and the dated reports of
`mlprod monitor` (executed notebooks and HTML, under `<outputs.notebooks>/reports/`) are
ignored.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from mlprod.generator.base import Artifact, Context, Kind, unit

BODY = ".mlprod/generate.lock\n.mlprod/last-run.json\n.*.mlprod-tmp-*\n"


def gitignore_pattern(path: str) -> str:
    """An anchored gitignore pattern matching exactly `path` (a validated relative path)."""
    escaped = re.sub(r"([\[\]*?!#\\ ])", r"\\\1", path.strip("/"))
    return "/" + re.sub(r"[\x00-\x1f\x7f]", "", escaped)


@unit("gitignore")
def render_gitignore(ctx: Context) -> list[Artifact]:
    """The managed block of `.gitignore`."""
    reports = gitignore_pattern((PurePosixPath(ctx.spec.outputs.notebooks) / "reports").as_posix()) + "/\n"
    return [Artifact(".gitignore", BODY + reports, Kind.TEXT, concern=None, managed=True)]
