"""A pull request in a real repository: main, a feature branch off an older main commit, and main moving on.

Kept out of conftest so that tests can import the manifests and compute what each diff must say.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tests.compare.conftest import Repo, run, write

HEAD_START = """\
version: 1
defaults: {provider: gcp, region: us-central1}
jobs:
  - name: keep
    hardware: Tesla T4
    hours: 10
  - name: resize
    hardware: A100 SXM4 40GB
    count: 2
    hours: 5
  - name: retire
    hardware: Tesla T4
    hours: 3
"""
STAY = """\
  - name: stay
    hardware: V100 SXM2 32GB
    hours: 2
"""
RETIRE = """\
  - name: retire
    hardware: Tesla T4
    hours: 3
"""
NEW = """\
  - name: new-h100
    hardware: H100 SXM5 80GB
    count: 8
    hours: 20
"""
MERGE_BASE = HEAD_START + STAY
FEATURE_1 = MERGE_BASE.replace("count: 2", "count: 4") + NEW
FEATURE = FEATURE_1.replace(RETIRE, "").replace(STAY, STAY + "    region: europe-west4\n")
MAIN_LATER = MERGE_BASE.replace("hours: 10", "hours: 50") + """\
  - name: main-only
    hardware: Tesla T4
    hours: 100
"""
KINDS = {"new-h100": "added", "retire": "removed", "resize": "changed", "stay": "changed", "keep": "unchanged"}
FIELDS = {"resize": ["count"], "stay": ["region"]}


class PullRequest(NamedTuple):
    repo: Repo
    first: str  # main's first commit
    merge_base: str  # main's second commit: where the feature branched off
    main_tip: str  # main after the branch: its changes are not the pull request's
    head: str


def build(repo: Repo) -> PullRequest:
    first = repo.commit("jobs", {"jobs.yaml": HEAD_START})
    merge_base = repo.commit("add stay", {"jobs.yaml": MERGE_BASE})
    repo.branch("feature", merge_base)
    repo.commit("bigger resize, new H100 job", {"jobs.yaml": FEATURE_1})
    repo.checkout("main")
    repo.commit("longer keep, main-only job", {"jobs.yaml": MAIN_LATER})
    main_tip = repo.commit("docs", {"README.md": "# models\n"})
    repo.checkout("feature")
    head = repo.commit("retire retire, move stay", {"jobs.yaml": FEATURE})
    return PullRequest(repo, first, merge_base, main_tip, head)


def emissions(tmp: Path, text: str, name: str) -> dict:
    """The JSON report of a manifest on its own: what the expected deltas are computed from."""
    result = run("report", "--manifest", str(write(tmp / name, text)), "--format", "json")
    assert result.code == 0, result.err
    return result.json()
