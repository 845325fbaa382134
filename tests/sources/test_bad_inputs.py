"""The bad-input catalogue (tests/bad_inputs/): every mistake → one clear line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_cli

CATALOGUE = ROOT / "tests" / "bad_inputs"
EXPECTED: dict[str, dict] = yaml.safe_load((CATALOGUE / "expected.yaml").read_text(encoding="utf-8"))


def test_catalogue_is_complete():
    files = sorted(p.name for p in CATALOGUE.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED), "every case file needs an entry in expected.yaml, and back"
    assert len(files) >= 30


def _check(case: str, command: str) -> None:
    want = EXPECTED[case]
    path = CATALOGUE / case
    args = ["validate", str(path)] if command == "validate" else ["report", "--manifest", str(path)]
    result = run_cli(*args)
    assert result.code == 2, result.err
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert "Traceback" not in result.err
    where = f"{path}:{want['line']}: " if "line" in want else f"{path}"
    assert line.startswith(f"ci-carbon: {where}"), line
    if "field" in want:
        assert f": {want['field']}: " in line, line
    assert want["expect"] in line, line
    if "suggest" in want:
        assert f"(did you mean {want['suggest']}" in line, line


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_validate_reports_one_line(case: str):
    _check(case, "validate")


@pytest.mark.parametrize("case", ["13-duplicate-name.yaml", "34-unknown-hardware.yaml", "45-alias-bomb.yaml",
                                  "51-not-utf8.yaml"])
def test_report_fails_the_same_way(case: str):
    _check(case, "report")


def test_directory_instead_of_file(tmp_path: Path):
    result = run_cli("report", "--manifest", str(tmp_path))
    assert result.code == 2
    assert result.err == f"ci-carbon: {tmp_path}: is a directory, not a manifest file\n"


def test_missing_file(tmp_path: Path):
    result = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert result.err == f"ci-carbon: {tmp_path / 'nope.yaml'}: no such file\n"


def test_every_problem_is_listed(manifest):
    path = manifest("""\
        version: 1
        jobs:
          - name: a
            hardware: T4
            hours: -1
          - name: b
            hardware: Nonexistent GPU 9000
            hours: 1
          - name: c
            hardware: T4
            hours: 2
            pue: 7
        """)
    result = run_cli("validate", str(path))
    assert result.code == 2
    lines = result.err.splitlines()
    assert [ln.split(": ")[2] for ln in lines] == ["jobs[0].hours", "jobs[1].hardware", "jobs[2].pue"]
    assert lines[0].startswith(f"ci-carbon: {path}:5: ")
