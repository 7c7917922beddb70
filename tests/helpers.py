"""Small helpers shared by the test suites (import as `from helpers import ...`).

tests/conftest.py puts this folder on sys.path (pytest's rootdir-conftest rule).
The reference specs are copied into tests/fixtures/reference/, so the tests run from a
plain clone; tests/schema/test_reference_contract.py checks the copies against ../shared
(the contract) whenever that folder is beside the checkout, as it is in CI.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

#: The shared folder beside the checkout (reference specs and data), when present.
SHARED = Path(__file__).resolve().parents[2] / "shared"
#: Copies of the reference specs, so the tests do not need ../shared.
REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `{relative path: text}` under `root` (folders as needed); return `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="\n")
    return root


def read_tree(root: Path, *, skip: tuple[str, ...] = (".git",)) -> dict[str, bytes]:
    """Every regular file under `root` as `{relative POSIX path: bytes}` (symlinks not followed)."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        if path.is_file() and not path.is_symlink():
            out[rel] = path.read_bytes()
    return out


def tree_digest(root: Path) -> str:
    """One hash of every file path and content under `root`."""
    h = hashlib.sha256()
    for rel, data in read_tree(root).items():
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def credit_spec_text() -> str:
    """The reference spec (a copy of ../shared/spec/credit.mlprod.yaml)."""
    return (REFERENCE / "credit.mlprod.yaml").read_text(encoding="utf-8")


def minimal_spec_text() -> str:
    """The smallest spec (a copy of ../shared/spec/minimal.mlprod.yaml)."""
    return (REFERENCE / "minimal.mlprod.yaml").read_text(encoding="utf-8")


#: What a wheel of mlprod is built from.
WHEEL_SOURCES = ["pyproject.toml", "README.md", "mlprod", "schema", "generator", "templates"]


def build_wheel(src: Path, out: Path) -> Path:
    """Build mlprod's wheel into `out` from a copy of the sources in `src` (an empty folder), so
    the build leaves nothing in the checkout; the wheel's path."""
    repo = Path(__file__).resolve().parents[1]
    for name in WHEEL_SOURCES:
        path = repo / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(path, src / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, src / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    proc = subprocess.run(
        [*command, "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(out.glob("mlprod-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
