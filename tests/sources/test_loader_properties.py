"""Property-based tests of the manifest and configuration loaders (issue 9, item 11): whatever YAML text they are
fed, the only outcomes are the documented ones — the jobs load (and resolve), or an InputError whose every problem
is one clear line naming the file, with no Python internals in it. Bounded (200 examples each) and derandomized, so
a CI run is deterministic and quick; a failure prints the smallest YAML text that breaks the rule.
"""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ci_carbon.assemble import resolve_chunk
from ci_carbon.core.fields import FIELDS
from ci_carbon.errors import InputError
from ci_carbon.sources import config_file
from ci_carbon.sources.interface import Chunk
from ci_carbon.sources.manifest import read

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
PATH = "gen.yaml"
# What a problem line must never show: a traceback, our own types, Python's spelling of nothing, raw line breaks.
INTERNALS = ("Traceback", "Located(", "None", "<class", "object at 0x", "\n", "\r")

# Scalars as YAML text, chosen for the traps: YAML 1.1 booleans and base-60, explicit tags, overflow, NaN,
# huge integers, control and hidden characters, forged workflow commands, autolinks.
NASTY_SCALARS = st.sampled_from([
    "1", "0", "-1", "2.5", "1:30", "190:20:30", "NO", "yes", "on", "~", "null", "''", '""', ".nan", ".inf", "-.inf",
    "1e400", "1e308", "9" * 400, "!!float abc", "!!int x", "!!str 1", "!!binary aGk=", "!!timestamp 2026-13-45",
    "!!python/object:os.system x", "[]", "{}", "[1, [2, [3]]]", "{a: {b: {c: 1}}}", "T4", "A100", "H100 SXM",
    "p4d.24xlarge", "gcp", "us-central1", "DE", "US-CA", '"a\\n::error::forged"', '"\\u202eevil"', '"tr\\u200bain"',
    '"https://evil.example"', "www.evil.example", '"x\\r##[error]y"', "&a 1", "*a", "<<: {x: 1}",
])
NAMES = st.sampled_from([*FIELDS, "hour", "<<", "? [x, y]", "1", "null", '"a\\n::error::b"', '"\\u202e"', "tags",
                         "defaults", "version", "jobs"])
ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(
    [*":-[]{}!&*?|>'\"%@`#,\n\t\r ", "\u202e", "\u200b", "\u2028", "\ufeff", "\x00", "\x85"])


@st.composite
def manifests(draw: st.DrawFn) -> str:
    """A manifest-shaped YAML text: version, maybe defaults, a few jobs of known or odd fields with nasty values."""
    lines = ["version: " + draw(st.sampled_from(["1", "2", '"1"', "1.0", "NO"]))]
    if draw(st.booleans()):
        lines += ["defaults:"] + [f"  {k}: {v}" for k, v in draw(st.lists(st.tuples(NAMES, NASTY_SCALARS),
                                                                        max_size=3))]
    lines.append("jobs:")
    for _ in range(draw(st.integers(0, 3))):
        pairs = draw(st.lists(st.tuples(NAMES, NASTY_SCALARS), min_size=1, max_size=6))
        lines.append(f"  - {pairs[0][0]}: {pairs[0][1]}")
        lines += [f"    {k}: {v}" for k, v in pairs[1:]]
    return "\n".join(lines) + "\n"


@st.composite
def trees(draw: st.DrawFn) -> str:
    """A well-formed YAML tree (JSON is YAML) of a manifest's shape, with values of any JSON type."""
    leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(ALPHABET, max_size=12)
    value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(ALPHABET, max_size=8), inner, max_size=3), max_leaves=8)
    job = st.dictionaries(st.sampled_from([*FIELDS, "x"]), value, max_size=6)
    data = {"version": draw(st.sampled_from([1, 1, 2, "1", None])), "jobs": draw(st.lists(job, max_size=3))}
    return json.dumps(data, ensure_ascii=draw(st.booleans()), allow_nan=True)


def _one_line_problems(err: InputError, path: str, given: str) -> None:
    """Every problem: one line, naming the file, without internals (\"None\" only where the user wrote it)."""
    assert err.problems, "an InputError names at least one problem"
    for problem in err.problems:
        text = str(problem)
        assert text.startswith(path), text
        for internal in INTERNALS:
            if internal not in given or internal in ("\n", "\r", "Located("):
                assert internal not in text, (internal, text)


def _load_manifest(text: str) -> None:
    """The documented outcomes of reading a manifest: jobs that resolve, or one-line problems."""
    try:
        specs, problems = read(PATH, text)
        resolve_chunk(Chunk(specs, problems=problems), strict=True)
    except InputError as err:
        _one_line_problems(err, PATH, text)


@BOUNDED
@given(manifests())
def test_manifest_shaped_text_loads_or_fails_in_one_line(text: str):
    _load_manifest(text)


@BOUNDED
@given(trees())
def test_manifest_trees_of_any_types_load_or_fail_in_one_line(text: str):
    _load_manifest(text)


@BOUNDED
@given(st.text(ALPHABET, max_size=200))
def test_arbitrary_text_loads_or_fails_in_one_line(text: str):
    _load_manifest(text)


@st.composite
def configs(draw: st.DrawFn) -> str:
    """A ci-carbon.yaml-shaped text: mlflow (fields, team, defaults, …) and budget settings with nasty values."""
    lines = [f"version: {draw(st.sampled_from(['1', '2', 'yes']))}"]
    keys = st.sampled_from(["fields", "team", "project", "defaults", "defaults_apply_to", "tracking_uri", "x",
                            '"a\\n::error::b"'])
    lines.append("mlflow:")
    for key, val in draw(st.lists(st.tuples(keys, NASTY_SCALARS), max_size=4)):
        lines.append(f"  {key}: {val}")
    if draw(st.booleans()):
        lines.append("  defaults:")
        lines += [f"    {k}: {v}" for k, v in draw(st.lists(st.tuples(NAMES, NASTY_SCALARS), max_size=3))]
    lines.append("budget:")
    budget_keys = st.sampled_from(["warn_kg", "fail_kg", "warn_percent", "fail_percent", "per_job_fail_kg", "kg",
                                   '"\\u202e"'])
    lines += [f"  {k}: {v}" for k, v in draw(st.lists(st.tuples(budget_keys, NASTY_SCALARS), max_size=3))]
    return "\n".join(lines) + "\n"


def _load_config(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, PATH)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            config_file.load(path)
        except InputError as err:
            _one_line_problems(err, path, text)


@BOUNDED
@given(configs())
def test_config_shaped_text_loads_or_fails_in_one_line(text: str):
    _load_config(text)


@BOUNDED
@given(st.text(ALPHABET, max_size=200))
def test_arbitrary_config_text_loads_or_fails_in_one_line(text: str):
    _load_config(text)


def test_a_forged_command_in_a_key_stays_on_its_line():
    """A hand-made case the properties cover, spelled out: the key's newline is a space in the problem's text."""
    text = 'version: 1\njobs:\n  - name: a\n    hardware: T4\n    hours: 1\n    "x\\n::error::f": 1\n'
    _, problems = read(PATH, text)
    assert [str(p) for p in problems] == [f"{PATH}:6: jobs[0].x ::error::f: unknown field 'x ::error::f'"]
