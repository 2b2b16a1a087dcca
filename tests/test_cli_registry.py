"""The lazy command table names every command of every command module, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil

import compiler.cli
from compiler.cli.app import COMMAND_MODULES as COMMANDS
from compiler.cli.app import main


def test_every_command_is_registered_under_its_module() -> None:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(compiler.cli.__path__):
        module = importlib.import_module(f"compiler.cli.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            found[command.name] = info.name
    assert found == COMMANDS


def test_help_lists_every_command() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
