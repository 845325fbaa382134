"""A CodeCarbon ``emissions.csv`` logged as a run's artifact, read as that run's measured energy.

Listing artifacts is one request per run, so it is asked only of runs that name CodeCarbon and have no energy of
their own: no power history, no energy metric, and a tag whose name starts with ``codecarbon`` (the version tag
users set, ``codecarbon=2.8.3``) or ``ci_carbon.codecarbon`` (the artifact's path, when not ``emissions.csv`` or
``codecarbon/emissions.csv``). The file's rows are summed (one tracker run each), its place and PUE rule are the
CodeCarbon source's (:mod:`ci_carbon.sources.codecarbon`), and a file that cannot be read is said, not guessed.
"""

from __future__ import annotations

import re
import tempfile
from typing import Any

from ci_carbon.core.model import JobSpec, Notice
from ci_carbon.redact import redact
from ci_carbon.sources.codecarbon import read
from ci_carbon.sources.mlflow.records import RunRecord

PATHS = ("emissions.csv", "codecarbon/emissions.csv")
PATH_TAG = "ci_carbon.codecarbon"
_NAMES = re.compile(r"^codecarbon", re.I | re.M)


def names_codecarbon(record: RunRecord) -> bool:
    """Asked of every run without energy of its own: one regular-expression search over its tag names joined by
    line breaks (a tag name cannot hold one in MLflow) instead of a generator over them, 4 % of a 20k-run report."""
    return PATH_TAG in record.tags or _NAMES.search("\n".join(record.tags)) is not None


def _paths(client, run_id: str, record: RunRecord) -> list[str]:
    if PATH_TAG in record.tags:
        return [record.tags[PATH_TAG]]
    listed = {a.path for a in client.list_artifacts(run_id)}
    if "codecarbon" in listed:
        listed |= {a.path for a in client.list_artifacts(run_id, "codecarbon")}
    return [p for p in PATHS if p in listed]


def with_artifact(uri: str, record: RunRecord, spec: JobSpec) -> JobSpec:
    """``spec`` with the energy of the run's CodeCarbon file, where it has one; else as it was (with a notice)."""
    try:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        paths = _paths(client, record.run_id, record)
        if not paths:
            return spec
        with tempfile.TemporaryDirectory() as folder:
            local = client.download_artifacts(record.run_id, paths[0], folder)
            rows, problems = read(local)
    except Exception as err:  # an artifact store we cannot read leaves the run as it was, and says so
        why = redact(str(err).splitlines()[0] if str(err) else type(err).__name__)[:200]
        return spec._replace(notices=(*spec.notices, Notice("codecarbon_artifact_unread", {"why": why})))
    if problems or not rows:
        first = problems[0] if problems else None
        why = f"{paths[0]}:{first.line}: {first.field}: {first.message}" if first else f"{paths[0]}: no rows"
        return spec._replace(notices=(*spec.notices, Notice("codecarbon_artifact_unread", {"why": why})))
    return _merged(spec, rows, paths[0])


def _merged(spec: JobSpec, rows: list[JobSpec], path: str) -> JobSpec:
    """The run as its file says: energy summed over the rows, the first row's place and PUE rule."""
    energy = sum(r.reported_energy_kwh or 0.0 for r in rows)
    said: list[dict[str, Any]] = [dict(n.params) for r in rows for n in r.notices if n.code == "codecarbon"]
    kg = [p["emissions_kg"] for p in said]
    first = said[0]
    figure = {**first, "energy_kwh": energy, "emissions_kg": sum(kg) if None not in kg else None,
              "intensity_g_per_kwh": sum(kg) * 1000.0 / energy if None not in kg and energy else None,
              "artifact": path}
    for part in ("cpu_energy", "gpu_energy", "ram_energy"):
        if all(part in p for p in said):
            figure[part] = sum(p[part] for p in said)
    place = {f: getattr(rows[0], f) for f in ("provider", "region", "country")}
    keep = tuple(f for f in spec.assumed if f not in ("provider", "region", "country", "state", "pue"))
    if not any(place.values()):
        place, keep = {}, spec.assumed
    return spec._replace(reported_energy_kwh=energy, pue=rows[0].pue if rows[0].pue is not None else spec.pue,
                         assumed=keep, notices=(*spec.notices, Notice("codecarbon", figure)), **(
                             {**place, "state": None} if place else {}))
