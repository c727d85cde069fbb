"""The model registry on disk: versioned model directories, manifests, ``CURRENT`` and safe loading.

Layout::

    models/
      CURRENT                 the version that predict and label use by default
      registry.log            promotions, one line each
      v20261125-194301/
        model.skops           the fitted pipeline (skops: loading runs no code)
        manifest.json         versions, data hashes, metrics, needs-review threshold
        MODEL_CARD.md

A model file is loaded only when its SHA-256 matches its manifest and every type
it holds is on the reviewed ``TRUSTED_TYPES`` list. The registry trusts none of its
own files further than it must: a version name (in ``CURRENT``, on the command line)
must match ``VERSION_NAME`` and resolve to a directory inside the registry, and a
manifest's ``model_file`` must name a file inside its version directory.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import platform
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from classifier.atomic import atomic_write_text
from classifier.config import (
    CURRENT_FILE_NAME,
    MANIFEST_FILE_NAME,
    MANIFEST_SCHEMA_VERSION,
    MODEL_FILE_NAME,
    MODELS_DIR,
    REGISTRY_LOG_NAME,
)

# Every type a painclf model file holds beyond the ones skops trusts by default,
# exactly as ``skops.io.get_untrusted_types`` lists them for a trained model (a test
# fails when a model holds a type that is not here, or this list a type no model
# holds). Reviewed by hand: skops refuses anything else, so a tampered or foreign
# file cannot make loading run code.
TRUSTED_TYPES = [
    "classifier.features.CueFeaturizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.model_selection._split.StratifiedKFold",
]
PACKAGES = ("painclf", "scikit-learn", "spacy", "skops", "numpy", "scipy", "pandas")


# A version is one path component: letters, digits, "_", "-" and "."; no separator and
# no leading dot, so a name can never point outside the registry. New versions are
# named vYYYYMMDD-HHMMSS[-N].
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_RESERVED_SUFFIX = ".reserved"


class ModelError(RuntimeError):
    """A model cannot be found or must not be loaded; the message says why and what to do."""


def package_version(name: str = "painclf") -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def environment() -> dict[str, str]:
    """Versions of Python and the packages a model depends on."""
    return {"python": platform.python_version(), **{p: package_version(p) for p in PACKAGES}}


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A resolved model: its directory and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", self.path.name))


def models_dir(root: Path | None = None) -> Path:
    return Path(root) if root is not None else MODELS_DIR


def current_version(root: Path | None = None) -> str | None:
    """The version named in ``models/CURRENT``, or None when there is none."""
    current = models_dir(root) / CURRENT_FILE_NAME
    if not current.is_file():
        return None
    try:
        name = current.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"cannot read {current}: {error}") from None
    return name or None


def check_version_name(name: str, where: str = "a version name") -> str:
    """``name`` if it is a valid version name (see ``VERSION_NAME``), else ``ModelError``.

    Examples
    --------
    >>> check_version_name("v20261201-112035")
    'v20261201-112035'
    >>> check_version_name("../../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    classifier.registry.ModelError: '../../x' is not a valid version name: ...
    """
    if not VERSION_NAME.fullmatch(name):
        raise ModelError(
            f"{name!r} is not a valid {where.removeprefix('a ')}: a version is one name of "
            "letters, digits, '_', '-' and '.' (such as v20261201-112035), never a path"
        )
    return name


def version_path(version: str, root: Path | None = None) -> Path:
    """The directory of ``version`` in the registry, checked to lie inside it."""
    base = models_dir(root)
    check_version_name(version)
    path = base / version
    if path.exists() and path.resolve().parent != base.resolve():
        raise ModelError(
            f"{path} points outside the registry {base} (a symbolic link?); refusing to use it"
        )
    return path


def has_versions(root: Path | None = None) -> bool:
    """Whether the registry holds any model version directory (readable or not)."""
    base = models_dir(root)
    return base.is_dir() and any(
        p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE_NAME).exists()
        for p in base.iterdir()
    )


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and check a model directory's manifest."""
    manifest_path = path / MANIFEST_FILE_NAME
    if not path.is_dir():
        raise ModelError(f"model directory {path} does not exist")
    if not manifest_path.is_file():
        raise ModelError(f"{path} is not a painclf model directory: {MANIFEST_FILE_NAME} missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{manifest_path} is corrupt: {error}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{manifest_path} is corrupt: expected a JSON object")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int):
        raise ModelError(f"{manifest_path} has no schema_version: not a painclf manifest")
    if schema > MANIFEST_SCHEMA_VERSION:
        raise ModelError(
            f"{manifest_path} was written by a newer painclf (manifest schema {schema}, "
            f"this painclf reads up to {MANIFEST_SCHEMA_VERSION}); upgrade painclf to use it"
        )
    for key in ("version", "model_sha256", "classes"):
        if key not in manifest:
            raise ModelError(f"{manifest_path} is corrupt: '{key}' missing")
    return manifest


def resolve(model: str | Path | None = None, root: Path | None = None) -> ModelRef:
    """Find a model: a version name, a model directory, a ``model.skops`` path, a registry
    directory (its CURRENT version), or, with ``model=None``, the CURRENT version.

    Raises
    ------
    ModelError
        If nothing matches, or ``CURRENT`` names a version that does not exist.
    """
    base = models_dir(root)
    if model is None:
        version = current_version(root)
        if version is None:
            versions = list_versions(root)
            if versions:
                latest = versions[-1].version
                raise ModelError(
                    f"{base / CURRENT_FILE_NAME} is missing, but {base} holds "
                    f"{len(versions)} version(s) (latest: {latest}); make one current with "
                    f"`painclf promote {latest} --gold FILE` or pass --model VERSION "
                    "(painclf never retrains on its own)"
                )
            raise ModelError(f"no current model in {base}: run `painclf train` first")
        check_version_name(version, f"version name in {base / CURRENT_FILE_NAME}")
        path = version_path(version, root)
        if not path.is_dir():
            raise ModelError(
                f"{base / CURRENT_FILE_NAME} names version {version!r}, which does not exist in "
                f"{base}; run `painclf models list` and `painclf promote VERSION`"
            )
        return ModelRef(path, read_manifest(path))
    candidate = Path(model)
    if candidate.is_file() and candidate.name == MODEL_FILE_NAME:
        candidate = candidate.parent
    is_registry = (candidate / CURRENT_FILE_NAME).is_file()
    if candidate.is_dir() and is_registry and not (candidate / MANIFEST_FILE_NAME).exists():
        return resolve(None, root=candidate)  # a registry: use its current version
    if candidate.is_dir():
        return ModelRef(candidate, read_manifest(candidate))
    # Not a directory: a version name, looked up only inside the registry.
    if VERSION_NAME.fullmatch(str(model)):
        path = version_path(str(model), root)
        if path.is_dir():
            return ModelRef(path, read_manifest(path))
        raise ModelError(f"no model {str(model)!r}: not a directory and not a version in {base}")
    raise ModelError(
        f"no model {str(model)!r}: not a model directory, and not a valid version name "
        f"(versions are names such as v20261201-112035 in {base})"
    )


def _model_file(ref: ModelRef) -> Path:
    """The model file the manifest names, checked to be a file in the version directory."""
    name = ref.manifest.get("model_file", MODEL_FILE_NAME)
    if not isinstance(name, str) or not VERSION_NAME.fullmatch(name):
        raise ModelError(
            f"{ref.path / MANIFEST_FILE_NAME}: model_file {name!r} must name a file inside "
            f"{ref.path}; refusing to follow it"
        )
    path = ref.path / name
    if path.exists() and path.resolve().parent != ref.path.resolve():
        raise ModelError(f"{path} points outside {ref.path} (a symbolic link?); refusing it")
    return path


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_pipeline(ref: ModelRef) -> Any:
    """Load the fitted pipeline of ``ref`` after checking its hash and its types."""
    # Imported here: skops imports scikit-learn, pandas and pytest, which predicting with
    # the lean model (classifier.lean) does without.
    import skops.io as sio

    model_file = _model_file(ref)
    if not model_file.is_file():
        raise ModelError(f"{model_file} is missing: the model directory is incomplete")
    actual = sha256_file(model_file)
    if actual != ref.manifest["model_sha256"]:
        raise ModelError(
            f"refusing to load {model_file}: its SHA-256 {actual[:12]}... does not match the "
            f"manifest's {str(ref.manifest['model_sha256'])[:12]}... (the file was changed or "
            "corrupted; retrain or restore it)"
        )
    try:
        untrusted = sio.get_untrusted_types(file=model_file)
    except Exception as error:  # skops raises several types for a damaged archive
        raise ModelError(f"{model_file} is not a readable skops file: {error}") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(
            f"refusing to load {model_file}: it holds types outside painclf's trusted list: "
            + ", ".join(unexpected)
        )
    return sio.load(model_file, trusted=TRUSTED_TYPES)


def new_version_name(root: Path | None = None, now: datetime | None = None) -> str:
    """A new version name, ``vYYYYMMDD-HHMMSS[-N]``, reserved so no other run can take it.

    The name is claimed by creating ``.<name>.reserved`` exclusively (``O_EXCL``), so two
    trainings started in the same second get different names; ``save_version`` removes
    the reservation.
    """
    stamp = (now or datetime.now(UTC)).strftime("v%Y%m%d-%H%M%S")
    base = models_dir(root)
    base.mkdir(parents=True, exist_ok=True)
    name, counter = stamp, 2
    while True:
        if not (base / name).exists():
            try:
                fd = os.open(_reservation(base, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                return name
        name, counter = f"{stamp}-{counter}", counter + 1


def _reservation(base: Path, name: str) -> Path:
    return base / f".{name}{_RESERVED_SUFFIX}"


def _drop_volatile_state(pipeline: Any) -> None:
    """Remove fitted state that holds a memory address (never the same twice).

    scikit-learn's text vectorizers keep ``_stop_words_id = id(stop_words)`` only to
    skip re-validating stop words; without it they validate once more on first use.
    """
    estimators = [pipeline]
    if hasattr(pipeline, "get_params"):
        estimators += list(pipeline.get_params(deep=True).values())
    for estimator in estimators:
        if hasattr(estimator, "_stop_words_id"):
            del estimator._stop_words_id


def canonical_skops(data: bytes) -> bytes:
    """The same skops archive with deterministic member names and timestamps.

    skops names array files and memo ids after ``id()`` of the objects and stamps the
    zip with the current time, so the same model gave different bytes (and SHA-256) on
    every save. Renumbering both in order of first use and fixing the timestamps makes
    training reproducible down to the model file's hash.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        renames: dict[str, str] = {}
        ids: dict[int, int] = {}

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("__id__"), int):
                    node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
                name = node.get("file")
                if isinstance(name, str) and name in source.NameToInfo:
                    renames.setdefault(name, f"{len(renames):05d}{Path(name).suffix}")
                    node["file"] = renames[name]
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(schema)
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
            members = [(new, source.read(old)) for old, new in renames.items()]
            members.append(("schema.json", json.dumps(schema, sort_keys=True).encode()))
            for name, content in members:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, content)
    return output.getvalue()


def save_version(
    pipeline: Any,
    manifest: dict[str, Any],
    files: dict[str, str | bytes] | None = None,
    root: Path | None = None,
) -> ModelRef:
    """Write a new model version directory atomically; never overwrite an existing one.

    The model file, the manifest (completed with the model's SHA-256) and any
    extra ``files`` are written to a temporary directory that is renamed into
    place at the end.
    """
    import skops.io as sio

    base = models_dir(root)
    base.mkdir(parents=True, exist_ok=True)
    version = manifest.get("version") or new_version_name(root)
    check_version_name(str(version))
    target = base / version
    if target.exists():
        raise ModelError(f"model version {version} already exists in {base}; not overwriting it")
    staging = Path(tempfile.mkdtemp(dir=base, prefix=f".{version}."))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; others may need to load models
    try:
        model_file = staging / MODEL_FILE_NAME
        _drop_volatile_state(pipeline)
        model_file.write_bytes(canonical_skops(sio.dumps(pipeline)))
        manifest = {
            **manifest,
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "version": version,
            "model_file": MODEL_FILE_NAME,
            "model_sha256": sha256_file(model_file),
        }
        (staging / MANIFEST_FILE_NAME).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        for name, content in (files or {}).items():
            path = staging / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        try:
            # rename() would replace an empty directory: refuse any existing target.
            if target.exists():
                raise FileExistsError(errno.EEXIST, "exists", str(target))
            staging.rename(target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            raise ModelError(
                f"model version {version} already exists in {base} (saved by another run at "
                "the same moment?); not overwriting it"
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _reservation(base, str(version)).unlink(missing_ok=True)
    return ModelRef(target, manifest)


def set_current(version: str, root: Path | None = None, note: str = "") -> None:
    """Point ``CURRENT`` at ``version`` and append the change to the registry log."""
    base = models_dir(root)
    if not version_path(version, root).is_dir():
        raise ModelError(f"no model version {version!r} in {base}")
    previous = current_version(root)
    atomic_write_text(base / CURRENT_FILE_NAME, version + "\n")
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    line = f"{stamp}\tcurrent {previous or '-'} -> {version}\t{note}".rstrip() + "\n"
    with (base / REGISTRY_LOG_NAME).open("a", encoding="utf-8") as log:
        log.write(line)


def list_versions(root: Path | None = None) -> list[ModelRef]:
    """Every readable model version, oldest first; unreadable directories are skipped."""
    base = models_dir(root)
    if not base.is_dir():
        return []
    refs = []
    for path in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            refs.append(ModelRef(path, read_manifest(path)))
        except ModelError:
            continue
    return refs
