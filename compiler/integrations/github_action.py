"""The script behind the repository's GitHub Action (action.yml): one run per job.

It validates (annotations on the changed lines), runs `build --check` (stale
`dist/` files annotated), and on a pull request writes the markdown plan of
`pops diff` against the PR's base commit to the job summary and to one PR
comment, found again on every push by a hidden marker and edited in place.
Counts go to the step's outputs. Everything GitHub provides comes in through
its environment variables, and HTTP is plain urllib, so tests can run the
script with a fake event file and a local server standing in for the API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "<!-- pops-plan -->"
FULL_REPORT_NOTE = (
    "The full per-group report is in this run's job summary, and in the file the "
    "action's `report-file` output names."
)
REPORT_FILE = "pops-diff.md"
SUMMARY_BYTES = 1_000_000  # GitHub shows at most 1 MiB of one step's job summary
STALE_TITLE = "title=output-stale"  # pipeline.STALE_CODE, as the github format writes it
PR_EVENTS = ("pull_request", "pull_request_target")
TRUE = ("true", "yes", "1", "on")


class ActionError(Exception):
    """A problem with the workflow's setup (not with the groups): one line for the log."""


@dataclass(slots=True)
class Inputs:
    env: str | None
    strict: bool
    comment: bool
    groups: str

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Inputs:
        def flag(name: str, default: str) -> bool:
            return environ.get(name, default).strip().lower() in TRUE

        return cls(
            env=environ.get("INPUT_ENV", "").strip() or None,
            strict=flag("INPUT_STRICT", "false"),
            comment=flag("INPUT_COMMENT", "true"),
            groups=environ.get("INPUT_GROUPS", "").strip() or "groups",
        )


@dataclass(slots=True)
class Result:
    errors: int = 0
    warnings: int = 0
    stale: int | None = None  # None: not checked (the groups have errors)
    changed: int | None = None  # None: no plan (not a pull request, or nothing to compare)
    plan: str = ""  # the comment: summarised by setting when the change is large
    full: str = ""  # every group in detail: the job summary and the report file
    failed: bool = False
    notes: list[str] = field(default_factory=list)


def pops(*args: str) -> subprocess.CompletedProcess[str]:
    """The pops installed beside this interpreter, output captured (stderr passed through)."""
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        check=False,
    )


def common_options(inputs: Inputs) -> list[str]:
    options = ["--groups", inputs.groups, "--format", "github"]
    if inputs.strict:
        options.append("--strict")
    if inputs.env is not None:
        options += ["--env", inputs.env]
    return options


def echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def check(inputs: Inputs, result: Result) -> None:
    """`pops validate` then `pops build --check`, their annotations in the log once each."""
    echo("::group::pops validate\n")
    done = pops("validate", *common_options(inputs))
    echo(done.stdout)
    echo("::endgroup::\n")
    lines = done.stdout.splitlines()
    result.errors = sum(line.startswith("::error ") for line in lines)
    result.warnings = sum(line.startswith("::warning ") for line in lines)
    if done.returncode not in (0, 1):
        raise ActionError(f"pops validate stopped with exit code {done.returncode}")
    if done.returncode != 0:
        result.failed = True
        return
    echo("::group::pops build --check\n")
    built = pops("build", "--check", *common_options(inputs))
    seen = set(lines)  # build --check repeats the warnings validate already annotated
    echo("".join(line + "\n" for line in built.stdout.splitlines() if line not in seen))
    echo("::endgroup::\n")
    if built.returncode not in (0, 1):
        raise ActionError(f"pops build --check stopped with exit code {built.returncode}")
    result.stale = sum(STALE_TITLE in line for line in built.stdout.splitlines())
    if built.returncode != 0:
        result.failed = True


def plan(inputs: Inputs, base_sha: str, result: Result) -> None:
    """The markdown plan of what the pull request changes, against its base commit."""
    from compiler.review.diff_report import format_markdown
    from compiler.review.gitrefs import GitError, resolve_base
    from compiler.review.plan import plan_diff

    groups = Path(inputs.groups)
    have = ["git", "cat-file", "-e", f"{base_sha}^{{commit}}"]
    if subprocess.run(have, capture_output=True, check=False).returncode != 0:
        # actions/checkout fetches one commit by default: fetch the base too.
        echo(f"fetching the pull request's base commit {base_sha[:12]}\n")
        fetch = ["git", "fetch", "--quiet", "--no-tags", "--depth=1", "origin", base_sha]
        subprocess.run(fetch, stdout=sys.stderr, check=False)
    try:
        base = resolve_base(base_sha, Path.cwd())
        planned = plan_diff(base, groups, Path.cwd(), env=inputs.env)
    except GitError as exc:
        raise ActionError(
            f"cannot compare with the pull request's base commit {base_sha[:12]}: {exc} "
            "(check out with `fetch-depth: 0`)"
        ) from exc
    report = planned.report
    if report is None:  # (validate and build --check said so already)
        raise ActionError("the working tree does not build: no plan")
    result.plan = format_markdown(report, full_report=FULL_REPORT_NOTE)
    result.full = format_markdown(report, limit=sys.maxsize)
    result.changed = len(report.groups)


def write_report(environ: dict[str, str], full: str) -> str:
    """The full report, as a file a later step can upload; its path ("" without a plan)."""
    if not full:
        return ""
    runner_temp = environ.get("RUNNER_TEMP")  # (the job's own, emptied after it)
    folder = Path(runner_temp) if runner_temp else Path(tempfile.mkdtemp(prefix="pops-diff-"))
    path = folder / REPORT_FILE
    path.write_text(full, encoding="utf-8")
    return str(path)


def summary_text(result: Result) -> str:
    """The job summary: every group in detail, unless that passes GitHub's 1 MiB."""
    if not result.full:
        return ""
    if len(result.full.encode()) <= SUMMARY_BYTES:
        return result.full + "\n"
    return result.plan + "\n"


def status(result: Result) -> str:
    """One markdown paragraph on the checks, for the summary and the comment."""
    problems = f"{result.errors} error(s), {result.warnings} warning(s)"
    if result.stale is None:
        return (
            f"**POPS groups do not build:** {problems}. No plan until they do: see the "
            "annotations on the changed files.\n"
        )
    if result.stale:
        return (
            f"**`dist/` is stale:** {result.stale} file(s) differ from what the groups "
            f"produce ({problems}). Run `pops build` and commit the result.\n"
        )
    return f"Checks passed: {problems}, `dist/` up to date.\n"


# --- GitHub's files and API ----------------------------------------------------------------


def write_outputs(path: str, values: dict[str, str]) -> None:
    """Append `name<<DELIMITER` blocks to $GITHUB_OUTPUT, safe for any value."""
    with open(path, "a", encoding="utf-8") as out:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(text)


def _next_link(header: str | None) -> str | None:
    """The rel="next" URL of a Link header (GitHub's pagination)."""
    for part in (header or "").split(","):
        found = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if found and re.search(r'\brel="?next"?', found.group(2)):
            return found.group(1)
    return None


class Comments:
    """The issue-comments API of one pull request, as much of it as the plan needs."""

    def __init__(self, api: str, repository: str, number: int, token: str) -> None:
        self.api = api.rstrip("/")
        self.repository = repository
        self.number = number
        self.token = token

    def _request(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read() or b"null")
            return payload, response.headers.get("Link")

    def find(self) -> int | None:
        """The id of the comment holding the marker, across every page."""
        url: str | None = (
            f"{self.api}/repos/{self.repository}/issues/{self.number}/comments?per_page=100"
        )
        while url is not None:
            page, link = self._request("GET", url)
            for comment in page:
                if MARKER in (comment.get("body") or ""):
                    return int(comment["id"])
            url = _next_link(link)
        return None

    def upsert(self, body: str) -> str:
        """Edit the plan's comment, or post it the first time; its URL."""
        found = self.find()
        if found is None:
            url = f"{self.api}/repos/{self.repository}/issues/{self.number}/comments"
            comment, _ = self._request("POST", url, {"body": body})
        else:
            url = f"{self.api}/repos/{self.repository}/issues/comments/{found}"
            comment, _ = self._request("PATCH", url, {"body": body})
        return str(comment.get("html_url", ""))


# --- the run -------------------------------------------------------------------------------


def _event(environ: dict[str, str]) -> dict[str, Any]:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as file:
            event = json.load(file)
    except (OSError, ValueError) as exc:
        raise ActionError(f"cannot read the event file {path}: {exc}") from exc
    return event if isinstance(event, dict) else {}


def main(environ: dict[str, str] | None = None) -> int:
    """The action's step: exit 1 when the groups have errors or `dist/` is stale."""
    environ = dict(os.environ if environ is None else environ)
    inputs = Inputs.from_environ(environ)
    result = Result()
    try:
        event = _event(environ)
        pull = event.get("pull_request") if environ.get("GITHUB_EVENT_NAME") in PR_EVENTS else None
        check(inputs, result)
        if isinstance(pull, dict) and result.stale is not None:
            plan(inputs, str(pull["base"]["sha"]), result)
    except ActionError as exc:
        echo(f"::error::{exc}\n")
        return 1
    text = result.plan + ("\n" if result.plan else "") + status(result)
    report_file = write_report(environ, result.full)
    if environ.get("GITHUB_STEP_SUMMARY"):
        append(environ["GITHUB_STEP_SUMMARY"], summary_text(result) + status(result))
    if isinstance(pull, dict) and inputs.comment:
        comments = Comments(
            environ.get("GITHUB_API_URL", "https://api.github.com"),
            environ.get("GITHUB_REPOSITORY", ""),
            int(pull["number"]),
            environ.get("GITHUB_TOKEN", ""),
        )
        try:
            url = comments.upsert(MARKER + "\n" + text)
            echo(f"plan comment: {url}\n")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # A fork's pull request gets a read-only token: the checks still count.
            echo(f"::warning::could not write the plan comment: {exc}\n")
    if environ.get("GITHUB_OUTPUT"):
        write_outputs(
            environ["GITHUB_OUTPUT"],
            {
                "errors": str(result.errors),
                "warnings": str(result.warnings),
                "stale-files": "" if result.stale is None else str(result.stale),
                "changed-groups": "" if result.changed is None else str(result.changed),
                "plan": result.plan,
                "report-file": report_file,
            },
        )
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
