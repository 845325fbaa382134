"""`ci-carbon summary` over a real MLflow server: totals, groups, months and trends checked against arithmetic
written out here, quarter boundaries in UTC, the direct SQL path against the client, empty and all-failed quarters.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from ci_carbon.core import tables
from tests.conftest import ROOT
from tests.summary.conftest import run_summary

SCHEMA = json.loads((ROOT / "schemas" / "summary-v1.schema.json").read_text())

# The factors, from data/ (asserted below, so a change of the tables shows here first)
T4_W, A100_80_W, L4_W = 70.0, 400.0, 72.0  # TDP, devices.csv
# A region's intensity is the grid row it sits on (location-based), its PUE the region's published figure.
US_CENTRAL1 = (1.10, 394.0)  # gcp us-central1: PUE (regions.csv), eGRID2024 MROW gCO2eq/kWh (grids.csv US-MROW)
EUROPE_WEST4 = (1.07, 258.4)  # gcp europe-west4: PUE, Netherlands 2025 derived direct (grids.csv NL)
# Range half-widths of those grid rows, widened 8.4 % for each year between the row's data year and the run's (2026):
# subnational 0.20 + 0.084 × (2026 - 2024) = 0.368; country 0.15 + 0.084 × (2026 - 2025) = 0.234
US_CENTRAL1_HALF, EUROPE_WEST4_HALF = 0.20 + 0.084 * 2, 0.15 + 0.084 * 1
# The runs name no host: each device's typical host (hosts.csv), W of one whole host (CPU TDP share of its vCPUs +
# memory GB × 0.3725), 8 devices per host:
#   T4  aws g4dn.metal: 96 vCPUs × 210 W / 48 threads = 420 W + 412.32 GB × 0.3725 = 153.5892 W → 573.5892 W
#   A100 80GB DGX A100: 2 × 225 W = 450 W + 2199.02 GB × 0.3725 = 819.13495 W → 1269.13495 W
#   L4  aws g6.48xlarge: 192 vCPUs × 225 W / 96 threads = 450 W + 824.63 GB × 0.3725 = 307.174675 W → 757.174675 W
HOST_W = {T4_W: 573.5892, A100_80_W: 1269.13495, L4_W: 757.174675}


def it_kw(watts: float, count: int) -> tuple[float, float, float]:
    """(device kW, host kW as count / 8 of the host, host kW of every host the devices occupy, whole)."""
    return watts * count / 1000, HOST_W[watts] * count / 8 / 1000, HOST_W[watts] * -(-count // 8) / 1000


def kg(watts: float, count: int, hours: float, site: tuple[float, float]) -> float:
    """(TDP × count + the typical host's share) × hours × PUE × intensity: the runs say no CPU, no utilisation."""
    pue, intensity = site
    device, host, _ = it_kw(watts, count)
    return (device + host) * hours * pue * intensity / 1000


Q3 = {  # the four runs that started in 2026-Q3
    "q3-nlp-t4": kg(T4_W, 4, 2.0, US_CENTRAL1),  # (0.28 + 0.2867946) kW × 2 h × 1.10 × 394.0 = 0.4913 kg
    "q3-vision-a100": kg(A100_80_W, 8, 6.0, EUROPE_WEST4),  # (3.2 + 1.26913495) kW × 6 h × 1.07 × 258.4 = 7.4140 kg
    "q3-vision-l4-failed": kg(L4_W, 2, 1.5, EUROPE_WEST4),  # (0.144 + 0.18929) kW × 1.5 h × 1.07 × 258.4 = 0.1382 kg
    "q3-boundary": kg(T4_W, 1, 31 / 60, US_CENTRAL1),  # 23:59 → 00:30 across the quarter's end: 0.0317 kg
}
Q3_RUNS = {"q3-nlp-t4": (T4_W, 4, 2.0, US_CENTRAL1), "q3-vision-a100": (A100_80_W, 8, 6.0, EUROPE_WEST4),
           "q3-vision-l4-failed": (L4_W, 2, 1.5, EUROPE_WEST4), "q3-boundary": (T4_W, 1, 31 / 60, US_CENTRAL1)}
Q3_HALF = {"q3-nlp-t4": US_CENTRAL1_HALF, "q3-vision-a100": EUROPE_WEST4_HALF,
           "q3-vision-l4-failed": EUROPE_WEST4_HALF, "q3-boundary": US_CENTRAL1_HALF}
Q2 = {"q2-nlp-t4": kg(T4_W, 2, 3.0, US_CENTRAL1), "q2-research-cross": kg(L4_W, 1, 1.5, EUROPE_WEST4)}
Y2025 = {"y-vision-a100": kg(A100_80_W, 8, 1.0, EUROPE_WEST4)}


def test_the_factors_are_the_tables():
    devices, regions = tables.devices(), tables.regions()
    assert (devices["t4"].tdp_w, devices["a100-sxm4-80gb"].tdp_w, devices["l4"].tdp_w) == (T4_W, A100_80_W, L4_W)
    grids = tables.grids()
    for region, site in (("us-central1", US_CENTRAL1), ("europe-west4", EUROPE_WEST4)):
        row = regions[("gcp", region)]
        assert (row.pue, grids[row.grid].carbon_intensity) == site
    assert (grids["US-MROW"].kind, grids["US-MROW"].year, grids["NL"].kind, grids["NL"].year) == (
        "egrid-subregion", 2024, "country", 2025)


def summary_json(store, *args: str, uri: str | None = None) -> dict:
    result = run_summary("--mlflow-uri", uri or store.server.uri, *store.selection(), "--format", "json", *args)
    assert result.code == 0, result.err
    data = result.json()
    jsonschema.validate(data, SCHEMA)
    return data


@pytest.fixture(scope="module")
def q3(store) -> dict:
    return summary_json(store, "--quarter", "2026-Q3", "--group-by", "team,team+hardware,tag:cluster")


def test_totals_by_hand(q3):
    t = q3["totals"]
    assert q3["period"] == {"start": "2026-07-01", "end": "2026-10-01", "label": "2026-Q3"}
    assert t["jobs"] == 4 and t["runs"] == 4
    assert t["emissions_kg"] == pytest.approx(sum(Q3.values()), abs=2e-6)
    # energy: Σ (TDP × count + host share) × hours × PUE
    energy = sum(sum(it_kw(w, c)[:2]) * h * site[0] for w, c, h, site in Q3_RUNS.values())
    assert t["energy_kwh"] == pytest.approx(energy, abs=2e-6)
    assert t["device_hours"] == pytest.approx(8 + 48 + 3 + 31 / 60, abs=1e-6)
    # the range: power from 43 % of TDP (no utilisation given) to TDP; the guessed host from 60 % of its share to
    # every host whole; published PUE ±5 %; each run's grid row ± its half-width, widened by its age (Q3_HALF)
    assert tables.newest_intensity_year() == 2025
    low = high = 0.0
    for name, (w, c, h, (pue, intensity)) in Q3_RUNS.items():
        device, share, whole = it_kw(w, c)
        low += (device * 0.43 + share * 0.6) * h * pue * 0.95 * intensity / 1000 * (1 - Q3_HALF[name])
        high += (device + whole) * h * pue * 1.05 * intensity / 1000 * (1 + Q3_HALF[name])
    assert t["emissions_kg_low"] == pytest.approx(low, abs=2e-6)
    assert t["emissions_kg_high"] == pytest.approx(high, abs=2e-6)
    # Market-based (GHG Protocol): only Google's hourly CFE share of each region's grid is credited (regions.csv:
    # us-central1 0.88, europe-west4 0.82), the rest at the grid average (no residual mix recorded); Google's
    # company-wide 100 % annual claim is not: 0.2427 × 0.12 + 5.3086 × 0.18 + 0.0597 × 0.18 + 0.0157 × 0.12 ≈ 0.997 kg
    cfe = {r: tables.regions()[("gcp", r)].cfe_share for r in ("us-central1", "europe-west4")}
    assert cfe == {"us-central1": 0.88, "europe-west4": 0.82}
    unmatched = {"q3-nlp-t4": 0.12, "q3-vision-a100": 0.18, "q3-vision-l4-failed": 0.18, "q3-boundary": 0.12}
    assert t["emissions_kg_market"] == pytest.approx(sum(Q3[n] * unmatched[n] for n in Q3), abs=2e-6)


def test_boundary_runs_belong_to_the_quarter_they_started_in(q3, store):
    top = {r["name"]: r for r in q3["top_runs"]}
    assert set(top) == set(Q3)  # q4-midnight (starts 00:00 on 1 October) is not in Q3
    assert top["q3-boundary"]["started"] == "2026-09-30T23:59:00Z" and top["q3-boundary"]["month"] == "2026-09"
    q4 = summary_json(store, "--quarter", "2026-Q4", "--compare", "none")
    assert [r["name"] for r in q4["top_runs"]] == ["q4-midnight"]
    assert q4["totals"]["emissions_kg"] == pytest.approx(kg(T4_W, 1, 1.0, US_CENTRAL1), abs=2e-6)
    # the run that crossed midnight into Q3 is counted whole in Q2, with all its hours
    assert q3["previous"]["totals"]["emissions_kg"] == pytest.approx(sum(Q2.values()), abs=2e-6)


def test_same_window_with_since_until_and_report(store, q3):
    window = summary_json(store, "--since", "2026-07-01", "--until", "2026-10-01", "--group-by",
                          "team,team+hardware,tag:cluster")
    assert window["period"]["label"] == "2026-07-01 – 2026-09-30"
    assert window["totals"] == q3["totals"]
    # a custom window is compared with the window of the same length before it
    assert window["previous"]["period"] == {"start": "2026-04-01", "end": "2026-07-01",
                                            "label": "2026-04-01 – 2026-06-30"}


def test_groups_sorted_with_previous_quarter(q3):
    teams = [g for g in q3["groups"] if list(g["by"]) == ["team"]]
    assert [g["by"]["team"] for g in teams] == ["vision", "nlp"]
    vision, nlp = teams
    assert vision["totals"]["emissions_kg"] == pytest.approx(Q3["q3-vision-a100"] + Q3["q3-vision-l4-failed"],
                                                             abs=2e-6)
    assert nlp["totals"]["emissions_kg"] == pytest.approx(Q3["q3-nlp-t4"] + Q3["q3-boundary"], abs=2e-6)
    assert nlp["share"] == pytest.approx(nlp["totals"]["emissions_kg"] / q3["totals"]["emissions_kg"], abs=1e-6)
    assert nlp["previous"]["emissions_kg"] == pytest.approx(Q2["q2-nlp-t4"], abs=2e-6)
    assert vision["previous"]["jobs"] == 0  # no vision run in Q2: "new"
    pairs = {(g["by"]["team"], g["by"]["hardware"]) for g in q3["groups"] if list(g["by"]) == ["team", "hardware"]}
    assert pairs == {("nlp", "Tesla T4"), ("vision", "A100 SXM4 80GB"), ("vision", "L4")}
    clusters = {g["by"]["tag:cluster"]: g["totals"]["jobs"] for g in q3["groups"] if "tag:cluster" in g["by"]}
    assert clusters == {"a": 1, "b": 1, "": 2}  # '' = the runs that do not say


def test_team_tag_names_come_from_the_config(store, tmp_path):
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nmlflow: {team: [squad, team]}\n")
    q2 = summary_json(store, "--quarter", "2026-Q2", "--config", str(config), "--compare", "none")
    teams = {g["by"]["team"]: g["totals"]["jobs"] for g in q2["groups"] if list(g["by"]) == ["team"]}
    assert teams == {"nlp": 1, "research": 1}


def test_months_and_trends(q3):
    months = {m["month"]: m["totals"]["emissions_kg"] for m in q3["months"]}
    assert list(months) == ["2026-07", "2026-08", "2026-09"]
    assert months["2026-07"] == pytest.approx(Q3["q3-nlp-t4"], abs=2e-6)
    assert months["2026-08"] == pytest.approx(Q3["q3-vision-a100"], abs=2e-6)
    assert months["2026-09"] == pytest.approx(Q3["q3-vision-l4-failed"] + Q3["q3-boundary"], abs=2e-6)
    assert all(m["emissions_kg_by_basis"]["tdp"] == pytest.approx(m["totals"]["emissions_kg"], abs=1e-6)
               for m in q3["months"])
    previous, year = q3["previous"], q3["year_ago"]
    assert previous["period"]["label"] == "2026-Q2" and year["period"]["label"] == "2025-Q3"
    now, before, year_before = sum(Q3.values()), sum(Q2.values()), sum(Y2025.values())
    assert previous["delta"]["emissions_kg"] == pytest.approx(now - before, abs=4e-6)
    assert previous["delta"]["percent"] == pytest.approx(100 * (now - before) / before, rel=1e-5)
    assert year["delta"]["percent"] == pytest.approx(100 * (now - year_before) / year_before, rel=1e-5)


def test_waste_quality_and_advice(q3):
    failed = next(r for r in q3["recommendations"] if r["kind"] == "waste")
    assert failed["jobs"] == ["q3-vision-l4-failed"] and failed["runs"] == 1
    assert failed["saving_kg"] == pytest.approx(Q3["q3-vision-l4-failed"], abs=2e-6)
    quality = {q["basis"]: q for q in q3["quality"]}
    assert quality["tdp"]["runs"] == 4 and quality["tdp"]["share"] == pytest.approx(1.0)
    assert quality["measured"]["runs"] == 0
    # GCP's T4 regions are not in data/availability.csv (unknown, not "nowhere"): the T4 runs are not moved
    moved = {j for r in q3["recommendations"] if r["kind"] == "region" for j in r["jobs"]}
    assert not moved & {"q3-boundary", "q3-nlp-t4"}
    savings = [r["saving_kg"] or 0.0 for r in q3["recommendations"]]  # a hint (null) sorts as 0 kg
    assert savings == sorted(savings, reverse=True)


def test_sql_path_equals_the_server(store, q3):
    direct = summary_json(store, "--quarter", "2026-Q3", "--group-by", "team,team+hardware,tag:cluster",
                          uri=store.server.backend)
    assert [s["reader"] for s in direct.pop("sources")] == ["sql"]
    assert [s["reader"] for s in q3["sources"]] == ["client"]
    assert direct == {k: v for k, v in q3.items() if k != "sources"}


def test_csv_one_row_per_run_by_start_time(store):
    result = run_summary("--mlflow-uri", store.server.backend, *store.selection(), "--quarter", "2026-Q3",
                         "--format", "csv", "--group-by", "tag:cluster")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["name"] for r in rows] == ["q3-nlp-t4", "q3-vision-a100", "q3-vision-l4-failed", "q3-boundary"]
    assert rows[3]["started"] == "2026-09-30T23:59:00Z" and rows[3]["month"] == "2026-09"
    assert [r["tag:cluster"] for r in rows] == ["a", "b", "", ""]
    assert sum(float(r["emissions_kg"]) for r in rows) == pytest.approx(sum(Q3.values()), abs=1e-5)
    assert rows[2]["status"] == "FAILED" and rows[0]["team"] == "nlp" and rows[0]["basis"] == "tdp"


def test_empty_quarter_says_so(store, tmp_path):
    out = tmp_path / "empty.md"
    result = run_summary("--mlflow-uri", store.server.uri, *store.selection(), "--quarter", "2024-Q1", "-o", str(out))
    assert result.code == 0, result.err
    assert result.out == "" and result.err == ""  # written to the file; no progress bar when stderr is not a terminal
    text = out.read_text()
    assert text.startswith("## 🌱 Training carbon footprint, 2024-Q1\n")
    assert "**No training runs started in 2024-Q1**, so there is nothing to add up for this period." in text
    assert "| Runs |" not in text and "### By team" not in text
    assert f"(UTC) · MLflow store `{store.server.uri}`" in text
    data = summary_json(store, "--quarter", "2024-Q1")
    assert data["totals"]["jobs"] == 0 and data["previous"] is None and data["recommendations"] == []
    source = {"kind": "mlflow", "where": store.server.uri, "reader": "client", "read": 0, "notes": []}
    assert data["sources"] == [source]
    assert [m["totals"]["jobs"] for m in data["months"]] == [0, 0, 0]


def test_quarter_of_only_failed_runs(store):
    data = summary_json(store, "--quarter", "2026-Q1", "--compare", "none")
    both = kg(T4_W, 1, 1.0, US_CENTRAL1) + kg(L4_W, 1, 0.5, EUROPE_WEST4)
    assert data["totals"]["jobs"] == 2 and data["totals"]["emissions_kg"] == pytest.approx(both, abs=2e-6)
    shares = {s["status"]: s["share"] for s in data["statuses"]}
    assert shares["FAILED"] == pytest.approx(kg(T4_W, 1, 1.0, US_CENTRAL1) / both, abs=1e-6)
    assert shares["KILLED"] == pytest.approx(kg(L4_W, 1, 0.5, EUROPE_WEST4) / both, abs=1e-6)
    waste = next(r for r in data["recommendations"] if r["kind"] == "waste")
    assert waste["saving_kg"] == pytest.approx(both, abs=2e-6) and waste["runs"] == 2
    text = run_summary("--mlflow-uri", store.server.backend, *store.selection(), "--quarter", "2026-Q1",
                       "--compare", "none").out
    assert "- **Failed or killed runs**: 2 runs, " in text and "(100 % of the period): 1 failed, 1 killed." in text


def test_names_that_need_escaping(store, tmp_path):
    common = ("--mlflow-uri", store.server.backend, *store.selection(), "--quarter", "2025-Q1", "--compare", "none")
    markdown = run_summary(*common, "--group-by", "team").out
    assert "<script>" not in markdown and "@team" not in markdown
    assert "| &lt;script&gt;alert(1)&lt;/script&gt; |" in markdown
    assert "| a\\|b |" in markdown and "| &#64;team |" in markdown
    for line in markdown.splitlines():  # every table row keeps its columns
        if line.startswith("| a\\|b"):
            assert line.replace("\\|", "").count("|") == 7
    html = run_summary(*common, "--group-by", "team", "--format", "html").out
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ">a|b<" in html and ">@team<" in html  # plain text in HTML: nothing to escape in '|' and '@'


def test_usage_errors(store):
    bad = run_summary("--mlflow-uri", store.server.uri, "--quarter", "2026-Q5")
    assert bad.code == 2 and "'2026-Q5' is not a quarter" in bad.err and "Traceback" not in bad.err
    bad = run_summary("--mlflow-uri", store.server.uri, "--group-by", "teem")
    assert bad.code == 2 and "unknown field 'teem'" in bad.err
    bad = run_summary("--mlflow-uri", store.server.uri, "--quarter", "2026-Q3", "--since", "2026-07-01")
    assert bad.code == 2 and "not both" in bad.err
    assert run_summary("--quarter", "2026-Q3").code == 2  # no source at all


def test_manifest_planned_jobs_join_the_period(store, tmp_path: Path):
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text("version: 1\njobs:\n  - {name: planned, hardware: Tesla T4, count: 2, hours: 10, "
                        "provider: gcp, region: us-central1, tags: {team: nlp}}\n")
    data = summary_json(store, "--quarter", "2026-Q3", "--manifest", str(manifest), "--compare", "none")
    planned = kg(T4_W, 2, 10.0, US_CENTRAL1)
    assert data["totals"]["emissions_kg"] == pytest.approx(sum(Q3.values()) + planned, abs=2e-6)
    assert data["undated"]["emissions_kg"] == pytest.approx(planned, abs=2e-6)
    assert {s["kind"] for s in data["sources"]} == {"mlflow", "manifest"}
    alone = run_summary("--manifest", str(manifest), "--quarter", "2026-Q3", "--format", "json")
    assert alone.code == 0, alone.err
    assert alone.json()["totals"]["jobs"] == 1


def test_one_output_file_takes_its_format_from_the_extension(store, tmp_path: Path):
    """`-o runs.csv` is the CSV (one row per run), not Markdown in a .csv file; --format still wins."""
    runs = tmp_path / "runs.csv"
    result = run_summary("--mlflow-uri", store.server.uri, *store.selection(), "--quarter", "2026-Q3", "-o", str(runs))
    assert result.code == 0, result.err
    header, *rows = runs.read_text(encoding="utf-8").splitlines()
    assert header.startswith("started,month,id,name,") and rows
    forced = tmp_path / "forced.csv"
    result = run_summary("--mlflow-uri", store.server.uri, *store.selection(), "--quarter", "2026-Q3",
                         "--format", "json", "-o", str(forced))
    assert result.code == 0, result.err
    assert forced.read_text(encoding="utf-8").startswith('{\n  "schema": "ci-carbon/summary/v1"')
