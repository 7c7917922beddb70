"""Spec fields of issue 17: data.engine, data sets by path glob or table, data.spark, data.sample_rows."""

from __future__ import annotations

import pytest
from mlprod.schema import parse_spec_text

from mlprod.errors import SpecError

HEAD = """version: 1
project: {name: churn, task: binary_classification}
model: {load: churn.model:load}
data:
  target: churned
  features: [tenure, charges]
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec_text(text)
    return [str(p) for p in info.value.problems]


def test_engine_fields_validate() -> None:
    spec = parse_spec_text(
        HEAD
        + """  engine: duckdb
  sample_rows: 500
  spark: {master: "local[2]", conf: {spark.sql.shuffle.partitions: "4"}}
  datasets:
    train: {path: data/train/*.parquet}
    test: {path: data/test.csv, engine: pandas}
    current: {table: sales.scored, engine: spark}
"""
    )
    assert spec.data.engine == "duckdb" and spec.data.sample_rows == 500
    assert spec.data.datasets["current"].table == "sales.scored"
    assert spec.data.spark is not None and spec.data.spark.conf == {"spark.sql.shuffle.partitions": "4"}


def test_defaults() -> None:
    spec = parse_spec_text(HEAD + "  datasets: {train: {path: t.csv}}\n")
    assert spec.data.engine is None and spec.data.sample_rows == 200 and spec.data.spark is None


@pytest.mark.parametrize(
    ("datasets", "where", "says"),
    [
        ("{train: {path: a.csv, table: t}}", "data.datasets.train", "exactly one of `path`"),
        ("{train: {sha256: null}}", "data.datasets.train", "exactly one of `path`"),
        ("{train: {table: t}}", "data.datasets.train.table", "needs the duckdb or spark engine"),
        (
            "{train: {table: t, engine: duckdb, locked: true}}",
            "data.datasets.train.locked",
            "cannot be locked",
        ),
    ],
)
def test_dataset_source_rules_are_located(datasets: str, where: str, says: str) -> None:
    problems = _problems(HEAD + f"  datasets: {datasets}\n")
    assert any(where in p and says in p for p in problems), problems


@pytest.mark.parametrize(
    "bad",
    [
        '  datasets: {train: {table: "t; drop table x", engine: duckdb}}\n',  # no SQL text as a table
        "  engine: polars\n  datasets: {train: {path: t.csv}}\n",
        '  spark: {master: "local[2]", remote: "sc://host:15002"}\n  datasets: {train: {path: t.csv}}\n',
        '  spark: {remote: "http://host"}\n  datasets: {train: {path: t.csv}}\n',
        '  spark: {conf: {not_spark: "1"}}\n  datasets: {train: {path: t.csv}}\n',
        "  sample_rows: 0\n  datasets: {train: {path: t.csv}}\n",
    ],
)
def test_bad_engine_settings_are_refused(bad: str) -> None:
    assert _problems(HEAD + bad)
