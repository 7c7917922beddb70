"""The runtime facade of the generated tests: one project, its data, its model, its checks.

The generated `conftest.py` builds one `Project(root, config)` per test session, where
`config` is a dict literal of what the tests need (data sets, model reference, features,
target, stages). Data sets, the model, scores and the sampled pipeline run are loaded once
and cached. Each `check_*` method takes the spec values of one check as plain data and
returns `CheckResult`s from the concern modules, so the generated tests stay one line each:
`ensure(project.check_x(...))`.

Missing inputs raise `MissingInput` with what to do about it (train the model, run
`mlprod lock`); the conftest turns that into a clean failure, or a skip when the input is
optional (the prediction log). A failed check raises `CheckFailure` with the result's message.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mlprod.errors import MlprodError, RefusedError

from .project_checks import TRAIN_HINT, CheckFailure, ConcernChecks, MissingInput, StageError, ensure
from .project_governance import GovernanceChecks
from .project_quality import QualityChecks

__all__ = ["TRAIN_HINT", "CheckFailure", "MissingInput", "ModelLoadError", "Project", "StageError", "ensure"]


DATA_HINT = "create the data (in the mlprod examples: python prepare.py)"


class ModelLoadError(RefusedError):
    """The deployed model's `load()` raised (a corrupt artifact, a bug in it): exit 3 through the CLI."""


class Project(ConcernChecks, GovernanceChecks, QualityChecks):
    """A project under test: paths relative to `root`, settings from the generated `config`.

    Config keys: task, target, positive_label, id_column, features, datasets {name: path},
    model {load, artifact, predict, threshold}, stages {name: {run, inputs}} in run order,
    sample_rows, seed.
    """

    def __init__(self, root: str | Path, config: Mapping[str, Any]) -> None:
        self.root = Path(root).resolve()
        self.config = dict(config)
        self.features_list: list[str] = list(config.get("features", []))
        self.target: str | None = config.get("target")
        self.task: str = config.get("task", "binary_classification")
        self.model_cfg: dict[str, Any] = dict(config.get("model", {}))
        self.predict_method: str = self.model_cfg.get("predict") or (
            "predict" if self.task == "regression" else "predict_proba"
        )
        self.stages: dict[str, dict[str, Any]] = dict(config.get("stages", {}))
        self.seed: int | None = config.get("seed")
        self._cache: dict[tuple[Any, ...], Any] = {}

    # --- inputs ---------------------------------------------------------------------------

    def _cached(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def path(self, rel: str) -> Path:
        """A spec path (relative POSIX) under the project root."""
        return self.root / rel

    def require_file(self, rel: str, what: str, hint: str | None = None, *, optional: bool = False) -> Path:
        """The path of an input file, or MissingInput naming it and what to do."""
        p = self.path(rel)
        if not p.is_file():
            raise MissingInput(f"{rel} not found ({what})", optional=optional, hint=hint)
        return p

    # --- engines (issue 17): data-only checks read tables, model-based ones a sample ----------

    def engine_name(self, name: str) -> str:
        """The engine of data set `name` (config "engines" from the spec's data section; pandas without)."""
        engines = self.config.get("engines")
        if not engines:
            return "pandas"
        return self._engines().engine_name(name)

    def _engines(self) -> Any:
        from mlprod.engines import Engines

        return self._cached(("engines",), lambda: Engines(self.config.get("engines") or {}, self.root))

    def table(self, name: str) -> Any:
        """Data set `name` as an engine table: where the data-only checks compute their aggregates.

        With the pandas engine, the loaded DataFrame (so both kinds of checks share one load).
        """

        def open_table() -> Any:
            if self.engine_name(name) == "pandas":
                from mlprod.engines.pandas import PandasEngine

                return PandasEngine().from_frame(self.dataset(name), name=name)
            from mlprod.engines import EngineError

            try:
                return self._engines().table(name)
            except EngineError as exc:
                raise MissingInput(f"data set {name}: {exc}", hint=DATA_HINT) from exc

        return self._cached(("table", name), open_table)

    def data_for_checks(self, name: str) -> Any:
        """What a data-only check reads: the DataFrame on pandas, else the engine table (never a sample)."""
        return self.dataset(name) if self.engine_name(name) == "pandas" else self.table(name)

    def dataset(self, name: str) -> Any:
        """The data set `name` as a DataFrame (loaded once).

        A data set on the duckdb or spark engine is never loaded whole: this is the engine's
        seeded sample of `data.sample_rows` rows (by a hash of the id column), the rows the
        model-based checks run on; data-only checks use `table(name)`.
        """
        from .data import load_table

        if self.engine_name(name) != "pandas":
            rows = int((self.config.get("engines") or {}).get("sample_rows") or 200)
            return self._cached(
                ("dataset", name),
                lambda: self.table(name).sample(rows, self.seed or 0, id_column=self.config.get("id_column")),
            )

        def load() -> Any:
            datasets = self.config.get("datasets", {})
            if name not in datasets:
                raise MissingInput(
                    f"data set {name!r} is not declared (data.datasets: {', '.join(datasets)})"
                )
            rel = datasets[name]
            if glob.has_magic(rel):  # a glob: its files in sorted order, concatenated
                files = sorted(p for p in glob.glob(str(self.path(rel))) if Path(p).is_file())
                if not files:
                    raise MissingInput(f"no file matches {rel} (data set {name})", hint=DATA_HINT)
                import pandas as pd

                return pd.concat([load_table(f) for f in files], ignore_index=True)
            self.require_file(rel, f"data set {name}", DATA_HINT)
            return load_table(self.path(rel))

        return self._cached(("dataset", name), load)

    def X(self, name: str) -> Any:
        """The model's feature columns of a data set."""
        df = self.dataset(name)
        missing = [c for c in self.features_list if c not in df.columns]
        if missing:
            raise MissingInput(f"data set {name} lacks feature column(s) {', '.join(missing)}")
        if len(df) == 0:  # nothing to score; the model would fail with its own obscure error
            where = self.config.get("datasets", {}).get(name, name)
            raise MissingInput(f"data set {name} ({where}) has no rows", hint=DATA_HINT)
        return df.loc[:, self.features_list]

    def y(self, name: str) -> Any:
        """The target of a data set: 0/1 for binary classification (1 = positive_label), else its values."""
        df = self.dataset(name)
        if self.target not in df.columns:
            raise MissingInput(f"data set {name} has no target column {self.target!r}")
        y = df[self.target]
        if self.task == "binary_classification":
            from .metrics import to_binary

            return to_binary(y.to_numpy(), self.config.get("positive_label"))
        return y.to_numpy()

    def model(self) -> Any:
        """The deployed model: `model.load` called with no argument (loaded once)."""
        from .loading import load_model

        def load() -> Any:
            artifact = self.model_cfg.get("artifact")
            if artifact:
                self.require_file(artifact, "the model artifact", TRAIN_HINT)
            ref = self.model_cfg["load"]
            try:
                return load_model(ref, self.root)
            except MlprodError:
                raise
            except Exception as exc:  # the user's load() failed (corrupt artifact, bug in it)
                source = f" from {artifact}" if artifact else ""
                raise ModelLoadError(
                    f"cannot load the model{source} with {ref}: {type(exc).__name__}: {exc}",
                    hint="retrain or re-save the model artifact (in the mlprod examples: python prepare.py), "
                    f"or fix {ref}",
                ) from exc

        return self._cached(("model",), load)

    def model_sha256(self) -> str | None:
        """Hash of the model artifact file (None when the spec names none)."""
        from .data import file_sha256

        artifact = self.model_cfg.get("artifact")
        if not artifact:
            return None
        return file_sha256(self.require_file(artifact, "the model artifact", TRAIN_HINT))

    def predict_fn(self, model: Any = None) -> Callable[[Any], Any]:
        """`X -> 1-D scores` of the deployed model (or `model`)."""
        from .loading import predict_scores

        m = self.model() if model is None else model
        method = self.predict_method
        return lambda X: predict_scores(m, X, method)

    def scores(self, name: str) -> Any:
        """Scores of the deployed model on a data set (computed once)."""
        return self._cached(("scores", name), lambda: self.predict_fn()(self.X(name)))

    def previous(self, rel: str) -> Any:
        """An earlier model version, loaded from its artifact path."""
        from .loading import load_previous

        def load() -> Any:
            # No previous version is nothing to compare with: the test skips (not judged); the
            # lock's hash check still fails when a locked previous artifact goes missing.
            self.require_file(
                rel, "no previous version: the previous model version", TRAIN_HINT, optional=True
            )
            return load_previous(self.model_cfg.get("load"), rel, self.root)

        return self._cached(("previous", rel), load)

    def previous_scores(self, rel: str, name: str) -> Any:
        """Scores of an earlier model version on a data set (computed once)."""
        return self._cached(
            ("previous_scores", rel, name), lambda: self.predict_fn(self.previous(rel))(self.X(name))
        )

    def threshold(self) -> float:
        return float(self.model_cfg.get("threshold", 0.5))

    # --- the pipeline, run on samples ------------------------------------------------------

    def sample(self, name: str) -> Any:
        """`sample_rows` rows of a data set, drawn with the seed (the same rows every run)."""
        from .data import sample_rows

        n = int(self.config.get("sample_rows", 200))
        return self._cached(("sample", name), lambda: sample_rows(self.dataset(name), n, self.seed))

    def run_stages(
        self,
        names: Iterable[str] | None = None,
        *,
        full: bool = False,
        replace: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run stages in order on sampled (or `full`) data sets; {stage: output or StageError}.

        A stage whose input stage failed is not run: its entry is a StageError naming the input.
        `replace` maps a data set name to another one (retraining from a different data set).
        """
        from .loading import call_stage, load_callable

        wanted = list(self.stages) if names is None else [n for n in self.stages if n in set(names)]
        outputs: dict[str, Any] = {}
        for stage in wanted:
            spec = self.stages[stage]
            inputs: list[Any] = []
            error: StageError | None = None
            for inp in spec.get("inputs", []):
                if inp in self.stages:
                    value = outputs.get(inp)
                    if value is None or isinstance(value, StageError):
                        error = StageError(stage, f"its input stage {inp} failed")
                        break
                    inputs.append(value)
                else:
                    ds = (replace or {}).get(inp, inp)
                    inputs.append(self.dataset(ds) if full else self.sample(ds))
            if error is None:
                try:
                    fn = load_callable(spec["run"])
                    outputs[stage] = call_stage(fn, inputs, seed=self.seed)
                    continue
                except MlprodError:
                    raise
                except Exception as exc:  # the user's stage failed: report it, don't crash the session
                    error = StageError(stage, f"raised {type(exc).__name__}: {exc}")
            outputs[stage] = error
        return outputs

    def stage_outputs(self) -> dict[str, Any]:
        """Every stage's output on the sampled data (run once per session)."""
        self._path_ready()
        return self._cached(("stages",), self.run_stages)

    def stage_inputs(self, stage: str) -> list[Any]:
        """The inputs a stage received in the sampled run (data set samples and stage outputs)."""
        outs = self.stage_outputs()
        return [outs[i] if i in self.stages else self.sample(i) for i in self.stages[stage].get("inputs", [])]

    def stage_output(self, stage: str) -> Any:
        """A stage's output in the sampled run; raises CheckFailure when the stage failed."""
        out = self.stage_outputs().get(stage)
        if isinstance(out, StageError):
            raise CheckFailure(str(out))
        return out

    def ancestors(self, stage: str) -> list[str]:
        """The stages that feed `stage`, and itself, in run order."""
        need = {stage}
        for name in reversed(list(self.stages)):
            if name in need:
                need.update(i for i in self.stages[name].get("inputs", []) if i in self.stages)
        return [n for n in self.stages if n in need]

    def _path_ready(self) -> None:
        import sys

        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
