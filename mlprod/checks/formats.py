"""The files mlprod writes and reads: mlprod.lock, golden predictions, .mlprod/evaluation.json.

Every format is documented in docs/formats.md. JSON files are deterministic: sorted keys,
two-space indent, UTF-8, `\\n` line endings, a trailing newline, no NaN (written as null).
Writes are atomic (temporary file in the same folder, then os.replace).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlprod.errors import RefusedError, UsageError

LOCK_FILE = "mlprod.lock"
LOCK_FORMAT = 1
EVALUATION_FILE = ".mlprod/evaluation.json"
EVALUATION_FORMAT = 1
GOLDEN_FORMAT = 1
#: Multiclass golden files: id, predicted label and one `p_<label>` column per class.
GOLDEN_FORMAT_CLASSES = 2
GOLDEN_MAGIC = "# mlprod golden predictions"
REGISTRY_MODEL_FILE = "model.joblib"
REGISTRY_METADATA_FILE = "metadata.json"


# --- hashing and JSON --------------------------------------------------------------------------


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, streamed in chunks (one implementation: checks.data)."""
    from .data import file_sha256 as data_sha256

    return data_sha256(path)


def _clean(obj: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN/inf to None, tuples to lists, keys to str."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, Path):
        return obj.as_posix()
    if hasattr(obj, "to_dict") and callable(obj.to_dict) and not isinstance(obj, type):
        return _clean(obj.to_dict())
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return _clean(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps_json(data: Any) -> str:
    """Deterministic JSON text: sorted keys, indent 2, trailing newline, NaN as null."""
    return json.dumps(_clean(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text with `\\n` endings through a temporary file and os.replace."""
    path = Path(path)
    if path.is_symlink():
        raise RefusedError(f"refusing to write {path}: it is a symlink")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the usual permissions (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file; a missing or malformed file raises an error naming `what`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path} does not exist") from exc
    except OSError as exc:
        raise RefusedError(f"cannot read {what} {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc


# --- .mlprod/evaluation.json -------------------------------------------------------------------


def read_evaluation(path: str | Path) -> dict[str, Any]:
    """Read `.mlprod/evaluation.json` (written by `mlprod evaluate`)."""
    data = read_json(path, "evaluation file")
    if not isinstance(data, dict):
        raise UsageError(f"evaluation file {path} must hold a JSON object")
    return data


def write_evaluation(path: str | Path, data: dict[str, Any]) -> None:
    """Write `.mlprod/evaluation.json` deterministically (sorted keys, NaN as null).

    `format` defaults to EVALUATION_FORMAT; CheckResult objects are stored via to_dict().
    """
    payload = {"format": EVALUATION_FORMAT, **data}
    write_text_atomic(path, dumps_json(payload))


# --- golden predictions ------------------------------------------------------------------------


@dataclass
class Golden:
    """A golden predictions file: row ids (as strings), scores, and the model hash.

    Format 2 (multiclass): `scores` is a (rows x classes) float array, `classes` the class
    labels of its columns and `labels` the predicted label of each row.
    """

    ids: list[str]
    scores: Any  # 1-D float numpy array aligned with ids (format 2: rows x classes)
    model_sha256: str | None
    path: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    classes: list[str] | None = None
    labels: list[str] | None = None


def write_golden(path: str | Path, ids: Any, scores: Any, model_sha256: str | None) -> None:
    """Write golden predictions: one comment line with the model hash, then CSV `id,score`.

    Scores are written with repr(float) (17 significant digits), so they round-trip exactly.
    """
    write_text_atomic(path, golden_text(ids, scores, model_sha256))


def golden_text(ids: Any, scores: Any, model_sha256: str | None) -> str:
    """The text of a golden predictions file (see `write_golden`)."""
    import csv
    import io

    import numpy as np

    ids_l = [str(i) for i in ids]
    if np.ndim(scores) == 2 and hasattr(scores, "classes"):
        return _golden_classes_text(ids_l, scores, model_sha256)
    sc = np.asarray(scores, dtype=float).ravel()
    if len(ids_l) != len(sc):
        raise UsageError(f"golden predictions: {len(ids_l)} ids but {len(sc)} scores")
    buf = io.StringIO()
    buf.write(
        f"{GOLDEN_MAGIC}; format {GOLDEN_FORMAT}; model sha256 {model_sha256 or 'unknown'}; rows {len(sc)}\n"
    )
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "score"])
    for i, s in zip(ids_l, sc, strict=True):
        writer.writerow([i, repr(float(s))])
    return buf.getvalue()


def _golden_classes_text(ids: list[str], proba: Any, model_sha256: str | None) -> str:
    """Format 2: `id,label,p_<label>...`, one probability column per class in the model's order."""
    import csv
    import io

    import numpy as np

    from .metrics_multiclass import label_text

    matrix = np.asarray(proba, dtype=float)
    if len(ids) != len(matrix):
        raise UsageError(f"golden predictions: {len(ids)} ids but {len(matrix)} rows of probabilities")
    names = [label_text(c) for c in proba.classes]
    buf = io.StringIO()
    buf.write(
        f"{GOLDEN_MAGIC}; format {GOLDEN_FORMAT_CLASSES}; model sha256 {model_sha256 or 'unknown'}; "
        f"rows {len(ids)}\n"
    )
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "label", *(f"p_{n}" for n in names)])
    for i, row, label in zip(ids, matrix, proba.predicted(), strict=True):
        writer.writerow([i, label_text(label), *(repr(float(v)) for v in row)])
    return buf.getvalue()


def read_golden(path: str | Path) -> Golden:
    """Read a golden predictions file written by write_golden (or by hand: the comment is optional)."""
    import csv
    import io

    import numpy as np

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"golden predictions file {path} does not exist: run `mlprod record`") from exc
    except OSError as exc:
        raise RefusedError(f"cannot read golden predictions file {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"golden predictions file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from exc
    meta: dict[str, str] = {}
    if text.startswith("#"):
        first, _, text = text.partition("\n")
        for part in first.lstrip("#").split(";")[1:]:
            key, _, value = part.strip().rpartition(" ")
            if key:
                meta[key] = value
    # Parsed as one CSV text: a quoted class label may hold a line break.
    rows = list(csv.reader(io.StringIO(text)))
    if rows and [c.strip() for c in rows[0][:2]] == ["id", "label"]:
        return _read_golden_classes(path, rows, meta)
    if not rows or [c.strip() for c in rows[0]] != ["id", "score"]:
        raise UsageError(
            f"golden predictions file {path} must have the header `id,score` (or, format 2, "
            "`id,label,p_<label>,...`)"
        )
    ids: list[str] = []
    values: list[float] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2:
            raise UsageError(f"golden predictions file {path}: row {n} has {len(row)} fields, expected 2")
        try:
            values.append(float(row[1]))
        except ValueError as exc:
            raise UsageError(
                f"golden predictions file {path}: row {n} has a non-numeric score {row[1]!r}"
            ) from exc
        ids.append(row[0])
    sha = meta.get("model sha256")
    return Golden(
        ids, np.asarray(values, dtype=float), None if sha in (None, "unknown") else sha, str(path), meta
    )


def _read_golden_classes(path: Path, rows: list[list[str]], meta: dict[str, str]) -> Golden:
    """Format 2: the header `id,label,p_<label>...` and one row of probabilities per id."""
    import numpy as np

    header = [c.strip() for c in rows[0]]
    columns = header[2:]
    if len(columns) < 2 or not all(c.startswith("p_") and len(c) > 2 for c in columns):
        raise UsageError(
            f"golden predictions file {path}: a format 2 header is `id,label` then one `p_<label>` "
            f"column per class (at least two), got {','.join(header)}"
        )
    ids: list[str] = []
    labels: list[str] = []
    values: list[list[float]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise UsageError(
                f"golden predictions file {path}: row {n} has {len(row)} fields, expected {len(header)}"
            )
        try:
            values.append([float(v) for v in row[2:]])
        except ValueError as exc:
            raise UsageError(
                f"golden predictions file {path}: row {n} has a non-numeric probability"
            ) from exc
        ids.append(row[0])
        labels.append(row[1])
    sha = meta.get("model sha256")
    return Golden(
        ids,
        np.asarray(values, dtype=float).reshape(len(ids), len(columns)),
        None if sha in (None, "unknown") else sha,
        str(path),
        meta,
        classes=[c[2:] for c in columns],
        labels=labels,
    )


# --- mlprod.lock ---------------------------------------------------------------------------------


def read_lock(path: str | Path) -> dict[str, Any]:
    """Read `mlprod.lock`; a missing or malformed file raises UsageError with a hint."""
    data = read_json(path, "lock file")
    if not isinstance(data, dict) or not isinstance(data.get("datasets", {}), dict):
        raise UsageError(f"lock file {path} is not an mlprod lock", hint="run `mlprod lock`")
    for key in ("datasets", "artifacts"):
        data.setdefault(key, {})
    return data


def write_lock(path: str | Path, lock: dict[str, Any]) -> list[str]:
    """Write `mlprod.lock` deterministically; return human lines of what changed vs the old file."""
    path = Path(path)
    previous: dict[str, Any] | None = None
    unreadable: str | None = None
    if path.exists():
        try:
            previous = read_lock(path)
        except UsageError as exc:  # a damaged lock is replaced, and the user told so
            unreadable = exc.message
    write_text_atomic(path, dumps_json(lock))
    if unreadable is not None:
        return [f"replaced the unreadable previous lock ({unreadable})"]
    return diff_locks(previous, lock)


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "none"


def diff_locks(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Human "what changed" lines between two locks (empty when nothing changed)."""
    if old is None:
        return ["new lock file"]
    lines: list[str] = []
    for key in ("mlprod", "python"):
        if old.get(key) != new.get(key):
            lines.append(f"{key} version: {old.get(key)} -> {new.get(key)}")
    old_ds, new_ds = old.get("datasets", {}), new.get("datasets", {})
    for name in sorted(set(old_ds) | set(new_ds)):
        a, b = old_ds.get(name), new_ds.get(name)
        if a is None:
            lines.append(f"dataset {name} added ({b.get('path')}, sha256 {_short(b.get('sha256'))})")
        elif b is None:
            lines.append(f"dataset {name} removed")
        elif a != b:
            lines.append(
                f"dataset {name} ({b.get('path')}) changed: sha256 {_short(a.get('sha256'))} -> "
                f"{_short(b.get('sha256'))}"
            )
    old_a, new_a = old.get("artifacts", {}), new.get("artifacts", {})
    for p in sorted(set(old_a) | set(new_a)):
        a, b = old_a.get(p), new_a.get(p)
        if a is None:
            lines.append(f"artifact {p} added (sha256 {_short(b)})")
        elif b is None:
            lines.append(f"artifact {p} removed")
        elif a != b:
            lines.append(f"artifact {p} changed: sha256 {_short(a)} -> {_short(b)}")
    la, lb = old.get("lockfile"), new.get("lockfile")
    if la != lb:
        if lb is None:
            lines.append("requirements lockfile removed")
        elif la is None:
            lines.append(f"requirements lockfile {lb.get('path')} added")
        else:
            lines.append(
                f"requirements lockfile {lb.get('path')} changed: sha256 {_short(la.get('sha256'))} -> "
                f"{_short(lb.get('sha256'))}"
            )
    return lines
