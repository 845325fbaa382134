"""Real git repositories built with GitPython, and the real CLI run with a controlled GitHub Actions environment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import git
import pytest

from tests.conftest import ROOT, Result
from tests.sources.mlflow.conftest import mlflow_server  # noqa: F401  (the session's real MLflow server)

DATA = Path(__file__).resolve().parent / "data"
AUTHOR = git.Actor("Ada Lovelace", "ada@example.org")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """`python -m ci_carbon …` in a new process, with no GITHUB_* variable but those given (CI sets its own)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    clean.update(env or {})
    clean["PYTHONPATH"] = str(ROOT) + os.pathsep + clean.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "ci_carbon", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=clean, timeout=180)
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Repo:
    """A repository whose commits have fixed authors and dates, so their SHAs are the same on every run."""

    def __init__(self, path: Path):
        self.path = path
        self.git = git.Repo.init(path, initial_branch="main")
        self.ticks = 0

    def commit(self, message: str, files: dict[str, str | None]) -> str:
        """Write (text) or delete (None) ``files`` and commit them; returns the SHA."""
        for name, text in files.items():
            target = self.path / name
            if text is None:
                self.git.index.remove([name], working_tree=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), encoding="utf-8")
            self.git.index.add([name])
        self.ticks += 1
        when = f"{1_772_366_400 + 60 * self.ticks} +0000"  # 2026-03-01 12:00 UTC onwards, whatever the local zone
        return self.git.index.commit(message, author=AUTHOR, committer=AUTHOR, author_date=when,
                                     commit_date=when).hexsha

    def branch(self, name: str, at: str) -> None:
        self.git.git.checkout("-q", "-b", name, at)

    def checkout(self, name: str) -> None:
        self.git.git.checkout("-q", name)

    def move(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git.index.move([old, new])


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
