"""The YAML manifest source (docs/design.md "YAML manifest, version 1"): a file of planned jobs → JobSpecs.

Validation is exhaustive rather than fail-fast: ``ci-carbon validate`` prints every problem with its line,
so a user fixes a manifest in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_carbon.core import files
from ci_carbon.core.fields import applicable_defaults, type_name
from ci_carbon.core.model import Chunk, JobSpec, Origin
from ci_carbon.core.names import differences, nearest, skeleton
from ci_carbon.core.report import SourceInfo
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources import yaml_tree
from ci_carbon.sources.yaml_fields import Problems, check_fields
from ci_carbon.sources.yaml_tree import Located

TOP_LEVEL = ("version", "defaults", "jobs")
SUPPORTED_VERSION = 1


def _job(path: str, index: int, item: Located, defaults: dict[str, Located], out: Problems) -> JobSpec | None:
    where = f"jobs[{index}]"
    if not isinstance(item.value, dict):
        out.add(item.line, where, f"each job must be a mapping of fields, got {type_name(item.value)}")
        return None
    before = len(out.items)
    own = check_fields(item.value, where, out, allow_name=True)
    if len(out.items) > before:
        return None
    merged = {**applicable_defaults(own, defaults, value=lambda item: item.value), **own}
    if "tags" in defaults and "tags" in own:
        merged["tags"] = Located({**defaults["tags"].value, **own["tags"].value}, own["tags"].line)
    if "name" not in merged:
        out.add(item.line, f"{where}.name", "every job needs a name")
        return None
    if "hours" in merged and "device_hours" in merged:
        out.add(merged["device_hours"].line, f"{where}.device_hours", "give hours or device_hours, not both")
        return None
    if "hours" not in merged and "device_hours" not in merged:
        out.add(item.line, f"{where}.hours", "every job needs hours (per run) or device_hours")
        return None
    cpu_only = any(k in merged for k in ("cpu", "cpu_count", "memory_gb"))  # core/cpu.py: a CPU-only job
    if "hardware" not in merged and "instance_type" not in merged and not cpu_only:
        out.add(item.line, f"{where}.hardware",
                "every job needs hardware (with count), instance_type, or for a CPU-only job cpu_count")
        return None
    values = {k: v.value for k, v in merged.items()}
    lines = {k: v.line for k, v in merged.items()}
    origin = Origin(path, item.line, where, lines)
    return JobSpec(origin=origin, source="manifest", id=values["name"], **values)


def _top(path: str, root: Located | None, out: Problems) -> tuple[dict[str, Located], list[Located]] | None:
    if root is None:
        out.add(None, None, "is empty; a manifest needs 'version: 1' and a list of jobs")
        return None
    if not isinstance(root.value, dict):
        out.add(root.line, None, f"must be a mapping with 'version' and 'jobs', got {type_name(root.value)}")
        return None
    doc: dict[str, Located] = root.value
    meant: set[str] = set()  # fields a misspelt key was probably meant as: not reported missing as well
    for key, item in doc.items():
        if key not in TOP_LEVEL:
            options = nearest(key, {k: k for k in TOP_LEVEL})
            meant.update(options)
            out.add(item.line, key, "unknown top-level field", options)
    version = doc.get("version")
    if version is None and "version" not in meant:
        out.add(root.line, "version", f"missing; write 'version: {SUPPORTED_VERSION}'")
    elif version is not None and (version.value != SUPPORTED_VERSION or isinstance(version.value, bool)):
        out.add(version.line, "version", f"unsupported version {type_name(version.value)}; this ci-carbon reads "
                                         f"version {SUPPORTED_VERSION}")
    defaults: dict[str, Located] = {}
    if "defaults" in doc:
        raw = doc["defaults"]
        if isinstance(raw.value, dict):
            defaults = check_fields(raw.value, "defaults", out, allow_name=False)
        else:
            out.add(raw.line, "defaults", f"must be a mapping of job fields, got {type_name(raw.value)}")
    jobs = doc.get("jobs")
    if jobs is None:
        if "jobs" not in meant:
            out.add(root.line, "jobs", "missing; a manifest needs a list of jobs")
        return None
    if not isinstance(jobs.value, list) or not jobs.value:
        got = "an empty list" if jobs.value == [] else type_name(jobs.value)
        out.add(jobs.line, "jobs", f"must be a non-empty list of jobs, got {got}")
        return None
    return defaults, jobs.value


def _duplicate(name: str, earlier: str, line: int) -> str:
    """The message for a second job of one name, or of one that looks the same (see core.names.skeleton)."""
    if name == earlier:
        return f"duplicate job name '{name}' (first on line {line}); names must be unique"
    odd = differences(name) or differences(earlier)
    return (f"job name '{name}' looks the same as '{earlier}' (line {line}) but differs in invisible or look-alike "
            f"characters ({odd}); names must be unique, so rename one in plain letters")


def read(path: str, text: str | None = None) -> tuple[list[JobSpec], list[InputProblem]]:
    """The well-formed jobs of the manifest at ``path`` (or of ``text``, named ``path``: a manifest as it was at a
    pull request's base) and every problem found in the others.

    Unreadable files (missing, not UTF-8, invalid YAML) still raise InputError: there is nothing to go on.
    """
    out = Problems(path)
    top = _top(path, yaml_tree.load(path, text), out)
    specs: list[JobSpec] = []
    if top is not None:
        defaults, items = top
        first: dict[str, tuple[str, int]] = {}  # a name's skeleton → (the name, its line)
        for index, item in enumerate(items):
            spec = _job(path, index, item, defaults, out)
            if spec is None:
                continue
            seen = first.get(skeleton(spec.name))
            if seen is not None:
                out.add(spec.origin.line_of("name"), f"jobs[{index}].name", _duplicate(spec.name, *seen))
                continue
            first[skeleton(spec.name)] = (spec.name, spec.origin.line_of("name") or 0)
            specs.append(spec)
    return specs, out.items


class ManifestSource:
    """A manifest as a source: one chunk of planned jobs. Strict: every problem in it is the user's to fix."""

    kind = "manifest"
    strict = True

    def __init__(self, path: str, request: object = None, text: str | None = None):
        self.stdin = path == files.STDIN and text is None  # `--manifest -`: read standard input, named <stdin>
        self.where = files.STDIN_NAME if self.stdin else path
        self.text = text
        self.read = 0

    def chunks(self) -> Iterator[Chunk]:
        if self.stdin and self.text is None:
            try:
                self.text = yaml_tree.decode(files.read_stdin(), self.where)
            except files.Unreadable as err:
                raise InputError([InputProblem(self.where, None, "--manifest", str(err))]) from None
        specs, problems = read(self.where, self.text)
        self.read = len(specs)
        yield Chunk(specs, problems=problems)

    def info(self) -> SourceInfo:
        return SourceInfo(self.kind, self.where, read=self.read)
