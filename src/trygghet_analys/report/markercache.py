"""Marker extents kept across PDF files, for the report's drawings.

Every chart's PDF file (and the chart book's page of it) keeps its own markers: the
first time a file meets a marker (a tick mark, a dot) it stores the marker's extent,
which matplotlib measures on the marker's Bézier curves in Python (about a millisecond
for a circle). The report draws the same few markers, at the same sizes, in every
chart, so :func:`shared_marker_extents` measures each marker once per process and
gives each file the same extent it would measure itself: an extent depends only on
the marker's path and its (affine) transform.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["marker_extents", "shared_marker_extents"]

#: extents by (vertices, codes, transform matrix); a handful in a report
_extents: dict[tuple[bytes, bytes | None, bytes], np.ndarray] = {}

#: extents kept at most; the store starts again beyond (never reached by a report)
_MAX_KEPT = 256

_installed = threading.local()


def marker_extents(path: object, trans: object) -> object:
    """``path.get_extents(trans)``, measured once per path and affine transform.

    A new :class:`~matplotlib.transforms.Bbox` each time (a file may keep it); a
    transform that is not affine is measured every time.
    """
    from matplotlib.transforms import Bbox

    if not getattr(trans, "is_affine", False):
        return path.get_extents(trans)
    codes = path.codes
    key = (
        np.ascontiguousarray(path.vertices, dtype=float).tobytes(),
        None if codes is None else np.ascontiguousarray(codes).tobytes(),
        np.ascontiguousarray(trans.get_matrix(), dtype=float).tobytes(),
    )
    points = _extents.get(key)
    if points is None:
        if len(_extents) >= _MAX_KEPT:
            _extents.clear()
        points = _extents[key] = path.get_extents(trans).get_points().copy()
    return Bbox(points.copy())


def _marker_object_kept(own: Callable[..., object]) -> Callable[..., object]:
    """``PdfFile.markerObject`` (matplotlib 3.11) with the extent from
    :func:`marker_extents`: the same entry, name and object, in the same order."""
    from matplotlib.backends.backend_pdf import Name

    @functools.wraps(own)
    def marker_object(
        self: object,
        path: object,
        trans: object,
        fill: object,
        stroke: object,
        lw: float,
        joinstyle: object,
        capstyle: object,
    ) -> object:
        pathops = self.pathOperations(path, trans, simplify=False)
        key = (tuple(pathops), bool(fill), bool(stroke), joinstyle, capstyle)
        result = self.markers.get(key)
        if result is None:
            name = Name(f"M{len(self.markers)}")
            ob = self.reserveObject(f"marker {len(self.markers)}")
            self.markers[key] = [name, ob, marker_extents(path, trans), lw]
            return name
        if result[-1] < lw:
            result[-1] = lw
        return result[0]

    return marker_object


@contextlib.contextmanager
def shared_marker_extents() -> Iterator[None]:
    """PDF files made while the block runs take each marker's extent from
    :func:`marker_extents`; matplotlib's own ``markerObject`` is back on exit (nested
    blocks leave the outer one in place)."""
    from matplotlib.backends.backend_pdf import PdfFile

    if getattr(_installed, "on", False):
        yield
        return
    own = PdfFile.markerObject
    PdfFile.markerObject = _marker_object_kept(own)
    _installed.on = True
    try:
        yield
    finally:
        PdfFile.markerObject = own
        _installed.on = False
