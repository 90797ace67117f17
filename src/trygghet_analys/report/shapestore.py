"""Text shapings and glyph bitmaps kept between report processes, in the data folder.

The store is ``processed/.cache/formning/`` (beside the build's cache, never in ``raw/``).

Shaping a text (HarfBuzz through ``FT2Font._layout``: its glyphs and their positions)
costs about 0,4 ms, because HarfBuzz sets the font up anew for every call.
:mod:`.textcache` keeps each shaping for the rest of the process, but a lone
``trygghet-analys report`` starts with nothing kept and shapes some 980 texts (0,43 s
CPU of a one-kommun report, measured 2026-12-02), the same texts as the run before.
This module keeps those shapings in the data folder's cache between runs, and likewise
the Agg glyph bitmaps that FreeType renders for the PNG files and the facts (some 3 800
per report, 0,12 s CPU; :func:`glyph`, keyed as :func:`.textcache._agg_glyphs_kept`
keys them in the process, the font by its key here), and the PDF font subsets that
fontTools makes (:func:`stored_font_subsets`, three per report, 0,15 s CPU).

A shaping depends on the font (its files, their sizes and modification times, the
fallback fonts, the kerning factor and the Last Resort switch: all that matplotlib's
``_get_font`` builds a font from), the size set on it, the text, the load flags, the
font features and the language; and on the code that shapes: matplotlib's version,
FreeType's version and the ``ft2font`` extension itself (its size and modification
time stand for the HarfBuzz and libraqm built into it), and on this module and
:mod:`.textcache`, which make the keys and values. The first group is each entry's
key; the second names the files (:func:`environment`), so a file written by another
matplotlib, or by another version of the program, is never read. A file that cannot be read or does not have the
expected shape is ignored and removed (and a later run writes its own); an entry of
the wrong shape is not used. Files are written under a
temporary name and renamed, each run writes only what it shaped anew (a segment), and
a run that reads more than :data:`MAX_SEGMENTS` segments writes them as one.

Only shapings whose glyphs all come from the font itself are kept (a glyph from a
fallback font names another ``FT2Font``), and a kept shaping is given back as items
with the same fields, values and types as matplotlib's own ``LayoutItem``
(``tests/test_shapestore.py`` compares them, and draws the same figures in new
processes without the store, writing it and reading it: the files are byte for byte
the same).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import functools
import json
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "ShapedItem",
    "environment",
    "glyph",
    "load",
    "lookup",
    "remember",
    "remember_glyph",
    "save",
    "track_fonts",
]

#: Bump when the files' layout changes.
_LAYOUT = "2"

#: What a segment keeps, per font: shapings (:func:`lookup`), Agg glyph bitmaps
#: (:func:`glyph`) and the PDF font subsets (:func:`stored_font_subsets`).
_KINDS = ("shapings", "glyphs", "subsets")

#: Segments read before a run writes them as one file.
MAX_SEGMENTS = 8

#: Seconds after which another environment's segment is removed (a day: two versions
#: of the program may share a data folder for a while, each reading its own).
UNUSED_AFTER = 24 * 3600

#: Entries kept at most; a store beyond starts anew (a region report keeps some 10 000).
MAX_ENTRIES = 200_000


class ShapedItem:
    """A kept shaping's glyph, with the fields of matplotlib's ``LayoutItem`` that the
    back ends and :mod:`.textcache` read."""

    __slots__ = ("ft_object", "char", "glyph_index", "x", "y", "prev_kern")

    def __init__(
        self, ft_object: object, char: str, glyph_index: int, x: float, y: float, prev_kern: float
    ) -> None:
        self.ft_object = ft_object
        self.char = char
        self.glyph_index = glyph_index
        self.x = x
        self.y = y
        self.prev_kern = prev_kern


#: The types of an item's numbers, as stored (matplotlib 3.11): glyph index, x, y and
#: the kerning before it.
_NUMBERS = ("glyph_index", "x", "y", "prev_kern")
_TYPES = (int, float, float, float)

_lock = threading.Lock()
#: The folder read, the entries read from it (kind → font → key → value as stored), the
#: segment files read, and the entries made since the last write.
_state: dict[str, object] = {"folder": None, "kept": {}, "segments": [], "fresh": {}}
#: Each font (an ``FT2Font``) → its key in the store, from the call that built it.
_font_keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_stats: dict[tuple, str] = {}


@functools.cache
def environment() -> str:
    """The code that shapes and renders, as the start of every file name: matplotlib's
    and FreeType's versions, the ``ft2font`` extension's size and modification time, and
    the source of this module and of :mod:`.textcache` (which make the keys and the
    values: a changed program never reads what an earlier one wrote)."""
    import hashlib

    import matplotlib
    from matplotlib import ft2font

    from ..files import export
    from . import textcache

    st = os.stat(ft2font.__file__)
    import fontTools

    h = hashlib.sha256(fontTools.version.encode())
    for source in (__file__, textcache.__file__, export.__file__):
        with open(source, "rb") as fh:  # not raw: the package's own source
            h.update(fh.read())
    text = json.dumps(
        [
            _LAYOUT,
            matplotlib.__version__,
            ft2font.__freetype_version__,
            st.st_size,
            st.st_mtime_ns,
            h.hexdigest(),
        ]
    )
    return "v" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _font_key(paths: tuple, kerning_factor: object, last_resort: object) -> str:
    """A font's key: its files (path, face, size, modification time) in fallback order,
    the kerning factor and the Last Resort switch."""
    key = (paths, kerning_factor, last_resort)
    found = _stats.get(key)
    if found is None:
        files = []
        for path, face in paths:
            st = os.stat(path)
            files.append([os.fsdecode(path), face, st.st_size, st.st_mtime_ns])
        found = _stats[key] = json.dumps([files, kerning_factor, bool(last_resort)])
    return found


def track_fonts(get_font: Callable) -> Callable:
    """matplotlib's ``font_manager._get_font`` (``get_font``) noting each font's key
    (:func:`_font_key`) as it is asked for, so that a font's shapings can be stored."""

    def noted(paths: tuple, *, _kerning_factor: object, enable_last_resort: object, **kw: object):
        font = get_font(
            paths, _kerning_factor=_kerning_factor, enable_last_resort=enable_last_resort, **kw
        )
        if font not in _font_keys:
            try:
                _font_keys[font] = _font_key(paths, _kerning_factor, enable_last_resort)
            except (OSError, TypeError, ValueError):
                pass
        return font

    noted.__wrapped__ = get_font
    noted.cache_clear = get_font.cache_clear
    noted.cache_info = get_font.cache_info
    return noted


def _plain(value: object) -> object:
    """``value`` as JSON that tells its types apart (a flag by its class and value); a
    TypeError for anything else."""
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float:
        return ["f", repr(value)]
    if isinstance(value, enum.Enum):
        return ["e", type(value).__name__, _plain(value.value)]
    if isinstance(value, list | tuple):
        return ["t" if isinstance(value, tuple) else "l", *map(_plain, value)]
    raise TypeError(type(value).__name__)


def _entry_key(size: object, string: str, args: tuple, kwargs: dict) -> str:
    return json.dumps(
        [_plain(size), string, _plain(args), _plain(sorted(kwargs.items()))], ensure_ascii=False
    )


def lookup(
    font: object, size: object, string: str, args: tuple, kwargs: dict
) -> tuple[ShapedItem, ...] | None:
    """The kept shaping of ``string`` by ``font`` (with its size and ``_layout``'s other
    arguments), or None."""
    stored = _kept("shapings", font, lambda: _entry_key(size, string, args, kwargs))
    return None if stored is None else _items(font, string, stored)


def _kept(kind: str, font: object, key: Callable[[], str]) -> object:
    """The stored value of ``kind`` for ``font`` under ``key()``, or None."""
    return _kept_under(kind, _font_keys.get(font), key)


def _kept_under(kind: str, group: str | None, key: Callable[[], str]) -> object:
    """The stored value of ``kind`` in ``group`` (a font's key) under ``key()``, or None."""
    kept = _state["kept"].get(kind, {}).get(group) if group is not None else None
    if not kept:
        return None
    try:
        return kept.get(key())
    except TypeError:
        return None


def _keep(kind: str, font: object, key: Callable[[], str], value: object) -> None:
    """Keep ``value`` of ``kind`` for ``font`` for the next write, when the font's key
    is known and the key can be made."""
    _keep_under(kind, _font_keys.get(font), key, value)


def _keep_under(kind: str, group: str | None, key: Callable[[], str], value: object) -> None:
    """Keep ``value`` of ``kind`` in ``group`` for the next write (:func:`_kept_under`)."""
    if group is None or _state["folder"] is None:
        return
    try:
        made = key()
    except TypeError:
        return
    with _lock:
        _state["fresh"].setdefault(kind, {}).setdefault(group, {})[made] = value


def _items(font: object, string: str, stored: object) -> tuple[ShapedItem, ...] | None:
    """A stored shaping as items, or None when it is not of the stored shape.

    Stored is ``[chars, numbers]``: ``numbers`` each glyph's index, x, y and kerning
    as text (``repr``, which ``float`` reads back exactly), ``chars`` each glyph's
    characters, or None when they are the text's characters one by one (almost always;
    a ligature such as ``fi`` is one glyph of two). The numbers are text so that
    reading a file parses one string per entry, and only the entries a report asks for
    are taken apart (a region's store holds some 10 000)."""
    if type(stored) is not list or len(stored) != 2 or type(stored[1]) is not str:
        return None
    chars, numbers = stored
    numbers = numbers.split()
    n, rest = divmod(len(numbers), len(_TYPES))
    if chars is None:
        chars = string
    elif type(chars) is not list or not all(type(c) is str for c in chars):
        return None
    if rest or len(chars) != n:
        return None
    try:
        return tuple(
            ShapedItem(
                font,
                char,
                int(numbers[4 * i]),
                float(numbers[4 * i + 1]),
                float(numbers[4 * i + 2]),
                float(numbers[4 * i + 3]),
            )
            for i, char in enumerate(chars)
        )
    except ValueError:
        return None


def _stored(font: object, string: str, items: object) -> list | None:
    """``items`` as stored (:func:`_items`), or None when a glyph is not the font's own
    or a field is not of matplotlib's type."""
    chars = []
    numbers = []
    for item in items:
        values = [getattr(item, name) for name in _NUMBERS]
        if (
            item.ft_object is not font
            or type(item.char) is not str
            or any(type(v) is not t for v, t in zip(values, _TYPES, strict=True))
        ):
            return None
        chars.append(item.char)
        numbers.extend(map(repr, values))
    return [None if chars == list(string) else chars, " ".join(numbers)]


def remember(font: object, size: object, string: str, args: tuple, kwargs: dict, items) -> None:
    """Keep a new shaping for the next write, if it can be kept (every glyph from the
    font itself, a font whose key is known, arguments of known types)."""
    stored = _stored(font, string, items)
    if stored is not None:
        _keep("shapings", font, lambda: _entry_key(size, string, args, kwargs), stored)


def glyph(font: object, key: tuple) -> tuple[object, int, int] | None:
    """A kept Agg glyph bitmap of ``font`` (its pixels as a writable array, its left and
    top) under ``key`` (:func:`.textcache._agg_glyphs_kept`'s key without the font), or
    None."""
    import numpy as np

    stored = _kept("glyphs", font, lambda: _glyph_text(key))
    if type(stored) is not list or len(stored) != 5 or type(stored[0]) is not str:
        return None
    pixels, height, width, left, top = stored
    if not all(type(v) is int for v in (height, width, left, top)) or min(height, width) < 0:
        return None
    try:
        raw = bytearray(base64.b64decode(pixels, validate=True))
    except ValueError:
        return None
    if len(raw) != height * width:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width), left, top


def remember_glyph(font: object, key: tuple, found: tuple[object, int, int]) -> None:
    """Keep a glyph bitmap rendered anew (:func:`glyph`) for the next write."""
    buffer, left, top = found
    if buffer.dtype.str != "|u1" or buffer.ndim != 2 or type(left) is not int:
        return
    if type(top) is not int:
        return
    pixels = base64.b64encode(buffer.tobytes()).decode("ascii")
    value = [pixels, int(buffer.shape[0]), int(buffer.shape[1]), left, top]
    _keep("glyphs", font, lambda: _glyph_text(key), value)


def _glyph_text(key: tuple) -> str:
    """A glyph's key as text: its values' ``repr`` (floats exactly, the flags and the
    render mode by name and value), cheaper than :func:`_plain` for the thousands of
    glyphs a report draws."""
    return " ".join(map(repr, key))


def _read(path: Path) -> dict[str, dict[str, dict[str, object]]] | None:
    """A segment's entries, or None when it cannot be read or is not a segment of the
    expected shape (then it is removed, so that no later run reads it again)."""
    try:
        with open(path, encoding="utf-8") as fh:  # not raw: the report's own cache
            doc = json.load(fh)
    except OSError:
        return None
    except ValueError:
        doc = None
    if type(doc) is not dict or doc.get("layout") != _LAYOUT or set(doc) != {"layout", *_KINDS}:
        _remove(path)
        return None
    for kind in _KINDS:
        fonts = doc[kind]
        if type(fonts) is not dict or not all(type(v) is dict for v in fonts.values()):
            _remove(path)
            return None
    return {kind: doc[kind] for kind in _KINDS}


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _segments(folder: Path) -> list[Path]:
    """This environment's segments in ``folder``, oldest first (a newer entry wins).
    Another environment's segments untouched for :data:`UNUSED_AFTER` seconds are
    removed (an upgraded matplotlib or program never reads them again)."""
    prefix = environment() + "-"
    found = []
    now = time.time()
    try:
        for path in folder.iterdir():
            name = path.name
            if not name.endswith(".json") or name.startswith("."):
                continue
            mtime = path.stat().st_mtime_ns
            if name.startswith(prefix):
                found.append((mtime, name, path))
            elif now - mtime / 1e9 > UNUSED_AFTER:
                _remove(path)
    except OSError:
        return []
    return [path for *_, path in sorted(found)]


def load(folder: Path | None) -> None:
    """Read the store in ``folder`` (once per process and folder; None: keep nothing),
    and write its segments as one when there are more than :data:`MAX_SEGMENTS`."""
    if folder is None:
        _state.update(folder=None, kept={}, segments=[], fresh={})
        return
    folder = Path(folder)
    if _state["folder"] == folder:
        return
    kept: dict[str, dict[str, dict[str, object]]] = {kind: {} for kind in _KINDS}
    read: list[Path] = []
    for path in _segments(folder):
        kinds = _read(path)
        if kinds is None:
            continue
        read.append(path)
        _merge(kept, kinds)
    if sum(len(e) for fonts in kept.values() for e in fonts.values()) > MAX_ENTRIES:
        kept = {kind: {} for kind in _KINDS}
    _state.update(folder=folder, kept=kept, segments=read, fresh={})
    if len(read) > MAX_SEGMENTS and _write(folder, kept):
        for path in read:
            _remove(path)


def _merge(into: dict, kinds: dict) -> None:
    """``kinds`` (kind → font → entries) added to ``into``, a later entry winning."""
    for kind, fonts in kinds.items():
        for font_key, entries in fonts.items():
            into.setdefault(kind, {}).setdefault(font_key, {}).update(entries)


def _write(folder: Path, kinds: dict[str, dict[str, dict[str, object]]]) -> bool:
    """A segment of ``kinds`` in ``folder``, written atomically under a new name; False
    when it could not be written (a read-only data folder: the store is a cache)."""
    from ..files._io import atomic_write_text

    doc = {"layout": _LAYOUT, **{kind: kinds.get(kind, {}) for kind in _KINDS}}
    name = f"{environment()}-{os.getpid()}-{secrets.token_hex(6)}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / name, json.dumps(doc, ensure_ascii=False))
    except OSError:
        return False
    return True


def save() -> None:
    """Write the shapings made since the last write as a segment, and keep them as read
    (a ``report --alla`` worker writes after each kommun)."""
    with _lock:
        fresh = _state["fresh"]
        _state["fresh"] = {}
    folder = _state["folder"]
    if not fresh or folder is None:
        return
    _write(folder, fresh)
    _merge(_state["kept"], fresh)


def _subset_kept(
    make: Callable, path: str, face_index: int, glyphs: frozenset[int]
) -> tuple[bytes, tuple]:
    """``make(path, face_index, glyphs)`` (the export's ``_subset_bytes``) from the store
    when kept there, else made and kept; per font file (path, size, modification time),
    face and glyph set."""
    try:
        st = os.stat(path)
        group = json.dumps([os.fsdecode(path), st.st_size, st.st_mtime_ns])
    except (OSError, TypeError, ValueError):
        return make(path, face_index, glyphs)

    def key() -> str:
        return json.dumps([face_index, sorted(glyphs)])

    stored = _kept_under("subsets", group, key)
    found = _subset_of(stored)
    if found is not None:
        return found
    data, index_map = made = make(path, face_index, glyphs)
    value = [base64.b64encode(data).decode("ascii"), [list(pair) for pair in index_map]]
    _keep_under("subsets", group, key, value)
    return made


def _subset_of(stored: object) -> tuple[bytes, tuple] | None:
    """A stored subset as ``_subset_bytes`` gives it (the font's bytes and its glyph
    index map as sorted pairs), or None when it is not of the stored shape."""
    if type(stored) is not list or len(stored) != 2 or type(stored[0]) is not str:
        return None
    text, pairs = stored
    if type(pairs) is not list or not all(
        type(p) is list and len(p) == 2 and type(p[0]) is int and type(p[1]) is int for p in pairs
    ):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    index_map = tuple((a, b) for a, b in pairs)
    if not data or list(index_map) != sorted(index_map):
        return None
    return data, index_map


@contextlib.contextmanager
def stored_font_subsets() -> Iterator[None]:
    """PDF font subsets (:func:`trygghet_analys.files.export._subset_bytes`, some 50 ms
    each with fontTools, three per report) taken from the store while the block runs,
    and those made anew kept for the next write; the export's own function is back on
    exit."""
    from ..files import export

    own = export._subset_bytes
    made: dict[tuple, tuple[bytes, tuple]] = {}

    def kept(path: str, face_index: int, glyphs: frozenset[int]) -> tuple[bytes, tuple]:
        key = (path, face_index, glyphs)
        found = made.get(key)
        if found is None:
            found = made[key] = _subset_kept(own, path, face_index, glyphs)
        return found

    kept.__wrapped__ = own
    export._subset_bytes = kept
    try:
        yield
    finally:
        export._subset_bytes = own
