"""Engines: where data-only checks compute their aggregates (pandas, duckdb, spark).

The protocol is in `base.py`. This module creates engines and tables from the spec's
`data` section, passed as a plain dict (mlprod.checks never imports the schema):

    data:
      engine: duckdb            # project default: pandas (default) | duckdb | spark
      sample_rows: 200          # rows model-based checks draw through the engine
      spark: {master: "local[2]", remote: null, conf: {"spark.sql.shuffle.partitions": "4"}}
      duckdb: {database: warehouse.duckdb}   # only for `table:` data sets on duckdb
      datasets:
        reference: {path: data/ref/*.parquet}            # a file or a glob
        current:   {table: sales.scored, engine: spark}  # a table the engine knows

A data set's engine is `datasets.<name>.engine`, else `data.engine`, else pandas. `path`
is resolved against the spec's folder; `table` needs duckdb or spark. Engines are created
once per `Engines` (one per spec) and shared by its tables; `close()` releases them.

Each engine lives in its own module, imported only when used: `mlprod.engines.pandas`,
`mlprod.engines.duckdb` (needs `mlprod[duckdb]`), `mlprod.engines.spark` (needs
`mlprod[spark]` and Java 17; a SparkSession from `spark.master`, or Spark Connect from
`spark.remote`, an `sc://host:port` address).

Constructors take their spec section as keywords: `PandasEngine()`,
`DuckDBEngine(database: str | None = None)`, `SparkEngine(master: str | None = None,
remote: str | None = None, conf: Mapping[str, str] | None = None)` (master defaults to
"local[2]" when neither is set).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import (
    DEFAULT_SAMPLE_ROWS,
    EXACT_ROWS,
    OPS,
    Bucket,
    Col,
    ColumnStats,
    Engine,
    EngineError,
    Filter,
    Key,
    Match,
    Not,
    Scan,
    ScanRequest,
    Table,
    Where,
    sample_key,
    where_of,
)

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "ENGINES",
    "EXACT_ROWS",
    "OPS",
    "Bucket",
    "Col",
    "ColumnStats",
    "Engine",
    "EngineError",
    "Engines",
    "Filter",
    "Key",
    "Match",
    "Not",
    "Scan",
    "ScanRequest",
    "Table",
    "Where",
    "available",
    "create",
    "sample_key",
    "where_of",
]

#: Engine name -> "module:class", imported lazily (spark.py is written by the spark engine's author).
ENGINES: dict[str, str] = {
    "pandas": "mlprod.engines.pandas:PandasEngine",
    "duckdb": "mlprod.engines.duckdb:DuckDBEngine",
    "spark": "mlprod.engines.spark:SparkEngine",
}
_EXTRAS = {"duckdb": "duckdb", "spark": "pyspark"}


def _engine_class(name: str) -> type[Engine]:
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r} (use one of {', '.join(ENGINES)})")
    module, _, attr = ENGINES[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        hint = f"; install it with pip install 'mlprod[{name}]'" if name in _EXTRAS else ""
        if missing == module:
            hint = " in this installation of mlprod"
        raise EngineError(f"the {name} engine is not available ({missing} cannot be imported){hint}") from exc
    cls: type[Engine] = getattr(mod, attr)
    return cls


def available(name: str) -> str | None:
    """None when engine `name` can be created here, else the reason it cannot."""
    try:
        _engine_class(name)
    except EngineError as exc:
        return str(exc)
    return None


def create(name: str, options: Mapping[str, Any] | None = None) -> Engine:
    """An engine by name; `options` are its spec section (`data.spark`, `data.duckdb`) as keywords."""
    return _engine_class(name)(**dict(options or {}))


class Engines:
    """The engines and tables of one spec's `data` section, created on first use.

    `data` is the spec's `data` section as a dict (`spec.data.model_dump()`), `root` the
    spec's folder. `table(name)` opens data set `name` with its engine.
    """

    def __init__(self, data: Mapping[str, Any], root: str | Path = ".") -> None:
        self.data = data
        self.root = Path(root)
        self._engines: dict[str, Engine] = {}

    @property
    def sample_rows(self) -> int:
        """`data.sample_rows` (default 200): rows model-based checks draw through the engine."""
        return int(self.data.get("sample_rows") or DEFAULT_SAMPLE_ROWS)

    def engine_name(self, dataset: str) -> str:
        """The engine of data set `dataset`: its own `engine`, else `data.engine`, else pandas."""
        ds = (self.data.get("datasets") or {}).get(dataset) or {}
        return str(ds.get("engine") or self.data.get("engine") or "pandas")

    def engine(self, name: str) -> Engine:
        """The shared engine `name`, created with its spec options on first use."""
        if name not in self._engines:
            options = self.data.get(name) if name in ("spark", "duckdb") else None
            self._engines[name] = create(name, _options(options, self.root, name))
        return self._engines[name]

    def table(self, dataset: str) -> Table:
        """Data set `dataset` (a `path`, file or glob, or a `table`) opened by its engine."""
        datasets = self.data.get("datasets") or {}
        if dataset not in datasets:
            raise EngineError(f"unknown data set {dataset!r} (data sets: {', '.join(datasets)})")
        ds = datasets[dataset]
        engine = self.engine(self.engine_name(dataset))
        if ds.get("table"):
            return engine.from_table(str(ds["table"]), name=dataset)
        return engine.from_path(str(self.root / str(ds["path"])), name=dataset)

    def close(self) -> None:
        """Close every engine created so far."""
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _options(options: Mapping[str, Any] | None, root: Path, name: str) -> dict[str, Any]:
    out = {k: v for k, v in dict(options or {}).items() if v is not None}
    if name == "duckdb" and out.get("database"):
        out["database"] = str(root / str(out["database"]))
    return out
