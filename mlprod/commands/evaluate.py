"""`mlprod evaluate`: measure the model for its card, record it, refresh the card.

Loads the model and data sets named in the spec (user code only through
mlprod.checks.loading), computes every figure through mlprod.checks (the same calls the
generated tests make), writes `.mlprod/evaluation.json`, then runs `mlprod generate` so the
model card and the manifest stay consistent. `--html PATH` also writes the card as one
standalone HTML page with the per-cohort chart embedded.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlprod.errors import ExitCode, MlprodError, RefusedError

if TYPE_CHECKING:  # pragma: no cover
    from mlprod.schema.models import Spec

EVALUATION = ".mlprod/evaluation.json"


def evaluation_config(spec: Spec) -> dict[str, Any]:
    """What `mlprod.checks.evaluation.evaluate` needs, as plain data from the spec."""
    from mlprod.generator.units.suites import eval_dataset, project_config, train_dataset

    def dump(section: Any) -> dict[str, Any] | None:
        return section.model_dump(mode="json", exclude_none=True) if section is not None else None

    det = spec.determinism
    return {
        "project": project_config(spec),
        "eval_dataset": eval_dataset(spec),
        "train_dataset": train_dataset(spec),
        "cohorts": [c.model_dump(mode="json", exclude_none=True) for c in spec.cohorts],
        "fairness": dump(spec.fairness),
        "baseline": dump(spec.baseline),
        "drift": dump(spec.drift),
        "prediction_drift": dump(det.prediction_drift) if det is not None else None,
        "explainability": dump(spec.explainability),
        "infrastructure": dump(spec.infrastructure),
    }


def _environment() -> dict[str, str]:
    """Versions that decide the numbers (a different scikit-learn can change the model's bytes)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": ".".join(platform.python_version_tuple()[:2])}
    for dist in ("numpy", "pandas", "scikit-learn"):
        with contextlib.suppress(PackageNotFoundError):
            env[dist] = version(dist)
    return env


def evaluate(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the card as a standalone HTML page here.")
    ] = None,
    latency: Annotated[
        bool,
        typer.Option(
            "--latency/--no-latency",
            help="Time predictions for the card (timings differ run to run; --no-latency keeps "
            "evaluation.json byte-identical across runs).",
        ),
    ] = True,
) -> int:
    """Measure the model (metrics, cohorts, fairness, baseline, drift, importances, latency) for the card."""
    from mlprod import __version__
    from mlprod.checks.evaluation import evaluate as run_evaluation
    from mlprod.checks.evaluation import round_sig
    from mlprod.checks.formats import write_evaluation
    from mlprod.checks.release import today
    from mlprod.generator.engine import generate_project
    from mlprod.generator.writer import safe_target
    from mlprod.schema import load_spec

    started = time.perf_counter()
    loaded = load_spec(spec)
    s, root = loaded.spec, loaded.root
    date = today().isoformat()
    typer.echo(f"mlprod evaluate: {s.project.name} ({loaded.path.name}, spec sha256 {loaded.sha256[:12]})")

    def progress(step: str, seconds: float) -> None:
        typer.echo(f"  {step:<22} {seconds:6.2f} s")

    try:
        measured = run_evaluation(root, evaluation_config(s), latency=latency, progress=progress)
    except MlprodError:
        raise
    except Exception as exc:  # the user's model or data failed in a required step
        raise RefusedError(
            f"cannot evaluate the model: {type(exc).__name__}: {exc}",
            hint="train the model first (in the mlprod examples: python prepare.py)",
        ) from exc
    record = {
        **measured,
        "mlprod_version": __version__,
        "date": date,
        "project": s.project.name,
        "task": s.project.task.value,
        "spec_sha256": loaded.sha256,
        "environment": _environment(),
    }
    target = safe_target(root, EVALUATION)
    try:
        write_evaluation(target, round_sig(record))
    except OSError as exc:
        raise RefusedError(f"cannot write {EVALUATION}: {exc}") from exc
    summary = measured["summary"]
    typer.echo(
        f"  wrote {EVALUATION}: {summary['checks']} checks measured, {summary['failed']} failed, "
        f"{summary['not_judged']} not judged; model sha256 {str(measured['model']['sha256'])[:12]}"
    )
    for step, message in measured["errors"].items():
        typer.echo(f"  warning: {step} not measured: {message}", err=True)
    t0 = time.perf_counter()
    try:
        report = generate_project(loaded.path)
    except RefusedError as exc:
        raise RefusedError(
            f"{EVALUATION} was written, but the model card was not refreshed: {exc.message}",
            hint=exc.hint,
        ) from exc
    card = s.outputs.model_card
    card_state = next((a.action.value for a in report.actions if a.path == card), "not generated")
    typer.echo(f"  {'refresh model card':<22} {time.perf_counter() - t0:6.2f} s  ({card}: {card_state})")
    typer.echo("  " + report.summary().replace("\n", "\n  "))
    if html is not None:
        t0 = time.perf_counter()
        from mlprod.generator.units._card_html import card_html

        text = (root / card).read_text(encoding="utf-8")
        page = card_html(text, round_sig(record))
        out = html if html.is_absolute() else Path.cwd() / html
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(page, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise RefusedError(f"cannot write {html}: {exc}") from exc
        typer.echo(f"  {'html page':<22} {time.perf_counter() - t0:6.2f} s  ({html})")
    typer.echo(f"mlprod evaluate: done in {time.perf_counter() - started:.1f} s")
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("evaluate", short_help="Measure the model; refresh the model card.")(evaluate)
