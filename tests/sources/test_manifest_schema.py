"""schemas/manifest-v1.schema.json: made from the job field rules, accepted for every example, and refusing every
bad-input case a schema can express (types, ranges, unknown fields, the document's shape)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT
from tests.sources.test_bad_inputs import CATALOGUE, EXPECTED

SCHEMA_FILE = ROOT / "schemas" / "manifest-v1.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# What a schema can say: the type, range or name of a field, and the document's shape. Lookups (an unknown device,
# region or country), YAML syntax and tags, duplicates and the rules between fields are ci-carbon's alone.
EXPRESSIBLE = ("must be a", "must be non-empty text", "must be text", "must be above", "must be at least",
               "at most", "unknown field", "unknown top-level field", "unsupported version", "missing",
               "got an empty list", "each job must be a mapping", "every job needs a name",
               "a job's name cannot be a default", "got boolean", "is empty")


def _data(case: str) -> object:
    """The case as the YAML language server sees it: plain data (PyYAML's safe loader), or None if it is not."""
    try:
        return yaml.safe_load((CATALOGUE / case).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


def _finite(data: object) -> bool:
    """JSON has no NaN or infinity: an editor's schema check never sees them (ci-carbon refuses them itself)."""
    if isinstance(data, float):
        return math.isfinite(data)
    if isinstance(data, dict):
        return all(_finite(v) for v in data.values())
    if isinstance(data, list):
        return all(_finite(v) for v in data)
    return True


CASES = sorted(c for c, want in EXPECTED.items()
               if any(p in want["expect"] for p in EXPRESSIBLE) and _finite(_data(c)))


def test_the_schema_is_made_from_the_field_rules():
    made = subprocess.run([sys.executable, "-c", "import runpy, sys; sys.argv = ['x']; "
                           "m = runpy.run_path('scripts/manifest_schema.py', run_name='schema'); "
                           "print(m['text'](), end='')"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert made.stdout == SCHEMA_FILE.read_text(encoding="utf-8"), "run `python scripts/manifest_schema.py`"


def test_every_example_is_valid():
    examples = sorted((ROOT / "examples").glob("*jobs*.yaml"))
    assert examples
    for path in examples:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=../schemas/manifest-v1.schema.json\n"), path
        assert list(VALIDATOR.iter_errors(yaml.safe_load(text))) == [], path


def test_most_of_the_catalogue_is_expressible():
    assert len(CASES) >= 25, CASES


@pytest.mark.parametrize("case", CASES)
def test_the_schema_refuses_what_ci_carbon_refuses(case: str):
    assert list(VALIDATOR.iter_errors(_data(case))), f"{case}: the schema accepts it, ci-carbon does not"


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("count", 8, True), ("count", 0, False), ("count", 2.5, False), ("hours", 0, False), ("hours", 0.5, True),
    ("utilization", 1, True), ("utilization", 1.01, False), ("pue", 0.99, False), ("carbon_intensity", 0, True),
    ("memory_gb", 0, True), ("hardware", "", False), ("tags", {"team": "nlp"}, True), ("tags", "nlp", False),
    ("gpus", 8, False),
])
def test_one_field_at_a_time(field: str, value: object, ok: bool):
    doc = {"version": 1, "jobs": [{"name": "a", "hardware": "T4", "hours": 1, field: value}]}
    assert (list(VALIDATOR.iter_errors(doc)) == []) is ok
