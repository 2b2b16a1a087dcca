"""The composite GitHub Action (action.yml), run the way the runner runs it.

Each `run:` step of action.yml is executed with bash, `${{ ... }}` expressions
replaced by test values, and the environment GitHub sets (a fake event file,
GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_WORKSPACE), in a real git repository
with a base commit and a pull-request commit. A server on 127.0.0.1 stands in
for GitHub's issue-comments API and records every call. The `uses:` step
(actions/setup-python) and the pip install step are not run: the install is
what tests/test_wheel.py covers, so the venv the action would make is a
wrapper around this test's interpreter, where pops is installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, pops_executable

pytestmark = pytest.mark.slow

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
MARKER = "<!-- pops-plan -->"
PAGE = 2  # the fake API's page size, so the plan's comment sits on a later page

LAKESIDE = "name: Lakeside Family Clinic\npayments:\n  credit_card: true\n"
SUNRISE = (
    'name: Sunrise Pediatrics\ntheme:\n  colors:\n    primary: "{color}"\n'
    "payments:\n  credit_card: true\n"
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def pops(cwd: Path, *args: str) -> None:
    subprocess.run([pops_executable(), *args], cwd=cwd, check=True, capture_output=True)


# --- the fake comments API -----------------------------------------------------------------


@dataclass
class FakeGitHub:
    """Issue comments of one repository, and every request made to them."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, Any] | None, str]] = field(default_factory=list)
    url: str = ""

    def ours(self) -> list[dict[str, Any]]:
        return [c for c in self.comments if MARKER in c["body"]]


def _handler(api: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: Any, link: str | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            auth = self.headers.get("Authorization", "")
            api.calls.append((self.command, self.path, body, auth))
            return body

        def do_GET(self) -> None:
            self._record()
            found = re.fullmatch(r"/repos/acme/groups/issues/7/comments\?(.*)", self.path)
            if not found:
                return self._reply(404, {"message": "Not Found"})
            query = dict(p.split("=") for p in found.group(1).split("&"))
            page = int(query.get("page", "1"))
            items = api.comments[(page - 1) * PAGE : page * PAGE]
            link = None
            if page * PAGE < len(api.comments):
                pages = f"{api.url}/repos/acme/groups/issues/7/comments"
                link = (
                    f'<{pages}?per_page=100&page={page + 1}>; rel="next", '
                    f'<{pages}?per_page=100&page=9>; rel="last"'
                )
            self._reply(200, items, link)

        def do_POST(self) -> None:
            body = self._record()
            if self.headers.get("Authorization") == "Bearer read-only":
                return self._reply(403, {"message": "Resource not accessible by integration"})
            if self.path != "/repos/acme/groups/issues/7/comments" or body is None:
                return self._reply(404, {"message": "Not Found"})
            comment = {"id": 1000 + len(api.comments), "body": body["body"]}
            comment["html_url"] = f"https://github.example/acme/groups/pull/7#c{comment['id']}"
            api.comments.append(comment)
            self._reply(201, comment)

        def do_PATCH(self) -> None:
            body = self._record()
            found = re.fullmatch(r"/repos/acme/groups/issues/comments/(\d+)", self.path)
            match = [c for c in api.comments if found and c["id"] == int(found.group(1))]
            if not match or body is None:
                return self._reply(404, {"message": "Not Found"})
            match[0]["body"] = body["body"]
            self._reply(200, match[0])

    return Handler


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    api = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


# --- running the action --------------------------------------------------------------------


@dataclass
class Run:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: `name=value` or `name<<DELIM ... DELIM`."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            collected = []
            for value_line in lines:
                if value_line == delimiter:
                    break
                collected.append(value_line)
            else:
                raise AssertionError(f"no closing delimiter for {name}")
            values[name] = "\n".join(collected)
        elif line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def run_action(
    workspace: Path,
    tmp: Path,
    api: FakeGitHub,
    *,
    event_name: str,
    event: dict[str, Any],
    inputs: dict[str, str] | None = None,
) -> Run:
    """Every step of action.yml as the runner would run it, stopping at the first failure."""
    runner_temp = tmp / "runner-temp"
    venv_python = runner_temp / "pops-action" / "bin" / "python"
    if not venv_python.exists():
        venv_python.parent.mkdir(parents=True)
        venv_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        venv_python.chmod(0o755)
    files = tmp / "runner-files"
    files.mkdir(exist_ok=True)
    event_path, summary, output = files / "event.json", files / "summary.md", files / "output"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    for path in (summary, output):
        path.write_text("", encoding="utf-8")
    given = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    given["github-token"] = "test-token"
    given.update(inputs or {})
    values = {f"inputs.{name}": value for name, value in given.items()}
    values["steps.python.outputs.python-path"] = "/usr/bin/false"  # the install is skipped

    def substitute(text: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: values[m.group(1)], text)

    base_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(REPO),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": "acme/groups",
        "GITHUB_API_URL": api.url,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(runner_temp),
    }
    log, code, skipped = [], 0, []
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@")
            skipped.append(step["id"])
            continue
        script = substitute(step["run"])
        if "pip install" in script:
            assert '"$GITHUB_ACTION_PATH"' in script  # the action's own checkout, not editable
            skipped.append("install")
            continue
        env = {**base_env, **{k: substitute(str(v)) for k, v in step.get("env", {}).items()}}
        cwd = workspace / substitute(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log.append(done.stdout + done.stderr)
        code = done.returncode
        if code != 0:
            break
    assert skipped == ["python", "install"]
    step_outputs = parse_outputs(output.read_text(encoding="utf-8"))
    values.update({f"steps.pops.outputs.{k}": v for k, v in step_outputs.items()})
    outputs = {
        name: re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: values.get(m.group(1), ""), spec["value"])
        for name, spec in ACTION["outputs"].items()
    }
    return Run(code, "".join(log), outputs, summary.read_text(encoding="utf-8"))


def pull_request(base: str, head: str) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": 7,
        "pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}},
    }


def groups_repo(workspace: Path, folder: str = ".") -> Path:
    """A checkout with a base commit of two valid groups and their dist/; the groups folder."""
    root = workspace / folder
    (root / "groups").mkdir(parents=True)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "config", "user.email", "ci@example.com")
    git(workspace, "config", "user.name", "CI")
    (root / "groups" / "lakeside.yaml").write_text(LAKESIDE, encoding="utf-8")
    (root / "groups" / "sunrise.yaml").write_text(SUNRISE.format(color="#0d47a1"), encoding="utf-8")
    pops(root, "build")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "base")
    return root


def commit_change(workspace: Path, root: Path, color: str, *, rebuild: bool = True) -> str:
    (root / "groups" / "sunrise.yaml").write_text(SUNRISE.format(color=color), encoding="utf-8")
    if rebuild:
        pops(root, "build")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", f"sunrise: primary {color}")
    return git(workspace, "rev-parse", "HEAD")


# --- the tests -----------------------------------------------------------------------------


def test_pull_request_posts_the_plan_once_then_edits_it(tmp_path: Path, github: FakeGitHub) -> None:
    workspace = tmp_path / "ws"
    root = groups_repo(workspace)
    base = git(workspace, "rev-parse", "HEAD")
    others = [{"id": n, "body": f"review comment {n}"} for n in (1, 2, 3)]
    github.comments.extend(others)  # two pages before the plan's comment
    head = commit_change(workspace, root, "#0b5cad")

    first = run_action(
        workspace, tmp_path, github, event_name="pull_request", event=pull_request(base, head)
    )

    assert first.code == 0, first.log
    assert first.outputs["errors"] == "0"
    assert first.outputs["warnings"] == "0"
    assert first.outputs["stale-files"] == "0"
    assert first.outputs["changed-groups"] == "1"
    assert "### POPS groups: 1 changed against" in first.outputs["plan"]
    assert "`#0d47a1`" in first.outputs["plan"] and "`#0b5cad`" in first.outputs["plan"]
    assert first.outputs["plan"] in first.summary
    assert "Checks passed: 0 error(s), 0 warning(s), `dist/` up to date." in first.summary
    posts = [c for c in github.calls if c[0] == "POST"]
    assert len(posts) == 1 and not [c for c in github.calls if c[0] == "PATCH"]
    assert posts[0][1] == "/repos/acme/groups/issues/7/comments"
    assert posts[0][3] == "Bearer test-token"
    (ours,) = github.ours()
    assert ours["body"] == f"{MARKER}\n{first.summary}"
    assert "plan comment: https://github.example/acme/groups/pull/7#c1003" in first.log

    github.calls.clear()
    head = commit_change(workspace, root, "#2e7d32")
    second = run_action(
        workspace, tmp_path, github, event_name="pull_request", event=pull_request(base, head)
    )

    assert second.code == 0, second.log
    gets = [c[1] for c in github.calls if c[0] == "GET"]
    assert gets == [
        "/repos/acme/groups/issues/7/comments?per_page=100",
        "/repos/acme/groups/issues/7/comments?per_page=100&page=2",
    ]
    assert [c[:2] for c in github.calls if c[0] != "GET"] == [
        ("PATCH", "/repos/acme/groups/issues/comments/1003")
    ]
    assert github.comments[:3] == others
    (ours,) = github.ours()  # edited in place, not posted again
    assert "`#2e7d32`" in ours["body"] and "`#0b5cad`" not in ours["body"]
    assert ours["body"] == f"{MARKER}\n{second.summary}"


def test_stale_dist_is_annotated_and_fails_the_step(tmp_path: Path, github: FakeGitHub) -> None:
    workspace = tmp_path / "ws"
    root = groups_repo(workspace)
    commit_change(workspace, root, "#0b5cad", rebuild=False)  # dist/ not rebuilt

    run = run_action(
        workspace, tmp_path, github, event_name="push", event={"ref": "refs/heads/main"}
    )

    assert run.code == 1
    assert (
        "::error file=dist/groups/sunrise/config.json,line=1,col=1,title=output-stale::"
        "changed: dist/groups/sunrise/config.json differs from what the groups produce; "
        "run `pops build` and commit the result\n"
    ) in run.log
    stale = re.findall(r"^::error file=([^,]*),line=1,col=1,title=output-stale::", run.log, re.M)
    assert stale == [
        "dist/groups/sunrise/config.json",
        "dist/groups/sunrise/theme.css",
        "dist/manifest.json",
    ]
    assert run.outputs["stale-files"] == "3"
    assert run.outputs["changed-groups"] == "" and run.outputs["plan"] == ""
    assert "**`dist/` is stale:** 3 file(s) differ" in run.summary
    assert github.calls == []  # not a pull request: no comment


def test_groups_in_a_subfolder_are_annotated_from_the_repository_root(
    tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = tmp_path / "ws"
    root = groups_repo(workspace, "config")
    base = git(workspace, "rev-parse", "HEAD")
    (root / "groups" / "clinic.yaml").write_text("name: Clinic\npayments: {}\n", encoding="utf-8")
    (root / "groups" / "broken.yaml").write_text("name: Broken\ncolour: red\n", encoding="utf-8")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "two new groups")
    event = pull_request(base, git(workspace, "rev-parse", "HEAD"))

    run = run_action(
        workspace,
        tmp_path,
        github,
        event_name="pull_request",
        event=event,
        inputs={"working-directory": "config", "strict": "true"},
    )

    assert run.code == 1
    annotations = [line for line in run.log.splitlines() if line.startswith("::error ")]
    assert annotations, run.log
    assert all(line.startswith("::error file=config/groups/") for line in annotations), annotations
    places = [line.split("::")[1] for line in annotations]
    assert places == [
        "error file=config/groups/broken.yaml,line=1,col=1,title=payment-none",
        "error file=config/groups/broken.yaml,line=2,col=1,title=key-unknown",
        "error file=config/groups/clinic.yaml,line=2,col=11,title=payment-none",
    ]  # payment-none is a warning, made an error by strict
    assert run.outputs["errors"] == str(len(annotations))
    assert run.outputs["warnings"] == "0"
    assert run.outputs["stale-files"] == "" and run.outputs["changed-groups"] == ""
    assert "**POPS groups do not build:**" in run.summary
    (ours,) = github.ours()  # the comment says so too, instead of an old plan
    assert ours["body"] == f"{MARKER}\n{run.summary}"


def test_shallow_checkout_fetches_the_base_and_comment_false_writes_none(
    tmp_path: Path, github: FakeGitHub
) -> None:
    upstream = tmp_path / "upstream"
    root = groups_repo(upstream)
    base = git(upstream, "rev-parse", "HEAD")
    head = commit_change(upstream, root, "#0b5cad")
    workspace = tmp_path / "ws"  # as actions/checkout leaves it: the head commit only
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{upstream}", str(workspace))
    with pytest.raises(subprocess.CalledProcessError):
        git(workspace, "cat-file", "-e", f"{base}^{{commit}}")

    run = run_action(
        workspace,
        tmp_path,
        github,
        event_name="pull_request",
        event=pull_request(base, head),
        inputs={"comment": "false"},
    )

    assert run.code == 0, run.log
    assert f"fetching the pull request's base commit {base[:12]}" in run.log
    assert run.outputs["changed-groups"] == "1"
    assert f"### POPS groups: 1 changed against <code>{base}</code>" in run.summary
    assert github.calls == []


def test_a_read_only_token_warns_and_the_checks_still_count(
    tmp_path: Path, github: FakeGitHub
) -> None:
    workspace = tmp_path / "ws"
    root = groups_repo(workspace)
    base = git(workspace, "rev-parse", "HEAD")
    head = commit_change(workspace, root, "#0b5cad")

    run = run_action(
        workspace,
        tmp_path,
        github,
        event_name="pull_request",
        event=pull_request(base, head),
        inputs={"github-token": "read-only"},  # what a fork's pull request gets
    )

    assert run.code == 0, run.log
    assert "::warning::could not write the plan comment: HTTP Error 403: Forbidden\n" in run.log
    assert [c[0] for c in github.calls] == ["GET", "POST"]
    assert github.comments == []
    assert run.outputs["changed-groups"] == "1"
    assert "### POPS groups: 1 changed" in run.summary


def test_build_check_in_json_lists_stale_files_in_the_one_document(tmp_path: Path) -> None:
    root = groups_repo(tmp_path / "ws")
    (root / "dist" / "groups" / "lakeside" / "config.json").write_text("{}\n", encoding="utf-8")

    done = subprocess.run(
        [pops_executable(), "build", "--check", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "diagnostics": [
            {
                "file": "dist/groups/lakeside/config.json",
                "line": 1,
                "column": 1,
                "severity": "error",
                "code": "output-stale",
                "path": "",
                "message": "changed: dist/groups/lakeside/config.json differs from what the "
                "groups produce; run `pops build` and commit the result",
            }
        ],
        "errors": 1,
        "warnings": 0,
    }
    assert done.stderr.endswith(
        "dist/ is stale: 1 file(s) differ\nrun `pops build` and commit the result\n"
    )
