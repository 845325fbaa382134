"""The prefetch child converts half the chunks: what it hands back must be what this process would have made.

A real sqlite store (the demo: sweeps, power histories, a CodeCarbon artifact, deleted and running runs) is read
with the second process and without it, in chunks small enough that both processes convert several.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ci_carbon.core.settings import MlflowConfig
from ci_carbon.errors import SourceUnreachable
from ci_carbon.sources.mlflow import demo, prefetch
from ci_carbon.sources.mlflow.load import RunStream
from ci_carbon.sources.mlflow.mapping import param_key
from ci_carbon.sources.mlflow.records import RunRecord, Selection
from tests.conftest import ROOT

NOW = demo.DEFAULT_NOW_MS


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("prefetch") / "demo.db"
    demo.create_demo_store(demo.uri_for_path(str(path)), now_ms=NOW)
    return f"sqlite:///{path}"


def _chunks(uri: str, prefetched: bool, size: int) -> list[str]:
    stream = RunStream(uri, Selection(), MlflowConfig(), now_ms=NOW, size=size, prefetch=prefetched,
                       tag_names=("team", "lr"))
    stream.by_hour = True  # the hourly weights too: every field conversion can fill
    return [repr(chunk) for chunk in stream]  # repr: NaN equals NaN, and a dict is told from a read-only mapping


def test_chunks_from_the_child_equal_this_processs_own(store: str):
    """Field by field, chunk by chunk, in order: specs, skipped runs, sibling groups, parameter keys."""
    for size in (3, 7):
        own, prefetched = _chunks(store, False, size), _chunks(store, True, size)
        assert len(own) == len(prefetched) == -(-35 // size)  # 35 runs, the last chunk short
        assert prefetched == own, size


def test_parameter_keys_are_the_same_in_every_process():
    """The duplicates advice compares keys made in both processes: Python's salted hash would differ per process
    (PYTHONHASHSEED), so the key is a digest of the sorted pairs."""
    record = RunRecord(run_id="r1", experiment_id="4", experiment_name="e", run_name="n", status="FINISHED",
                       lifecycle_stage="active", start_time=0, end_time=1, user_id="u", tags={},
                       params={"lr": "0.1", "seed": "3", "batch": "64"}, metrics={}, last_metric_ms=None)
    here = param_key(record)
    code = ("from ci_carbon.sources.mlflow.mapping import param_key; from ci_carbon.sources.mlflow.records import "
            f"RunRecord; print(param_key(RunRecord(**{record._asdict()!r})))")
    elsewhere = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip()
                 for seed in ("1", "2")}
    assert elsewhere == {here} and len(here) == 16
    assert param_key(record._replace(params={"batch": "64", "lr": "0.1"})) == here  # the seed is left out
    assert param_key(record._replace(params={"batch": "64", "lr": "0.2"})) != here
    assert param_key(record._replace(experiment_id="5")) != here  # only within one experiment


def test_a_fault_in_the_childs_own_code_is_an_internal_error_not_the_store():
    """Exit 3 says the store failed; the child converting runs can also fail by a bug of ours, which is exit 4."""
    assert prefetch._store_error(sqlite3.OperationalError("disk I/O error"))
    assert prefetch._store_error(SourceUnreachable("gone")) and prefetch._store_error(OSError(5, "EIO"))
    assert not prefetch._store_error(TypeError("unsupported operand")) and not prefetch._store_error(KeyError("x"))
    with pytest.raises(RuntimeError, match="the reading process failed: TypeError: unsupported operand"):
        prefetch._fail(prefetch.EXIT_INTERNAL, "TypeError: unsupported operand\n", "sqlite:///x.db")


def test_the_child_reads_the_request_from_stdin_not_the_command_line(store: str, tmp_path: Path):
    """A password in the URI never shows in ``ps``: the child's command line is the module alone."""
    seen: list[list[str]] = []
    real = subprocess.Popen

    def spy(args, *rest, **kwargs):
        seen.append(list(args))
        return real(args, *rest, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "Popen", spy)
        chunks = list(RunStream(store, Selection(), MlflowConfig(), now_ms=NOW, size=10, prefetch=True))
    assert seen == [[sys.executable, "-m", "ci_carbon.sources.mlflow.prefetch"]]
    assert sum(len(c.specs) + len(c.skipped) for c in chunks) == 35
