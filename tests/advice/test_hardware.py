"""Hardware advice: only training parts of the same kind of machine; a measured saving cites MLPerf, a peak one is a
hint without kg."""

from __future__ import annotations

import pytest

from ci_carbon.core import tables
from ci_carbon.render.payload import recommendation
from tests.advice.conftest import advice, estimated, of_kind

INFERENCE_OR_WORKSTATION = {"t4", "l4", "a10", "a10g", "a2", "a16", "a40", "l40", "h100-nvl-94gb", "p4", "p40",
                            "rtx-4090", "rtx-a6000", "rtx-6000-ada", "inferentia2"}


class TestSameKindOfMachine:
    def test_a_v100_nvlink_job_gets_no_inference_workstation_or_pcie_card(self):
        # 8 × V100 SXM2 32GB on AWS (p3dn class, NVLink): what AWS offers that is a training part of the same
        # system class, form factor and interconnect with ≥ 32 GB: A100 SXM4 40/80, H100 SXM5, H200 SXM
        job = estimated("v100-cluster", hardware="V100 SXM2 32GB", count=8, hours=10, provider="aws",
                        region="us-east-1")
        recs = of_kind(advice(job), "hardware")
        assert len(recs) == 1
        best = recs[0].params["best"]
        assert best.id not in INFERENCE_OR_WORKSTATION
        assert (best.training_class, best.system_class, best.form_factor, best.interconnect) == \
            (True, "accelerator-cluster", "sxm", "nvlink")
        # peak FP16 per TDP: H100/H200 989.5 / 700 = 1.414 TFLOPS/W against V100 125 / 300 = 0.417; equal peaks: the
        # smaller memory (H100 80 GB) is the nearer part
        assert best.id == "h100-sxm5-80gb"

    def test_a_workstation_card_gets_no_datacenter_card(self):
        job = estimated("desk", hardware="NVIDIA GeForce RTX 4090", hours=30, provider="on-premise", country="DE")
        assert of_kind(advice(job), "hardware") == []

    def test_an_inference_card_job_is_offered_no_inference_card(self):
        # a T4 on GCP: GCP offers no training-class PCIe part in the tables (A100/H100 there are SXM), so nothing
        job = estimated("t4", hardware="Tesla T4", hours=10, provider="gcp", region="us-central1")
        assert of_kind(advice(job), "hardware") == []

    @pytest.mark.parametrize("device", sorted(tables.devices()))
    def test_no_device_is_ever_suggested_a_different_kind_of_machine(self, device):
        from ci_carbon.advice.hardware import better_device
        current = tables.devices()[device]
        for provider in (None, "aws", "gcp", "azure"):
            choice = better_device(current, provider)
            if choice is None:
                continue
            best = choice.best
            assert best.training_class and best.segment == "datacenter"
            assert (best.vendor, best.system_class, best.form_factor, best.interconnect) == \
                (current.vendor, current.system_class, current.form_factor, current.interconnect)
            assert (best.memory_gb or 0) >= (current.memory_gb or 0)


class TestMeasuredSaving:
    def test_h100_to_b200_from_mlperf_energy_to_train(self):
        # on premises (any part may be bought), 8 × H100 SXM5 at a stated 600 W, 100 h, PUE 1.2, 400 g/kWh:
        # energy = 8 × 100 h × 600 W = 480 kWh × 1.2 = 576 kWh (memory_gb 0: no typical host added); emissions =
        # 576 × 0.4 = 230.4 kg.
        # MLPerf Training power results, energy to train on 8 accelerators (data/training_efficiency.csv):
        #   llama2_70b_lora B200 6,390,784 J / H100 12,085,005 J = 0.5288
        #   bert            B200 2,088,777 J / H100  2,192,395 J = 0.9527
        #   retinanet       B200 12,834,380 J / H100 14,867,844 J = 0.8632  ← the median of the three
        # saving = 230.4 × (1 − 0.8632) = 31.51 kg
        job = estimated("h100", hardware="H100 SXM5 80GB", count=8, hours=100, power_w=600, pue=1.2,
                        carbon_intensity=400, provider="on-premise", memory_gb=0)
        assert job.emissions_kg == pytest.approx(230.4)
        rec = of_kind(advice(job), "hardware")[0]
        p = rec.params
        assert p["best"].id == "b200" and p["basis"] == "measured" and p["benchmark"] == "retinanet"
        assert p["ratio"] == pytest.approx(12834380 / 14867844, rel=1e-6)
        assert (p["ratio_low"], p["ratio_high"]) == (pytest.approx(6390784 / 12085005, rel=1e-6),
                                                     pytest.approx(2088777 / 2192395, rel=1e-6))
        assert rec.saving_kg == pytest.approx(230.4 * (1 - 12834380 / 14867844), rel=1e-6)
        assert rec.saving_kg == pytest.approx(31.51, abs=0.01)
        text = recommendation(rec)["text"]
        assert "MLPerf Training" in text and "retinanet" in text
        assert "Lenovo" in text and "Sustainable Metal Cloud" in text
        assert "12.8 MJ" in text and "14.9 MJ" in text and "14 % less energy" in text

    def test_a_peak_only_comparison_is_a_hint_without_kg(self):
        # 8 × A100 SXM4 40GB on GCP: no MLPerf power result pairs A100 with anything, so the H100 is a hint
        job = estimated("a100", hardware="A100 SXM4 40GB", count=8, hours=10, provider="gcp", region="us-central1")
        rec = of_kind(advice(job), "hardware")[0]
        assert rec.saving_kg is None and rec.params["basis"] == "peak"
        # 1 − (312 / 400) / (989.5 / 700) = 1 − 0.78 / 1.4136 = 44.8 %
        assert rec.params["percent_peak"] == pytest.approx(100 * (1 - 0.78 / (989.5 / 700)), rel=1e-9)
        view = recommendation(rec)
        assert view["saving_kg"] is None and "hint without a saving" in view["text"] and "kg" not in view["text"]
