"""The input rules at the boundary (issue 9, items 2 and 3): each refusal is one line, exit 2, file:line:field."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE, run_cli

JOB = "version: 1\njobs:\n  - name: train\n    hardware: a100-sxm4-40gb\n"

CASES = {
    "base-60": (JOB + "    hours: 1:30\n    country: FR\n", 5, "jobs[0].hours: '1:30' is read by YAML 1.1 as a "
                "base-60 number (90); for 1 h 30 min write 1.5, or quote it if you meant text"),
    "boolean": (JOB + "    hours: 2\n    country: NO\n", 6, "jobs[0].country: 'NO' is read by YAML 1.1 as the "
                "boolean false; quote it (\"NO\") if you meant text"),
    "look-alike name": (JOB + "    hours: 2\n    country: FR\n  - name: tr\u0430in\n    hardware: a100-sxm4-40gb\n"
                        "    hours: 2\n    country: FR\n", 7, "jobs[1].name: job name 'tr\u0430in' looks the same as "
                        "'train' (line 3) but differs in invisible or look-alike characters (U+0430); names must be "
                        "unique, so rename one in plain letters"),
    "nodes": ("version: 1\njobs:\n  - name: train\n    instance_type: p4d.24xlarge\n    provider: aws\n"
              "    region: us-east-1\n    count: 12\n    hours: 2\n", 7, "jobs[0].count: p4d.24xlarge has 8 devices "
              "per node; with instance_type, count is the total across nodes, a multiple of 8 (8, 16, …), got 12"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_in_one_line(manifest, case):
    text, line, message = CASES[case]
    path = manifest(text)
    result = run_cli("validate", str(path))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"ci-carbon: {path}:{line}: {message}\n"


def test_zero_intensity_is_zero_kg_not_a_crash(manifest):
    path = manifest(JOB + "    hours: 2\n    carbon_intensity: 0\n")
    result = run_cli("report", "--manifest", str(path), "--format", "json")
    assert result.code == 0, result.err
    totals = json.loads(result.out)["totals"]
    assert totals["emissions_kg"] == 0.0 and totals["energy_kwh"] > 0


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_budget_option_must_be_finite(value):
    result = run_cli("report", "--manifest", str(EXAMPLE), "--budget-fail-kg", value)
    assert result.code == 2 and "Traceback" not in result.err
    assert "--budget-fail-kg" in result.err
