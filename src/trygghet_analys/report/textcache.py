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
- the font files for font properties, keyed as matplotlib's own ``findfont`` cache is
  (the properties' hash tuple and the ``font.*`` settings it reads);
- each font file's ``OS/2``, ``hhea`` and ``head`` tables, which do not change (all that
  ``Text._get_layout`` reads of the font it gets).

Every answer is what matplotlib computes itself: the report's files are byte for byte
the same with and without it (``tests/test_report.py``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator

__all__ = ["shared_text_layout"]

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


def _renderer_kind(renderer: object) -> tuple:
    import matplotlib as mpl

    inner = _drawing_renderer(renderer)
    settings = tuple(
        (key, _hashable(value))
        for key, value in mpl.rcParams.items()
        if key.startswith(_RC_PREFIXES)
    )
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


class _FontLookup:
    """``Text._get_layout``'s ``fontManager``: font files per font properties, kept."""

    def __init__(self, manager: object) -> None:
        self._manager = manager

    def _find_fonts_by_props(self, prop: object, *args: object, **kwargs: object) -> object:
        import matplotlib as mpl

        # matplotlib's own findfont cache key: the properties' hash tuple, the settings
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
        # the settings read as stored (``RcParams.__getitem__`` only adds checks for
        # deprecated and backend keys), the environment as it was when the block began
        settings = mpl.rcParams
        key = (
            prop_key,
            args,
            tuple(sorted(kwargs.items())),
            tuple(_hashable(_STORED(settings, k)) for k in _FINDFONT_RC),
            _environment.get("MPL_IGNORE_SYSTEM_FONTS"),
        )
        try:
            return _fonts[key]
        except KeyError:
            found = _fonts[key] = self._manager._find_fonts_by_props(prop, *args, **kwargs)
            return found

    def __getattr__(self, name: str) -> object:
        return getattr(self._manager, name)


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
    A font whose size was set before the block is shaped anew."""

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
        items = layout(font, string, *args, **kwargs)
        _layouts[key] = tuple(items)
        return items

    return shaped


_text_layouts: dict[tuple, tuple] = {}
_kinds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kind_of(renderer: object) -> tuple:
    """:func:`_renderer_kind`, once per renderer (as the metrics tables are chosen)."""
    try:
        return _kinds[renderer]
    except KeyError:
        kind = _kinds[renderer] = _renderer_kind(renderer)
        return kind
    except TypeError:  # not weakly referable
        return _renderer_kind(renderer)


def _text_layout(get_layout: Callable) -> Callable:
    """``Text._get_layout`` (the text's box, lines and their offsets from its anchor)
    kept per kind of renderer (:func:`_renderer_kind`), figure dpi, text, font
    properties, math parsing, line spacing, alignments, rotation and rotation mode:
    all it reads of the text, whose position it does not use. A report measures and
    draws each text several times (layout, PNG, facts, legend check, SVG, PDF) and
    the same tick labels in chart after chart. Wrapped and TeX texts, and texts whose
    transform rotates them, are laid out anew every time."""

    def layout(text: object, renderer: object) -> tuple:
        if (
            renderer is None
            or text.get_wrap()
            or text.get_usetex()
            or text.get_transform_rotates_text()
        ):
            return get_layout(text, renderer)
        prop = text._fontproperties
        key = (
            _kind_of(renderer),
            text.get_figure(root=True).dpi,
            text._text,
            tuple((k, _hashable(v)) for k, v in prop.__dict__.items()),
            text.get_parse_math(),
            text._linespacing,
            text._multialignment,
            text._horizontalalignment,
            text._verticalalignment,
            text._rotation,
            text.get_rotation_mode(),
        )
        try:
            box, lines, corner = _text_layouts[key]
        except KeyError:
            if len(_text_layouts) >= MAX_ENTRIES:
                _text_layouts.clear()
            box, lines, corner = get_layout(text, renderer)
            _text_layouts[key] = (box.frozen(), tuple(lines), corner)
            return box, lines, corner
        return box.frozen(), list(lines), corner

    return layout


@contextlib.contextmanager
def shared_text_layout() -> Iterator[None]:
    """Keep text metrics, font lookups and font tables across renderers and drawings.

    Swaps three names in ``matplotlib.text`` for the time of the block (nested blocks
    leave the outer one in place) and puts matplotlib's own back on exit.
    """
    import matplotlib.text as mtext
    from matplotlib.ft2font import FT2Font

    if getattr(_installed, "on", False):
        yield
        return
    saved = (mtext._get_text_metrics_function, mtext.fontManager, mtext.get_font)
    font_methods = (FT2Font.set_size, FT2Font._layout)
    text_layout = mtext.Text._get_layout
    mtext._get_text_metrics_function = _text_metrics_function
    mtext.fontManager = _FontLookup(saved[1])
    mtext.get_font = _font_with_tables(saved[2])
    FT2Font.set_size = _sizing(font_methods[0])
    FT2Font._layout = _laying_out(font_methods[1])
    mtext.Text._get_layout = _text_layout(text_layout)
    _installed.on = True
    _environment["MPL_IGNORE_SYSTEM_FONTS"] = os.getenv("MPL_IGNORE_SYSTEM_FONTS")
    try:
        yield
    finally:
        mtext._get_text_metrics_function, mtext.fontManager, mtext.get_font = saved
        FT2Font.set_size, FT2Font._layout = font_methods
        mtext.Text._get_layout = text_layout
        _sizes.clear()
        _installed.on = False
