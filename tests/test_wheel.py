"""Issue 11: install and run anywhere.

The package built from this repository (sdist, then the wheel built from that sdist, as
`python -m build` and `pip install` of an sdist do) carries everything `pops` needs at
run time, and the `pops` installed from it into a fresh virtual environment works in a
folder outside the checkout that only holds a copy of `groups/`. The same files come out
of `pip wheel .` (what `pip install .` builds), and the editable install of development
keeps reading the top-level `templates/`, the only copy in the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from compiler.incremental.integrity import compiler_roots, templates_folder
from compiler.render import templates_dir

REPO = Path(__file__).resolve().parent.parent

# The interpreter's and the dev venv's settings must not leak into the fresh install.
ENV = {
    name: value
    for name, value in os.environ.items()
    if name not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
}


@dataclass(frozen=True)
class Installed:
    sdist: Path
    wheel: Path
    venv: Path

    @property
    def pops(self) -> str:
        return str(self.venv / "bin" / "pops")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=ENV, timeout=600)


def ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def repo_files(folder: str) -> set[str]:
    """The files below REPO/folder, relative to it, as posix paths."""
    root = REPO / folder
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def copy_of_checkout(to: Path) -> Path:
    """The checkout's tracked and new files, as a fresh clone of this work has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        if (REPO / rel).is_file():
            (to / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, to / rel)
    return to


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """sdist and wheel built from the repository, the wheel installed in a fresh venv."""
    out = tmp_path_factory.mktemp("packages")
    ok(sys.executable, "-m", "build", "--outdir", str(out), str(REPO), cwd=out)
    (sdist,) = out.glob("pops_groups-*.tar.gz")
    (wheel,) = out.glob("pops_groups-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    # Without a pip of its own (seconds saved): this pip installs into it.
    ok(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=venv)
    python = str(venv / "bin" / "python")
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python)
    ok(*pip, "install", "--quiet", str(wheel), cwd=venv)
    return Installed(sdist, wheel, venv)


@pytest.mark.slow
def test_wheel_carries_the_package_and_templates_and_nothing_of_the_repository(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    templates = {f"compiler/templates/{rel}" for rel in repo_files("templates")}
    assert templates and templates <= names
    assert "compiler/templates/preview/preview.css" in names
    sources = {f"compiler/{rel}" for rel in repo_files("compiler") if rel.endswith((".py", ".pyi"))}
    assert sources <= names
    assert {"compiler/py.typed", "compiler/cli/__init__.py"} <= names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"compiler", "pops_groups-0.1.0.dist-info"}
    # Nothing of the repository but the package: no tests, groups, dist, schema, C source.
    parts = {part for name in names for part in name.split("/")}
    assert not {"tests", "conftest.py", "__pycache__", "groups", "dist", "_stats.c"} & parts
    assert not [part for part in parts if part.startswith("test_")]
    # Only what setup.py copies (templates/) is new beside the Python package.
    shipped = {n for n in names if n.startswith("compiler/") and not n.endswith(".so")}
    assert shipped == sources | templates | {"compiler/py.typed"}


@pytest.mark.slow
def test_sdist_holds_what_building_the_wheel_needs(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = {"pyproject.toml", "setup.py", "README.md", "compiler/incremental/_stats.c"}
    assert needed | {f"templates/{rel}" for rel in repo_files("templates")} <= names
    assert not [n for n in names if n.startswith(("tests/", "groups/", "dist/", "bench/"))]
    assert not [n for n in names if n.endswith((".so", ".pyc"))]


@pytest.mark.slow
def test_pip_install_dot_builds_the_same_wheel(installed: Installed, tmp_path: Path) -> None:
    """`pip install .` builds in the source folder, not from an sdist: from a clean copy of
    the checkout (its tracked and new files, as a fresh clone has) it makes the same files."""
    source = copy_of_checkout(tmp_path / "checkout")
    out = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    ok(*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source), cwd=tmp_path)
    (wheel,) = out.glob("pops_groups-*.whl")
    assert wheel.name == installed.wheel.name
    assert set(zipfile.ZipFile(wheel).namelist()) == set(
        zipfile.ZipFile(installed.wheel).namelist()
    )


@pytest.mark.slow
def test_installed_pops_works_in_a_groups_repository_outside_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    work = tmp_path / "practice-groups"
    shutil.copytree(REPO / "groups", work / "groups")
    assert not work.resolve().is_relative_to(REPO)

    # The installed package runs from the venv, templates included: not from this checkout.
    where = ok(
        installed.python,
        "-c",
        "import compiler.incremental.integrity as i; print(i.__file__); "
        "print(i.templates_folder())",
        cwd=work,
    ).stdout.split()
    site = installed.venv.resolve()
    assert all(Path(path).resolve().is_relative_to(site) for path in where), where

    pops = installed.pops
    assert ok(pops, "validate", "--strict", cwd=work).stdout == "no problems found\n"
    assert ok(pops, "build", cwd=work).stderr.startswith("built 4 groups, ")
    assert (work / "dist" / "manifest.json").is_file()
    # Same groups, same bytes: the wheel's build is the committed dist/ of this repository.
    assert tree(work / "dist") == tree(REPO / "dist")
    assert ok(pops, "build", "--check", cwd=work).stderr == "dist/ is up to date (4 groups)\n"

    git = ("git", "-c", "user.email=admin@example.com", "-c", "user.name=Admin")
    ok(*git, "init", "-q", "-b", "main", cwd=work)
    ok(*git, "add", "groups", "dist", cwd=work)
    ok(*git, "commit", "-q", "-m", "Groups", cwd=work)
    group = work / "groups" / "sunrise-pediatrics.yaml"
    text = group.read_text(encoding="utf-8")
    assert 'primary: "#1565c0"' in text
    group.write_text(text.replace('primary: "#1565c0"', 'primary: "#0b5cad"'), encoding="utf-8")

    plan = ok(pops, "diff", "--base", "main", cwd=work).stdout
    assert "1 changed against main" in plan
    assert "Theme › Primary Colors: #1565c0 → #0b5cad" in plan

    shown = ok(pops, "preview", "--base", "main", "--out", "preview", cwd=work)
    assert "open preview/index.html" in shown.stderr
    preview = work / "preview"
    assert (preview / "index.html").read_text(encoding="utf-8").startswith("<!")
    assert (preview / "sunrise-pediatrics" / "compare.html").is_file()
    css = REPO / "templates" / "preview" / "preview.css"
    assert (preview / "preview.css").read_bytes() == css.read_bytes()

    target = tmp_path / "portal"
    published = ok(pops, "publish", "--target", target.as_uri(), cwd=work)
    assert "groups: 4 added" in published.stdout
    live = target / "current" / "groups" / "sunrise-pediatrics"
    assert b"#0b5cad" in (live / "theme.css").read_bytes()
    assert (live / "theme.css").read_bytes() == (
        work / "dist" / "groups" / "sunrise-pediatrics" / "theme.css"
    ).read_bytes()


@pytest.mark.slow
def test_documented_review_workflow_runs_as_written_with_the_installed_pops(
    installed: Installed, tmp_path: Path
) -> None:
    """The GitHub Actions workflow of docs/reviewing.md, its `run:` steps in order, in a
    checkout with a pull-request branch, with `pops` from the wheel (what its
    `pip install .` builds)."""
    page = (REPO / "docs" / "reviewing.md").read_text(encoding="utf-8")
    start = page.index("```yaml\n# .github/workflows/groups.yml\n") + len("```yaml\n")
    workflow = yaml.safe_load(page[start : page.index("```", start)])
    job = workflow["jobs"]["review"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[0] == "pip install ."  # not editable: the wheel's files are what CI runs
    assert job["env"]["BASE"] == "origin/${{ github.base_ref }}"

    checkout = copy_of_checkout(tmp_path / "checkout")
    git = ("git", "-c", "user.email=admin@example.com", "-c", "user.name=Admin")
    ok(*git, "init", "-q", "-b", "main", cwd=checkout)
    ok(*git, "add", "-A", cwd=checkout)
    ok(*git, "commit", "-q", "-m", "main", cwd=checkout)
    ok(*git, "update-ref", "refs/remotes/origin/main", "main", cwd=checkout)  # as CI fetches
    ok(*git, "checkout", "-q", "-b", "darker-blue", cwd=checkout)
    group = checkout / "groups" / "sunrise-pediatrics.yaml"
    text = group.read_text(encoding="utf-8").replace("#1565c0", "#0b5cad")
    group.write_text(text, encoding="utf-8")
    ok(installed.pops, "build", cwd=checkout)
    ok(*git, "commit", "-q", "-am", "Sunrise: darker blue", cwd=checkout)

    path = f"{installed.venv / 'bin'}{os.pathsep}{ENV['PATH']}"
    for script in runs[1:]:
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=checkout,
            capture_output=True,
            text=True,
            env={**ENV, "PATH": path, "BASE": "origin/main"},
            timeout=600,
        )
        assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    plan = (checkout / "pops-diff.md").read_text(encoding="utf-8")
    assert "Primary" in plan and "#0b5cad" in plan
    assert (checkout / "preview" / "sunrise-pediatrics" / "compare.html").is_file()


def test_editable_install_reads_the_top_level_templates() -> None:
    """Development runs the checkout: templates/ at the top is the one copy, and it is part
    of the compiler's fingerprint (cache keys change when a template does)."""
    assert Path(templates_folder()) == REPO / "templates" == templates_dir()
    assert not (REPO / "compiler" / "templates").exists()
    assert compiler_roots() == (str(REPO / "compiler"), str(REPO / "templates"))
    # Still one plain path in a .pth file (no import hook to pay for at every start).
    site = Path(sysconfig.get_paths()["purelib"])
    (pth,) = site.glob("__editable__.pops_groups-*.pth")
    assert Path(pth.read_text(encoding="utf-8").strip()).resolve() == REPO
