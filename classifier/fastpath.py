"""Whether the analysis runs its compiled hot path (``classifier._fast``) or pure Python.

The compiled module is built by ``pip install -e .`` when Cython and a C compiler are there.
Both paths give the same cues, scopes, durations, flags and evidence (the tests run both);
``PAINCLF_PURE_PYTHON=1`` forces the pure-Python path, e.g. to compare them.
"""

from __future__ import annotations

import importlib
import os
import warnings
from functools import cache
from types import ModuleType

PURE_PYTHON_ENV = "PAINCLF_PURE_PYTHON"


def pure_python_forced() -> bool:
    """Whether ``PAINCLF_PURE_PYTHON`` asks for the pure-Python path."""
    return os.environ.get(PURE_PYTHON_ENV, "").strip() not in ("", "0")


def optional_extension(name: str, missing: str, stacklevel: int = 3) -> ModuleType | None:
    """Import the compiled module ``name``, or warn with ``missing`` and return None.

    ``missing`` says what runs instead; the import error is put in front of it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        warnings.warn(
            f"painclf's {missing.format(error=error)}", RuntimeWarning, stacklevel=stacklevel
        )
        return None


@cache
def compiled() -> ModuleType | None:
    """The compiled module, or None for the pure-Python path (read once per process).

    Warns when the module was not built: the analysis is then several times slower.
    """
    if pure_python_forced():
        return None
    return optional_extension(
        "classifier._fast",
        "compiled analysis is not available ({error}); using the slower pure-Python "
        "analysis (same results). Reinstall with a C compiler (`pip install -e .`) to build it.",
    )


@cache
def compiled_tokens() -> ModuleType | None:
    """The compiled tokenizer and phrase matcher (``classifier._tok``), or None.

    None on the pure-Python path and when the module was not built (with a warning, as
    for ``compiled``); the analysis then tokenizes with spaCy and matches with its
    ``PhraseMatcher``, with the same results.
    """
    if compiled() is None:
        return None
    return optional_extension(
        "classifier._tok",
        "compiled tokenizer is not available ({error}); spaCy's tokenizer is used instead "
        "(same results). Reinstall with a C compiler (`pip install -e .`).",
    )
