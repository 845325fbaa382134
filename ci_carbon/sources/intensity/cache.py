"""The hourly intensities already fetched, on disk, so a second report of the same runs makes no request.

One JSON file per answer under ``$XDG_CACHE_HOME/ci-carbon/intensity/`` (``~/.cache`` without it), named by the
source, zone, hour range and emission-factor type of the request: past hours do not change, so an entry never
expires. A file that cannot be read is a miss (and is written again); a cache that cannot be written is skipped,
never an error: it only saves requests.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

Series = dict[int, tuple[float, bool]]  # hour start (ms) → (gCO2eq/kWh, estimated)


def folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ci-carbon" / "intensity"


def _path(source: str, zone: str, first_ms: int, end_ms: int, basis: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in zone)[:40]
    digest = hashlib.sha256(f"{source}|{zone}|{first_ms}|{end_ms}|{basis}".encode()).hexdigest()[:16]
    return folder() / source / f"{safe}-{first_ms}-{end_ms}-{basis}-{digest}.json"


def read(source: str, zone: str, first_ms: int, end_ms: int, basis: str) -> Series | None:
    try:
        data = json.loads(_path(source, zone, first_ms, end_ms, basis).read_text(encoding="utf-8"))
        return {int(h): (float(v), bool(e)) for h, (v, e) in data["hours"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(source: str, zone: str, first_ms: int, end_ms: int, basis: str, series: Series) -> None:
    path = _path(source, zone, first_ms, end_ms, basis)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"source": source, "zone": zone, "basis": basis,
                                   "hours": {str(h): [v, e] for h, (v, e) in sorted(series.items())}}),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
