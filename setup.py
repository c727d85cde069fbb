"""Build the optional compiled analysis (``classifier._fast``); metadata is in pyproject.toml.

When Cython or a C compiler is missing, or the build fails, painclf installs without it and
``classifier.fastpath`` runs the pure-Python analysis instead (with a warning); both give the
same results.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing: the extension is a speed-up only."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any build failure falls back
            self._skip(error)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as error:
            self._skip(error)

    @staticmethod
    def _skip(error: BaseException) -> None:
        print(
            f"WARNING: painclf's compiled analysis was not built ({error}); "
            "the pure-Python analysis will be used",
            file=sys.stderr,
        )


def extensions() -> list:
    if os.environ.get("PAINCLF_NO_EXTENSION"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print(
            "WARNING: Cython is missing: painclf installs without its compiled analysis",
            file=sys.stderr,
        )
        return []
    return cythonize(
        [
            "classifier/_fast.pyx",
            "classifier/_tok.pyx",
            "classifier/_post.pyx",
            "classifier/_dur.pyx",
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
