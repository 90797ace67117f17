"""Text measurements that matplotlib repeats, kept for every drawing of a report.

matplotlib lays a text out anew whenever it is drawn or measured: it looks up the font
files for the text's font properties, reads the font's height tables, and asks the
renderer for the text's width, height and descent. It keeps the last of these per
*renderer object*; but a report draws each chart with many renderers (an Agg canvas for
the PNG, the facts and the legend check, one for the SVG file, one for the PDF files)
and draws the same tick labels, titles and legend texts in chart after chart. Inside
:func:`shared_text_layout` the three answers are kept once per process instead:

- the text metrics per *kind* of renderer: its class (the PDF renderer under
  ``MixedModeRenderer`` and :class:`~trygghet_analys.files.export._Both`), its dots per
  inch and the text and font settings (``text.*``, ``mathtext.*``, ``font.*``, and the
  AFM switches of the PDF and PS back ends), besides matplotlib's own key (text, font
  properties, math or not, figure dpi);
- the font files for font properties, for the text layout and every back end (Agg, SVG,
  PDF), keyed as matplotlib's own ``findfont`` cache is (the properties' hash tuple and
  the ``font.*`` settings it reads);
- each font file's ``OS/2``, ``hhea`` and ``head`` tables, which do not change (all that
  ``Text._get_layout`` reads of the font it gets);
- the bitmap of each glyph the Agg renderer draws (the PNG files, the facts and the
  legend check), per font, size, dots per inch, transform, position within its pixel,
  glyph, hinting and render mode (:func:`_agg_glyphs_kept`).

Every answer is what matplotlib computes itself: the report's files are byte for byte
the same with and without it (``tests/test_report.py``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

from . import shapestore

__all__ = ["shared_text_layout"]

#: Agg glyph bitmaps kept before the table is emptied (a report draws some 3 500
#: distinct ones, a region run more).
MAX_GLYPHS = 20_000

#: Entries kept per kind of renderer before its table is emptied (a region report run
#: draws tens of thousands of distinct texts).
MAX_ENTRIES = 50_000

#: rcParams a renderer's text metrics may read.
_RC_PREFIXES = ("text.", "mathtext.", "font.", "pdf.use14corefonts", "ps.useafm")

#: The ``font.*`` settings ``FontManager.findfont`` puts in its cache key (matplotlib 3.11).
_FINDFONT_RC = tuple(
    f"font.{key}"
    for key in (
        "family",
        "style",
        "variant",
        "weight",
        "stretch",
        "size",
        "serif",
        "sans-serif",
        "cursive",
        "fantasy",
        "monospace",
    )
)

#: An rcParams value as stored.
_STORED = dict.__getitem__

#: Environment variables ``findfont`` reads, as they were when the block began.
_environment: dict[str, str | None] = {}
_metrics: dict[tuple, dict[tuple, tuple[float, float, float]]] = {}
_per_renderer: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_fonts: dict[tuple, object] = {}
_tables: dict[tuple, _FontTables] = {}
_sizes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_layouts: dict[tuple, tuple] = {}
_installed = threading.local()


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _drawing_renderer(renderer: object) -> object:
    """The renderer that answers text questions: inside ``MixedModeRenderer`` and
    :class:`~trygghet_analys.files.export._Both` (which asks its first renderer)."""
    while True:
        inner = renderer.__dict__.get("_renderer") if hasattr(renderer, "__dict__") else None
        if type(renderer).__name__ == "MixedModeRenderer" and inner is not None:
            renderer = inner
        elif type(renderer).__name__ == "_Both":
            renderer = renderer._first
        else:
            return renderer


@functools.cache
def _rc_keys() -> tuple[str, ...]:
    """The rcParams keys of :data:`_RC_PREFIXES`, in rcParams' order (matplotlib's set of
    keys is fixed: a key it does not know cannot be set)."""
    import matplotlib as mpl

    return tuple(key for key in mpl.rcParams if key.startswith(_RC_PREFIXES))


def _renderer_kind(renderer: object) -> tuple:
    import matplotlib as mpl

    inner = _drawing_renderer(renderer)
    rc = mpl.rcParams
    settings = tuple((key, _hashable(rc[key])) for key in _rc_keys())
    return (type(inner), getattr(inner, "dpi", None), inner.points_to_pixels(72.0), settings)


def _text_metrics_function(renderer: object) -> Callable:
    """Stands in for ``matplotlib.text._get_text_metrics_function``: one table of
    metrics per kind of renderer (:func:`_renderer_kind`) instead of per renderer."""
    found = _per_renderer.get(renderer)
    if found is not None:
        return found
    table = _metrics.setdefault(_renderer_kind(renderer), {})
    ref = weakref.ref(renderer)

    def metrics(text: str, fontprop: object, ismath: object, dpi: float) -> tuple:
        key = (text, fontprop, ismath, dpi)
        try:
            return table[key]
        except KeyError:
            pass
        if len(table) >= MAX_ENTRIES:
            table.clear()
        live = ref()
        if live is None:
            raise RuntimeError("text metrics asked of a renderer that no longer exists")
        value = table[key] = live.get_text_width_height_descent(text, fontprop, ismath)
        return value

    _per_renderer[renderer] = metrics
    return metrics


class _FontTables:
    """An ``FT2Font`` whose sfnt tables are read once (all that ``Text._get_layout``
    asks of the font it gets)."""

    def __init__(self, font: object) -> None:
        self._font = font
        self._read: dict[str, object] = {}

    def get_sfnt_table(self, name: str) -> object:
        try:
            return self._read[name]
        except KeyError:
            table = self._read[name] = self._font.get_sfnt_table(name)
            return table

    def __getattr__(self, name: str) -> object:
        return getattr(self._font, name)


#: The ``font.*`` settings last read by :func:`_findfont_settings`: as read (the
#: lists copied) and as a key.
_last_findfont: list = [None, None]


def _findfont_settings(settings: object) -> tuple:
    """The :data:`_FINDFONT_RC` settings as a key (lists as tuples), read as stored
    (``RcParams.__getitem__`` only adds checks for deprecated and backend keys).

    A report reads them thousands of times and they hardly ever change: the values
    are compared with those read last (a copy, so a list changed in place differs)
    and the key made anew only when they differ."""
    values = list(map(_STORED, itertools.repeat(settings, len(_FINDFONT_RC)), _FINDFONT_RC))
    last, key = _last_findfont
    if values != last:
        key = tuple(_hashable(v) for v in values)
        _last_findfont[:] = [[list(v) if isinstance(v, list) else v for v in values], key]
    return key


def _fonts_kept(find: Callable) -> Callable:
    """``FontManager._find_fonts_by_props`` (``find``, matplotlib's own) answering from
    a per-process table: font files per font properties, keyed as matplotlib's own
    ``findfont`` cache is (the properties' hash tuple and the ``font.*`` settings it
    reads). matplotlib computes that key anew for every family of every lookup, and a
    report looks fonts up some 3 000 times (text layout, and each back end as it draws:
    Agg, SVG, PDF); properties that are not a ``FontProperties`` go to ``find``."""
    from matplotlib.font_manager import FontProperties

    def found(prop: object, *args: object, **kwargs: object) -> object:
        import matplotlib as mpl

        if type(prop) is not FontProperties:
            return find(prop, *args, **kwargs)
        prop_key = (
            tuple(prop.get_family()),
            prop.get_slant(),
            prop.get_variant(),
            prop.get_weight(),
            prop.get_stretch(),
            prop.get_size(),
            prop.get_file(),
            prop.get_math_fontfamily(),
        )
        key = (
            prop_key,
            args,
            tuple(sorted(kwargs.items())) if kwargs else (),
            _findfont_settings(mpl.rcParams),
            _environment.get("MPL_IGNORE_SYSTEM_FONTS"),
        )
        try:
            return _fonts[key]
        except KeyError:
            fonts = _fonts[key] = find(prop, *args, **kwargs)
            return fonts

    found.__wrapped__ = find
    return found


def _font_with_tables(get_font: Callable) -> Callable:
    """``Text._get_layout``'s ``get_font``: the font for the same files and settings
    (those ``get_font`` keys its own cache on), with its tables read once."""

    def font(filenames: object, *args: object, **kwargs: object) -> object:
        import matplotlib as mpl

        paths = tuple(filenames) if isinstance(filenames, list | tuple) else (filenames,)
        key = (
            paths,
            args,
            tuple(sorted(kwargs.items())),
            dict.get(mpl.rcParams, "text.kerning_factor"),
            dict.get(mpl.rcParams, "font.enable_last_resort"),
            threading.get_ident(),
        )
        try:
            return _tables[key]
        except KeyError:
            found = _tables[key] = _FontTables(get_font(filenames, *args, **kwargs))
            return found

    return font


def _deep_hashable(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_deep_hashable(v) for v in value)
    return value


def _sizing(set_size: Callable) -> Callable:
    """``FT2Font.set_size`` that remembers each font's size (what its layouts depend on
    besides the text)."""

    def sized(font: object, *args: object, **kwargs: object) -> None:
        set_size(font, *args, **kwargs)
        _sizes[font] = (args, tuple(sorted(kwargs.items())))

    return sized


def _laying_out(layout: Callable) -> Callable:
    """``FT2Font._layout`` (text shaping: glyphs and their positions) kept per font,
    size, text, load flags, font features and language. Shaping is the costliest step
    of drawing a text (HarfBuzz sets the font up anew for each call); the Agg, SVG and
    PDF back ends all shape through it, and a report draws the same texts many times.
    A font whose size was set before the block is shaped anew. A shaping not made yet
    in this process is looked for in the data folder's store (:mod:`.shapestore`,
    shapings of earlier runs) before HarfBuzz is asked."""

    def shaped(font: object, string: str, *args: object, **kwargs: object) -> list:
        size = _sizes.get(font)
        if size is None:
            return layout(font, string, *args, **kwargs)
        key = (
            font,
            size,
            string,
            _deep_hashable(args),
            tuple(sorted((k, _deep_hashable(v)) for k, v in kwargs.items())),
        )
        try:
            return list(_layouts[key])
        except KeyError:
            pass
        if len(_layouts) >= MAX_ENTRIES:
            _layouts.clear()
        stored = shapestore.lookup(font, size, string, args, kwargs)
        if stored is not None:
            _layouts[key] = stored
            return list(stored)
        items = layout(font, string, *args, **kwargs)
        _layouts[key] = tuple(items)
        shapestore.remember(font, size, string, args, kwargs, items)
        return items

    return shaped


_text_layouts: dict[tuple, tuple] = {}
_kinds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


#: Each kind of renderer (:func:`_renderer_kind`) → a number standing for it in keys:
#: equal kinds get the same number, and a number hashes at once where the kind (a
#: tuple of some sixty settings) would be hashed anew at every lookup.
_kind_numbers: dict[tuple, int] = {}

#: The renderer :func:`_kind_of` answered last (a weak reference) and its answer: a
#: text is laid out for the same renderer many times in a row.
_last_kind: list = [None, None]


def _kind_of(renderer: object) -> int:
    """:func:`_renderer_kind` as its number (:data:`_kind_numbers`), once per renderer
    (as the metrics tables are chosen)."""
    last, number = _last_kind
    if last is not None and last() is renderer:
        return number
    try:
        number = _kinds[renderer]
    except KeyError:
        kind = _renderer_kind(renderer)
        number = _kinds[renderer] = _kind_numbers.setdefault(kind, len(_kind_numbers))
    except TypeError:  # not weakly referable
        kind = _renderer_kind(renderer)
        return _kind_numbers.setdefault(kind, len(_kind_numbers))
    _last_kind[:] = [weakref.ref(renderer), number]
    return number


def _properties_key(prop: object) -> tuple:
    """A font properties' attributes as a key (names and values, lists as tuples): all
    that ``Text._get_layout`` reads of them, without a generator per attribute."""
    d = prop.__dict__
    return (*d, *[tuple(v) if v.__class__ is list else v for v in d.values()])


def _text_layout(get_layout: Callable) -> Callable:
    """``Text._get_layout`` (the text's box, lines and their offsets from its anchor)
    kept per kind of renderer (:func:`_renderer_kind`), figure dpi, text, font
    properties, math parsing, line spacing, alignments, rotation and rotation mode:
    all it reads of the text, whose position it does not use. A report measures and
    draws each text several times (layout, PNG, facts, legend check, SVG, PDF) and
    the same tick labels in chart after chart. Wrapped and TeX texts, and texts whose
    transform rotates them, are laid out anew every time."""

    def kept(text: object, renderer: object) -> tuple:
        """The layout as kept: its box and lines are the table's own, to be read only."""
        if (
            renderer is None
            or text.get_wrap()
            or text.get_usetex()
            or text.get_transform_rotates_text()
        ):
            return get_layout(text, renderer)
        key = (
            _kind_of(renderer),
            text.get_figure(root=True).dpi,
            text._text,
            _properties_key(text._fontproperties),
            text.get_parse_math(),
            text._linespacing,
            text._multialignment,
            text._horizontalalignment,
            text._verticalalignment,
            text._rotation,
            text.get_rotation_mode(),
        )
        try:
            return _text_layouts[key]
        except KeyError:
            pass
        if len(_text_layouts) >= MAX_ENTRIES:
            _text_layouts.clear()
        box, lines, corner = get_layout(text, renderer)
        _text_layouts[key] = (box.frozen(), tuple(lines), corner)
        return box, lines, corner

    def layout(text: object, renderer: object) -> tuple:
        box, lines, corner = kept(text, renderer)
        if type(lines) is tuple:  # from the table: a copy for the caller
            return box.frozen(), list(lines), corner
        return box, lines, corner

    layout.kept = kept
    return layout


def _window_extent(extent: Callable) -> Callable:
    """``Text.get_window_extent`` (``extent``, matplotlib's own) without setting the
    figure's dpi to the value it has.

    Asked without a dpi, matplotlib sets the figure's dpi to the figure's dpi around the
    measurement (a context manager per call; the figure ignores a dpi equal to its
    own) and a report measures texts some 2 600 times (layout, legend check). That
    case measures as matplotlib does, in the same order; any other case (a dpi given,
    an invisible or empty text, no renderer, no figure) goes to matplotlib's own."""

    def window_extent(self: object, renderer: object = None, dpi: object = None) -> object:
        if (
            dpi is not None
            or not self.get_visible()
            or self.get_text() == ""
            or self.get_figure(root=True) is None
            or (renderer is None and self._renderer is None)
        ):
            return extent(self, renderer, dpi)
        if renderer is not None:
            self._renderer = renderer
        get_layout = type(self)._get_layout
        # the kept box itself when laid out by :func:`_text_layout` (it is only read)
        bbox, _, _ = getattr(get_layout, "kept", get_layout)(self, self._renderer)
        x, y = self.get_unitless_position()
        x, y = self.get_transform().transform((x, y))
        return bbox.translated(x, y)

    window_extent.__wrapped__ = extent
    return window_extent


#: Each glyph's control box (26.6, at the origin) per font, size, load flags and glyph,
#: and each character's advance alone per font, size, load flags and character:
#: what :func:`_extent_of` adds up.
_glyph_boxes: dict[tuple, tuple[int, int, int, int]] = {}
_advances: dict[tuple, int] = {}


def _extent_of(font: object, items: list, flags: object) -> tuple[int, int, int] | None:
    """``font.set_text(s, 0.0, flags=flags)``'s width, height and descent (26.6, as
    ``get_width_height`` and ``get_descent`` give them) from the shaping of ``s``
    (``items``, ``FT2Font._layout`` with the same flags) and each glyph's box; None
    when that cannot be known so (no size set in the block, no glyphs, a glyph from a
    fallback font, or a last glyph that is not its character's own, as a ligature).

    matplotlib (3.11) shapes the text in ``set_text`` and loads every glyph, once more
    for each text it measures, although the renderer that measured the text shapes it
    again when it draws it (kept by :func:`_laying_out`). ``set_text`` places each glyph
    at its pen position from the shaping, takes the union of the glyphs' control boxes
    moved there (whole 26.6 units, so exactly), and ends at the last glyph's position
    plus that glyph's advance: the width of the last character alone
    (``tests/test_textcache.py`` compares with ``set_text`` on every character and
    random texts, hinted and not, four faces, several sizes)."""
    size = _sizes.get(font)
    if size is None or not items:
        return None
    x_min = y_min = 32000
    x_max = y_max = -32000
    for item in items:
        if item.ft_object is not font:
            return None
        key = (font, size, flags, item.glyph_index)
        box = _glyph_boxes.get(key)
        if box is None:
            if len(_glyph_boxes) >= MAX_GLYPHS:
                _glyph_boxes.clear()
            box = _glyph_boxes[key] = tuple(font.load_glyph(item.glyph_index, flags).bbox)
        x = round(item.x * 64)
        y = round(item.y * 64)
        x_min = min(x_min, box[0] + x)
        y_min = min(y_min, box[1] + y)
        x_max = max(x_max, box[2] + x)
        y_max = max(y_max, box[3] + y)
    last = items[-1]
    char = last.char
    if len(char) != 1 or font.get_char_index(ord(char)) != last.glyph_index:
        return None
    key = (font, size, flags, char)
    advance = _advances.get(key)
    if advance is None:
        if len(_advances) >= MAX_GLYPHS:
            _advances.clear()
        font.set_text(char, 0.0, flags=flags)
        advance = _advances[key] = font.get_width_height()[0]
    if x_min > x_max:
        y_min = y_max = 0
    return round(last.x * 64) + advance, y_max - y_min, -y_min


def _shaped_extent(font: object, s: str, flags: object) -> tuple[int, int, int] | None:
    """:func:`_extent_of` ``s`` shaped by ``font`` with ``flags`` (no features, no
    language: as each renderer shapes a plain text to draw it)."""
    return _extent_of(font, font._layout(s, flags, features=None, language=None), flags)


def _pdf_extent(measure: Callable) -> Callable:
    """``RendererPDFPSBase.get_text_width_height_descent`` (``measure``, matplotlib's
    own) of a plain TrueType text from its shaping (:func:`_extent_of`), shaped as the
    PDF renderer shapes it to draw it; mathtext, TeX, AFM fonts and what
    :func:`_extent_of` cannot answer go to ``measure``."""
    import matplotlib as mpl
    from matplotlib.ft2font import LoadFlags

    def measured(self: object, s: str, prop: object, ismath: object) -> tuple:
        if ismath or mpl.rcParams[self._use_afm_rc_name]:
            return measure(self, s, prop, ismath)
        font = self._get_font_ttf(prop)
        flags = LoadFlags.NO_HINTING
        extent = _shaped_extent(font, s, flags)
        if extent is None:
            return measure(self, s, prop, ismath)
        w, h, d = extent
        scale = 1 / 64
        return w * scale, h * scale, d * scale

    measured.__wrapped__ = measure
    return measured


def _agg_extent(measure: Callable) -> Callable:
    """``RendererAgg.get_text_width_height_descent`` (``measure``, matplotlib's own) of
    a plain text from its shaping (:func:`_extent_of`), shaped with the hinting the Agg
    renderer draws it with; mathtext, TeX and what :func:`_extent_of` cannot answer go
    to ``measure``."""
    from matplotlib.backends import backend_agg

    def measured(self: object, s: str, prop: object, ismath: object) -> tuple:
        if ismath or ismath not in (True, False):
            return measure(self, s, prop, ismath)
        font = self._prepare_font(prop)
        flags = backend_agg.get_hinting_flag()
        extent = _shaped_extent(font, s, flags)
        if extent is None:
            return measure(self, s, prop, ismath)
        w, h, d = extent
        return w / 64.0, h / 64.0, d / 64.0

    measured.__wrapped__ = measure
    return measured


def _path_extent(measure: Callable) -> Callable:
    """``TextToPath.get_text_width_height_descent`` (``measure``, matplotlib's own; the
    SVG renderer measures with it) of a plain text from its shaping
    (:func:`_extent_of`), shaped as the text's path is; mathtext, TeX and what
    :func:`_extent_of` cannot answer go to ``measure``."""
    from matplotlib.ft2font import LoadFlags

    def measured(self: object, s: str, prop: object, ismath: object) -> tuple:
        if ismath:
            return measure(self, s, prop, ismath)
        scale = prop.get_size_in_points() / self.FONT_SCALE
        font = self._get_font(prop)
        flags = LoadFlags.NO_HINTING
        extent = _shaped_extent(font, s, flags)
        if extent is None:
            return measure(self, s, prop, ismath)
        w, h, d = extent
        return w / 64.0 * scale, h / 64.0 * scale, d / 64.0 * scale

    measured.__wrapped__ = measure
    return measured


_glyph_bitmaps: dict[tuple, tuple[object, int, int]] = {}


@functools.lru_cache(maxsize=64)
def _glyph_matrix(cos: float, sin: float, extend: float, slant: float) -> tuple[object, tuple]:
    """The 16.16 transform of a glyph, computed as the Agg renderer computes it (once
    per angle, width and slant instead of once per glyph), and as a key."""
    import numpy as np

    matrix = (
        (0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[extend, extend * slant], [0, 1]])
        .round()
        .astype(int)
    )
    return matrix, tuple(matrix.ravel().tolist())


def _rendered(
    font: object, size: float, dpi: float, matrix: object, delta: list[int], key: tuple
) -> tuple[tuple[object, int, int], tuple[int, int], tuple]:
    """A glyph rendered as matplotlib's Agg loop renders it: its bitmap and corner, the
    whole pixels to add to the corner, and its key in the table. The corner is kept
    relative to the position's whole pixels; a bitmap of at most one pixel (an empty
    glyph, whose corner does not move with the position) is kept per exact position."""
    font.set_size(size, dpi)
    font._set_transform(matrix, delta)
    bitmap = font._render_glyph(key[6], key[7], key[8])
    buffer = bitmap.buffer
    whole = (delta[0] >> 6, delta[1] >> 6)
    if buffer.size > 1:
        return (buffer, bitmap.left - whole[0], bitmap.top - whole[1]), whole, key
    return (buffer, bitmap.left, bitmap.top), (0, 0), (*key, *whole)


def _stored_glyph(key: tuple, whole: tuple[int, int]) -> tuple[object, tuple[int, int], tuple]:
    """A glyph not rendered in this process, from the data folder's store
    (:mod:`.shapestore`, bitmaps of earlier runs), as :func:`_rendered` gives it: the
    bitmap and corner (None when not stored), the whole pixels to add, and its key in
    the table, where it is put. Looked for under both of :func:`_rendered`'s keys."""
    font = key[0]
    found = shapestore.glyph(font, key[1:])
    if found is None:
        exact = (*key, *whole)
        found = shapestore.glyph(font, exact[1:])
        if found is None:
            return None, (0, 0), key
        key, whole = exact, (0, 0)
    if len(_glyph_bitmaps) >= MAX_GLYPHS:
        _glyph_bitmaps.clear()
    _glyph_bitmaps[key] = found
    return found, whole, key


def _agg_glyphs_kept(draw: Callable) -> Callable:
    """``RendererAgg._draw_text_glyphs_and_boxes`` rendering each glyph bitmap once.

    matplotlib (3.11) sets the font's size and transform and has FreeType render every
    glyph of every text it draws on an Agg canvas, although a report draws the same
    tick labels, titles and legend texts again and again (PNG, facts, legend check). A
    glyph's bitmap depends on the font, its size, the dots per inch, the 2×2 transform,
    the position's fraction of a pixel (26.6 fixed point: the last six bits), the glyph,
    the load flags and the render mode; the whole pixels of the position only move the
    bitmap (``left``, ``top``), so the bitmap and its corner relative to those pixels
    are kept and reused (:func:`_rendered`), and looked for in the data folder's store
    (:func:`_stored_glyph`) before FreeType renders them. The glyphs are painted with the same calls and arguments as matplotlib's, and a font
    drawn from the table is left with the size and transform that matplotlib's loop
    would leave it with; the boxes (math rules) are drawn by matplotlib's own code.
    """
    from matplotlib.backends import backend_agg
    from matplotlib.ft2font import RenderMode

    def drawn(
        self: object, gc: object, x: float, y: float, angle: float, glyphs: object, boxes: object
    ) -> None:
        # y is downwards; FreeType's y is upwards (as matplotlib's own loop)
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        load_flags = backend_agg.get_hinting_flag()
        antialiased = gc.get_antialiased()
        mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
        dpi = self.dpi
        last: dict[object, tuple] = {}  # font -> its last glyph's size, transform, kept?
        for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards
            matrix, matrix_key = _glyph_matrix(cos, sin, extend, slant)
            delta = [
                round(0x40 * (x + dx * cos - dy * sin)),
                round(0x40 * (self.height - y + dx * sin + dy * cos)),
            ]
            key = (font, size, dpi, matrix_key, delta[0] & 63, delta[1] & 63, glyph_index)
            key += (load_flags, mode)
            whole = (delta[0] >> 6, delta[1] >> 6)  # the position's whole pixels
            found = _glyph_bitmaps.get(key)
            if found is None:
                found = _glyph_bitmaps.get((*key, *whole))
                if found is None:
                    found, whole, key = _stored_glyph(key, whole)
                else:
                    whole = (0, 0)
            kept = found is not None
            if found is None:
                found, whole, key = _rendered(font, size, dpi, matrix, delta, key)
                buffer = found[0]
                if not antialiased:
                    buffer *= 0xFF
                if len(_glyph_bitmaps) >= MAX_GLYPHS:
                    _glyph_bitmaps.clear()
                _glyph_bitmaps[key] = found
                shapestore.remember_glyph(key[0], key[1:], found)
            buffer, left, top = found
            left, top = left + whole[0], top + whole[1]
            last.pop(font, None)
            last[font] = (size, matrix, delta, kept)
            # draw_text_image's y is downwards & the bitmap bottom side
            bottom = int(self.height) - top + buffer.shape[0]
            self._renderer.draw_text_image(buffer, left, bottom, 0, gc)
        if any(kept for *_, kept in last.values()):
            # each font as matplotlib's loop leaves it, in the order it last used them
            for font, (size, matrix, delta, _) in last.items():
                font.set_size(size, dpi)
                font._set_transform(matrix, delta)
        draw(self, gc, x, y, angle, (), boxes)

    return drawn


@contextlib.contextmanager
def shared_text_layout(store: Path | None = None) -> Iterator[None]:
    """Keep text metrics, font lookups and font tables across renderers and drawings.

    Swaps names in ``matplotlib.text``, two ``FT2Font`` methods and the Agg renderer's
    glyph drawing for the time of the block (nested blocks leave the outer one in
    place) and puts matplotlib's own back on exit.

    Parameters
    ----------
    store
        A folder of shapings kept between processes (:mod:`.shapestore`): read as the
        block starts (once per process), and what the block shaped anew written there
        as it ends; None keeps shapings for this process only.
    """
    import matplotlib.text as mtext
    from matplotlib import font_manager
    from matplotlib.backends._backend_pdf_ps import RendererPDFPSBase
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.ft2font import FT2Font
    from matplotlib.textpath import TextToPath

    if getattr(_installed, "on", False):
        yield
        return
    saved = (mtext._get_text_metrics_function, mtext.get_font)
    manager = font_manager.fontManager
    font_methods = (FT2Font.set_size, FT2Font._layout)
    text_layout = mtext.Text._get_layout
    window_extent = mtext.Text.get_window_extent
    agg_glyphs = RendererAgg._draw_text_glyphs_and_boxes
    shapestore.load(store)
    build_font = font_manager._get_font
    font_manager._get_font = shapestore.track_fonts(build_font)
    RendererAgg._draw_text_glyphs_and_boxes = _agg_glyphs_kept(agg_glyphs)
    extents = (
        RendererPDFPSBase.get_text_width_height_descent,
        RendererAgg.get_text_width_height_descent,
        TextToPath.get_text_width_height_descent,
    )
    RendererPDFPSBase.get_text_width_height_descent = _pdf_extent(extents[0])
    RendererAgg.get_text_width_height_descent = _agg_extent(extents[1])
    TextToPath.get_text_width_height_descent = _path_extent(extents[2])
    mtext._get_text_metrics_function = _text_metrics_function
    # on the one FontManager, which the text layout and every back end ask
    manager._find_fonts_by_props = _fonts_kept(manager._find_fonts_by_props)
    mtext.get_font = _font_with_tables(saved[1])
    FT2Font.set_size = _sizing(font_methods[0])
    FT2Font._layout = _laying_out(font_methods[1])
    mtext.Text._get_layout = _text_layout(text_layout)
    mtext.Text.get_window_extent = _window_extent(window_extent)
    _installed.on = True
    _environment["MPL_IGNORE_SYSTEM_FONTS"] = os.getenv("MPL_IGNORE_SYSTEM_FONTS")
    try:
        yield
    finally:
        mtext._get_text_metrics_function, mtext.get_font = saved
        del manager._find_fonts_by_props
        FT2Font.set_size, FT2Font._layout = font_methods
        mtext.Text._get_layout = text_layout
        mtext.Text.get_window_extent = window_extent
        RendererAgg._draw_text_glyphs_and_boxes = agg_glyphs
        (
            RendererPDFPSBase.get_text_width_height_descent,
            RendererAgg.get_text_width_height_descent,
            TextToPath.get_text_width_height_descent,
        ) = extents
        font_manager._get_font = build_font
        _sizes.clear()
        _installed.on = False
        shapestore.save()
