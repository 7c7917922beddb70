"""File formats: deterministic JSON, evaluation.json, golden predictions, atomic writes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mlprod.checks.formats import (
    EVALUATION_FORMAT,
    dumps_json,
    file_sha256,
    read_evaluation,
    read_golden,
    write_evaluation,
    write_golden,
    write_text_atomic,
)
from mlprod.checks.results import CheckResult
from mlprod.errors import RefusedError, UsageError


def test_dumps_json_is_deterministic_and_clean():
    data = {"b": np.float64(0.5), "a": [np.int64(3), float("nan"), math.inf], "c": (1, 2)}
    text = dumps_json(data)
    assert text == dumps_json(dict(reversed(list(data.items()))))
    assert text.endswith("\n") and list(json.loads(text)) == ["a", "b", "c"]
    assert json.loads(text) == {"a": [3, None, None], "b": 0.5, "c": [1, 2]}


def test_evaluation_roundtrip(tmp_path):
    path = tmp_path / ".mlprod" / "evaluation.json"
    result = CheckResult(
        "baseline", "beats_dummy", True, "roc_auc 0.8 beats prior 0.5 by 0.3 >= 0.1", 0.3, 0.1
    )
    write_evaluation(path, {"date": "2026-11-27", "metrics": {"roc_auc": 0.8}, "results": [result]})
    data = read_evaluation(path)
    assert data["format"] == EVALUATION_FORMAT and data["metrics"] == {"roc_auc": 0.8}
    assert data["results"][0]["message"].startswith("roc_auc 0.8")
    first = path.read_bytes()
    write_evaluation(path, {"results": [result], "metrics": {"roc_auc": 0.8}, "date": "2026-11-27"})
    assert path.read_bytes() == first
    path.write_text("[1]")
    with pytest.raises(UsageError, match="JSON object"):
        read_evaluation(path)
    path.write_text("{")
    with pytest.raises(UsageError, match="not valid JSON"):
        read_evaluation(path)
    with pytest.raises(UsageError, match="does not exist"):
        read_evaluation(tmp_path / "none.json")


def test_golden_format(tmp_path):
    path = tmp_path / "g.csv"
    scores = np.array([1 / 3, 2e-17, 0.999999999999])
    write_golden(path, ["a,b", "c", 7], scores, "f" * 64)
    lines = path.read_text().splitlines()
    assert lines[0] == f"# mlprod golden predictions; format 1; model sha256 {'f' * 64}; rows 3"
    assert lines[1] == "id,score" and lines[2].startswith('"a,b",')  # ids are CSV-quoted
    g = read_golden(path)
    assert g.ids == ["a,b", "c", "7"] and g.model_sha256 == "f" * 64
    np.testing.assert_array_equal(g.scores, scores)
    with pytest.raises(UsageError, match="2 ids but 1 scores"):
        write_golden(path, [1, 2], [0.5], None)


def test_atomic_write_refuses_symlink_and_hash_streams(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("x")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(RefusedError, match="symlink"):
        write_text_atomic(link, "y")
    write_text_atomic(tmp_path / "sub" / "f.txt", "a\nb\n")
    assert (tmp_path / "sub" / "f.txt").read_bytes() == b"a\nb\n"
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]
    import hashlib

    big = tmp_path / "big.bin"
    big.write_bytes(b"0123456789" * 300_000)  # larger than one chunk
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()
