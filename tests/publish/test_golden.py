"""The comment bodies as posted, reviewed like code: tests/golden/comment/.

After an intended change to the report or comment templates, regenerate with
`UPDATE_GOLDEN=1 python -m pytest tests/publish/test_golden.py` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, matches_golden
from tests.publish.conftest import github_env, run_comment
from tests.publish.fake_forge import FakeGitHub

GOLDEN = ROOT / "tests" / "golden" / "comment"


def _matches(name: str, text: str) -> None:
    matches_golden(GOLDEN / name, text)


@pytest.mark.parametrize(("body", "golden"), [("example_report", "example.github.md"),
                                              ("big_report", "400-long-jobs.github.md")])
def test_posted_body_matches_golden(github: FakeGitHub, request: pytest.FixtureRequest, body: str, golden: str):
    path: Path = request.getfixturevalue(body)
    result = run_comment("--report", str(path), env=github_env(github))
    assert result.code == 0, result.err
    _matches(golden, github.comments[0]["body"])


def test_dry_run_matches_golden(example_body: Path):
    fake = FakeGitHub()
    fake.url = "https://api.github.com"  # nothing is sent: the URL only appears in the printed requests
    result = run_comment("--body-file", str(example_body), "--dry-run", "--behaviour", "delete-and-new",
                         env=github_env(fake, GITHUB_ACTIONS="true"))
    assert result.code == 0, result.err
    _matches("example.dry-run.txt", result.out)
