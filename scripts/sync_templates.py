"""Build the `mlprod init --template NAME` project templates from the examples they copy.

Each synced example is the one source of truth for its project; its template under
templates/project/<name>/ is a copy with the project name and the release dates turned
into cookiecutter variables. Only the examples listed in TEMPLATES have a template
(examples/credit); the others (examples/chile) are not scaffolded by `mlprod init`. Run
after editing a synced example:

    python scripts/sync_templates.py          # rewrite the templates
    python scripts/sync_templates.py --check  # exit 1 when a template is stale (tests run this)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Synced:
    """One example copied into one `mlprod init` template."""

    name: str
    #: What a new project gets: the code, the raw data and the spec; never generated outputs.
    files: tuple[str, ...]
    #: Exact lines of the example spec that become cookiecutter variables (each must match once).
    substitutions: tuple[tuple[str, str], ...]

    @property
    def example(self) -> Path:
        return ROOT / "examples" / self.name

    @property
    def template(self) -> Path:
        return ROOT / "templates" / "project" / self.name / "{{cookiecutter.directory}}"


# Every value goes through mlprod's one YAML emitter (the `yaml` filter of
# mlprod.generator.yamltext.YamlExtension), so a project named `on` stays a string.
CREDIT = Synced(
    "credit",
    (
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
    ),
    (
        ("  name: credit_default ", "  name: {{ cookiecutter.project_name | yaml }} "),
        ('  deployed: "2026-11-01"', "  deployed: {{ cookiecutter.deployed | yaml }}"),
        ('  expires: "2027-11-01"', "  expires: {{ cookiecutter.expires | yaml }}"),
        ('planned: "2027-09-01"', "planned: {{ cookiecutter.next_planned | yaml }}"),
        # The locked Python: `mlprod init` writes the major.minor of the interpreter it runs on.
        ('  python: "3.11" ', "  python: {{ cookiecutter.python | yaml }} "),
        ('python: ["3.11"]}', "python: [{{ cookiecutter.python | yaml }}]}"),
    ),
)
TEMPLATES = {synced.name: synced for synced in (CREDIT,)}


def template_spec(synced: Synced, text: str) -> str:
    """The example spec with the name and release dates as cookiecutter variables."""
    where = f"examples/{synced.name}/mlprod.yaml"
    if "{{" in text or "{%" in text or "{#" in text:
        raise SystemExit(f"{where} contains jinja delimiters; the template cannot carry it")
    for old, new in synced.substitutions:
        if text.count(old) != 1:
            raise SystemExit(f"{where}: expected exactly one {old.strip()!r}")
        text = text.replace(old, new)
    return text


def strip_managed_block(text: str) -> str:
    """The text without mlprod's `# >>> mlprod` ... `# <<< mlprod` block."""
    start, end = text.find("# >>> mlprod"), text.find("# <<< mlprod")
    if start < 0 or end < 0:
        return text
    end = text.index("\n", end) + 1 if "\n" in text[end:] else len(text)
    return text[:start].rstrip("\n") + "\n" + text[end:]


def expected_files(synced: Synced) -> dict[str, bytes]:
    """The template's files as the example's current files make them."""
    out: dict[str, bytes] = {}
    for rel in synced.files:
        data = (synced.example / rel).read_bytes()
        if rel == "mlprod.yaml":
            data = template_spec(synced, data.decode("utf-8")).encode("utf-8")
        elif rel == ".gitignore":  # the managed block belongs to the example's own generate
            data = strip_managed_block(data.decode("utf-8")).encode("utf-8")
        out[rel] = data
    return out


def stale_files(synced: Synced) -> list[str]:
    """Template files that differ from (or are missing against) the example, and extras."""
    want = expected_files(synced)
    template = synced.template
    stale = [
        rel
        for rel, data in want.items()
        if not (template / rel).is_file() or (template / rel).read_bytes() != data
    ]
    have = (
        {p.relative_to(template).as_posix() for p in template.rglob("*") if p.is_file()}
        if template.exists()
        else set()
    )
    stale += sorted(have - set(want))
    return stale


def write(synced: Synced) -> int:
    """Rewrite one template from its example; return the number of files written."""
    want = expected_files(synced)
    template = synced.template
    for rel, data in want.items():
        target = template / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if template.exists():
        for p in sorted(template.rglob("*"), reverse=True):
            rel = p.relative_to(template).as_posix()
            if p.is_file() and rel not in want:
                p.unlink()
    return len(want)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a template is stale; write nothing")
    args = parser.parse_args()
    if args.check:
        stale = [
            f"templates/project/{name}/{{{{cookiecutter.directory}}}}/{rel}"
            for name, synced in TEMPLATES.items()
            for rel in stale_files(synced)
        ]
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    for synced in TEMPLATES.values():
        n = write(synced)
        print(f"wrote {n} files to {synced.template.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
