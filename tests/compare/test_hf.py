"""`--format hf`: the Hugging Face model card's co2_eq_emissions block (grams) and a disclosure paragraph."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.compare.conftest import run, write
from tests.conftest import ROOT, matches_golden

GOLDEN = ROOT / "tests" / "golden" / "small.hf.md"
SMALL = """\
version: 1
jobs:
  - name: bert-finetune
    hardware: A100 SXM4 80GB
    count: 4
    hours: 6
    provider: gcp
    region: europe-west4
    tags: {training_type: fine-tuning}
  - name: bert-eval
    hardware: Tesla T4
    hours: 2
    provider: gcp
    region: europe-west4
    tags: {training_type: fine-tuning}
"""


def test_model_card_block_and_disclosure_match_the_golden(tmp_path: Path):
    manifest = write(tmp_path / "jobs.yaml", SMALL)
    result = run("report", "--manifest", str(manifest), "--format", "hf")
    assert result.code == 0, result.err
    matches_golden(GOLDEN, result.out)


def test_the_block_is_yaml_in_grams(tmp_path: Path):
    manifest = write(tmp_path / "jobs.yaml", SMALL)
    out = run("report", "--manifest", str(manifest), "--format", "hf").out
    total = run("report", "--manifest", str(manifest), "--format", "json").json()["totals"]["emissions_kg"]
    block, paragraph = out.split("\n\n", 1)
    card = yaml.safe_load(block)["co2_eq_emissions"]
    assert set(card) == {"emissions", "source", "training_type", "geographical_location", "hardware_used"}
    assert abs(card["emissions"] - total * 1000) <= total * 1000 * 5e-4  # grams, four significant figures
    assert card["training_type"] == "fine-tuning"
    assert card["hardware_used"] == "4 × A100 SXM4 80GB, 1 × Tesla T4"
    assert paragraph.startswith("Experiments were conducted using 4 × A100 SXM4 80GB and 1 × Tesla T4 in gcp "
                                "europe-west4")
    assert paragraph.count("\n") == 1  # one paragraph


def test_mixed_training_types_leave_the_key_out(tmp_path: Path):
    manifest = write(tmp_path / "jobs.yaml", SMALL.replace("{training_type: fine-tuning}\n  - name: bert-eval",
                                                           "{training_type: pre-training}\n  - name: bert-eval"))
    card = yaml.safe_load(run("report", "--manifest", str(manifest), "--format", "hf").out.split("\n\n")[0])
    assert "training_type" not in card["co2_eq_emissions"]
