"""The command line as users meet it: help, listings, output files, usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_carbon import __version__
from ci_carbon.core import tables
from tests.conftest import EXAMPLE, run_cli


@pytest.mark.parametrize("command", ["report", "validate", "hardware", "regions"])
def test_help(command: str):
    result = run_cli(command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"Usage: python -m ci_carbon {command}")


def test_version():
    assert run_cli("--version").out == f"ci-carbon, version {__version__}\n"


def test_validate_ok():
    result = run_cli("validate", str(EXAMPLE))
    assert (result.code, result.out) == (0, f"{EXAMPLE}: ok, 7 jobs\n")


def test_hardware_lists_and_filters():
    every = run_cli("hardware").out
    assert all(dev_id in every for dev_id in tables.devices())
    h100 = run_cli("hardware", "h100").out.splitlines()
    listed = [line.split()[0] for line in h100[1:] if line and not line.startswith("Write")]
    assert listed and all("h100" in d or "gh" in d for d in listed)
    assert run_cli("hardware", "--cpus", "epyc").out.count("epyc-") >= 3
    assert run_cli("hardware", "zzz").out == "No device matches 'zzz'.\n"


def test_regions_and_instances():
    gcp = run_cli("regions", "gcp").out
    assert "us-central1" in gcp and "us-east-1" not in gcp
    row = next(line for line in gcp.splitlines() if line.split()[1:2] == ["europe-west4"])
    assert row.split()[-1] == f"{tables.regions()[('gcp', 'europe-west4')].pue or tables.providers()['gcp'].pue:.2f}"
    assert "p4d.24xlarge" in run_cli("regions", "aws", "--instances").out


def test_output_file(tmp_path: Path):
    target = tmp_path / "report.md"
    result = run_cli("report", "--manifest", str(EXAMPLE), "--output", str(target))
    assert (result.code, result.out) == (0, "")
    assert target.read_text(encoding="utf-8") == run_cli("report", "--manifest", str(EXAMPLE)).out


def test_output_into_a_directory_is_bad_input(tmp_path: Path):
    result = run_cli("report", "--manifest", str(EXAMPLE), "--output", str(tmp_path))
    assert result.code == 2
    assert result.err == f"ci-carbon: {tmp_path}: --output: cannot be written: Is a directory\n"


def test_usage_errors_exit_2():
    assert run_cli("report", "--manifest", str(EXAMPLE), "--format", "pdf").code == 2
    assert run_cli("report").code == 2
    assert run_cli("nonsense").code == 2


def test_output_extension_chooses_the_format_unless_format_is_given(tmp_path):
    """`-o report.json` is JSON and `-o jobs.csv` CSV; --format still wins; an unknown extension is refused (see
    tests/test_outputs.py)."""
    manifest = str(EXAMPLE)
    for name, starts in (("r.json", '{\n  "schema": "ci-carbon/report/v1"'), ("r.csv", "name,source,id,"),
                         ("r.md", "### 🌱 "), ("r.markdown", "### 🌱 ")):
        result = run_cli("report", "--manifest", manifest, "-o", str(tmp_path / name))
        assert result.code == 0, result.err
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(starts), name
    result = run_cli("report", "--manifest", manifest, "--format", "markdown", "-o", str(tmp_path / "forced.json"))
    assert result.code == 0, result.err
    assert (tmp_path / "forced.json").read_text(encoding="utf-8").startswith("### 🌱 ")


def test_a_report_that_fails_while_being_written_leaves_no_file(tmp_path):
    """Pieces are written as they come (a 100,000-job JSON report is never held whole), to a temporary file; a
    failure half-way removes it, so no incomplete file is taken for a report."""
    from ci_carbon.core.outputs import Outputs

    def pieces():
        yield '{\n  "jobs": [\n'
        raise RuntimeError("the store went away")

    target = tmp_path / "report.json"
    with pytest.raises(RuntimeError, match="went away"), Outputs() as out:
        out.write(str(target), pieces())
    assert list(tmp_path.iterdir()) == []
    with Outputs() as out:
        out.write(str(target), iter(["a", "b\n"]))
    assert target.read_text(encoding="utf-8") == "ab\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_console_ends_with_every_byte_written_and_its_code(tmp_path: Path):
    """`python -m ci_carbon` ends without the interpreter's teardown (handler.leave): a report of megabytes on a
    pipe still arrives whole, equal to the same report written to a file, and the exit code is the command's own."""
    jobs = "\n".join(f"  - {{name: job-{i:04d}, hardware: A100 SXM4 40GB, count: {1 + i % 8}, hours: {1 + i % 50}, "
                     f"provider: gcp, region: us-central1}}" for i in range(1500))
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(f"version: 1\njobs:\n{jobs}\n", encoding="utf-8")
    piped = run_cli("report", "--manifest", str(manifest), "--format", "json")
    written = run_cli("report", "--manifest", str(manifest), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert (piped.code, written.code, written.out) == (0, 0, "")
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert len(piped.out) > 1_000_000 and piped.out == text and text.endswith("\n}\n")
    assert text.count('"name": "job-') == 0 and text.count('{"name":"job-') == 1500
    bad = run_cli("report", "--manifest", str(tmp_path / "missing.yaml"))
    assert bad.code == 2 and bad.out == "" and bad.err.count("\n") == 1
    budget = run_cli("report", "--manifest", str(manifest), "--budget-fail-kg", "1", "--format", "json")
    assert budget.code == 1 and budget.out.endswith("\n}\n")  # the failed budget's report, whole, then exit 1
