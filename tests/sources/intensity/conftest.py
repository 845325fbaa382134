"""Stand-in APIs for the tests of this folder, and an environment that points ci-carbon's subprocesses at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sources.intensity.standin import ElectricityMaps, StandIn, WattTime
from tests.sources.mlflow.conftest import mlflow_server  # noqa: F401  (a real mlflow server on a sqlite store)


@pytest.fixture
def em(monkeypatch, tmp_path) -> Iterator[StandIn]:
    """Electricity Maps on 127.0.0.1, its token set, a fresh cache folder: subprocesses inherit the environment."""
    server = StandIn(ElectricityMaps)
    monkeypatch.setenv("CI_CARBON_ELECTRICITYMAPS_URL", server.url)
    monkeypatch.setenv("ELECTRICITYMAPS_TOKEN", ElectricityMaps.TOKEN)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def wt(monkeypatch, tmp_path) -> Iterator[StandIn]:
    server = StandIn(WattTime)
    monkeypatch.setenv("CI_CARBON_WATTTIME_URL", server.url)
    monkeypatch.setenv("WATTTIME_USERNAME", WattTime.USER)
    monkeypatch.setenv("WATTTIME_PASSWORD", WattTime.PASSWORD)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        yield server
    finally:
        server.close()
