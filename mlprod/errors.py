"""One exception hierarchy; only the CLI turns these into exit codes and messages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README and tested."""

    OK = 0
    CHECK_FAILED = 1  # stale files, score below the bar, failing tests
    INVALID = 2  # invalid spec or usage
    REFUSED = 3  # refused for file safety, or an I/O error
    INTERNAL = 4  # a bug in mlprod


class MlprodError(Exception):
    """Base class of every error mlprod reports to a user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text shown to the user (without traceback)."""
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a spec file."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
        }


class SpecError(MlprodError):
    """The spec is invalid; carries every problem found, each located."""

    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.col, p.path, p.message))
        super().__init__(f"{len(self.problems)} problem(s) in the spec", hint=hint)

    def render(self) -> str:
        lines = [str(p) for p in self.problems]
        n = len(self.problems)
        lines.append(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class SpecNotFound(MlprodError):
    exit_code = ExitCode.INVALID


class UsageError(MlprodError):
    exit_code = ExitCode.INVALID


class RefusedError(MlprodError):
    """Refused for file safety (symlinks, foreign or hand-edited files) or an I/O error."""

    exit_code = ExitCode.REFUSED


class CheckFailed(MlprodError):
    exit_code = ExitCode.CHECK_FAILED
