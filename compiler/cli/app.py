"""The `pops` click application: a group that imports each command's module on demand."""

from __future__ import annotations

import importlib

import click

from compiler import __version__

# Command name -> module under compiler.cli exposing it in its COMMANDS list.
# (Here, not in compiler/cli/__init__.py, so the package face imports nothing back.)
# tests/test_cli_registry.py checks this table against the modules.
COMMAND_MODULES: dict[str, str] = {
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
    "owners": "owners",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
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
