"""Regenerate schema/mlprod.schema.json from the pydantic models.

Usage: python scripts/export_schema.py [--check]
With --check, write nothing and exit 1 when the committed file is stale.
"""

from __future__ import annotations

import sys

from mlprod.schema.export import SCHEMA_FILE, json_schema_text


def main(argv: list[str]) -> int:
    text = json_schema_text()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else None
    if "--check" in argv:
        if current != text:
            print(f"{SCHEMA_FILE} is stale; run: python scripts/export_schema.py", file=sys.stderr)
            return 1
        print(f"{SCHEMA_FILE} is current")
        return 0
    if current != text:
        SCHEMA_FILE.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {SCHEMA_FILE}")
    else:
        print(f"{SCHEMA_FILE} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
