"""What pyproject.toml cannot say: the optional C extension, and templates/ in the package."""

import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

# The one copy of the templates stays at the top of the repository, where the editable
# install reads them (compiler/incremental/integrity.py: templates_folder); a built package has no
# repository beside it, so it carries a copy as compiler/templates/.
TEMPLATES = "templates"


class BuildPyWithTemplates(build_py):
    """build_py, then templates/ copied whole into the built package (not when editable)."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            target = self._templates_target()
            # Afresh, so a template deleted since an earlier build does not linger in it.
            shutil.rmtree(target, ignore_errors=True)
            self.copy_tree(TEMPLATES, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs: list[str] = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        target = self._templates_target()
        return outputs + [
            os.path.join(target, os.path.relpath(os.path.join(folder, name), TEMPLATES))
            for folder, _, names in os.walk(TEMPLATES)
            for name in names
        ]

    def _templates_target(self) -> str:
        return os.path.join(self.build_lib, "compiler", TEMPLATES)


setup(
    cmdclass={"build_py": BuildPyWithTemplates},
    # compiler/incremental/_stats.c: bulk stat for the seal. Optional: without a C compiler the
    # install goes on, and compiler/incremental/seal.py does the same in Python, only slower.
    ext_modules=[
        Extension("compiler.incremental._stats", ["compiler/incremental/_stats.c"], optional=True)
    ],
)
