"""The grid at the hours a run used (issue 14, item 2): a real MLflow run on a real sqlite store, with a start, an
end and a power history, reported by the real CLI against the stand-in APIs (tests/sources/intensity/standin.py).

The run: 08:30 to 11:00 UTC on 2026-11-03, on gcp us-west2 (grid row US-CA → zone US-CAL-CISO), one GPU logging
its power every 10 minutes: 100 W until 09:00, 200 W from 09:00 to 10:00, 400 W from 10:00 to 11:00.
"""

from __future__ import annotations

import json
import socket
import uuid
from datetime import datetime, timezone

import jsonschema
import mlflow
import pytest

from tests.conftest import ROOT, run_cli
from tests.sources.intensity.standin import ElectricityMaps, WattTime

T0 = int(datetime(2026, 11, 3, 8, 30, tzinfo=timezone.utc).timestamp() * 1000)
END = T0 + 150 * 60_000  # 11:00
STEP = 600_000  # 10 minutes
INTENSITY = {8: 300.0, 9: 200.0, 10: 100.0}  # g/kWh the stand-in answers per UTC hour (other hours: 500)


def _watts(at_ms: int) -> float:
    """The mean power of the 10-minute window that ends at ``at_ms``."""
    hour = datetime.fromtimestamp((at_ms - 1) / 1000, tz=timezone.utc).hour
    return {8: 100.0, 9: 200.0, 10: 400.0}[hour]


@pytest.fixture
def run(mlflow_server) -> tuple[str, str]:
    """(sqlite store URI, experiment) with the one run of the module docstring."""
    client = mlflow.MlflowClient(mlflow_server.uri)
    name = f"hourly-{uuid.uuid4().hex[:8]}"
    exp = client.create_experiment(name)
    rid = client.create_run(exp, start_time=T0, run_name="train",
                            tags={"gpu": "NVIDIA A10G", "cloud": "gcp", "region": "us-west2"}).info.run_id
    for k in range(1, 16):  # points at 08:40 … 11:00
        at = T0 + k * STEP
        client.log_metric(rid, "system/gpu_0_power_usage_watts", _watts(at), timestamp=at, step=k)
    client.set_terminated(rid, end_time=END)
    return mlflow_server.backend, name


@pytest.fixture(autouse=True)
def _grids(monkeypatch):
    """What the stand-ins answer for this module's zones (each module sets its own)."""
    monkeypatch.setitem(ElectricityMaps.ZONES, "US-CAL-CISO", lambda h: INTENSITY.get(h.hour, 500.0))
    monkeypatch.setitem(ElectricityMaps.ZONES, "FR", lambda h: 50.0)
    monkeypatch.setitem(WattTime.REGIONS, "CAISO_NORTH", lambda h: {8: 1000.0, 9: 500.0, 10: 250.0}.get(h.hour, 2000.0))


def _report(uri: str, name: str, *extra: str):
    return run_cli("report", "--mlflow-uri", uri, "--experiment", name, "--format", "json", *extra)


def test_hourly_intensity_is_weighted_by_the_runs_power_each_hour(em, run):
    result = _report(*run, "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    jsonschema.validate(result.json(), json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text()))
    (job,) = result.json()["jobs"]
    # energy per hour from the power history (W·s): 08h 3 points × 600 s × 100 W = 180,000; 09h 6 × 600 × 200 =
    # 720,000; 10h 6 × 600 × 400 = 1,440,000; total 2,340,000.
    # weighted intensity = (180,000·300 + 720,000·200 + 1,440,000·100) / 2,340,000 = 342,000,000 / 2,340,000
    #                    = 146.153846 g/kWh (uniform weights 0.2/0.4/0.4 would give 180)
    hourly = job["hourly"]
    assert hourly["intensity_g_per_kwh"] == pytest.approx(146.153846, abs=1e-6)
    assert hourly["emissions_kg"] == pytest.approx(job["energy_kwh"] * 146.153846 / 1000, rel=1e-6)
    assert hourly["weights"] == "measured"
    assert hourly["hours_covered"] == {"from": "2026-11-03T08:00:00Z", "to": "2026-11-03T11:00:00Z", "hours": 3,
                                       "estimated": 1}  # the stand-in flags 10:00 isEstimated
    assert (hourly["source"], hourly["zone"], hourly["emission_factor_type"]) == (
        "electricitymaps", "US-CAL-CISO", "direct")
    # the headline stays the yearly table's: emissions_kg = energy × the job's own yearly intensity
    assert job["emissions_kg"] == pytest.approx(job["energy_kwh"] * job["carbon_intensity_g_per_kwh"] / 1000,
                                                rel=1e-5)
    # one request, exactly as documented: the run's three hours, the headline basis, hourly
    ((path, query, headers),) = em.requests
    assert path == "/v3/carbon-intensity/past-range"
    assert query == {"zone": ["US-CAL-CISO"], "start": ["2026-11-03T08:00:00Z"], "end": ["2026-11-03T11:00:00Z"],
                     "emissionFactorType": ["direct"], "temporalGranularity": ["hourly"]}
    assert headers["auth-token"] == ElectricityMaps.TOKEN
    said = " ".join(job["warnings"])
    assert ("Grid at the run's own hours: Electricity Maps, zone US-CAL-CISO, 2026-11-03T08:00:00Z to "
            "2026-11-03T11:00:00Z (3 h, weighted by the power it logged each hour, 1 of them the source's "
            "estimates): 146.2 g/kWh (direct emissions)") in said


def test_a_second_report_makes_no_request(em, run):
    first = _report(*run, "--intensity-source", "electricitymaps")
    assert first.code == 0 and len(em.requests) == 1
    second = _report(*run, "--intensity-source", "electricitymaps")
    assert second.code == 0, second.err
    assert len(em.requests) == 1  # the disk cache answered
    assert second.json()["jobs"][0]["hourly"] == first.json()["jobs"][0]["hourly"]


def test_the_markdown_says_the_source_and_hours(em, run):
    result = run_cli("report", "--mlflow-uri", run[0], "--experiment", run[1], "--intensity-source",
                     "electricitymaps")
    assert result.code == 0, result.err
    assert "Grid at the run's own hours: Electricity Maps, zone US-CAL-CISO" in result.out
    assert "which stays the headline and what budgets judge" in result.out


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed once the with ends: nothing listens


def test_unreachable_gives_the_yearly_figure_a_notice_and_exit_0(em, run, monkeypatch):
    monkeypatch.setenv("CI_CARBON_ELECTRICITYMAPS_URL", _closed_port())
    plain = _report(*run)
    result = _report(*run, "--intensity-source", "electricitymaps", "--budget-fail-kg", "1000")
    assert result.code == 0, result.err
    (job,) = result.json()["jobs"]
    assert "hourly" not in job
    assert job["emissions_kg"] == plain.json()["jobs"][0]["emissions_kg"]
    (notice,) = [n for n in job["notices"] if n["code"] == "hourly_unavailable"]
    assert notice["params"]["reason"] == "unreachable"
    assert "Electricity Maps could not be reached after retries (ConnectionError): the yearly table's figure " \
           "stands." in job["warnings"]
    assert em.requests == []


def test_rate_limited_falls_back_with_the_retry_after(em, run):
    em.mode = "429"
    result = _report(*run, "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    (job,) = result.json()["jobs"]
    assert "hourly" not in job
    assert ("Electricity Maps limited the rate of requests (HTTP 429, retry after 30 s): the yearly table's figure "
            "stands.") in job["warnings"]
    assert len(em.requests) == 1  # a 429 is not retried: the refinement is optional, the report does not wait


def test_a_5xx_is_retried_then_falls_back(em, run):
    em.mode = "500"
    result = _report(*run, "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    assert len(em.requests) == 4  # the first try and 3 retries (urllib3 Retry), then the yearly figure
    (job,) = result.json()["jobs"]
    assert job["notices"][-1]["params"]["reason"] == "unreachable"


@pytest.mark.parametrize(("token", "status"), [("wrong", 401), ("em-no-access", 403)])
def test_a_rejected_token_is_exit_2_in_one_line(em, run, monkeypatch, token, status):
    monkeypatch.setenv("ELECTRICITYMAPS_TOKEN", token)
    result = _report(*run, "--intensity-source", "electricitymaps")
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    message = "Invalid authentication token" if status == 401 else "Token has no access to this zone"
    assert line == (f"ci-carbon: ELECTRICITYMAPS_TOKEN: Electricity Maps rejected the credentials (HTTP {status}: "
                    f"{message}); check them, or turn the intensity source off")
    assert "Traceback" not in result.err


def test_no_token_makes_no_request(em, run, monkeypatch):
    monkeypatch.delenv("ELECTRICITYMAPS_TOKEN")
    result = _report(*run, "--intensity-source", "electricitymaps")
    assert result.code == 0, result.err
    assert em.requests == []
    (job,) = result.json()["jobs"]
    assert "ELECTRICITYMAPS_TOKEN is not set: no request was made" in " ".join(job["warnings"])


def test_without_a_source_nothing_is_asked_even_with_a_token(em, run):
    result = _report(*run)
    assert result.code == 0, result.err
    assert em.requests == []
    assert "hourly" not in result.json()["jobs"][0]


def test_the_config_file_selects_the_source_and_the_zone(em, run, tmp_path):
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nintensity:\n  source: electricitymaps\n  zone: FR\n", encoding="utf-8")
    result = _report(*run, "--config", str(config))
    assert result.code == 0, result.err
    hourly = result.json()["jobs"][0]["hourly"]
    assert (hourly["zone"], hourly["intensity_g_per_kwh"]) == ("FR", 50.0)


def test_a_bad_intensity_setting_is_one_line(run, tmp_path):
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nintensity:\n  source: electricmaps\n", encoding="utf-8")
    result = _report(*run, "--config", str(config))
    assert result.code == 2
    assert result.err.strip() == (f"ci-carbon: {config}:3: intensity.source: must be one of electricitymaps, "
                                  "watttime, got text 'electricmaps' (did you mean 'electricitymaps'?)")


def test_watttime_marginal_rate_stands_beside_never_as_headline(wt, run, tmp_path):
    config = tmp_path / "ci-carbon.yaml"
    config.write_text("version: 1\nintensity:\n  source: watttime\n  latitude: 37.8\n  longitude: -122.3\n",
                      encoding="utf-8")
    plain = _report(*run)
    result = _report(*run, "--config", str(config))
    assert result.code == 0, result.err
    (job,) = result.json()["jobs"]
    # lb/MWh → g/kWh: × 453.59237 / 1000. 08h 1000 → 453.59237, 09h 500 → 226.796185, 10h 250 → 113.398093;
    # weights 180/2340, 720/2340, 1440/2340 (above): (180·453.59237 + 720·226.796185 + 1440·113.398093) / 2340
    # = (81,646.63 + 163,293.25 + 163,293.25) / 2340 = 408,233.13 / 2340 = 174.458603 g/kWh
    hourly = job["hourly"]
    assert hourly["intensity_g_per_kwh"] == pytest.approx(174.458603, abs=1e-5)
    assert (hourly["source"], hourly["zone"], hourly["emission_factor_type"]) == ("watttime", "CAISO_NORTH",
                                                                                   "marginal")
    assert job["emissions_kg"] == plain.json()["jobs"][0]["emissions_kg"]  # the headline is untouched
    assert [p for p, _, _ in wt.requests] == ["/login", "/v3/region-from-loc", "/v3/historical"]
    _, query, headers = wt.requests[2]
    assert query == {"region": ["CAISO_NORTH"], "start": ["2026-11-03T08:00:00Z"], "end": ["2026-11-03T11:00:00Z"],
                     "signal_type": ["co2_moer"]}
    assert headers["authorization"] == f"Bearer {WattTime.TOKEN}"
    assert "g/kWh marginal (WattTime's MOER" in " ".join(job["warnings"])


def test_watttime_bad_password_is_exit_2(wt, run, monkeypatch):
    monkeypatch.setenv("WATTTIME_PASSWORD", "nope")
    result = _report(*run, "--intensity-source", "watttime")
    assert result.code == 2
    assert result.err.strip() == ("ci-carbon: WATTTIME_USERNAME/WATTTIME_PASSWORD: WattTime rejected the credentials "
                                  "(HTTP 401: Unauthorized); check them, or turn the intensity source off")
