"""`.gitignore`: a managed block that keeps mlprod's transient files out of git.

`.mlprod/` itself (manifest, evaluation) is committed; only the lock of a running
`generate` and the temporary files a killed one may leave behind are ignored.
"""

from __future__ import annotations

from mlprod.generator.base import Artifact, Context, Kind, unit

BODY = ".mlprod/generate.lock\n.*.mlprod-tmp-*\n"


@unit("gitignore")
def render_gitignore(ctx: Context) -> list[Artifact]:
    """The managed block of `.gitignore` (constants only)."""
    return [Artifact(".gitignore", BODY, Kind.TEXT, concern=None, managed=True)]
