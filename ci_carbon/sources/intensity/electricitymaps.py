"""Electricity Maps API v3: the hourly carbon intensity of a zone over past hours.

Documented at https://docs.electricitymaps.com (the v3 API reference; earlier copy at
https://static.electricitymap.org/api/docs/):

- authentication: the header ``auth-token: <token>`` on every request;
- ``GET /v3/carbon-intensity/past-range?zone=Z&start=ISO&end=ISO`` with ``emissionFactorType=direct|lifecycle``
  (the API's default is lifecycle; ci-carbon asks for ``direct``, the headline basis of data/README.md: direct
  emissions of generation) and ``temporalGranularity=hourly``; it answers ``{"zone": Z, "data": [{"zone",
  "carbonIntensity" (gCO2eq/kWh, may be null), "datetime" (the hour's start, UTC), "isEstimated",
  "emissionFactorType", ...}]}``. One request covers at most 10 days of hourly data, so a longer range is asked
  for in 10-day pages, in order;
- ``GET /v3/carbon-intensity/history?zone=Z`` answers ``{"zone", "history": [...]}`` with the same items, but only
  for the last 24 hours: the 30-day hour-of-day profile of the when-to-run advice is therefore read from
  past-range pages too.

Without a token nothing is ever sent (the caller checks :func:`configured`). The base URL is
``$CI_CARBON_ELECTRICITYMAPS_URL`` when set (the tests' stand-in), else https://api.electricitymap.org.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from ci_carbon.core.hourly import HOUR_MS
from ci_carbon.sources.intensity import cache, http
from ci_carbon.sources.intensity.cache import Series

NAME = "electricitymaps"
TOKEN_ENV = "ELECTRICITYMAPS_TOKEN"
URL_ENV = "CI_CARBON_ELECTRICITYMAPS_URL"
DEFAULT_URL = "https://api.electricitymap.org"
PAGE_MS = 10 * 24 * HOUR_MS  # past-range's longest hourly request


def configured() -> bool:
    return bool(os.environ.get(TOKEN_ENV, "").strip())


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> int:
    """An API datetime ("2026-11-03T08:00:00.000Z" or with an offset) as ms since the epoch."""
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1000)


class Client:
    """One Electricity Maps account for one report: a session, and the answers already fetched (disk cache)."""

    name = NAME
    basis_field = "emissionFactorType"

    def __init__(self, basis: str = "direct"):
        self.token = os.environ.get(TOKEN_ENV, "").strip()
        self.url = os.environ.get(URL_ENV, DEFAULT_URL).rstrip("/")
        self.basis = basis
        self._session: Any = None

    def zone_for(self, zone: str) -> str:
        return zone

    def hourly(self, zone: str, first_ms: int, end_ms: int) -> Series:
        """Intensity for every hour in [first_ms, end_ms) the API has, from the cache or in 10-day pages."""
        known = cache.read(NAME, zone, first_ms, end_ms, self.basis)
        if known is not None:
            return known
        series: Series = {}
        for start in range(first_ms, end_ms, PAGE_MS):
            series.update(self._page(zone, start, min(start + PAGE_MS, end_ms)))
        cache.write(NAME, zone, first_ms, end_ms, self.basis, series)
        return series

    def _page(self, zone: str, start: int, end: int) -> Series:
        if self._session is None:
            self._session = http.session()
        body = http.get_json(self._session, f"{self.url}/v3/carbon-intensity/past-range",
                             {"zone": zone, "start": iso(start), "end": iso(end), "emissionFactorType": self.basis,
                              "temporalGranularity": "hourly"}, {"auth-token": self.token})
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise http.Unavailable("missing", "no data in the answer")
        out: Series = {}
        for item in items:
            value = item.get("carbonIntensity") if isinstance(item, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                hour = parse_time(str(item["datetime"]))
                if start <= hour < end:
                    out[hour - hour % HOUR_MS] = (float(value), bool(item.get("isEstimated")))
        return out
