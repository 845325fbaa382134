"""The built wheel carries data/ and templates/ and works from any directory in a fresh virtual env."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import EXAMPLE, ROOT, run_cli

SCHEMA = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Build the wheel from this checkout and install it into a new venv; return the venv's bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next((work / "dist").glob("ci_carbon-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ci_carbon/data/devices.csv" in names
    assert "ci_carbon/templates/report.md.j2" in names
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True)
    return work / "venv" / "bin"


def test_wheel_reports_the_example_from_another_directory(installed: Path, tmp_path: Path):
    shutil.copy(EXAMPLE, tmp_path / "jobs.yaml")
    exe = [str(installed / "ci-carbon")]
    md = run_cli("report", "--manifest", "jobs.yaml", cwd=tmp_path, executable=exe)
    assert md.code == 0, md.err
    assert md.out.startswith("### 🌱 Training carbon footprint: **")
    js = run_cli("report", "--manifest", "jobs.yaml", "--format", "json", cwd=tmp_path, executable=exe)
    assert js.code == 0, js.err
    jsonschema.validate(js.json(), SCHEMA)
    # the installed wheel and this checkout compute the same report
    assert js.out == run_cli("report", "--manifest", "jobs.yaml", "--format", "json", cwd=tmp_path).out


def test_manifest_path_never_imports_mlflow(installed: Path, tmp_path: Path):
    shutil.copy(EXAMPLE, tmp_path / "jobs.yaml")
    code = ("import sys; from ci_carbon.cli import main; sys.argv=['ci-carbon','report','--manifest','jobs.yaml'];"
            "\ntry: main()\nexcept SystemExit: pass\n"
            "print('MODULES', sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow','pandas','numpy')))")
    proc = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "MODULES []"
