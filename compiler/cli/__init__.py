"""The `pops` command line. Thin: parse options, call one function, set the exit code.

Exit codes: 0 ok, 1 the input is invalid or a check failed, 2 usage error.

Command modules are imported only when their command runs, so `pops build`
does not pay for the preview, publish or editing machinery at start-up.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from compiler import __version__

# Command name -> module under compiler.cli exposing it in its COMMANDS list.
# tests/test_cli_registry.py checks this table against the modules.
COMMANDS: dict[str, str] = {
    "validate": "core",
    "build": "core",
    "explain": "layers",
    "diff": "review",
    "preview": "review",
    "schema": "authoring",
    "new": "authoring",
    "set": "authoring",
    "fmt": "authoring",
    "publish": "publish",
    "releases": "publish",
    "rollback": "publish",
    "status": "publish",
    "prune": "publish",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"compiler.cli.{module_name}")
        for command in module.COMMANDS:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        raise LookupError(f"compiler.cli.{module_name} has no command {cmd_name}")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pops")
def main() -> None:
    """Validate POPS Group files and compile them into the artifacts the portal reads."""


def run() -> None:
    """The `pops` executable: the CLI, then a fast exit.

    A build leaves a large heap (results, caches) that the interpreter would
    free object by object on the way out, tens of milliseconds for nothing:
    once the output is flushed, the process just ends with the CLI's exit code.
    Anything unexpected still propagates with its traceback.
    """
    try:
        main()
        code: int = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
