"""Where a build's large buffers come from, so that freed memory is used again instead of
being handed back to the kernel and asked for anew.

A build makes and drops many buffers of megabytes (Arrow columns, NumPy arrays, the csv
text). pyarrow's default pool (mimalloc) returns freed memory to the kernel, and the C
library's ``malloc`` maps every buffer above its threshold on its own and unmaps it when
freed; each new buffer is then new pages that the kernel has to fault in and clear. For a
new year of a region that was 2–3,5 s of kernel time out of 14–17 s CPU
(docs/performance.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator

import pyarrow as pa

#: ``mallopt`` parameters of the GNU C library (``<malloc.h>``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Buffers up to this size come from the heap, not a mapping of their own: the largest
#: threshold glibc accepts (``HEAP_MAX_SIZE / 2`` on 64-bit systems).
_MMAP_THRESHOLD = 32 * 1024 * 1024

#: Free memory at the top of the heap kept, not returned to the kernel, up to this size.
_TRIM_THRESHOLD = 1024 * 1024 * 1024


def _mallopt() -> object | None:
    """glibc's ``mallopt``, or None elsewhere (macOS, Windows, musl: nothing is set)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it  # noqa: B018
        return libc.mallopt
    except (OSError, AttributeError):
        return None


def _keep_freed_memory() -> None:
    """glibc's ``malloc`` keeps freed memory for the next buffer: buffers up to 32 MB from
    the heap, and the heap's free top kept (up to 1 GB). Set for the rest of the process
    (glibc has no way back to its adaptive threshold); it changes where memory comes
    from, never what is computed."""
    mallopt = _mallopt()
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


@contextlib.contextmanager
def build_memory() -> Iterator[None]:
    """Arrow's memory from the C library's ``malloc`` (its system pool) inside the block,
    and ``malloc`` told to keep freed memory (:func:`_keep_freed_memory`).

    Every buffer is freed by the pool that made it, so buffers made inside the block may
    outlive it; the pool before the block is restored after it, also on an error.
    """
    previous = pa.default_memory_pool()
    _keep_freed_memory()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
