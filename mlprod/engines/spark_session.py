"""The process's Spark sessions: one per address, created on first use (a JVM start costs seconds)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from .base import EngineError

#: Defaults for a local master (tests, laptops); `data.spark.conf` overrides them.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.codegen.maxFields": "2000",  # keep whole-stage codegen for a wide aggregation
}
_SESSIONS: dict[tuple[str | None, str | None], Any] = {}


def session(
    master: str | None = None, remote: str | None = None, conf: Mapping[str, Any] | None = None
) -> Any:
    """The process's SparkSession for `master` or `remote`, created on first use.

    On later calls `conf` is applied with `spark.conf.set` (runtime settings; static ones
    such as memory only take effect on the first call).
    """
    from pyspark.sql import SparkSession

    address = master or "local[2]"
    key = (None if remote else address, remote)
    conf = {k: str(v) for k, v in dict(conf or {}).items()}
    spark = _SESSIONS.get(key)
    if spark is not None:
        for k, v in conf.items():
            with contextlib.suppress(Exception):  # a static setting cannot change on a live session
                spark.conf.set(k, v)
        return spark
    builder = SparkSession.builder
    if remote:
        builder = builder.remote(remote)
        settings = conf
    else:
        builder = builder.master(address)
        settings = (LOCAL_CONF if address.startswith("local") else {}) | conf
    for k, v in settings.items():
        builder = builder.config(k, v)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        where = remote or address
        raise EngineError(f"could not start a Spark session on {where}: {first_line(exc)}") from exc
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    _SESSIONS[key] = spark
    return spark


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
