"""The budget gate through the real CLI: each threshold at warn, fail and pass; approval; config and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ci_carbon.render.filters import dpct, mass
from tests.compare import scenario
from tests.compare.conftest import DATA, Repo, run, write
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))
EVENT = DATA / "pull_request.labeled.json"
JOBS = """\
version: 1
defaults: {provider: gcp, region: us-central1}
jobs:
  - name: big
    hardware: H100 SXM5 80GB
    count: 8
    hours: 20
  - name: small
    hardware: Tesla T4
    hours: 10
"""
KG_OPTION = {"warn_kg": "--budget-warn-kg", "fail_kg": "--budget-fail-kg", "job_warn_kg": "--budget-job-warn-kg",
             "job_fail_kg": "--budget-job-fail-kg", "warn_percent": "--budget-warn-percent",
             "fail_percent": "--budget-fail-percent"}


@pytest.fixture
def jobs(tmp_path: Path) -> tuple[Path, dict]:
    """The manifest and its report without a budget: the numbers every threshold is set against."""
    path = write(tmp_path / "jobs.yaml", JOBS)
    result = run("report", "--manifest", str(path), "--format", "json")
    assert result.code == 0 and "budget" not in result.json()
    return path, result.json()


def _report(path: Path, *options: str, env: dict | None = None, cwd: Path | None = None):
    return run("report", "--manifest", str(path), "--format", "json", *options, env=env, cwd=cwd)


def _actual(threshold: str, data: dict) -> float:
    kg = {j["name"]: j["emissions_kg"] for j in data["jobs"]}
    return kg["big"] if threshold.startswith("job_") else data["totals"]["emissions_kg"]


@pytest.mark.parametrize("threshold", ["warn_kg", "fail_kg", "job_warn_kg", "job_fail_kg"])
@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_absolute_thresholds(jobs, threshold: str, factor: float):
    path, data = jobs
    actual = _actual(threshold, data)
    limit = round(actual * factor, 3)
    result = _report(path, KG_OPTION[threshold], str(limit))
    budget = result.json()["budget"]
    jsonschema.validate(result.json(), SCHEMA)
    if factor > 1:
        assert (result.code, budget["status"], budget["breaches"]) == (0, "pass", [])
        return
    level = "fail" if "fail" in threshold else "warn"
    assert (result.code, budget["status"]) == ((1, "fail") if level == "fail" else (0, "warn"))
    [breach] = budget["breaches"]  # the small job is under every per-job limit here
    assert breach["threshold"] == threshold and breach["level"] == level
    assert breach["limit"] == limit and breach["actual"] == actual
    assert breach["over_by"] == pytest.approx(actual - limit, abs=2e-6)
    assert breach["job"] == ("big" if threshold.startswith("job_") else None)
    assert budget["limit_kg"] == (limit if not threshold.startswith("job_") else None)


def test_failure_wins_over_warning_and_markdown_says_by_how_much(jobs):
    path, data = jobs
    total, big = data["totals"]["emissions_kg"], data["jobs"][0]["emissions_kg"]
    result = run("report", "--manifest", str(path), "--budget-warn-kg", "10", "--budget-fail-kg", "20",
                 "--budget-job-warn-kg", "40")
    assert result.code == 1
    section = result.out.split("#### Carbon budget: ❌ over the limit\n\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines() == [
        f"- The total, {mass(total)} CO2eq, is over the failure limit of {mass(20)} (fail_kg) by {mass(total - 20)}.",
        f"- Job 'big', {mass(big)} CO2eq, is over the per-job warning limit of {mass(40)} (job_warn_kg) by "
        f"{mass(big - 40)}.",
    ]


def test_exit_1_comes_after_the_output_is_written(jobs, tmp_path: Path):
    path, _ = jobs
    target = tmp_path / "report.json"
    result = run("report", "--manifest", str(path), "--format", "json", "--output", str(target),
                 "--budget-fail-kg", "1")
    assert (result.code, result.out) == (1, "")
    assert json.loads(target.read_text(encoding="utf-8"))["budget"]["status"] == "fail"
    assert result.err.startswith("ci-carbon: budget failure: The total, ")


@pytest.fixture
def pr(repo: Repo) -> scenario.PullRequest:
    return scenario.build(repo)


@pytest.mark.parametrize("threshold", ["warn_percent", "fail_percent"])
@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_relative_thresholds_against_the_base(pr: scenario.PullRequest, threshold: str, factor: float):
    options = ("--base", "main", "--repo", str(pr.repo.path))
    percent = _report(pr.repo.path / "jobs.yaml", *options).json()["delta"]["percent"]
    limit = round(percent * factor, 2)
    result = _report(pr.repo.path / "jobs.yaml", *options, KG_OPTION[threshold], str(limit))
    budget = result.json()["budget"]
    if factor > 1:
        assert (result.code, budget["status"]) == (0, "pass")
        return
    level = "fail" if "fail" in threshold else "warn"
    assert (result.code, budget["status"]) == ((1, "fail") if level == "fail" else (0, "warn"))
    [breach] = budget["breaches"]
    assert (breach["threshold"], breach["scope"], breach["unit"], breach["limit"], breach["actual"]) == (
        threshold, "increase", "%", limit, percent)
    base_kg = result.json()["baseline"]["emissions_kg"]
    assert budget["limit_kg"] == pytest.approx(base_kg * (1 + limit / 100), rel=1e-6)
    md = run("report", "--manifest", str(pr.repo.path / "jobs.yaml"), *options, KG_OPTION[threshold], str(limit)).out
    assert f"- The increase over the base, {dpct(percent)}, is over the " in md


def test_relative_thresholds_need_a_base(jobs):
    path, _ = jobs
    result = _report(path, "--budget-fail-percent", "5")
    assert result.code == 0
    assert result.json()["budget"]["status"] == "pass"
    assert result.json()["budget"]["unchecked"] == ["fail_percent"]
    md = run("report", "--manifest", str(path), "--budget-fail-percent", "5").out
    assert ("Not checked: fail_percent, because the report is not compared with a base (give --base)." in md)


def test_per_job_limits_skip_unchanged_jobs_when_compared(pr: scenario.PullRequest):
    """'keep' (303 g = 70 W × 10 h × PUE 1.10 × 394.0 g/kWh, unchanged) is over 0.2 kg but was accepted before
    the pull request; 'resize' is judged."""
    result = _report(pr.repo.path / "jobs.yaml", "--base", "main", "--repo", str(pr.repo.path),
                     "--budget-job-warn-kg", "0.2")
    assert {b["job"] for b in result.json()["budget"]["breaches"]} == {"new-h100", "resize"}
    assert result.json()["budget"]["changed_jobs_only"] is True


def test_the_approval_label_in_the_event_payload_turns_a_failure_into_a_warning(jobs):
    path, _ = jobs
    result = _report(path, "--budget-fail-kg", "1", env={"GITHUB_EVENT_PATH": str(EVENT)})
    assert result.code == 0, result.err
    budget = result.json()["budget"]
    assert (budget["status"], budget["approved"], budget["approved_by"]) == ("warn", True, "label")
    assert budget["breaches"][0]["level"] == "fail"  # what was exceeded is still said
    md = run("report", "--manifest", str(path), "--budget-fail-kg", "1", env={"GITHUB_EVENT_PATH": str(EVENT)}).out
    assert "#### Carbon budget: ⚠️ warning" in md
    assert ("Approved by the label 'carbon-budget-approved': the failure is reported as a warning and the check "
            "passes.") in md


def test_other_labels_do_not_approve(jobs, tmp_path: Path):
    path, _ = jobs
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    event["pull_request"]["labels"] = [label for label in event["pull_request"]["labels"] if label["name"] == "bug"]
    other = write(tmp_path / "event.json", json.dumps(event))
    assert _report(path, "--budget-fail-kg", "1", env={"GITHUB_EVENT_PATH": str(other)}).code == 1
    config = write(tmp_path / "ci-carbon.yaml", "version: 1\nbudget:\n  approve_label: carbon-ok\n")
    result = _report(path, "--budget-fail-kg", "1", "--config", str(config), env={"GITHUB_EVENT_PATH": str(EVENT)})
    assert result.code == 1  # the repository chose another label
    assert _report(path, "--budget-fail-kg", "1", "--config", str(config), "--labels", "x,Carbon-OK").code == 0


def test_approved_flag(jobs):
    path, _ = jobs
    result = _report(path, "--budget-fail-kg", "1", "--approved")
    assert result.code == 0
    assert (result.json()["budget"]["status"], result.json()["budget"]["approved_by"]) == ("warn", "flag")


def test_config_thresholds_and_the_command_line_wins(jobs, tmp_path: Path):
    path, data = jobs
    total = data["totals"]["emissions_kg"]
    write(tmp_path / "ci-carbon.yaml", f"version: 1\nbudget:\n  warn_kg: 1\n  fail_kg: {total / 2}\n")
    result = _report(path, cwd=tmp_path)  # ./ci-carbon.yaml is read by default
    assert result.code == 1
    assert result.json()["budget"]["thresholds"]["fail_kg"] == round(total / 2, 6)
    override = _report(path, "--budget-fail-kg", str(total * 2), cwd=tmp_path)
    assert override.code == 0
    budget = override.json()["budget"]
    assert budget["status"] == "warn" and budget["thresholds"]["warn_kg"] == 1.0
    assert budget["limit_kg"] == round(total * 2, 6)


def test_threshold_mistakes_are_one_line_each(jobs, tmp_path: Path):
    path, _ = jobs
    config = write(tmp_path / "bad.yaml", "version: 1\nbudget:\n  fail_kgs: 3\n  warn_kg: 9\n  fail_kg: 5\n")
    result = _report(path, "--config", str(config))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"ci-carbon: {config}:3: budget.fail_kgs: unknown setting (did you mean 'fail_kg' or "
        "'job_fail_kg'?)",
        f"ci-carbon: {config}:4: budget.warn_kg: 9 is above fail_kg (5); a warning threshold must not be above its "
        "failure threshold",
    ]
    result = _report(path, "--budget-job-warn-kg", "9", "--budget-job-fail-kg", "5")
    assert result.code == 2
    assert result.err == ("ci-carbon: ci-carbon: --budget-job-warn-kg: 9 is above job_fail_kg (5); a warning "
                          "threshold must not be above its failure threshold\n")
    assert _report(path, "--budget-fail-kg", "-1").code == 2
