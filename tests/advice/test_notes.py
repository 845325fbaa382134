"""Notes: one per kind, listing the jobs it concerns (the bundled example, through the real CLI)."""

from __future__ import annotations

import re

from tests.conftest import ROOT, run_cli


def test_the_example_has_one_note_per_kind():
    result = run_cli("report", "--manifest", str(ROOT / "examples" / "jobs.yaml"))
    assert result.code == 0, result.err
    notes = result.out.split("<summary>Notes on 6 jobs</summary>")[1].split("</details>")[0]
    bullets = [line for line in notes.splitlines() if line.startswith("- ")]
    # before: 8 bullets, one per job and notice (5 × the TDP sentence, 3 × the host sentence); now one per kind
    assert len(bullets) == 2
    tdp = next(b for b in bullets if b.startswith("- Power is the device's TDP"))
    cpu = next(b for b in bullets if b.startswith("- No CPU, memory or instance type given"))  # the typical host
    assert re.findall(r"\*\*([^*]+)\*\*", tdp) == ["decoder-1b3-pretrain", "dlrm-retrain", "bert-large-ranker",
                                                   "moe-ablation-tpu", "whisper-finetune"]
    assert re.findall(r"\*\*([^*]+)\*\*", cpu) == ["moe-ablation-tpu", "vit-small-grid", "whisper-finetune"]


def test_the_example_advice_has_no_suggestion_an_engineer_would_reject():
    result = run_cli("report", "--manifest", str(ROOT / "examples" / "jobs.yaml"), "--format", "json")
    recs = result.json()["recommendations"]
    hardware = {tuple(r["jobs"]): r["params"]["best"]["id"] for r in recs if r["kind"] == "hardware"}
    # no inference or workstation card, nothing for the workstation job, nothing for the T4 on GCP
    assert hardware == {("decoder-1b3-pretrain", "bert-large-ranker"): "h100-sxm5-80gb", ("dlrm-retrain",): "b100"}
    assert all(r["saving_kg"] is None for r in recs if r["kind"] == "hardware")  # no measurement pairs these
    moved = {j for r in recs if r["kind"] == "region" for j in r["jobs"]}
    assert "moe-ablation-tpu" not in moved and "detr-h100" not in moved and "vit-small-grid" not in moved
