"""Text metrics, font lookups and font tables kept across drawings give the same files."""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import pytest

from trygghet_analys.files import export
from trygghet_analys.report import plotting, textcache


def _figure(dpi: float, family: str = "sans-serif") -> plt.Figure:
    with plotting.use_style(), mpl.rc_context({"font.family": family}):
        fig, ax = plt.subplots(figsize=(5, 3), dpi=dpi)
        ax.plot([2019, 2022, 2025], [0.1, 0.25, 0.2], label="Hela kommunen")
        ax.set_title("Otrygghet i Älmhult, 2019–2025", fontweight="bold")
        ax.set_ylabel("Andel\n(procent)")
        ax.text(2020, 0.2, "Fler rader\noch en till", fontsize=7, rotation=30)
        ax.text(2021, 0.12, r"$\alpha_1$ och text", fontsize=9)
        ax.legend(title="Förklaring", loc="upper left", bbox_to_anchor=(1, 1))
        fig.text(0.01, 0.01, "Källa: trygghetsmätningen", fontsize=7, style="italic")
        fig.tight_layout()
    return fig


def _files(fig: plt.Figure) -> list[bytes]:
    out = []
    with export.deterministic():
        for fmt in ("png", "svg", "pdf"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=export._METADATA[fmt])
            out.append(buf.getvalue())
    return out


def _all(shared: bool) -> list[bytes]:
    """Figures of two sizes in dots and two font families, drawn one after the other."""
    files = []
    context = textcache.shared_text_layout() if shared else mpl.rc_context()
    with context:
        for dpi, family in ((100, "sans-serif"), (200, "sans-serif"), (100, "serif")):
            fig = _figure(dpi, family)
            files += _files(fig)
            files.append(repr(fig.axes[0].title.get_window_extent()).encode())
            plt.close(fig)
    return files


def test_shared_text_layout_gives_the_same_files() -> None:
    plain = _all(shared=False)
    assert _all(shared=True) == plain
    assert plain[0] != plain[4]  # the dpi and the font family make a difference
    assert plain[0] != plain[8]


def test_metrics_are_kept_per_kind_of_renderer() -> None:
    with textcache.shared_text_layout():
        small, large = _figure(100), _figure(200)
        for fig in (small, large):
            fig.canvas.draw()
        fn = mtext._get_text_metrics_function
        a, b = small.canvas.get_renderer(), large.canvas.get_renderer()
        assert fn(a) is fn(a)
        prop = small.axes[0].title.get_fontproperties().copy()
        w_small = fn(a)("Otrygghet", prop, False, 100)[0]
        w_large = fn(b)("Otrygghet", prop, False, 200)[0]
        assert w_large == pytest.approx(2 * w_small, rel=0.05)
    plt.close(small)
    plt.close(large)


def test_shared_text_layout_puts_matplotlib_back() -> None:
    saved = (mtext._get_text_metrics_function, mtext.fontManager, mtext.get_font)
    layout = mtext.Text._get_layout
    with textcache.shared_text_layout():
        assert mtext.Text._get_layout is not layout
        inner = mtext._get_text_metrics_function
        assert inner is not saved[0]
        with textcache.shared_text_layout():  # nested: the outer one stays
            assert mtext._get_text_metrics_function is inner
        assert mtext._get_text_metrics_function is inner
    assert (mtext._get_text_metrics_function, mtext.fontManager, mtext.get_font) == saved
    assert mtext.Text._get_layout is layout


def test_agg_glyph_drawing_is_put_back() -> None:
    from matplotlib.backends.backend_agg import RendererAgg

    own = RendererAgg._draw_text_glyphs_and_boxes
    with textcache.shared_text_layout():
        assert RendererAgg._draw_text_glyphs_and_boxes is not own
    assert RendererAgg._draw_text_glyphs_and_boxes is own


def _glyph_figure() -> plt.Figure:
    """Texts whole pixels apart, at another fraction of a pixel, turned, not smoothed
    (one-bit glyphs), with spaces (empty glyphs) and math rules."""
    fig = plt.figure(figsize=(4, 3), dpi=100)
    for i in range(12):
        x, y = (10 + 29 * i) / 400, (20 + 13 * i) / 300
        fig.text(x, y, "Ål 1 2", fontsize=9)
        fig.text(x + 0.0113, 1 - y, "Ål 1 2", fontsize=9, rotation=90)
        fig.text(x, y + 0.3, "Ål 1 2", fontsize=9, rotation=30, antialiased=False)
    for i in range(12):
        fig.text(0.6 + i * 0.0317, 0.9, "Ål", fontsize=9)
    fig.text(0.5, 0.5, r"$\frac{1}{2}$ av $\sqrt{x}$", fontsize=11)
    return fig


def _pixels(fig: plt.Figure) -> bytes:
    fig.canvas.draw()
    return bytes(fig.canvas.buffer_rgba())


def test_agg_glyphs_kept_paint_the_same_pixels() -> None:
    fig = _glyph_figure()
    plain = _pixels(fig)
    textcache._glyph_bitmaps.clear()
    with textcache.shared_text_layout():
        first = _pixels(fig)
        kept = len(textcache._glyph_bitmaps)
        again = _pixels(fig)  # every glyph from the table
        assert len(textcache._glyph_bitmaps) == kept
        moved = plt.figure(figsize=(4, 3), dpi=100)
        for text in fig.texts:  # the same texts three whole pixels further right
            x, y = text.get_position()
            moved.text(
                x + 3 / 400,
                y,
                text.get_text(),
                fontsize=text.get_fontsize(),
                rotation=text.get_rotation(),
                antialiased=text.get_antialiased(),
            )
        shifted = _pixels(moved)
    assert first == again == plain
    # 36 texts of 6 glyphs whole pixels apart: a glyph at the same fraction of a pixel
    # is kept once (the 72 spaces once per position)
    assert 0 < kept < 72 + 36 * 4 / 2
    textcache._glyph_bitmaps.clear()
    assert shifted == _pixels(moved)
    plt.close(fig)
    plt.close(moved)


#: A text, and one property changed at a time: each is something ``Text._get_layout``
#: reads, so the layouts kept for two of these texts must differ.
_BASE = {"rotation": 30, "fontsize": 10}
_VARIANTS = (
    {},
    {"fontsize": 14},
    {"fontweight": "bold"},
    {"family": "serif"},
    {"ha": "right"},
    {"va": "top"},
    {"rotation": 60},
    {"rotation_mode": "anchor"},
    {"linespacing": 2.0},
    {"multialignment": "right"},
    {"parse_math": False},
)


def _texts() -> tuple[plt.Figure, list[mtext.Text]]:
    fig = plt.figure(figsize=(4, 3), dpi=100)
    texts = [
        fig.text(0.1, 0.1, "Två $x_1$\nrader, längre", **(_BASE | change)) for change in _VARIANTS
    ]
    texts.append(fig.text(0.2, 0.2, "En annan text", **_BASE))
    return fig, texts


def test_text_layout_kept_is_matplotlibs_own() -> None:
    fig, texts = _texts()
    renderer = fig.canvas.get_renderer()
    plain = [t._get_layout(renderer) for t in texts]
    with textcache.shared_text_layout():
        first = [t._get_layout(renderer) for t in texts]
        again = [t._get_layout(renderer) for t in texts]  # from the table
    for mine in (first, again):
        for (box, lines, corner), (pbox, plines, pcorner) in zip(mine, plain, strict=True):
            assert box.bounds == pbox.bounds
            assert lines == plines
            assert corner == pcorner
    # every property changed makes a difference, so a key without it would mix them up
    layouts = [(box.bounds, repr(lines)) for box, lines, _ in plain]
    assert len(set(layouts)) == len(layouts)
    plt.close(fig)


def test_text_layout_follows_a_changed_text_and_dpi() -> None:
    fig, texts = _texts()
    text = texts[0]
    with textcache.shared_text_layout():
        before = text._get_layout(fig.canvas.get_renderer())[0].bounds
        text.set_rotation(90)
        turned = text._get_layout(fig.canvas.get_renderer())[0].bounds
        text.set_rotation(_BASE["rotation"])
        assert text._get_layout(fig.canvas.get_renderer())[0].bounds == before
        fig.set_dpi(200)
        larger = text._get_layout(fig.canvas.get_renderer())[0].bounds
    assert turned != before
    assert larger[2] == pytest.approx(2 * before[2], rel=0.05)
    fig.set_dpi(200)
    assert text._get_layout(fig.canvas.get_renderer())[0].bounds == larger
    plt.close(fig)


def test_text_layout_is_a_copy() -> None:
    fig, texts = _texts()
    renderer = fig.canvas.get_renderer()
    with textcache.shared_text_layout():
        box, lines, _ = texts[2]._get_layout(renderer)
        box.x0 += 100  # a caller changing what it got
        lines.clear()
        again, lines_again, _ = texts[2]._get_layout(renderer)
    assert again.x0 != box.x0
    assert len(lines_again) == 2
    plt.close(fig)


def test_font_lookup_follows_a_setting_changed_in_place() -> None:
    """The ``font.*`` settings are compared with those read last: a family list
    changed in place (the same list object) must not give the fonts found before."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family="sans-serif", size=10)
    families = list(mpl.rcParams["font.sans-serif"])
    with mpl.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        with textcache.shared_text_layout():
            find = font_manager.fontManager._find_fonts_by_props
            before = [path.path for path in find(prop)]
            mpl.rcParams["font.sans-serif"].insert(0, "DejaVu Serif")  # in place
            after = [path.path for path in find(prop)]
            own = [path.path for path in find.__wrapped__(prop)]
            mpl.rcParams["font.sans-serif"].pop(0)
            again = [path.path for path in find(prop)]
    assert mpl.rcParams["font.sans-serif"] == families
    assert after == own
    assert after != before
    assert again == before


def test_text_extent_is_matplotlibs_own() -> None:
    """Texts measured without a dpi are measured as matplotlib measures them; texts of
    the same layout at other places, with a dpi given, or empty, each get their own."""
    fig, texts = _texts()
    renderer = fig.canvas.get_renderer()
    texts += [fig.text(0.7, 0.3, "En annan text", **_BASE), fig.text(0.5, 0.5, "")]

    def extents() -> list:
        return [
            (t.get_window_extent(renderer).bounds, t.get_window_extent(dpi=200).bounds)
            for t in texts
        ]

    plain = extents()
    with textcache.shared_text_layout():
        first, again = extents(), extents()
    assert first == again == plain
    assert plain[-3] != plain[-2]  # the same text at another place
    assert plain[-2][0] != plain[-2][1]  # another dpi
    plt.close(fig)


def test_text_layout_is_kept_per_renderer_dpi() -> None:
    """Renderers of another dpi (one after the other, the first gone) lay texts out
    anew: a kind of renderer is known by its settings, not by the last renderer."""
    from matplotlib.backends.backend_agg import RendererAgg

    fig, texts = _texts()
    text = texts[-1]
    with textcache.shared_text_layout():
        sizes = []
        for dpi in (100, 200, 100):
            renderer = RendererAgg(400, 300, dpi)
            sizes.append(text._get_layout(renderer)[0].bounds)
            del renderer
    plain = text._get_layout(RendererAgg(400, 300, 200))[0].bounds
    assert sizes[0] == sizes[2] != sizes[1] == plain
    plt.close(fig)


#: Texts measured both ways: every character a report draws, spaces, ligatures (``fi``,
#: ``ffi``), a last character that is a ligature's, one and two letters, kerned pairs,
#: characters DejaVu lacks (a fallback font or a missing glyph), and an empty text.
_MEASURED = [
    *[chr(c) for c in range(32, 127)],
    *"åäöÅÄÖéü–—−…\xa0\u202f·•°±×≤≥€‰",
    "",
    "  ",
    "fi",
    "office ffi",
    "AV Wa Tå To",
    "29\xa0% av invånarna i Älmhult −0,5 … (95 % konfidensintervall 25\xa0%–33\xa0%)",
    "中文 och ☃",
]


def _random_texts(rng, n: int) -> list[str]:
    chars = [c for c in _MEASURED[:-7] if c]
    return ["".join(rng.choice(chars, size=rng.integers(1, 90))) for _ in range(n)]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@pytest.mark.parametrize("weight", ["normal", "bold"])
@pytest.mark.parametrize("style", ["normal", "italic"])
@pytest.mark.parametrize("hinting", ["NO_HINTING", "FORCE_AUTOHINT", "DEFAULT", "NO_AUTOHINT"])
def test_text_extent_from_shaping_is_set_texts(rng, weight, style, hinting) -> None:
    """``_extent_of`` gives ``set_text``'s width, height and descent, or None; never
    another answer, and an answer for almost every text."""
    from matplotlib.font_manager import FontProperties, findfont, get_font
    from matplotlib.ft2font import LoadFlags

    flags = LoadFlags[hinting]
    font = get_font(findfont(FontProperties(family="DejaVu Sans", weight=weight, style=style)))
    texts = _MEASURED + _random_texts(rng, 25)
    answered = 0
    with textcache.shared_text_layout():
        for size, dpi in ((6.5, 72), (10.5, 72), (17, 100), (10, 100), (100, 72)):
            font.set_size(size, dpi)
            for s in texts:
                items = font._layout(s, flags, features=None, language=None)
                extent = textcache._extent_of(font, items, flags)
                font.set_text(s, 0.0, flags=flags)
                own = (*font.get_width_height(), font.get_descent())
                if extent is not None:
                    answered += 1
                    assert extent == own, (s, size, dpi)
    assert answered > 0.95 * 5 * len(texts)


def _renderers() -> list:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_pdf import PdfFile, RendererPdf
    from matplotlib.textpath import text_to_path

    return [
        RendererAgg(400, 300, 100),
        RendererAgg(400, 300, 200),
        RendererPdf(PdfFile(io.BytesIO()), 72, 300, 400),
        text_to_path,
    ]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_renderers_measure_texts_as_matplotlib(rng) -> None:
    """The Agg, PDF and text-path measurements inside the block equal matplotlib's own
    for plain texts in several faces and sizes, mathtext, and an empty text."""
    from matplotlib.font_manager import FontProperties

    props = [
        FontProperties(family="DejaVu Sans", size=size, weight=weight, style=style)
        for size, weight, style in ((10.5, "normal", "normal"), (7, "bold", "italic"))
    ]
    texts = [(s, False) for s in _MEASURED + _random_texts(rng, 10)]
    texts += [(r"$\alpha_1$ och text", True), ("", False)]

    def measured() -> list:
        with plotting.use_style():
            return [
                renderer.get_text_width_height_descent(s, prop, ismath)
                for renderer in _renderers()
                for prop in props
                for s, ismath in texts
            ]

    plain = measured()
    with textcache.shared_text_layout():
        first, again = measured(), measured()
    assert first == again == plain


def test_text_measuring_is_put_back() -> None:
    from matplotlib.backends._backend_pdf_ps import RendererPDFPSBase
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.textpath import TextToPath

    owners = (RendererPDFPSBase, RendererAgg, TextToPath)
    own = [owner.get_text_width_height_descent for owner in owners]
    with textcache.shared_text_layout():
        assert all(
            owner.get_text_width_height_descent is not f
            for owner, f in zip(owners, own, strict=True)
        )
    assert [owner.get_text_width_height_descent for owner in owners] == own
