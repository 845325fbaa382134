"""Carbon per result on a real MLflow store: a 24-trial sweep (nested runs under one parent) logging val_accuracy
and GPU power as MLflow's system metrics, read by both readers (direct SQL on the sqlite file, the client through
the server), reported with --metric and with ci-carbon.yaml's mlflow.metric."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import mlflow
import pytest
from mlflow.entities import Metric

from ci_carbon.render.filters import mass
from tests.conftest import ROOT, run_cli

T0 = 1_780_000_000_000  # 2026-05-28T20:26:40Z: a fixed start, so that durations are exact
MINUTE, HOUR = 60_000, 3_600_000
WATTS = 300.0  # every trial's GPU draws this, logged once a minute: kg is proportional to minutes
# kg figures are compared within 10 ppm: the JSON rounds each to 6 decimals (a 40-minute run's 0.1325 kg is ±4 ppm)

# The sweep, in start order (trial i starts at T0 + i h): (minutes, val_accuracy). Designed so the frontier is
# obvious: four cheap runs that each beat every cheaper one — t00 (10 min, 0.70), t03 (20 min, 0.80),
# t07 (30 min, 0.85), t12 (40 min, 0.88) — and twenty 50-minute runs, each longer than all four and scoring below
# 0.88, so t12 dominates every one of them (and nothing dominates the four: each is the best at its kg or below).
# In start order the best-so-far rises at t00, t03, t07, t12 (the records) and never after: the last gain is
# t12 − t07 = 0.88 − 0.85 = +0.03, bought by the runs after t07 up to t12 (t08–t11 at 50 min, t12 at 40 min:
# 5 trials, 240 minutes); t13–t23 (11 trials, 550 minutes) came after the best.
FRONTIER = {0: (10, 0.70), 3: (20, 0.80), 7: (30, 0.85), 12: (40, 0.88)}
DOMINATED_ACCURACY = {1: 0.60, 2: 0.65, 4: 0.72, 5: 0.75, 6: 0.78, 8: 0.81, 9: 0.82, 10: 0.83, 11: 0.84,
                      13: 0.86, 14: 0.87, 15: 0.70, 16: 0.75, 17: 0.80, 18: 0.85, 19: 0.86, 20: 0.87, 21: 0.60,
                      22: 0.65, 23: 0.79}
TRIALS = {i: FRONTIER.get(i) or (50, DOMINATED_ACCURACY[i]) for i in range(24)}
TAGS = {"gpu": "NVIDIA A100-SXM4-80GB", "cloud": "gcp", "region": "us-central1", "team": "vision"}


def _trial(client: mlflow.MlflowClient, experiment: str, parent: str, i: int) -> str:
    minutes, accuracy = TRIALS[i]
    start = T0 + i * HOUR
    run = client.create_run(experiment, start_time=start, run_name=f"t{i:02d}",
                            tags={**TAGS, "mlflow.parentRunId": parent})
    rid = run.info.run_id
    client.log_param(rid, "lr", str(0.001 * (i + 1)))
    power = [Metric("system/gpu_0_power_usage_watts", WATTS, start + MINUTE * (k + 1), k) for k in range(minutes)]
    client.log_batch(rid, metrics=[*power, Metric("val_accuracy", accuracy, start + minutes * MINUTE, 0)])
    client.set_terminated(rid, end_time=start + minutes * MINUTE)
    return rid


@pytest.fixture(scope="module")
def sweep(mlflow_server):
    """The experiment: a parent run, its 24 trials, and one run nested under no parent that logged no metric."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"results-{uuid.uuid4().hex[:8]}"
    experiment = client.create_experiment(name)
    parent = client.create_run(experiment, start_time=T0, run_name="sweep", tags=TAGS).info.run_id
    ids = {f"t{i:02d}": _trial(client, experiment, parent, i) for i in range(24)}
    client.set_terminated(parent, end_time=T0 + 24 * HOUR)
    lonely = client.create_run(experiment, start_time=T0, run_name="no-metric", tags=TAGS).info.run_id
    client.set_terminated(lonely, end_time=T0 + 15 * MINUTE)
    ids["no-metric"] = lonely
    return mlflow_server, name, parent, ids


def _report(uri: str, name: str, *args: str) -> dict:
    result = run_cli("report", "--mlflow-uri", uri, "-e", name, "--format", "json", *args)
    assert result.code == 0, result.err
    return result.json()


def _kg_per_minute(data: dict) -> float:
    """Every trial ran the same GPU (and typical host) at the same power in the same region: kg per minute, from
    all 24 trials' 1,100 minutes (one trial's 6-decimal JSON rounding, divided by its 10 minutes, is 1e-5 off)."""
    trials = [j for j in data["jobs"] if j["name"] in {f"t{i:02d}" for i in range(24)}]
    assert len(trials) == 24
    return sum(j["emissions_kg"] for j in trials) / sum(minutes for minutes, _ in TRIALS.values())


def test_frontier_dominated_kg_and_last_gain_by_hand(sweep):
    server, name, parent, ids = sweep
    data = _report(server.backend, name, "--metric", "val_accuracy")
    res = data["results"]
    assert (res["metric"], res["direction"]) == ("val_accuracy", "max")
    per_minute = _kg_per_minute(data)
    by_sweep = {g["sweep"]: g for g in res["groups"]}
    assert set(by_sweep) == {None, parent}
    group = by_sweep[parent]
    assert group["frontier"] == [ids["t00"], ids["t03"], ids["t07"], ids["t12"]]  # lowest kg first
    assert res["frontier"] == sorted(group["frontier"])
    # 20 dominated trials × 50 minutes each
    assert group["dominated_kg"] == pytest.approx(20 * 50 * per_minute, rel=1e-5)
    assert res["dominated_kg"] == pytest.approx(group["dominated_kg"], abs=1e-6)  # the no-metric group adds 0
    assert group["best"]["id"] == ids["t12"] and group["best"]["value"] == 0.88
    assert group["best"]["emissions_kg"] == pytest.approx(40 * per_minute, rel=1e-5)
    gain = group["last_gain"]
    assert gain["previous"] == ids["t07"] and gain["trials"] == 5
    assert gain["change"] == pytest.approx(0.03, abs=1e-6)
    assert gain["emissions_kg"] == pytest.approx((4 * 50 + 40) * per_minute, rel=1e-5)
    assert group["after_best"]["trials"] == 11
    assert group["after_best"]["emissions_kg"] == pytest.approx(11 * 50 * per_minute, rel=1e-5)
    assert len(res["values"]) == 25 and res["values"][ids["no-metric"]] is None


def test_the_run_without_the_metric_is_listed_not_dropped(sweep):
    server, name, _, ids = sweep
    data = _report(server.backend, name, "--metric", "val_accuracy")
    lonely = next(g for g in data["results"]["groups"] if g["sweep"] is None)
    assert lonely["runs"] == [] and lonely["frontier"] == [] and lonely["dominated_kg"] == 0
    kg = next(j["emissions_kg"] for j in data["jobs"] if j["name"] == "no-metric")
    assert lonely["missing"] == [{"id": ids["no-metric"], "name": "no-metric", "value": None, "emissions_kg": kg}]


def test_both_readers_agree_and_the_report_is_schema_valid(sweep):
    server, name, _, _ = sweep
    direct = _report(server.backend, name, "--metric", "val_accuracy:max")
    through_server = _report(server.uri, name, "--metric", "val_accuracy")
    assert (direct["source"]["reader"], through_server["source"]["reader"]) == ("sql", "client")
    assert direct["results"] == through_server["results"]
    schema = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text())
    jsonschema.validate(direct, schema)


def test_the_markdown_table_exactly(sweep):
    server, name, parent, _ = sweep
    data = _report(server.backend, name, "--metric", "val_accuracy")
    per_minute = _kg_per_minute(data)
    lonely_kg = next(j["emissions_kg"] for j in data["jobs"] if j["name"] == "no-metric")
    total = sum(minutes for minutes, _ in TRIALS.values()) * per_minute  # 10 + 20 + 30 + 40 + 20 × 50 = 1,100 min
    md = run_cli("report", "--mlflow-uri", server.backend, "-e", name, "--metric", "val_accuracy").out
    section = md[md.index("#### Carbon per result"):].split("\n\n<details>")[0].split("\n\n#### What")[0]
    dominated = 20 * 50 * per_minute
    assert section == (
        "#### Carbon per result: val\\_accuracy (higher is better)\n\n"  # Markdown-escaped
        f"{mass(dominated)} CO2eq went to dominated runs: runs that another run of their experiment or sweep beat "
        "on both, emitting no more for a result no worse. The frontier holds the 4 runs no other run beats.\n\n"
        "| Experiment / sweep | Runs | Frontier | Dominated | Best (its kg) | Last gain of the best |\n"
        "|---|--:|---|--:|---|---|\n"
        f"| {name} | 1 | – | 0 kg of {mass(lonely_kg)} | – | – |\n"
        f"| {name} · sweep `{parent[:7]}` | 24 | t00, t03, t07, t12 | {mass(dominated)} of {mass(total)} | "
        f"t12: 0.88 ({mass(40 * per_minute)}) | +0.03 for {mass(240 * per_minute)} across 5 trials |\n\n"
        f"Without val\\_accuracy (listed, not judged): no-metric ({mass(lonely_kg)}).")


def test_the_advice_says_where_the_sweep_flattened(sweep):
    server, name, parent, _ = sweep
    data = _report(server.backend, name, "--metric", "val_accuracy")
    per_minute = _kg_per_minute(data)
    advice = [r for r in data["recommendations"] if r["kind"] == "results"]
    assert len(advice) == 1
    rec = advice[0]
    assert rec["saving_kg"] == pytest.approx(11 * 50 * per_minute, rel=1e-5)  # t13–t23, after the best
    assert sorted(rec["jobs"]) == [f"t{i}" for i in range(13, 24)]
    # 550 of the 1,100 minutes that logged val_accuracy: 50 %
    assert rec["params"]["percent"] == pytest.approx(50.0, rel=1e-5)
    assert rec["text"].startswith(f"The sweep `{parent[:7]}` in '{name}' reached its best val_accuracy (0.88, 't12') "
                                  f"at trial 13 of 24, and its last gain (+0.03) had cost {mass(240 * per_minute)} "
                                  "across 5 trials; the 11 trials after it did not improve it")


def test_metric_from_ci_carbon_yaml_per_experiment(sweep, tmp_path: Path):
    server, name, parent, ids = sweep
    config = tmp_path / "ci-carbon.yaml"
    config.write_text(f"version: 1\nmlflow:\n  metric:\n    '{name}': val_accuracy:min\n    '*': loss\n")
    data = _report(server.backend, name, "--config", str(config))
    group = next(g for g in data["results"]["groups"] if g["sweep"] == parent)
    # lower is better now: t00 (10 min, 0.70) is the cheapest; only 50-minute runs score lower than it, t01 and t21
    # the lowest (0.60, the same kg: neither beats the other). Every other run is beaten by t00 (more kg, not lower)
    # or by t01/t21 (50 min, higher); the '*' metric (loss) is for other experiments
    assert group["direction"] == "min" and group["frontier"][0] == ids["t00"]
    assert sorted(group["frontier"][1:]) == sorted([ids["t01"], ids["t21"]])


def test_bad_metric_and_metric_with_a_manifest_are_usage_errors(sweep, tmp_path: Path):
    server, name, _, _ = sweep
    bad = run_cli("report", "--mlflow-uri", server.backend, "-e", name, "--metric", "val_accuracy:up")
    assert bad.code == 2
    assert bad.err == ("ci-carbon: ci-carbon: --metric: 'val_accuracy:up': the direction after ':' must be max or min "
                       "(e.g. val_accuracy:max, loss:min)\n")
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("version: 1\njobs:\n  - {name: a, hardware: Tesla T4, hours: 1, provider: gcp, "
                    "region: us-central1}\n")
    manifest = run_cli("report", "--manifest", str(jobs), "--metric", "val_accuracy")
    assert manifest.code == 2
    assert manifest.err == ("ci-carbon: ci-carbon: --metric: --manifest jobs log no metric; --metric applies to "
                            "MLflow runs (--mlflow-uri)\n")
    config = tmp_path / "bad.yaml"
    config.write_text("version: 1\nmlflow:\n  metric: {exp: 'acc:sideways'}\n")
    wrong = run_cli("report", "--mlflow-uri", server.backend, "-e", name, "--config", str(config))
    assert wrong.code == 2
    assert wrong.err == (f"ci-carbon: {config}:3: mlflow.metric.exp: 'acc:sideways': the direction after ':' must "
                         "be max or min (e.g. val_accuracy:max, loss:min)\n")


def test_quarterly_summary_dominated_kg_per_team_and_the_scatter(sweep, tmp_path: Path):
    server, name, parent, _ = sweep
    data = _report(server.backend, name, "--metric", "val_accuracy")
    per_minute = _kg_per_minute(data)
    lonely_kg = next(j["emissions_kg"] for j in data["jobs"] if j["name"] == "no-metric")
    out_json, out_html, out_md = tmp_path / "q.json", tmp_path / "q.html", tmp_path / "q.md"
    result = run_cli("summary", "--mlflow-uri", server.backend, "-e", name, "--quarter", "2026-Q2", "--group-by",
                     "team", "--compare", "none", "--metric", "val_accuracy", "-o", str(out_json), "-o",
                     str(out_html), "-o", str(out_md))
    assert result.code == 0, result.err
    summary = json.loads(out_json.read_text())
    jsonschema.validate(summary, json.loads((ROOT / "schemas" / "summary-v1.schema.json").read_text()))
    (vision,) = [g for g in summary["groups"] if g["by"] == {"team": "vision"}]
    dominated = 20 * 50 * per_minute  # the 20 dominated 50-minute trials
    assert vision["dominated_kg"] == pytest.approx(dominated, rel=1e-5)
    # of the team's 1,100 trial minutes plus the run without the metric
    assert vision["dominated_share"] == pytest.approx(dominated / (1100 * per_minute + lonely_kg), rel=1e-4)
    md = out_md.read_text()
    assert (f"Carbon per result: CO2eq spent on dominated runs (beaten by another run of their experiment or sweep "
            f"on both emissions and the metric): vision {mass(vision['dominated_kg'])} "
            f"({vision['dominated_share'] * 100:.2g} % of its emissions).") in md
    html = out_html.read_text()
    chart = html[html.index('<section id="results">'):]
    chart = chart[:chart.index("</section>")]
    assert f"sweep {parent[:7]}: val_accuracy (higher is better)" in chart
    assert chart.count("<circle") == 24 and chart.count('r="4" fill="none"') == 20  # 4 frontier dots filled
    points = chart[chart.index('<polyline points="') + 18:].split('"')[0].split()
    assert len(points) == 4 and [float(p.split(",")[0]) for p in points] == sorted(
        float(p.split(",")[0]) for p in points)  # the frontier, lowest kg first
