"""Hostile strings every renderer must carry as data, never as code or markup.

`CORPUS` is placed in every free-text field and in column names (which may legitimately
hold spaces and punctuation) by `corpus_spec_text(s)`; renderer tests generate from it and
check that Python parses to the same AST shape, YAML to the same structure, notebooks
validate and Markdown shows the text escaped. Import as `from injection_corpus import ...`.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

CORPUS: list[str] = [
    'it\'s a "quoted" value',
    "'''triple''' and \"\"\"triple\"\"\"",
    "back\\slash \\n \\x00 \\",
    "carriage\rreturn",
    "nul\x00byte",
    "${{ secrets.X }}",
    "{{ config.__class__ }}",
    "{% raw %}{% endraw %}{% include 'x' %}",
    "$VAR ${HOME} $(rm -rf /) `id`",
    "<script>alert(1)</script>",
    "\nevil: true",
    "x\n- evil\n# comment\n---\nevil: true",
    "a | b || c ]] [x](javascript:alert(1)) -->",
    "unicode \u2028 line \u2029 separators \x1b[31m",
]

#: Marker text the baseline spec uses where the corpus goes (same fields, benign value).
PLACEHOLDER = "placeholder"


def _set_free_text(spec: dict[str, Any], s: str) -> None:
    """Put `s` in every free-text field of the (credit) spec dict."""
    project = spec["project"]
    project["title"] = s
    project["description"] = s
    for owner in project.get("owners", []):
        owner["name"] = s
        owner["role"] = s
        owner["contact"] = s
    for impact in spec.get("privacy", {}).get("impact", []):
        impact["stakeholder"] = s
        impact["harm"] = s
        impact["mitigation"] = s
    if spec.get("release", {}).get("next"):
        spec["release"]["next"]["changes"] = s
    signoff = {"by": s, "on": "2026-11-20", "note": s}
    for section in ("privacy", "explainability", "reproducibility"):
        if section in spec:
            spec[section]["signoff"] = dict(signoff)


def _rename_columns(spec: dict[str, Any], s: str) -> None:
    """Rename a feature, the target and the cohort `by` columns to variants of `s`."""
    data = spec["data"]
    feature, target = data["features"][0], data["target"]
    new_feature, new_target = f"{s} f", f"{s} t"
    rename = {feature: new_feature, target: new_target}
    data["features"] = [rename.get(f, f) for f in data["features"]]
    data["target"] = new_target
    data["columns"] = {rename.get(k, k): v for k, v in data.get("columns", {}).items()}
    data["columns"].setdefault(new_feature, {"dtype": "category"})
    for cohort in spec.get("cohorts", []):
        if cohort.get("by"):
            cohort["by"] = f"{s} c"
            break
    for section, key in (("explainability", "expect_top"),):
        if section in spec:
            spec[section][key] = [rename.get(f, f) for f in spec[section].get(key, [])]
    for stage in spec.get("pipeline", {}).get("stages", []):
        expect = stage.get("expect") or {}
        for key in ("columns", "not_null"):
            if isinstance(expect.get(key), list):
                expect[key] = [rename.get(c, c) for c in expect[key]]


def corpus_spec(base: dict[str, Any], s: str) -> dict[str, Any]:
    """A copy of the spec dict `base` with `s` in every free-text field and column name."""
    spec = copy.deepcopy(base)
    _set_free_text(spec, s)
    _rename_columns(spec, s)
    return spec


def corpus_spec_text(base_text: str, s: str) -> str:
    """`corpus_spec` as YAML text (yaml.safe_dump quotes and escapes every string)."""
    base = yaml.safe_load(base_text)
    return yaml.safe_dump(corpus_spec(base, s), sort_keys=False, allow_unicode=False, width=10_000)
