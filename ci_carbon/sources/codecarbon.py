"""CodeCarbon's ``emissions.csv`` files as a source: each row is one tracked run, its energy measured.

CodeCarbon (2.x and 3.x) appends one row per tracker run to ``emissions.csv``; ``--codecarbon`` takes a file, a
directory (its ``emissions.csv`` files, at any depth) or a glob. A row becomes a job named
``project_name/experiment_id/run_id`` (the parts the row has; else the file's line), whose energy is the row's
``energy_consumed`` as reported (kWh, CPU + GPU + RAM), never power × time. Its place is the cloud region where
CodeCarbon found one, else its ``country_iso_code``. Where CodeCarbon's ``pue`` is 1 (or the column is absent) it
applied none, so ci-carbon applies its own for the place; otherwise the energy already includes it and is taken as
it stands (PUE 1). CodeCarbon's own emissions figure travels with the job (notice ``codecarbon``) so that the
report can show it beside ci-carbon's and say why they differ. Every problem in a file is the user's (exit 2).
"""

from __future__ import annotations

import csv
import glob
import io
import math
import os
from collections.abc import Iterator, Mapping

from ci_carbon.core import smi, tables
from ci_carbon.core.fields import FIELDS, check
from ci_carbon.core.files import Unreadable, open_input, read_input
from ci_carbon.core.model import Chunk, JobSpec, Notice, Origin
from ci_carbon.core.names import normalise
from ci_carbon.core.report import SourceInfo
from ci_carbon.errors import InputError, InputProblem

FILE_NAME = "emissions.csv"
REQUIRED = ("duration", "energy_consumed")  # in every CodeCarbon version's EmissionsData
ENERGY_PARTS = ("cpu_energy", "gpu_energy", "ram_energy")  # kWh, checked like the total when present
NAME_PARTS = ("project_name", "experiment_id", "run_id")
PLAUSIBLE_W = 50_000.0  # a row whose energy implies more than this mean power is a unit or column mistake
GENERIC_CPU = "Generic CPU"  # data/cpus.csv: the hardware of a row whose devices ci-carbon does not know


def files(pattern: str) -> list[str]:
    """The emissions.csv files a path names: the file itself, a directory's (recursively), or a glob's matches."""
    if os.path.isdir(pattern):
        found = sorted(glob.glob(os.path.join(glob.escape(pattern), "**", FILE_NAME), recursive=True))
        if not found:
            raise InputError([InputProblem(pattern, None, None, f"no {FILE_NAME} in this directory (searched "
                                           "recursively); give the file, its directory or a glob")])
        return found
    if os.path.isfile(pattern):
        return [pattern]
    if os.path.lexists(pattern):  # a pipe, a socket, a device: named as what it is, never opened to wait for ever
        read_input(pattern, what=f"CodeCarbon {FILE_NAME}")
    if glob.has_magic(pattern):
        found = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        if not found:
            raise InputError([InputProblem(pattern, None, None, "the glob matches no file")])
        return found
    raise InputError([InputProblem(pattern, None, None, f"no such file or directory; give a CodeCarbon {FILE_NAME}, "
                                   "its directory or a glob")])


def _number(row: Mapping[str, str], column: str, problems: list[str]) -> float | None:
    """A non-negative finite number from a column, or None (with the reason) — never a silent zero."""
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{column}: must be a number, got '{text}'")
        return None
    if not math.isfinite(value) or value < 0:
        problems.append(f"{column}: must be a finite number at least 0, got {text}")
        return None
    return value


def _hardware(row: Mapping[str, str]) -> tuple[str, int, list[Notice]]:
    """The device ci-carbon knows from the row's gpu_model ("2 x NVIDIA A100-SXM4-40GB"), else its cpu_model,
    else the generic CPU: with energy measured, the hardware only names the job and its embodied share."""
    gpu = (row.get("gpu_model") or "").strip()
    count_text = (row.get("gpu_count") or "").strip()
    if gpu:
        head, sep, name = gpu.partition(" x ")
        name = name.strip() if sep and head.strip().isdigit() else gpu
        count = int(head) if sep and head.strip().isdigit() else 1
        if count_text.replace(".", "", 1).isdigit() and float(count_text) >= 1:
            count = int(float(count_text))
        if normalise(name) in tables.device_index() or normalise(name) in tables.device_families():
            rows = smi.modules(name, count)  # rocm-smi lists an MI250's two GCDs as two devices
            gcds = {"listed": count, "modules": rows.count, "per_module": rows.per_module}
            return name, rows.count, [Notice("smi_modules", gcds)] if rows.per_module > 1 else []
    cpu = (row.get("cpu_model") or "").strip()
    if cpu and normalise(cpu) in tables.cpu_index() and not gpu:
        return cpu, 1, []
    said = gpu or cpu
    return GENERIC_CPU, 1, [Notice("codecarbon_hardware", {"said": said})] if said else []


def _place(row: Mapping[str, str]) -> dict[str, str]:
    """The cloud region where CodeCarbon saw one (on_cloud), else the country it located the machine in."""
    provider, region = (row.get("cloud_provider") or "").strip(), (row.get("cloud_region") or "").strip()
    if provider and region and (row.get("on_cloud") or "Y").strip().upper() != "N":
        return {"provider": provider.lower(), "region": region}
    country = (row.get("country_iso_code") or "").strip()
    return {"country": country} if country else {}


def _name(row: Mapping[str, str], line: int) -> tuple[str, str]:
    """(name, id): project_name/experiment_id/run_id, the parts the row has; the id is run_id, else the line."""
    parts = [(row.get(p) or "").strip() for p in NAME_PARTS]
    said = [p for p in parts if p]
    name = "/".join(said) if said else f"row {line}"
    return name, parts[2] or f"line {line}"


def _spec(path: str, line: int, row: Mapping[str, str], columns: Mapping[str, int]) -> JobSpec | list[InputProblem]:
    """One row → one job with its measured energy, or the row's problems (file:line: column: why)."""
    why: list[str] = []
    hours_s, energy = _number(row, "duration", why), _number(row, "energy_consumed", why)
    parts = {c: _number(row, c, why) for c in ENERGY_PARTS}
    pue = _number(row, "pue", why)
    emissions = _number(row, "emissions", why)
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            why.append(f"{column}: empty; CodeCarbon writes it on every row")
    if not why and hours_s == 0:
        why.append("duration: must be above 0 s, got 0")
    if pue is not None and not why:
        _, bad = check(FIELDS["pue"], pue)
        why += [f"pue: {bad}"] if bad else []
    if not why and energy is not None and hours_s and energy * 1000.0 / (hours_s / 3600.0) > PLAUSIBLE_W:
        why.append(f"energy_consumed: {energy:g} kWh in {hours_s:g} s is above {PLAUSIBLE_W:g} W; is it in kWh?")
    if why or energy is None or hours_s is None:  # the two None only with a reason in ``why``
        return [InputProblem(path, line, text.partition(":")[0], text.partition(": ")[2]) for text in why]
    name, run = _name(row, line)
    place = _place(row)
    hardware, count, notices = _hardware(row)
    applied = pue is not None and pue > 1.0
    notices.append(Notice("codecarbon", {
        "emissions_kg": emissions, "energy_kwh": energy, "pue": pue if pue is not None else 1.0,
        "pue_applied": applied, "intensity_g_per_kwh": emissions * 1000.0 / energy if energy and emissions else None,
        **{c: v for c, v in parts.items() if v is not None},
    }))
    return JobSpec(
        name=name, origin=Origin(path, line, "", {c: line for c in columns}), source="codecarbon", id=run,
        status="FINISHED", hardware=hardware, count=count, hours=hours_s / 3600.0, reported_energy_kwh=energy,
        pue=1.0 if applied else None, tags={"project": (row.get("project_name") or "").strip()} if
        (row.get("project_name") or "").strip() else {}, notices=tuple(notices), provider=place.get("provider"),
        region=place.get("region"), country=place.get("country"),
    )


def read(path: str) -> tuple[list[JobSpec], list[InputProblem]]:
    """Every row of one emissions.csv as a job, and every problem in the file (a missing column once)."""
    try:
        with open_input(path, what=f"CodeCarbon {FILE_NAME}") as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = {c: i for i, c in enumerate(reader.fieldnames or [])}
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                return [], [InputProblem(path, 1, c, "missing column; is this CodeCarbon's emissions.csv?")
                            for c in missing]
            specs: list[JobSpec] = []
            problems: list[InputProblem] = []
            for row in reader:
                got = _spec(path, reader.line_num, row, columns)
                specs.append(got) if isinstance(got, JobSpec) else problems.extend(got)
    except Unreadable as err:
        raise InputError([InputProblem(path, None, None, str(err))]) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError([InputProblem(path, None, None, f"cannot read: {err}")]) from None
    return specs, problems


class CodecarbonSource:
    """CodeCarbon emissions.csv files as a source: one chunk per file. Strict: a bad row is the user's to fix."""

    kind = "codecarbon"
    strict = True

    def __init__(self, path: str, request: object = None):
        self.where = path
        self.read = 0

    def chunks(self) -> Iterator[Chunk]:
        for path in files(self.where):
            specs, problems = read(path)
            self.read += len(specs)
            yield Chunk(specs, problems=problems)

    def info(self) -> SourceInfo:
        return SourceInfo(self.kind, self.where, read=self.read)
