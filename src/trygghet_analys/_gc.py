"""What a long run keeps out of the garbage collector's full passes.

A build or a report makes and drops hundreds of thousands of objects (pandas'
copy-on-write references, the charts' reference cycles), so the collector's oldest
generation runs several times, and each such pass would walk every object the process
already holds: the imported modules of pandas, SciPy, matplotlib and the package, and a
report's tables. docs/performance.md has the measurements.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Whether this module froze the heap and has not thawed it (:func:`frozen_while_running`,
#: :func:`frozen_for_workers`; a forked worker inherits it). ``gc.get_freeze_count``
#: walks every frozen object: some 140 000 in a ``report --alla`` worker, 14 ms CPU that
#: each of its kommuner paid to learn what this says at once.
_FROZEN = {"here": False}


def _frozen() -> bool:
    """Whether the heap is frozen, by this module or by anyone else."""
    return _FROZEN["here"] or gc.get_freeze_count() > 0


@contextlib.contextmanager
def frozen_while_running() -> Iterator[None]:
    """Everything alive when the block starts kept out of the collections while it runs
    (:func:`gc.freeze`), and thawed when it ends, so that a process going on (a notebook,
    the tests) collects as before.

    Inside something already frozen (a ``report --alla`` worker, forked from a frozen
    parent) it does nothing: freezing there would keep each kommun's cycles for the
    worker's life, and thawing would touch the parent's shared pages.
    """
    if _frozen():
        yield
        return
    with _frozen_here():
        yield


@contextlib.contextmanager
def frozen_for_workers() -> Iterator[None]:
    """The parent's objects of ``report --alla`` (the tables above all) collected once and
    then kept out of its forked workers' garbage collection while the block runs, so that
    their pages stay shared with the workers instead of being copied on first touch;
    thawed when it ends."""
    gc.collect()
    with _frozen_here():
        yield


def collect_and_keep_survivors() -> None:
    """A full collection, then what survived it frozen (:func:`gc.freeze`): for a
    ``report --alla`` worker between two kommuner.

    What a worker keeps from one kommun to the next (the shapings and glyphs of
    :mod:`~trygghet_analys.report.shapestore`, matplotlib's font caches) grows by some
    10 000 objects per kommun, and every full collection walked all of them again: 33 ms
    after the first kommun, 94 ms after the eighth, 0,14 s per kommun over a region
    (docs/performance.md, issue 16). Frozen, they are walked no more. Only what survived
    a full collection is frozen, so no kommun's cycles are kept; what is frozen stays for
    the worker's life (a worker ends with its pool), or until the pool's parent thaws its
    heap when it runs the kommuner itself (:func:`frozen_for_workers`).
    """
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _frozen_here() -> Iterator[None]:
    """:func:`gc.freeze` for the block, recorded in ``_FROZEN`` (which a forked worker
    inherits); thawed after it, also on an error."""
    gc.freeze()
    _FROZEN["here"] = True
    try:
        yield
    finally:
        _FROZEN["here"] = False
        gc.unfreeze()


#: How many new container objects the collector's youngest generation may hold while a
#: report draws before it is collected (Python's default is 700). Drawing one kommun's
#: charts makes millions of short-lived objects that reference counting frees, and at 700
#: the collector ran some 200 times per kommun, walking about 375 000 objects; at 50 000
#: it runs 2–3 times and walks about 145 000 (docs/performance.md, issue 16).
DRAWING_THRESHOLD = 50_000


@contextlib.contextmanager
def collecting_rarely(threshold: int = DRAWING_THRESHOLD) -> Iterator[None]:
    """The youngest generation collected once per ``threshold`` new objects while the
    block runs; the collector's thresholds put back as they were when it ends.

    Nothing is kept longer than the block: cycles made in it are collected by the first
    collection after it, or by the one that ``report --alla`` makes after each kommun.
    """
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
