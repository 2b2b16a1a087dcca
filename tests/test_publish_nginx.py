"""nginx serving the local target: readers polling during publishes and rollbacks never see
a missing file or a stylesheet that does not match its config."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest

from compiler.publish import publish, rollback
from compiler.publish.faults import ENV as FAULT_ENV
from tests.publish_fixtures import (
    make_dist,
    nginx_fixture,  # noqa: F401
)

GROUPS = {"alpha": "a1", "beta": "b1", "gamma": "c1"}


class Poller(threading.Thread):
    """Fetches alpha's config.json, then the stylesheet it names, checking the sha256."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.errors: list[str] = []
        self.names: dict[str, int] = {}
        self.requests = 0

    def get(self, conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, str]:
        conn.request("GET", path)
        resp = conn.getresponse()
        self.requests += 1
        return resp.status, resp.read(), resp.getheader("Cache-Control") or ""

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        config_url = "/groups/alpha/config.json"
        while not self.stop.is_set():
            status, body, cache = self.get(conn, config_url)
            if status != 200:
                self.errors.append(f"config.json: HTTP {status}")
                continue
            if cache != "no-cache":
                self.errors.append(f"config.json Cache-Control {cache!r}")
            config = json.loads(body)
            sheet = config["theme"]["stylesheet"]
            css_url = urljoin(config_url, sheet["path"])
            status, css, cache = self.get(conn, css_url)
            if status != 200:
                self.errors.append(f"{css_url}: HTTP {status} for {config['name']}")
            elif hashlib.sha256(css).hexdigest() != sheet["sha256"]:
                self.errors.append(f"{css_url}: sha256 mismatch for {config['name']}")
            elif config["name"].split()[-1].encode() not in css:
                self.errors.append(f"{css_url}: stylesheet of another build")
            elif "immutable" not in cache:
                self.errors.append(f"{css_url}: Cache-Control {cache!r}")
            self.names[config["name"]] = self.names.get(config["name"], 0) + 1
        conn.close()


def test_readers_never_see_a_mix_during_publish_and_rollback(
    nginx: tuple[Path, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, port = nginx
    url = root.as_uri()
    dist_a = make_dist(tmp_path / "a", GROUPS)
    dist_b = make_dist(tmp_path / "b", {**GROUPS, "alpha": "a2", "beta": "b2"})
    release_a = publish(dist_a, url).release

    stop = threading.Event()
    pollers = [Poller(port, stop) for _ in range(3)]
    for p in pollers:
        p.start()
    try:
        time.sleep(0.2)
        monkeypatch.setenv(FAULT_ENV, "sleep:0.02")  # stretch the upload phase
        release_b = publish(dist_b, url).release
        monkeypatch.delenv(FAULT_ENV)
        deadline = time.monotonic() + 3
        switches = 1
        # At least 3 s and a dozen switches: on a loaded machine a switch can take
        # longer than a quarter of a second, and the count is what the test is about.
        while time.monotonic() < deadline or switches <= 10:
            rollback(url, to=release_a)
            time.sleep(0.05)
            assert publish(dist_b, url).release == release_b  # same build, same release
            time.sleep(0.05)
            switches += 2
    finally:
        stop.set()
        for p in pollers:
            p.join(timeout=20)
    errors = [e for p in pollers for e in p.errors]
    seen: dict[str, int] = {}
    for p in pollers:
        for name, n in p.names.items():
            seen[name] = seen.get(name, 0) + n
    requests = sum(p.requests for p in pollers)
    assert errors == [], errors[:10]
    assert set(seen) == {"alpha a1", "alpha a2"}, seen
    assert switches > 10 and requests > 200, (switches, requests)
