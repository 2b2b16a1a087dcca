"""Only the optional C extension lives here; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    # compiler/_stats.c: bulk stat for the seal. Optional: without a C compiler the
    # install goes on, and compiler/seal.py does the same in Python, only slower.
    ext_modules=[Extension("compiler._stats", ["compiler/_stats.c"], optional=True)],
)
