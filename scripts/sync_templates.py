"""Build the `mlprod init --template credit` project template from examples/credit.

examples/credit is the one source of truth for the credit project; the template under
templates/project/credit/ is a copy with the project name and the release dates turned
into cookiecutter variables. Run after editing the example:

    python scripts/sync_templates.py          # rewrite the template
    python scripts/sync_templates.py --check  # exit 1 when the template is stale (tests run this)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "credit"
TEMPLATE = ROOT / "templates" / "project" / "credit" / "{{cookiecutter.directory}}"

# What a new project gets: the code, the raw data and the spec; never generated outputs.
FILES = (
    ".gitignore",
    "README.md",
    "credit/__init__.py",
    "credit/model.py",
    "credit/pipeline.py",
    "data/README.md",
    "data/raw/german_credit.csv",
    "mlprod.yaml",
    "prepare.py",
    "pytest.ini",
    "requirements.lock",
    "scripts/measure.py",
    "serve.py",
)

# Exact lines of the example spec that become cookiecutter variables (each must match once).
# Every value goes through mlprod's one YAML emitter (the `yaml` filter of
# mlprod.generator.yamltext.YamlExtension), so a project named `on` stays a string.
SPEC_SUBSTITUTIONS = (
    ("  name: credit_default ", "  name: {{ cookiecutter.project_name | yaml }} "),
    ('  deployed: "2026-11-01"', "  deployed: {{ cookiecutter.deployed | yaml }}"),
    ('  expires: "2027-11-01"', "  expires: {{ cookiecutter.expires | yaml }}"),
    ('planned: "2027-09-01"', "planned: {{ cookiecutter.next_planned | yaml }}"),
    # The locked Python: `mlprod init` writes the major.minor of the interpreter it runs on.
    ('  python: "3.11" ', "  python: {{ cookiecutter.python | yaml }} "),
    ('python: ["3.11"]}', "python: [{{ cookiecutter.python | yaml }}]}"),
)


def template_spec(text: str) -> str:
    """The example spec with the name and release dates as cookiecutter variables."""
    if "{{" in text or "{%" in text or "{#" in text:
        raise SystemExit(
            "examples/credit/mlprod.yaml contains jinja delimiters; the template cannot carry it"
        )
    for old, new in SPEC_SUBSTITUTIONS:
        if text.count(old) != 1:
            raise SystemExit(f"examples/credit/mlprod.yaml: expected exactly one {old.strip()!r}")
        text = text.replace(old, new)
    return text


def strip_managed_block(text: str) -> str:
    """The text without mlprod's `# >>> mlprod` ... `# <<< mlprod` block."""
    start, end = text.find("# >>> mlprod"), text.find("# <<< mlprod")
    if start < 0 or end < 0:
        return text
    end = text.index("\n", end) + 1 if "\n" in text[end:] else len(text)
    return text[:start].rstrip("\n") + "\n" + text[end:]


def expected_files() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for rel in FILES:
        data = (EXAMPLE / rel).read_bytes()
        if rel == "mlprod.yaml":
            data = template_spec(data.decode("utf-8")).encode("utf-8")
        elif rel == ".gitignore":  # the managed block belongs to the example's own generate
            data = strip_managed_block(data.decode("utf-8")).encode("utf-8")
        out[rel] = data
    return out


def stale_files() -> list[str]:
    """Template files that differ from (or are missing against) the example, and extras."""
    want = expected_files()
    stale = [
        rel
        for rel, data in want.items()
        if not (TEMPLATE / rel).is_file() or (TEMPLATE / rel).read_bytes() != data
    ]
    have = (
        {p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*") if p.is_file()}
        if TEMPLATE.exists()
        else set()
    )
    stale += sorted(have - set(want))
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the template is stale; write nothing"
    )
    args = parser.parse_args()
    stale = stale_files()
    if args.check:
        for rel in stale:
            print(f"stale: templates/project/credit/{{{{cookiecutter.directory}}}}/{rel}")
        return 1 if stale else 0
    want = expected_files()
    for rel, data in want.items():
        target = TEMPLATE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if TEMPLATE.exists():
        for p in sorted(TEMPLATE.rglob("*"), reverse=True):
            rel = p.relative_to(TEMPLATE).as_posix()
            if p.is_file() and rel not in want:
                p.unlink()
    print(f"wrote {len(want)} files to {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
