"""Write schemas/manifest-v1.schema.json from the job field rules (ci_carbon/core/fields.py).

The rules are the one source of truth; the schema is what editors read (the YAML language server's
`# yaml-language-server: $schema=` line). tests/sources/test_manifest_schema.py fails when the two drift apart:
run `python scripts/manifest_schema.py` after changing a rule.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ci_carbon.core.fields import FIELDS, FieldRule  # noqa: E402

TARGET = ROOT / "schemas" / "manifest-v1.schema.json"


def _field(name: str, rule: FieldRule) -> dict[str, Any]:
    if rule.kind == "str":
        return {"type": "string", "pattern": "\\S"}
    if rule.kind == "tags":
        return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
    out: dict[str, Any] = {"type": "integer" if rule.kind == "int" else "number"}
    if rule.low is not None:
        out["exclusiveMinimum" if rule.low_open else "minimum"] = rule.low
    if rule.high is not None:
        out["maximum"] = rule.high
    if rule.unit:
        out["description"] = rule.unit
    return out


def schema() -> dict[str, Any]:
    fields = {name: _field(name, rule) for name, rule in FIELDS.items()}
    defaults = {name: spec for name, spec in fields.items() if name != "name"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "ci-carbon/manifest/v1",
        "title": "ci-carbon manifest, version 1 (docs/design.md): planned training jobs",
        "type": "object",
        "required": ["version", "jobs"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "defaults": {"type": "object", "additionalProperties": False, "properties": defaults,
                         "description": "any job field but name, applied where a job leaves it out"},
            "jobs": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name"], "additionalProperties": False, "properties": fields}},
        },
    }


def text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(text(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
