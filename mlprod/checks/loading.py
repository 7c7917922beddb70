"""Import and call the user's callables (`module:attr` references) and models.

References are imported only when a check runs, never by `validate` or `generate`.
Semantics (DESIGN.md, "Callables"): a stage's `run` receives its inputs positionally plus
`seed=` when it accepts that keyword; `model.load` is called with no argument; earlier
versions are loaded with `load(path)` when it accepts one positional argument, else joblib.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlprod.errors import RefusedError, UsageError

# The entry-point grammar: dotted module, colon, dotted attribute path.
_REF = re.compile(
    r"^(?P<module>[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*):(?P<attr>[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*)$"
)


def load_callable(ref: str) -> Callable[..., Any]:
    """Import `module:attr.attr` and return the callable it names.

    Raises UsageError naming the module or attribute that could not be found.
    """
    match = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise UsageError(f"{ref!r} is not a `module:callable` reference")
    module_name, attr_path = match["module"], match["attr"]
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Distinguish "the module itself is missing" from "it imports something missing".
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise UsageError(
                f"cannot import module {module_name!r} (from {ref!r}): {exc}",
                hint="run the checks from the project root, or install the project (pip install -e .)",
            ) from exc
        raise UsageError(f"importing module {module_name!r} (from {ref!r}) failed: {exc}") from exc
    except SyntaxError as exc:  # say where, not the exception's repr
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else f"line {exc.lineno}"
        problem = f"{type(exc).__name__} at {where}: {exc.msg}"
        raise UsageError(f"importing module {module_name!r} (from {ref!r}) failed: {problem}") from exc
    except Exception as exc:  # an error inside the user's module
        raise UsageError(f"importing module {module_name!r} (from {ref!r}) failed: {exc!r}") from exc
    walked = module_name
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{walked!r} has no attribute {part!r} (from {ref!r})")
        obj = getattr(obj, part)
        walked = f"{walked}.{part}" if walked != module_name else f"{module_name}:{part}"
    if not callable(obj):
        raise UsageError(f"{ref!r} is not callable (it is a {type(obj).__name__})")
    return obj


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins and C extensions have none
        return None


def accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    """True when `fn` can be called with `name=` (explicitly or through **kwargs)."""
    sig = _signature(fn)
    if sig is None:
        return False
    for param in sig.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return True
        if param.name == name and param.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            return True
    return False


def accepts_one_positional(fn: Callable[..., Any]) -> bool:
    """True when `fn(x)` is a valid call (one positional argument, the rest optional)."""
    sig = _signature(fn)
    if sig is None:
        return False
    try:
        sig.bind(object())
    except TypeError:
        return False
    return True


def call_stage(fn: Callable[..., Any], inputs: Sequence[Any], seed: int | None = None) -> Any:
    """Call a stage with its inputs positionally, plus `seed=` when it accepts that keyword."""
    if seed is not None and accepts_keyword(fn, "seed"):
        return fn(*inputs, seed=seed)
    return fn(*inputs)


def load_model(load_ref: str, root: str | Path | None = None) -> Any:
    """The deployed model: `load()` called with no argument, from the project root.

    The root is put on sys.path (first) for the import, so `credit.model:load_model`
    resolves against the project folder, and the current directory is the root during
    the call, so relative artifact paths inside `load()` work.
    """
    fn = _load_from_root(load_ref, root)
    with _in_dir(root):
        return fn()


def load_previous(load_ref: str | None, path: str | Path, root: str | Path | None = None) -> Any:
    """An earlier model version: `load(path)` when load accepts one argument, else joblib.load(path)."""
    path = Path(path)
    if root is not None and not path.is_absolute():
        path = Path(root) / path
    if not path.exists():
        raise RefusedError(f"previous model artifact {path} does not exist")
    if load_ref:
        fn = _load_from_root(load_ref, root)
        if accepts_one_positional(fn):
            with _in_dir(root):
                return fn(str(path))
    import joblib

    return joblib.load(path)


def predict_scores(
    model: Any, X: Any, method: str = "predict_proba", *, multiclass: bool = False, k: int = 3
) -> Any:
    """Call `model.<method>(X)` and return its scores.

    Binary classifiers and regressors: a 1-D float array (for `predict_proba` with two columns,
    column 1; more columns raise UsageError). Multiclass (`multiclass=True`): the probability
    matrix as a `ClassProba` whose columns are the model's `classes_`; `k` is the k of
    `top_k_accuracy`. Labels from a multiclass `predict` stay 1-D.
    """
    import numpy as np

    if not hasattr(model, method):
        raise UsageError(f"the model ({type(model).__name__}) has no method {method!r}")
    out = np.asarray(getattr(model, method)(X))
    if out.ndim == 2 and multiclass:
        from .metrics_multiclass import ClassProba

        return ClassProba(out.astype(float), model_classes(model, out.shape[1]), k=k)
    if out.ndim == 2:
        if out.shape[1] == 2:
            out = out[:, 1]
        elif out.shape[1] == 1:
            out = out[:, 0]
        else:
            raise UsageError(
                f"{type(model).__name__}.{method} returned {out.shape[1]} columns; a 1-D score needs a "
                "binary classifier or a regressor (for more classes set project.task: "
                "multiclass_classification)"
            )
    elif out.ndim != 1:
        raise UsageError(f"{type(model).__name__}.{method} returned an array of shape {out.shape}")
    try:
        return out.astype(float)
    except (TypeError, ValueError):
        return out  # class labels (e.g. strings) from predict of a classifier


def model_classes(model: Any, n_columns: int) -> list[Any]:
    """The classes of the columns of a multiclass `predict_proba`: the model's `classes_`.

    Raises UsageError when the model has none, or not one per column.
    """
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise UsageError(
            f"the model ({type(model).__name__}) returned {n_columns} probability columns but has no "
            "`classes_` attribute naming them",
            hint="give the model a `classes_` list in the column order of predict_proba (scikit-learn "
            "models and pipelines have one)",
        )
    listed = [c.item() if hasattr(c, "item") else c for c in list(classes)]
    if len(listed) != n_columns:
        raise UsageError(
            f"the model has {len(listed)} classes_ but predict_proba returned {n_columns} columns"
        )
    return listed


def _load_from_root(load_ref: str, root: str | Path | None) -> Callable[..., Any]:
    import sys

    if root is not None:
        root_s = str(Path(root).resolve())
        if root_s not in sys.path:
            sys.path.insert(0, root_s)
    return load_callable(load_ref)


class _in_dir:
    """Context manager: chdir into `path` (None: stay)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self.old: str | None = None

    def __enter__(self) -> None:
        import os

        if self.path is not None:
            self.old = os.getcwd()
            os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        import os

        if self.old is not None:
            os.chdir(self.old)
