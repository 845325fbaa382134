"""Rendering a report to a forge's size (ci_carbon/render/sized.py): sections left out by the template itself, least
important first, put back where they still fit; Markdown from elsewhere cut by whole blocks only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_carbon.render import sized
from ci_carbon.render.formats import markdown
from tests.publish.structure import problems

GITHUB = 65_536


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_report_that_fits_is_the_report(example_report: Path, example_body: Path):
    r = load(example_report)
    text, left = sized.fitted(r, GITHUB)
    assert (text, left) == (example_body.read_text(encoding="utf-8"), ())  # from JSON = what `report` wrote


def test_400_jobs_fit_githubs_limit_and_keep_what_matters(big_report: Path, big_body: Path):
    # far over the limit (notes grouped per kind made it 3.6×, not 4×)
    assert sized.size(big_body.read_text(encoding="utf-8")) > 3 * GITHUB
    text, left = sized.fitted(load(big_report), GITHUB)
    assert sized.size(text) <= GITHUB and problems(text) == []
    assert left == ("more_jobs", "notes")  # the method went first, then came back: it fits
    assert "<summary>Method and data sources</summary>" in text
    assert text.count("\n| team-") == 10 and "```mermaid" in text
    assert text.endswith(
        "\n\n_Shortened to fit GitHub's limit of 65,536 characters: left out the table of 390 more jobs and the notes "
        "on 400 jobs. The full report is in the job summary and the JSON report artifact._\n")


def test_the_least_important_section_goes_first(example_report: Path, example_body: Path):
    full = example_body.read_text(encoding="utf-8")
    text, left = sized.fitted(load(example_report), sized.size(full) - 1)
    assert left == ("method",)
    # 6 jobs have notes (TDP power, typical host); the market method's per-grid notes are in the method paragraph
    assert "#### That is about" in text and "<summary>Notes on 6 jobs</summary>" in text
    assert "Method and data sources" not in text


def test_recommendations_beyond_the_fifth_go_before_the_first_five(example_report: Path):
    r = load(example_report)
    assert len(r["recommendations"]) > 6
    shorter = markdown(r, ("method", "more_jobs", "notes", "skipped", "equivalents"))
    text, left = sized.fitted(r, sized.size(shorter) - 10)
    assert "advice_rest" in left and "advice" not in left and problems(text) == []
    assert "\n5. " in text and "\n6. " not in text
    assert f"recommendations 6 to {len(r['recommendations'])}" in text


@pytest.mark.parametrize("budget", [12_000, 6_000, 3_000, 1_500])
def test_tight_budgets_never_break_a_structure(example_report: Path, big_report: Path, budget: int):
    for path in (example_report, big_report):
        r = load(path)
        text, left = sized.fitted(r, budget)
        assert sized.size(text) <= budget, (path.name, budget, left)
        assert problems(text) == [], path
        assert text.startswith("### 🌱 Training carbon footprint")
        for section in left:  # nothing is left out that would still have fitted
            if section != "rows":
                assert sized.size(markdown(r, [s for s in left if s != section], forge="github",
                                           limit=budget)) > budget or section == "rows"


def test_table_rows_go_last_and_only_whole(example_report: Path):
    # 1,200 characters: the headline paragraph (with the market-based method, issue 11) and two whole rows
    text, left = sized.fitted(load(example_report), 1_200)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "×" in line]
    assert 0 < len(rows) < 7 and problems(text) == []
    assert "rows" in left
    assert f"rows {len(rows) + 1} and after of the job table" in text


def test_markdown_from_elsewhere_is_cut_between_blocks_only():
    body = ("intro\n\n<details><summary>x</summary>\n\n```\n</details>\n\n| a |\n```\n\n</details>\n\n"
            "```mermaid\npie\n\n<details>\n| b |\n```\n\ntail\n")
    assert [b.strip().split("\n")[0] for b in sized._blocks(body)] == [
        "intro", "<details><summary>x</summary>", "```mermaid", "tail"]
    text, was_cut = sized.cut(body, 60, "NOTE")
    assert was_cut and text == "intro\n\nNOTE\n"
    assert sized.cut(body, 10_000, "NOTE") == (body, False)
