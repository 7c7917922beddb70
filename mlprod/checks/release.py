"""Release: semver, expiry and next-release dates, rollback target and registry hash.

Every date check reads today from MLPROD_TODAY when it is set (tests pin it), else the
local date. Dates are ISO-8601 strings or `date` objects.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from mlprod.errors import UsageError
from mlprod.today import today as _mlprod_today

from .results import CheckResult

CONCERN = "release"

# semver.org 2.0.0, the official regular expression.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def parse_date(value: date | str) -> date:
    """An ISO date from a `date` or an ISO-8601 string; UsageError otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise UsageError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from exc


def today() -> date:
    """Today: the environment variable MLPROD_TODAY (ISO date) when set, else the local date."""
    return _mlprod_today()


def _today(value: date | str | None) -> date:
    return today() if value is None else parse_date(value)


def check_semver(version: str) -> CheckResult:
    """The version is a semantic version (semver.org 2.0.0)."""
    ok = bool(SEMVER.match(str(version)))
    msg = (
        f"version {version} is semver"
        if ok
        else f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)"
    )
    return CheckResult(CONCERN, "semver", ok, msg, subject=str(version))


def check_not_expired(expires: date | str | None, today: date | str | None = None) -> CheckResult:
    """The model is not past its `expires` date (valid through that day); value is the days left."""
    if expires is None:
        return CheckResult(CONCERN, "not_expired", False, "the release has no expiry date (release.expires)")
    exp, now = parse_date(expires), _today(today)
    left = (exp - now).days
    if left >= 0:
        msg = f"model expires on {exp.isoformat()}, in {left} days"
    else:
        msg = (
            f"model expired on {exp.isoformat()}, {-left} days ago (today is {now.isoformat()}): "
            "retrain or re-approve it"
        )
    return CheckResult(
        CONCERN,
        "not_expired",
        left >= 0,
        msg,
        float(left),
        0.0,
        exp.isoformat(),
        {"today": now.isoformat(), "expires": exp.isoformat()},
    )


def check_next_planned(
    next_planned: date | str | None,
    expires: date | str | None,
    today: date | str | None = None,
    *,
    next_version: str | None = None,
) -> CheckResult:
    """The next release is planned before the expiry date and is not already overdue."""
    label = f"next release {next_version}" if next_version else "next release"
    if next_planned is None:
        return CheckResult(
            CONCERN, "next_planned", False, "no next release is planned (release.next.planned)"
        )
    planned, now = parse_date(next_planned), _today(today)
    details: dict[str, Any] = {"planned": planned.isoformat(), "today": now.isoformat()}
    problems = []
    if expires is not None:
        exp = parse_date(expires)
        details["expires"] = exp.isoformat()
        if planned > exp:
            problems.append(
                f"is planned on {planned.isoformat()}, after the model expires on {exp.isoformat()}"
            )
    if planned < now:
        problems.append(f"was planned on {planned.isoformat()} and is overdue by {(now - planned).days} days")
    if problems:
        return CheckResult(
            CONCERN,
            "next_planned",
            False,
            f"{label} " + " and ".join(problems),
            subject=label,
            details=details,
        )
    tail = f", before expiry on {details['expires']}" if "expires" in details else ""
    return CheckResult(
        CONCERN,
        "next_planned",
        True,
        f"{label} is planned on {planned.isoformat()}, in {(planned - now).days} days{tail}",
        float((planned - now).days),
        None,
        label,
        details,
    )


def check_rollback_present(registry: Any, version: str | None) -> CheckResult:
    """The rollback target version is present in the registry."""
    if not version:
        return CheckResult(
            CONCERN, "rollback_present", False, "no rollback version is set (release.rollback_to)"
        )
    where = getattr(registry, "describe", lambda: "the registry")()
    if registry.has(version):
        return CheckResult(
            CONCERN, "rollback_present", True, f"rollback version {version} is in {where}", subject=version
        )
    known = ", ".join(registry.versions()) or "none"
    return CheckResult(
        CONCERN,
        "rollback_present",
        False,
        f"rollback version {version} is not in {where} (versions: {known})",
        subject=version,
    )


def check_registry(registry: Any, version: str, artifact_path: str | Path) -> CheckResult:
    """The version is in the registry and its artifact hash equals the deployed artifact's."""
    from .formats import file_sha256

    where = getattr(registry, "describe", lambda: "the registry")()
    if not registry.has(version):
        known = ", ".join(registry.versions()) or "none"
        return CheckResult(
            CONCERN,
            "registry",
            False,
            f"version {version} is not in {where} (versions: {known}): register the deployed model",
            subject=version,
        )
    artifact_path = Path(artifact_path)
    if not artifact_path.exists():
        return CheckResult(
            CONCERN,
            "registry",
            False,
            f"deployed artifact {artifact_path.as_posix()} does not exist",
            subject=version,
        )
    deployed = file_sha256(artifact_path)
    registered = registry.sha256(version)
    details = {"registered_sha256": registered, "deployed_sha256": deployed}
    if registered == deployed:
        return CheckResult(
            CONCERN,
            "registry",
            True,
            f"version {version} in {where} has the deployed artifact's hash ({deployed[:12]})",
            subject=version,
            details=details,
        )
    return CheckResult(
        CONCERN,
        "registry",
        False,
        f"version {version} in {where} has artifact sha256 {str(registered)[:12]} but the deployed "
        f"{artifact_path.as_posix()} is {deployed[:12]}: register the deployed model or bump the version",
        subject=version,
        details=details,
    )
