"""Import spaCy without its command line: predicting needs its tokenizer, not its CLI.

``import spacy`` runs ``from .cli.info import info``, and ``spacy.cli`` imports every
spaCy command, with typer, weasel, requests and their dependencies: about 0.4 s of a
cold start and a dozen packages that classifying a text never uses. While spaCy is
first imported here, ``spacy.cli`` is a stand-in whose ``info`` imports the real one
when called; the stand-in is removed right after, so a later ``import spacy.cli``
(``painclf`` commands, spaCy's own tools) imports the real command line as usual.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_STANDINS = ("spacy.cli.info", "spacy.cli")


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``: imports spaCy's command line on first use, then runs it."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def import_spacy_without_cli() -> None:
    """Import spaCy, leaving its command line unimported; a no-op when spaCy is imported.

    If a spaCy version needs ``spacy.cli`` while it is imported, the attempt is undone
    and spaCy is imported as usual: this only ever saves time, never changes spaCy.
    """
    if "spacy" in sys.modules or any(name in sys.modules for name in _STANDINS):
        return
    cli = types.ModuleType("spacy.cli", "stand-in for spaCy's command line during import")
    cli.__path__ = []  # a package, so that ``spacy.cli.info`` can be looked up
    info = types.ModuleType("spacy.cli.info")
    info.info = _info  # type: ignore[attr-defined]
    cli.info = info  # type: ignore[attr-defined]
    before = set(sys.modules)
    sys.modules["spacy.cli"], sys.modules["spacy.cli.info"] = cli, info
    try:
        import spacy
    except Exception:
        # Undo the partial import, then import spaCy the ordinary way.
        _drop(cli, info)
        for name in set(sys.modules) - before:
            if name == "spacy" or name.startswith("spacy."):
                del sys.modules[name]
        import spacy
    _drop(cli, info)
    if spacy.__dict__.get("cli") is cli:
        del spacy.cli


def _drop(*standins: types.ModuleType) -> None:
    for name in _STANDINS:
        if sys.modules.get(name) in standins:
            del sys.modules[name]
