"""Exit codes mean one thing each (issue 9 item 1): the one top-level handler in ci_carbon/cli/handler.py.

An internal error is exit 4 with one line asking for a bug report (the traceback only with --debug or
CI_CARBON_DEBUG=1); a reader that stops reading is not an error; exit 1 is a failed budget and nothing else. The
internal error is a real one: a copy of the package whose data table is broken, as a damaged installation would be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT, run_cli


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    """ci-carbon with a TDP that is not a number in its devices table."""
    root = tmp_path_factory.mktemp("broken")
    shutil.copytree(ROOT / "ci_carbon", root / "ci_carbon", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", root / "templates")
    shutil.copytree(ROOT / "data", root / "data")
    devices = root / "data" / "devices.csv"
    lines = devices.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("tdp_w")] = "abc"
    devices.write_text(lines[0] + ",".join(cells) + "".join(lines[2:]), encoding="utf-8")
    return root


def _run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "CI_CARBON_DEBUG"}
    full.update(PYTHONPATH=str(root), XDG_CACHE_HOME=str(root / "cache"), **env)
    return subprocess.run([sys.executable, "-m", "ci_carbon", *args], capture_output=True, text=True, env=full,
                          cwd=root, timeout=120)


INTERNAL = ("ci-carbon: internal error: ValueError: could not convert string to float: 'abc'. This is a bug in "
            "ci-carbon; please report it at https://github.com/ci-carbon/ci-carbon/issues")


def test_an_internal_error_is_exit_4_in_one_line(broken: Path):
    result = _run(broken, "report", "--manifest", str(EXAMPLE))
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == INTERNAL + " (run again with --debug for the traceback)\n"


@pytest.mark.parametrize(("args", "env"), [(("--debug", "report"), {}), (("report", "--debug"), {}),
                                           (("report",), {"CI_CARBON_DEBUG": "1"})])
def test_the_traceback_only_when_asked(broken: Path, args: tuple[str, ...], env: dict[str, str]):
    result = _run(broken, *args, "--manifest", str(EXAMPLE), **env)
    assert result.returncode == 4
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "ValueError: could not convert string to float: 'abc'\n" in result.stderr
    assert result.stderr.endswith(INTERNAL + "\n")


def test_every_command_goes_through_the_handler(broken: Path):
    for args in (("validate", str(EXAMPLE)), ("hardware",), ("regions", "gcp")):
        result = _run(broken, *args)
        assert result.returncode == 4, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("ci-carbon: internal error: "), args


def test_a_reader_that_stops_reading_is_not_an_error(tmp_path: Path):
    jobs = [{"name": f"job-{i}", "hardware": "T4", "hours": 1, "country": "DE"} for i in range(3000)]
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs}), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "ci_carbon", "report", "--manifest", str(manifest), "--format",
                             "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)  # `| head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""


def test_exit_1_is_a_failed_budget_and_nothing_else():
    assert run_cli("report", "--manifest", str(EXAMPLE), "--budget-fail-kg", "1").code == 1
    assert run_cli("report", "--manifest", str(EXAMPLE), "--budget-fail-kg", "100000").code == 0
    assert run_cli("report", "--manifest", "missing.yaml").code == 2
    assert run_cli("no-such-command").code == 2
