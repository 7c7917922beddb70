"""The model card (`outputs.model_card`): static parts from the spec, numbers from the evaluation.

Sections follow "Model Cards for Model Reporting" (Mitchell et al., 2019), after YAML front
matter in Hugging Face's model card metadata format (`model-index` results). The numbers come
from `.mlprod/evaluation.json`, written by `mlprod evaluate`; the unit reads that file and
hashes the model artifact's bytes (it never imports user code). When the artifact exists and
its hash differs from the evaluated one, the card says the evaluation is stale, naming both
hashes, so `mlprod generate --check` fails until `mlprod evaluate` runs again; likewise when
the spec's measured settings (`settings_sha256`: data, model, checks and their bounds) differ
from the evaluated ones. A checkout without the artifact shows the recorded evaluation as is.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.schema.models import Spec

from . import _card_numbers as nums
from ._card_sections import (
    caveats,
    checklist,
    ethics,
    evaluation_data,
    factors,
    intended_use,
    metrics,
    model_details,
    owners,
    release_plan,
    training_data,
)
from ._cardfmt import cell, get, is_hex, sha

EVALUATION = ".mlprod/evaluation.json"
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")
HF_TASKS = {
    "binary_classification": ("tabular-classification", "Binary classification"),
    "multiclass_classification": ("tabular-classification", "Multiclass classification"),
    "regression": ("tabular-regression", "Regression"),
}


def read_evaluation(root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(evaluation, None), (None, None) when there is none, or (None, why) when it is unreadable."""
    import json

    path = root / EVALUATION
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{EVALUATION} could not be read ({type(exc).__name__})"
    if not isinstance(data, dict) or data.get("format") != 1:
        return None, f"{EVALUATION} is not an evaluation of format 1"
    return data, None


def artifact_sha256(root: Path, rel: str | None) -> str | None:
    """sha256 of the model artifact's bytes, or None when the spec names none or it is absent."""
    if not rel:
        return None
    path = root / rel
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: Spec sections that do not change what `mlprod evaluate` measures or the bounds it applies.
_NOT_MEASURED = {"version", "project", "release", "collaboration", "outputs", "score"}
_ENGINE_SETTINGS = ("engine", "sample_rows", "spark", "duckdb")
#: The command that refreshes the card's measured sections (it re-runs generate).
REFRESH = "mlprod evaluate"


def settings_sha256(spec: Spec) -> str:
    """sha256 of the spec's measured settings (data, model, checks and their bounds).

    `mlprod evaluate` records it; a card whose evaluation recorded another one shows old
    bounds and results, and says so. Comments, layout and unmeasured sections (project,
    release, collaboration, outputs, score) do not count.
    """
    import json

    data = spec.model_dump(mode="json", exclude=_NOT_MEASURED)
    # Where the numbers are computed is not what they measure: every engine gives the same
    # (issue 17), so the engine settings are left out, absent or default alike.
    for key in _ENGINE_SETTINGS:
        data["data"].pop(key, None)
    for ds in data["data"]["datasets"].values():
        if ds.get("table") is None:
            ds.pop("table", None)
        ds.pop("engine", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def stale_reason(spec: Spec, root: Path) -> str | None:
    """Why the card's measured sections are out of date (naming the command that refreshes
    them), or None when they are current or there is nothing measured yet."""
    ev, problem = read_evaluation(root)
    if problem or ev is None:
        return None
    recorded = get(ev, "settings_sha256")
    if is_hex(recorded) and recorded != settings_sha256(spec):
        return (
            f"the model card's measured sections use settings that {EVALUATION} recorded before "
            f"mlprod.yaml changed; run `{REFRESH}` to measure again and refresh the card"
        )
    artifact = spec.model.artifact.path if spec.model.artifact else None
    evaluated, current = get(ev, "model", "sha256"), artifact_sha256(root, artifact)
    if (get(ev, "model", "artifact") not in (None, artifact)) or (
        current is not None and is_hex(evaluated) and current != evaluated
    ):
        return f"the model card describes another model than {artifact}; run `{REFRESH}` to refresh it"
    return None


def evaluation_state(ctx: Context) -> tuple[dict[str, Any] | None, str]:
    """The evaluation to show and a one-paragraph status (escaped Markdown)."""
    ev, problem = read_evaluation(ctx.root)
    if problem:
        return None, f"**No usable evaluation**: {cell(problem)}. Run `mlprod evaluate`.\n"
    if ev is None:
        return (
            None,
            "**No evaluation yet: run `mlprod evaluate`** to measure this model and fill in the numbers.\n",
        )
    artifact = ctx.spec.model.artifact.path if ctx.spec.model.artifact else None
    evaluated, current = get(ev, "model", "sha256"), artifact_sha256(ctx.root, artifact)
    where = get(ev, "model", "artifact")
    if where is not None and where != artifact:
        return ev, (
            f"**The evaluation is stale**: it measured {cell(where)}, but the spec's model artifact is "
            f"{cell(artifact)}. Run `mlprod evaluate`.\n"
        )
    if current is not None and is_hex(evaluated) and current != evaluated:
        return ev, (
            f"**The evaluation is stale**: it measured model sha256 {sha(evaluated, short=False)}, but "
            f"{cell(artifact)} now has sha256 {sha(current, short=False)}. The numbers below describe the "
            "old model. Run `mlprod evaluate`.\n"
        )
    recorded = get(ev, "settings_sha256")
    if is_hex(recorded) and recorded != settings_sha256(ctx.spec):
        return ev, (
            "**The evaluation is stale**: mlprod.yaml's data, model or check settings changed since "
            f"`mlprod evaluate` measured these numbers on {cell(get(ev, 'date'))}, so the bounds and "
            "results below may be the old ones. Run `mlprod evaluate`.\n"
        )
    return ev, (
        f"Numbers measured by `mlprod evaluate` on {cell(get(ev, 'date'))} with model sha256 "
        f"{sha(evaluated, short=False)}.\n"
    )


@unit("model_card")
def render_model_card(ctx: Context) -> list[Artifact]:
    """MODEL_CARD.md (or outputs.model_card)."""
    ev, status = evaluation_state(ctx)
    text = front_matter(ctx.spec, ev) + card_body(ctx.spec, ev, status)
    path = PurePosixPath(ctx.spec.outputs.model_card).as_posix()  # `./MODEL_CARD.md` -> `MODEL_CARD.md`
    return [Artifact(path, text, Kind.MARKDOWN, concern=None)]


# --- front matter --------------------------------------------------------------------------


def front_matter(spec: Spec, ev: dict[str, Any] | None) -> str:
    """Hugging Face model card metadata, dumped with yaml.safe_dump."""
    import yaml

    task_type, task_name = HF_TASKS[spec.project.task.value]
    meta: dict[str, Any] = {"tags": ["mlprod", task_type, spec.project.name], "pipeline_tag": task_type}
    model_type = get(ev, "model", "type")
    if isinstance(model_type, str) and re.match(r"^sklearn(\.[A-Za-z_]\w*)+$", model_type):
        meta["library_name"] = "sklearn"
    overall = get(ev, "overall", "metrics")
    # Only names mlprod knows reach the metadata (evaluation.json is a file anyone can edit).
    dataset = get(ev, "overall", "dataset")
    known = (
        [k for k in nums.ordered(list(overall)) if k in nums.METRIC_NAMES]
        if isinstance(overall, dict)
        else []
    )
    if known and isinstance(dataset, str) and dataset in spec.data.datasets:
        path = spec.data.datasets[dataset].path
        meta["model-index"] = [
            {
                "name": spec.project.name,
                "results": [
                    {
                        "task": {"type": task_type, "name": task_name},
                        "dataset": {"name": dataset, "type": path if _PLAIN_PATH.match(path) else dataset},
                        "metrics": [
                            {"type": k, "value": overall[k], "name": nums.METRIC_NAMES[k]}
                            for k in known
                            if isinstance(overall[k], int | float) and not isinstance(overall[k], bool)
                        ],
                    }
                ],
            }
        ]
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=False, default_flow_style=False, width=10_000)
    return f"---\n{body}---\n"


# --- body ----------------------------------------------------------------------------------


def card_body(spec: Spec, ev: dict[str, Any] | None, status: str) -> str:
    p = spec.project
    parts = [f"# Model card: {cell(p.title or p.name)}\n", status]
    parts += ["## Model details\n", model_details(spec, ev)]
    parts += ["## Intended use\n", intended_use(spec)]
    parts += ["## Factors\n", factors(spec)]
    parts += ["## Metrics\n", metrics(spec)]
    parts += ["## Evaluation data\n", evaluation_data(spec, ev)]
    parts += ["## Training data\n", training_data(spec, ev)]
    parts += ["## Quantitative analyses\n"]
    if ev is None:
        parts.append("No evaluation yet: run `mlprod evaluate`.\n")
    else:
        prov = nums.provenance(ev)
        for title, fn in (
            ("Overall", nums.overall),
            ("Per-cohort metrics", nums.cohorts),
            ("Fairness", nums.fairness),
            ("Baseline comparison", nums.baseline),
            ("Input drift", nums.drift),
            ("Feature importance", nums.importances),
            ("Reason codes (examples)", nums.reason_codes),
            ("Latency and resources", nums.latency),
        ):
            parts += [f"### {title}\n", prov, fn(ev)]
    parts += ["## Ethical considerations\n", ethics(spec)]
    parts += ["## Caveats and recommendations\n", caveats(spec, ev)]
    parts += ["## Release plan\n", release_plan(spec)]
    parts += ["## Owners and review\n", owners(spec)]
    parts += ["## Production checklist: the ten concerns\n", checklist(spec)]
    parts.append(
        "---\n\n*Generated by mlprod from mlprod.yaml and .mlprod/evaluation.json. "
        "Refresh the numbers with `mlprod evaluate`.*\n"
    )
    return "\n".join(parts)
