"""How the reports speak of the market-based figure (issue 11, item 2): labelled as the GHG Protocol's market-based
method with its method, never the provider's annual renewable claim as a model's footprint, and in the quarterly
summary as a cloud customer's Scope 3 category 1. Real command-line runs on small manifests.

The job: 1 × A100 SXM4 40GB (400 W TDP, devices.csv) for 100 h at utilisation 1.0 and PUE 1.0 given, its host
10 cores × 12 W (generic CPU) + 80 GB × 0.3725 W/GB = 149.8 W: (400 + 149.8) × 100 / 1000 = 54.98 kWh.
gcp us-central1: eGRID MROW 394.0 g/kWh → 21.66212 kg location-based; Google's hourly CFE 0.88 credited →
21.66212 × 0.12 = 2.5994544 kg market-based. aws ap-southeast-1 (not in AWS's matched list): Singapore 428.6 g/kWh
→ 54.98 × 0.4286 = 23.564428 kg, both methods.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, run_cli

JOB = {"hardware": "A100 SXM4 40GB", "count": 1, "hours": 100, "utilization": 1.0, "pue": 1.0, "cpu_count": 10,
       "memory_gb": 80}
GCP = {"provider": "gcp", "region": "us-central1"}
AWS_SG = {"provider": "aws", "region": "ap-southeast-1"}


def _manifest(tmp_path: Path, place: dict[str, str]) -> Path:
    path = tmp_path / "jobs.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "jobs": [{"name": "train", **JOB, **place}]}), encoding="utf-8")
    return path


def _out(*args: str) -> str:
    result = run_cli(*args)
    assert result.code == 0, result.err
    return result.out


@pytest.mark.parametrize("fmt", ["markdown", "hf"])
def test_gcp_market_figure_is_labelled_with_its_method(tmp_path: Path, fmt: str):
    out = _out("report", "--manifest", str(_manifest(tmp_path, GCP)), "--format", fmt)
    assert "21.7 kg" in out  # location-based headline, 21.66212 kg
    assert ("Market-based (GHG Protocol): 2.60 kg, crediting only in-market instruments (Google's hourly CFE share, "
            "an upper bound), never a provider's annual claim.") in out
    assert "after the providers' renewable" not in out and "renewable energy matching" not in out


@pytest.mark.parametrize("fmt", ["markdown", "hf"])
def test_aws_outside_its_list_is_the_location_figure_not_zero(tmp_path: Path, fmt: str):
    out = _out("report", "--manifest", str(_manifest(tmp_path, AWS_SG)), "--format", fmt)
    assert ("Market-based (GHG Protocol): 23.6 kg, the same: no in-market instrument or residual mix applies, and a "
            "provider's annual claim is never credited.") in out
    assert "0 g" not in out


def test_markdown_method_says_the_cfe_share_is_an_upper_bound(tmp_path: Path):
    out = _out("report", "--manifest", str(_manifest(tmp_path, GCP)))
    assert "so it is an upper bound of the matched share and the market-based figure of those jobs is a lower bound" \
        in out
    assert "AWS's list of regions matched with 100 % renewable energy is not credited" in out
    assert "| Hourly carbon-free energy share (market-based, upper bound of the matched share), gcp us-central1 | " \
           "0.8800 | share |" in out


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_summary_labels_a_cloud_customers_market_figure_scope_3_category_1(tmp_path: Path, fmt: str):
    out = _out("summary", "--quarter", "2026-Q3", "--manifest", str(_manifest(tmp_path, GCP)), "--format", fmt)
    assert "2.60 kg" in out
    if fmt == "markdown":
        assert "| CO2eq, market-based (GHG Protocol; cloud jobs: Scope 3 category 1, purchased services) | 2.60 kg |" \
            in out
        assert "a cloud customer reports these emissions under Scope 3 category 1 (purchased goods and services), " \
               "not Scope 2" in out
    else:
        assert '<div class="label">Market-based (GHG Protocol)</div><div class="value">2.60 kg</div><div ' \
               'class="detail">cloud jobs: Scope 3 category 1, purchased services</div>' in out


def test_summary_csv_says_each_runs_market_method_and_reporting_scope():
    out = _out("summary", "--quarter", "2026-Q3", "--manifest", str(EXAMPLE), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[-2:] == ["market_method", "market_scope"]
    said = {r["name"]: (r["market_method"], r["market_scope"]) for r in rows}
    # examples/jobs.yaml: GCP regions credit Google's CFE; AWS us-east-1 (listed, boundary unverified) and Azure
    # eastus credit nothing; the German and Quebec clusters are on premises (Scope 2)
    assert said == {
        "bert-large-ranker": ("instrument-grid-average", "scope3-category1"),
        "decoder-1b3-pretrain": ("grid-average", "scope3-category1"),
        "vit-small-grid": ("instrument-grid-average", "scope3-category1"),
        "detr-h100": ("grid-average", "scope3-category1"),
        "dlrm-retrain": ("grid-average", "scope2"),
        "whisper-finetune": ("grid-average", "scope2"),
        "moe-ablation-tpu": ("instrument-grid-average", "scope3-category1"),
    }
