"""The GitHub Actions that generated workflows use, and how each is pinned.

Actions are pinned by release tag by default: a tag is what the action's maintainers
publish and what a reader can check at a glance. A full commit SHA is stronger (a tag can
be moved), but mlprod cannot verify a SHA offline, so it never writes one of its own: a SHA
comes only from the spec, `release.ci.pins: {"actions/checkout": "<40 hex digits>"}`.

| action                    | default ref | used for                                 |
|---------------------------|-------------|------------------------------------------|
| actions/checkout          | v4          | check out the repository                 |
| actions/setup-python      | v5          | one job per Python in release.ci.python  |
| actions/upload-artifact   | v4          | JUnit results and score report           |

Bump a tag here (and only here) when a new major release of the action comes out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mlprod.errors import RefusedError

#: action -> release tag used when the spec gives no SHA for it.
ACTIONS: dict[str, str] = {
    "actions/checkout": "v4",
    "actions/setup-python": "v5",
    "actions/upload-artifact": "v4",
}

_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")


def check_pins(pins: Mapping[str, str]) -> None:
    """Refuse pins that name an action mlprod does not use or are not full commit SHAs.

    A typo in an action name would otherwise be ignored silently and leave the action on
    its tag, which is exactly what the pin was meant to prevent.
    """
    for action, sha in pins.items():
        if action not in ACTIONS:
            raise RefusedError(
                f"release.ci.pins names {action!r}, which the generated workflow does not use",
                hint=f"pin one of: {', '.join(sorted(ACTIONS))}",
            )
        if not _SHA1_RE.match(sha):
            raise RefusedError(
                f"release.ci.pins[{action!r}] is not a full commit SHA (40 lower-case hex digits)",
                hint="copy the commit SHA of the release from the action's repository",
            )


def uses(action: str, pins: Mapping[str, str]) -> str:
    """The `uses:` value for `action`: `owner/name@<sha>` when pinned in the spec, else `@<tag>`."""
    check_pins(pins)
    return f"{action}@{pins.get(action, ACTIONS[action])}"
