"""One job as every format shows it: a row of plain values (the JSON report's job object, less its sentences).

A report of 100,000 runs keeps rows, not estimates: a row is a few hundred bytes, made once when the job is
estimated, and the same row becomes a JSON line, a CSV line and a Markdown table row. Rows of a large report are
kept in a private temporary SQLite file, in the report's order (largest emissions first), so memory stays flat.
Floats are rounded to 6 decimals, so the bytes are stable and free of binary noise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from ci_carbon.core.model import Basis, Estimate, Market, Notice

Row = dict[str, Any]
Key = tuple[float, str, str]  # (−kg, name, id): the report's order, on the exact (unrounded) emissions
SPILL_AFTER = 20_000  # rows kept in memory; beyond, all of them go to disk


def r6(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


_ROUNDED: dict[float, float] = {}


def _same(value: float) -> float:
    """:func:`r6` for values that repeat across jobs (PUE, intensity, TDP): looked up, not rounded again."""
    known = _ROUNDED.get(value)
    if known is None:
        if len(_ROUNDED) >= 10_000:  # jobs that each say their own value: stay bounded
            _ROUNDED.clear()
        known = _ROUNDED[value] = r6(value)
    return known


_NOTICES: dict[int, tuple[tuple[Notice, ...], list[dict[str, Any]]]] = {}


def notices(said: tuple[Notice, ...]) -> list[dict[str, Any]]:
    """The job's notices as plain objects; jobs alike share one notices tuple, so it is converted once."""
    known = _NOTICES.get(id(said))
    if known is None or known[0] is not said:  # the tuple is kept, so its id cannot be reused while listed
        if len(_NOTICES) >= 10_000:
            _NOTICES.clear()
        known = _NOTICES[id(said)] = (said, [{"code": n.code, "params": dict(n.params)} for n in said])
    return known[1]


_PLAIN: dict[object, dict[str, Any] | None] = {}


def _plain(value: Basis | Market | None) -> dict[str, Any] | None:
    """A job's ``basis`` or ``market_method`` as a JSON object; jobs alike share one, so it is made once."""
    if value is None:
        return None
    known = _PLAIN.get(value)
    if known is None:
        if len(_PLAIN) >= 10_000:
            _PLAIN.clear()
        known = _PLAIN[value] = {k: r6(v) if isinstance(v, float) else v for k, v in value._asdict().items()}
    return known  # shared, like the notices: read, never changed


def job_row(est: Estimate) -> Row:
    j, s = est.job, est.job.spec
    return {
        "name": s.name, "source": s.source, "id": s.id, "status": s.status,
        "hours": r6(j.hours), "device_hours": r6(j.device_hours * j.runs), "runs": j.runs,
        "hardware": j.hardware, "device_id": j.device_id, "count": j.count, "method": j.method,
        "power_w": _same(j.device_power_w) if j.method == "tdp" else r6(j.device_power_w), "pue": _same(j.pue),
        "carbon_intensity_g_per_kwh": _same(j.carbon_intensity),
        "location": j.location, "provider": j.provider, "region": j.region, "country": j.country,
        "energy_kwh": r6(est.energy_kwh), "energy_kwh_low": r6(est.energy_kwh_low),
        "energy_kwh_high": r6(est.energy_kwh_high),
        "emissions_kg": r6(est.emissions_kg), "emissions_kg_low": r6(est.emissions_kg_low),
        "emissions_kg_high": r6(est.emissions_kg_high), "emissions_kg_market": r6(est.emissions_kg_market),
        "embodied_kg": r6(est.embodied_kg), "tags": dict(sorted(s.tags.items())),
        "guessed": list(j.guessed), "notices": notices(j.notices),
        "basis": _plain(j.basis), "market_method": _plain(j.market),
        **({"hourly": hourly_row(est)} if est.hourly is not None else {}),
    }


def hourly_row(est: Estimate) -> Row | None:
    """The grid at the run's own hours (issue 14), beside the yearly figure; None without one."""
    h = est.hourly
    if h is None:
        return None
    from datetime import datetime, timezone

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"source": h.source, "zone": h.zone, "emission_factor_type": h.emission_factor_type,
            "hours_covered": {"from": iso(h.first_hour_ms), "to": iso(h.last_hour_ms + 3_600_000), "hours": h.hours,
                              "estimated": h.estimated_hours},
            "intensity_g_per_kwh": r6(h.intensity), "emissions_kg": r6(h.emissions_kg), "weights": h.weights}


def key(est: Estimate) -> Key:
    return (-est.emissions_kg, est.job.spec.name, est.job.spec.id)


class Rows(Sequence[Row]):
    """The rows of a report in its order; in memory, or read back from the spill file a row at a time."""

    def __init__(self, rows: list[Row] | None = None, spill: _Spill | None = None, count: int = 0):
        self._rows, self._spill = rows if rows is not None else [], spill
        self._count = len(self._rows) if spill is None else count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: Any) -> Any:
        if self._spill is None:
            return self._rows[index]
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return list(self)[index]
            return list(self._spill.read(start, stop))
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError(index)
        return next(self._spill.read(position, position + 1))

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows) if self._spill is None else self._spill.read(0, self._count)

    def total(self, column: str, start: int = 0) -> float:
        """The sum of one number over the rows from ``start`` (a chart's "other jobs" slice)."""
        if self._spill is not None and column == "emissions_kg":
            return self._spill.emissions_from(start)
        return sum((row[column] for row in self[start:]), 0.0)


class _Spill:
    """Rows on disk, in a private temporary SQLite database (removed on close), sorted by their keys."""

    def __init__(self) -> None:
        import orjson  # noqa: F401  (fail here, not half-way, if the JSON writer is missing)

        self.db = sqlite3.connect("")
        self.db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;"
                              "CREATE TABLE rows (kg REAL, name TEXT, id TEXT, emissions REAL, row BLOB);")

    def add(self, items: Iterable[tuple[Key, Row]]) -> None:
        import orjson

        self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)",
                            ((k[0], k[1], k[2], row["emissions_kg"], orjson.dumps(row)) for k, row in items))

    def emissions_from(self, start: int) -> float:
        """The rounded emissions of the rows from ``start`` on, summed in the report's order (as a list would be)."""
        query = "SELECT emissions FROM rows ORDER BY kg, name, id LIMIT -1 OFFSET ?"
        return sum((kg for (kg,) in self.db.execute(query, (start,))), 0.0)

    def read(self, start: int, stop: int) -> Iterator[Row]:
        import orjson

        query = "SELECT row FROM rows ORDER BY kg, name, id LIMIT ? OFFSET ?"
        for (blob,) in self.db.execute(query, (max(stop - start, 0), start)):
            yield orjson.loads(blob)


class RowStore:
    """Collects rows as estimates come; sorted at the end, on disk past :data:`SPILL_AFTER` rows."""

    def __init__(self, spill_after: int = SPILL_AFTER):
        self.spill_after = spill_after
        self.items: list[tuple[Key, Row]] = []
        self.spill: _Spill | None = None
        self.count = 0

    def add(self, estimates: Iterable[Estimate]) -> None:
        new = [(key(est), job_row(est)) for est in estimates]
        self.count += len(new)
        if self.spill is not None:
            self.spill.add(new)
            return
        self.items += new
        if len(self.items) > self.spill_after:
            self.spill = _Spill()
            self.spill.add(self.items)
            self.items = []

    def rows(self) -> Rows:
        if self.spill is not None:
            self.spill.db.execute("CREATE INDEX IF NOT EXISTS report_order ON rows (kg, name, id)")
            return Rows(spill=self.spill, count=self.count)
        return Rows([row for _, row in sorted(self.items, key=lambda item: item[0])])


__all__: Sequence[str] = ("Row", "RowStore", "Rows", "job_row", "key", "notices", "r6")
