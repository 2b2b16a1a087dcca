"""Headless Chromium driven over the DevTools protocol (a pipe, no port, no network).

Why not `--window-size` as tests/browser.py does: headless Chromium will not make a
window narrower than 500 px, and a phone is 375 px wide. The protocol's device
metrics override gives the page a real 375 px viewport, `setEmulatedMedia` a real
`prefers-color-scheme: dark`, and `setAutoDarkModeOverride` Chromium's own forced
dark (the algorithm Android's WebView, and so mail apps built on it, darken pages
with). One browser serves many pages, so the tests stay quick.

A missing browser is a failure, not a skip (browser.executable()).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from browser import FLAGS, executable

# Every host name fails at once: a page can never reach the network from a test.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


class Chromium:
    """One headless browser with one tab; `with Chromium() as browser: ...`."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="pops-cdp-")
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        def pipes_at_3_and_4() -> None:  # the protocol's fixed descriptors
            os.dup2(to_browser, 100)
            os.dup2(from_browser, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self._process = subprocess.Popen(
            [
                executable(),
                *FLAGS,
                OFFLINE,
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pipes_at_3_and_4,
            pass_fds=(3, 4),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._reader = os.fdopen(self._in, "rb")
        self._buffer = b""
        self._next = 0
        self._events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self._session: str | None = attached["sessionId"]
        self.send("Page.enable")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the browser this object started, and its profile."""
        os.close(self._out)
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.close()
        self._profile.cleanup()

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._in, 1 << 20)
            assert chunk, "chromium closed the DevTools pipe"
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A browser-level command's result."""
        return self._call(method, params, None)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the tab; its result."""
        return self._call(method, params, self._session)

    def _call(self, method: str, params: dict[str, Any], session: str | None) -> dict[str, Any]:
        self._next += 1
        request: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            request["sessionId"] = session
        os.write(self._out, json.dumps(request).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next:
                assert "error" not in message, f"{method}: {message['error']}"
                result: dict[str, Any] = message.get("result", {})
                return result
            self._events.append(message)

    def _wait_for(self, event: str) -> None:
        while True:
            found = [m for m in self._events if m.get("method") == event]
            if found:
                self._events.clear()
                return
            self._events.append(self._message())

    def open(
        self,
        page: Path,
        *,
        width: int,
        height: int = 900,
        dark: bool = False,
        forced_dark: bool = False,
    ) -> None:
        """Show `page` in a `width` px viewport (a phone's when narrow), light or dark."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 500,
        )
        self.send(
            "Emulation.setEmulatedMedia",
            features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}],
        )
        self.send("Emulation.setAutoDarkModeOverride", enabled=forced_dark)
        self._events.clear()
        self.send("Page.navigate", url=page.as_uri())
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the page."""
        done = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in done, done["exceptionDetails"]
        return done["result"].get("value")

    def screenshot(self) -> bytes:
        """A PNG of the viewport as drawn (forced dark included, which styles never show)."""
        done = self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(done["data"])
