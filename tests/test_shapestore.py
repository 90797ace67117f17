"""Shapings kept on disk between processes are HarfBuzz's own, and a bad file is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from test_textcache import _MEASURED, _random_texts
from trygghet_analys.report import shapestore, textcache


@pytest.fixture(autouse=True)
def _no_store_after():
    """Each test starts and ends with no store read (the state is per process)."""
    shapestore.load(None)
    yield
    shapestore.load(None)


def _font(weight: str = "normal", style: str = "normal") -> object:
    """DejaVu through matplotlib's ``get_font``, with its key noted as in a report."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties, findfont

    build = font_manager._get_font
    font_manager._get_font = shapestore.track_fonts(build)
    try:
        prop = FontProperties(family="DejaVu Sans", weight=weight, style=style)
        return font_manager.get_font(findfont(prop))
    finally:
        font_manager._get_font = build


_FIELDS = ("char", "glyph_index", "x", "y", "prev_kern")


def _fields(items: object) -> list[tuple]:
    """Each glyph's fields as (value, type) pairs, and whether it is the font's own."""
    return [tuple((getattr(i, f), type(getattr(i, f))) for f in _FIELDS) for i in items]


def _shape_all(font: object, texts: list[str], sizes, flags_list) -> list:
    """``(size, text, flags, items)`` for every combination, shaped by HarfBuzz."""
    out = []
    for size in sizes:
        font.set_size(*size[0])
        for flags in flags_list:
            for s in texts:
                out.append((size, s, flags, font._layout(s, flags, features=None, language=None)))
    return out


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_a_stored_shaping_is_harfbuzzs_own(tmp_path: Path, rng) -> None:
    """Written, read back as by a new process, every stored shaping has the fields,
    values and types of HarfBuzz's; a text with a glyph from a fallback font, or a
    font without a key, is not stored."""
    from matplotlib.ft2font import LoadFlags

    texts = _MEASURED + _random_texts(rng, 20) + ["Trygghet i Ängelholm 2025", "x"]
    sizes = [((10.5, 72), ()), ((17.0, 100), ())]
    flags_list = [LoadFlags.NO_HINTING, LoadFlags.FORCE_AUTOHINT]
    fonts = [_font(), _font("bold", "italic")]
    shaped = {id(f): _shape_all(f, texts, sizes, flags_list) for f in fonts}
    kw = {"features": None, "language": None}
    shapestore.load(tmp_path)
    for font in fonts:
        for size, s, flags, items in shaped[id(font)]:
            shapestore.remember(font, size, s, (flags,), kw, items)
    shapestore.save()
    assert len(list(tmp_path.iterdir())) == 1
    shapestore.load(None)
    shapestore.load(tmp_path)
    found = missing = 0
    for font in fonts:
        for size, s, flags, items in shaped[id(font)]:
            kept = shapestore.lookup(font, size, s, (flags,), kw)
            if any(i.ft_object is not font for i in items):
                assert kept is None, s  # a fallback font's glyph
                missing += 1
                continue
            assert kept is not None, s
            assert all(k.ft_object is font for k in kept)
            assert _fields(kept) == _fields(items), (s, size, flags)
            found += 1
    assert found > 0.9 * (found + missing) and missing > 0
    # another size, other flags, a font without a key: nothing
    assert shapestore.lookup(fonts[0], ((11.0, 72), ()), "x", (flags_list[0],), kw) is None
    assert shapestore.lookup(fonts[0], sizes[0], "x", (LoadFlags.NO_AUTOHINT,), kw) is None
    from matplotlib.ft2font import FT2Font

    unknown = FT2Font(fonts[0].fname)  # not through get_font: no key
    assert shapestore.lookup(unknown, sizes[0], "x", (flags_list[0],), kw) is None


_DRAW = """
import contextlib, hashlib, sys
from pathlib import Path
from fontTools import subset
from matplotlib.ft2font import FT2Font
from trygghet_analys.files import export
from trygghet_analys.report import shapestore, textcache
sys.path.insert(0, {tests!r})
from test_textcache import _figure, _files
calls, subsets = [], []
own = FT2Font._layout
def counted(self, *a, **k):
    calls.append(1)
    return own(self, *a, **k)
FT2Font._layout = counted
own_subset = subset.Subsetter.subset
def subset_counted(self, *a, **k):
    subsets.append(1)
    return own_subset(self, *a, **k)
subset.Subsetter.subset = subset_counted
store = {store!r}
with (
    export._lean_pdf_fonts(),
    textcache.shared_text_layout(Path(store) if store else None),
    shapestore.stored_font_subsets() if store else contextlib.nullcontext(),
):
    files = []
    for dpi, family in ((100, "sans-serif"), (200, "sans-serif")):
        files += _files(_figure(dpi, family))
print(len(calls), len(subsets), hashlib.sha256(b"".join(files)).hexdigest())
"""


def _draw_in_new_process(store: Path | None) -> tuple[int, int, str]:
    script = _DRAW.format(tests=str(Path(__file__).parent), store=str(store) if store else "")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
    )
    calls, subsets, digest = done.stdout.split()
    return int(calls), int(subsets), digest


def test_a_new_process_with_the_store_draws_the_same_files(tmp_path: Path) -> None:
    """The same figures (PNG, SVG, PDF with the report's font subsets) drawn in three
    new processes: without a store, writing one, and reading it (where HarfBuzz is
    hardly asked any more, and fontTools makes no subset)."""
    store = tmp_path / "formning"
    plain_calls, plain_subsets, plain = _draw_in_new_process(None)
    first_calls, first_subsets, first = _draw_in_new_process(store)
    again_calls, again_subsets, again = _draw_in_new_process(store)
    assert plain == first == again
    assert first_calls == plain_calls > 50
    assert again_calls < plain_calls / 10  # mathtext and the missing glyphs shape anew
    assert first_subsets == plain_subsets > 0 and again_subsets == 0
    assert len(list(store.iterdir())) == 1  # nothing new shaped: nothing written


def _stored_one(folder: Path) -> tuple[object, tuple]:
    """A store in ``folder`` holding the shaping of one text; the font and the key."""
    from matplotlib.ft2font import LoadFlags

    font = _font()
    font.set_size(10.0, 72)
    args = ("Älmhult", (LoadFlags.NO_HINTING,), {"features": None, "language": None})
    items = font._layout(args[0], *args[1], **args[2])
    shapestore.load(folder)
    shapestore.remember(font, ((10.0, 72), ()), *args, items)
    shapestore.save()
    shapestore.load(None)
    return font, (((10.0, 72), ()), *args)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "",
        lambda text: "[1, 2]",
        lambda text: text.replace(f'"layout": "{shapestore._LAYOUT}"', '"layout": "0"'),
        lambda text: text.replace('"glyphs": {}', '"glyphs": {"x": [1]}'),
        lambda text: text.replace(', "glyphs": {}', ""),
        lambda text: "\udcff",  # not UTF-8 once written with surrogateescape
    ],
)
def test_a_damaged_file_is_ignored_and_removed(tmp_path: Path, damage) -> None:
    font, key = _stored_one(tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_text(damage(path.read_text(encoding="utf-8")), "utf-8", "surrogateescape")
    shapestore.load(tmp_path)
    assert shapestore.lookup(font, *key) is None
    assert list(tmp_path.iterdir()) == []


def test_an_entry_of_the_wrong_shape_is_not_used(tmp_path: Path) -> None:
    font, key = _stored_one(tmp_path)
    (path,) = tmp_path.iterdir()
    doc = json.loads(path.read_text(encoding="utf-8"))
    (entries,) = doc["shapings"].values()
    (name,) = entries
    chars, numbers = entries[name]
    assert chars is None and len(numbers.split()) == 4 * len("Älmhult")
    shapestore.load(tmp_path)
    assert shapestore.lookup(font, *key) is not None
    first, *others = numbers.split()
    wrong = [
        [None, numbers + " 1"],  # not four numbers a glyph
        [None, " ".join([first + ".0", *others])],  # a glyph index that is no integer
        [None, numbers.replace("0.0", "x", 1)],
        [list("Älmhul"), numbers],  # a glyph without characters
        [list("Älmhult"), numbers, None],
        ["Älmhult", numbers],
        [None, None],
        "x",
    ]
    for stored in wrong:
        entries[name] = stored
        path.write_text(json.dumps(doc), encoding="utf-8")
        shapestore.load(None)
        shapestore.load(tmp_path)
        assert shapestore.lookup(font, *key) is None, stored


def test_a_file_of_another_matplotlib_is_not_read(tmp_path: Path, monkeypatch) -> None:
    font, key = _stored_one(tmp_path)
    monkeypatch.setattr(shapestore, "environment", lambda: "vanother")
    shapestore.load(tmp_path)
    assert shapestore.lookup(font, *key) is None
    (path,) = tmp_path.iterdir()  # left for the program that wrote it, for a day
    old = time.time() - shapestore.UNUSED_AFTER - 60
    os.utime(path, (old, old))
    shapestore.load(None)
    shapestore.load(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_changed_font_file_is_another_font(tmp_path: Path, monkeypatch) -> None:
    """The font's key holds its files' sizes and modification times."""
    font, key = _stored_one(tmp_path)
    real_stat = shapestore.os.stat

    def noted_anew() -> object:  # as in a new process
        shapestore._stats.clear()
        shapestore._font_keys.pop(font, None)
        return _font()

    monkeypatch.setattr(
        shapestore.os,
        "stat",
        lambda p: type("S", (), {"st_size": real_stat(p).st_size + 1, "st_mtime_ns": 0}),
    )
    changed = noted_anew()
    monkeypatch.undo()
    shapestore.load(tmp_path)
    assert shapestore.lookup(changed, *key) is None
    assert shapestore.lookup(noted_anew(), *key) is not None


def test_segments_are_written_as_one_beyond_the_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(shapestore, "MAX_SEGMENTS", 2)
    from matplotlib.ft2font import LoadFlags

    font = _font()
    font.set_size(10.0, 72)
    kw = {"features": None, "language": None}
    texts = ["a", "bb", "ccc"]
    for s in texts:  # three runs, each shaping one new text
        shapestore.load(None)
        shapestore.load(tmp_path)
        items = font._layout(s, LoadFlags.NO_HINTING, **kw)
        shapestore.remember(font, ((10.0, 72), ()), s, (LoadFlags.NO_HINTING,), kw, items)
        shapestore.save()
    assert len(list(tmp_path.iterdir())) == 3
    shapestore.load(None)
    shapestore.load(tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    for s in texts:
        assert shapestore.lookup(font, ((10.0, 72), ()), s, (LoadFlags.NO_HINTING,), kw)


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "fil"
    blocked.write_text("", encoding="utf-8")
    font, key = _stored_one(blocked / "formning")  # a file where the folder would be
    shapestore.load(blocked / "formning")
    assert shapestore.lookup(font, *key) is None


def test_shared_text_layout_reads_and_writes_the_store(tmp_path: Path) -> None:
    """The block reads the store as it starts and writes what it shaped as it ends; the
    font lookup is matplotlib's own again afterwards."""
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    own = font_manager._get_font
    with textcache.shared_text_layout(tmp_path):
        assert font_manager._get_font is not own
        fig = plt.figure(figsize=(2, 1))
        fig.text(0.1, 0.5, "Ett ord som ingen annan test ritar: Ödeshög")
        fig.canvas.draw()
        plt.close(fig)
    assert font_manager._get_font is own
    (path,) = tmp_path.iterdir()
    assert "Ödeshög" in path.read_text(encoding="utf-8")


def _glyph_pixels(store: Path | None) -> bytes:
    """An Agg canvas of glyphs (:func:`test_textcache._glyph_figure`: whole and partial
    pixels, turned, not smoothed, spaces, math) drawn twice with the store in
    ``store``, in this process as in a new one (its tables emptied first)."""
    import matplotlib.pyplot as plt

    from test_textcache import _glyph_figure, _pixels

    textcache._glyph_bitmaps.clear()
    shapestore.load(None)
    with textcache.shared_text_layout(store):
        fig = _glyph_figure()
        pixels = _pixels(fig), _pixels(fig)
        plt.close(fig)
    assert pixels[0] == pixels[1]
    return pixels[0]


def test_stored_glyph_bitmaps_paint_the_same_pixels(tmp_path: Path, monkeypatch) -> None:
    """Glyphs drawn from the store (none rendered by FreeType) paint the pixels that
    matplotlib's own drawing paints, and leave each font as matplotlib leaves it."""
    import matplotlib.pyplot as plt
    from matplotlib.ft2font import FT2Font

    from test_textcache import _glyph_figure, _pixels

    fig = _glyph_figure()
    plain = _pixels(fig)
    plt.close(fig)
    assert _glyph_pixels(tmp_path) == plain  # rendered, and stored
    doc = json.loads(next(tmp_path.iterdir()).read_text(encoding="utf-8"))
    assert sum(map(len, doc["glyphs"].values())) > 50
    rendered = []
    own = FT2Font._render_glyph
    monkeypatch.setattr(FT2Font, "_render_glyph", lambda *a: rendered.append(1) or own(*a))
    assert _glyph_pixels(tmp_path) == plain  # from the store
    assert rendered == []
    text = fig.texts[0]
    with textcache.shared_text_layout(tmp_path):
        fig = _glyph_figure()
        fig.canvas.draw()
        font = fig.canvas.get_renderer()._prepare_font(text.get_fontproperties())
        kept = (font.get_width_height(), font.get_bitmap_offset())
        plt.close(fig)
    fig = _glyph_figure()
    fig.canvas.draw()
    font = fig.canvas.get_renderer()._prepare_font(text.get_fontproperties())
    assert (font.get_width_height(), font.get_bitmap_offset()) == kept
    plt.close(fig)


@pytest.mark.parametrize(
    "wrong",
    [
        ["AAAA", 2, 2, 0, 0],  # three bytes for four pixels
        ["AAAAAAA=", 2, 2, 0, 0],  # five bytes
        ["!!!!", 1, 3, 0, 0],  # not base64
        ["AAAA", 1, 3, 0.0, 0],
        ["AAAA", -1, -3, 0, 0],
        ["AAAA", 1, 3, 0],
        [None, 1, 3, 0, 0],
        "AAAA",
    ],
)
def test_a_glyph_of_the_wrong_shape_is_not_used(tmp_path: Path, wrong) -> None:
    font = _font()
    key = (10.0, 100.0, (65536, 0, 0, 65536), 5, 7, 36)
    shapestore.load(tmp_path)
    assert shapestore.glyph(font, key) is None
    shapestore._keep("glyphs", font, lambda: shapestore._glyph_text(key), ["AAAA", 1, 3, 4, 5])
    shapestore.save()
    shapestore.load(None)
    shapestore.load(tmp_path)
    pixels, left, top = shapestore.glyph(font, key)
    assert pixels.tolist() == [[0, 0, 0]] and (left, top) == (4, 5)
    assert pixels.flags["WRITEABLE"]
    path = next(tmp_path.iterdir())
    doc = json.loads(path.read_text(encoding="utf-8"))
    (entries,) = doc["glyphs"].values()
    entries[shapestore._glyph_text(key)] = wrong
    path.write_text(json.dumps(doc), encoding="utf-8")
    shapestore.load(None)
    shapestore.load(tmp_path)
    assert shapestore.glyph(font, key) is None


def test_another_version_of_the_program_is_another_environment(tmp_path, monkeypatch) -> None:
    """A changed :mod:`.textcache` (which makes the keys and the values) names other
    files: what an earlier program wrote is never read."""
    before = shapestore.environment()
    changed = tmp_path / "textcache.py"
    changed.write_bytes(Path(textcache.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(textcache, "__file__", str(changed))
    shapestore.environment.cache_clear()
    try:
        assert shapestore.environment() != before
    finally:
        monkeypatch.undo()
        shapestore.environment.cache_clear()
    assert shapestore.environment() == before


def _subset_args() -> tuple[str, int, frozenset[int]]:
    from trygghet_analys.files import export

    path = _font().fname
    return path, 0, export._subset_glyphs(path, 0, [36, 37, 166])


def test_a_stored_font_subset_is_fonttools_own(tmp_path: Path) -> None:
    from trygghet_analys.files import export

    args = _subset_args()
    made = export._subset_bytes.__wrapped__(*args)
    shapestore.load(tmp_path)
    assert shapestore._subset_kept(lambda *a: made, *args) == made
    shapestore.save()
    shapestore.load(None)
    shapestore.load(tmp_path)

    def refused(*a: object) -> None:
        raise AssertionError("made anew")

    assert shapestore._subset_kept(refused, *args) == made
    other = (args[0], args[1], args[2] | {0, 1})  # another glyph set: made
    assert shapestore._subset_kept(lambda *a: (b"x", ()), *other) == (b"x", ())


@pytest.mark.parametrize(
    "wrong",
    [
        ["!!!!", [[0, 0]]],
        ["", [[0, 0]]],
        ["AAAA", [[1, 0], [0, 1]]],  # not sorted
        ["AAAA", [[0, 0.0]]],
        ["AAAA", [[0]]],
        ["AAAA", None],
        [None, []],
        "AAAA",
    ],
)
def test_a_subset_of_the_wrong_shape_is_made_anew(tmp_path: Path, wrong) -> None:
    args = _subset_args()
    shapestore.load(tmp_path)
    shapestore._subset_kept(lambda *a: (b"\0\0\0", ((0, 0),)), *args)
    shapestore.save()
    path = next(tmp_path.iterdir())
    doc = json.loads(path.read_text(encoding="utf-8"))
    (entries,) = doc["subsets"].values()
    (name,) = entries
    entries[name] = wrong
    path.write_text(json.dumps(doc), encoding="utf-8")
    shapestore.load(None)
    shapestore.load(tmp_path)
    assert shapestore._subset_kept(lambda *a: (b"anew", ()), *args) == (b"anew", ())


def test_stored_font_subsets_puts_the_export_back() -> None:
    from trygghet_analys.files import export

    own = export._subset_bytes
    with shapestore.stored_font_subsets():
        assert export._subset_bytes is not own
        assert export._subset_bytes.__wrapped__ is own
    assert export._subset_bytes is own
