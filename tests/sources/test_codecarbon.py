"""CodeCarbon emissions.csv as a source: energy as measured, CodeCarbon's PUE rule, its place, its own figure.

tests/data/codecarbon/v3/emissions.csv was written by a real CodeCarbon 3.3.2 OfflineEmissionsTracker
(country_iso_code="FRA", a numpy matrix loop, two runs); v2/emissions.csv is built from CodeCarbon 2.x's documented
columns (no experiment_id, water or utilisation columns). The expected numbers are worked out by hand below from
the rows and from data/ (gcp europe-west1: PUE 1.09, 147.1 g/kWh; Germany 321.7 g/kWh; France 31.5 g/kWh; the
industry-average PUE 1.56).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from ci_carbon.core.estimate import estimate
from ci_carbon.core.resolve import resolve
from ci_carbon.errors import InputError
from ci_carbon.sources.codecarbon import CodecarbonSource, files, read
from tests.conftest import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "codecarbon"
V2, V3 = DATA / "v2" / "emissions.csv", DATA / "v3" / "emissions.csv"


def _jobs(path: Path) -> dict[str, object]:
    specs, problems = read(str(path))
    assert problems == []
    return {s.name.split("/")[0]: estimate(resolve(s)) for s in specs}


def test_real_codecarbon_3_file_energy_is_energy_consumed_times_ci_carbon_pue():
    rows = list(csv.DictReader(V3.open()))
    specs, problems = read(str(V3))
    assert problems == [] and len(specs) == 2
    for spec, row in zip(specs, rows, strict=True):
        est = estimate(resolve(spec))
        assert row["pue"] == "1.0"  # CodeCarbon applied none: ci-carbon's industry average (no provider) is used
        assert est.energy_kwh == pytest.approx(float(row["energy_consumed"]) * 1.56, rel=1e-12)
        assert est.emissions_kg == pytest.approx(float(row["energy_consumed"]) * 1.56 * 31.5 / 1000, rel=1e-12)
        assert est.job.location == "France" and est.job.method == "reported"
        assert spec.name == f"numpy-loop/demo/{row['run_id']}" and spec.id == row["run_id"]
        assert spec.hours == pytest.approx(float(row["duration"]) / 3600)


def test_2x_columns_cloud_row_takes_the_region_pue_and_a_pue_row_is_taken_as_it_stands():
    jobs = _jobs(V2)
    bert, resnet = jobs["bert"], jobs["resnet"]
    # bert: 1.5 kWh, CodeCarbon pue 1.0, on gcp europe-west1 → × 1.09 = 1.635 kWh; × 147.1 g/kWh = 0.2405085 kg
    assert bert.energy_kwh == pytest.approx(1.635)
    assert bert.emissions_kg == pytest.approx(0.2405085)
    assert bert.job.location.startswith("gcp europe-west1")
    assert (bert.job.hardware, bert.job.count, bert.job.device_power_w) == ("Tesla V100S PCIe 32GB", 2, 375.0)
    # resnet: 0.6 kWh with CodeCarbon's pue 1.2 already in it → 0.6 kWh; Germany 321.7 g/kWh → 0.19302 kg
    assert resnet.energy_kwh == pytest.approx(0.6)
    assert resnet.emissions_kg == pytest.approx(0.19302)
    assert (resnet.job.pue, resnet.job.location, resnet.job.hardware) == (1.0, "Germany", "Xeon Gold 6248")
    assert resnet.job.cpu_power_w == 0.0 and resnet.job.memory_power_w == 0.0  # measured: no host added on top


def test_report_shows_codecarbon_figure_beside_ours_in_json_and_markdown():
    result = run_cli("report", "--codecarbon", str(V2.parent), "--format", "json")
    assert result.code == 0, result.err
    report = result.json()
    jsonschema.validate(report, json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8")))
    assert report["source"]["kind"] == "codecarbon" and report["totals"]["jobs"] == 2
    bert = next(j for j in report["jobs"] if j["name"].startswith("bert/"))
    said = next(n["params"] for n in bert["notices"] if n["code"] == "codecarbon")
    assert said["emissions_kg"] == 0.27 and said["energy_kwh"] == 1.5 and said["pue_applied"] is False
    assert said["intensity_g_per_kwh"] == pytest.approx(180.0)  # 0.27 kg / 1.5 kWh
    assert bert["energy_kwh"] == 1.635 and bert["emissions_kg"] == 0.240509
    markdown = run_cli("report", "--codecarbon", str(V2), "--format", "markdown")
    assert markdown.code == 0, markdown.err
    assert "CodeCarbon's own figure: 0.27 kg CO2eq at 180.0 g/kWh" in markdown.out


def test_a_directory_and_a_glob_find_every_file():
    assert files(str(DATA)) == [str(V2), str(V3)]
    assert files(str(DATA / "*" / "emissions.csv")) == [str(V2), str(V3)]
    source = CodecarbonSource(str(DATA))
    assert sum(len(c.specs) for c in source.chunks()) == 4 and source.info().read == 4


def _bad(tmp_path: Path, header: str, row: str) -> Path:
    path = tmp_path / "emissions.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    return path


HEADER = "project_name,run_id,duration,emissions,energy_consumed,country_iso_code,pue"


@pytest.mark.parametrize(("header", "row", "line"), [
    ("project_name,run_id,duration,emissions", "p,r,10,0.1",
     ":1: energy_consumed: missing column; is this CodeCarbon's emissions.csv?"),
    (HEADER, "p,r,10,0.1,nan,FRA,1.0", ":2: energy_consumed: must be a finite number at least 0, got nan"),
    (HEADER, "p,r,10,0.1,-0.5,FRA,1.0", ":2: energy_consumed: must be a finite number at least 0, got -0.5"),
    (HEADER, "p,r,10,0.1,,FRA,1.0", ":2: energy_consumed: empty; CodeCarbon writes it on every row"),
    (HEADER, "p,r,abc,0.1,0.2,FRA,1.0", ":2: duration: must be a number, got 'abc'"),
    (HEADER, "p,r,10,0.1,0.2,FRA,7", ":2: pue: must be at least 1 and at most 3 ratio, got 7"),
    (HEADER, "p,r,1,0.1,500,FRA,1.0", ":2: energy_consumed: 500 kWh in 1 s is above 50000 W; is it in kWh?"),
])
def test_bad_rows_are_one_line_exit_2_naming_file_line_column(tmp_path, header, row, line):
    path = _bad(tmp_path, header, row)
    result = run_cli("report", "--codecarbon", str(path))
    assert result.code == 2
    assert result.err.strip().splitlines() == [f"ci-carbon: {path}{line}"]


def test_no_file_found_is_exit_2(tmp_path):
    empty = run_cli("report", "--codecarbon", str(tmp_path))
    assert empty.code == 2 and empty.err.strip() == (
        f"ci-carbon: {tmp_path}: no emissions.csv in this directory (searched recursively); give the file, its "
        "directory or a glob")
    glob = run_cli("report", "--codecarbon", str(tmp_path / "*" / "emissions.csv"))
    assert glob.code == 2 and glob.err.strip() == f"ci-carbon: {tmp_path}/*/emissions.csv: the glob matches no file"
    with pytest.raises(InputError):
        files(str(tmp_path / "missing.csv"))


def test_a_fresh_real_tracker_file_reads_as_its_energy(tmp_path):
    """A CodeCarbon tracker run now (the test extra installs it), not only the kept fixture."""
    import codecarbon  # the test extra installs it: never skipped
    import numpy as np
    tracker = codecarbon.OfflineEmissionsTracker(country_iso_code="FRA", output_dir=str(tmp_path),
                                                 project_name="fresh", log_level="error", measure_power_secs=1)
    tracker.start()
    a = np.random.default_rng(0).random((200, 200))
    for _ in range(50):
        a = (a @ a) / 200.0
    tracker.stop()
    (row,) = list(csv.DictReader((tmp_path / "emissions.csv").open()))
    (spec,) = read(str(tmp_path / "emissions.csv"))[0]
    pue = 1.56 if float(row["pue"]) == 1.0 else 1.0
    assert estimate(resolve(spec)).energy_kwh == pytest.approx(float(row["energy_consumed"]) * pue, rel=1e-12)
