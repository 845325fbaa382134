"""Fitting a report into a forge's limit: whole sections, least important first, never a broken structure.

The bodies are real: rendered by templates/report.md.j2 from the example manifest, from a generated manifest of 400
long-named jobs (five times GitHub's limit), and from a report with inputs not estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ci_carbon.assemble import report_of
from ci_carbon.core.model import Skipped
from ci_carbon.core.report import SourceInfo as Source
from ci_carbon.publish import fit, words
from ci_carbon.publish.fit import Left
from ci_carbon.render.formats import render
from ci_carbon.sources import manifest as manifest_source
from tests.conftest import EXAMPLE
from tests.publish.structure import problems

GITHUB = 65_536


def note(left: Sequence[Left]) -> str:
    return words.block("fit.j2", "left_out", left, "github", GITHUB)


def whole(section: fit.Section) -> str:
    return "".join(b.text + "".join(b.items) + b.tail for b in section.blocks)


def test_blocks_give_the_body_back_exactly(example_body: Path, big_body: Path):
    for path in (example_body, big_body):
        body = path.read_text(encoding="utf-8")
        assert "".join(whole(s) for s in fit.sections(body)) == body


def test_every_section_of_the_real_report_is_recognised(big_body: Path):
    roles = [(s.role, s.title) for s in fit.sections(big_body.read_text(encoding="utf-8"))]
    assert [r for r, _ in roles] == ["heading", "text", "table", "more_jobs", "chart", "notes", "advice",
                                     "equivalents", "method"]
    assert roles[3][1] == "390 more jobs" and roles[5][1] == "Notes on 400 jobs"


def test_inputs_not_estimated_are_recognised():
    specs, _ = manifest_source.read(str(EXAMPLE))
    skipped = (Skipped("parent-run", "abc123", "parent"), Skipped("no-hw", "def456", "no_hardware"))
    body = render(report_of(specs, Source("mlflow", "sqlite:///x.db", "sql", 9), skipped), "markdown")
    roles = {s.role: s.title for s in fit.sections(body)}
    assert roles["skipped"] == "2 inputs not estimated"


def test_drop_order_is_the_documented_one(big_body: Path):
    fitter = fit._Fitter(big_body.read_text(encoding="utf-8"), 0, note)
    order = [(fitter.parts[i].role, kept) for i, _, kept in fitter.steps()]
    assert order == [("method", None), ("more_jobs", None), ("notes", None), ("equivalents", None),
                     ("advice", 5), ("chart", None), ("advice", None)]


def test_400_jobs_fit_githubs_limit_and_keep_what_matters(big_body: Path):
    body = big_body.read_text(encoding="utf-8")
    assert fit.size(body) > 4 * GITHUB
    result = fit.fit(body, GITHUB, note)
    assert fit.size(result.body) <= GITHUB
    assert problems(result.body) == []
    assert [left.role for left in result.left_out] == ["more_jobs", "notes"]
    assert "<summary>Method and data sources</summary>" in result.body  # left out first, then put back: it fits
    assert result.body.count("\n| team-") == 10 and "```mermaid" in result.body
    assert result.body.endswith(
        "\n\n_Shortened to fit GitHub's limit of 65,536 characters: left out the table of 390 more jobs and the notes "
        "on 400 jobs. The full report is in the job summary and the JSON report artifact._\n")


def test_nothing_changes_when_the_body_fits(example_body: Path):
    body = example_body.read_text(encoding="utf-8")
    assert fit.fit(body, fit.size(body), note) == fit.Fitted(body, ())


def test_the_least_important_section_goes_first(example_body: Path):
    body = example_body.read_text(encoding="utf-8")
    result = fit.fit(body, fit.size(body) - 1, note)
    assert [left.role for left in result.left_out] == ["method"]
    assert "#### That is about" in result.body and "<summary>Notes on 6 jobs</summary>" in result.body


def test_recommendations_beyond_the_fifth_go_before_the_first_five(example_body: Path):
    body = example_body.read_text(encoding="utf-8")
    parts = {s.role: whole(s) for s in fit.sections(body)}
    shorter = body.replace(parts["method"], "").replace(parts["notes"], "").replace(parts["equivalents"], "")
    result = fit.fit(body, fit.size(shorter) - 10, note)
    assert fit.size(result.body) < fit.size(shorter) and problems(result.body) == []
    assert "\n5. " in result.body and "\n6. " not in result.body
    assert Left("advice", "What you can do", 6, 13) in result.left_out
    assert "recommendations 6 to 13" in result.body


@pytest.mark.parametrize("budget", [12_000, 6_000, 3_000, 1_500, 800])
def test_tight_budgets_never_break_a_structure(example_body: Path, big_body: Path, budget: int):
    for path in (example_body, big_body):
        body = path.read_text(encoding="utf-8")
        result = fit.fit(body, budget, note)
        assert fit.size(result.body) <= budget
        assert problems(result.body) == [], path
        assert result.body.startswith("### 🌱 Training carbon footprint")
        kept = fit.sections(result.body)
        for left in result.left_out:  # nothing was left out that would still have fitted
            if left.first == 0:
                section = next(s for s in fit.sections(body) if s.role == left.role and s.title == left.title)
                assert fit.size(result.body) + fit.size(whole(section)) > budget or len(kept) == 0


def test_table_rows_go_last_and_only_whole(example_body: Path):
    body = example_body.read_text(encoding="utf-8")
    # 900: the heading, the two lines under it and the note take ~680 characters; the longest first row
    # (aws us-east-1, US East (N. Virginia)) ~140 more, so at least one row fits and not all seven do.
    result = fit.fit(body, 900, note)
    rows = [line for line in result.body.splitlines() if line.startswith("| ") and "×" in line]
    assert 0 < len(rows) < 7 and problems(result.body) == []
    assert any(left.role == "rows" for left in result.left_out)
    assert f"rows {len(rows) + 1} to 7 of a table" in result.body


def test_fences_and_details_are_single_blocks():
    body = ("intro\n\n<details><summary>x</summary>\n\n```\n</details>\n| a |\n```\n\n</details>\n\n"
            "```mermaid\npie\n<details>\n| b |\n```\ntail\n")
    kinds = [(b.kind, b.title) for b in fit.blocks(body)]
    assert kinds == [("text", ""), ("details", "x"), ("fence", "mermaid"), ("text", "")]


def test_one_line_longer_than_the_limit_is_cut_at_the_limit():
    result = fit.fit("x" * 100_000 + "\n", 1_000, note)
    assert fit.size(result.body) <= 1_000


def test_size_counts_what_a_forge_may_count():
    assert fit.size("🌱") == 2 and fit.size("é") == 1 and fit.size("ab") == 2
