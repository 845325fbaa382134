"""User text (job names, tags) renders harmless in Markdown and Mermaid, and intact in JSON and CSV."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import run_cli

EVIL = "| @org/team <script> <!-- ci-carbon -->"
EVIL_TAG = "<img src=x onerror=alert(1)> #12 [x](javascript:alert(1))"


def _manifest(manifest):
    return manifest(f"""\
        version: 1
        jobs:
          - name: "{EVIL}"
            hardware: T4
            hours: 2
            tags: {{team: "{EVIL_TAG}"}}
          - name: plain
            hardware: T4
            hours: 1
        """)


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_is_inert(manifest):
    out = run_cli("report", "--manifest", str(_manifest(manifest))).out
    assert "<script>" not in out and "<!-- ci-carbon" not in out and "@org" not in out
    assert "<img" not in out and "](javascript" not in out
    row = next(line for line in out.splitlines() if "&lt;script&gt;" in line and line.startswith("| "))
    header = next(line for line in out.splitlines() if line.startswith("| Job |"))
    assert _unescaped_pipes(row) == _unescaped_pipes(header)
    assert row.startswith(r"| \| &#64;org/team &lt;script&gt; &lt;!-- ci-carbon --&gt; |")


def test_mermaid_label_is_inert(manifest):
    out = run_cli("report", "--manifest", str(_manifest(manifest))).out
    chart = out.split("```mermaid", 1)[1].split("```", 1)[0]
    label = next(line for line in chart.splitlines() if "script" in line)
    assert label.strip().startswith('"#124; #64;org/team #60;script#62; #60;#33;-- ci-carbon --#62;" : ')
    assert label.count('"') == 2


def test_json_and_csv_keep_the_text_exactly(manifest):
    path = _manifest(manifest)
    data = run_cli("report", "--manifest", str(path), "--format", "json").json()
    names = {j["name"]: j for j in data["jobs"]}
    assert names[EVIL]["tags"] == {"team": EVIL_TAG}
    rows = list(csv.DictReader(io.StringIO(run_cli("report", "--manifest", str(path), "--format", "csv").out)))
    assert {r["name"] for r in rows} == {EVIL, "plain"}
    assert next(r for r in rows if r["name"] == EVIL)["tags"] == f"team={EVIL_TAG}"


def test_csv_neutralises_spreadsheet_formulas(manifest):
    path = manifest("""\
        version: 1
        jobs:
          - name: "=HYPERLINK(\\"http://x\\")"
            hardware: T4
            hours: 1
        """)
    rows = list(csv.DictReader(io.StringIO(run_cli("report", "--manifest", str(path), "--format", "csv").out)))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")"


def test_a_note_about_the_source_is_shown_under_the_headline():
    from ci_carbon.assemble import report_of
    from ci_carbon.core.model import Notice
    from ci_carbon.core.report import SourceInfo
    from ci_carbon.render.formats import render
    from ci_carbon.sources import manifest as manifest_source
    from tests.conftest import EXAMPLE

    specs, _ = manifest_source.read(str(EXAMPLE))
    note = Notice("unknown_schema", {"revision": "<b>ab12</b>"})
    report = report_of(specs, SourceInfo("mlflow", "sqlite:///x.db", "client", 7, (note,)))
    text = render(report, "markdown")
    first, blank, said = text.split("\n")[:3]
    assert first.startswith("### 🌱 Training carbon footprint") and blank == ""
    assert said == ("Read through the MLflow client, more slowly: the store's schema revision &lt;b&gt;ab12&lt;/b&gt; "
                    "is not one that ci-carbon's direct SQL reader has checked (MLflow's up to 3.17).")
    import json

    assert json.loads(render(report, "json"))["source"]["notes"] == [
        {"code": "unknown_schema", "params": {"revision": "<b>ab12</b>"}}]
