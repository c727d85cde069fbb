"""The default model shipped inside the package: find it, and build it from the training data.

``python -m classifier.ship`` trains the default model from ``DEFAULT_TRAINING_DATA`` (the
same run as ``painclf train`` without ``--data``) and writes it to
``classifier/resources/model/``; ``python -m classifier.ship --check`` trains again and
fails when the result is not byte for byte the shipped file. Training is deterministic, so
the shipped model is a derived file that anyone can reproduce from the repository.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.config import (
    DEFAULT_TRAINING_DATA,
    MANIFEST_FILE_NAME,
    MODEL_CARD_NAME,
    MODEL_FILE_NAME,
    PROJECT_ROOT,
    SHIPPED_MODEL_DIR,
    SHIPPED_MODEL_NAME,
)

if TYPE_CHECKING:
    from classifier.registry import ModelRef

# Copied from the trained version next to the manifest (the card shows the diagram).
COPIED_FILES = (MODEL_FILE_NAME, MODEL_CARD_NAME, "reliability.png")


def shipped_ref(directory: Path = SHIPPED_MODEL_DIR) -> ModelRef | None:
    """The shipped default model, or None when this installation has none."""
    from classifier.registry import ModelRef, read_manifest

    if not (directory / MANIFEST_FILE_NAME).is_file():
        return None
    return ModelRef(directory, read_manifest(directory))


def _relative(path: str) -> str:
    """A training file's path relative to the project, so the manifest names no home dir."""
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path


def shipped_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The registry manifest of a freshly trained model, made fit to ship.

    The version names the model file's hash instead of the training time, and training
    files are named relative to the project.
    """
    shipped = dict(manifest)
    shipped["version"] = f"{SHIPPED_MODEL_NAME}-{manifest['model_sha256'][:12]}"
    shipped["training_data"] = [
        {**source, "path": _relative(source["path"])} for source in manifest["training_data"]
    ]
    return shipped


def train_default(root: Path, quiet: bool = True) -> ModelRef:
    """Train the default model into the registry ``root``, as ``painclf train`` does."""
    from classifier.train import train

    return train(data=list(DEFAULT_TRAINING_DATA), root=root, quiet=quiet).ref


def write_shipped(trained: ModelRef, target: Path = SHIPPED_MODEL_DIR) -> ModelRef:
    """Copy a trained registry version to ``target`` as the shipped model."""
    from classifier.atomic import atomic_write_text

    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED_FILES:
        staging = target / f".{name}.tmp"
        shutil.copyfile(trained.path / name, staging)
        staging.replace(target / name)
    manifest = shipped_manifest(trained.manifest)
    atomic_write_text(
        target / MANIFEST_FILE_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )
    shipped = shipped_ref(target)
    assert shipped is not None
    return shipped


def build(target: Path = SHIPPED_MODEL_DIR, quiet: bool = True) -> ModelRef:
    """Train the default model and write it to ``target`` (replacing what is there)."""
    with tempfile.TemporaryDirectory(prefix="painclf-ship-") as scratch:
        return write_shipped(train_default(Path(scratch), quiet=quiet), target)


def same_model(trained: ModelRef, shipped: ModelRef) -> bool:
    """True when ``trained`` has byte for byte the shipped model file."""
    return (trained.path / MODEL_FILE_NAME).read_bytes() == (
        shipped.path / MODEL_FILE_NAME
    ).read_bytes()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classifier.ship",
        description="Build the default model shipped in classifier/resources/model/ from "
        "the default training data ("
        + ", ".join(_relative(str(p)) for p in DEFAULT_TRAINING_DATA)
        + ").",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="Train again and fail unless the result is byte for byte the shipped model.",
    )
    args = parser.parse_args(argv)
    if args.check:
        shipped = shipped_ref()
        if shipped is None:
            print(f"no shipped model in {SHIPPED_MODEL_DIR}", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory(prefix="painclf-ship-") as scratch:
            trained = train_default(Path(scratch), quiet=False)
            if not same_model(trained, shipped):
                print(
                    f"the shipped model {shipped.version} is not what the default training "
                    "data gives: rebuild it with `python -m classifier.ship`",
                    file=sys.stderr,
                )
                return 1
        print(f"the shipped model {shipped.version} is reproduced byte for byte", file=sys.stderr)
        return 0
    ref = build(quiet=False)
    print(f"shipped model {ref.version} written to {ref.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
