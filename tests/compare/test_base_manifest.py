"""`report --manifest F --base REF`: the manifest at the merge-base, compared job by job, in real repositories."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import git
import jsonschema
import pytest

from ci_carbon.render.filters import dmass
from tests.compare import scenario
from tests.compare.conftest import Repo, run, write
from tests.conftest import ROOT, matches_golden

SCHEMA = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture
def pr(repo: Repo) -> scenario.PullRequest:
    return scenario.build(repo)


def _kg(report: dict) -> dict[str, float]:
    return {j["name"]: j["emissions_kg"] for j in report["jobs"]}


def _compare(pr: scenario.PullRequest, *extra: str, manifest: str = "jobs.yaml", base: str = "main") -> dict:
    result = run("report", "--manifest", str(pr.repo.path / manifest), "--base", base, "--repo", str(pr.repo.path),
                 "--format", "json", *extra)
    assert result.code == 0, result.err
    return result.json()


def test_diff_against_the_merge_base_not_the_base_tip(pr: scenario.PullRequest, tmp_path: Path):
    data = _compare(pr)
    base = scenario.emissions(tmp_path, scenario.MERGE_BASE, "base.yaml")
    head = scenario.emissions(tmp_path, scenario.FEATURE, "head.yaml")
    assert data["comparison"] == {
        "source": "manifest", "base_ref": "main", "merge_base": pr.merge_base, "head": pr.head, "deepened": 0,
        "path": "jobs.yaml", "renamed_from": None, "found": True,
        "counts": {"added": 1, "removed": 1, "changed": 2, "unchanged": 1},
    }
    assert data["baseline"] == base["totals"]
    assert data["totals"] == head["totals"]
    expected_delta = head["totals"]["emissions_kg"] - base["totals"]["emissions_kg"]
    assert data["delta"]["emissions_kg"] == pytest.approx(expected_delta, abs=2e-6)
    assert data["delta"]["percent"] == pytest.approx(expected_delta / base["totals"]["emissions_kg"] * 100, rel=1e-6)
    # job by job: main's later commits (keep's hours, main-only) are not the pull request's
    changes = {c["name"]: c for c in data["changes"]}
    assert {n: c["change"] for n, c in changes.items()} == scenario.KINDS
    base_kg, head_kg = _kg(base), _kg(head)
    for name, change in changes.items():
        assert change["base_kg"] == base_kg.get(name, 0.0)
        assert change["head_kg"] == head_kg.get(name, 0.0)
        assert change["delta_kg"] == pytest.approx(head_kg.get(name, 0.0) - base_kg.get(name, 0.0), abs=2e-6)
        assert change["fields"] == scenario.FIELDS.get(name, [])
    assert changes["new-h100"]["percent"] is None and changes["retire"]["percent"] == -100.0
    assert changes["resize"]["percent"] == pytest.approx(100.0)  # twice the devices
    assert changes["keep"]["delta_kg"] == 0.0
    # added, removed and changed first (largest difference first), unchanged last
    order = [c["name"] for c in data["changes"]]
    assert order[-1] == "keep"
    assert [abs(c["delta_kg"]) for c in data["changes"][:-1]] == sorted(
        (abs(c["delta_kg"]) for c in data["changes"][:-1]), reverse=True)
    jsonschema.validate(data, SCHEMA)


def test_markdown_headline_delta_and_change_table(pr: scenario.PullRequest):
    result = run("report", "--manifest", str(pr.repo.path / "jobs.yaml"), "--base", "main", "--repo",
                 str(pr.repo.path), "--budget-warn-kg", "40", "--budget-job-fail-kg", "45")
    # new-h100 is over the per-job failure limit: (8 × 700 W + its typical host, OCI BM.GPU.H100.8: 224 vCPUs ×
    # 350 W / 112 threads = 700 W + 2199.02 GB × 0.3725 = 819.13 W) × 20 h = 142.38 kWh × PUE 1.10 × 394.0 g/kWh
    # (gcp us-central1 on eGRID MROW) = 61.7 kg > 45
    assert result.code == 1
    matches_golden(GOLDEN / "compare.md", result.out)
    lines = result.out.splitlines()
    assert lines[2].endswith(f"compared with the base, commit `{pr.merge_base[:7]}`, the merge-base with main: "
                             "1 added, 1 removed, 2 changed, 1 unchanged.")
    table = result.out.split("#### Changes against the base", 1)[1].split("<details>", 1)[0]
    rows = [line.split(" | ")[:2] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == [["| Job", "Change"], ["| new-h100", "added"], ["| resize", "changed: count"],
                    ["| retire", "removed"], ["| stay", "changed: region"]]  # by the size of the difference
    unchanged = result.out.split("<details><summary>1 unchanged job</summary>", 1)[1].split("</details>", 1)[0]
    assert "| keep |" in unchanged


def test_renamed_manifest_is_followed(repo: Repo):
    base = repo.commit("jobs", {"jobs.yaml": scenario.MERGE_BASE})
    repo.branch("feature", base)
    repo.move("jobs.yaml", "training/jobs.yaml")
    repo.commit("move", {"training/jobs.yaml": scenario.MERGE_BASE.replace("count: 2", "count: 3")})
    result = run("report", "--manifest", str(repo.path / "training" / "jobs.yaml"), "--base", "main", "--repo",
                 str(repo.path), "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["comparison"]["path"], data["comparison"]["renamed_from"]) == ("jobs.yaml", "jobs.yaml")
    assert {c["name"]: c["change"] for c in data["changes"]} == {
        "resize": "changed", "keep": "unchanged", "retire": "unchanged", "stay": "unchanged"}
    assert data["delta"]["emissions_kg"] > 0
    md = run("report", "--manifest", str(repo.path / "training" / "jobs.yaml"), "--base", "main", "--repo",
             str(repo.path)).out
    assert ", where the manifest was jobs.yaml: 1 changed, 3 unchanged." in md.splitlines()[2]


def test_manifest_new_in_the_pull_request(repo: Repo, tmp_path: Path):
    base = repo.commit("readme", {"README.md": "# models\n"})
    repo.branch("feature", base)
    repo.commit("first jobs", {"ml/jobs.yaml": scenario.HEAD_START})
    result = run("report", "--manifest", str(repo.path / "ml" / "jobs.yaml"), "--base", "main", "--repo",
                 str(repo.path), "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    head = scenario.emissions(tmp_path, scenario.HEAD_START, "head.yaml")
    assert data["comparison"]["found"] is False and data["comparison"]["path"] == "ml/jobs.yaml"
    assert data["baseline"]["jobs"] == 0 and data["baseline"]["emissions_kg"] == 0.0
    assert data["delta"] == {"emissions_kg": head["totals"]["emissions_kg"], "percent": None}
    assert {c["change"] for c in data["changes"]} == {"added"}
    md = run("report", "--manifest", str(repo.path / "ml" / "jobs.yaml"), "--base", "main", "--repo",
             str(repo.path)).out
    assert md.splitlines()[2] == (f"**{dmass(head['totals']['emissions_kg'])} CO2eq** compared with the base, "
                                  f"commit `{base[:7]}`, the merge-base with main, where ml/jobs.yaml did not exist: "
                                  "every job is new.")


def test_shallow_clone_is_deepened_to_find_the_merge_base(pr: scenario.PullRequest, tmp_path: Path):
    full = _compare(pr)
    clone = git.Repo.clone_from(f"file://{pr.repo.path}", tmp_path / "clone", depth=1, branch="feature")
    assert clone.git.rev_parse("--is-shallow-repository") == "true"
    assert len(list(clone.iter_commits())) == 1
    result = run("report", "--manifest", str(tmp_path / "clone" / "jobs.yaml"), "--base", "origin/main", "--repo",
                 str(tmp_path / "clone"), "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["comparison"]["merge_base"] == pr.merge_base
    assert data["comparison"]["deepened"] == 32  # one `git fetch --deepen=32` over file:// was enough
    assert (data["changes"], data["delta"], data["baseline"]) == (full["changes"], full["delta"], full["baseline"])


def test_shallow_clone_without_a_remote_says_which_fetch_depth(pr: scenario.PullRequest, tmp_path: Path):
    clone = git.Repo.clone_from(f"file://{pr.repo.path}", tmp_path / "clone", depth=1, branch="feature",
                                no_single_branch=True)
    clone.git.branch("base-copy", "origin/main")
    clone.git.remote("remove", "origin")
    result = run("report", "--manifest", str(tmp_path / "clone" / "jobs.yaml"), "--base", "base-copy", "--repo",
                 str(tmp_path / "clone"))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert result.err == (f"ci-carbon: {tmp_path / 'clone'}: --base: no merge-base of HEAD and 'base-copy' in this "
                          "shallow clone, and no remote to fetch more history from; check out the full history "
                          "(actions/checkout: `fetch-depth: 0`) or run `git fetch --unshallow`\n")


def test_unknown_base_and_outside_manifest_are_one_line_each(pr: scenario.PullRequest, tmp_path: Path):
    result = run("report", "--manifest", str(pr.repo.path / "jobs.yaml"), "--base", "nope", "--repo",
                 str(pr.repo.path))
    assert result.code == 2
    assert result.err.startswith(f"ci-carbon: {pr.repo.path}: --base: cannot resolve 'nope' ")
    outside = write(tmp_path / "elsewhere" / "jobs.yaml", scenario.HEAD_START)
    result = run("report", "--manifest", str(outside), "--base", "main", "--repo", str(pr.repo.path))
    assert result.code == 2
    assert result.err.startswith(f"ci-carbon: {outside}: --manifest: is outside the repository at ")
    result = run("report", "--manifest", str(outside), "--base", "main", "--repo", str(outside.parent))
    assert (result.code, result.err) == (2, f"ci-carbon: {outside.parent}: --base: is not inside a git repository "
                                            "(give --repo DIR)\n")


def test_a_broken_manifest_at_the_base_is_named_with_its_commit(repo: Repo):
    broken = scenario.HEAD_START.replace("hours: 3", "hours: 3\n    gpus: 2")
    base = repo.commit("typo", {"jobs.yaml": broken})
    repo.branch("feature", base)
    repo.commit("fix", {"jobs.yaml": scenario.HEAD_START})
    result = run("report", "--manifest", str(repo.path / "jobs.yaml"), "--base", "main", "--repo", str(repo.path))
    assert result.code == 2
    assert result.err.startswith(f"ci-carbon: jobs.yaml (base {base[:7]}):14: jobs[2].gpus: unknown field 'gpus'")


def test_head_manifest_is_the_working_tree_file(pr: scenario.PullRequest, tmp_path: Path):
    """The report is of the file on disk (what CI checked out), compared with the committed base."""
    text = scenario.FEATURE.replace("count: 8", "count: 16")
    write(pr.repo.path / "jobs.yaml", text)
    assert _compare(pr)["totals"] == scenario.emissions(tmp_path, text, "head.yaml")["totals"]


def test_csv_carries_the_change_of_each_job(pr: scenario.PullRequest):
    result = run("report", "--manifest", str(pr.repo.path / "jobs.yaml"), "--base", "main", "--repo",
                 str(pr.repo.path), "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    data = _compare(pr)
    changes = {c["name"]: c for c in data["changes"]}
    assert {r["name"]: r["change"] for r in rows} == scenario.KINDS
    for row in rows:
        assert float(row["base_emissions_kg"]) == changes[row["name"]]["base_kg"]
        assert float(row["delta_emissions_kg"]) == changes[row["name"]]["delta_kg"]
    retired = next(r for r in rows if r["name"] == "retire")
    assert retired["emissions_kg"] == "" and retired["hardware"] == ""


def test_job_names_stay_inert_in_the_change_table(repo: Repo):
    base = repo.commit("jobs", {"jobs.yaml": scenario.HEAD_START})
    repo.branch("feature", base)
    evil = "| @org/team <details> `x` #12 <!-- ci-carbon -->"
    repo.commit("evil", {"jobs.yaml": scenario.HEAD_START + f'  - name: "{evil}"\n    hardware: Tesla T4\n'
                                                               "    hours: 1\n"})
    out = run("report", "--manifest", str(repo.path / "jobs.yaml"), "--base", "main", "--repo", str(repo.path)).out
    table = out.split("#### Changes against the base", 1)[1].split("<details><summary>", 1)[0]
    assert "@org" not in table and "<details>" not in table and "<!--" not in table
    header = next(line for line in table.splitlines() if line.startswith("| Job |"))
    row = next(line for line in table.splitlines() if "org/team" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == len(re.findall(r"(?<!\\)\|", header))
