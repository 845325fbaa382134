"""The real command line on nasty manifests (issue 9, items 7 and 11): only documented exit codes; every line on
standard error is one line of ours (``ci-carbon: …`` or, in GitHub Actions, a workflow command we wrote); no line of
any output begins a workflow command from user text; Markdown has no autolink to the user's hosts, and no output
passes an invisible or direction-changing character through raw. Cases found by the property tests
(tests/sources/test_loader_properties.py) or made by hand, each run as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Result, run_cli

HIDDEN = re.compile("[\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e007f]")
# Names that load: a job name and a tag carrying every attack on a sink at once.
NASTY_NAME = "see https://evil.example and www.evil.example \u202egnp.exe\u200b ::error::forged ##[error]x | @team"
VALID = f"""\
version: 1
jobs:
  - name: {NASTY_NAME!r}
    hardware: T4
    hours: 2
    tags: {{team: "=HYPERLINK(\\"https://evil.example\\") ::warning::t \\u2066x\\u2069"}}
  - name: "::notice::second"
    hardware: T4
    hours: 1
"""
BROKEN = {
    "newline-key": 'version: 1\njobs:\n  - name: a\n    hardware: T4\n    hours: 1\n    "x\\n::error::k": 1\n',
    "cr-value": 'version: 1\njobs:\n  - name: a\n    hardware: "T4\\r::error::v"\n    hours: 1\n',
    "bidi-duplicate": 'version: 1\njobs:\n  - {name: a, hardware: T4, hours: 1}\n  - {name: "a\\u202e", hardware: T4, '
                      'hours: 1}\n',
    "null-version": "version: ~\njobs: []\n",
    "found-by-hypothesis": '{"version": null, "jobs": [{"hours": "\\u2028", "\\u0000": {"": [null]}}]}',
    "tab-and-controls": "version: 1\njobs:\n  - name: \"\\x1b[31mred\\x07\"\n    hardware: T4\n\thours: 1\n",
}


def _inert_streams(out: str, err: str, actions: bool = False) -> None:
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line
    for line in err.splitlines():
        ours = line.startswith("ci-carbon: ") or (actions and re.match(r"::(error|warning|notice) ", line))
        assert ours, line
        assert "##[" not in line and "Traceback" not in line, line
    assert not HIDDEN.search(out) and not HIDDEN.search(err)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_manifests_fail_in_one_line_each(case: str, tmp_path: Path):
    path = tmp_path / f"{case}.yaml"
    path.write_text(BROKEN[case], encoding="utf-8")
    for args in (["validate", str(path)], ["report", "--manifest", str(path)]):
        result = run_cli(*args)
        assert result.code == 2, (args, result.err)
        assert result.out == ""
        assert result.err.splitlines(), "the problem is named"
        _inert_streams(result.out, result.err)


@pytest.mark.parametrize("fmt", ["markdown", "csv", "hf", "json"])
def test_every_format_on_stdout_is_inert(fmt: str, manifest):
    path = manifest(VALID)
    result = run_cli("report", "--manifest", str(path), "--format", fmt)
    assert result.code == 0, result.err
    _inert_streams(result.out if fmt != "json" else "", result.err)
    if fmt in ("markdown", "hf"):
        text = re.sub(r"```mermaid\n.*?```", "", result.out, flags=re.S)  # a chart's labels are never links
        assert "https://evil" not in text and "www.evil" not in text, "no autolink to the user's host"
    if fmt == "markdown":
        assert "see https\\://evil.example and www\\.evil.example" in result.out, "the text is still shown"
        assert "\\\\u202egnp.exe\\\\u200b" in result.out, "bidi and zero-width shown as escapes"
    if fmt == "csv":
        assert "\n'::notice::second,manifest,'::notice::second," in result.out, "a row would begin '::': quoted"
        assert "\\u2066x\\u2069" in result.out and "#\\u0023[error]" in result.out


def test_budget_annotations_in_actions_are_ours_alone(manifest):
    path = manifest(VALID)
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    result = run_cli_env(env, "report", "--manifest", str(path), "--budget-fail-kg", "0.001")
    assert result.code == 1, result.err
    _inert_streams(result.out, result.err, actions=True)
    commands = [line for line in result.err.splitlines() if line.startswith("::")]
    assert commands and all(line.startswith("::error file=") for line in commands), commands


def run_cli_env(env: dict[str, str], *args: str) -> Result:
    """run_cli with an environment of the test's own (GITHUB_ACTIONS set, as on a runner)."""
    proc = subprocess.run([sys.executable, "-m", "ci_carbon", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_a_forged_option_value_stays_on_its_line():
    """click quotes what the user typed in a usage error: its newline cannot start a workflow command."""
    result = run_cli("report", "--manifest", "x.yaml", "--format", "x\n::error::forged")
    assert result.code == 2
    assert not any(line.lstrip().startswith("::") for line in result.err.splitlines()), result.err
    assert result.err.splitlines()[-1].startswith("Error: Invalid value for '--format'")


@pytest.mark.parametrize("fmt", ["markdown", "html", "csv"])
def test_the_summary_is_inert_in_every_format(fmt: str, manifest):
    """The summary's own templates (tables, charts, largest runs, advice) on the same names, on standard output."""
    result = run_cli("summary", "--manifest", str(manifest(VALID)), "--quarter", "2026-Q3", "--format", fmt)
    assert result.code == 0, result.err
    _inert_streams(result.out, result.err)
    if fmt == "markdown":
        assert "https://evil" not in result.out and "www.evil" not in result.out
    if fmt == "html":
        assert "<script" not in result.out and "\\u202egnp.exe\\u200b" in result.out
        assert "&#64;team" not in result.out and "| @team</td>" in result.out, "HTML escaped once, by autoescape"
    if fmt == "csv":
        assert "\n,,'::notice::second,'::notice::second," in result.out
