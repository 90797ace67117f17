"""Deterministic writers for the report: figures, the chart book PDF and the xlsx workbook.

Same inputs give the same bytes, whichever folder the files are written to: no time
stamp, absolute path or random id ends up in a file.

- PNG: the ``Software`` chunk is dropped; zlib level :data:`PNG_COMPRESS_LEVEL`; RGB
  (no alpha channel) when every pixel is opaque, as a chart is, then with every row
  filtered "Up" and deflated by zlib-ng (:func:`_opaque_png`).
- SVG: no ``<dc:date>``; element ids come from ``svg.hashsalt`` (fixed here).
- PDF: no ``CreationDate``/``ModDate``; ``SOURCE_DATE_EPOCH`` is set for anything that
  still asks for a date; streams at zlib level :data:`PDF_COMPRESSION`.
- xlsx: written as text by :mod:`._xlsx` (fast: a report's workbook has some 235 000
  cells), fixed document properties, every zip entry with one fixed date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import math
import os
import re
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported where a figure is written: `build` never draws
    from matplotlib.figure import Figure

from ..config import DEFAULT_MIN_N
from ._io import FIXED_DATE
from ._xlsx import Book

__all__ = [
    "BookPage",
    "FIXED_DATE",
    "FORMATS",
    "deterministic",
    "export_table",
    "figure_png_bytes",
    "neutralise",
    "save_figure",
    "write_pdf_book",
    "write_xlsx",
]

#: The date written where a file format insists on one (zip entries, xlsx properties).
#: Formats every chart is saved in.
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")

_HASHSALT = "trygghet-analys"
_METADATA: dict[str, dict[str, object]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
#: zlib level of the PNG files (Pillow's ``compress_level``; its default is 6). Levels 1–3
#: are zlib's fast matcher: for the report's 16 charts level 3 takes about a third less CPU
#: than level 6 for 0,4 % more bytes (the pixels are the same; table in
#: ``docs/performance.md``). What remains is mostly Pillow's choice of row filters.
PNG_COMPRESS_LEVEL = 3
#: zlib level of the PDF streams (matplotlib's ``pdf.compression``, default 6): level 3
#: takes about a third less CPU for some 3–4 % more bytes; the drawing is the same.
PDF_COMPRESSION = 3
#: Options for Pillow when a figure is written as PNG.
_PNG_OPTIONS: dict[str, object] = {"compress_level": PNG_COMPRESS_LEVEL}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60
#: Rows whose values size a column of an xlsx sheet.
_WIDTH_ROWS = 200
_FLOAT64, _INT64, _BOOL = np.dtype("float64"), np.dtype("int64"), np.dtype("bool")


def _with_folder(path: str | Path) -> Path:
    """``path`` as a Path whose folder exists (made when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


#: Font tables left out of the TrueType subsets embedded in PDFs, besides matplotlib's own
#: list: OpenType layout (glyph substitution and positioning), the old kerning table and
#: math layout. A PDF viewer draws the glyph ids and positions written in the page, and
#: finds the text through the ``ToUnicode`` map; it never shapes text with these tables.
#: They are most of a subset's cost: fontTools parses DejaVu's GSUB/GPOS anew for every
#: font of every PDF (about 50 ms each, 72 times per report).
LAYOUT_TABLES: tuple[str, ...] = ("GSUB", "GPOS", "GDEF", "kern", "MATH", "JSTF", "BASE")

#: matplotlib's own list of tables dropped from subsets (``_backend_pdf_ps``, 3.11).
_MPL_DROPPED = (
    "FFTM PfEd BDF meta MERG TSIV Zapf bdat bloc cidg fdsc feat fmtx fond just kerx ltag "
    "morx trak xref"
).split()


@functools.lru_cache(maxsize=256)
def _subset_bytes(path: str, face_index: int, glyphs: frozenset[int]) -> tuple[bytes, tuple]:
    """The saved subset font and its glyph index map, once per (font, glyph set).

    A report embeds 72 subsets; with :data:`PDF_REPERTOIRE` they are three different
    ones (DejaVu Sans, its bold and its oblique), made once per process.
    """
    from fontTools import subset
    from matplotlib.backends import _backend_pdf_ps

    options = subset.Options(glyph_names=True, recommended_glyphs=True)
    options.drop_tables += [*_MPL_DROPPED, *LAYOUT_TABLES]
    options.font_number = face_index
    font = subset.load_font(path, options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=glyphs)
    subsetter.subset(font)
    with font:
        data = _backend_pdf_ps.font_as_file(font).getvalue()
    return data, tuple(sorted(subsetter.glyph_index_map.items()))


#: Characters whose glyphs a PDF font subset holds, used or not: printable ASCII, the
#: Swedish letters and a few Latin-1 signs, and the punctuation and symbols past U+00FF
#: that the report's texts and charts draw (narrow no-break space, dashes, quotes,
#: ellipsis, minus sign, comparison signs, arrows, the marks of the legends and the
#: ligatures that matplotlib's text shaping puts in, e.g. "ﬁ"). Text made only of these
#: characters gets the same subset of a font in every PDF, so the subset is made once per
#: font and process (:func:`_subset_bytes`) instead of once per distinct set of
#: characters. Text with any other character gets the exact subset of its glyphs.
#: matplotlib embeds the characters up to U+00FF and those past it as two subsets of a
#: font; each gets only its own part of the repertoire (:func:`_subset_glyphs`).
PDF_REPERTOIRE: str = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "\u00a0ÅÄÖåäöÉéÜü§°±·×"
    + "\u2009\u202f–—‘’”…•−≤≥≈→↑↓■●◧✔✖ﬀﬁﬂ"
)


@functools.lru_cache(maxsize=32)
def _repertoire_glyphs(path: str, face_index: int) -> tuple[frozenset[int], frozenset[int]]:
    """Glyph ids of :data:`PDF_REPERTOIRE` in one font (those it has), each part with
    ``.notdef``: the characters up to U+00FF, and those past it."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=face_index, lazy=True) as font:
        cmap = font.getBestCmap() or {}
        parts: tuple[set[int], set[int]] = ({0}, {0})
        for c in PDF_REPERTOIRE:
            if ord(c) in cmap:
                parts[ord(c) > 0xFF].add(font.getGlyphID(cmap[ord(c)]))
    return frozenset(parts[0]), frozenset(parts[1])


def _subset_glyphs(path: str, face_index: int, glyphs: Iterable[int]) -> frozenset[int]:
    """The glyphs a PDF subset of a font holds when ``glyphs`` are drawn with it.

    The glyphs of one part of :data:`PDF_REPERTOIRE` (or of both) when that includes
    ``glyphs``, otherwise exactly ``glyphs``.
    """
    wanted = frozenset(glyphs)
    low, high = _repertoire_glyphs(path, face_index)
    for fixed in (low, high, low | high):
        if wanted <= fixed:
            return fixed
    return wanted


def _lean_glyphs_subset(fontfile: object, glyphs: Iterable[int]) -> object:
    """matplotlib's ``get_glyphs_subset`` without the layout tables (:data:`LAYOUT_TABLES`).

    Same options and result type; the subset holds the glyphs of
    :data:`PDF_REPERTOIRE` besides ``glyphs`` when that covers them
    (:func:`_subset_glyphs`), and lacks tables that a PDF never uses. The font is read
    back from the bytes saved for the same font and glyphs (:func:`_subset_bytes`);
    matplotlib saves it again unchanged (tables copied as they are, no new time stamp).
    The PDF's widths, ``CIDToGIDMap`` and ``ToUnicode`` still list only the characters
    drawn.
    """
    from matplotlib.backends import _backend_pdf_ps

    path, index = os.fspath(fontfile), int(getattr(fontfile, "face_index", 0))
    data, index_map = _subset_bytes(path, index, _subset_glyphs(path, index, glyphs))
    font = _saved_font_class()(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
    font.saved = _resaved_bytes(data)
    return _backend_pdf_ps.SubsetResults(font, dict(index_map))._as_cm()


@functools.lru_cache(maxsize=256)
def _resaved_bytes(data: bytes) -> bytes:
    """What matplotlib's ``font_as_file`` writes for the subset ``data`` read back (the
    bytes kept by :func:`_subset_bytes`), once per subset instead of once per embedding."""
    from fontTools.ttLib import TTFont

    out = io.BytesIO()
    with TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) as font:
        font.save(out, reorderTables=False)
    return out.getvalue()


@functools.cache
def _saved_font_class() -> type:
    """``TTFont`` whose saving as ``font_as_file`` does it (``reorderTables=False``)
    writes :attr:`saved`, the bytes that saving wrote the first time
    (:func:`_resaved_bytes`); any other saving is fontTools' own."""
    from fontTools.ttLib import TTFont

    class SavedFont(TTFont):
        saved: bytes | None = None

        def save(self, file: object, reorderTables: bool | None = True) -> None:
            if self.saved is not None and reorderTables is False and hasattr(file, "write"):
                file.write(self.saved)
                return
            super().save(file, reorderTables=reorderTables)

    return SavedFont


@contextlib.contextmanager
def _lean_pdf_fonts() -> Iterator[None]:
    """Embed PDF font subsets through :func:`_lean_glyphs_subset`, restored on exit.

    matplotlib (3.11) looks the function up on its module at every embedding, so it is
    swapped there; a matplotlib without it keeps its own.
    """
    from matplotlib.backends import _backend_pdf_ps

    original = getattr(_backend_pdf_ps, "get_glyphs_subset", None)
    if original is None or not hasattr(_backend_pdf_ps, "SubsetResults"):
        yield
        return
    _backend_pdf_ps.get_glyphs_subset = _lean_glyphs_subset
    try:
        yield
    finally:
        _backend_pdf_ps.get_glyphs_subset = original


class _ShapingOnly:
    """``matplotlib._text_helpers`` as the PDF back end sees it: ``layout`` without
    loading each glyph into the font.

    The PDF back end (3.11) draws a text from the glyph ids and positions of the layout
    and never reads the glyph the layout loads for each character (a third of a PDF
    text's cost); the SVG back end, which does, keeps matplotlib's own.
    """

    def __init__(self, helpers: object) -> None:
        self._helpers = helpers

    @staticmethod
    def layout(string: str, font: object, *, features: object = None, language: object = None):
        from matplotlib.ft2font import LoadFlags

        yield from font._layout(string, LoadFlags.NO_HINTING, features=features, language=language)

    def __getattr__(self, name: str) -> object:
        return getattr(self._helpers, name)


@contextlib.contextmanager
def _pdf_text_without_glyph_loading() -> Iterator[None]:
    """PDF text drawn through :class:`_ShapingOnly`, matplotlib's own put back on exit."""
    from matplotlib.backends import backend_pdf

    helpers = getattr(backend_pdf, "_text_helpers", None)
    if helpers is None or isinstance(helpers, _ShapingOnly) or not hasattr(helpers, "layout"):
        yield
        return
    backend_pdf._text_helpers = _ShapingOnly(helpers)
    try:
        yield
    finally:
        backend_pdf._text_helpers = helpers


#: Most texts kept by :func:`_pdf_text_once` (glyphs per text, and written text per
#: text, codes and font names); both tables are emptied when full.
MAX_PDF_TEXTS = 20_000

_pdf_glyphs: dict[tuple, tuple] = {}
_pdf_bodies: dict[tuple, tuple[bytes | int, ...]] = {}


class _Recorder:
    """Stands in for a PDF file's current stream: keeps what is written, in order."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.pieces.append(bytes(data))


def _text_key(renderer: object, s: str, prop: object, mtext: object) -> tuple | None:
    """What the glyphs of a PDF text depend on: font (set to its size), text, size,
    font features and language; None when it cannot be a dictionary key."""
    font = renderer._get_font_ttf(prop)
    if mtext is not None:
        features, language = mtext.get_fontfeatures(), mtext.get_language()
    else:
        features = language = None
    key = (font, s, prop.get_size_in_points(), features, language)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _keep(table: dict, key: object, value: object, limit: int) -> object:
    """``value`` kept in ``table`` under ``key`` (returned), the table emptied first when
    it holds ``limit`` entries: the per-process text tables stay bounded in a long
    region run."""
    if len(table) >= limit:
        table.clear()
    table[key] = value
    return value


def _text_glyphs(key: tuple) -> tuple:
    """(font, characters, glyph id) of each glyph of the text of ``key``, laid out as
    the PDF back end lays it out, once per text."""
    glyphs = _pdf_glyphs.get(key)
    if glyphs is None:
        from matplotlib.backends import backend_pdf

        font, s, _size, features, language = key
        glyphs = tuple(
            (item.ft_object, item.char, item.glyph_index)
            for item in backend_pdf._text_helpers.layout(
                s, font, features=features, language=language
            )
        )
        _keep(_pdf_glyphs, key, glyphs, MAX_PDF_TEXTS)
    return glyphs


def _recorded_codes(tracker: object, glyphs: tuple) -> tuple | None:
    """Each glyph's (subset, character code) when all of ``glyphs`` are recorded in
    ``tracker`` already (read from the glyph maps :func:`_glyphs_found_by_font` keeps
    per font: what recording them again answers, and recording a recorded glyph
    changes nothing); None when one is not, or the maps are not kept."""
    maps = tracker.__dict__.get("_maps_by_font")
    if not maps:
        return None
    codes = []
    for font, chars, glyph in glyphs:
        glyph_map = maps.get(font)
        if glyph_map is None:
            return None
        code = glyph_map.get(chars if chars.__class__ is str else chr(chars), glyph)
        if code is None:
            return None
        codes.append(code)
    return tuple(codes)


def _tracked(file: object, glyphs: tuple) -> tuple[tuple, tuple]:
    """The glyphs recorded in ``file``'s font subsets (as drawing them records them),
    and what the written text depends on besides the text: each glyph's (subset,
    character code) and the file's font name of each (font, subset) it uses, named in
    the order the back end names them."""
    from matplotlib.font_manager import FontPath

    tracker = file._character_tracker
    codes = _recorded_codes(tracker, glyphs)
    if codes is None:
        track = tracker.track_glyph
        codes = tuple(track(font, chars, glyph) for font, chars, glyph in glyphs)
    names: dict[tuple, object] = {}
    for (font, _chars, _glyph), (subset, _code) in zip(glyphs, codes, strict=True):
        if (font, subset) not in names:
            names[font, subset] = file.fontName(FontPath(font.fname, font.face_index), subset)
    return codes, tuple(names.values())


def _tracked_once(file: object, key: tuple, glyphs: tuple) -> tuple[tuple, tuple]:
    """:func:`_tracked` once per file and text (``key``, whose ``glyphs`` they are).

    The chart book and a chart's own PDF draw the same tick labels and legend texts
    many times; once a text's glyphs are recorded in a file, recording them again
    changes nothing and gives the same codes, and the file's font names stay the same.
    """
    kept = file.__dict__.setdefault("_tracked_texts", {})
    found = kept.get(key)
    if found is None:
        found = kept[key] = _tracked(file, glyphs)
    return found


def _text_pieces(pieces: list[bytes]) -> bool:
    """Whether ``pieces`` are a text as the back end writes it: ``q``, the matrix (``cm``),
    the text (``BT … ET``) and ``Q``, each with its line end."""
    return (
        len(pieces) > 6
        and pieces[:2] == [b"q", b"\n"]
        and pieces[2].endswith(b" cm")
        and pieces[3:5] == [b"\n", b"BT"]
        and pieces[-4:] == [b"ET", b"\n", b"Q", b"\n"]
    )


def _text_template(pieces: list[bytes], names: tuple) -> tuple[bytes | int, ...] | None:
    """The text (``BT … ET``) of a recorded text with each font name left open: its
    number in ``names`` in place of the name, which differs between files (the chart's
    own PDF and the chart book name the same font differently). None when a font
    selection names a font outside ``names``."""
    written = [name.pdfRepr() for name in names]
    parts: list[bytes | int] = []
    for piece in pieces[4:-2]:
        if piece.startswith(b"/") and piece.endswith(b" Tf"):
            name, rest = piece.split(b" ", 1)
            if name not in written:
                return None
            parts += [written.index(name), b" " + rest]
        else:
            parts.append(piece)
    return tuple(parts)


def _filled(template: tuple[bytes | int, ...], names: tuple) -> bytes:
    """A text template (:func:`_text_template`) with this file's font names."""
    written = [name.pdfRepr() for name in names]
    return b"".join(written[part] if isinstance(part, int) else part for part in template)


def _pdf_text_once(draw_text: object) -> object:
    """``RendererPdf.draw_text`` writing each text's ``BT … ET`` once per process.

    A chart's texts are written twice (its own PDF and its page in the chart book) and
    many texts recur across charts; matplotlib builds the text operators glyph by glyph
    in Python every time. The written text depends only on the glyphs (font, size,
    text, features, language), their subset codes and the file's font names, so it is
    kept under those; the glyphs are still recorded in every file's subsets and the
    font names assigned as matplotlib does, and the graphics state, position and angle
    are written by matplotlib's own calls. Math text, links and other font types go to
    matplotlib's own ``draw_text``.
    """
    from matplotlib.backends.backend_pdf import Op

    def drawn(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        import matplotlib as mpl

        if (
            ismath
            or gc.get_url() is not None
            or mpl.rcParams["pdf.use14corefonts"]
            or mpl.rcParams["pdf.fonttype"] != 42
            or self.file.currentstream is None
        ):
            return draw_text(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        key = _text_key(self, s, prop, mtext)
        if key is None:
            return draw_text(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        glyphs = _text_glyphs(key)
        self.check_gc(gc, gc._rgb)
        codes, names = _tracked_once(self.file, key, glyphs)
        template = _pdf_bodies.get((key, codes))
        if template is not None:
            a = math.radians(angle)
            self.file.output(Op.gsave)
            self.file.output(
                math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y, Op.concat_matrix
            )
            self.file.write(_filled(template, names))
            self.file.output(Op.grestore)
            return None
        stream, recorder = self.file.currentstream, _Recorder()
        self.file.currentstream = recorder
        try:
            draw_text(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        finally:
            self.file.currentstream = stream
        pieces = recorder.pieces
        for piece in pieces:
            stream.write(piece)
        # q \n <matrix> cm \n BT … ET \n Q \n: the text between the matrix and Q
        template = _text_template(pieces, names) if _text_pieces(pieces) else None
        if template is not None:
            _keep(_pdf_bodies, (key, codes), template, MAX_PDF_TEXTS)
        return None

    drawn.__wrapped__ = draw_text
    return drawn


@contextlib.contextmanager
def _wrapped(owner: object, name: str, wrap: Callable) -> Iterator[None]:
    """``owner.name`` replaced by ``wrap(original)`` while the block runs and put back on
    exit; left as it is when missing or already wrapped (a block inside another)."""
    original = getattr(owner, name, None)
    if original is None or hasattr(original, "__wrapped__"):
        yield
        return
    setattr(owner, name, wrap(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


#: Streams shorter than this are compressed as matplotlib does, each time (the kept
#: streams are the embedded fonts and their glyph maps, tens of kilobytes each).
MIN_KEPT_STREAM = 1024


@functools.lru_cache(maxsize=64)
def _deflated(data: bytes, level: int) -> bytes:
    """``data`` as a PDF stream holds it: one zlib stream at ``level``, all of ``data``
    written at once, then flushed (what matplotlib's ``outputStream`` writes)."""
    compressor = zlib.compressobj(level)
    return compressor.compress(data) + compressor.flush()


class _Deflated:
    """Stands in for a stream's zlib compressor: gives the compressed bytes, made before."""

    def __init__(self, compressed: bytes) -> None:
        self._compressed = compressed

    def compress(self, data: bytes) -> bytes:
        return self._compressed

    def flush(self) -> bytes:
        return b""


def _streams_compressed_once(output_stream: Callable) -> Callable:
    """``PdfFile.outputStream`` compressing each stream content once per process.

    Every PDF of a report embeds the same few font subsets (:data:`PDF_REPERTOIRE`),
    and matplotlib compresses each font file and glyph map anew for every file; the
    compressed bytes depend only on the content and the compression level, so they are
    kept (:func:`_deflated`). The stream is written by matplotlib's own code, with the
    compressor handing over the kept bytes."""
    import matplotlib as mpl

    def output(self, ref, data, *, extra=None):
        level = mpl.rcParams["pdf.compression"]
        if not level or type(data) is not bytes or len(data) < MIN_KEPT_STREAM:
            return output_stream(self, ref, data, extra=extra)
        compressed = _deflated(data, level)
        self.beginStream(ref.id, None, extra)
        self.currentstream.compressobj = _Deflated(compressed)
        self.currentstream.write(data)
        self.endStream()
        return None

    output.__wrapped__ = output_stream
    return output


def _pdf_streams_compressed_once() -> contextlib.AbstractContextManager[None]:
    """Streams written through :func:`_streams_compressed_once`, matplotlib's own put
    back on exit."""
    from matplotlib.backends.backend_pdf import PdfFile

    return _wrapped(PdfFile, "outputStream", _streams_compressed_once)


class _DeflatedAtEnd:
    """Stands in for a stream's zlib compressor: keeps what is written and deflates it
    in one call when the stream ends.

    matplotlib writes a chart's drawing into its page stream in some 1 000 small pieces
    (an operator, a path), each through the compressor; deflate's output does not depend
    on how its input is split (it waits for enough input to choose its matches), so one
    call over the whole gives the same bytes for a fraction of the calls.
    """

    __slots__ = ("_level", "_pieces")

    def __init__(self, level: int) -> None:
        self._level = level
        self._pieces: list[bytes] = []

    def compress(self, data: bytes) -> bytes:
        self._pieces.append(data if type(data) is bytes else bytes(data))
        return b""

    def flush(self) -> bytes:
        return zlib.compress(b"".join(self._pieces), self._level)


def _deflating_at_end(begin_stream: Callable) -> Callable:
    """``PdfFile.beginStream`` whose stream, when compressed, is deflated when it ends
    (:class:`_DeflatedAtEnd`) rather than piece by piece."""
    import matplotlib as mpl

    def begin(self, id, len, extra=None, png=None):
        begin_stream(self, id, len, extra, png)
        stream = self.currentstream
        level = mpl.rcParams["pdf.compression"]
        if level and png is None and type(stream.compressobj) is _ZLIB_COMPRESSOR:
            stream.compressobj = _DeflatedAtEnd(level)

    begin.__wrapped__ = begin_stream
    return begin


#: The type of a zlib compressor (what matplotlib's ``Stream`` makes).
_ZLIB_COMPRESSOR = type(zlib.compressobj())


def _pdf_streams_deflated_at_end() -> contextlib.AbstractContextManager[None]:
    """Streams begun through :func:`_deflating_at_end`, matplotlib's own put back on exit."""
    from matplotlib.backends.backend_pdf import PdfFile

    return _wrapped(PdfFile, "beginStream", _deflating_at_end)


def _pdf_texts_kept() -> contextlib.AbstractContextManager[None]:
    """PDF text written through :func:`_pdf_text_once`, matplotlib's own put back on exit."""
    from matplotlib.backends.backend_pdf import RendererPdf

    return _wrapped(RendererPdf, "draw_text", _pdf_text_once)


def _numbers_first(pdf_repr: object) -> object:
    """matplotlib's ``pdfRepr`` with plain floats and ints written first.

    Most of what a PDF page holds is numbers; matplotlib asks each whether it has a
    ``pdfRepr`` method (a failed attribute lookup) before formatting it. Floats (also
    NumPy's) and ints are formatted here exactly as there (``%.10f`` without trailing
    zeros, ``%d``), operators as their bytes; everything else, booleans included, goes
    to matplotlib's own.
    """
    from matplotlib.backends.backend_pdf import Op

    def written(obj: object) -> bytes:
        kind = type(obj)
        if kind is float or kind is np.float64:
            if not math.isfinite(obj):
                raise ValueError("Can only output finite numbers in PDF")
            return (b"%.10f" % obj).rstrip(b"0").rstrip(b".")
        if kind is int:
            return b"%d" % obj
        if kind is Op:
            return obj.value
        return pdf_repr(obj)

    written.__wrapped__ = pdf_repr
    return written


def _glyphs_found_by_font(track_glyph: Callable) -> Callable:
    """``CharacterTracker.track_glyph`` finding a glyph already recorded without
    matplotlib's per-call font key.

    A PDF records every glyph of every text it writes (about 42 000 per report), and
    matplotlib builds a ``FontPath`` for each and hashes it (in Python) twice, even
    when the glyph is already recorded, as almost every glyph is. Each tracker here
    keeps its glyph map per font object, and a recorded glyph's (subset, code) is read
    from it directly: the answer matplotlib's lookup gives, which never changes once
    given. A glyph not yet recorded goes to matplotlib's own, which records it.
    """

    def found(self, font, chars, glyph):
        maps = self.__dict__.get("_maps_by_font")
        if maps is None:
            maps = self.__dict__["_maps_by_font"] = {}
        glyph_map = maps.get(font)
        if glyph_map is not None:
            kept = glyph_map.get(chars if chars.__class__ is str else chr(chars), glyph)
            if kept is not None:
                return kept
        answer = track_glyph(self, font, chars, glyph)
        if glyph_map is None:
            from matplotlib.font_manager import FontPath

            glyph_map = self.glyph_maps.get(FontPath(font.fname, font.face_index))
            if glyph_map is not None:
                maps[font] = glyph_map
        return answer

    found.__wrapped__ = track_glyph
    return found


def _pdf_glyphs_found_by_font() -> contextlib.AbstractContextManager[None]:
    """Glyphs recorded through :func:`_glyphs_found_by_font`, matplotlib's own put back
    on exit."""
    from matplotlib.backends._backend_pdf_ps import CharacterTracker

    return _wrapped(CharacterTracker, "track_glyph", _glyphs_found_by_font)


def _pdf_numbers_first() -> contextlib.AbstractContextManager[None]:
    """PDF objects written through :func:`_numbers_first`, matplotlib's own put back on
    exit (the back end looks ``pdfRepr`` up on its module at every use)."""
    from matplotlib.backends import backend_pdf

    return _wrapped(backend_pdf, "pdfRepr", _numbers_first)


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Settings for reproducible files, restored on exit.

    Fixes ``svg.hashsalt``, embeds PDF fonts as TrueType subsets (``pdf.fonttype``
    42, without layout tables: :data:`LAYOUT_TABLES`) and sets ``SOURCE_DATE_EPOCH``
    (when unset) so that no writer falls back to the clock. PDF streams are compressed
    at :data:`PDF_COMPRESSION` (cheaper than matplotlib's default, same drawing); the
    font files every PDF embeds are compressed once per process
    (:func:`_streams_compressed_once`), and every other stream in one call when it ends
    (:func:`_deflating_at_end`).
    """
    old_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = old_epoch or str(
        int(FIXED_DATE.replace(tzinfo=dt.UTC).timestamp())
    )
    import matplotlib as mpl

    try:
        # TrueType fonts embedded as subsets: text stays text (searchable, sharp) in PDFs
        with (
            mpl.rc_context(
                {"svg.hashsalt": _HASHSALT, "pdf.fonttype": 42, "pdf.compression": PDF_COMPRESSION}
            ),
            _lean_pdf_fonts(),
            _pdf_text_without_glyph_loading(),
            _pdf_texts_kept(),
            _pdf_glyphs_found_by_font(),
            _pdf_numbers_first(),
            _pdf_streams_compressed_once(),
            _pdf_streams_deflated_at_end(),
        ):
            yield
    finally:
        if old_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


#: Entries :func:`_glyphs_once` keeps before its table is emptied (a region report run
#: writes a few thousand distinct texts as SVG).
MAX_SVG_TEXTS = 20_000

#: Text → its glyphs as paths, per font: ``(font, text, features, language)`` →
#: (glyph ids and positions, every glyph's path in order of first use).
_svg_glyphs: dict[tuple, tuple[tuple, dict]] = {}


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


#: Glyph → its outline, as the SVG writer reads it: ``(font object, glyph id)`` → the
#: path (vertices, codes) at ``TextToPath.FONT_SCALE``.
_svg_outlines: dict[tuple, tuple] = {}


def _laid_out(
    text2path: object, font: object, s: str, features: object, language: object
) -> tuple[tuple, dict]:
    """What matplotlib's ``TextToPath.get_glyphs_with_font`` answers for a text (glyph
    ids and positions, each glyph's path in order of first use), each glyph's outline
    read once per process.

    matplotlib loads every glyph of the text into the font to read the outlines of
    those it returns; an outline depends only on the font and the glyph (the font's
    size is always ``FONT_SCALE`` here), so each is loaded and read once
    (:data:`_svg_outlines`), and the text is only shaped.
    """
    from matplotlib.ft2font import LoadFlags

    info, paths = [], {}
    for item in font._layout(s, LoadFlags.NO_HINTING, features=features, language=language):
        glyph = text2path._get_glyph_repr(item.ft_object, item.glyph_index)
        info.append((glyph, item.x, item.y, 1.0))
        if glyph not in paths:
            outline = _svg_outlines.get((item.ft_object, item.glyph_index))
            if outline is None:
                item.ft_object.load_glyph(item.glyph_index, flags=LoadFlags.NO_HINTING)
                outline = _keep(
                    _svg_outlines,
                    (item.ft_object, item.glyph_index),
                    item.ft_object.get_path(),
                    MAX_SVG_TEXTS,
                )
            paths[glyph] = outline
    return tuple(info), paths


def _glyphs_once(original: Callable) -> Callable:
    """``TextToPath.get_glyphs_with_font`` that lays a text out once per process.

    The SVG writer draws every text as glyph paths: it shapes the text, loads each
    glyph into the font and reads its outline, every time the text is written. The
    same tick labels, titles and legend texts come back in chart after chart, so
    the positions and outlines are kept per font object (``get_font`` keeps one per
    font files) and text. The answer is matplotlib's own: the glyphs the file does
    not define yet (``glyph_map``), in the order of their first use in the text.
    """

    def get_glyphs_with_font(
        self: object,
        font: object,
        s: str,
        glyph_map: dict | None = None,
        return_new_glyphs_only: bool = False,
        *,
        features: object = None,
        language: object = None,
    ) -> tuple[list, dict, list]:
        key = (font, s, _hashable(features), _hashable(language))
        try:
            entry = _svg_glyphs.get(key)
        except TypeError:  # features or language not hashable: matplotlib's own
            return original(
                self,
                font,
                s,
                glyph_map,
                return_new_glyphs_only,
                features=features,
                language=language,
            )
        if entry is None:
            entry = _keep(
                _svg_glyphs, key, _laid_out(self, font, s, features, language), MAX_SVG_TEXTS
            )
        info, paths = entry
        if glyph_map is None:
            glyph_map = OrderedDict()
        new = OrderedDict() if return_new_glyphs_only else glyph_map
        for glyph, path in paths.items():
            if glyph not in glyph_map:
                new[glyph] = path
        return list(info), new, []

    get_glyphs_with_font.__wrapped__ = original
    return get_glyphs_with_font


#: Elements of SVG text written once per process: the glyph references of a text and
#: the definitions of glyphs, each at its depth in the file (:func:`_svg_elements`).
_svg_written: dict[tuple, str] = {}


def _svg_elements(key: tuple, depth: int, elements: Callable[[], Iterable[dict]]) -> str:
    """Empty elements as matplotlib's SVG writer writes them at ``depth`` (open
    elements around them), kept under ``(key, depth)``.

    ``elements`` gives the tag and attributes of each, as the writer's ``element`` takes
    them; they are written by a writer of matplotlib's own, so indentation, attribute
    order, escaping and quoting are its own.
    """
    written = _svg_written.get((key, depth))
    if written is None:
        from matplotlib.backends.backend_svg import _XMLWriter

        out = io.StringIO()
        writer = _XMLWriter(out)
        writer._XMLWriter__tags.extend(["g"] * depth)  # inside ``depth`` open elements
        for element in elements():
            writer.element(**element)
        written = _keep(_svg_written, (key, depth), out.getvalue(), MAX_SVG_TEXTS)
    return written


def _write_elements(writer: object, text: str) -> None:
    """``text`` (:func:`_svg_elements`) written by ``writer`` as its ``element`` calls
    would write them: the open start tag closed first."""
    writer._XMLWriter__flush()
    writer._XMLWriter__write(text)


def _svg_text_once(draw: Callable) -> Callable:
    """``RendererSVG._draw_text_as_path`` writing the repeated parts of a text once per
    process.

    A text is a group (``<g>`` with its colour and position) holding a reference
    (``<use>``) to each glyph, after the definitions (``<path>``) of the glyphs the
    file does not have yet. matplotlib writes each reference and definition element
    by element; they depend only on the glyphs and positions (:func:`_glyphs_once`),
    so each text's references and each glyph's definition are written once per
    process and depth (:func:`_svg_elements`). The group, the comment and which glyphs
    get defined are matplotlib's. Math text and a writer other than matplotlib's
    go to matplotlib's own.
    """
    from matplotlib.backends import backend_svg as svg
    from matplotlib.colors import rgb2hex

    def drawn(self, gc, x, y, s, prop, angle, ismath, mtext=None):
        writer = self.writer
        if ismath or type(writer) is not svg._XMLWriter:
            return draw(self, gc, x, y, s, prop, angle, ismath, mtext)
        text2path = self._text2path
        if mtext is not None:
            features, language = mtext.get_fontfeatures(), mtext.get_language()
        else:
            features = language = None
        font = text2path._get_font(prop)
        # the references are the text's glyphs and positions, fixed for the text
        key = ("use", font, s, _hashable(features), _hashable(language))
        try:
            hash(key)
        except TypeError:
            return draw(self, gc, x, y, s, prop, angle, ismath, mtext)
        # as matplotlib's own, up to the glyphs
        writer.comment(s)
        color = rgb2hex(gc.get_rgb())
        fontsize = prop.get_size_in_points()
        style = {}
        if color != "#000000":
            style["fill"] = color
        alpha = gc.get_alpha() if gc.get_forced_alpha() else gc.get_rgb()[3]
        if alpha != 1:
            style["opacity"] = svg._short_float_fmt(alpha)
        font_scale = fontsize / text2path.FONT_SCALE
        writer.start(
            "g",
            style=svg._generate_css(style),
            transform=svg._generate_transform(
                [
                    ("translate", (x, y)),
                    ("rotate", (-angle,)),
                    ("scale", (font_scale, -font_scale)),
                ]
            ),
        )
        glyph_info, glyph_map_new, _rects = text2path.get_glyphs_with_font(
            font,
            s,
            features=features,
            language=language,
            glyph_map=self._glyph_map,
            return_new_glyphs_only=True,
        )
        _define_glyphs(self, glyph_map_new)
        if glyph_info:
            _write_elements(
                writer,
                _svg_elements(
                    key,
                    len(writer._XMLWriter__tags),
                    functools.partial(_glyph_references, glyph_info),
                ),
            )
        writer.end("g")

    drawn.__wrapped__ = draw
    return drawn


def _glyph_references(glyph_info: Iterable[tuple]) -> Iterator[dict]:
    """The ``<use>`` elements of a text's glyphs, as matplotlib's SVG writer makes them."""
    from matplotlib.backends.backend_svg import _generate_transform

    for glyph, x, y, scale in glyph_info:
        yield {
            "tag": "use",
            "transform": _generate_transform([("translate", (x, y)), ("scale", (scale,))]),
            "attrib": {"xlink:href": f"#{glyph}"},
        }


def _define_glyphs(renderer: object, new: Mapping[str, tuple]) -> None:
    """matplotlib's ``_update_glyph_map_defs``: the ``<defs>`` of the glyphs new to the
    file, each glyph's ``<path>`` written once per process (:func:`_svg_elements`)."""
    if not new:
        return
    writer = renderer.writer
    writer.start("defs")
    depth = len(writer._XMLWriter__tags)
    for glyph, (vertices, codes) in new.items():
        key = ("path", glyph, vertices.tobytes(), codes.tobytes())
        _write_elements(
            writer,
            _svg_elements(
                key, depth, functools.partial(_glyph_definition, renderer, glyph, vertices, codes)
            ),
        )
    writer.end("defs")
    renderer._glyph_map.update(new)


def _glyph_definition(
    renderer: object, glyph: str, vertices: object, codes: object
) -> Iterator[dict]:
    """The ``<path>`` element defining a glyph, as matplotlib's SVG writer makes it."""
    from matplotlib.backends.backend_svg import _generate_transform
    from matplotlib.path import Path

    # x64 to go back to FreeType's internal (integral) units, as matplotlib does
    yield {
        "tag": "path",
        "id": renderer._adjust_glyph_repr(glyph),
        "d": renderer._convert_path(Path(vertices * 64, codes), simplify=False),
        "transform": _generate_transform([("scale", (1 / 64,))]),
    }


@contextlib.contextmanager
def _svg_text_glyphs_once() -> Iterator[None]:
    """SVG text drawn through :func:`_glyphs_once` and :func:`_svg_text_once`,
    matplotlib's own put back on exit."""
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.textpath import TextToPath

    with (
        _wrapped(TextToPath, "get_glyphs_with_font", _glyphs_once),
        _wrapped(RendererSVG, "_draw_text_as_path", _svg_text_once),
    ):
        yield


@contextlib.contextmanager
def _no_layout_predraw(fig: Figure) -> Iterator[None]:
    """Save ``fig`` without the extra drawing ``savefig`` makes for a layout engine.

    ``Figure.tight_layout`` leaves a ``PlaceHolderLayoutEngine`` on the figure, an
    engine that does nothing. Because the figure then has *an* engine, every
    ``savefig`` draws the whole figure once without output (for the engine to lay it
    out) before drawing it into the file: a second full drawing of every text, tick
    and legend per file, for nothing. The place holder is taken off while saving and
    put back afterwards; any other engine (tight, constrained) is left to work.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if type(engine) is not PlaceHolderLayoutEngine:
        yield
        return
    fig._layout_engine = None
    try:
        yield
    finally:
        fig._layout_engine = engine


def save_figure(
    fig: Figure,
    stem: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    png: bytes | None = None,
) -> list[Path]:
    """Save ``fig`` as ``<stem>.png``, ``.svg`` and ``.pdf`` without time stamps.

    Parameters
    ----------
    fig
        A finished figure.
    stem
        Path without suffix, e.g. ``figurer/otrygghet_trend``.
    formats
        Any of ``png``, ``svg``, ``pdf``.
    png
        The PNG already rendered with :func:`figure_png_bytes` (saves drawing it twice).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.
    """
    stem = _with_folder(stem)
    written = []
    with deterministic(), _no_layout_predraw(fig):
        for fmt in formats:
            if fmt not in _METADATA:
                raise ValueError(f"unknown format {fmt!r}; allowed: {list(_METADATA)}")
            path = stem.with_name(f"{stem.name}.{fmt}")
            if fmt == "png" and png is not None:
                path.write_bytes(png)
                written.append(path)
                continue
            if fmt == "png":
                path.write_bytes(_png_of(fig))
                written.append(path)
                continue
            with _svg_text_glyphs_once() if fmt == "svg" else contextlib.nullcontext():
                fig.savefig(path, format=fmt, metadata=_METADATA[fmt])
            written.append(path)
    return written


def figure_png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for embedding in HTML), without time stamps, at
    :data:`PNG_COMPRESS_LEVEL`; RGB when every pixel is opaque (:func:`_png_bytes`)."""
    with deterministic(), _no_layout_predraw(fig):
        return _png_of(fig)


class _DrawnImage(io.RawIOBase):
    """A file for ``savefig(format="raw")`` that keeps the image instead of its bytes.

    The Agg back end writes its drawing as one buffer of shape (height, width, 4);
    it is kept (not copied) as :attr:`rgba`, with the figure's dpi while it was
    saved (the saving dpi, which the PNG records).
    """

    def __init__(self, fig: Figure) -> None:
        super().__init__()
        self._fig = fig
        self.rgba: np.ndarray | None = None
        self.dpi: float = fig.dpi

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        self.rgba, self.dpi = np.asarray(data), self._fig.dpi
        return self.rgba.nbytes


def _png_of(fig: Figure) -> bytes:
    """``fig`` drawn by ``savefig`` (Agg) and written by :func:`_png_bytes`."""
    drawn = _DrawnImage(fig)
    fig.savefig(drawn, format="raw")
    if drawn.rgba is None or drawn.rgba.ndim != 3:
        raise RuntimeError("savefig(format='raw') wrote no Agg image")
    return _png_bytes(drawn.rgba, dpi=drawn.dpi)


def _png_bytes(rgba: np.ndarray, *, dpi: float) -> bytes:
    """An RGBA image (height, width, 4; uint8) as PNG bytes, as matplotlib's
    ``savefig`` writes a figure, but RGB (PNG colour type 2) when every pixel is opaque.

    The chunks are those matplotlib writes (``pHYs`` from ``dpi``, the ``tEXt``
    entries of ``_METADATA["png"]``, which drops ``Software``), at
    :data:`PNG_COMPRESS_LEVEL`. A chart is opaque (its background is painted):
    three bytes a pixel instead of four, written by :func:`_opaque_png` (rows filtered
    "Up", zlib-ng) when there is no text chunk to write; the decoded pixels are the
    same, alpha 255 being implied. An image with any transparent pixel stays RGBA,
    written by Pillow as matplotlib writes it.

    Parameters
    ----------
    rgba
        The pixels, rows from the top.
    dpi
        Pixels per inch recorded in the file.

    Returns
    -------
    bytes
        The PNG file.
    """
    from PIL import Image, PngImagePlugin  # Pillow: matplotlib's own PNG writer

    rgba = np.require(rgba, np.uint8, "C")
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"rgba must have shape (height, width, 4), not {rgba.shape}")
    size = (rgba.shape[1], rgba.shape[0])
    texts = {k: v for k, v in _METADATA["png"].items() if v is not None}
    # alpha is the high byte of each little-endian 32-bit pixel: one comparison a pixel
    opaque = bool((rgba.view("<u4") >= 0xFF000000).all())
    if opaque and not texts:  # every report chart (no text chunk is written)
        return _opaque_png(rgba, dpi=dpi)
    if opaque:
        image = Image.frombytes("RGB", size, rgba, "raw", "RGBX", 0, 1)
    else:
        image = Image.frombuffer("RGBA", size, rgba, "raw", "RGBA", 0, 1)
    info = PngImagePlugin.PngInfo()
    for key, value in _METADATA["png"].items():
        if value is not None:
            info.add_text(key, value)
    out = io.BytesIO()
    image.save(out, format="png", pnginfo=info, dpi=(dpi, dpi), **_PNG_OPTIONS)
    return out.getvalue()


#: The eight bytes every PNG file starts with.
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG's filter type "Up": each byte stored as its difference from the byte above it.
_PNG_FILTER_UP = 2


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _opaque_png(rgba: np.ndarray, *, dpi: float) -> bytes:
    """An opaque RGBA image (alpha 255 everywhere) as an RGB PNG file with the chunks
    Pillow writes for it (``IHDR``, ``pHYs`` from ``dpi``, ``IDAT``, ``IEND``).

    Pillow chooses a filter for every row by trying four of them over every byte, which
    cost more than half of writing a chart (Pillow has no option to choose one). A
    chart is flat colour and straight lines, so every row here is filtered "Up" (its
    difference from the row above: zero wherever the row repeats) in one numpy
    subtraction, and deflated by zlib-ng at :data:`PNG_COMPRESS_LEVEL` (the compressor
    of ``tabeller.xlsx``). Any PNG reader decodes the same pixels as from Pillow's file
    (tests/test_export.py); the file is a few per cent larger.
    """
    from zlib_ng import zlib_ng

    height, width = rgba.shape[:2]
    rgb = rgba[..., :3].reshape(height, 3 * width)  # a copy: the alpha bytes left out
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = _PNG_FILTER_UP
    rows[0, 1:] = rgb[0]  # the row above the first is zeros
    np.subtract(rgb[1:], rgb[:-1], out=rows[1:, 1:])  # modulo 256, as PNG defines it
    per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow rounds it
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib_ng.compress(rows.data, PNG_COMPRESS_LEVEL)),
            _png_chunk(b"IEND", b""),
        )
    )


@dataclass(frozen=True)
class BookPage:
    """A chart on a page of the chart book, drawn once for the page and its own PDF file.

    ``header`` is a figure of the page's size holding the page's own texts (title,
    explanation); ``chart`` is drawn on top of it with its lower left corner ``offset``
    inches from the page's lower left corner, in the same drawing that writes the
    chart's own PDF file ``pdf`` (the bytes :func:`save_figure` writes for it).
    """

    header: Figure
    chart: Figure
    offset: tuple[float, float]
    pdf: Path


#: Drawing calls of a chart that the chart book's page gets as the bytes the chart's own
#: PDF file gets (:class:`_Copy`): they write only numbers, operators and resource names.
_COPIED = frozenset(
    {"draw_path", "draw_markers", "draw_path_collection", "open_group", "close_group", "finalize"}
)

#: ``PdfFile`` methods that name a resource of the file (transparency state, hatch
#: pattern, marker, path template) which the copied drawing calls write into the page.
_RESOURCES = ("alphaState", "hatchPattern", "markerObject", "pathCollectionObject")

#: The names ``PdfFile`` gives its resources (fonts, transparency and soft mask states,
#: hatch patterns, images, markers, path templates, shadings): differ between files.
_RESOURCE_NAME = re.compile(rb"(F|A|SM|H|I|M|P|GT)[0-9]+")


class _Copy:
    """Writes what a chart's PDF renderer writes into its file on a page of another PDF
    file too, while :attr:`on`.

    Installed on the chart's own file for one chart. Lines written through ``output``
    go to both files; a resource name in them (:data:`_RESOURCES`) is replaced by the
    page file's name for the same resource, which the page file is asked for with the
    same arguments, in the same order, as a renderer drawing on the page would ask. A
    name of a resource asked for otherwise, or a name in anything written other than
    through ``output``, stops the drawing (``RuntimeError``) rather than write a page
    that names the chart's resources.
    """

    def __init__(self, file: object, page: object) -> None:
        self.file = file
        self.page = page
        self.on = False
        self._names: dict[object, object] = {}
        self._write = type(file).write
        file.output = self.output
        file.write = self.write
        for name in _RESOURCES:
            setattr(file, name, self._asked(getattr(file, name), getattr(page, name)))

    def _asked(self, own: Callable, page: Callable) -> Callable:
        def asked(*args: object, **kwargs: object) -> object:
            name = own(*args, **kwargs)
            if self.on:
                self._names[name] = page(*args, **kwargs)
            return name

        return asked

    def output(self, *data: object) -> None:
        """``PdfFile.output``: the line written into the file, and onto the page."""
        from matplotlib.backends import backend_pdf

        line = backend_pdf._fill([backend_pdf.pdfRepr(x) for x in data])
        self._write(self.file, line)
        self._write(self.file, b"\n")
        if self.on:
            if b"/" in line:
                line = backend_pdf._fill(self._page_pieces(data))
            self.page.write(line)
            self.page.write(b"\n")

    def _page_pieces(self, data: tuple) -> list[bytes]:
        """The pieces of an ``output`` line as written onto the page: resource names
        replaced (:meth:`_asked`), everything else as written into the chart's file."""
        from matplotlib.backends import backend_pdf

        pieces = []
        for x in data:
            if type(x) is backend_pdf.Name:
                page = self._names.get(x)
                if page is None and _RESOURCE_NAME.fullmatch(x.name):
                    raise RuntimeError(f"the chart book page cannot name the resource {x}")
                x = x if page is None else page
                pieces.append(x.pdfRepr())
                continue
            piece = backend_pdf.pdfRepr(x)
            if b"/" in piece:
                raise RuntimeError(f"the chart book page cannot copy {piece[:40]!r}")
            pieces.append(piece)
        return pieces

    def write(self, data: bytes) -> None:
        """``PdfFile.write``: into the file, and onto the page unless it holds a name."""
        self._write(self.file, data)
        if self.on:
            if b"/" in data:
                raise RuntimeError(f"the chart book page cannot copy {bytes(data[:40])!r}")
            self.page.write(data)


def _state_copy(gc: object, file: object) -> object:
    """A PDF renderer's graphics state ``gc`` (with the states pushed under it) for a
    renderer drawing into ``file``."""
    from matplotlib.backends.backend_pdf import GraphicsContextPdf

    copy = GraphicsContextPdf(file)
    copy.copy_properties(gc)
    copy.parent = None if gc.parent is None else _state_copy(gc.parent, file)
    return copy


def _text_copied(
    first: object,
    copy: _Copy,
    gc: object,
    x: float,
    y: float,
    s: str,
    prop: object,
    angle: float,
    ismath: object = False,
    mtext: object = None,
) -> bool:
    """Draw a text with the first renderer and copy it onto the page (:class:`_Copy`)
    when both files have its written text kept (:func:`_pdf_text_once`): each file's
    text with its own codes and font names, the rest copied. False, with nothing
    drawn, otherwise."""
    import matplotlib as mpl
    from matplotlib.backends.backend_pdf import Op

    file, page = first.file, copy.page
    if (
        ismath
        or gc.get_url() is not None
        or mpl.rcParams["pdf.use14corefonts"]
        or mpl.rcParams["pdf.fonttype"] != 42
        or file.currentstream is None
        or page.currentstream is None
    ):
        return False
    key = _text_key(first, s, prop, mtext)
    if key is None:
        return False
    glyphs = _text_glyphs(key)
    # recording the glyphs in a file again (when drawn after all) changes nothing
    codes, names = _tracked_once(file, key, glyphs)
    page_codes, page_names = _tracked_once(page, key, glyphs)
    template = _pdf_bodies.get((key, codes))
    page_template = _pdf_bodies.get((key, page_codes))
    if template is None or page_template is None:
        return False
    a = math.radians(angle)
    copy.on = True
    try:
        first.check_gc(gc, gc._rgb)
        file.output(Op.gsave)
        file.output(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y, Op.concat_matrix)
        copy.on = False
        file.write(_filled(template, names))
        page.write(_filled(page_template, page_names))
        copy.on = True
        file.output(Op.grestore)
    finally:
        copy.on = False
    return True


class _Both:
    """A PDF renderer whose drawing goes onto a page of another PDF file too.

    Questions (text sizes, canvas size, dpi) go to the first renderer. Paths, markers,
    path collections and texts already written once (:func:`_pdf_text_once`) are
    drawn by the first renderer only and copied onto the page (:class:`_Copy`), which
    gets the same bytes a second renderer drawing on it would write: both start from
    the same graphics state and get the same calls, and only the names of the files'
    resources differ. Every other drawing call is drawn by both renderers, the second
    one first given the graphics state the copied calls left. Each file keeps its own
    fonts, images and patterns, so both files are complete.
    """

    _DRAWING = frozenset(
        {
            "draw_path",
            "draw_markers",
            "draw_path_collection",
            "draw_quad_mesh",
            "draw_gouraud_triangles",
            "draw_image",
            "draw_text",
            "draw_tex",
            "draw_mathtext",
            "open_group",
            "close_group",
            "finalize",
        }
    )

    def __init__(self, first: object, second: object) -> None:
        self._first = first
        self._second = second
        self._copy = _Copy(first.file, second.file)
        self._behind = False  # the second renderer's graphics state behind the first's

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._first, name)
        if name not in self._DRAWING:
            return attr
        if name in _COPIED:
            return functools.partial(self._copied, attr)
        if name == "draw_text":
            return functools.partial(self._text, attr)
        return functools.partial(self._twice, getattr(self._second, name), attr)

    def _copied(self, draw: Callable, *args: object, **kwargs: object) -> object:
        self._behind = True
        self._copy.on = True
        try:
            return draw(*args, **kwargs)
        finally:
            self._copy.on = False

    def _twice(self, again: Callable, draw: Callable, *args: object, **kwargs: object) -> object:
        if self._behind:
            self._second.gc = _state_copy(self._first.gc, self._second.file)
            self._behind = False
        again(*args, **kwargs)
        return draw(*args, **kwargs)

    def _text(self, draw: Callable, *args: object, **kwargs: object) -> object:
        if _text_copied(self._first, self._copy, *args, **kwargs):
            self._behind = True
            return None
        return self._twice(self._second.draw_text, draw, *args, **kwargs)


def _draw_on_page(file: object, fig: Figure) -> None:
    """Draw ``fig`` on the current page of a matplotlib ``PdfFile`` (as ``print_pdf``)."""
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_pdf import RendererPdf

    dpi = fig.dpi
    width, height = fig.get_size_inches()
    fig.dpi = 72  # 72 PDF points to an inch
    try:
        renderer = MixedModeRenderer(fig, width, height, dpi, RendererPdf(file, dpi, height, width))
        fig.draw(renderer)
        renderer.finalize()
    finally:
        fig.dpi = dpi


def _add_book_page(book: object, page: BookPage) -> None:
    """The header on a new page of ``book``, then the chart on top of it, moved by
    ``page.offset``, in the drawing that saves ``page.pdf``."""
    from matplotlib.backends import backend_pdf

    file = book._ensure_file()
    width, height = page.header.get_size_inches()
    file.newPage(width, height)
    # each drawing inside its own q … Q: the chart's drawing starts from the page's
    # initial graphics state, as in its own file
    file.output(backend_pdf.Op.gsave)
    _draw_on_page(file, page.header)
    file.output(backend_pdf.Op.grestore)
    dx, dy = (72 * float(v) for v in page.offset)
    file.output(backend_pdf.Op.gsave, 1, 0, 0, 1, dx, dy, backend_pdf.Op.concat_matrix)
    real = backend_pdf.RendererPdf
    made: list[object] = []

    def renderer(chart_file: object, dpi: float, h: float, w: float) -> object:
        # the chart's own file, and the same drawing on the page
        first = real(chart_file, dpi, h, w)
        made.append(first)
        return _Both(first, real(file, dpi, h, w)) if len(made) == 1 else first

    chart_w, chart_h = page.chart.get_size_inches()
    # markers are left out beyond the chart's edges, as in its own file
    file.width, file.height = chart_w, chart_h
    backend_pdf.RendererPdf = renderer
    try:
        # without savefig's layout pre-draw, the one drawing is the one that writes both
        with _no_layout_predraw(page.chart):
            page.chart.savefig(_with_folder(page.pdf), format="pdf", metadata=_METADATA["pdf"])
    finally:
        backend_pdf.RendererPdf = real
        file.width, file.height = width, height
    file.output(backend_pdf.Op.grestore)
    file.endStream()


def write_pdf_book(
    path: str | Path, pages: Iterable[Figure | BookPage], *, title: str = ""
) -> Path:
    """Write figures as the pages of one PDF, without dates.

    Parameters
    ----------
    path
        The PDF file.
    pages
        Figures, one a page, in order. Each is saved at its own size. A
        :class:`BookPage` is a chart on a page with a header; the chart's own PDF file
        is written in the same drawing (each chart drawn once for both files).
    title
        The PDF's document title (shown by PDF readers; helps screen readers).

    Returns
    -------
    Path
        ``path``.
    """
    path = _with_folder(path)
    meta: dict[str, object] = dict(_METADATA["pdf"])
    if title:
        meta["Title"] = title
    from matplotlib.backends.backend_pdf import PdfPages

    with deterministic(), PdfPages(path, metadata=meta) as book:
        for page in pages:
            if isinstance(page, BookPage):
                _add_book_page(book, page)
            else:
                book.savefig(page)
    return path


def neutralise(value: object) -> object:
    """Make text that a spreadsheet would read as a formula harmless.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe (OWASP, "CSV injection"); everything else is returned as is.

    Examples
    --------
    >>> neutralise("=SUMMA(A1:A3)")
    "'=SUMMA(A1:A3)"
    >>> neutralise("Älmhult")
    'Älmhult'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, (bool, int, float, dt.date, dt.datetime)):
        return value
    return neutralise(str(value))


def _column_values(column: pd.Series) -> list[object]:
    """Cell values of one column: numbers stay numbers, missing values become None."""
    return _cells_and_head(column)[0]


def _cells_and_head(column: pd.Series) -> tuple[list[object], list[object]]:
    """:func:`_column_values` of ``column``, and its first :data:`_WIDTH_ROWS` values as
    ``column.iloc[:_WIDTH_ROWS].tolist()`` gives them (which size the column): taken
    from the values the cells are made of where the dtype allows, since slicing each
    of a report's 300 columns cost more than sizing them."""
    dtype = column.dtype
    if dtype == _FLOAT64:
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        out: list[object] = values.tolist()
        head = out[:_WIDTH_ROWS]
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[i] = None
        return out, head
    if dtype == _INT64 or dtype == _BOOL:
        out = column.tolist()
        return out, out[:_WIDTH_ROWS]
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        raw = column.tolist()
        return _text_cells(raw), raw[:_WIDTH_ROWS]
    return _other_cells(column), column.iloc[:_WIDTH_ROWS].tolist()


def _other_cells(column: pd.Series) -> list[object]:
    """:func:`_column_values` of a column that is neither float64, int64, bool nor text."""
    if pd.api.types.is_float_dtype(column.dtype) and not isinstance(
        column.dtype, pd.CategoricalDtype
    ):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        out: list[object] = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[i] = None
        return out
    if isinstance(column.dtype, pd.CategoricalDtype):
        # each category made a cell once; code -1 (missing) takes the None at the end
        cells = [_cell_value(v) for v in column.cat.categories.astype(object).tolist()]
        cells.append(None)
        return list(map(cells.__getitem__, column.cat.codes.tolist()))
    return [_cell_value(v) for v in column.astype(object).tolist()]


def _text_cell(value: object) -> object:
    """One value of a text column as a cell: missing → None, a formula neutralised."""
    if value is None or value is pd.NA or value != value:
        return None
    if value.__class__ is str and not value.startswith(_FORMULA_START):  # type: ignore[attr-defined]
        return value
    return neutralise(value)


def _text_cells(values: list[object]) -> list[object]:
    """:func:`_text_cell` of every value, decided once per distinct value: a text column
    repeats a few values (kommun, indicator, label) over thousands of rows, and most
    come out as they went in, so the column is then handed back as it is."""
    try:
        cells = dict.fromkeys(values)
    except TypeError:  # an unhashable value (a list in an object column): one at a time
        return [_text_cell(v) for v in values]
    unchanged = True
    for value in cells:
        cell = cells[value] = _text_cell(value)
        unchanged = unchanged and cell is value
    return values if unchanged else [cells[v] for v in values]


def _width(header: object, values: list[object]) -> int:
    """A column's width in characters: its header's or widest value's text, plus two."""
    widest = max(map(len, map(str, values)), default=0)
    return min(_MAX_WIDTH, max(len(str(header)), widest) + 2)


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    title: str = "",
    number_formats: Mapping[str, Mapping[str, str | Sequence[str]]] | None = None,
    banner: str | None = None,
) -> Path:
    """Write tables as sheets of one xlsx workbook, byte-reproducibly.

    Parameters
    ----------
    path
        The workbook file.
    sheets
        Sheet name (at most 31 characters) → table. Column names are written as they
        are (give them Swedish headers first); text cells that start with ``=``, ``+``,
        ``-`` or ``@`` are neutralised (see :func:`neutralise`). Missing values are
        empty cells.
    title
        The document title property.
    number_formats
        Sheet name → column → Excel number format (``"0.0%"``, ``"#,##0"``), or one
        format per row. Numeric cells of other columns get ``"0"`` (integers) or
        ``"#,##0.00"``, never "General".
    banner
        A line written in bold above the header of every sheet (e.g. "Exempeldata –
        inte verkliga resultat"); the header is then row 2.

    Returns
    -------
    Path
        ``path``.
    """
    for name in sheets:
        if len(name) > 31 or any(c in name for c in "[]:*?/\\"):
            raise ValueError(
                f"invalid sheet name {name!r} (at most 31 characters, none of []:*?/\\)"
            )
    path = _with_folder(path)
    book = Book()
    for name, frame in sheets.items():
        # each column taken out of the frame once, by position (a frame's column lookup
        # costs more than the column's cells for most of the report's small tables)
        cells, heads = [], []
        for _, column in frame.items():
            values, head = _cells_and_head(column)
            cells.append(values)
            heads.append(head)
        # a column is as wide as its header and first 200 cells
        widths = [_width(col, head) for col, head in zip(frame.columns, heads, strict=True)]
        top = [[(str(neutralise(str(c))), "bold") for c in frame.columns]]
        if banner:
            top.insert(0, [(str(neutralise(banner)), "banner")])
        formats = (number_formats or {}).get(name, {})
        book.add_sheet(
            name,
            top=top,
            columns=cells,
            formats=[formats.get(str(c)) for c in frame.columns],
            widths=widths,
            frozen_rows=len(top),
        )
    path.write_bytes(book.to_bytes(title=title, creator="trygghet-analys", when=FIXED_DATE))
    return path


def export_table(
    table: pd.DataFrame,
    path: str | Path,
    *,
    min_n: int | Mapping[str, int] = DEFAULT_MIN_N,
    sheet: str = "Tabell",
    labels: Mapping[str, str] | None = None,
    indicators: pd.DataFrame | None = None,
    title: str = "",
) -> Path:
    """Write an ad-hoc table as xlsx in the report's format, only if it is disclosure-safe.

    Parameters
    ----------
    table
        A table with the report's column names, e.g. from
        :func:`~trygghet_analys.estimate_indicators` after
        :func:`~trygghet_analys.suppress`. A table with an ``estimate`` column must
        have ``n``.
    path
        The xlsx file (its folder is created).
    min_n
        The kommun's ``min_n`` (``tables.kommun.min_n``), or a mapping kommun → ``min_n``.
    sheet
        Sheet name (at most 31 characters).
    labels
        Indicator id → Swedish label for an ``indicator`` column, besides the package's
        (e.g. ``{"mycket_otrygg": "Mycket otrygg ute sent"}``).
    indicators
        Definitions whose labels are used too (:func:`~trygghet_analys.define_indicator`).
    title
        The workbook's title property.

    Returns
    -------
    Path
        ``path``, written like the report's ``tabeller.xlsx`` (:func:`write_xlsx`,
        Swedish headers, an ``Indikator`` label column beside the id), byte-reproducible.

    Raises
    ------
    DataError
        A shown estimate rests on fewer than ``min_n`` respondents, or a complementary
        group is not hidden (:func:`trygghet_analys.stats.disclosure.check_disclosure`);
        nothing is written.
    """
    # the report's vocabulary and the disclosure rules; imported here because files/ is
    # read by the pipeline, which must not pull in the report's modules
    from ..report.charts import swedish_headers
    from ..stats.disclosure import check_disclosure
    from ..survey.indicators import load_indicators

    path = Path(path)
    check_disclosure(table, min_n=min_n, file=path)
    frame = table.reset_index(drop=True)
    if "indicator" in frame.columns and "label" not in frame.columns:
        package = load_indicators()
        names = dict(zip(package["id"], package["label"], strict=True))
        if indicators is not None:
            names |= dict(zip(indicators["id"], indicators["label"], strict=True))
        names |= dict(labels or {})
        at = list(frame.columns).index("indicator") + 1
        frame.insert(at, "label", frame["indicator"].map(lambda i: names.get(i, i)))
    return write_xlsx(path, {sheet: swedish_headers(frame)}, title=title)
