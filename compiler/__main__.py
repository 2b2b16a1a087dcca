"""`python -m compiler` runs the same CLI as the `pops` script."""

from compiler.cli import run

if __name__ == "__main__":
    run()
