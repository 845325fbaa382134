"""Ranges that mean something: every guess widens the range to cover what it may be, and hosts match the machine.

Every expected number is worked out by hand in a comment from data/ (devices.csv TDPs, hosts.csv, instances.csv,
cpus.csv, constants.csv). The jobs give their PUE and carbon intensity, so that those factors have no range and
the arithmetic stays on the hardware: energy = (device W + host W) × hours × PUE, emissions = energy × g/kWh.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ci_carbon.core import smi
from ci_carbon.core.estimate import estimate
from ci_carbon.core.model import Estimate, JobSpec, Origin
from ci_carbon.core.resolve import resolve
from ci_carbon.sources.codecarbon import read
from tests.conftest import ROOT

CODECARBON_V3 = ROOT / "tests" / "data" / "codecarbon" / "v3" / "emissions.csv"


def _estimate(**fields: object) -> Estimate:
    fields.setdefault("hours", 10.0)
    return estimate(resolve(JobSpec(name="j", origin=Origin("m.yaml", 3), **fields)))  # type: ignore[arg-type]


def _triple(est: Estimate) -> tuple[float, float, float]:
    return est.emissions_kg_low, est.emissions_kg, est.emissions_kg_high


class TestAmbiguousFamily:
    """A family name is estimated at its assumed variant; the range spans every variant's TDP."""

    def test_h100_low_end_is_the_pcie_card_at_half_the_sxm5(self):
        est = _estimate(hardware="H100", count=1, pue=1.2, carbon_intensity=400.0, memory_gb=0)
        # central: H100 SXM5 700 W × 10 h = 7 kWh × 1.2 = 8.4 kWh × 0.4 kg/kWh = 3.36 kg
        # low: 0.43 (lowest training draw) × 350/700 (H100 PCIe) = 0.215 → 7 × 0.215 × 1.2 × 0.4 = 0.7224 kg
        # high: the SXM5 is the highest-TDP candidate (NVL 400 W, PCIe 350 W): 3.36 kg
        assert _triple(est) == pytest.approx((0.7224, 3.36, 3.36))
        notice = next(n for n in est.job.notices if n.code == "assumed_variant")
        assert notice.params["covered"] == ("H100 SXM5 80GB", "H100 PCIe 80GB", "H100 NVL 94GB")
        assert (notice.params["low_w"], notice.params["high_w"]) == (350.0, 700.0)
        assert "hardware" in est.job.guessed

    def test_p100_high_end_is_the_sxm2_part(self):
        est = _estimate(hardware="P100", count=2, pue=1.0, carbon_intensity=500.0, memory_gb=0)
        # central: P100 PCIe 16GB 250 W × 2 × 10 h = 5 kWh × 0.5 = 2.5 kg
        # low: 0.43 × 250/250 (both PCIe are 250 W) → 2.5 × 0.43 = 1.075 kg
        # high: 300/250 (P100 SXM2) = 1.2 → 3.0 kg
        assert _triple(est) == pytest.approx((1.075, 2.5, 3.0))

    def test_v100_16gb_with_utilisation_widens_the_utilisation_band(self):
        est = _estimate(hardware="V100 16GB", count=1, utilization=0.5, pue=1.0, carbon_intensity=1000.0,
                        memory_gb=0)
        # central: V100 SXM2 16GB 300 W × 0.5 × 10 h = 1.5 kWh × 1 kg/kWh = 1.5 kg
        # low: (1 − 0.15) × 250/300 (V100 PCIe 16GB) = 0.708333… → 1.0625 kg; high: 1.15 × 1 → 1.725 kg
        assert _triple(est) == pytest.approx((1.5 * 0.85 * 250 / 300, 1.5, 1.725))

    def test_an_exact_name_has_no_variant_widening(self):
        est = _estimate(hardware="H100 SXM5 80GB", count=1, pue=1.2, carbon_intensity=400.0, memory_gb=0)
        # low: 0.43 × 3.36 = 1.4448 kg (no PCIe candidate)
        assert _triple(est) == pytest.approx((1.4448, 3.36, 3.36))

    def test_measured_power_is_not_widened_by_the_variants(self):
        est = _estimate(hardware="A100", count=1, measured_power_w=200.0, pue=1.0, carbon_intensity=500.0,
                        memory_gb=0)
        # 200 W × 10 h = 2 kWh × 0.5 = 1 kg; A100 sensor samples 25 % of the runtime: ±10 %
        assert _triple(est) == pytest.approx((0.9, 1.0, 1.1))


class TestTypicalHost:
    """A job with no host information counts the device's sourced typical host, flagged as guessed."""

    def test_tpu_v5e_as_hardware_and_as_its_instance_type_agree(self):
        by_name = _estimate(hardware="tpu-v5e", count=8, pue=1.1, carbon_intensity=300.0)
        by_type = _estimate(instance_type="ct5lp-hightpu-8t", pue=1.1, carbon_intensity=300.0)
        # devices: 8 × 175 W = 1400 W; host (hosts.csv tpu-v5e = ct5lp-hightpu-8t, 8 chips per host, generic CPU
        # 192 W / 32 threads = 6 W per vCPU): 224 × 6 = 1344 W; memory 384 GB × 0.3725 = 143.04 W
        # central: 2887.04 W × 10 h = 28.8704 kWh × 1.1 = 31.75744 kWh × 0.3 = 9.527232 kg
        # low: (14 kWh × 0.43 + 14.8704 kWh × 0.6) × 1.1 × 0.3 = (6.02 + 8.92224) × 0.33 = 4.9309392 kg
        for est in (by_name, by_type):
            assert _triple(est) == pytest.approx((4.9309392, 9.527232, 9.527232))
            assert (est.job.cpu_power_w, est.job.memory_power_w) == pytest.approx((1344.0, 143.04))
        assert any(n.code == "guessed_host" for n in by_name.job.notices) and "host" in by_name.job.guessed
        assert any(f.kind == "host" and f.subject.startswith("Cloud TPU v5e host") for f in by_name.job.factors)
        assert "host" not in by_type.job.guessed

    def test_one_device_of_an_eight_way_host_counts_its_share_and_up_to_the_whole_host(self):
        est = _estimate(hardware="A100 SXM4 40GB", count=1, pue=1.0, carbon_intensity=1000.0)
        # DGX A100 host: 2 × EPYC 7742 (225 W, 128 threads), 256 threads → 450 W; 2199.02 GB × 0.3725 = 819.13495 W
        # one of its 8 GPUs: share 1/8 → CPU 56.25 W, memory 102.39186875 W
        assert (est.job.cpu_power_w, est.job.memory_power_w) == pytest.approx((56.25, 102.39186875))
        # central: (400 + 158.64186875) W × 10 h = 5.5864186875 kWh × 1 kg/kWh
        # low: 4 kWh × 0.43 + 1.5864186875 × 0.6 = 1.72 + 0.9518512125 = 2.6718512125 kg
        # high: the device at TDP and the whole host (8 × the share): 4 + 12.69135 = 16.69134950 kg
        assert _triple(est) == pytest.approx((2.6718512125, 5.5864186875, 16.6913495))

    def test_a_job_that_names_its_memory_keeps_its_own_host(self):
        est = _estimate(hardware="tpu-v5e", count=8, pue=1.0, carbon_intensity=300.0, memory_gb=100)
        assert (est.job.cpu_power_w, est.job.memory_power_w) == pytest.approx((0.0, 37.25))
        assert "cpu" in est.job.guessed and "host" not in est.job.guessed


class TestMeasuredBand:
    """The measured-power band follows the device's sensor (Yang et al. 2024), not one fixed ±5 %."""

    def test_a100_measured_is_ten_percent(self):
        est = _estimate(hardware="A100 SXM4 40GB", count=1, measured_power_w=300.0, pue=1.0,
                        carbon_intensity=500.0, memory_gb=0)
        # 300 W × 10 h = 3 kWh × 0.5 = 1.5 kg; ±10 % → 1.35 .. 1.65 kg
        assert _triple(est) == pytest.approx((1.35, 1.5, 1.65))

    @pytest.mark.parametrize("hardware", ["T4", "GeForce RTX 3090"])
    def test_other_devices_are_five_percent(self, hardware):
        est = _estimate(hardware=hardware, count=1, measured_power_w=60.0, pue=1.0, carbon_intensity=500.0,
                        memory_gb=0)
        # 60 W × 10 h = 0.6 kWh × 0.5 = 0.3 kg; ±5 % → 0.285 .. 0.315 kg
        assert _triple(est) == pytest.approx((0.285, 0.3, 0.315))


class TestInstanceHosts:
    def test_p4d_count_16_is_two_nodes_with_two_hosts(self):
        one = _estimate(instance_type="p4d.24xlarge", count=8, pue=1.0, carbon_intensity=1000.0)
        two = _estimate(instance_type="p4d.24xlarge", count=16, pue=1.0, carbon_intensity=1000.0)
        # per node: 96 vCPUs × 240 W / 48 threads (Xeon Platinum 8275CL) = 480 W; 1236.95 GB × 0.3725 = 460.763875 W
        assert (two.job.cpu_power_w, two.job.memory_power_w) == pytest.approx((960.0, 921.52775))
        # two nodes: (16 × 400 + 960 + 921.52775) W × 10 h = 82.8152775 kWh → 82.8152775 kg
        # low: 64 × 0.43 + 18.8152775 × 0.6 = 27.52 + 11.2891665 = 38.8091665 kg; high = central
        assert _triple(two) == pytest.approx((38.8091665, 82.8152775, 82.8152775))
        assert two.emissions_kg == pytest.approx(2 * one.emissions_kg)

    def test_gcp_a3_host_is_its_published_sapphire_rapids(self):
        est = _estimate(instance_type="a3-highgpu-8g", pue=1.0, carbon_intensity=1000.0)
        # Xeon Platinum 8481C (350 W, 112 threads): 208 vCPUs × 350 / 112 = 650 W (generic: 208 × 6 = 1248 W)
        # memory 1872 GB × 0.3725 = 697.32 W; devices 8 × 700 W = 5600 W
        assert (est.job.cpu_power_w, est.job.memory_power_w) == pytest.approx((650.0, 697.32))
        # central: 6947.32 W × 10 h = 69.4732 kWh → 69.4732 kg; low: 56 × 0.43 + 13.4732 × 0.6 = 32.16392 kg
        assert _triple(est) == pytest.approx((32.16392, 69.4732, 69.4732))

    def test_azure_smt_off_vcpus_are_cores(self):
        est = _estimate(instance_type="Standard_ND96asr_v4", pue=1.0, carbon_intensity=1000.0)
        # EPYC 7V12 225 W / 64 cores; 96 vCPUs are 96 cores (vcpu_is_core): 96 × 225 / 64 = 337.5 W
        assert est.job.cpu_power_w == pytest.approx(337.5)


class TestMi250Gcds:
    """rocm-smi lists the two GCDs of one MI250/MI250X module as two devices; the tables' row is the module."""

    def test_gcds_are_halved_into_modules(self):
        assert smi.modules("AMD Instinct MI250X / MI250", 4) == (2, 2)
        assert smi.modules("Aldebaran/MI200 [Instinct MI250X/MI250]", 3) == (2, 2)
        assert smi.modules("A100 SXM4 40GB", 4) == (4, 1)

    def test_codecarbon_file_with_four_gcds_is_two_modules(self, tmp_path: Path):
        with CODECARBON_V3.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        row = {**rows[0], "gpu_count": "4", "gpu_model": "4 x AMD Instinct MI250X / MI250", "duration": "3600",
               "energy_consumed": "2.0", "cpu_energy": "", "gpu_energy": "", "ram_energy": ""}
        path = tmp_path / "emissions.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerow(row)
        specs, problems = read(str(path))
        assert problems == []
        assert (specs[0].hardware, specs[0].count) == ("AMD Instinct MI250X / MI250", 2)
        assert any(n.code == "smi_modules" and n.params["listed"] == 4 for n in specs[0].notices)

    def test_two_modules_at_tdp(self):
        est = _estimate(hardware="mi250x", count=2, pue=1.0, carbon_intensity=500.0, memory_gb=0)
        # 2 modules × 560 W × 10 h = 11.2 kWh × 0.5 = 5.6 kg (4 GCDs counted as modules would be 11.2 kg)
        assert est.emissions_kg == pytest.approx(5.6)


class TestAge:
    """Age widening is measured from the job's year against the factor's data year."""

    def test_an_old_run_on_a_new_factor_is_widened_by_the_years_between(self):
        started = int(datetime(2021, 6, 1, tzinfo=timezone.utc).timestamp() * 1000)
        est = _estimate(hardware="T4", count=1, measured_power_w=50.0, pue=1.0, country="DE", memory_gb=0,
                        started=started)
        # Germany's factor is data year 2025: a 2021 run is 4 years from it: 0.15 + 4 × 0.084 = 0.486
        assert est.job.intensity_bounds == pytest.approx((1 - 0.486, 1.486))
        planned = _estimate(hardware="T4", count=1, measured_power_w=50.0, pue=1.0, country="DE", memory_gb=0)
        # no date: the newest intensity year of the tables (2025), the same year: no widening
        assert planned.job.intensity_bounds == pytest.approx((0.85, 1.15))
