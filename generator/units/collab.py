"""Collaboration files: `.github/CODEOWNERS` and `.github/pull_request_template.md`.

Both usually exist already, so mlprod owns only a managed block inside each (the engine
splices it in and leaves the rest of the file to its owners). Generated when the spec
declares a `collaboration` section.

CODEOWNERS lines are `<pattern> <owner> ...`: the default line `*` gets the handles of
`project.owners`, then `collaboration.codeowners` follows in spec order (in CODEOWNERS
the last matching pattern wins, so more specific entries belong below the default).
"""

from __future__ import annotations

import unicodedata

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.schema.models import Spec
from mlprod.schema.types import EMAIL_RE, HANDLE_RE, Mode

from mlprod import CONCERN_TITLES as TITLES
from mlprod import CONCERNS
from mlprod.errors import RefusedError

CODEOWNERS = ".github/CODEOWNERS"
PR_TEMPLATE = ".github/pull_request_template.md"

# A GitHub user or team (`@user`, `@org/team`) or an e-mail address: what CODEOWNERS accepts.


def codeowners_pattern(raw: str) -> str:
    """A CODEOWNERS pattern for `raw`: one token on one line, matching the same paths.

    Control and line-breaking characters are dropped (they cannot be part of a path on
    one line); spaces and backslashes are backslash-escaped; a leading `#` or `!` is
    escaped so the line is neither a comment nor a negation.
    """
    out: list[str] = []
    for ch in raw:
        if ch == " ":
            out.append("\\ ")
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"):
            continue
        else:
            out.append(ch)
    text = "".join(out)
    if text.startswith(("#", "!")):
        text = "\\" + text
    if not text.strip("\\ "):
        raise RefusedError(
            f"collaboration.codeowners has the pattern {raw!r}, which matches nothing",
            hint="use a path pattern such as 'models/' or '*.py'",
        )
    return text


def codeowners_owner(raw: str, where: str) -> str:
    """`raw` when it is a valid CODEOWNERS owner, else a refusal naming `where`."""
    if HANDLE_RE.fullmatch(raw) or EMAIL_RE.fullmatch(raw):
        return raw
    raise RefusedError(
        f"{where} has the owner {raw!r}, which is not a GitHub handle ('@user', '@org/team') "
        "or an e-mail address",
        hint="write owners as '@user', '@org/team' or 'name@example.com'",
    )


def codeowners_lines(spec: Spec) -> list[str]:
    """The CODEOWNERS rules, without comments."""
    lines: list[str] = []
    handles = [o.handle for o in spec.project.owners if o.handle]  # validated by the schema
    if handles:
        lines.append(" ".join(["*", *dict.fromkeys(handles)]))
    collab = spec.collaboration
    if collab is not None:
        for pattern, owners in collab.codeowners.items():
            where = f"collaboration.codeowners[{pattern!r}]"
            checked = [codeowners_owner(o, where) for o in dict.fromkeys(owners)]
            lines.append(" ".join([codeowners_pattern(pattern), *checked]))
    return lines


def render_codeowners(spec: Spec) -> str | None:
    """The managed block's body, or None when there are no owners to write."""
    lines = codeowners_lines(spec)
    if not lines:
        return None
    head = [
        "# Owners from mlprod.yaml: project.owners handles, then collaboration.codeowners.",
        "# The last matching pattern wins.",
    ]
    return "\n".join(head + lines) + "\n"


def _status(spec: Spec, concern: str) -> str:
    mode = spec.concern_mode(concern)
    if mode == Mode.AUTOMATED:
        return "automated: its generated tests pass"
    if mode == Mode.MANUAL:
        return "checked by hand: the signoff in mlprod.yaml is still current"
    return "not declared in mlprod.yaml"


def render_pr_template(spec: Spec) -> str:
    """The managed block of the pull-request template: only constants and numbers."""
    lines = [
        "## mlprod checklist",
        "",
        "Tick each concern this change keeps intact (see MODEL_CARD.md and mlprod.yaml).",
        "",
    ]
    for i, concern in enumerate(CONCERNS, start=1):
        lines.append(f"- [ ] {i}. {TITLES[concern]} (`{concern}`): {_status(spec, concern)}")
    lines += [
        "",
        "Before asking for review, regenerate the generated files and check the score "
        "(CI runs `mlprod generate --check` and the score too):",
        "",
        "```sh",
        "mlprod generate",
        "mlprod score",
        "```",
        "",
    ]
    review = spec.collaboration.review if spec.collaboration is not None else None
    if review is not None:
        n = review.required_approvals
        lines.append(
            f"**Review rule:** {n} approving review{'s' if n != 1 else ''} required before merging "
            "(`collaboration.review.required_approvals`), from the code owners of the changed files."
        )
    else:
        lines.append("**Review rule:** none declared (`collaboration.review` in mlprod.yaml).")
    return "\n".join(lines) + "\n"


@unit("collab")
def collab(ctx: Context) -> list[Artifact]:
    """CODEOWNERS and the pull-request template, as managed blocks."""
    if ctx.spec.collaboration is None:
        return []
    out: list[Artifact] = []
    owners = render_codeowners(ctx.spec)
    if owners is not None:
        out.append(Artifact(CODEOWNERS, owners, Kind.TEXT, concern="collaboration", managed=True))
    out.append(
        Artifact(
            PR_TEMPLATE, render_pr_template(ctx.spec), Kind.MARKDOWN, concern="collaboration", managed=True
        )
    )
    return out
