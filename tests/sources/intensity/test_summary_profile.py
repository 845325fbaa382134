"""When to run in the quarterly summary (issue 14, item 3): a planned manifest job with ``start_window_hours``, its
zone's hour-of-day profile from the stand-in Electricity Maps drawn as 24 columns in the HTML summary, the best
start marked, and the when advice in the summary's JSON and Markdown. Through the real CLI, in a new process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT, run_cli
from tests.sources.intensity.standin import JOBS, ElectricityMaps

NOW = "2026-11-03T20:00:00Z"  # the summary's time: a start now is at 20:00 UTC
PAGES = [("2026-10-04T00:00:00Z", "2026-10-14T00:00:00Z"), ("2026-10-14T00:00:00Z", "2026-10-24T00:00:00Z"),
         ("2026-10-24T00:00:00Z", "2026-11-03T00:00:00Z")]  # 30 days before today's 00:00, in 10-day pages
BAR = re.compile(r'<rect class="hour( best)?" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" '
                 r'data-hour="(\d+)" data-intensity="([\d.]+)">')
SCHEMA = json.loads((ROOT / "schemas" / "summary-v1.schema.json").read_text())


@pytest.fixture(autouse=True)
def _grid(monkeypatch):
    """The zone's grid: hour h of every day is 100 + 10·h g/kWh (00:00 → 100 … 23:00 → 330)."""
    monkeypatch.setitem(ElectricityMaps.ZONES, "US-CAL-CISO", lambda h: 100.0 + 10.0 * h.hour)
    monkeypatch.setenv("CI_CARBON_NOW", NOW)


def _summary(tmp_path: Path, jobs: Path, *args: str) -> tuple[str, dict, str]:
    html, out, md = tmp_path / "out.html", tmp_path / "out.json", tmp_path / "out.md"
    result = run_cli("summary", "--manifest", str(jobs), "--quarter", "2026-Q4", *args,
                     "-o", str(html), "-o", str(out), "-o", str(md))
    assert result.code == 0, result.err
    data = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return html.read_text(encoding="utf-8"), data, md.read_text(encoding="utf-8")


def _when(data: dict) -> list[dict]:
    return [r for r in data["recommendations"] if r["kind"] == "when"]


# A start now (20:00) spans 20, 21, 22: (300 + 310 + 320) / 3 = 310 g/kWh. Within 12 h the starts are 21:00 … 23:00
# and 00:00 … 08:00; 00:00 spans 00, 01, 02: (100 + 110 + 120) / 3 = 110, the lowest (23:00: (330 + 100 + 110) / 3 =
# 180; 01:00: 120). Cut 1 − 110 / 310 = 200 / 310 = 64.516 % ("about 65 %"), 4 h from now.
CUT = 200 / 310
SENTENCE = "Starting 'plan' at 00:00 UTC (4 h from now, within its 12 h window) would cut about 65 % here"


def test_the_profile_is_drawn_with_its_window_and_best_start(em, manifest, tmp_path):
    html, data, md = _summary(tmp_path, manifest(JOBS), "--intensity-source", "electricitymaps")
    assert [(q["start"][0], q["end"][0]) for _, q, _ in em.requests] == PAGES
    assert [p for p, _, _ in em.requests] == ["/v3/carbon-intensity/past-range"] * 3
    (when,) = _when(data)
    assert when["text"].startswith(SENTENCE) and SENTENCE in md
    assert SENTENCE.replace("'", "&#39;") in html  # the job's name is user text, escaped in HTML
    assert when["saving_kg"] == pytest.approx(data["totals"]["emissions_kg"] * CUT, rel=1e-5)
    section = html.split('<section id="when">')[1].split("</section>")[0]
    assert section.count('<svg class="profile"') == 1
    assert 'data-best-hour="0" data-now-hour="20"' in section
    bars = BAR.findall(section)
    assert [int(hour) for *_, hour, _ in bars] == list(range(24))
    assert [float(v) for *_, v in bars] == [100.0 + 10.0 * h for h in range(24)]  # the 30 days' mean at each hour
    # the scale: nice ticks up to 330 are 0, 100 … 400; 168 units (180 − 12) for 400 g/kWh, 0.42 a g/kWh, so hour h is
    # (100 + 10·h) × 0.42 high (00:00 42.0 … 23:00 138.6), standing on the base line at y = 180
    assert [float(height) for _, _, height, _, _ in bars] == [round((100 + 10 * h) * 0.42, 1) for h in range(24)]
    assert all(float(y) + float(height) == pytest.approx(180.0, abs=0.11) for _, y, height, _, _ in bars)
    assert [int(hour) for best, _, _, hour, _ in bars if best] == [0]  # the best start, and only it
    # the starts within the window: now (20:00) and the 12 hours after it, 21:00 … 08:00 — 13 shaded slots
    assert section.count('<rect class="window"') == 13
    saving = f"{when['saving_kg'] * 1000:.0f} g CO2eq"  # the advice's saving, as its sentence writes it
    assert f"best start 00:00 UTC (about 65 % less than a start at 20:00: {saving} saved)" in section
    assert f"saves about {saving}." in when["text"]


def test_without_a_token_nothing_is_asked_and_nothing_drawn(em, manifest, tmp_path, monkeypatch):
    monkeypatch.delenv("ELECTRICITYMAPS_TOKEN")
    html, data, md = _summary(tmp_path, manifest(JOBS), "--intensity-source", "electricitymaps")
    assert em.requests == []
    assert _when(data) == [] and 'id="when"' not in html and "data-hour" not in html and "Starting 'plan'" not in md
    assert data["totals"]["jobs"] == 1  # the planned job is still counted, at its yearly-table figure


def test_the_config_file_turns_it_on_and_a_second_summary_asks_nothing(em, manifest, tmp_path):
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nintensity:\n  source: electricitymaps\n", encoding="utf-8")
    html, data, _ = _summary(tmp_path, manifest(JOBS), "--config", str(config))
    assert len(em.requests) == 3 and len(BAR.findall(html)) == 24 and _when(data)[0]["text"].startswith(SENTENCE)
    again, _, _ = _summary(tmp_path, manifest(JOBS), "--config", str(config))
    assert len(em.requests) == 3 and again == html  # the profile came from the disk cache


def test_no_intensity_source_asks_nothing(em, manifest, tmp_path):
    html, data, _ = _summary(tmp_path, manifest(JOBS))
    assert em.requests == [] and _when(data) == [] and 'id="when"' not in html


def test_a_start_now_that_is_already_the_best_is_drawn_without_advice(em, manifest, tmp_path, monkeypatch):
    """At 00:00 a start now spans 00, 01, 02: 110 g/kWh, the lowest of the window (01:00: 120 …): no advice, the
    profile still drawn, its best start the hour of a start now."""
    monkeypatch.setenv("CI_CARBON_NOW", "2026-11-03T00:00:00Z")
    html, data, _ = _summary(tmp_path, manifest(JOBS), "--intensity-source", "electricitymaps")
    assert _when(data) == [] and len(em.requests) == 3
    assert 'data-best-hour="0" data-now-hour="0"' in html and len(BAR.findall(html)) == 24
    assert "best start 00:00 UTC (a start now is already the best)" in html
    assert html.count('<rect class="window"') == 13  # 00:00 … 12:00
