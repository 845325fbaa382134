"""GitHub Actions hand-over: $GITHUB_OUTPUT parsed back, the job summary, and the exact workflow commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ci_carbon.publish.actions import SUMMARY_LIMIT
from ci_carbon.render.filters import ghdata, ghprop, mass
from tests.compare import scenario
from tests.compare.conftest import Repo, run, write

BLOCK = re.compile(r"^(\w+)<<(ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\n"
                   r"(.*?)\n\2\n", re.M | re.S)
JOBS = """\
version: 1
defaults: {provider: gcp, region: us-central1}
jobs:
  - name: small
    hardware: Tesla T4
    hours: 10
  - name: "big % 100: yes"
    hardware: H100 SXM5 80GB
    count: 8
    hours: 20
"""


def parse_outputs(text: str) -> tuple[dict[str, str], list[str]]:
    """The outputs in a $GITHUB_OUTPUT file, and the delimiters used; the whole file must be heredoc blocks."""
    blocks = BLOCK.findall(text)
    assert "".join(f"{n}<<{d}\n{v}\n{d}\n" for n, d, v in blocks) == text
    return {name: value for name, _, value in blocks}, [d for _, d, _ in blocks]


@pytest.fixture
def pr(repo: Repo) -> scenario.PullRequest:
    return scenario.build(repo)


def test_outputs_with_random_delimiters_and_exact_values(pr: scenario.PullRequest, tmp_path: Path):
    out = write(tmp_path / "github_output", "earlier=1\n")
    json_path = tmp_path / "carbon.json"
    args = ("report", "--manifest", str(pr.repo.path / "jobs.yaml"), "--base", "main", "--repo", str(pr.repo.path),
            "--budget-warn-kg", "40", "--json-output", str(json_path))
    result = run(*args, env={"GITHUB_OUTPUT": str(out)})
    assert result.code == 0, result.err
    assert result.out.startswith("### 🌱")  # the format asked for still goes to standard output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("earlier=1\n")  # appended, never truncated
    values, delimiters = parse_outputs(text.removeprefix("earlier=1\n"))
    data = run(*args[:-2], "--format", "json").json()
    assert json_path.read_text(encoding="utf-8") == run(*args[:-2], "--format", "json").out
    assert list(values) == ["total_kg", "delta_kg", "delta_percent", "budget_status", "json_path"]
    assert float(values["total_kg"]) == data["totals"]["emissions_kg"]
    assert float(values["delta_kg"]) == data["delta"]["emissions_kg"]
    assert float(values["delta_percent"]) == data["delta"]["percent"]
    assert values["budget_status"] == "warn" == data["budget"]["status"]
    assert values["json_path"] == str(json_path)
    assert len(set(delimiters)) == 5
    # a second run appends fresh delimiters
    run(*args, env={"GITHUB_OUTPUT": str(out)})
    _, again = parse_outputs(out.read_text(encoding="utf-8").removeprefix("earlier=1\n").split(
        f"{delimiters[-1]}\n", 2)[-1])
    assert not set(again) & set(delimiters)


def test_outputs_without_base_or_budget(tmp_path: Path):
    manifest = write(tmp_path / "jobs.yaml", JOBS)
    out = tmp_path / "github_output"
    result = run("report", "--manifest", str(manifest), "--format", "csv", "--github-output", str(out))
    assert result.code == 0
    values, _ = parse_outputs(out.read_text(encoding="utf-8"))
    total = run("report", "--manifest", str(manifest), "--format", "json").json()["totals"]["emissions_kg"]
    assert values == {"total_kg": values["total_kg"], "delta_kg": "", "delta_percent": "", "budget_status": "none",
                      "json_path": ""}
    assert float(values["total_kg"]) == total


def test_step_summary_is_appended(tmp_path: Path):
    manifest = write(tmp_path / "jobs.yaml", JOBS)
    summary = write(tmp_path / "summary.md", "## Tests\n\nall green\n")
    result = run("report", "--manifest", str(manifest), "--format", "json", "--step-summary",
                 env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 0
    markdown = run("report", "--manifest", str(manifest)).out
    assert summary.read_text(encoding="utf-8") == "## Tests\n\nall green\n\n" + markdown
    # without --step-summary nothing is written, even in Actions
    run("report", "--manifest", str(manifest), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == "## Tests\n\nall green\n\n" + markdown


def test_step_summary_keeps_whole_sections_within_1_mib(pr: scenario.PullRequest, tmp_path: Path):
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (SUMMARY_LIMIT - 3000) + "\n", encoding="utf-8")
    json_path = tmp_path / "carbon.json"
    args = ("report", "--manifest", str(pr.repo.path / "jobs.yaml"), "--base", "main", "--repo", str(pr.repo.path),
            "--budget-fail-kg", "40")
    result = run(*args, "--step-summary", "--json-output", str(json_path), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 1
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= SUMMARY_LIMIT
    added = text.split("x\n\n", 1)[1]
    full = run(*args).out
    headline, delta, budget = full.split("\n\n")[0], full.split("\n\n")[1], full.split("#### Carbon budget")[1]
    assert added.startswith(f"{headline}\n\n{delta}\n\n#### Carbon budget")
    assert budget.split("\n\n#### Changes")[0] in added
    assert "| Job |" not in added and "#### Changes" not in added  # no table, not even half of one
    assert added.endswith(f"KiB) does not fit within the job summary's limit of 1 MiB, so only its headline, the "
                          f"change against the base and the budget are shown here. Every job is in the JSON report "
                          f"(`{json_path}`).\n")


def test_workflow_commands_point_at_the_job_line(tmp_path: Path):
    folder = tmp_path / "a,b:c"
    manifest = write(folder / "jobs.yaml", JOBS)
    data = run("report", "--manifest", "jobs.yaml", "--format", "json", cwd=folder).json()
    total = data["totals"]["emissions_kg"]
    big = next(j for j in data["jobs"] if j["name"].startswith("big"))["emissions_kg"]
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    result = run("report", "--manifest", str(manifest), "--budget-fail-kg", "40", "--budget-job-warn-kg", "30",
                 env=env)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"::error file=a%2Cb%3Ac/jobs.yaml,title=Carbon budget::The total, {mass(total)} CO2eq, is over the failure "
        f"limit of {mass(40)} (fail_kg) by {mass(total - 40)}.",
        f"::warning file=a%2Cb%3Ac/jobs.yaml,line=7,title=Carbon budget::Job 'big %25 100: yes', {mass(big)} CO2eq, "
        f"is over the per-job warning limit of {mass(30)} (job_warn_kg) by {mass(big - 30)}.",
    ]
    # approved: the failure is annotated as a warning that says so
    approved = run("report", "--manifest", str(manifest), "--budget-fail-kg", "40", "--approved", env=env)
    assert approved.code == 0
    assert approved.err == (
        f"::warning file=a%2Cb%3Ac/jobs.yaml,title=Carbon budget::The total, {mass(total)} CO2eq, is over the "
        f"failure limit of {mass(40)} (fail_kg) by {mass(total - 40)}. Approved with --approved: the failure is "
        "reported as a warning and the check passes.\n")
    # outside Actions: plain lines
    plain = run("report", "--manifest", str(manifest), "--budget-job-warn-kg", "30")
    assert plain.err == (f"ci-carbon: budget warning: Job 'big % 100: yes', {mass(big)} CO2eq, is over the per-job "
                         f"warning limit of {mass(30)} (job_warn_kg) by {mass(big - 30)}.\n")


def test_workflow_command_escaping():
    assert ghdata("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert ghprop("dir:a,b/100%.yaml\n") == "dir%3Aa%2Cb/100%25.yaml%0A"
