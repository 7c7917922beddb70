"""`mlprod record`: write the golden predictions that the determinism checks compare with."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from mlprod.errors import ExitCode, MlprodError, RefusedError, UsageError


def record(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a file at the golden path that is not a golden file.")
    ] = False,
) -> int:
    """Write the golden predictions the determinism checks compare with.

    Scores the first `determinism.golden.rows` rows of the evaluation data set. The file
    records the model artifact's hash, so a later check can tell a changed model from a
    non-deterministic one. Re-run it to see whether the predictions changed.
    """
    import numpy as np

    from mlprod.checks.determinism import read_golden
    from mlprod.checks.formats import GOLDEN_MAGIC, golden_text
    from mlprod.checks.project import Project
    from mlprod.generator import writer
    from mlprod.generator.units.suites import eval_dataset, project_config
    from mlprod.schema import load_spec

    loaded = load_spec(spec)
    s = loaded.spec
    if s.determinism is None or s.determinism.golden is None:
        raise UsageError(
            "the spec declares no golden predictions: nothing to record",
            hint="add determinism.golden: {path: tests/golden/predictions.csv, rows: 100} to mlprod.yaml",
        )
    golden = s.determinism.golden
    dataset = eval_dataset(s)
    project = Project(loaded.root, project_config(s))
    rows = project.dataset(dataset).iloc[: golden.rows]
    id_column = s.data.id_column
    if id_column is not None and id_column not in rows.columns:
        raise UsageError(f"data set {dataset} has no id column {id_column!r} (data.id_column)")
    ids = rows[id_column].astype(str).tolist() if id_column else [str(i) for i in range(len(rows))]
    X = project.X(dataset).iloc[: golden.rows]  # names missing feature columns, refuses an empty set
    model = project.model()  # a failing load() is a ModelLoadError (exit 3), named
    scores = project.predict_fn(model)(X)
    sha = project.model_sha256()
    rel = PurePosixPath(golden.path).as_posix()
    target = loaded.root / rel
    try:
        with writer.ProjectDir(loaded.root) as pd:  # refuses a symlinked golden file or folder
            exists = pd.read_bytes(rel) is not None
        before = read_golden(target) if exists else None
    except MlprodError as exc:  # not a golden file (or a damaged one): never overwrite it blindly
        if not force or isinstance(exc, RefusedError):
            raise RefusedError(
                f"{golden.path} exists but cannot be read as golden predictions ({exc.message}); "
                "nothing was written",
                hint="if it is an old golden file, delete it and run `mlprod record` again (or pass "
                "--force); otherwise point determinism.golden.path at another file",
            ) from exc
        before = None
    removed = writer.write_file(
        loaded.root,
        rel,
        golden_text(ids, scores, sha),
        owned=lambda data: data.startswith(GOLDEN_MAGIC.encode()),
        force=force,
    )
    if removed:
        typer.echo(writer.stale_note(removed), err=True)
    short = sha[:12] if sha else "unknown"
    head = f"{golden.path}: {len(ids)} predictions of data set {dataset}, model sha256 {short}"
    if before is None:
        typer.echo(f"{head} (new)")
    elif before.ids == ids and before.scores.shape == np.shape(scores):
        diff = np.abs(np.asarray(scores, dtype=float) - before.scores)
        changed = int((diff > golden.tolerance).sum())
        model_note = (
            "" if before.model_sha256 == sha else f"; model changed from {str(before.model_sha256)[:12]}"
        )
        if changed or model_note:
            typer.echo(f"{head}: {changed} predictions changed (max difference {diff.max():.3g}){model_note}")
        else:
            typer.echo(f"{head}: unchanged")
    else:
        typer.echo(f"{head}: rows changed ({len(before.ids)} -> {len(ids)} rows or different ids)")
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("record", short_help="Write the golden predictions.")(record)
