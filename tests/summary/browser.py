"""Open a page in headless Chromium and record what a user's browser would: console messages, errors, every network
request, the DOM, and screenshots.

The DevTools protocol is spoken over ``--remote-debugging-pipe`` (Chromium reads commands on fd 3 and writes on fd 4,
NUL-separated JSON), so no port is opened and nothing beyond the standard library is needed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, NamedTuple

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-default-apps", "--mute-audio")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Visit(NamedTuple):
    console: list[dict[str, Any]]  # Runtime.consoleAPICalled: {"type": "error", "text": …}
    errors: list[str]  # uncaught exceptions, and Log entries at level error (CSP violations, failed loads)
    requests: list[str]  # every URL the page asked for, the page itself included
    counts: dict[str, int]  # CSS selector → number of matching elements
    values: dict[str, Any]  # name → the value of a JavaScript expression evaluated in the loaded page
    height: int  # the page's full height in CSS pixels


class Browser:
    """One headless Chromium; ``visit`` loads a page in a fresh tab."""

    def __init__(self, profile: Path, timeout: float = 30.0):
        binary = chromium()
        if binary is None:
            raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
        self.timeout = timeout
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes replies
            reader = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            writer = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(reader, 3)  # dup2 onto another number: inheritable, so it survives exec
            os.dup2(writer, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol --------------------------------------------------------------------------------------------

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        return self._next

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            data = os.read(self._from_chrome, 1 << 20)
            if not data:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += data
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            self.events.append(self._receive(deadline))

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds`` (late console messages, late requests)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._receive(deadline))
        except TimeoutError:
            return

    # -- a page ---------------------------------------------------------------------------------------------

    def visit(self, url: str, selectors: tuple[str, ...] = (), screenshot: Path | None = None,
              width: int = 1280, height: int = 2000, full_page: Path | None = None,
              expressions: dict[str, str] | None = None) -> Visit:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", {}, session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        self.drain(0.5)
        counts = {css: self._evaluate(f"document.querySelectorAll({json.dumps(css)}).length", session)
                  for css in selectors}
        values = {name: self._evaluate(js, session) for name, js in (expressions or {}).items()}
        page_height = int(self._evaluate("document.documentElement.scrollHeight", session))
        if screenshot is not None:
            self._screenshot(screenshot, session, {"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        if full_page is not None:
            self._screenshot(full_page, session, {"x": 0, "y": 0, "width": width, "height": page_height, "scale": 1})
        self.call("Target.closeTarget", {"targetId": target})
        mine = [e for e in self.events if e.get("sessionId") == session]
        return Visit(
            console=[{"type": e["params"]["type"],
                      "text": " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])}
                     for e in mine if e["method"] == "Runtime.consoleAPICalled"],
            errors=[e["params"]["exceptionDetails"].get("text", "") for e in mine
                    if e["method"] == "Runtime.exceptionThrown"]
            + [e["params"]["entry"]["text"] for e in mine
               if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"],
            requests=[e["params"]["request"]["url"] for e in mine if e["method"] == "Network.requestWillBeSent"],
            counts=counts, values=values, height=page_height)

    def _evaluate(self, expression: str, session: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result["result"]["value"]

    def _screenshot(self, path: Path, session: str, clip: dict[str, Any]) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                         session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dump_dom(url: str, profile: Path) -> str:
    """The DOM after load, as ``chromium --dump-dom`` prints it."""
    binary = chromium()
    assert binary is not None
    done = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout
