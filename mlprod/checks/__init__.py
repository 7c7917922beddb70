"""The runtime library that generated tests, notebooks and `mlprod evaluate` call.

Each check is written and tested once here and called with spec values passed as plain
data. This package imports nothing from mlprod.schema, mlprod.generator, jinja2 or typer.
"""

from .results import CheckResult

__all__ = ["CheckResult"]
