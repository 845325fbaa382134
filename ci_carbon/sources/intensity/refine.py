"""Each estimate's figure at the grid's own hours, from the configured API; or the notice that says why not.

The rule (docs/design.md, "The grid at the hours a run used"): a job with a start and an end (an MLflow run) in a
zone the API knows gets :class:`~ci_carbon.core.model.Hourly` beside its yearly-table figure; a planned job with
``start_window_hours`` gets its zone's 30-day hour-of-day :class:`~ci_carbon.core.model.Profile` (the when-to-run
advice). The yearly figure stays the headline and the budget's: nothing here changes ``emissions_kg``.

What cannot be had falls back to the yearly figure with a notice ``hourly_unavailable`` (exit 0, the one deliberate
exception to exit 3, since this is an optional refinement): no token, no zone for the job's grid, the API
unreachable after retries or rate-limited (then no further request is made for this report), or hours it has no
value for. A token the API rejects (401/403) is a configuration error: one line, exit 2.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from ci_carbon.core import hourly
from ci_carbon.core.hourly import HOUR_MS
from ci_carbon.core.model import Estimate, Hourly, Notice, Profile
from ci_carbon.core.settings import INTENSITY_SOURCES, IntensityConfig
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources.intensity import electricitymaps, watttime
from ci_carbon.sources.intensity.http import Rejected, Unavailable

SOURCES = INTENSITY_SOURCES
PROFILE_DAYS = 30
DAY_MS = 24 * HOUR_MS
_CREDENTIALS = {"electricitymaps": electricitymaps.TOKEN_ENV,
                "watttime": f"{watttime.USER_ENV}/{watttime.PASSWORD_ENV}"}
_LABEL = {"electricitymaps": "Electricity Maps", "watttime": "WattTime"}

Refine = Callable[[Estimate], Estimate]
T = TypeVar("T")


def _with_notice(est: Estimate, notice: Notice) -> Estimate:
    return est._replace(job=est.job._replace(notices=(*est.job.notices, notice)))


class Refiner:
    """The configured source for one report: one client, the zones' profiles, and whether the API is down."""

    def __init__(self, config: IntensityConfig, now_ms: int | None = None):
        self.config = config
        self.source = str(config.source)
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.client: electricitymaps.Client | watttime.Client | None = None
        self.down: Unavailable | None = None
        if self.source == "electricitymaps" and electricitymaps.configured():
            self.client = electricitymaps.Client(config.emission_factor_type)
        elif self.source == "watttime" and watttime.configured():
            self.client = watttime.Client(config.latitude, config.longitude)
        else:
            self.down = Unavailable("no_token", _CREDENTIALS[self.source])
        self.profiles: dict[str, Profile | Unavailable] = {}

    def __call__(self, est: Estimate) -> Estimate:
        spec, job = est.job.spec, est.job
        timed = spec.started is not None and spec.status != "planned"
        window = spec.start_window_hours is not None and spec.status == "planned"
        if not (timed or window) or spec.carbon_intensity is not None:
            return est  # no hours of its own, or the user's own intensity: nothing to refine
        from ci_carbon.sources.intensity.zones import zone_of

        zone = zone_of(job, self.config.zone)
        try:
            if zone is None:
                raise Unavailable("no_zone", job.location)
            if timed:
                return self._hourly(est, zone)
            return est._replace(profile=self._profile(zone))
        except Unavailable as why:
            return _with_notice(est, Notice("hourly_unavailable", {
                "source": _LABEL[self.source], "reason": why.reason, "detail": why.detail, "zone": zone or "",
                "for": "hours" if timed else "profile"}))

    def _ask(self, call: Callable[[], T]) -> T:
        if self.down is not None:
            raise self.down
        try:
            return call()
        except Unavailable as why:
            if why.reason in ("unreachable", "rate_limited"):
                self.down = why  # ask no more in this report
            raise
        except Rejected as err:
            who = _LABEL[self.source]
            detail = f": {err.detail}" if err.detail else ""
            raise InputError([InputProblem(_CREDENTIALS[self.source], None, None,
                                           f"{who} rejected the credentials (HTTP {err.status}{detail}); check "
                                           "them, or turn the intensity source off")]) from None

    def _hourly(self, est: Estimate, zone: str) -> Estimate:
        spec, client = est.job.spec, self.client
        start = int(spec.started or 0)
        end = start + round((spec.hours or est.job.hours) * 3.6e6)
        hours = hourly.hours_between(start, end)
        region = self._ask(lambda: client.zone_for(zone)) if client is not None else zone
        series = self._ask(lambda: client.hourly(str(region), hours[0], hours[-1] + HOUR_MS))  # type: ignore[union-attr]
        measured = hourly.energy_weights(start, end, spec.energy_by_hour) if spec.energy_by_hour else None
        weights = measured or hourly.time_weights(start, end)
        got = hourly.weighted_intensity(weights, {h: v for h, (v, _) in series.items()})
        if got.missing:
            raise Unavailable("missing", f"{len(got.missing)} of {len(hours)} hours")
        figure = Hourly(self.source, str(region), hours[0], hours[-1], len(hours), got.intensity,
                        est.energy_kwh * got.intensity / 1000.0, client.basis if client else "",
                        "measured" if measured else "uniform",
                        sum(1 for h in hours if series.get(h, (0.0, False))[1]))
        return _with_notice(est._replace(hourly=figure), Notice("hourly", {
            "source": _LABEL[self.source], "zone": figure.zone, "from": electricitymaps.iso(figure.first_hour_ms),
            "to": electricitymaps.iso(figure.last_hour_ms + HOUR_MS), "hours": figure.hours,
            "intensity": round(figure.intensity, 3), "emissions_kg": round(figure.emissions_kg, 6),
            "yearly_intensity": round(est.job.carbon_intensity, 3), "yearly_kg": round(est.emissions_kg, 6),
            "basis": figure.emission_factor_type, "weights": figure.weights,
            "estimated_hours": figure.estimated_hours}))

    def _profile(self, zone: str) -> Profile:
        known = self.profiles.get(zone)
        if known is None:
            try:
                known = self._fetch_profile(zone)
            except Unavailable as why:
                known = why
            self.profiles[zone] = known
        if isinstance(known, Unavailable):
            raise known
        return known

    def _fetch_profile(self, zone: str) -> Profile:
        client = self.client
        day = self.now_ms - self.now_ms % DAY_MS  # the window ends at today's 00:00 UTC: cached all day
        region = self._ask(lambda: client.zone_for(zone)) if client is not None else zone
        series = self._ask(lambda: client.hourly(str(region), day - PROFILE_DAYS * DAY_MS, day))  # type: ignore[union-attr]
        by_hour = hourly.hour_of_day_profile({h: v for h, (v, _) in series.items()})
        if all(v is None for v in by_hour):
            raise Unavailable("missing", f"no hours in the last {PROFILE_DAYS} days")
        return Profile(self.source, str(region), by_hour, PROFILE_DAYS, self.now_ms,
                       client.basis if client else "")


def report_time() -> int | None:
    """``$CI_CARBON_NOW`` (ISO 8601, UTC): the report's time for a start now (reproducible advice); else None."""
    text = os.environ.get("CI_CARBON_NOW", "").strip()
    if not text:
        return None
    try:
        return electricitymaps.parse_time(text)
    except ValueError:
        raise InputError([InputProblem("CI_CARBON_NOW", None, None, f"'{text}' is not an ISO 8601 time "
                                       "(e.g. 2026-11-03T08:00:00Z)")]) from None


def refiner(config: IntensityConfig) -> Refiner | None:
    """The refinement a report applies (``--intensity-source`` is already in ``config.source``); None when off."""
    if config.source is None:
        return None
    return Refiner(config, report_time())
