"""The forge registry: every entry's module imports and implements the forge protocol, so a new forge is one
module plus one entry in ci_carbon/publish/forges.py (and nothing else chooses between forges)."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ci_carbon.publish import forges
from ci_carbon.publish.forge import Forge, Target
from ci_carbon.publish.transport import DryRun

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = [name for name in dir(Forge) if not name.startswith("_")]  # identity, comments, create, ..., heads
TARGET = Target("x", "https://forge.example/api", "o/r", 1, "tok", "TOKEN", "default", None)


def test_the_registry_names_each_forge_once_with_its_own_detection():
    assert [e.name for e in forges.REGISTRY] == ["github", "gitlab"]
    assert len({e.detect for e in forges.REGISTRY}) == len(forges.REGISTRY)
    assert {e.name: e.limit for e in forges.REGISTRY} == {"github": 65_536, "gitlab": 1_000_000}
    assert forges.DEFAULT in forges.names()


@pytest.mark.parametrize("entry", forges.REGISTRY, ids=lambda e: e.name)
def test_every_entry_imports_and_implements_the_forge_protocol(entry: forges.Entry):
    module = importlib.import_module(entry.module)
    for function in ("target", "headers", "client"):
        assert callable(getattr(module, function, None)), f"{entry.module} lacks {function}()"
        expected = inspect.signature(getattr(forges.ForgeModule, function)).parameters
        assert len(inspect.signature(getattr(module, function)).parameters) == len(expected) - 1  # less self
    client = module.client(TARGET, DryRun(), "me", {}, entry.limit)
    missing = [name for name in PROTOCOL if not hasattr(client, name)]
    assert missing == [], f"{entry.module}'s client lacks {missing}"
    assert client.name == entry.name and client.limit == entry.limit
    assert isinstance(module.headers("tok"), dict) and "tok" in "".join(module.headers("tok").values())


@pytest.mark.parametrize(("env", "name"), [
    ({}, "github"), ({"GITHUB_ACTIONS": "true"}, "github"), ({"GITLAB_CI": "true"}, "gitlab"),
])
def test_auto_picks_the_forge_whose_variable_is_set(env: dict[str, str], name: str):
    assert forges.entry("auto", env).name == name
    assert forges.entry(name, {}).name == name


def test_the_limit_comes_from_the_entry(monkeypatch: pytest.MonkeyPatch):
    from ci_carbon.publish import comment

    monkeypatch.setattr(forges, "REGISTRY", tuple(e._replace(limit=1234) for e in forges.REGISTRY))
    for name in forges.names():
        assert comment._client(replace(TARGET, forge=name), DryRun(), None, {}).limit == 1234


def test_nothing_but_the_registry_names_a_forge_module():
    """No if/else between forges outside their own modules: the command goes through the registry."""
    publish = ROOT / "ci_carbon" / "publish"
    for path in [*publish.glob("*.py"), *(ROOT / "ci_carbon" / "cli").glob("*.py")]:
        if path.name in ("forges.py", "github.py", "gitlab.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"publish[./](github|gitlab)\b", text), path
        assert not re.search(r"""[=!]= ["'](github|gitlab)["']""", text), path
