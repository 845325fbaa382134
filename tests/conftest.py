"""Shared test helpers: run the real CLI in a subprocess, write manifests to temporary files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "jobs.yaml"
VERSION_MARK = "VERSION"  # what golden files hold where a report names ci-carbon's version


def matches_golden(golden: Path, text: str) -> None:
    """``text`` equals the reviewed golden file, ci-carbon's version replaced by VERSION_MARK: the version comes
    from git (hatch-vcs) and changes with every commit. ``UPDATE_GOLDEN=1`` rewrites the file instead."""
    from ci_carbon import __version__

    text = text.replace(__version__, VERSION_MARK)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def run_cli(*args: str, cwd: Path | None = None, executable: list[str] | None = None) -> Result:
    """The real command line, as a user runs it (a new process: exit codes and stderr are real)."""
    command = (executable or [sys.executable, "-m", "ci_carbon"]) + list(args)
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd or ROOT, timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def manifest(tmp_path: Path):
    """Write a manifest (dedented YAML text) and return its path."""

    def write(text: str, name: str = "jobs.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


_TRACKING_URI_AT_START = os.environ.get("MLFLOW_TRACKING_URI")


@pytest.fixture(autouse=True)
def _no_tracking_uri_left_behind():
    """mlflow.set_tracking_uri (and fluent runs) set MLFLOW_TRACKING_URI in os.environ, and setting it back to None
    does not remove it; every later ci-carbon subprocess would inherit it and read a store no test named. After each
    test the variable is as it was when the session started (module fixtures that log runs included)."""
    yield
    before = _TRACKING_URI_AT_START
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before
