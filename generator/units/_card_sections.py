"""The spec-derived sections of the model card (details, use, factors, metrics, data, ethics, plan, owners).

Every spec string is escaped with `cell`; numbers are formatted with `num`.
"""

from __future__ import annotations

from typing import Any

from mlprod.generator.ci_common import ci_pythons
from mlprod.schema.models import Spec

from mlprod import CONCERNS

from . import _card_numbers as nums
from ._cardfmt import bullet_list, cell, contact, get, names, num, sha, table

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


def _prediction(spec: Spec) -> str:
    """How the model predicts: the method, and the decision threshold of a binary classifier."""
    if spec.model.threshold is None:  # regression and multiclass have no threshold
        return cell(spec.predict_method)
    return f"{cell(spec.predict_method)}, decision threshold {num(spec.model.threshold, 2)}"


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
        ["Prediction", _prediction(spec)],
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
    decisions = (
        f"Decisions use the threshold {num(spec.model.threshold, 2)} on the model's score. "
        if spec.model.threshold is not None
        else ""
    )
    text = (
        f"{decisions}The overall table reports the standard metrics of the task; these limits are "
        "checked by the generated tests:\n\n"
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
        ["CI", f"{names([p.value for p in r.ci.providers])} on Python {names(ci_pythons(spec))}"],
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
