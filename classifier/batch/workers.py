"""Labeling chunks in worker processes, in input order, with a bounded number in flight."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from classifier.batch.frame import label_outputs
from classifier.batch.readers import Chunk

if TYPE_CHECKING:
    from classifier.predict import Classifier


_worker_classifiers: dict[str, Classifier] = {}
# The executor of each --jobs count started in this process (see stop_workers).
_executors: dict[int, Any] = {}
# How often a worker checks that the process that started it is still alive.
PARENT_CHECK_SECONDS = 0.5


def watch_parent(parent_pid: int, interval: float = PARENT_CHECK_SECONDS) -> None:
    """Worker initializer: exit as soon as the parent process is gone.

    When the parent is killed (``kill -9``: no cleanup runs), its workers would stay
    blocked on their queue, holding ~400 MB each; the kernel then gives them a new
    parent, which this thread notices. ``os._exit``: nothing of the worker's is worth
    flushing.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="painclf-watch-parent", daemon=True).start()


def _worker_classifier(model: str) -> Classifier:
    """The model ``model`` (a path) in this worker process, loaded on first use."""
    if model not in _worker_classifiers:
        from classifier.predict import Classifier, settle

        _worker_classifiers[model] = Classifier.load(model)
        settle()  # build the text pipeline, then keep the loaded heap out of the GC's way
    return _worker_classifiers[model]


def _load_in_worker(model: str) -> None:
    """A worker's first task (``start_workers``): load the model before any chunk comes."""
    _worker_classifier(model)


def _executor(jobs: int) -> Any:
    """The worker processes (loky's reusable executor: the same processes on every call)."""
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(
        max_workers=jobs, initializer=watch_parent, initargs=(os.getpid(),)
    )
    _executors[jobs] = executor
    return executor


def start_workers(jobs: int, model_path: str) -> None:
    """Start the ``jobs`` worker processes now and have each load the model.

    A worker's start-up (imports, the model, the text pipeline: several seconds) then
    runs while the main process opens the outputs and reads the first chunks, instead
    of after it: with two workers the start-up is a large part of a run of 100,000 rows.
    """
    executor = _executor(jobs)
    for _ in range(jobs):
        executor.submit(_load_in_worker, model_path)


def stop_workers(jobs: int) -> None:
    """Stop the worker processes ``start_workers`` started (after an error or an
    interruption before any chunk was labeled)."""
    executor = _executors.pop(jobs, None)
    if executor is not None:
        # Gracefully: the workers finish loading, then exit. Cancelling or killing tasks
        # submitted a moment ago races loky's manager thread (a KeyError or an
        # InvalidStateError raised in that thread).
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True)


def _label_in_worker(
    frame: pd.DataFrame,
    text_columns: list[Any],
    model: str | Classifier,
    max_chars: int,
    today: date,
    unreadable: list[str],
    fallback_columns: list[Any],
) -> pd.DataFrame:
    """Label one chunk in a worker process; the model is loaded once per process."""
    classifier = _worker_classifier(model) if isinstance(model, str) else model
    return label_outputs(
        frame,
        text_columns,
        classifier,
        max_chars,
        today,
        unreadable,
        as_lists=True,
        fallback_columns=fallback_columns,
    )


def labeled_chunks(
    chunks: Iterator[Chunk],
    text_columns: list[Any],
    classifier: Classifier | None,
    model_path: str | None,
    jobs: int,
    max_chars: int,
    today: date,
    fallback_columns: list[Any] | None = None,
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Each chunk with its outputs, in input order; with ``jobs > 1`` in worker processes.

    At most ``2 * jobs`` chunks are in flight, so memory stays flat however far the
    reader could run ahead. Workers get only the text columns (and the fallbacks).
    The ``urgent_reasons`` and ``evidence`` cells are lists; writers join them for CSV.
    """
    fallback = list(fallback_columns or [])
    read = [*text_columns, *fallback]
    if jobs <= 1:
        assert classifier is not None
        for chunk in chunks:
            yield (
                chunk,
                label_outputs(
                    chunk.frame[read],
                    text_columns,
                    classifier,
                    max_chars,
                    today,
                    chunk.unreadable,
                    as_lists=True,
                    fallback_columns=fallback,
                ),
            )
        return
    executor = _executor(jobs)
    model = model_path if model_path is not None else classifier
    assert model is not None, "worker processes need a model path or a classifier"
    pending: deque[tuple[Chunk, Any]] = deque()
    finished = False
    try:
        for chunk in chunks:
            future = executor.submit(
                _label_in_worker,
                chunk.frame[read],
                text_columns,
                model,
                max_chars,
                today,
                chunk.unreadable,
                fallback,
            )
            pending.append((chunk, future))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
        finished = True
    finally:
        if not finished:
            for _, future in pending:
                future.cancel()
            # Stop the workers now rather than let them finish chunks nobody will write.
            executor.shutdown(wait=False, kill_workers=True)
