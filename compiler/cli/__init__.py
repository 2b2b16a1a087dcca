"""The `pops` command line. Thin: parse options, call one function, set the exit code.

Exit codes: 0 ok, 1 the input is invalid or a check failed, 2 usage error.
"""

from __future__ import annotations

import click

from compiler import __version__
from compiler.cli import authoring, core, layers, publish, review

# Each command module exposes COMMANDS; add a module here to add its commands.
COMMAND_MODULES = [core, review, layers, authoring, publish]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pops")
def main() -> None:
    """Validate POPS Group files and compile them into the artifacts the portal reads."""


for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        main.add_command(_command)
