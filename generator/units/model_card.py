"""The model card (`outputs.model_card`): static parts from the spec, numbers from the evaluation.

Sections follow "Model Cards for Model Reporting" (Mitchell et al., 2019), after YAML front
matter in Hugging Face's model card metadata format (`model-index` results). The numbers come
from `.mlprod/evaluation.json`, written by `mlprod evaluate`; the unit reads that file and
hashes the model artifact's bytes (it never imports user code). When the artifact exists and
its hash differs from the evaluated one, the card says the evaluation is stale, naming both
hashes, so `mlprod generate --check` fails until `mlprod evaluate` runs again. A checkout
without the artifact (models are often not committed) shows the recorded evaluation as is.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.schema.models import Spec

from mlprod import CONCERNS

from . import _card_numbers as nums
from ._cardfmt import bullet_list, cell, contact, get, is_hex, names, num, sha, table

EVALUATION = ".mlprod/evaluation.json"
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")
CONCERN_TITLES = {
    "pipeline": "Whole-pipeline testing",
    "determinism": "Determinism after deployment",
    "infrastructure": "Infrastructure",
    "bias": "Implicit bias and input drift",
    "release": "CI/CD, versioning, release plan",
    "privacy": "Privacy, compliance, impact matrix",
    "baseline": "Production model vs baseline",
    "reproducibility": "Reproducibility",
    "explainability": "Explainability",
    "collaboration": "Collaboration and regression",
}
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
    return ev, (
        f"Numbers measured by `mlprod evaluate` on {cell(get(ev, 'date'))} with model sha256 "
        f"{sha(evaluated, short=False)}.\n"
    )


@unit("model_card")
def render_model_card(ctx: Context) -> list[Artifact]:
    """MODEL_CARD.md (or outputs.model_card)."""
    ev, status = evaluation_state(ctx)
    text = front_matter(ctx.spec, ev) + card_body(ctx.spec, ev, status)
    return [Artifact(ctx.spec.outputs.model_card, text, Kind.MARKDOWN, concern=None)]


# --- front matter --------------------------------------------------------------------------


def front_matter(spec: Spec, ev: dict[str, Any] | None) -> str:
    """Hugging Face model card metadata, dumped with yaml.safe_dump."""
    import yaml

    task_type, task_name = HF_TASKS[spec.project.task.value]
    meta: dict[str, Any] = {"tags": ["mlprod", task_type, spec.project.name], "pipeline_tag": task_type}
    model_type = get(ev, "model", "type")
    if isinstance(model_type, str) and re.match(r"^sklearn(\.[A-Za-z_]\w*)+$", model_type):
        meta["library_name"] = "sklearn"
    metrics = get(ev, "overall", "metrics")
    # Only names mlprod knows reach the metadata (evaluation.json is a file anyone can edit).
    dataset = get(ev, "overall", "dataset")
    known = (
        [k for k in nums.ordered(list(metrics)) if k in nums.METRIC_NAMES]
        if isinstance(metrics, dict)
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
                            {"type": k, "value": metrics[k], "name": nums.METRIC_NAMES[k]}
                            for k in known
                            if isinstance(metrics[k], int | float) and not isinstance(metrics[k], bool)
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


def model_details(spec: Spec, ev: dict[str, Any] | None) -> str:
    r = spec.release
    art = spec.model.artifact
    rows = [
        ["Name", cell(spec.project.name)],
        ["Task", cell(spec.project.task.value.replace("_", " "))],
        ["Version", cell(r.version) if r else "not declared"],
        ["Release stage", cell(r.stage.value) if r else "–"],
        ["Deployed", cell(r.deployed) if r else "–"],
        ["Expires", cell(r.expires) if r else "–"],
        ["Artifact", cell(art.path) if art else "–"],
        ["Loaded with", cell(spec.model.load)],
        ["Prediction", f"{cell(spec.predict_method)}, decision threshold {num(spec.model.threshold, 2)}"],
    ]
    model_type = get(ev, "model", "type")
    if model_type:
        rows.append(["Model type (evaluated)", cell(model_type)])
    return table(["Field", "Value"], rows)


def intended_use(spec: Spec) -> str:
    p = spec.project
    text = (
        f"{cell(p.description)}\n" if p.description else "No description in the spec (project.description).\n"
    )
    if spec.release and spec.release.expires:
        text += (
            f"\nUse it only until {cell(spec.release.expires)}, when it must be retrained or re-approved.\n"
        )
    return text


def _cohort_definition(c: Any) -> str:
    if c.where:
        return " and ".join(f"{cell(f.column)} {cell(f.op.value)} {cell(f.value)}" for f in c.where)
    if c.bins:
        edges = ", ".join(num(float(b), 0) if float(b).is_integer() else num(float(b)) for b in c.bins)
        return f"{cell(c.by)} in bins with edges {edges}"
    return f"one group per value of {cell(c.by)}"


def factors(spec: Spec) -> str:
    protected = set(spec.fairness.protected) if spec.fairness else set()
    if not spec.cohorts:
        return "No cohorts declared: quality is not broken down by group.\n"
    rows = [
        [cell(c.name), _cohort_definition(c), "yes" if c.name in protected else "no"] for c in spec.cohorts
    ]
    text = "Quality is broken down by these cohorts (the `cohorts` section):\n\n"
    text += table(["Cohort", "Definition", "Protected"], rows)
    if spec.privacy and spec.privacy.sensitive:
        text += f"\nSensitive attributes: {names(spec.privacy.sensitive)}.\n"
    return text


def metrics(spec: Spec) -> str:
    rows: list[list[str]] = []
    f = spec.fairness
    if f is not None:
        for m, v in sorted(f.max_gap.items()):
            rows.append(
                [f"{nums.metric_name(m.value)} gap across each protected cohort", f"at most {num(v, 2)}"]
            )
        for m, v in sorted(f.min.items()):
            rows.append(
                [f"{nums.metric_name(m.value)} of every judged cohort group", f"at least {num(v, 2)}"]
            )
        if f.demographic_parity_difference is not None:
            rows.append(
                ["Demographic parity difference", f"at most {num(f.demographic_parity_difference, 2)}"]
            )
        if f.equalized_odds_difference is not None:
            rows.append(["Equalized odds difference", f"at most {num(f.equalized_odds_difference, 2)}"])
    b = spec.baseline
    if b is not None:
        rows.append(
            [
                f"{nums.metric_name(b.metric.value)} lift over each dummy model",
                f"at least {num(b.min_lift, 2)}",
            ]
        )
        if b.previous is not None:
            rows.append(
                [
                    f"{nums.metric_name(b.metric.value)} drop against the previous version",
                    f"at most {num(b.previous.max_drop, 2)}",
                ]
            )
    d = spec.drift
    if d is not None:
        rows.append(
            [f"Numeric feature drift ({cell(d.numeric.method.value)})", f"at most {num(d.numeric.max, 2)}"]
        )
        rows.append(
            [
                f"Categorical feature drift ({cell(d.categorical.method.value)})",
                f"at most {num(d.categorical.max, 2)}",
            ]
        )
    text = (
        f"Decisions use the threshold {num(spec.model.threshold, 2)} on the model's score. "
        "The overall table reports the standard metrics of the task; these limits are checked by "
        "the generated tests:\n\n"
    )
    return text + (table(["Limit", "Bound"], rows) if rows else "No limits declared.\n")


def _datasets_table(spec: Spec, ev: dict[str, Any] | None, wanted: list[str]) -> str:
    rows = []
    for name in wanted:
        ds = spec.data.datasets.get(name)
        if ds is None:
            continue
        rows.append(
            [
                cell(name),
                cell(ds.path),
                num(get(ev, "datasets", name, "rows")),
                sha(get(ev, "datasets", name, "sha256")),
            ]
        )
    return table(["Data set", "Path", "Rows", "sha256 (evaluated)"], rows, ["l", "l", "r", "l"])


def evaluation_data(spec: Spec, ev: dict[str, Any] | None) -> str:
    used = ["test" if "test" in spec.data.datasets else next(iter(spec.data.datasets))]
    for section, keys in (
        (spec.baseline, ["dataset"]),
        (spec.fairness, ["dataset"]),
        (spec.drift, ["reference", "current"]),
        (spec.explainability, ["dataset"]),
    ):
        if section is not None:
            used += [getattr(section, k) for k in keys]
    used = list(dict.fromkeys(used))
    return "The data sets the numbers below were measured on:\n\n" + _datasets_table(spec, ev, used)


def training_data(spec: Spec, ev: dict[str, Any] | None) -> str:
    text = ""
    if "train" in spec.data.datasets:
        text += _datasets_table(spec, ev, ["train"]) + "\n"
    text += f"Target: {cell(spec.data.target)}"
    if spec.data.positive_label is not None:
        text += f" (positive label {cell(spec.data.positive_label)})"
    text += f". The model sees only these {len(spec.data.features)} features: {names(spec.data.features)}.\n"
    if spec.privacy and spec.privacy.pii:
        text += f"\nPII columns, never features: {names(spec.privacy.pii)}.\n"
    return text


def ethics(spec: Spec) -> str:
    pv = spec.privacy
    if pv is None:
        return "No privacy section declared: no impact matrix, regulations or retention are recorded.\n"
    text = ""
    if pv.impact:
        rows = [
            [
                cell(i.stakeholder),
                cell(i.harm),
                cell(i.likelihood.value),
                cell(i.severity.value),
                cell(i.mitigation),
            ]
            for i in pv.impact
        ]
        text += "Impact matrix (`privacy.impact`):\n\n"
        text += table(["Stakeholder", "Harm", "Likelihood", "Severity", "Mitigation"], rows) + "\n"
    facts = [
        f"Regulations: {names(pv.regulations)}",
        f"PII columns (never features, scanned in data and stage outputs): {names(pv.pii)}",
        f"Sensitive attributes: {names(pv.sensitive)}",
        f"Quasi-identifiers: {names(pv.quasi_identifiers)}"
        + (f" (k-anonymity at least {pv.k_anonymity.min_k})" if pv.k_anonymity else ""),
        f"Retention: {num(pv.retention_days)} days" if pv.retention_days else "Retention: not declared",
    ]
    return text + bullet_list(facts)


def caveats(spec: Spec, ev: dict[str, Any] | None) -> str:
    text = ""
    if ev is None:
        text += "- The model has not been evaluated by mlprod yet: run `mlprod evaluate`.\n"
    else:
        failed = nums.failed_checks(ev)
        if failed:
            text += f"- {len(failed)} check(s) failed at evaluation:\n" + "".join(
                f"  - {m}\n" for m in failed
            )
        small = nums.not_judged_groups(ev)
        if small:
            text += f"- Too few rows to judge: {', '.join(small)}. Collect more data before trusting them.\n"
        errors = get(ev, "errors")
        for step, message in sorted(errors.items() if isinstance(errors, dict) else []):
            text += f"- Not measured ({cell(step)}): {cell(message)}\n"
    general = [
        "Reason codes are local what-if changes of the score, not causes.",
        "The numbers hold for data like the data sets named above.",
    ]
    if spec.release and spec.release.expires:
        general.append(f"Retrain or re-approve before {cell(spec.release.expires)}.")
    return text + bullet_list(general)


def release_plan(spec: Spec) -> str:
    r = spec.release
    if r is None:
        return "No release section declared.\n"
    rows = [
        ["Version", cell(r.version)],
        ["Stage", cell(r.stage.value)],
        ["Deployed", cell(r.deployed)],
        ["Expires", cell(r.expires)],
        [
            "Next release",
            f"{cell(r.next.version)} planned {cell(r.next.planned)}: {cell(r.next.changes)}"
            if r.next
            else "–",
        ],
        ["Rollback to", cell(r.rollback_to)],
        [
            "Registry",
            f"{cell(r.registry.kind.value)} {cell(r.registry.path or r.registry.name)}"
            if r.registry
            else "–",
        ],
        ["CI", f"{names([p.value for p in r.ci.providers])} on Python {names(r.ci.python)}"],
    ]
    return table(["Field", "Value"], rows)


def owners(spec: Spec) -> str:
    rows = [[cell(o.name), cell(o.role), contact(o.contact), cell(o.handle)] for o in spec.project.owners]
    text = table(["Owner", "Role", "Contact", "Handle"], rows) if rows else "No owners declared.\n"
    c = spec.collaboration
    if c is not None and c.review is not None:
        n = c.review.required_approvals
        text += f"\nEvery change needs {n} approving review{'s' if n != 1 else ''}.\n"
    if c is not None and c.codeowners:
        rows = [[cell(k), names(v)] for k, v in c.codeowners.items()]
        text += "\nCode owners:\n\n" + table(["Path", "Owners"], rows)
    return text


def checklist(spec: Spec) -> str:
    rows = []
    manual: list[str] = []
    for i, concern in enumerate(CONCERNS, start=1):
        mode = spec.concern_mode(concern)
        title = CONCERN_TITLES.get(concern, concern)
        if mode is None:
            status = "not declared"
        elif mode == "automated":
            status = "automated (generated tests)"
        else:
            status = "manual"
            sign = next((s.signoff for s in spec.concern_sections(concern) if s.signoff), None)
            if sign is not None:
                note = f" ({cell(sign.note)})" if sign.note else ""
                manual.append(f"- [x] {title}: signed off by {cell(sign.by)} on {cell(sign.on)}{note}\n")
            else:
                manual.append(f"- [ ] {title}: checked by hand, not signed off yet\n")
        rows.append([str(i), title, f"`{concern}`", status])
    text = table(["#", "Concern", "Id", "Status"], rows, ["r", "l", "l", "l"])
    if manual:
        text += "\nManual checks:\n\n" + "".join(manual)
    return text
