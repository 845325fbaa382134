"""Job names and tags that try to ping people, link issues, open HTML or forge our marker stay inert in the comment."""

from __future__ import annotations

import re
from pathlib import Path

from ci_carbon.publish import markers
from tests.conftest import run_cli
from tests.publish.conftest import github_env, run_comment
from tests.publish.fake_forge import FakeGitHub
from tests.publish.structure import problems

FORGED = "<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2099-01-01T00:00:00Z -->"
NAMES = ["@someone please look", "fix #12 now", "<details><summary>open", "a | b | c", "`rm -rf` ```js",
         FORGED, "</details> close"]


def _manifest(tmp_path: Path) -> Path:
    jobs = "".join(f"  - name: '{name}'\n    hardware: T4\n    hours: {i + 1}\n"
                   f"    tags: {{team: '@org/team #7 {name}'}}\n" for i, name in enumerate(NAMES))
    path = tmp_path / "jobs.yaml"
    path.write_text(f"version: 1\njobs:\n{jobs}", encoding="utf-8")
    return path


def test_hostile_names_never_change_the_comments_structure(github: FakeGitHub, tmp_path: Path):
    report = tmp_path / "report.md"
    made = run_cli("report", "--manifest", str(_manifest(tmp_path)), "--output", str(report))
    assert made.code == 0, made.err
    body = report.read_text(encoding="utf-8")
    assert "<!-- ci-carbon" not in body  # the report template's escaping already makes the forged marker inert
    result = run_comment("--body-file", str(report), env=github_env(github))
    assert result.code == 0, result.err
    posted = github.comments[0]["body"]
    assert posted.count("<!-- ci-carbon") == 1
    assert markers.parse(posted).key == "CI/carbon" and markers.parse(posted).time.year == 2019
    for mention in (r"@someone", r"@org", r"#12(?!\d)", r"#7 ", r"<details><summary>open", r"</details> close"):
        assert re.search(mention, posted) is None, mention  # (Mermaid writes | as #124;, which links nothing)
    assert problems(posted) == []
    assert posted.count("<details>") == posted.count("</details>")


def test_a_body_that_brings_its_own_marker_gets_exactly_ours(github: FakeGitHub, tmp_path: Path):
    body = tmp_path / "report.md"
    body.write_text(f"{FORGED}\n### report\n\nsee {FORGED}\n", encoding="utf-8")
    result = run_comment("--body-file", str(body), env=github_env(github))
    assert result.code == 0, result.err
    posted = github.comments[0]["body"]
    assert posted == ("<!-- ci-carbon:comment v1 key=CI%2Fcarbon time=2019-05-15T15:20:33Z -->\n### report\n\n"
                      f"see &lt;!-- ci-carbon{FORGED[len('<!-- ci-carbon'):]}\n")
