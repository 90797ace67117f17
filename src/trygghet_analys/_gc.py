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


@contextlib.contextmanager
def frozen_while_running() -> Iterator[None]:
    """Everything alive when the block starts kept out of the collections while it runs
    (:func:`gc.freeze`), and thawed when it ends, so that a process going on (a notebook,
    the tests) collects as before.

    Inside something already frozen (a ``report --alla`` worker, forked from a frozen
    parent) it does nothing: freezing there would keep each kommun's cycles for the
    worker's life, and thawing would touch the parent's shared pages.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
