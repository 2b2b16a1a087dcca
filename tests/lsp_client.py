"""A minimal Language Server Protocol client over stdio, for driving yaml-language-server.

JSON-RPC with Content-Length framing, a reader thread, and replies to the server's own
requests (configuration, capability registration) so it never waits on us. Only what
tests/test_editor_lsp.py needs: open a document, collect its diagnostics, ask for
completions.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

EDITOR_DIR = Path(__file__).resolve().parent / "editor"
SERVER = EDITOR_DIR / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"


def install_server() -> Path:
    """tests/editor/node_modules from the committed lock file, installed when missing."""
    if not SERVER.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed: run .ci/system-deps (node and npm)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=EDITOR_DIR, check=True, timeout=600
        )
    return SERVER


class LanguageServer:
    """One yaml-language-server process with a workspace folder and `yaml.*` settings."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not installed: run .ci/system-deps")
        self.settings = settings
        self.proc = subprocess.Popen(
            [node, str(install_server()), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._next_id = 0
        self._replies: dict[int, queue.Queue[Any]] = {}
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self._open: set[str] = set()
        self._published = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {
                    "workspace": {"configuration": True},
                    "textDocument": {"completion": {"completionItem": {"snippetSupport": True}}},
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": settings}})

    # -- plumbing --
    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while (line := out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(out.read(length))
            if "id" in message and "method" in message:  # the server asks us
                self._send({"id": message["id"], "result": self._answer(message)})
            elif "id" in message:
                self._replies[message["id"]].put(message)
            elif message.get("method") == "textDocument/publishDiagnostics":
                with self._published:
                    params = message["params"]
                    self.diagnostics[params["uri"]] = params["diagnostics"]
                    self._published.notify_all()

    def _answer(self, message: dict[str, Any]) -> Any:
        if message["method"] == "workspace/configuration":
            return [
                self.settings if item.get("section") == "yaml" else None
                for item in message["params"]["items"]
            ]
        return None

    def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> Any:
        self._next_id += 1
        reply: queue.Queue[Any] = queue.Queue()
        self._replies[self._next_id] = reply
        self._send({"id": self._next_id, "method": method, "params": params})
        message = reply.get(timeout=timeout)
        assert "error" not in message, message
        return message["result"]

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    # -- what the tests use --
    def open(self, path: Path) -> str:
        """Open `path` as it is on disk now (closing it first if it was open)."""
        uri = path.as_uri()
        if uri in self._open:
            self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        self._open.add(uri)
        self.diagnostics.pop(uri, None)
        document = {
            "uri": uri,
            "languageId": "yaml",
            "version": 1,
            "text": path.read_text(encoding="utf-8"),
        }
        self.notify("textDocument/didOpen", {"textDocument": document})
        return uri

    def diagnostics_of(self, path: Path, timeout: float = 60) -> list[dict[str, Any]]:
        """The diagnostics the server publishes for `path` once opened (waits for them)."""
        uri = self.open(path)
        deadline = time.monotonic() + timeout
        with self._published:
            while uri not in self.diagnostics:
                left = deadline - time.monotonic()
                assert left > 0, f"no diagnostics published for {path.name}"
                self._published.wait(left)
            return self.diagnostics[uri]

    def completion_labels(self, path: Path, line: int, character: int) -> list[str]:
        uri = self.open(path)
        result = self.request(
            "textDocument/completion",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )
        items = result["items"] if isinstance(result, dict) else result
        return [item["label"] for item in items]

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=10)
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
