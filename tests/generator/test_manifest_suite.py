"""The manifest's `suite` (fingerprint and node ids per concern): written, parsed, optional."""

from __future__ import annotations

import json

from mlprod.generator.manifest import Entry, Manifest, parse_manifest

SUITE = {"fingerprint": "a" * 64, "tests": {"bias": ["tests/mlprod/test_bias.py::test_x[a]"]}}


def test_suite_round_trips_and_is_written_sorted() -> None:
    m = Manifest(
        "0.1.0", "mlprod.yaml", "b" * 64, {"x": Entry("x", "c" * 64, "text", None, False)}, suite=SUITE
    )
    text = m.to_text()
    assert json.loads(text)["suite"] == SUITE
    assert parse_manifest(text).suite == SUITE
    assert parse_manifest(text).to_text() == text


def test_a_manifest_without_suite_still_parses_and_writes_no_suite_key() -> None:
    m = Manifest("0.1.0", "mlprod.yaml", "b" * 64)
    assert "suite" not in json.loads(m.to_text())
    assert parse_manifest(m.to_text()).suite is None


def test_a_suite_of_the_wrong_shape_is_ignored() -> None:
    for bad in ({"tests": {}}, {"fingerprint": "x", "tests": {"bias": "not a list"}}, "text"):
        data = {
            "mlprod_version": "0.1.0",
            "spec": "mlprod.yaml",
            "spec_sha256": "",
            "files": [],
            "suite": bad,
        }
        assert parse_manifest(json.dumps(data)).suite is None
