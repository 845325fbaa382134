"""The built wheel: data/, templates/ and the templates precompiled; a fresh venv without any extra runs the whole
manifest path (no MLflow installed at all); the MLflow path says in one line what to install; the version comes
from git, from a release archive's .git_archival.txt, or falls back to a fixed one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import tomllib

from tests.conftest import EXAMPLE, ROOT, run_cli

SCHEMA = json.loads((ROOT / "schemas" / "report-v1.schema.json").read_text(encoding="utf-8"))
EVENT = ROOT / "tests" / "publish" / "data" / "pull_request.opened.json"
MLFLOW_LINE = ("ci-carbon: --mlflow-uri: reading MLflow runs needs the MLflow client, an extra: "
               "pip install 'ci-carbon[mlflow]'\n")
SOURCES = ("ci_carbon", "data", "templates", "pyproject.toml", "hatch_build.py", "README.md", ".git_archival.txt")


def build_wheel(source: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
                   check=True, capture_output=True)
    return next(out.glob("ci_carbon-*.whl"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout; building it writes nothing into the checkout (the version file and the
    precompiled templates go into the wheel only)."""
    version_file = ROOT / "ci_carbon" / "_version.py"
    before = version_file.read_bytes() if version_file.exists() else None
    built = build_wheel(ROOT, tmp_path_factory.mktemp("wheel") / "dist")
    assert (version_file.read_bytes() if version_file.exists() else None) == before
    assert not (ROOT / "ci_carbon" / "_compiled_templates").exists()
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    """The wheel installed without extras into a new venv; the venv's bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheel)], check=True)
    return venv / "bin"


def _version(bin_dir: Path) -> str:
    """The installed wheel's version (run outside the checkout, whose ci_carbon would be imported instead)."""
    return subprocess.run([str(bin_dir / "python"), "-c", "import ci_carbon; print(ci_carbon.__version__)"],
                          capture_output=True, text=True, check=True, cwd=bin_dir).stdout.strip()


def _same(text: str, version: str) -> str:
    return text.replace(version, "VERSION")


def test_wheel_carries_data_templates_and_every_template_precompiled(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "ci_carbon/data/devices.csv" in names
    assert "ci_carbon/templates/report.md.j2" in names
    assert "ci_carbon/_version.py" in names
    templates = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2"))
    compiled = [n for n in names if n.startswith("ci_carbon/_compiled_templates/tmpl_")]
    assert len(compiled) == len(templates) and "market.j2" in templates  # every template, precompiled
    import hashlib

    assert sorted(compiled) == sorted(f"ci_carbon/_compiled_templates/tmpl_{hashlib.sha1(t.encode()).hexdigest()}.py"
                                      for t in templates)


def test_wheel_reports_the_example_from_another_directory(installed: Path, tmp_path: Path):
    shutil.copy(EXAMPLE, tmp_path / "jobs.yaml")
    exe = [str(installed / "ci-carbon")]
    md = run_cli("report", "--manifest", "jobs.yaml", cwd=tmp_path, executable=exe)
    assert md.code == 0, md.err
    assert md.out.startswith("### 🌱 Training carbon footprint: **")
    js = run_cli("report", "--manifest", "jobs.yaml", "--format", "json", cwd=tmp_path, executable=exe)
    assert js.code == 0, js.err
    jsonschema.validate(js.json(), SCHEMA)
    # the installed wheel (precompiled templates) and this checkout (templates/) compute the same reports
    from ci_carbon import __version__

    for fmt in ("json", "markdown", "csv", "hf"):
        wheel_out = run_cli("report", "--manifest", "jobs.yaml", "--format", fmt, cwd=tmp_path, executable=exe).out
        checkout_out = run_cli("report", "--manifest", "jobs.yaml", "--format", fmt, cwd=tmp_path).out
        assert _same(wheel_out, _version(installed)) == _same(checkout_out, __version__), fmt


def test_the_wheel_renders_from_its_precompiled_templates(installed: Path, tmp_path: Path):
    code = ("from ci_carbon.render.environment import environment; import jinja2;"
            "print(type(environment().loader).__name__)")
    proc = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.stdout.strip() == "ModuleLoader", proc.stderr
    assert not (tmp_path / "cache").exists()  # nothing compiled, nothing cached


def test_manifest_path_needs_no_mlflow_at_all(installed: Path, tmp_path: Path):
    """Every command of the manifest path, in a venv where MLflow is not installed."""
    python = str(installed / "python")
    probe = "import importlib.util as u; print(u.find_spec('mlflow'), u.find_spec('git'))"
    assert subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.split() == ["None", "None"]
    shutil.copy(EXAMPLE, tmp_path / "jobs.yaml")
    exe = [str(installed / "ci-carbon")]
    report = run_cli("report", "--manifest", "jobs.yaml", "-o", "report.md", cwd=tmp_path, executable=exe)
    assert report.code == 0 and report.err == "", report.err
    valid = run_cli("validate", "jobs.yaml", cwd=tmp_path, executable=exe)
    assert (valid.code, valid.out) == (0, "jobs.yaml: ok, 7 jobs\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_CARBON"))}
    env.update(GITHUB_EVENT_PATH=str(EVENT), GITHUB_EVENT_NAME="pull_request", GITHUB_REPOSITORY="Codertocat/"
               "Hello-World", GITHUB_API_URL="https://api.github.com", GITHUB_WORKFLOW="carbon", GITHUB_JOB="r")
    proc = subprocess.run([*exe, "comment", "--body-file", "report.md", "--dry-run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "POST https://api.github.com/repos/Codertocat/Hello-World/issues/2/comments" in proc.stdout
    summary = run_cli("summary", "--manifest", "jobs.yaml", "--quarter", "2026-Q3", cwd=tmp_path, executable=exe)
    assert summary.code == 0, summary.err
    assert "2026-Q3" in summary.out and "7" in summary.out


@pytest.mark.parametrize("command", [("report", "--mlflow-uri", "sqlite:///store.db"),
                                     ("report", "--mlflow-uri", "http://127.0.0.1:9"),
                                     ("annotate", "--mlflow-uri", "sqlite:///store.db"),
                                     ("summary", "--mlflow-uri", "http://127.0.0.1:9", "--quarter", "2026-Q3")])
def test_mlflow_path_without_the_extra_says_what_to_install(installed: Path, tmp_path: Path, command):
    result = run_cli(*command, cwd=tmp_path, executable=[str(installed / "ci-carbon")])
    assert (result.code, result.out, result.err) == (2, "", MLFLOW_LINE)


def test_manifest_path_never_imports_mlflow(installed: Path, tmp_path: Path):
    shutil.copy(EXAMPLE, tmp_path / "jobs.yaml")
    code = ("import sys; from ci_carbon.cli import main; sys.argv=['ci-carbon','report','--manifest','jobs.yaml'];"
            "\ntry: main()\nexcept SystemExit: pass\n"
            "print('MODULES', sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow','pandas','numpy')))")
    proc = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "MODULES []"


def _copy_sources(target: Path) -> Path:
    target.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "_version.py"))
        else:
            shutil.copy(source, target / name)
    return target


def test_version_without_git_is_the_fixed_fallback(tmp_path: Path):
    """An action checked out as a plain copy, with .git_archival.txt never filled in: pyproject's fallback."""
    fallback = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["version"]["fallback-version"]
    wheel = build_wheel(_copy_sources(tmp_path / "src"), tmp_path / "dist")
    assert wheel.name == f"ci_carbon-{fallback}-py3-none-any.whl"
    # the same fixed version where nothing was built at all (a source tree run in place)
    assert re.search(r'__version__ = "([^"]+)"', (ROOT / "ci_carbon" / "__init__.py").read_text())[1] == fallback


def test_version_of_a_release_archive_is_its_tag(tmp_path: Path):
    """What GitHub's archive of the tag v1.2.3 holds: git filled .git_archival.txt in (export-subst)."""
    source = _copy_sources(tmp_path / "src")
    (source / ".git_archival.txt").write_text("node: 0123456789abcdef0123456789abcdef01234567\n"
                                              "node-date: 2026-12-01T10:00:00+00:00\ndescribe-name: v1.2.3\n")
    wheel = build_wheel(source, tmp_path / "dist")
    assert wheel.name == "ci_carbon-1.2.3-py3-none-any.whl"
    assert '__version__ = "1.2.3"' in zipfile.ZipFile(wheel).read("ci_carbon/_version.py").decode()


def test_archival_file_is_filled_in_by_git_archive(tmp_path: Path):
    """The export-subst attribute that makes git (and GitHub's archives) fill .git_archival.txt in."""
    assert (ROOT / ".gitattributes").read_text().split() == [".git_archival.txt", "export-subst"]
    archive = subprocess.run(["git", "archive", "HEAD", ".git_archival.txt"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        text = tar.extractfile(".git_archival.txt").read().decode()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert text.splitlines()[0] == f"node: {head}"
    assert "$Format" not in text
