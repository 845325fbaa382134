"""The demo store summarised as a new user would, and the HTML page opened in a real browser (headless Chromium).

The page must render its charts with no script, no console message and no request beyond the page itself (it is
meant to be mailed, archived and opened offline). Screenshots are kept in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.summary.browser import Browser, chromium, dump_dom
from tests.summary.conftest import ARTIFACTS, run_summary

CONFIG = str(ROOT / "examples" / "ci-carbon.yaml")


def demo(demo_db, *args: str):
    result = run_summary("--mlflow-uri", f"sqlite:///{demo_db}", "--quarter", "2026-Q3", "--config", CONFIG, *args)
    assert result.code == 0, result.err
    return result


def test_demo_summary_a_lead_could_paste(demo_db):
    text = demo(demo_db).out
    headline = text.splitlines()[0]
    assert re.fullmatch(r"## 🌱 Training carbon footprint, 2026-Q3: \*\*[\d.]+ kg CO2eq\*\* \([\d.]+ kg – [\d.]+ kg\)",
                        headline), headline
    # 27: notebook-exploration shows no accelerator, so it is not the config's default A100 (issue 12)
    assert "27 runs on " in text and "against 2026-Q2" in text
    teams = re.findall(r"^\| (nlp|recsys|vision|speech) \| (\d+) \|", text.split("### By team")[1], re.M)
    # largest first; with every run that names no host counting its typical host, speech now passes vision
    assert [t for t, _ in teams] == ["nlp", "recsys", "speech", "vision"]
    assert sum(int(n) for _, n in teams) == 27
    assert "| 2026-07 |" in text and "| 2026-09 |" in text
    assert "- **Failed or killed runs**: 3 runs" in text
    assert "ran 13 trials" in text  # the vit grid search, counted through its children
    assert "parents of hyper-parameter searches, counted through their child runs | 1 | vit-b16-grid |" in text


def test_demo_json_facts(demo_db):
    data = demo(demo_db, "--format", "json").json()
    assert data["totals"]["jobs"] == 27 and data["previous"]["totals"]["jobs"] == 3 and data["year_ago"] is None
    quality = {q["basis"]: q["runs"] for q in data["quality"]}
    assert quality == {"measured": 19, "reported": 1, "tdp": 5, "defaults": 2}
    # gcp us-central1 on eGRID MROW (394.0 g/kWh): bert-ranker-large-full names no host, so it counts the DGX A100
    # host (hosts.csv): (8 × 400 W + 1269.13 W) × 9.5 h = 42.46 kWh × PUE 1.10 × 394.0 = 18.4 kg; aws us-east-1 on
    # eGRID SRVC (290.6 g/kWh): the p4d instance with its own host, 51.98 kWh × 290.6 = 15.1 kg
    assert [r["name"] for r in data["top_runs"][:2]] == ["bert-ranker-large-full", "pretrain-1b-p4d"]
    assert [s["code"] for s in data["skipped"]] == ["no_accelerator", "parent"]  # the bare notebook run (issue 12)


def _require_browser() -> None:
    """No skipping: scripts/test.sh installs Debian's chromium; without it the page is untested, which is a failure."""
    if chromium() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (scripts/test.sh does this)")


def test_html_page_in_chromium(demo_db, tmp_path):
    _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "summary.html"
    demo(demo_db, "--format", "html", "--output", str(page))
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.split("</head>")[0].replace("http-equiv", "")
    url = page.resolve().as_uri()
    with Browser(tmp_path / "profile") as browser:
        visit = browser.visit(url, ("svg", "svg rect", "section", "table tr"), screenshot=ARTIFACTS / "summary.png",
                              full_page=ARTIFACTS / "summary-full.png",
                              expressions={"title": "document.title",
                                           "width": "Math.round(document.querySelector('svg').getBoundingClientRect()"
                                                    ".width)"})
    assert visit.console == [] and visit.errors == []
    assert visit.requests == [url]  # the page itself, nothing else
    assert visit.values["title"] == "Training carbon footprint, 2026-Q3"
    assert visit.counts["svg"] == 6  # 4 breakdowns (team, project, hardware, location), months, measured vs estimated
    assert visit.counts["svg rect"] >= 20 and visit.counts["table tr"] > 40
    assert visit.values["width"] > 600 and visit.height > 2000
    assert (ARTIFACTS / "summary.png").stat().st_size > 20_000
    dom = dump_dom(url, tmp_path / "profile-dom")
    assert dom.count("<svg") == 6 and dom.count('class="bar"') >= 4
    assert "Training carbon footprint, 2026-Q3" in dom


def test_escaped_names_in_chromium(store, tmp_path):
    _require_browser()
    page = tmp_path / "escape.html"
    result = run_summary("--mlflow-uri", store.server.backend, *store.selection(), "--quarter", "2025-Q1",
                         "--compare", "none", "--group-by", "team", "--format", "html", "--output", str(page))
    assert result.code == 0, result.err
    with Browser(tmp_path / "profile") as browser:
        visit = browser.visit(page.resolve().as_uri(), ("script",),
                              expressions={"text": "document.body.innerText"})
    assert visit.counts["script"] == 0 and visit.console == [] and visit.errors == []
    assert "<script>alert(1)</script>" in visit.values["text"]  # shown as text, never run
    assert "a|b" in visit.values["text"] and "@team" in visit.values["text"]


def test_several_formats_from_one_read(demo_db, tmp_path):
    files = [tmp_path / f"summary.{ext}" for ext in ("md", "html", "csv", "json")]
    demo(demo_db, *[arg for f in files for arg in ("-o", str(f))])
    md, html, csv_text, data = (f.read_text() for f in files)
    assert md.startswith("## 🌱") and html.startswith("<!DOCTYPE html>") and csv_text.startswith("started,month,id,")
    assert len(csv_text.splitlines()) == 28 and '"schema": "ci-carbon/summary/v1"' in data
    bad = run_summary("--mlflow-uri", f"sqlite:///{demo_db}", "-o", str(tmp_path / "a.md"), "-o", str(tmp_path / "b"))
    assert bad.code == 2 and "each file's extension says its format" in bad.err
