"""Marker extents kept across PDF files give the same files."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_pdf import PdfFile
from matplotlib.path import Path
from matplotlib.transforms import Affine2D

from trygghet_analys.files import export
from trygghet_analys.report import markercache, plotting


def _pdf(size: float) -> bytes:
    """A chart with many markers (one marker object per line) and tick marks."""
    with plotting.use_style():
        fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
        ax.plot([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4], marker="o", markersize=size)
        ax.plot([1, 2, 3, 4], [0.2, 0.1, 0.4, 0.3], marker="s", markersize=size / 2)
        ax.plot([1, 2, 3], [0.3, 0.2, 0.1], marker="D", linestyle="none")
    buf = io.BytesIO()
    with export.deterministic():
        fig.savefig(buf, format="pdf", metadata=export._METADATA["pdf"])
    plt.close(fig)
    return buf.getvalue()


def test_shared_marker_extents_give_the_same_pdf_files() -> None:
    plain = [_pdf(size) for size in (6, 11, 6)]
    with markercache.shared_marker_extents():
        kept = [_pdf(size) for size in (6, 11, 6)]
    assert kept == plain
    assert plain[0] != plain[1]  # the marker size makes a difference
    assert plain[0] == plain[2]


def test_an_extent_is_kept_per_path_and_transform() -> None:
    circle = Path.unit_circle()
    small, large = Affine2D().scale(3), Affine2D().scale(5.5).translate(1, 0)
    for trans in (small, large, small, large):
        kept = markercache.marker_extents(circle, trans)
        assert np.array_equal(kept.get_points(), circle.get_extents(trans).get_points())
    # another path with the same transform is measured anew
    square = Path.unit_rectangle()
    assert np.array_equal(markercache.marker_extents(square, small).get_points(), [[0, 0], [3, 3]])
    # a kept extent cannot be changed through the box handed out
    box = markercache.marker_extents(circle, small)
    box.set_points(np.zeros((2, 2)))
    assert markercache.marker_extents(circle, small).width > 0


def test_shared_marker_extents_puts_matplotlib_back() -> None:
    own = PdfFile.markerObject
    with markercache.shared_marker_extents():
        assert PdfFile.markerObject is not own
        with markercache.shared_marker_extents():  # nested: the outer one stays
            inner = PdfFile.markerObject
        assert PdfFile.markerObject is inner is not own
    assert PdfFile.markerObject is own
