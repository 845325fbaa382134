"""WattTime API v3: the marginal operating emissions rate (MOER) of a grid region over past hours.

Documented at https://docs.watttime.org (the v3 API reference) and in its SDK's description
(https://pypi.org/project/watttime/):

- ``GET /login`` with HTTP basic auth (username, password) answers ``{"token": ...}``, a bearer token valid for 30
  minutes; 401/403 there is a rejected account;
- ``GET /v3/region-from-loc?latitude=&longitude=&signal_type=co2_moer`` answers ``{"region": "CAISO_NORTH",
  "region_full_name", "signal_type"}``;
- ``GET /v3/historical?region=R&start=ISO&end=ISO&signal_type=co2_moer`` (header ``Authorization: Bearer``)
  answers ``{"data": [{"point_time", "value"}], "meta": {"region", "signal_type", "units": "lbs_co2_per_mwh",
  ...}}`` with a point every 5 minutes; one request covers at most 32 days, so longer ranges are paged;
- ``/v3/forecast`` gives the next hours the same way (not used: the advice reads a 30-day past profile);
- at most 3,000 requests in 5 minutes (100 for /login); above that, HTTP 429.

A MOER is the emissions of the plant that answers one more kWh: a marginal rate, not an average, so it is shown
beside the yearly figure as "marginal", never as a headline (``emission_factor_type`` ``marginal``). Values are
converted from lb/MWh to g/kWh (× 0.45359237) and averaged per UTC hour. The base URL is
``$CI_CARBON_WATTTIME_URL`` when set (the tests' stand-in), else https://api.watttime.org.
"""

from __future__ import annotations

import os
from typing import Any

from ci_carbon.core.hourly import HOUR_MS
from ci_carbon.sources.intensity import cache, http
from ci_carbon.sources.intensity.cache import Series
from ci_carbon.sources.intensity.electricitymaps import iso, parse_time

NAME = "watttime"
USER_ENV, PASSWORD_ENV = "WATTTIME_USERNAME", "WATTTIME_PASSWORD"
URL_ENV = "CI_CARBON_WATTTIME_URL"
DEFAULT_URL = "https://api.watttime.org"
PAGE_MS = 32 * 24 * HOUR_MS
G_PER_KWH_PER_LB_PER_MWH = 453.59237 / 1000.0  # 1 lb = 453.59237 g; 1 MWh = 1000 kWh
SIGNAL = "co2_moer"


def configured() -> bool:
    return bool(os.environ.get(USER_ENV, "").strip() and os.environ.get(PASSWORD_ENV, ""))


class Client:
    """One WattTime account for one report: logged in on first use, answers cached on disk."""

    name = NAME
    basis = "marginal"

    def __init__(self, latitude: float | None = None, longitude: float | None = None):
        self.user, self.password = os.environ.get(USER_ENV, "").strip(), os.environ.get(PASSWORD_ENV, "")
        self.url = os.environ.get(URL_ENV, DEFAULT_URL).rstrip("/")
        self.where = (latitude, longitude)
        self._session: Any = None
        self._token: str | None = None
        self._region: str | None = None

    def _auth(self) -> dict[str, str]:
        if self._session is None:
            self._session = http.session()
        if self._token is None:
            body = http.get_json(self._session, f"{self.url}/login", auth=(self.user, self.password))
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise http.Unavailable("missing", "no token in the /login answer")
            self._token = token
        return {"Authorization": f"Bearer {self._token}"}

    def zone_for(self, zone: str) -> str:
        """The WattTime region: from the configured coordinates (region-from-loc), else the zone as given."""
        latitude, longitude = self.where
        if latitude is None or longitude is None:
            return zone
        if self._region is None:
            headers = self._auth()
            body = http.get_json(self._session, f"{self.url}/v3/region-from-loc",
                                 {"latitude": f"{latitude:g}", "longitude": f"{longitude:g}", "signal_type": SIGNAL},
                                 headers)
            region = body.get("region") if isinstance(body, dict) else None
            if not isinstance(region, str) or not region:
                raise http.Unavailable("missing", "no region for the configured location")
            self._region = region
        return self._region

    def hourly(self, zone: str, first_ms: int, end_ms: int) -> Series:
        known = cache.read(NAME, zone, first_ms, end_ms, self.basis)
        if known is not None:
            return known
        sums: dict[int, list[float]] = {}
        for start in range(first_ms, end_ms, PAGE_MS):
            for hour, value in self._page(zone, start, min(start + PAGE_MS, end_ms)):
                sums.setdefault(hour, []).append(value)
        series = {h: (sum(v) / len(v), False) for h, v in sums.items()}
        cache.write(NAME, zone, first_ms, end_ms, self.basis, series)
        return series

    def _page(self, region: str, start: int, end: int) -> list[tuple[int, float]]:
        headers = self._auth()
        body = http.get_json(self._session, f"{self.url}/v3/historical",
                             {"region": region, "start": iso(start), "end": iso(end), "signal_type": SIGNAL}, headers)
        items = body.get("data") if isinstance(body, dict) else None
        units = (body.get("meta") or {}).get("units") if isinstance(body, dict) else None
        if not isinstance(items, list) or units not in (None, "lbs_co2_per_mwh"):
            raise http.Unavailable("missing", f"unexpected answer (units {units})")
        out = []
        for item in items:
            value = item.get("value") if isinstance(item, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                at = parse_time(str(item["point_time"]))
                if start <= at < end:
                    out.append((at - at % HOUR_MS, float(value) * G_PER_KWH_PER_LB_PER_MWH))
        return out
