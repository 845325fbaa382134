"""Reporting periods in UTC: a calendar quarter (``2026-Q3``) or any ``--since``/``--until`` window.

A run belongs to the period in which it *started* (MLflow's ``start_time``, UTC): a run that starts at 23:59 on the
last day of a quarter and ends after midnight is counted, with all of its energy, in the earlier quarter. Nothing is
split across periods, so every run is counted exactly once and each quarter's figures never change once it is over
(except for runs still running when it was summarised).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from ci_carbon.errors import InputError, InputProblem

_QUARTER = re.compile(r"^(?P<year>\d{4})-?Q(?P<q>[1-4])$", re.IGNORECASE)


class Period(NamedTuple):
    """[start, end) in UTC; ``label`` names it for a reader (2026-Q3, or the dates of a custom window)."""

    label: str
    start: datetime
    end: datetime
    quarter: bool = False

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @property
    def last_day(self) -> date:
        """The last calendar day the period covers (its end is exclusive)."""
        return (self.end - timedelta(microseconds=1)).date()

    def as_dict(self) -> dict[str, str]:
        """The JSON contract's period: dates, end exclusive, as docs/design.md shows it."""
        return {"start": _iso(self.start), "end": _iso(self.end), "label": self.label}


def _iso(moment: datetime) -> str:
    """A date when the moment is midnight UTC (quarters, dates given), else the full ISO time."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date().isoformat()
    return moment.isoformat().replace("+00:00", "Z")


def _utc(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


def quarter(year: int, q: int) -> Period:
    start = _utc(year, 3 * (q - 1) + 1)
    end = _utc(year + 1, 1) if q == 4 else _utc(year, 3 * q + 1)
    return Period(f"{year}-Q{q}", start, end, True)


def quarter_of(moment: datetime) -> Period:
    return quarter(moment.year, (moment.month - 1) // 3 + 1)


def parse_quarter(text: str, now: datetime) -> Period:
    """``2026-Q3`` (also ``2026Q3``), ``last`` (the latest complete quarter) or ``current``."""
    word = text.strip().lower()
    if word in ("last", "previous"):
        return previous(quarter_of(now))
    if word == "current":
        return quarter_of(now)
    match = _QUARTER.match(text.strip())
    if not match:
        raise InputError([InputProblem("ci-carbon", None, "--quarter",
                                       f"'{text}' is not a quarter (write 2026-Q3, last or current)")])
    return quarter(int(match["year"]), int(match["q"]))


def window(since: datetime, until: datetime) -> Period:
    """A custom period; its label is its first and last day."""
    if until <= since:
        raise InputError([InputProblem("ci-carbon", None, "--until", "must be after --since")])
    period = Period("", since, until)
    first, last = _iso(since), (_iso(until) if not _is_midnight(until) else period.last_day.isoformat())
    return period._replace(label=first if first == last else f"{first} – {last}")


def _is_midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def previous(period: Period) -> Period:
    """The quarter before a quarter; for a window of whole calendar months, as many months before it; for any
    other window, the window of the same length just before it."""
    if period.quarter:
        year, q = int(period.label[:4]), int(period.label[-1])
        return quarter(year - 1, 4) if q == 1 else quarter(year, q - 1)
    whole = _month_index(period.start), _month_index(period.end)
    if None not in whole:
        span = whole[1] - whole[0]  # type: ignore[operator]
        first = whole[0] - span  # type: ignore[operator]
        return window(_utc(first // 12, first % 12 + 1), period.start)
    return window(period.start - (period.end - period.start), period.start)


def _month_index(moment: datetime) -> int | None:
    """year × 12 + month − 1 for midnight UTC on the first of a month; None for any other moment."""
    if moment.day != 1 or not _is_midnight(moment):
        return None
    return moment.year * 12 + moment.month - 1


def year_before(period: Period) -> Period:
    """The same quarter (or the same dates) one year earlier; 29 February becomes the 28th."""
    if period.quarter:
        return quarter(int(period.label[:4]) - 1, int(period.label[-1]))
    return window(_minus_year(period.start), _minus_year(period.end))


def _minus_year(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def months(period: Period) -> list[str]:
    """``YYYY-MM`` of every calendar month the period touches, in order."""
    out = []
    year, month = period.start.year, period.start.month
    while _utc(year, month) < period.end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_of(ms: int | None) -> str:
    """The UTC calendar month of a start time in ms; '' when unknown (a planned job)."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return f"{moment.year:04d}-{moment.month:02d}"


def iso_ms(ms: int | None) -> str:
    """A start time as ISO 8601 UTC to the second, for the CSV."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
