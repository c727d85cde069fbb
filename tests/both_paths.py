"""Run the same code on the pure-Python path and on the compiled one, each in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def run_on_both_paths(code: str, texts: list[str]) -> tuple[Any, Any]:
    """The JSON that ``code`` prints, given ``texts`` as JSON on stdin, with
    ``PAINCLF_PURE_PYTHON=1`` and then ``=0`` (the switch is read at import, hence a
    process each): ``(pure result, compiled result)``."""
    results = []
    for pure in ("1", "0"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PAINCLF_PURE_PYTHON": pure},
        )
        results.append(json.loads(done.stdout))
    return results[0], results[1]
