"""Local stand-ins for the grid-intensity APIs, written from their documentation (nothing else can be reached):

- Electricity Maps v3 (https://docs.electricitymaps.com; https://static.electricitymap.org/api/docs/): header
  ``auth-token``; ``GET /v3/carbon-intensity/past-range?zone=&start=&end=&emissionFactorType=&temporalGranularity=``
  answers ``{"zone", "data": [{"zone", "carbonIntensity", "datetime", "updatedAt", "createdAt",
  "emissionFactorType", "isEstimated", "estimationMethod"}]}`` for at most 10 days of hourly data (more: 400);
  ``GET /v3/carbon-intensity/history?zone=`` the last 24 hours as ``{"zone", "history": [...]}``; a bad token
  401 (403 for a token without access to the zone), a zone it does not know 404, a rate limit 429 with
  ``Retry-After``.
- WattTime v3 (https://docs.watttime.org): ``GET /login`` with basic auth → ``{"token"}``;
  ``GET /v3/region-from-loc?latitude=&longitude=&signal_type=`` → ``{"region", "region_full_name",
  "signal_type"}``; ``GET /v3/historical?region=&start=&end=&signal_type=co2_moer`` (bearer token) → ``{"data":
  [{"point_time", "value"}], "meta": {"region", "signal_type", "units": "lbs_co2_per_mwh"}}``, 5-minute points, at
  most 32 days a request; 401 for a bad login or token, 429 when rate-limited.

Each server counts and records the requests it answered, so a test can assert that none was made.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

Values = Callable[[datetime], float | None]  # the hour's start (UTC) → intensity (None: the API has no value)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class StandIn:
    """A threaded http.server on 127.0.0.1 (a free port); ``mode`` makes it answer an error: 429, 500."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.mode = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.stand_in = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Base(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    @property
    def stand_in(self) -> StandIn:
        return self.server.stand_in  # type: ignore[attr-defined]

    def reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.stand_in.requests.append((parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
        if self.stand_in.mode == "429":
            return self.reply(429, {"message": "Too many requests"}, {"Retry-After": "30"})
        if self.stand_in.mode == "500":
            return self.reply(500, {"message": "Internal error"})
        self.route(parts.path, {k: v[0] for k, v in query.items()})

    def route(self, path: str, q: dict[str, str]) -> None:
        raise NotImplementedError


class ElectricityMaps(_Base):
    TOKEN = "em-good-token"
    ZONES: ClassVar[dict[str, Values]] = {}

    def route(self, path: str, q: dict[str, str]) -> None:
        token = self.headers.get("auth-token")
        if token != self.TOKEN:
            status = 403 if token == "em-no-access" else 401
            return self.reply(status, {"message": "Invalid authentication token" if status == 401
                                       else "Token has no access to this zone"})
        values = self.ZONES.get(q.get("zone", ""))
        if values is None:
            return self.reply(404, {"message": f"Zone '{q.get('zone')}' does not exist"})
        basis = q.get("emissionFactorType", "lifecycle")
        if path == "/v3/carbon-intensity/past-range":
            start, end = _time(q["start"]), _time(q["end"])
            if end - start > timedelta(days=10):
                return self.reply(400, {"message": "The time range must be at most 10 days for hourly data"})
            hours = []
            at = start.replace(minute=0, second=0, microsecond=0)
            while at < end:
                hours.append(at)
                at += timedelta(hours=1)
        elif path == "/v3/carbon-intensity/history":
            now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
            hours = [now - timedelta(hours=k) for k in range(24, 0, -1)]
        else:
            return self.reply(404, {"message": "Not found"})
        data = [{"zone": q["zone"], "carbonIntensity": values(h), "datetime": _iso(h), "updatedAt": _iso(h),
                 "createdAt": _iso(h), "emissionFactorType": basis, "isEstimated": h.hour == 10,
                 "estimationMethod": "TIME_SLICER_AVERAGE" if h.hour == 10 else None} for h in hours]
        key = "data" if path.endswith("past-range") else "history"
        self.reply(200, {"zone": q["zone"], key: data, "temporalGranularity": "hourly"})


class WattTime(_Base):
    USER, PASSWORD, TOKEN = "wt-user", "wt-pass", "wt-bearer-1"
    REGIONS: ClassVar[dict[str, Values]] = {}  # lb/MWh per hour (every 5-minute point of the hour gets it)

    def route(self, path: str, q: dict[str, str]) -> None:
        if path == "/login":
            expected = base64.b64encode(f"{self.USER}:{self.PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                return self.reply(401, {"error": "Unauthorized"})
            return self.reply(200, {"token": self.TOKEN})
        if self.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return self.reply(401, {"error": "Unauthorized"})
        if path == "/v3/region-from-loc":
            if q.get("signal_type") != "co2_moer":
                return self.reply(400, {"error": "signal_type required"})
            return self.reply(200, {"region": "CAISO_NORTH", "region_full_name": "California ISO - North",
                                    "signal_type": "co2_moer"})
        if path != "/v3/historical":
            return self.reply(404, {"error": "Not found"})
        values = self.REGIONS.get(q.get("region", ""))
        if values is None:
            return self.reply(400, {"error": "Invalid region"})
        start, end = _time(q["start"]), _time(q["end"])
        if end - start > timedelta(days=32):
            return self.reply(400, {"error": "Maximum query window is 32 days"})
        data, at = [], start
        while at < end:
            value = values(at.replace(minute=0, second=0, microsecond=0))
            if value is not None:
                data.append({"point_time": at.isoformat(), "value": value, "version": "3.2"})
            at += timedelta(minutes=5)
        self.reply(200, {"data": data, "meta": {"region": q["region"], "signal_type": "co2_moer",
                                                "units": "lbs_co2_per_mwh", "model": {"date": "2026-03-01"}}})


# One planned job with a flexible start, shared by the when-to-run tests of report and summary.
JOBS = """version: 1
jobs:
  - name: plan
    hardware: A100 SXM4 80GB
    hours: 3
    provider: gcp
    region: us-west2
    start_window_hours: 12
"""
