"""Chart geometry for the HTML summary, computed here and drawn as inline SVG by templates/summary/summary.html.j2.

Server-side SVG needs no script, font or image, so the page works offline and prints as it shows. Python decides
where every bar goes (coordinates in SVG user units, rounded to 0.1); the template only writes the elements, the
labels and the words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ci_carbon.core.results import Group, Results
from ci_carbon.summary.model import BASES, Breakdown, Month, PlannedProfile, Quality

WIDTH = 720.0
ROW = 26.0  # height of one horizontal bar's row
LABEL = 240.0  # width kept for group names left of the bars
VALUE = 120.0  # width kept right of the bars for the figure
GROUP_BARS = 8  # groups drawn before the rest are one "other" bar
COLUMN_HEIGHT = 220.0
AXIS = 28.0  # room under the columns for the month names
LEFT = 64.0  # room left of the columns for the scale
LABEL_CHARS = 32  # group names longer than this are shortened in the chart (the table has them whole)


class Tick(NamedTuple):
    value: float
    pos: float  # x for horizontal charts, y for columns


class Bar(NamedTuple):
    label: str  # the group's value(s), " · "-joined; "" when the group does not say
    full: str  # the label unshortened (a tooltip)
    others: int  # > 0: this bar is that many smaller groups together
    value: float
    low: float
    high: float
    y: float
    width: float
    low_x: float
    high_x: float
    text_x: float  # where the figure is written, right of the bar and its whisker


class Bars(NamedTuple):
    fields: tuple[str, ...]
    width: float
    height: float
    x0: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]


class Segment(NamedTuple):
    basis: str
    value: float
    pos: float
    size: float

    @property
    def mid(self) -> float:
        return round(self.pos + self.size / 2, 1)


class Column(NamedTuple):
    month: str
    total: float
    x: float
    width: float
    top: float
    segments: tuple[Segment, ...]

    @property
    def mid(self) -> float:
        return round(self.x + self.width / 2, 1)


class Columns(NamedTuple):
    width: float
    height: float
    base: float
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]


class Stack(NamedTuple):
    width: float
    segments: tuple[Segment, ...]
    shares: Mapping[str, float]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round scale values from 0 to at least ``top``: steps of 1, 2 or 5 × a power of ten."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _r(x: float) -> float:
    return round(x, 1)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def group_bars(breakdown: Breakdown, limit: int = GROUP_BARS) -> Bars:
    """Horizontal bars of a breakdown's emissions, largest first, with each group's range as a whisker."""
    groups = breakdown.groups
    shown, rest = groups[:limit], groups[limit:]
    rows = [(" · ".join(v for _, v in g.by), 0, g.totals.emissions_kg, g.totals.emissions_kg_low,
             g.totals.emissions_kg_high) for g in shown]
    if len(rest) == 1:
        g = rest[0]
        rows.append((" · ".join(v for _, v in g.by), 0, g.totals.emissions_kg, g.totals.emissions_kg_low,
                     g.totals.emissions_kg_high))
    elif rest:
        rows.append(("", len(rest), sum(g.totals.emissions_kg for g in rest),
                     sum(g.totals.emissions_kg_low for g in rest), sum(g.totals.emissions_kg_high for g in rest)))
    ticks = nice_ticks(max((high for *_, high in rows), default=0.0))
    span = WIDTH - LABEL - VALUE
    scale = span / ticks[-1]
    bars = tuple(Bar(_short(label), label, others, value, low, high, _r(8 + i * ROW), _r(value * scale),
                     _r(LABEL + low * scale), _r(LABEL + high * scale), _r(LABEL + max(value, high) * scale + 6))
                 for i, (label, others, value, low, high) in enumerate(rows))
    height = 8 + len(rows) * ROW + 22
    return Bars(breakdown.fields, WIDTH, _r(height), LABEL, bars,
                tuple(Tick(t, _r(LABEL + t * scale)) for t in ticks))


def month_columns(months: Sequence[Month]) -> Columns:
    """One column per month, stacked by data-quality basis (measured at the bottom)."""
    ticks = nice_ticks(max((m.totals.emissions_kg for m in months), default=0.0))
    scale = (COLUMN_HEIGHT - 12) / ticks[-1]
    base = COLUMN_HEIGHT
    slot = (WIDTH - LEFT - 10) / max(len(months), 1)
    width = min(slot * 0.6, 90.0)
    columns = []
    for i, month in enumerate(months):
        x = LEFT + i * slot + (slot - width) / 2
        y, segments = base, []
        for b in BASES:
            size = month.by_basis.get(b, 0.0) * scale
            if size > 0:
                y -= size
                segments.append(Segment(b, month.by_basis[b], _r(y), _r(size)))
        columns.append(Column(month.month, month.totals.emissions_kg, _r(x), _r(width), _r(y), tuple(segments)))
    return Columns(WIDTH, _r(base + AXIS), base, tuple(columns), tuple(Tick(t, _r(base - t * scale)) for t in ticks))


def quality_stack(quality: Sequence[Quality]) -> Stack:
    """One bar across the width: each basis's share of the period's emissions."""
    x, segments = 0.0, []
    for q in quality:
        size = q.share * WIDTH
        if size > 0:
            segments.append(Segment(q.basis, q.emissions_kg, _r(x), _r(size)))
            x += size
    return Stack(WIDTH, tuple(segments), {q.basis: q.share for q in quality})


SCATTER_HEIGHT = 240.0
SCATTERS = 3  # groups (experiments, sweeps) drawn, largest emissions first
SCATTER_MIN_RUNS = 3  # runs with the metric from which a group's scatter says something


class Dot(NamedTuple):
    name: str
    kg: float
    value: float
    frontier: bool
    x: float
    y: float


class Scatter(NamedTuple):
    """One group's runs: emissions across, the metric up (better up for max, down for min), the frontier joined."""

    experiment: str
    sweep: str
    metric: str
    direction: str
    width: float
    height: float
    x0: float
    base: float
    dots: tuple[Dot, ...]
    line: str  # the frontier as SVG polyline points, lowest kg first
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    dominated_kg: float
    missing: int  # runs without the metric (listed in the tables, not drawn)


def _value_range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.1 or 0.5
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def scatter(group: Group) -> Scatter:
    """Emissions against the metric of one group's runs that logged it, the frontier drawn through its runs."""
    ticks = nice_ticks(max(p.kg for p in group.points))
    span = WIDTH - LEFT - 20
    x_scale = span / ticks[-1]
    low, high = _value_range([float(p.value) for p in group.points])  # type: ignore[arg-type]
    y_scale = (SCATTER_HEIGHT - 16) / (high - low)

    def y(v: float) -> float:
        return _r(SCATTER_HEIGHT - (v - low) * y_scale)

    on = set(group.frontier)
    dots = tuple(Dot(p.name, p.kg, float(p.value), p.run_id in on, _r(LEFT + p.kg * x_scale),  # type: ignore[arg-type]
                     y(float(p.value))) for p in group.points)  # type: ignore[arg-type]
    line = " ".join(f"{d.x},{d.y}" for d in dots if d.frontier)
    y_ticks = tuple(Tick(v, y(v)) for v in (low + (high - low) * i / 3 for i in range(4)))
    return Scatter(group.experiment, group.sweep, group.metric, group.direction, WIDTH, _r(SCATTER_HEIGHT + AXIS),
                   LEFT, SCATTER_HEIGHT, dots, line, tuple(Tick(t, _r(LEFT + t * x_scale)) for t in ticks), y_ticks,
                   group.dominated_kg, len(group.missing))


def scatters(results: Results | None, limit: int = SCATTERS) -> tuple[Scatter, ...]:
    """The largest groups' scatters (by their emissions), those with enough runs that logged the metric."""
    if results is None:
        return ()
    drawn = sorted((g for g in results.groups if len(g.points) >= SCATTER_MIN_RUNS),
                   key=lambda g: (-g.total_kg, g.experiment, g.sweep))
    return tuple(scatter(g) for g in drawn[:limit])


PROFILE_HEIGHT = 180.0
PROFILE_CHARTS = 3  # planned jobs drawn (the summary keeps the largest savings: summary/aggregate.PROFILES)


class HourBar(NamedTuple):
    hour: int  # UTC hour of day
    value: float | None  # mean gCO2eq/kWh at that hour; None: no value in the 30 days (no bar)
    x: float
    width: float
    y: float
    height: float
    window: bool  # a start at this hour is within the job's window (from a start now)
    best: bool  # the best start hour
    now: bool  # the hour of a start now
    slot_x: float  # where the hour's slot begins (the window's shading fills the slot)

    @property
    def mid(self) -> float:
        return round(self.x + self.width / 2, 1)


class ProfileChart(NamedTuple):
    """One planned job's zone profile: 24 columns by UTC hour of day, its window shaded, its best start marked."""

    name: str
    zone: str
    source: str
    days: int
    basis: str
    window_hours: float
    hours: float
    best_hour: int
    now_hour: int
    percent: float  # the cut of a start at the best hour against a start now
    saving_kg: float
    width: float
    height: float
    base: float
    slot: float
    bars: tuple[HourBar, ...]
    ticks: tuple[Tick, ...]


def profile_chart(planned: PlannedProfile) -> ProfileChart:
    """The 24 hourly means as columns over one scale; the window's start hours and the best one flagged."""
    start, by_hour = planned.start, planned.profile.by_hour
    ticks = nice_ticks(max((v for v in by_hour if v is not None), default=0.0))
    scale = (PROFILE_HEIGHT - 12) / ticks[-1]
    slot = (WIDTH - LEFT - 10) / 24
    width = slot * 0.7
    window = {(start.now_hour + d) % 24 for d in range(min(int(planned.window_hours), 23) + 1)}
    bars = []
    for hour, value in enumerate(by_hour):
        size = (value or 0.0) * scale
        bars.append(HourBar(hour, value, _r(LEFT + hour * slot + (slot - width) / 2), _r(width),
                            _r(PROFILE_HEIGHT - size), _r(size), hour in window, hour == start.best_hour,
                            hour == start.now_hour, _r(LEFT + hour * slot)))
    p = planned.profile
    return ProfileChart(planned.name, p.zone, p.source, p.days, p.emission_factor_type, planned.window_hours,
                        planned.hours, start.best_hour, start.now_hour, 100.0 * start.cut,
                        round(planned.saving_kg, 6), WIDTH,  # 6 decimals, as the when advice's sentence has it
                        _r(PROFILE_HEIGHT + AXIS), PROFILE_HEIGHT, _r(slot), tuple(bars),
                        tuple(Tick(t, _r(PROFILE_HEIGHT - t * scale)) for t in ticks))


def profile_charts(profiles: Sequence[PlannedProfile], limit: int = PROFILE_CHARTS) -> tuple[ProfileChart, ...]:
    """The planned jobs' profiles, largest saving first (the summary already ordered them)."""
    return tuple(profile_chart(p) for p in profiles[:limit])
