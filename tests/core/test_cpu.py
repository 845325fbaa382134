"""CPU-only jobs (issue 12): cores × TDP per core × usage + memory × 0.3725 W/GB (Green Algorithms), by hand."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import JobSpec, Origin
from ci_carbon.core.resolve import resolve
from ci_carbon.errors import InputError
from tests.conftest import ROOT, run_cli


def job(**fields) -> JobSpec:
    fields.setdefault("hours", 10.0)
    fields.setdefault("carbon_intensity", 100.0)
    fields.setdefault("pue", 1.0)
    return JobSpec(name="j", origin=Origin("m.yaml", 3), **fields)


def test_named_cpu_cores_usage_and_memory():
    # Xeon Gold 6148: 150 W / 20 cores = 7.5 W per core; 8 cores × 7.5 × 0.5 = 30 W; 32 GB × 0.3725 = 11.92 W
    est = estimate(resolve(job(cpu="Xeon Gold 6148", cpu_count=8, memory_gb=32, utilization=0.5)))
    assert (est.job.count, est.job.device_hours, est.job.device_power_w) == (0, 0.0, 0.0)
    assert est.job.cpu_power_w == pytest.approx(30.0)
    assert est.job.memory_power_w == pytest.approx(11.92)
    assert est.job.method == "tdp"
    assert est.energy_kwh == pytest.approx(0.4192)  # 10 h × 41.92 W
    assert est.emissions_kg == pytest.approx(0.04192)  # × 100 g/kWh
    assert est.energy_kwh_low == pytest.approx(0.4192 * 0.85)  # stated usage: ±15 %
    assert est.energy_kwh_high == pytest.approx(0.4192 * 1.15)
    assert est.job.guessed == ()
    assert est.embodied_kg == 0.0


def test_no_model_is_the_generic_12_w_per_core_and_guessed():
    # 4 cores × 12 W (Green Algorithms "Any" CPU) × usage 1.0 = 48 W; 2 h → 0.096 kWh; × 200 g → 0.0192 kg
    est = estimate(resolve(job(cpu_count=4, hours=2.0, carbon_intensity=200.0)))
    assert est.job.cpu_power_w == pytest.approx(48.0)
    assert est.energy_kwh == pytest.approx(0.096)
    assert est.emissions_kg == pytest.approx(0.0192)
    assert est.energy_kwh_low == pytest.approx(0.096 * 0.6)  # unknown usage: host_power_fraction_low
    assert est.energy_kwh_high == pytest.approx(0.096)
    assert set(est.job.guessed) == {"cpu_model", "cpu_utilization"}
    codes = [n.code for n in est.job.notices]
    assert {"cpu_only", "guessed_cpu_model", "guessed_cpu_utilization"} <= set(codes)


def test_measured_usage_is_method_measured():
    # generic: 2 cores × 12 W × 0.25 = 6 W; 1 GB × 0.3725 W; 1 h → 6.3725 Wh
    est = estimate(resolve(job(cpu_count=2, memory_gb=1.0, cpu_utilization=0.25, hours=1.0)))
    assert est.job.method == "measured"
    assert est.energy_kwh == pytest.approx(0.0063725)
    assert est.energy_kwh_high == pytest.approx(0.0063725 * 1.15)


def test_model_without_cores_counts_the_whole_cpu():
    est = resolve(job(cpu="Xeon Gold 6148", utilization=1.0))
    assert est.cpu_power_w == pytest.approx(150.0)
    assert est.guessed == ("cpu_count",)


def test_unknown_cpu_is_one_problem_with_suggestions():
    with pytest.raises(InputError) as err:
        resolve(job(cpu="Xeon Gold 6149", cpu_count=4))
    assert [p.field for p in err.value.problems] == ["cpu"]


def test_manifest_cpu_only_job_is_estimated(manifest):
    path = manifest("""\
        version: 1
        jobs:
          - name: sklearn
            cpu_count: 4
            memory_gb: 10
            hours: 5
            carbon_intensity: 100
            pue: 1.0
        """)
    result = run_cli("report", "--manifest", str(path), "--format", "json")
    assert result.code == 0, result.err
    report = result.json()
    (row,) = report["jobs"]
    # 4 × 12 W + 10 × 0.3725 W = 51.725 W; 5 h → 0.258625 kWh; × 100 g → 0.0258625 kg
    assert row["energy_kwh"] == pytest.approx(0.258625)
    assert row["emissions_kg"] == pytest.approx(0.0258625, abs=1e-6)  # JSON keeps 6 decimals
    assert (row["count"], row["device_hours"], row["method"]) == (0, 0.0, "tdp")
    assert report["totals"]["jobs"] == 1
    schema = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)  # count 0 and device_hours 0 are allowed for a CPU-only job


def test_gpu_run_host_cpu_share_uses_logged_cpu_utilization():
    # p4d.24xlarge: 96 vCPUs of a 2 × 48-thread Xeon Platinum 8275CL (240 W): 96 × 240 / 48 = 480 W at full load
    full = resolve(JobSpec(name="g", origin=Origin("m", 1), hours=1.0, instance_type="p4d.24xlarge",
                           region="us-east-1"))
    logged = resolve(JobSpec(name="g", origin=Origin("m", 1), hours=1.0, instance_type="p4d.24xlarge",
                             region="us-east-1", cpu_utilization=0.25))
    assert logged.cpu_power_w == pytest.approx(full.cpu_power_w * 0.25)
    assert logged.device_power_w == full.device_power_w and logged.memory_power_w == full.memory_power_w
