"""Deterministic writers: figures, chart book, xlsx — the same bytes every time."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
import zlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from trygghet_analys.files import export as _export
from trygghet_analys.files._io import deterministic_zip


def _figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([2020, 2021, 2022], [0.1, 0.2, 0.15], label="Älmhult")
    ax.set_title("Otrygg ute sent en kväll")
    ax.legend()
    return fig


def test_save_figure_same_bytes_in_different_folders(tmp_path: Path) -> None:
    a = _export.save_figure(_figure(), tmp_path / "a" / "diagram")
    b = _export.save_figure(_figure(), tmp_path / "b" / "djup" / "diagram")
    assert [p.suffix for p in a] == [".png", ".svg", ".pdf"]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.suffix


def test_figure_files_carry_no_dates_or_paths(tmp_path: Path) -> None:
    png, svg, pdf = _export.save_figure(_figure(), tmp_path / "diagram")
    assert b"Software" not in png.read_bytes()
    text = svg.read_text(encoding="utf-8")
    assert "<dc:date>" not in text
    assert str(tmp_path) not in text
    data = pdf.read_bytes()
    assert b"/CreationDate" not in data and b"/ModDate" not in data


def test_png_bytes_are_reused(tmp_path: Path) -> None:
    fig = _figure()
    png = _export.figure_png_bytes(fig)
    assert png.startswith(b"\x89PNG")
    (path, *_rest) = _export.save_figure(fig, tmp_path / "d", png=png)
    assert path.read_bytes() == png


def _png_idat(png: bytes) -> bytes:
    """The concatenated IDAT chunks of a PNG: one zlib stream."""
    data, at = b"", 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return data


def _zlib_header(level: int) -> bytes:
    """The two bytes a zlib stream starts with: they name the level's class (fast … best)."""
    return zlib.compress(b"", level)[:2]


def test_png_is_the_figures_pixels_at_the_cheaper_level() -> None:
    """The PNG is compressed at :data:`PNG_COMPRESS_LEVEL` (not Pillow's 6) and holds
    exactly the pixels of matplotlib's own PNG of the figure (opaque: its RGB)."""
    from PIL import Image

    assert _zlib_header(_export.PNG_COMPRESS_LEVEL) != _zlib_header(6)
    fig = _laid_out_figure()
    png = _export.figure_png_bytes(fig)
    assert _png_idat(png)[:2] == _zlib_header(_export.PNG_COMPRESS_LEVEL)
    plain = io.BytesIO()
    fig.savefig(plain, format="png")
    assert _png_idat(plain.getvalue())[:2] == _zlib_header(6)
    ours, theirs = (np.asarray(Image.open(io.BytesIO(b))) for b in (png, plain.getvalue()))
    assert ours.shape == (*theirs.shape[:2], 3)
    assert (theirs[..., 3] == 255).all()
    assert (ours == theirs[..., :3]).all()


def _png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk of a PNG, in order."""
    chunks, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        chunks.append((png[at + 4 : at + 8], png[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def _matplotlibs_png(fig: plt.Figure) -> bytes:
    """The PNG matplotlib's own ``savefig`` writes with the report's options."""
    buf = io.BytesIO()
    with _export.deterministic():
        fig.savefig(buf, format="png", metadata=_export._METADATA["png"], **_png_options())
    return buf.getvalue()


def _png_options() -> dict:
    return {"pil_kwargs": dict(_export._PNG_OPTIONS)}


def _colour_type(png: bytes) -> int:
    """The PNG colour type in IHDR: 2 RGB, 6 RGBA."""
    ((kind, header), *_rest) = _png_chunks(png)
    assert kind == b"IHDR"
    return header[9]


def test_opaque_figure_png_is_rgb_with_the_same_pixels_and_chunks(tmp_path: Path) -> None:
    """An opaque chart is written as RGB (colour type 2): the decoded pixels are the RGB
    of matplotlib's RGBA PNG (alpha 255 everywhere), every chunk but IHDR and IDAT is
    matplotlib's (``pHYs``, no ``Software``), IHDR differs only in the colour type, and
    the bytes are the same every time and in ``save_figure``'s file."""
    from PIL import Image

    fig = _laid_out_figure()
    png = _export.figure_png_bytes(fig)
    theirs = _matplotlibs_png(fig)
    assert _colour_type(png) == 2 and _colour_type(theirs) == 6
    assert Image.open(io.BytesIO(png)).mode == "RGB"
    rgb = np.asarray(Image.open(io.BytesIO(png)))
    rgba = np.asarray(Image.open(io.BytesIO(theirs)))
    assert (rgba[..., 3] == 255).all()
    assert np.array_equal(rgb, rgba[..., :3])
    ours, own = _png_chunks(png), _png_chunks(theirs)
    assert [c for c in ours if c[0] not in (b"IHDR", b"IDAT")] == [
        c for c in own if c[0] not in (b"IHDR", b"IDAT")
    ]
    assert [k for k, _ in ours if k == b"pHYs"] == [b"pHYs"]
    assert ours[0][1][:9] + ours[0][1][10:] == own[0][1][:9] + own[0][1][10:]
    assert len(png) < len(theirs)
    assert _export.figure_png_bytes(fig) == png
    (path,) = _export.save_figure(fig, tmp_path / "d", formats=("png",))
    assert path.read_bytes() == png


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_figure_png_with_transparency_stays_rgba(alpha: float) -> None:
    """A figure with a (half) transparent region, here the margins around the axes, is
    written as RGBA, as matplotlib writes it (same bytes: same pixels and chunks)."""
    fig = _laid_out_figure()
    fig.patch.set_alpha(alpha)
    png = _export.figure_png_bytes(fig)
    assert _colour_type(png) == 6
    assert png == _matplotlibs_png(fig)


@pytest.mark.parametrize(
    ("pixel", "colour_type"),
    [
        ((0, 0, 0, 255), 2),  # opaque black: nothing above alpha
        ((255, 255, 255, 254), 6),  # white, alpha just below opaque
        ((255, 255, 255, 0), 6),  # white, fully transparent
        ((0, 0, 0, 0), 6),
    ],
)
def test_png_bytes_are_rgb_only_when_every_pixel_is_opaque(
    pixel: tuple[int, ...], colour_type: int
) -> None:
    """The opacity check looks at alpha alone, in every pixel; the decoded pixels are
    the input's (its RGB when written as RGB)."""
    from PIL import Image

    rgba = np.full((3, 5, 4), 255, dtype=np.uint8)
    rgba[..., :3] = np.arange(45, dtype=np.uint8).reshape(3, 5, 3)
    rgba[2, 4] = pixel
    png = _export._png_bytes(rgba, dpi=100)
    assert _colour_type(png) == colour_type
    decoded = np.asarray(Image.open(io.BytesIO(png)))
    assert np.array_equal(decoded, rgba if colour_type == 6 else rgba[..., :3])


@pytest.mark.parametrize("dpi", [72, 100, 150.5, 300])
def test_opaque_png_is_up_filtered_zlib_ng_with_pillows_other_chunks(dpi: float) -> None:
    """An opaque image is written without Pillow: every row filtered "Up" (wrapping
    modulo 256 where a byte is smaller than the one above it), deflated by zlib-ng at
    :data:`PNG_COMPRESS_LEVEL`, and with the chunks Pillow writes for the same image and
    dpi; any reader decodes the same pixels."""
    from PIL import Image
    from zlib_ng import zlib_ng

    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)  # odd sizes, any bytes
    rgba[..., 3] = 255
    rgba[5:9] = rgba[4]  # repeated rows: all zeros once filtered
    png = _export._png_bytes(rgba, dpi=dpi)
    idat = _png_idat(png)
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(37, 1 + 53 * 3)
    assert (rows[:, 0] == 2).all()
    assert (rows[5:9, 1:] == 0).all()
    assert idat == zlib_ng.compress(rows.tobytes(), _export.PNG_COMPRESS_LEVEL)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), rgba[..., :3])
    pillows = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(pillows, format="png", dpi=(dpi, dpi))
    assert [c for c in _png_chunks(png) if c[0] != b"IDAT"] == [
        c for c in _png_chunks(pillows.getvalue()) if c[0] != b"IDAT"
    ]


def test_png_bytes_refuse_other_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(height, width, 4\)"):
        _export._png_bytes(np.zeros((2, 2, 3), dtype=np.uint8), dpi=100)


def _laid_out_figure() -> plt.Figure:
    """A chart after ``tight_layout``, as every report chart is (``finish_figure``)."""
    fig = _figure()
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    return fig


def test_laid_out_figure_is_drawn_once_per_file(tmp_path: Path, monkeypatch) -> None:
    """``tight_layout`` leaves a do-nothing layout engine, for which ``savefig`` would draw
    the whole figure a second time before each file; it is drawn once per file."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    fig = _laid_out_figure()
    engine = fig.get_layout_engine()
    assert type(engine) is PlaceHolderLayoutEngine
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: (draws.append(r), original(self, r))[1])
    png = _export.figure_png_bytes(fig)
    _export.save_figure(fig, tmp_path / "d", png=png)
    assert len(draws) == 3  # PNG, SVG, PDF
    assert fig.get_layout_engine() is engine


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_skipping_the_layout_predraw_gives_the_same_bytes(tmp_path: Path, fmt: str) -> None:
    """The same bytes as matplotlib's own ``savefig`` with its extra drawing (and the
    same PNG level)."""
    (path,) = _export.save_figure(_laid_out_figure(), tmp_path / "d", formats=(fmt,))
    buf = io.BytesIO()
    options = _png_options() if fmt == "png" else {}
    with _export.deterministic():
        _laid_out_figure().savefig(buf, format=fmt, metadata=_export._METADATA[fmt], **options)
    expected = buf.getvalue()
    if fmt == "png":  # matplotlib's pixels, written as the report writes them (RGB)
        from PIL import Image

        expected = _export._png_bytes(np.asarray(Image.open(buf)), dpi=plt.rcParams["figure.dpi"])
    assert path.read_bytes() == expected


def _plain_svg(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    with _export.deterministic():
        fig.savefig(buf, format="svg", metadata=_export._METADATA["svg"])
    return buf.getvalue()


def test_svg_glyphs_kept_across_figures_give_matplotlibs_svg(tmp_path: Path) -> None:
    """Texts laid out once per process: each SVG still defines every glyph it uses
    (once, in order of first use) and is matplotlib's own, byte for byte."""
    from matplotlib.textpath import TextToPath

    original = TextToPath.get_glyphs_with_font
    _export._svg_glyphs.clear()
    figures = [_laid_out_figure(), _figure(), _figure()]
    figures[1].text(0.1, 0.5, "Otrygg ute – ﬁnska åäö 2021", fontsize=9, rotation=10)
    figures[2].suptitle("Älmhult kväll kväll")
    for i, fig in enumerate(figures):
        (path,) = _export.save_figure(fig, tmp_path / f"d{i}", formats=("svg",))
        assert path.read_bytes() == _plain_svg(fig), i
        plt.close(fig)
    assert _export._svg_glyphs  # the texts were kept ...
    assert TextToPath.get_glyphs_with_font is original  # ... and matplotlib's is back


def _svg_texts_figure() -> plt.Figure:
    """Texts at several depths of an SVG file: in the figure, clipped to the axes (a
    group around the text), a link (an ``<a>``), coloured and transparent, math text,
    the same text twice and a text of spaces only (a group without glyphs)."""
    fig = _figure()
    ax = fig.axes[0]
    ax.text(2021, 0.15, "Otrygg ute – ﬁnska åäö 2021", clip_on=True, color="#d95f02")
    ax.text(2020.5, 0.12, "2021", alpha=0.5, url="https://example.org/")
    fig.text(0.1, 0.5, "Otrygg ute – ﬁnska åäö 2021", fontsize=9, rotation=10)
    fig.text(0.2, 0.2, r"$\alpha = 0{,}5$")
    fig.text(0.3, 0.3, "   ")
    return fig


def test_svg_text_written_once_gives_matplotlibs_svg(tmp_path: Path) -> None:
    """References, definitions and outlines kept from one figure to the next (and the
    same figure again) give matplotlib's own SVG, byte for byte; the swaps are undone."""
    from matplotlib.backends.backend_svg import RendererSVG

    original = RendererSVG._draw_text_as_path
    for table in (_export._svg_glyphs, _export._svg_outlines, _export._svg_written):
        table.clear()
    figures = [_svg_texts_figure(), _figure(), _svg_texts_figure()]
    for i, fig in enumerate(figures):
        (path,) = _export.save_figure(fig, tmp_path / f"d{i}", formats=("svg",))
        assert path.read_bytes() == _plain_svg(fig), i
        plt.close(fig)
    assert _export._svg_outlines and _export._svg_written
    assert RendererSVG._draw_text_as_path is original


def test_pdf_glyphs_found_by_font_are_matplotlibs(tmp_path: Path, monkeypatch) -> None:
    """Glyphs found per font object get the subsets and codes matplotlib gives them:
    the same chart book and chart PDF, ligatures (a second subset) in either order."""
    import contextlib

    from matplotlib.backends._backend_pdf_ps import CharacterTracker

    original = CharacterTracker.track_glyph
    _export._pdf_bodies.clear()
    _export._pdf_glyphs.clear()
    found = _book_with_page(tmp_path / "found"), _ligatures_pdf(["fine", "flat", "fine"])
    assert CharacterTracker.track_glyph is original
    monkeypatch.setattr(_export, "_pdf_glyphs_found_by_font", contextlib.nullcontext)
    own = _book_with_page(tmp_path / "own"), _ligatures_pdf(["fine", "flat", "fine"])
    assert found == own


def test_pdf_text_without_glyph_loading_gives_the_same_pdf(monkeypatch) -> None:
    """The PDF back end never reads the glyphs its text layout loads (3.11)."""
    import contextlib

    from matplotlib.backends import backend_pdf

    def pdf() -> bytes:
        buf = io.BytesIO()
        fig = _figure()
        fig.text(0.1, 0.02, "Källa: ﬁnska och svenska – 95 % ≤ 1", fontsize=7, rotation=5)
        with _export.deterministic():
            assert isinstance(backend_pdf._text_helpers, _export._ShapingOnly) is lean
            fig.savefig(buf, format="pdf", metadata=_export._METADATA["pdf"])
        plt.close(fig)
        return buf.getvalue()

    lean = True
    shaped = pdf()
    lean = False
    monkeypatch.setattr(_export, "_pdf_text_without_glyph_loading", contextlib.nullcontext)
    assert pdf() == shaped
    assert not isinstance(backend_pdf._text_helpers, _export._ShapingOnly)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        _export.save_figure(_figure(), tmp_path / "d", formats=("gif",))


def test_deterministic_restores_environment() -> None:
    before = os.environ.get("SOURCE_DATE_EPOCH")
    with _export.deterministic():
        assert os.environ["SOURCE_DATE_EPOCH"]
        assert plt.rcParams["svg.hashsalt"] == "trygghet-analys"
    assert os.environ.get("SOURCE_DATE_EPOCH") == before


def test_pdf_book_is_reproducible(tmp_path: Path) -> None:
    _export.write_pdf_book(tmp_path / "a.pdf", [_figure(), _figure()], title="Trygghet")
    _export.write_pdf_book(tmp_path / "b.pdf", [_figure(), _figure()], title="Trygghet")
    a = (tmp_path / "a.pdf").read_bytes()
    assert a == (tmp_path / "b.pdf").read_bytes()
    assert b"/Count 2" in a


def test_pdf_streams_use_the_cheaper_level_and_hold_the_same_drawing(
    tmp_path: Path, monkeypatch
) -> None:
    """PDF streams are compressed at :data:`PDF_COMPRESSION` (not matplotlib's 6); each
    decompresses to what is written at matplotlib's own level."""
    level = _export.PDF_COMPRESSION
    assert _zlib_header(level) != _zlib_header(6)
    _export.write_pdf_book(tmp_path / "a.pdf", [_figure()], title="Trygghet")
    monkeypatch.setattr(_export, "PDF_COMPRESSION", 6)
    _export.write_pdf_book(tmp_path / "b.pdf", [_figure()], title="Trygghet")
    ours, theirs = ((tmp_path / n).read_bytes() for n in ("a.pdf", "b.pdf"))
    flate = re.findall(rb"/FlateDecode.*?stream\n(..)", ours, re.S)
    assert flate and set(flate) == {_zlib_header(level)}
    assert ours != theirs

    def content(pdf: bytes) -> list[tuple[bytes, bytes]]:
        # stream lengths (some objects of their own) and offsets (the xref table) differ
        objects = _pdf_objects(pdf[: pdf.rindex(b"\nxref\n")])
        return [
            (re.sub(rb"/Length \d+( 0 R)?", b"", head), body)
            for head, body in objects.values()
            if not re.fullmatch(rb"\s*\d+\s*endobj\s*", head)
        ]

    assert content(ours) == content(theirs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-3", "'-3"),
        ("@SUMMA", "'@SUMMA"),
        ("\tx", "'\tx"),
        ("Älmhult", "Älmhult"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert _export.neutralise(value) == expected


def _sheets() -> dict[str, pd.DataFrame]:
    return {
        "Skattningar": pd.DataFrame(
            {
                "År": [2024, 2025],
                "Grupp": ["Hela kommunen", '=HYPERLINK("x")'],
                "Skattning": [0.25, float("nan")],
                "Undertryckt": [False, True],
                "Datum": pd.to_datetime(["2024-03-05", "2025-03-04"]),
            }
        ),
        "Tomt": pd.DataFrame({"Kolumn": pd.Series([], dtype="string")}),
    }


def test_xlsx_is_byte_reproducible(tmp_path: Path) -> None:
    a = _export.write_xlsx(tmp_path / "a.xlsx", _sheets(), title="Tabeller")
    b = _export.write_xlsx(tmp_path / "b" / "a.xlsx", _sheets(), title="Tabeller")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def _stored(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The bytes of ``info``'s entry as stored in the zip ``data`` (after its local header)."""
    at = info.header_offset
    start = at + 30 + int.from_bytes(data[at + 26 : at + 28], "little")
    start += int.from_bytes(data[at + 28 : at + 30], "little")
    return data[start : start + info.compress_size]


def _zlib_deflate(level: int):
    """Stdlib zlib's raw deflate at ``level``, as zipfile deflates an entry."""

    def deflate(data: bytes) -> bytes:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()

    return deflate


def test_xlsx_entries_are_deflated_by_zlib_ng_at_its_level(tmp_path: Path) -> None:
    """Every entry is zlib-ng's raw deflate at :data:`~trygghet_analys.files._xlsx.COMPRESS_LEVEL`
    (level 4: smaller than stdlib zlib's level 5, used before, in about half the CPU); a
    change of level or back to stdlib zlib fails here."""
    from zlib_ng import zlib_ng

    from trygghet_analys.files._xlsx import COMPRESS_LEVEL

    assert COMPRESS_LEVEL == 4
    data = _export.write_xlsx(tmp_path / "t.xlsx", _sheets(), title="Tabeller").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        infos = z.infolist()
        for info in infos:
            content = z.read(info)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert _stored(data, info) == zlib_ng.compress(content, 4, -15), info.filename
        # the largest entry tells the two libraries apart
        largest = max(infos, key=lambda i: i.file_size)
        assert _stored(data, largest) != _zlib_deflate(4)(z.read(largest))
        assert _stored(data, largest) != _zlib_deflate(5)(z.read(largest))


def _zipfile_bytes(parts: dict[str, bytes], when: tuple[int, ...]) -> bytes:
    """``parts`` through stdlib zipfile as :meth:`Book.to_bytes` wrote them before."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            entry = zipfile.ZipInfo(name, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            z.writestr(entry, content, compresslevel=5)
    return buf.getvalue()


@pytest.mark.parametrize(
    "when",
    [dt.datetime(2000, 1, 1), dt.datetime(2023, 12, 31, 23, 59, 59), dt.datetime(1980, 1, 1)],
)
def test_zip_entries_writes_the_records_zipfile_writes(tmp_path: Path, when) -> None:
    """With stdlib zlib's deflate, :func:`zip_entries` gives zipfile's bytes exactly (the
    xlsx's own parts, a UTF-8 name, an empty entry); with zlib-ng the same entries come
    back from zipfile, openpyxl and calamine."""
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    from trygghet_analys.files._xlsx import zip_entries

    xlsx = _export.write_xlsx(tmp_path / "t.xlsx", _sheets(), title="Tabeller").read_bytes()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    assert zip_entries(parts, when, _zlib_deflate(5)) == _zipfile_bytes(parts, when.timetuple()[:6])
    odd = {**parts, "xl/blad_å.xml": "<å/>".encode(), "tom.txt": b""}
    assert zip_entries(odd, when, _zlib_deflate(5)) == _zipfile_bytes(odd, when.timetuple()[:6])
    data = zip_entries(parts, when)
    assert data == zip_entries(parts, when)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert {info.filename: z.read(info) for info in z.infolist()} == parts
        assert {i.date_time for i in z.infolist()} == {
            (*when.timetuple()[:5], when.second // 2 * 2)
        }
    (tmp_path / "n.xlsx").write_bytes(data)
    assert load_workbook(tmp_path / "n.xlsx").sheetnames == ["Skattningar", "Tomt"]
    rows = CalamineWorkbook.from_path(str(tmp_path / "n.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[1][:2] == [2024, "Hela kommunen"]


def test_zip_entries_refuses_a_date_a_zip_cannot_hold() -> None:
    from trygghet_analys.files._xlsx import zip_entries

    with pytest.raises(ValueError, match="cannot be dated"):
        zip_entries({"a.xml": b"<a/>"}, dt.datetime(1979, 12, 31))


def test_xlsx_contents(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = _export.write_xlsx(tmp_path / "t.xlsx", _sheets())
    wb = load_workbook(path)
    assert wb.sheetnames == ["Skattningar", "Tomt"]
    ws = wb["Skattningar"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("År", "Grupp", "Skattning", "Undertryckt", "Datum")
    assert rows[1][:4] == (2024, "Hela kommunen", 0.25, False)
    assert rows[2][1] == '\'=HYPERLINK("x")'
    assert rows[2][2] is None
    assert ws["A1"].font.b
    assert ws.freeze_panes == "A2"
    assert ws["B3"].data_type == "s"


def test_xlsx_refuses_bad_sheet_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid sheet name"):
        _export.write_xlsx(tmp_path / "t.xlsx", {"a/b": pd.DataFrame({"x": [1]})})


def test_normalised_zip_keeps_entry_order() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("b.xml", "<b/>")
        z.writestr("a.xml", "<a/>")
    out = deterministic_zip(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert z.namelist() == ["b.xml", "a.xml"]
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_xlsx_cells_as_two_independent_readers_see_them(tmp_path: Path) -> None:
    """Every kind of cell the writer knows, read back by openpyxl and by calamine."""
    import datetime as dt

    import numpy as np
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    frame = pd.DataFrame(
        {
            "Text": ["a\x01b", " kant ", "_x0041_", 'a&b<c>"d', ""],
            "Blandat": pd.Series(
                [np.int64(3), np.float64(0.5), np.bool_(True), dt.date(2024, 3, 5), np.str_("x")],
                dtype=object,
            ),
            "Tid": pd.to_datetime(
                ["2024-03-05 12:30", None, "2025-01-01 00:00", "2024-01-01 00:00", None]
            ),
            "Andel": [0.1 + 0.2, -1e-05, float("nan"), 12345678.9, 2.0],
            "Antal": [1, 2, 3, 4, 10**15],
        }
    )
    path = _export.write_xlsx(
        tmp_path / "t.xlsx",
        {'Blad "1" & <2>': frame},
        title="T & <t>",
        banner="Exempeldata",
        number_formats={'Blad "1" & <2>': {"Blandat": ["0.0%", "0.00", None, None, None]}},
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ['Blad "1" & <2>']
    assert wb.properties.title == "T & <t>" and wb.properties.creator == "trygghet-analys"
    ws = wb.active
    assert ws.freeze_panes == "A3"
    # width: the longest text of header and values + 2 ('a&b<c>"d' 8, "2024-03-05" 10,
    # "2024-03-05 12:30:00" 19, "0.30000000000000004" 19, "1000000000000000" 16)
    assert [ws.column_dimensions[c].width for c in "ABCDE"] == [10, 12, 21, 21, 18]
    assert ws["A1"].value == "Exempeldata" and ws["A1"].font.b
    assert ws["A1"].font.color.rgb == "00A33F00"
    assert [c.value for c in ws[2]] == ["Text", "Blandat", "Tid", "Andel", "Antal"]
    assert all(c.font.b for c in ws[2])
    cells = {c.coordinate: (c.value, c.number_format) for row in ws.iter_rows() for c in row}
    assert cells["B3"] == (3, "0.0%")  # a numpy integer in a text column is a number
    assert cells["B4"] == (0.5, "0.00")
    assert cells["B5"] == (True, "General")
    assert cells["B6"] == (dt.datetime(2024, 3, 5), "yyyy-mm-dd")
    assert cells["C3"] == (dt.datetime(2024, 3, 5, 12, 30), "yyyy-mm-dd h:mm:ss")
    assert cells["B7"] == ("x", "General")
    assert cells["C4"][0] is None and cells["A7"][0] is None  # missing, empty text
    assert cells["D3"] == (0.30000000000000004, "#,##0.00")  # every digit of the float
    assert cells["D4"] == (-1e-05, "#,##0.00") and cells["D5"][0] is None
    assert cells["E7"] == (10**15, "0")
    assert cells["A6"][0] == 'a&b<c>"d'
    # calamine decodes Excel's _xHHHH_ escapes (openpyxl leaves them as they are)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in rows[2:6]] == ["a\x01b", " kant ", "_x0041_", 'a&b<c>"d']


def test_xlsx_refuses_what_excel_cannot_hold(tmp_path: Path) -> None:
    import numpy as np

    from trygghet_analys.files._xlsx import MAX_TEXT, Book

    def one(value: object) -> None:
        Book().add_sheet("B", top=[], columns=[[value]], formats=[None], widths=[9], frozen_rows=0)

    one(1.5)
    one("x" * MAX_TEXT)
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="no number Excel holds"):
            one(bad)
    with pytest.raises(ValueError, match="text longer than 32767"):
        one("x" * (MAX_TEXT + 1))
    with pytest.raises(TypeError, match="cannot write bytes"):
        one(b"x")
    with pytest.raises(TypeError, match="cannot write datetime64"):  # never its nanoseconds
        one(np.datetime64("2024-03-05T00:00:00.000000000"))


#: A float column long enough for its text to be made in bulk, with the numbers whose
#: text Arrow lays out otherwise than ``repr`` (whole, tiny, long, signed zero).
_LONG_FLOATS = [
    *(i / 7 for i in range(1, 60)),
    *(-(10.0**e) / 3 for e in range(-8, 20)),
    *(float(10**e) for e in range(0, 20)),
    1e-4, 9.999999999999999e-05, 0.00010000000000000002, 123456789012.5, 1234567890123.5,
    2.0**53, 2.0**53 + 2, 0.0, -0.0, 5e-324, 1.7976931348623157e308, 0.30000000000000004,
]  # fmt: skip


def test_float_reprs_are_repr() -> None:
    """:func:`_float_reprs` (Arrow's text where it is ``repr``'s, else ``repr``) gives
    exactly ``repr`` of every float: random bit patterns, magnitudes from 1e-8 to 1e20,
    rounded decimals, whole numbers and the edges of Arrow's and ``repr``'s layouts."""
    from trygghet_analys.files._xlsx import _float_reprs

    rng = np.random.default_rng(16)
    bits = np.frombuffer(rng.bytes(8 * 100_000), dtype=np.float64)
    spread = 10.0 ** rng.uniform(-8, 20, 100_000) * rng.choice([-1.0, 1.0], 100_000)
    decimals = np.round(rng.uniform(-1000, 1000, 100_000), 3)
    whole = np.round(rng.uniform(-1e17, 1e17, 10_000))
    for floats in (bits[np.isfinite(bits)], spread, decimals, whole, np.array(_LONG_FLOATS)):
        values = floats.tolist()
        assert _float_reprs(values) == list(map(repr, values))


def test_long_float_column_text_is_made_in_bulk() -> None:
    """A float column of :data:`_BULK_REPR` values or more has its text made in bulk: its
    piece of the row template takes text (``%s``), not the floats (``%r``)."""
    from trygghet_analys.files._xlsx import _BULK_REPR, Book

    assert len(_LONG_FLOATS) >= _BULK_REPR
    part, args = Book()._column_part("B", 2, _LONG_FLOATS, "0.0%")
    assert part == '<c r="B%s" s="3"><v>%s</v></c>'
    assert args[-1] == list(map(repr, _LONG_FLOATS))
    part, args = Book()._column_part("B", 2, [None, *_LONG_FLOATS], "0.0%")
    assert part == "%s" and args[0][1] == f'<c r="B3" s="3"><v>{_LONG_FLOATS[0]!r}</v></c>'
    short = _LONG_FLOATS[: _BULK_REPR - 1]
    assert Book()._column_part("B", 2, short, "0.0%")[0].endswith("<v>%r</v></c>")


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        ([0.1, None, -1e-05, 0.30000000000000004, 1e300, 1e300], "0.0%"),  # sum overflows
        ([None, 3.5, 2.0], None),
        ([3, None, -7, 10**15], None),
        ([3, None, 4], "#,##0"),
        ([0.25, None, 12.0, 0.5], ["0.0%", "0.0%", "#,##0.0", None]),  # one format per row
        ([1, 2], ["0", None]),
        (["b", "", None, "a", "b", " kant "], None),
        (["x", None], ["0", "0"]),
        ([True, None, False], None),
        ([None, None], "0.0%"),
        ([1, 1.5, "x", True, None], None),  # mixed: the per-cell path
        (["b", "a", "b"], None),  # a value in every row: the row template's own piece
        ([True, False], None),
        ([0.5, 0.25], ["0.0%", "#,##0.0"]),
        ([0.0, None, 0.0, -0.0], None),
        (["", ""], None),  # text with no shared string at all
        ([None, "", "a", ""], None),
        (["a", np.str_("a"), "b", np.str_("c")], None),  # str subclasses: as their text
        (["a", 1, "a"], None),  # text first, then a number: the per-cell path
        (['<&>"', "😀", "x\x01y", "_x0041_", "a"], None),  # text to escape: numbered as any
        ([1.0, 1, True], None),  # equal values of three types stay three types
        ([0.5, 0.25], ["0.0%", "0.0%"]),  # one per-row format throughout
        ([0.5, None, 0.25], ["0.0%", "#,##0", "0.0%"]),  # a format only an empty row has
        ([None, 0.5, 0.25], ["#,##0", "0.00", "0.0%"]),
        # long float columns: their text made in bulk (:func:`_float_reprs`)
        (_LONG_FLOATS, "0.0%"),
        (_LONG_FLOATS, (["0.0%", "0.00"] * len(_LONG_FLOATS))[: len(_LONG_FLOATS)]),
        (_LONG_FLOATS, ["0.0%"] * len(_LONG_FLOATS)),
        ([None, *_LONG_FLOATS, None, 0.5, None], None),
        (
            [*_LONG_FLOATS, None],
            (["0.0%", "0.00", None] * len(_LONG_FLOATS))[: len(_LONG_FLOATS) + 1],
        ),
    ],
)
def test_xlsx_column_at_once_writes_what_cell_by_cell_writes(values: list, fmt: object) -> None:
    """The per-column path (:meth:`Book._plain_column`) gives the same XML, shared strings
    (same numbers, same count) and styles (numbered in the same order) as writing the
    cells one at a time (:meth:`Book._any_column`), after a column that used some already."""
    from trygghet_analys.files._xlsx import Book

    def book() -> Book:
        b = Book()
        b._column("A", 2, ["a", 1.5, None], ["#,##0.0", "0.0%", None])  # earlier columns
        return b

    fast, slow = book(), book()
    per_row = isinstance(fmt, list)
    got = fast._column("B", 2, values, fmt)
    want = slow._any_column("B", 2, values, fmt, per_row)
    assert got == want and len(got) == len(values)
    assert (fast._strings, fast._string_count) == (slow._strings, slow._string_count)
    assert fast._formats == slow._formats


def test_xlsx_sheet_rows_from_the_template_are_the_cells_one_at_a_time() -> None:
    """A sheet's rows, filled in from one template per sheet (:meth:`Book.add_sheet`),
    hold exactly the cells written one at a time, row by row (sparse, dense, per-row
    formats, text, booleans and a mixed column side by side)."""
    from trygghet_analys.files._xlsx import Book, column_letter

    columns = [
        ["a", "b", "a", "c"],
        [1.5, None, 2.0, 0.0],
        [True, False, None, True],
        [1, 2, 3, 4],
        [0.25, 0.5, 0.75, None],
        ["x", "", None, "y"],
        [1, "z", None, 2.5],
        [None, None, None, None],
    ]
    formats = [None, "0.0%", None, "#,##0", ["0.0%", "0.00", "0.0%", None], None, None, None]
    fast = Book()
    fast.add_sheet(
        "S", top=[[("h", "bold")]], columns=columns, formats=formats, widths=[], frozen_rows=0
    )
    slow = Book()
    cells = [
        slow._any_column(column_letter(j), 2, c, f, isinstance(f, list))
        for j, (c, f) in enumerate(zip(columns, formats, strict=True))
    ]
    rows = "".join(
        f'<row r="{i}">{"".join(row)}</row>'
        for i, row in enumerate(zip(*cells, strict=True), start=2)
    )
    header = f'<row r="1"><c r="A1" s="1" t="s"><v>{slow._string("h")}</v></c></row>'
    assert f"<sheetData>{header}{rows}</sheetData>" in fast._sheets[0].xml
    assert (fast._strings, fast._string_count, fast._formats) == (
        slow._strings,
        slow._string_count,
        slow._formats,
    )


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["b", "=a", None, "b", "-1", "ok"], dtype="str"),
        pd.Series(["b", "a", "b"], dtype="str"),
        pd.Series(["x", None, float("nan"), "+y"], dtype=object),
        pd.Series(pd.Categorical(["b", None, "@a", "b"])),
        pd.Series(pd.Categorical([3, None, 1], categories=[3, 1, 2])),
    ],
)
def test_xlsx_text_and_category_cells_decided_once_per_value(column: pd.Series) -> None:
    """Text and category columns are made cells once per distinct value: the same cells
    as one value at a time (missing → None, formulas neutralised)."""
    got = _export._column_values(column)
    want = [_export._cell_value(v) for v in column.astype(object).tolist()]
    assert got == want
    assert [type(v) for v in got] == [type(v) for v in want]


def test_xlsx_column_at_once_leaves_bad_values_to_the_cell_by_cell_message() -> None:
    from trygghet_analys.files._xlsx import MAX_TEXT, Book

    with pytest.raises(ValueError, match="cell C4: nan is no number Excel holds"):
        Book()._column("C", 2, [1.0, 2.0, float("nan"), 3.0], None)
    with pytest.raises(ValueError, match="cell C3: inf is no number Excel holds"):
        Book()._column("C", 2, [-1.0, float("inf")], "0.0%")
    with pytest.raises(ValueError, match="cell C3: text longer than 32767"):
        Book()._column("C", 2, ["a", "x" * (MAX_TEXT + 1)], None)


# --------------------------------------------------------------------------- PDF fonts


def _pdf_objects(data: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number → (dictionary, decompressed stream or b"") of every PDF object."""
    starts = list(re.finditer(rb"(?:^|\n)(\d+) 0 obj\n?", data))
    out = {}
    for m, nxt in zip(starts, [*starts[1:], None], strict=True):
        chunk = data[m.end() : nxt.start() if nxt else len(data)]
        at = chunk.find(b"stream\n")
        if at < 0:
            out[int(m.group(1))] = (chunk, b"")
            continue
        head, body = chunk[:at], chunk[at + 7 : chunk.rindex(b"endstream")].rstrip(b"\n")
        out[int(m.group(1))] = (head, zlib.decompress(body) if b"FlateDecode" in head else body)
    return out


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """CID → text of a ToUnicode CMap as matplotlib writes it (``bfrange`` with arrays)."""
    found: dict[int, str] = {}
    for lo, hi, targets in re.findall(rb"<([0-9a-fA-F]+)> <([0-9a-fA-F]+)> \[([^\]]*)\]", cmap):
        texts = [
            bytes.fromhex(t.decode()).decode("utf-16-be") for t in re.findall(rb"<(\w+)>", targets)
        ]
        assert len(texts) == int(hi, 16) - int(lo, 16) + 1
        found |= dict(zip(range(int(lo, 16), int(hi, 16) + 1), texts, strict=True))
    return found


def _embedded_fonts(pdf: bytes) -> list[tuple[TTFont, dict[str, int]]]:
    """Each embedded TrueType subset with text character → its glyph id in the subset."""
    objects = _pdf_objects(pdf)

    def ref(body: bytes, key: bytes) -> tuple[bytes, bytes]:
        return objects[int(re.search(rb"/" + key + rb" \[? ?(\d+) 0 R", body).group(1))]

    fonts = []
    for body, _stream in objects.values():
        if b"/Subtype /Type0" not in body:
            continue
        cids = _to_unicode(ref(body, b"ToUnicode")[1])
        desc = ref(body, b"DescendantFonts")[0]
        gid_map = ref(desc, b"CIDToGIDMap")[1]
        font = TTFont(io.BytesIO(ref(ref(desc, b"FontDescriptor")[0], b"FontFile2")[1]))
        glyphs = {
            ch: int.from_bytes(gid_map[2 * cid : 2 * cid + 2], "big") for cid, ch in cids.items()
        }
        fonts.append((font, glyphs))
    return fonts


_FONT_TEXT = "Otrygg ute sent en kväll – Älmhult, 12,5 %"


def _text_figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([2020, 2021], [0.1, 0.2])
    ax.set_title(_FONT_TEXT, fontweight="bold")
    ax.set_xlabel("Är ÅÄÖ åäö")
    return fig


def test_pdf_font_subsets_lack_layout_tables_but_keep_every_glyph(tmp_path: Path) -> None:
    (pdf,) = _export.save_figure(_text_figure(), tmp_path / "d", formats=("pdf",))
    fonts = _embedded_fonts(pdf.read_bytes())
    # DejaVu Sans and DejaVu Sans Bold (the dash in a second subset of the bold font)
    assert len(fonts) == 3
    shown = set()
    for font, glyphs in fonts:
        assert not set(_export.LAYOUT_TABLES) & set(font.keys())
        assert {"glyf", "cmap", "hmtx", "loca"} <= set(font.keys())
        order = font.getGlyphOrder()
        for ch, gid in glyphs.items():
            # every character maps (ToUnicode: selectable, searchable) to a drawn glyph
            assert 0 < gid < len(order), ch
            assert ch.isspace() or font["glyf"][order[gid]].numberOfContours != 0, ch
        shown |= set(glyphs)
    assert set(_FONT_TEXT + "Är ÅÄÖ åäö") <= shown
    # granska finds every font embedded
    from trygghet_analys.report import granska

    issues: list[str] = []
    granska._check_pdf(pdf, "d.pdf", issues)
    assert issues == []


def test_plain_matplotlib_keeps_layout_tables_and_the_swap_is_undone(tmp_path: Path) -> None:
    """The other side: without :func:`deterministic` the subset has GSUB/GPOS again."""
    from matplotlib.backends import _backend_pdf_ps

    original = _backend_pdf_ps.get_glyphs_subset
    with _export.deterministic():
        assert _backend_pdf_ps.get_glyphs_subset is not original
    assert _backend_pdf_ps.get_glyphs_subset is original
    with plt.rc_context({"pdf.fonttype": 42}):
        _text_figure().savefig(tmp_path / "d.pdf", format="pdf")
    fonts = _embedded_fonts((tmp_path / "d.pdf").read_bytes())
    assert fonts and all({"GSUB", "GPOS"} <= set(f.keys()) for f, _ in fonts)


def test_font_subset_made_once_per_font_and_glyph_set_gives_the_same_bytes() -> None:
    from matplotlib import font_manager
    from matplotlib.backends import _backend_pdf_ps

    path = font_manager.findfont("DejaVu Sans")
    glyphs = {36, 37, 38, 99}  # glyph ids of DejaVu Sans
    fresh, fresh_map = _export._subset_bytes.__wrapped__(path, 0, frozenset(glyphs))
    _export._subset_bytes.cache_clear()
    made = []
    for _ in range(2):
        with _export._lean_glyphs_subset(path, glyphs) as subset:
            made.append((_backend_pdf_ps.font_as_file(subset.font).getvalue(), subset))
    assert _export._subset_bytes.cache_info().hits == 1
    # as matplotlib saves it: byte for byte the subset made without the cache
    assert made[0][0] == made[1][0] == fresh
    assert made[1][1].glyph_index_map == dict(fresh_map)
    assert set(made[1][1].glyph_index_map) >= glyphs
    with _export._lean_glyphs_subset(path, glyphs | {40}) as subset:
        assert _backend_pdf_ps.font_as_file(subset.font).getvalue() != fresh


def test_font_subset_saved_once_and_as_fonttools_saves_it() -> None:
    import io

    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    from matplotlib.backends import _backend_pdf_ps

    path = font_manager.findfont("DejaVu Sans")
    glyphs = {36, 37, 38, 41}
    _export._resaved_bytes.cache_clear()
    saved = []
    for _ in range(3):
        with _export._lean_glyphs_subset(path, glyphs) as subset:
            saved.append(_backend_pdf_ps.font_as_file(subset.font).getvalue())
            reordered = io.BytesIO()
            subset.font.save(reordered)  # not as font_as_file: fontTools' own saving
    assert _export._resaved_bytes.cache_info().misses == 1
    data, _ = _export._subset_bytes(path, 0, _export._subset_glyphs(path, 0, glyphs))
    # font_as_file of the font read back, without the kept bytes (fontTools' TTFont)
    with TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) as plain:
        assert saved == [_backend_pdf_ps.font_as_file(plain).getvalue()] * 3
    with TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) as plain:
        expected = io.BytesIO()
        plain.save(expected)
    assert reordered.getvalue() == expected.getvalue()


def _font_streams(pdf: bytes) -> list[bytes]:
    objects = _pdf_objects(pdf)
    return [
        stream
        for body, stream in objects.values()
        if b"/Length1" in body  # the FontFile2 streams
    ]


def test_text_of_the_repertoire_gets_one_subset_per_font_in_every_pdf(tmp_path: Path) -> None:
    """Two charts with different texts embed the same subsets: made once per process."""
    from matplotlib import font_manager

    _export._subset_bytes.cache_clear()
    pdfs = []
    for i, text in enumerate(["Otrygg ute sent – 12,5 %", "Kvinnor 2025: ökning ≥ 3 …"]):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([2020, 2021], [0.1, 0.2])
        ax.set_title(text, fontweight="bold")
        ax.set_xlabel(text)
        (pdf,) = _export.save_figure(fig, tmp_path / f"d{i}", formats=("pdf",))
        plt.close(fig)
        pdfs.append(pdf.read_bytes())
    first, second = (_font_streams(p) for p in pdfs)
    assert first == second and len(first) == 4  # regular and bold, each up to U+00FF and past
    # four subsets made (two fonts × two parts); every later embedding came from the cache
    info = _export._subset_bytes.cache_info()
    assert (info.misses, info.hits) == (4, 4)
    # still only the characters drawn are mapped (ToUnicode): text extraction unchanged
    drawn = set().union(*(set(g) for _, g in _embedded_fonts(pdfs[1])))
    assert set("Kvinnor 2025: ökning ≥ 3 …") <= drawn
    assert not drawn & set("QXZqxzÅÉ§")  # in the subset's repertoire, but not drawn
    path = font_manager.findfont("DejaVu Sans")
    low, high = _export._repertoire_glyphs(path, 0)
    assert {0, 36, 37} <= low
    assert len(low) == len({c for c in _export.PDF_REPERTOIRE if c <= "ÿ"}) + 1
    assert _export._subset_glyphs(path, 0, {36, 37}) == low
    assert _export._subset_glyphs(path, 0, set(high) - {0}) == high
    assert _export._subset_glyphs(path, 0, {36, max(high)}) == low | high


def test_a_character_outside_the_repertoire_gets_the_exact_subset(tmp_path: Path) -> None:
    from matplotlib import font_manager

    path = font_manager.findfont("DejaVu Sans")
    low, high = _export._repertoire_glyphs(path, 0)
    outside = max(low | high) + 1  # a glyph of no repertoire character
    assert _export._subset_glyphs(path, 0, {36, outside}) == {36, outside}
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("Łódź")  # Ł and ź are not in the repertoire
    (pdf,) = _export.save_figure(fig, tmp_path / "d", formats=("pdf",))
    plt.close(fig)
    fonts = _embedded_fonts(pdf.read_bytes())
    wide = [font for font, glyphs in fonts if "Ł" in glyphs]
    assert len(wide) == 1 and len(wide[0].getGlyphOrder()) < len(high)


def _page_contents(pdf: bytes) -> list[bytes]:
    objects = _pdf_objects(pdf)
    return [
        objects[int(re.search(rb"/Contents (\d+) 0 R", body).group(1))][1]
        for body, _ in objects.values()
        if re.search(rb"/Type /Page\b", body)
    ]


def _no_names(content: bytes) -> bytes:
    """A content stream with its resource names (fonts, graphics states) left out."""
    return re.sub(rb"/[A-Z]+\d+", b"/R", content)


def test_book_page_draws_the_chart_once_for_the_page_and_its_own_pdf(tmp_path: Path) -> None:
    (reference,) = _export.save_figure(_text_figure(), tmp_path / "ref", formats=("pdf",))
    header = plt.figure(figsize=(8.27, 11.69))
    header.text(0.08, 0.96, "Rubrik på sidan", fontsize=16, fontweight="bold", va="top")
    chart = _text_figure()
    page = _export.BookPage(header, chart, (2.0, 5.0), tmp_path / "figurer" / "d.pdf")
    book = _export.write_pdf_book(tmp_path / "bok.pdf", [_figure(), page], title="Trygghet")
    # the chart's own file: the bytes save_figure writes
    assert page.pdf.read_bytes() == reference.read_bytes()
    data = book.read_bytes()
    assert b"/Count 2" in data and b"/MediaBox [ 0 0 595.44 841.68 ]" in data
    # on the page: the header, then the same drawing as in the chart's file, moved
    (own,) = _page_contents(reference.read_bytes())
    drawn = _page_contents(data)[1]
    at = drawn.index(b"q 1 0 0 1 144 360 cm")
    setup = b"/DeviceRGB CS\n/DeviceRGB cs\n1 j\n"  # every page starts with it
    assert own.startswith(setup) and drawn.startswith(setup)
    assert _no_names(own[len(setup) :]) in _no_names(drawn[at:])
    assert b"BT" in drawn[:at]  # the header's text comes first
    shown = set().union(*(set(g) for _, g in _embedded_fonts(data)))
    assert set("Rubrik på sidan" + _FONT_TEXT + "Är ÅÄÖ åäö") <= shown
    from trygghet_analys.report import granska

    issues: list[str] = []
    granska._check_pdf(book, "bok.pdf", issues)
    assert issues == []
    plt.close(header)
    plt.close(chart)


def test_laid_out_chart_on_a_book_page_is_drawn_once_and_its_page_closes(
    tmp_path: Path, monkeypatch
) -> None:
    """A chart after ``tight_layout`` (every report chart) is drawn once for its book page
    and its own PDF: savefig's layout pre-draw used to be the page's drawing and the
    real one the file's, two drawings, and the page missed the drawing's closing Q."""
    from matplotlib.figure import Figure

    header = plt.figure(figsize=(8.27, 11.69))
    chart = _laid_out_figure()
    page = _export.BookPage(header, chart, (2.0, 5.0), tmp_path / "figurer" / "d.pdf")
    draws: list[object] = []
    original = Figure.draw

    def counted(self: Figure, renderer: object) -> None:
        if self is chart:
            draws.append(renderer)
        original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    book = _export.write_pdf_book(tmp_path / "bok.pdf", [page], title="T")
    assert len(draws) == 1
    (own,) = _page_contents(page.pdf.read_bytes())
    (drawn,) = _page_contents(book.read_bytes())
    # the page ends with the chart's drawing as in its own file, its closing Q included,
    # then the page's own Q that ends the moved chart
    setup = b"/DeviceRGB CS\n/DeviceRGB cs\n1 j\n"
    assert _no_names(drawn).endswith(_no_names(own[len(setup) :]) + b"Q\n")
    plt.close(header)
    plt.close(chart)


def _texts_figure() -> plt.Figure:
    """Texts of every kind the kept PDF text handles or hands on: two fonts, a second
    subset (the ligature), a character outside the repertoire, rotation, a link,
    math text and the same text twice."""
    fig = _text_figure()
    fig.text(0.1, 0.02, "Källa: ﬁnska och svenska – 95 % ≤ 1 ☂", fontsize=7, rotation=5)
    fig.text(0.5, 0.5, "2021", fontsize=9, url="https://example.org/")
    fig.text(0.6, 0.6, r"$\alpha = 0{,}5$")
    fig.text(0.7, 0.7, "Är ÅÄÖ åäö", fontsize=9, rotation=90)
    return fig


def _book_with_page(folder: Path) -> tuple[bytes, bytes]:
    """A chart book with a header page and a chart page, and the chart's own PDF."""
    header = plt.figure(figsize=(8.27, 11.69))
    header.text(0.08, 0.96, "Rubrik på sidan – ﬁnal", fontsize=16, fontweight="bold")
    chart = _texts_figure()
    page = _export.BookPage(header, chart, (2.0, 5.0), folder / "figurer" / "d.pdf")
    book = _export.write_pdf_book(folder / "bok.pdf", [_texts_figure(), page], title="T")
    plt.close(header)
    plt.close(chart)
    return book.read_bytes(), page.pdf.read_bytes()


def _ligatures_pdf(texts: list[str]) -> bytes:
    """A PDF of ``texts`` drawn in this order (each a ligature: a multi-character glyph)."""
    fig = plt.figure(figsize=(2, 2))
    for i, text in enumerate(texts):
        fig.text(0.1, 0.1 + 0.2 * i, text)
    buf = io.BytesIO()
    with _export.deterministic():
        fig.savefig(buf, format="pdf", metadata=_export._METADATA["pdf"])
    plt.close(fig)
    return buf.getvalue()


def test_pdf_text_written_once_gives_matplotlibs_bytes(tmp_path: Path, monkeypatch) -> None:
    """Texts written from the kept text give the bytes matplotlib writes, in a fresh
    process state, again (every text kept) and with other font names (the book)."""
    import contextlib

    _export._pdf_bodies.clear()
    _export._pdf_glyphs.clear()
    kept = [_book_with_page(tmp_path / "first"), _book_with_page(tmp_path / "again")]
    # ligatures get codes in the order a file meets them: "fl" first here, second above
    kept_ligatures = _ligatures_pdf(["flat", "fine"]), _ligatures_pdf(["fine", "flat"])
    assert _export._pdf_bodies  # the texts were kept …
    monkeypatch.setattr(_export, "_pdf_texts_kept", contextlib.nullcontext)
    own = _book_with_page(tmp_path / "matplotlib")
    assert kept == [own, own]  # … and written as matplotlib writes them
    assert kept_ligatures == (_ligatures_pdf(["flat", "fine"]), _ligatures_pdf(["fine", "flat"]))


def test_pdf_text_kept_is_written_without_matplotlibs_draw_text(monkeypatch) -> None:
    """The second drawing of the same texts never reaches matplotlib's ``draw_text``
    except for math text and links; the swap is undone on exit."""
    from matplotlib.backends.backend_pdf import RendererPdf

    drawn: list[str] = []
    original = RendererPdf.draw_text

    def counted(self, gc, x, y, s, *args, **kwargs):
        drawn.append(s)
        return original(self, gc, x, y, s, *args, **kwargs)

    monkeypatch.setattr(RendererPdf, "draw_text", counted)
    _export._pdf_bodies.clear()
    _export._pdf_glyphs.clear()

    def pdf() -> None:
        fig = _texts_figure()
        with _export.deterministic():
            assert RendererPdf.draw_text is not counted
            fig.savefig(io.BytesIO(), format="pdf")
        plt.close(fig)

    pdf()
    first = list(drawn)
    drawn.clear()
    pdf()
    assert len(first) > 5 and _FONT_TEXT in first
    assert sorted(drawn) == sorted(["2021", r"$\alpha = 0{,}5$"])
    assert RendererPdf.draw_text is counted


@pytest.mark.parametrize(
    "value",
    [0.0, -0.0, 1.5, -2.25, 1e-12, 0.1234567891234, 123456.789, 3, -7, 2**40, True, False],
)
def test_pdf_numbers_written_as_matplotlib_writes_them(value: object) -> None:
    import numpy as np
    from matplotlib.backends import backend_pdf

    written = _export._numbers_first(backend_pdf.pdfRepr)
    for v in (value, np.float64(value), np.int64(value), np.float32(value)):
        assert written(v) == backend_pdf.pdfRepr(v), v
    assert written(backend_pdf.Op.gsave) == b"q"
    with pytest.raises(ValueError, match="finite"):
        written(float("nan"))


def test_pdf_with_numbers_first_is_matplotlibs_pdf(monkeypatch) -> None:
    import contextlib

    from matplotlib.backends import backend_pdf

    def pdf() -> bytes:
        fig = _texts_figure()
        fig.axes[0].scatter([2020.5, 2020.75], [0.12, 0.18], alpha=0.5, hatch="//")
        buf = io.BytesIO()
        with _export.deterministic():
            fig.savefig(buf, format="pdf", metadata=_export._METADATA["pdf"])
        plt.close(fig)
        return buf.getvalue()

    original = backend_pdf.pdfRepr
    fast = pdf()
    assert backend_pdf.pdfRepr is original
    monkeypatch.setattr(_export, "_pdf_numbers_first", contextlib.nullcontext)
    assert pdf() == fast


class _DrawnTwice:
    """The chart book page drawn by a second renderer of its own, every call: what the
    copying of :class:`~trygghet_analys.files.export._Both` must write."""

    _DRAWING = _export._Both._DRAWING

    def __init__(self, first: object, second: object) -> None:
        self._first, self._second = first, second

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._first, name)
        if name not in self._DRAWING:
            return attr
        again = getattr(self._second, name)

        def both(*args: object, **kwargs: object) -> object:
            again(*args, **kwargs)
            return attr(*args, **kwargs)

        return both


def _shapes_figure(shift: int) -> plt.Figure:
    """Markers, a path collection, hatches, transparency, dashes, clipping and texts
    (math text among them): every kind of drawing call a report chart makes."""
    fig, ax = plt.subplots(figsize=(5, 3))
    xs = list(range(30))
    ax.plot(xs, [(i + shift) % 7 for i in xs], marker="o", alpha=0.6, linestyle="--")
    ax.plot(xs, [(i * shift) % 5 for i in xs], marker="s", color="#1b5e20")
    ax.scatter(xs, [i % 5 for i in xs], s=25, alpha=0.4, label="punkter")  # path templates
    ax.scatter(xs, [i % 4 for i in xs], s=[10 + i for i in xs], marker="^")
    ax.bar([1, 2, 3], [2, 3, 1 + shift], hatch="//", alpha=0.5, edgecolor="k", label="staplar")
    ax.fill_between(xs, 0, [i % 3 for i in xs], alpha=0.2)
    ax.set_ylim(0, 6)  # markers beyond the axes, clipped
    ax.set_title(f"Otrygghet – ﬁnal {shift}")
    ax.text(5, 2, r"$\alpha = 0{,}5$")
    ax.legend()
    fig.tight_layout()
    return fig


def _book_of_shapes(folder: Path) -> list[bytes]:
    """A chart book of two chart pages (the second page's resources get other names
    than in its own file) and the charts' own PDFs."""
    pages, figures = [], []
    for shift in (1, 2):
        header = plt.figure(figsize=(8.27, 11.69))
        header.text(0.08, 0.96, f"Sida {shift}", fontsize=16, fontweight="bold")
        chart = _shapes_figure(shift)
        figures += [header, chart]
        pages.append(_export.BookPage(header, chart, (1.5, 4.0), folder / f"d{shift}.pdf"))
    book = _export.write_pdf_book(folder / "bok.pdf", [_figure(), *pages], title="T")
    for fig in figures:
        plt.close(fig)
    return [book.read_bytes(), *(page.pdf.read_bytes() for page in pages)]


def test_book_page_copies_the_charts_drawing_as_a_second_renderer_writes_it(
    tmp_path: Path, monkeypatch
) -> None:
    """The page gets the chart's drawing copied from its own file's (resource names
    replaced), byte for byte what a second renderer drawing on the page writes; most
    drawing calls never reach the second renderer."""
    from matplotlib.backends.backend_pdf import RendererPdf

    drawn_twice = _book_of_shapes(tmp_path / "reference")  # every text kept from here on
    calls: list[object] = []
    original = RendererPdf.draw_path

    def counted(self: object, *args: object, **kwargs: object) -> object:
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RendererPdf, "draw_path", counted)
    copied = _book_of_shapes(tmp_path / "copied")
    paths_copied = len(calls)
    monkeypatch.setattr(_export, "_Both", _DrawnTwice)
    assert _book_of_shapes(tmp_path / "twice") == copied
    assert drawn_twice == copied
    assert 0 < paths_copied < len(calls) - paths_copied  # the copy drew the paths once


def test_book_page_copy_refuses_a_resource_it_cannot_name(tmp_path: Path, monkeypatch) -> None:
    """A resource the page file was not asked for stops the drawing: the page would
    otherwise name a resource of the chart's own file."""
    monkeypatch.setattr(_export, "_RESOURCES", ("alphaState", "hatchPattern"))
    with pytest.raises(RuntimeError, match="cannot name"):
        _book_of_shapes(tmp_path)


def test_pdf_streams_compressed_once_give_matplotlibs_bytes(tmp_path: Path, monkeypatch) -> None:
    """Font files and glyph maps compressed once per process are written as matplotlib
    writes them, in every file that embeds them."""
    import contextlib

    _export._deflated.cache_clear()
    kept = [_book_with_page(tmp_path / "first"), _book_with_page(tmp_path / "again")]
    assert _export._deflated.cache_info().hits > 0
    monkeypatch.setattr(_export, "_pdf_streams_compressed_once", contextlib.nullcontext)
    own = _book_with_page(tmp_path / "matplotlib")
    assert kept == [own, own]


def test_pdf_streams_deflated_at_end_give_matplotlibs_bytes(tmp_path: Path, monkeypatch) -> None:
    """Page streams deflated in one call when they end (the chart's own file and the
    book page) are the bytes matplotlib's piece-by-piece compressor writes; and the
    streams of a report's PDF are deflated so."""
    import contextlib

    ended: list[int] = []

    class Counted(_export._DeflatedAtEnd):
        __slots__ = ()

        def flush(self) -> bytes:
            ended.append(len(self._pieces))
            return super().flush()

    monkeypatch.setattr(_export, "_DeflatedAtEnd", Counted)
    at_end = _book_with_page(tmp_path / "at_end")
    assert ended and max(ended) > 100  # a page's drawing came in many pieces
    ended.clear()
    monkeypatch.setattr(_export, "_pdf_streams_deflated_at_end", contextlib.nullcontext)
    assert _book_with_page(tmp_path / "matplotlib") == at_end
    assert ended == []


@pytest.mark.parametrize("level", [1, 3, 6, 9])
def test_deflated_at_end_equals_deflating_piece_by_piece(level: int) -> None:
    """Deflate's output does not depend on how its input was split: one call over the
    pieces gives the piecewise compressor's bytes, for pieces of any size (and pieces
    given as bytearray or memoryview are kept as their bytes at the time)."""
    rng = np.random.default_rng(level)
    text = b" ".join(b"%d %d m %d %d l S" % tuple(rng.integers(0, 999, 4)) for _ in range(4000))
    piecewise = zlib.compressobj(level)
    at_end = _export._DeflatedAtEnd(level)
    out, at = [], 0
    while at < len(text):
        n = int(rng.choice([1, 2, 7, 40, 300, 5000]))
        piece = bytearray(text[at : at + n])
        out.append(piecewise.compress(piece))
        assert at_end.compress(memoryview(piece) if n % 2 else piece) == b""
        piece[:] = b"x" * len(piece)  # the writer reuses its buffer
        at += n
    out.append(piecewise.flush())
    assert at_end.flush() == b"".join(out)


def test_recorded_codes_only_for_glyphs_recorded_already() -> None:
    """A text's codes are read from the tracker only when every glyph is recorded: a
    text with one glyph new gets None (it must be recorded, taking a new code)."""
    from matplotlib.backends._backend_pdf_ps import CharacterTracker
    from matplotlib.font_manager import FontProperties, findfont, get_font

    font = get_font(findfont(FontProperties(family="DejaVu Sans")))
    glyphs = {c: (font, c, font.get_char_index(ord(c))) for c in "Ålx"}
    tracker = CharacterTracker(256)
    assert _export._recorded_codes(tracker, (glyphs["Å"],)) is None  # no maps kept yet
    with _export._pdf_glyphs_found_by_font():
        codes = tuple(tracker.track_glyph(*glyphs[c]) for c in "Ål")
        assert _export._recorded_codes(tracker, (glyphs["Å"], glyphs["l"])) == codes
        assert _export._recorded_codes(tracker, (glyphs["l"], glyphs["Å"])) == codes[::-1]
        assert _export._recorded_codes(tracker, (glyphs["Å"], glyphs["x"])) is None
        new = tracker.track_glyph(*glyphs["x"])
        assert new not in codes
        assert _export._recorded_codes(tracker, (glyphs["x"],)) == (new,)
