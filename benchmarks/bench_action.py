"""Time a manifest pull request through the Action on a cold runner, step by step, against the floor, in one run.

Each trial starts from nothing, as a fresh runner does after setup-python: new temporary folders, no uv on PATH,
empty uv, pip and template caches, no bytecode yet (written as modules are first imported, as on a runner). The
Action's own steps (scripts/action.sh, as action.yml calls it) run in order:
get the installer (the pinned uv, scripts/get_uv.py), create the venv, install ci-carbon from the action's
directory, the report with --base on a real git repository, the comment as a dry run (no network), the gate.
The floor runs the same way in the same trial: the installer, a venv, `click jinja2 PyYAML` installed with the same
command, and the import floor (`python -c "import yaml, jinja2, click"`, its first run). Ratios are step ÷ floor
step; the report is divided by the import floor.

Two ways of installing ci-carbon are timed, and the options behind the Action's choices:
- release: the wheel that release.yml publishes for the action's tag, installed by version (a local folder stands
  in for PyPI: UV_FIND_LINKS, as ci-carbon is not published yet; the wheel is built once, untimed, as the release
  workflow builds it);
- source: the wheel built on the runner from the action's directory (`uv build`), for refs that are not releases;
- `pip install uv==VERSION` against get_uv.py; pip alone (the fallback) for the same install; uv with
  --compile-bytecode; GitPython against plain `git` subprocesses for what --base does.

    .venv/bin/python benchmarks/bench_action.py [--repeat 3]
Target (issue 13): the cold manifest PR (installer + venv + install + report + comment) ≤ 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "scripts" / "action.sh"
EVENT = ROOT / "tests" / "publish" / "data" / "pull_request.opened.json"
UV_VERSION = "0.13.9"
BASE = """\
version: 1
defaults: {provider: gcp, region: us-central1}
jobs:
  - {name: bert-finetune, hardware: A100 SXM4 40GB, count: 8, hours: 10}
  - {name: vit-sweep, hardware: Tesla T4, count: 1, hours: 3, runs: 12}
"""
FLOOR_PACKAGES = ("click", "jinja2", "PyYAML")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.org", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def pull_request(folder: Path) -> Path:
    """An origin with master and a clone on a branch that adds a job: what the Action checks out."""
    origin = folder / "origin"
    origin.mkdir(parents=True)
    git(origin, "init", "-q", "-b", "master")
    (origin / "jobs.yaml").write_text(BASE)
    git(origin, "add", "jobs.yaml")
    git(origin, "commit", "-q", "-m", "base")
    work = folder / "work"
    git(folder, "clone", "-q", str(origin), str(work))
    git(work, "checkout", "-q", "-b", "feature")
    (work / "jobs.yaml").write_text(BASE + "  - {name: t5-pretrain, hardware: Tesla T4, count: 4, hours: 20}\n")
    git(work, "commit", "-q", "-am", "add a job")
    return work


class Trial:
    """One cold runner: its own temporary folders and environment."""

    def __init__(self, parent: Path, extra_env: dict[str, str]):
        self.temp = Path(tempfile.mkdtemp(dir=parent))
        path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not shutil.which("uv", path=p))
        # a runner writes bytecode as it imports (PYTHONDONTWRITEBYTECODE is not set there)
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith((
                        "GITHUB_", "RUNNER_", "CI_CARBON", "UV_", "PIP_", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"))},
                    "PATH": path, "RUNNER_TEMP": str(self.temp / "runner"), "CI_CARBON_PYTHON": sys.executable,
                    "CI_CARBON_ACTION_PATH": str(ROOT), "UV_CACHE_DIR": str(self.temp / "uv-cache"),
                    "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                    "XDG_CACHE_HOME": str(self.temp / "xdg-cache"), "GITHUB_OUTPUT": str(self.temp / "output"),
                    "GITHUB_STEP_SUMMARY": str(self.temp / "summary"), **extra_env}
        (self.temp / "runner").mkdir()

    def run(self, *command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=cwd or self.temp, env={**self.env, **(env or {})}, capture_output=True,
                              text=True)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stdout}\n{proc.stderr}")
        return took

    def step(self, name: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
        return self.run("bash", str(ACTION), name, *args, cwd=cwd, env=env)

    @property
    def python(self) -> str:
        venv = self.temp / "runner" / "ci-carbon-venv"
        return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def action_pr(trial: Trial, work: Path, how: str, version: str, registry: Path) -> dict[str, float]:
    """The Action's steps for a manifest PR, each timed; ``how`` is release or source (see the module doc)."""
    times = {"installer": trial.step("uv"), "venv": trial.step("venv")}
    if how == "release":
        times["install"] = trial.step("packages", f"ci-carbon=={version}", env={"UV_FIND_LINKS": str(registry),
                                                                                 "PIP_FIND_LINKS": str(registry)})
    else:
        times["build wheel"] = trial.step("wheel")
        wheel = next((trial.temp / "runner" / "ci-carbon-tools" / "dist").glob("ci_carbon-*.whl"))
        times["install"] = trial.step("packages", str(wheel))
    pr_env = {"INPUT_MANIFEST": "jobs.yaml", "GITHUB_BASE_REF": "master", "GITHUB_EVENT_PATH": str(EVENT),
              "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REPOSITORY": "Codertocat/Hello-World",
              "GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "carbon", "GITHUB_JOB": "report"}
    times["report --base"] = trial.step("report", cwd=work, env=pr_env)
    report = trial.temp / "runner" / "ci-carbon" / "report.json"
    times["comment --dry-run"] = trial.step("comment", cwd=work, env={**pr_env, "CI_CARBON_REPORT": str(report),
                                                                      "CI_CARBON_DRY_RUN": "1"})
    times["gate"] = trial.step("gate", env={"CI_CARBON_REPORT_EXIT": "0"})
    return times


def floor(trial: Trial) -> dict[str, float]:
    """The same installer, a venv and click, jinja2, PyYAML installed the same way, then their import."""
    times = {"installer": trial.step("uv"), "venv": trial.step("venv")}
    times["install"] = trial.step("packages", *FLOOR_PACKAGES)
    times["report --base"] = trial.run(trial.python, "-c", "import yaml, jinja2, click")
    return times


def pip_uv(trial: Trial) -> float:
    """`pip install uv==VERSION` into a folder of its own: the other way to get the pinned uv from the registry."""
    return trial.run(sys.executable, "-m", "pip", "install", "--quiet", "--target", str(trial.temp / "uv-by-pip"),
                     f"uv=={UV_VERSION}")


SHIPPED = """
from ci_carbon.compare.base import find, manifest_at
repo, point = find("origin/master", ".")
manifest_at(repo, point, "jobs.yaml")
"""
GIT_PYTHON = """
import git
repo = git.Repo(".", search_parent_directories=True)
head = repo.commit("HEAD").hexsha
base = repo.commit("origin/master").hexsha
repo.git.rev_parse("--is-shallow-repository")
point = repo.git.merge_base(head, base).split()[0]
repo.git.diff("--find-renames", "--name-status", point, head)
(repo.commit(point).tree / "jobs.yaml").data_stream.read()
"""
PLAIN_GIT = """
import subprocess
def git(*args):
    return subprocess.run(("git",) + args, capture_output=True, text=True, check=True).stdout.strip()
head = git("rev-parse", "--verify", "HEAD^{commit}")
base = git("rev-parse", "--verify", "origin/master^{commit}")
git("rev-parse", "--is-shallow-repository")
point = git("merge-base", head, base)
git("diff", "--find-renames", "--name-status", point, head)
git("show", point + ":jobs.yaml")
"""


def git_choice(python: str, work: Path, repeat: int) -> list[tuple[str, float]]:
    """What --base does (HEAD, the base, the merge-base, renames, the manifest's text), in fresh processes; the
    first run of each writes its bytecode, the median is of the runs after it."""
    rows = []
    for label, code in (("python alone", "pass"), ("GitPython, the calls --base made with it", GIT_PYTHON),
                        ("plain git, the same calls", PLAIN_GIT),
                        ("ci_carbon.compare.base (plain git)", SHIPPED)):
        times = []
        subprocess.run([python, "-c", code], cwd=work, check=True, capture_output=True)
        for _ in range(max(repeat, 7)):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], cwd=work, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        rows.append((label, statistics.median(times)))
    return rows


def table(title: str, results: dict[str, list[float]], floors: dict[str, list[float]]) -> float:
    print(f"\n{title}")
    print(f"{'step':<22} {'median s':>9} {'floor s':>8} {'× floor':>8}")
    total = 0.0
    for name, times in results.items():
        med = statistics.median(times)
        total += med if name != "gate" else 0.0
        if name in floors:
            base = statistics.median(floors[name])
            print(f"{name:<22} {med:>9.3f} {base:>8.3f} {med / base:>8.2f}")
        else:
            print(f"{name:<22} {med:>9.3f} {'':>8} {'':>8}")
    whole_floor = sum(statistics.median(t) for t in floors.values())
    print(f"{'cold manifest PR':<22} {total:>9.3f} {whole_floor:>8.3f} {total / whole_floor:>8.2f}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--git-only", action="store_true", help="only GitPython against plain git")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-action-") as tmp:
        folder = Path(tmp)
        work = pull_request(folder / "pr")
        registry = folder / "registry"  # the release's wheel, built once as release.yml builds it (untimed)
        subprocess.run(["bash", "-c", f'"$({sys.executable} {ROOT / "scripts" / "get_uv.py"} {folder / "uv"})" '
                                      f'build -q --wheel --out-dir {registry} {ROOT}'], check=True)
        version = next(registry.glob("ci_carbon-*.whl")).name.split("-")[1]
        if args.git_only:
            return git_section(folder, work, registry, args.repeat)
        cases = {"release": {}, "source": {}, "release, uv --compile-bytecode": {"UV_COMPILE_BYTECODE": "1"},
                 "release, pip fallback": {"CI_CARBON_INSTALLER": "pip"}}
        results: dict[str, dict[str, list[float]]] = {case: defaultdict(list) for case in cases}
        floors: dict[str, dict[str, list[float]]] = {case: defaultdict(list) for case in cases}
        by_pip: list[float] = []
        for _ in range(args.repeat):
            for case, env in cases.items():
                how = "source" if case == "source" else "release"
                for name, took in floor(Trial(folder, env)).items():
                    floors[case][name].append(took)
                for name, took in action_pr(Trial(folder, env), work, how, version, registry).items():
                    results[case][name].append(took)
            by_pip.append(pip_uv(Trial(folder, {})))
        totals = {case: table(f"The Action, {case} (ci-carbon {version}; median of {args.repeat} cold runs)",
                              results[case], floors[case]) for case in cases}
        get_uv = statistics.median(results["release"]["installer"])
        print(f"\nthe pinned uv: scripts/get_uv.py {get_uv:.3f} s, `pip install uv=={UV_VERSION}` "
              f"{statistics.median(by_pip):.3f} s ({statistics.median(by_pip) / get_uv:.1f}×)")
        git_section(folder, work, registry, args.repeat)
        print(f"\ncold manifest PR, release wheel: {totals['release']:.2f} s (target ≤ 3 s)")


def git_section(folder: Path, work: Path, registry: Path, repeat: int) -> None:
    trial = Trial(folder, {})
    trial.step("venv")
    trial.step("packages", str(next(registry.glob("ci_carbon-*.whl"))), "GitPython==3.2.1")
    print("\n--base's git work, median of fresh processes in the Action's venv (GitPython added to it):")
    for label, took in git_choice(trial.python, work, repeat):
        print(f"  {label:<42} {took:.3f} s")


if __name__ == "__main__":
    main()
