"""Same input, same bytes; and the example's reports match the reviewed golden files in tests/golden/.

After an intended change to templates or data, regenerate with `UPDATE_GOLDEN=1 python -m pytest tests/render`
and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT, matches_golden, run_cli

GOLDEN = ROOT / "tests" / "golden"
SUFFIX = {"markdown": "md", "json": "json", "csv": "csv"}


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_example_matches_golden(fmt: str):
    result = run_cli("report", "--manifest", "examples/jobs.yaml", "--format", fmt)
    assert result.code == 0, result.err
    matches_golden(GOLDEN / f"example.{SUFFIX[fmt]}", result.out)


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_same_input_same_bytes_whatever_the_job_order(fmt: str, tmp_path: Path):
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["jobs"].reverse()
    shuffled = tmp_path / "jobs.yaml"
    shuffled.write_text(yaml.safe_dump(doc), encoding="utf-8")
    first = run_cli("report", "--manifest", str(EXAMPLE), "--format", fmt).out
    again = run_cli("report", "--manifest", str(EXAMPLE), "--format", fmt).out
    reordered = run_cli("report", "--manifest", str(shuffled), "--format", fmt).out
    assert first == again
    # the JSON names the file it read; everything else is the same whatever the order of the jobs
    assert first.replace(str(EXAMPLE), str(shuffled)) == reordered
