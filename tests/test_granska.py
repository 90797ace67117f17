"""The report checker (``trygghet-analys granska``): clean reports pass, seeded defects fail.

Each seeded defect is one the issue found in a real report (a table cut at 60 rows, a
title cut at the figure edge, a legend entry whose lines lie under another line, an
alt text that contradicts the table, a machine path in an executed notebook, a
General-format column, a chart book page that is a raster image …), put back into a
copy of a clean report; the checker must name it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.text import Text

from test_report import make_fake_data
from trygghet_analys import cli
from trygghet_analys.errors import ConfigError
from trygghet_analys.formatting import fmt_number, fmt_signed_points
from trygghet_analys.report import chartfacts, charts, granska, tableformat
from trygghet_analys.report import render as report

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A report of the fake data (synthetic, with follow-up), without notebooks."""
    root = tmp_path_factory.mktemp("granska")
    data = make_fake_data(root / "data")
    return data, report.run(data=data, out=root / "ut", notebooks=False)


@pytest.fixture
def copy(clean: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the clean report to put a defect into."""
    target = tmp_path / "rapport" / "2025"
    shutil.copytree(clean[1], target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path.name, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _facts(folder: Path, name: str) -> dict:
    return json.loads((folder / "figurer" / f"{name}.json").read_text(encoding="utf-8"))


def _write_facts(folder: Path, name: str, facts: dict) -> None:
    (folder / "figurer" / f"{name}.json").write_text(chartfacts.facts_json(facts), "utf-8")


def _redraw(data: Path, name: str) -> plt.Figure:
    tables = charts.load_tables(data)
    return charts.get_chart(name).draw(tables, 2025)


# --------------------------------------------------------------------------- clean


def test_clean_report_passes_and_cli_gives_a_receipt(clean, capsys) -> None:
    _data, out = clean
    assert granska.check_report(out) == []
    assert cli.main(["granska", str(out)]) == 0
    printed = capsys.readouterr()
    assert "inga fel" in printed.out and printed.err == ""


def test_not_a_report_folder_is_one_swedish_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(ConfigError, match="ingen rapportmapp"):
        granska.check_report(tmp_path)
    assert cli.main(["granska", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fel: ") and err.count("\n") == 1 and "Traceback" not in err


def test_clean_report_tables_are_complete_and_swedish(clean) -> None:
    """Every chart's HTML table holds every row of its sheet, formatted the Swedish way."""
    from openpyxl import load_workbook

    _data, out = clean
    text = (out / "rapport.html").read_text(encoding="utf-8")
    wb = load_workbook(out / "tabeller.xlsx", read_only=True)
    for sheet in re.findall(r'data-blad="([^"]+)"', text):
        table = text.split(f'data-blad="{sheet}"')[1].split("</table>")[0]
        rows = sum(1 for _ in wb[sheet].iter_rows()) - 2  # marking and header rows
        assert table.count("<tr>") - 1 == rows, sheet
    assert not re.search(r">\d,\d{3}<", text)  # no "0,165", no "4,000"
    assert f">16,2{NBSP}%<" in text or re.search(rf">\d+,\d{NBSP}%<", text)


# --------------------------------------------------------------------------- seeded


def test_seeded_truncated_table(copy: Path) -> None:
    page = copy / "rapport.html"
    text = page.read_text(encoding="utf-8")
    start = text.index('data-blad="D2 otrygghet_omraden"')
    end = text.index("</tbody>", start)
    last_row = text.rindex("<tr>", start, end)
    page.write_text(text[:last_row] + text[end:], encoding="utf-8")
    issues = granska.check_report(copy)
    assert any("Otrygghet per område" in i and "visar" in i for i in issues), issues


def test_seeded_truncated_table_with_note_and_link_passes(copy: Path) -> None:
    """A table may show part of its rows when it says so and links the full table."""
    page = copy / "rapport.html"
    text = page.read_text(encoding="utf-8")
    start = text.index('data-blad="D2 otrygghet_omraden"')
    end = text.index("</tbody>", start)
    last_row = text.rindex("<tr>", start, end)
    shown = text[start:last_row].count("<tr>") - 1
    total = text[start:end].count("<tr>") - 1
    note = (
        f'<p class="note">Visar {shown} av {total} rader; hela tabellen finns i '
        '<a href="tabeller.xlsx">tabeller.xlsx</a>.</p>'
    )
    close = text.index("</table>", end) + len("</table>")
    page.write_text(text[:last_row] + text[end:close] + note + text[close:], encoding="utf-8")
    assert granska.check_report(copy) == []


def test_seeded_cut_title(clean, copy: Path) -> None:
    fig = _redraw(clean[0], "problem_rangordning")
    # the defect as it was: the comparison year on the same line as a long title
    fig.axes[0].set_title(
        "Problem i bostadsområdet 2025 jämfört med 2022 – andel som svarar ganska eller "
        "mycket stort problem"
    )
    facts = {**_facts(copy, "problem_rangordning"), **chartfacts.figure_facts(fig)}
    _write_facts(copy, "problem_rangordning", facts)
    issues = granska.check_report(copy)
    assert any("titel 'Problem i bostadsområdet 2025" in i and "skärs av" in i for i in issues)


def test_seeded_phantom_legend_entry(clean, copy: Path) -> None:
    fig = _redraw(clean[0], "svarsfrekvens")
    ax = fig.axes[0]
    whole = next(line for line in ax.get_lines() if line.get_label() == "Hela kommunen")
    # an area line exactly under the wide line of the whole kommun: listed, not seen
    ax.plot(whole.get_xdata(), whole.get_ydata(), lw=1, zorder=1, color="#009E73", label="Dold")
    ax.plot([], [], label="Utan data")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    facts = {**_facts(copy, "svarsfrekvens"), **chartfacts.figure_facts(fig)}
    _write_facts(copy, "svarsfrekvens", facts)
    issues = granska.check_report(copy)
    assert any("'Dold' syns inte" in i for i in issues), issues
    assert any("'Utan data' har inget ritat element" in i for i in issues), issues
    assert not any("'Hela kommunen'" in i for i in issues)


def test_seeded_wrong_alt_text_claim(copy: Path) -> None:
    facts = _facts(copy, "otrygghet_omraden")
    first, rest = facts["alt"].split("Linjediagram:", 2)[1:]
    said = re.search(r"Statistiskt säkerställd förändring från föregående år: [^.]*\.", first)
    none = "Ingen statistiskt säkerställd förändring från föregående år markerad."
    if said:  # the panel marks changes: say there are none
        wrong_first = first.replace(said.group(0), none)
    else:  # the panel marks none: claim one
        wrong_first = first.replace(
            none, "Statistiskt säkerställd förändring från föregående år: 2020 (ökning)."
        )
    wrong = facts["alt"].replace(first, wrong_first, 1)
    assert wrong != facts["alt"]
    _edit(copy / "rapport.html", _html_attr(facts["alt"]), _html_attr(wrong))
    _write_facts(copy, "otrygghet_omraden", {**facts, "alt": wrong})
    issues = granska.check_report(copy)
    group = first.split(",")[1].strip()
    assert any(f"för {group} anger" in i and "bladet" in i for i in issues), issues
    assert not any("inte den som granskades" in i for i in issues)


def test_seeded_wrong_last_value_and_direction(copy: Path) -> None:
    facts = _facts(copy, "otrygghet_omraden")
    wrong = facts["alt"]
    turned = re.search(r"(\d{4}) \((ökning|minskning)\)", wrong)
    if turned:
        other = "minskning" if turned.group(2) == "ökning" else "ökning"
        wrong = wrong.replace(turned.group(0), f"{turned.group(1)} ({other})", 1)
    value = re.search(rf"2025: (\d+){NBSP}%", wrong)
    wrong = wrong.replace(value.group(0), f"2025: {int(value.group(1)) + 9}{NBSP}%", 1)
    _write_facts(copy, "otrygghet_omraden", {**facts, "alt": wrong})
    issues = granska.check_report(copy)
    if turned:
        assert any(f"säger {other} {turned.group(1)}" in i for i in issues), issues
    assert any(f"säger 2025: {int(value.group(1)) + 9}{NBSP}%" in i for i in issues), issues
    # the HTML still shows the old alt text: not the one that was checked
    assert any("inte den som granskades" in i for i in issues), issues


def _html_attr(text: str) -> str:
    import html

    return html.escape(text, quote=True)


@pytest.mark.parametrize(
    "where", ["notebooks/1.0-trygghetsmatning.ipynb", "rapport.html", "figurer/x.svg"]
)
def test_seeded_machine_path(copy: Path, where: str) -> None:
    target = copy / where
    target.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"cells": [], "metadata": {"papermill": {"input_path": "/home/ana/nb"}}})
    if where.endswith(".html"):
        _edit(target, "</footer>", f"<p>{copy.resolve()}</p></footer>")
    else:
        target.write_text(body, encoding="utf-8")
    issues = granska.check_report(copy)
    assert any(i.startswith(where) and "sökvägen" in i for i in issues), issues


def test_seeded_general_format_column(copy: Path) -> None:
    from openpyxl import load_workbook

    book = copy / "tabeller.xlsx"
    wb = load_workbook(book)
    ws = wb["Skattningar"]
    header = [c.value for c in ws[2]]
    col = header.index("Skattning") + 1
    for row in ws.iter_rows(min_row=3, min_col=col, max_col=col):
        row[0].number_format = "General"
    ws["A3"] = "=1+1"
    wb["Trender"]["A1"] = None
    wb.save(book)
    issues = granska.check_report(copy)
    assert any("'Skattningar', kolumn 'Skattning'" in i and "General" in i for i in issues)
    assert any("cell A3: formel" in i for i in issues), issues
    assert any("'Trender': saknar markeringen 'Exempeldata'" in i for i in issues), issues


def test_seeded_raster_chart_book_page(copy: Path) -> None:
    rng = np.random.default_rng(1)
    with PdfPages(copy / "diagram.pdf") as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.add_axes((0.08, 0.3, 0.84, 0.5)).imshow(rng.random((370, 695, 3)))
        pdf.savefig(fig)
    issues = granska.check_report(copy)
    assert any(i.startswith("diagram.pdf: 1 rasterbild(er) (695×370") for i in issues), issues


def test_seeded_text_defects(copy: Path) -> None:
    page = copy / "rapport.html"
    _edit(page, '<th scope="col">Skattning</th>', '<th scope="col">estimate</th>')
    extra = (
        '<table><caption>Extra</caption><thead><tr><th scope="col">Område</th>'
        '<th scope="col">Riket (NTU)</th><th scope="col">Antal</th><th scope="col">Andel</th>'
        "</tr></thead><tbody><tr><td>A</td><td>–</td><td>4,000</td><td>0,165</td></tr>"
        "<tr><td>B</td><td></td><td>4</td><td>0,2</td></tr></tbody></table>"
        "<p>Förändringen är −0 procentenheter.</p>"
    )
    _edit(page, "</main>", extra + "</main>")
    issues = granska.check_report(copy)
    for part in (
        "kolumnrubriken 'estimate' är inte på svenska",
        "kolumnen 'Riket (NTU)' är tom i alla 2 rader",
        "'4,000' har tre decimaler",
        "'0,165' har tre decimaler",
        "'−0' i texten",
    ):
        assert any(part in i for i in issues), (part, issues)


def test_seeded_caption_names_an_element_not_drawn(copy: Path) -> None:
    facts = _facts(copy, "avloppsvatten_amfetamin")
    assert "euda_sverige" not in facts["gids"]  # no EUDA file in the fake data
    said = facts["explanation"] + " Grå romber är andra svenska städer i EUDA:s mätningar."
    _write_facts(copy, "avloppsvatten_amfetamin", {**facts, "explanation": said})
    issues = granska.check_report(copy)
    assert any("bildtexten nämner andra svenska städer" in i for i in issues), issues


# --------------------------------------------------------------------------- parts


def test_legend_entry_seen_only_when_it_changes_pixels() -> None:
    """Both sides of the boundary: a line under a wider one is not seen, beside it is."""
    x = np.arange(5.0)
    for offset, seen in ((0.0, False), (0.3, True)):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(x, x + offset, lw=1, zorder=1, label="Område")
        ax.plot(x, x, lw=5, zorder=2, color="black", label="Hela kommunen")
        ax.legend()
        entries = {e["label"]: e for e in chartfacts.figure_facts(fig)["legend"]}
        assert entries["Område"]["shown"] is True
        assert entries["Område"]["seen"] is seen
        assert entries["Hela kommunen"]["seen"] is True


def test_facts_of_the_png_drawing_equal_facts_of_a_new_drawing(clean) -> None:
    """``figure_facts(drawn=True)`` measures the PNG's drawing: same facts, same pixels."""
    from trygghet_analys.files import export

    tables = charts.load_tables(clean[0])
    names = []
    for chart in charts.available_charts(tables, 2025):
        saved, fresh = chart.draw(tables, 2025), chart.draw(tables, 2025)
        export.figure_png_bytes(saved)
        facts = chartfacts.figure_facts(saved, drawn=True)
        assert facts == chartfacts.figure_facts(fresh), chart.name
        names += [e["label"] for e in facts["legend"]]
        # after the per-entry drawings the canvas shows the whole figure again
        fresh.canvas.draw()
        assert np.array_equal(
            np.asarray(saved.canvas.buffer_rgba()), np.asarray(fresh.canvas.buffer_rgba())
        ), chart.name
        plt.close(saved)
        plt.close(fresh)
    assert names  # legend entries were measured


def _hidden_line_figures() -> list[plt.Figure]:
    """Legend entries on both sides of "seen", near texts and with artists not clipped."""
    x = np.arange(5.0)
    figs = []
    for offset in (0.0, 0.3):  # under a wider line / beside it
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(x, x + offset, lw=1, zorder=1, label="Område")
        ax.plot(x, x, lw=5, zorder=2, color="black", label="Hela kommunen")
        ax.set_title("Otrygghet")
        ax.set_xlabel("År")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
        figs.append(fig)
    for boxed in (True, False):  # a line under a text inside the Axes: boxed hides it
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.plot([4.8, 5.2], [5, 5], lw=1, label="Kort")
        box = {"facecolor": "white", "edgecolor": "none", "pad": 6} if boxed else None
        ax.text(5, 5, "MMMM", ha="center", va="center", fontsize=20, bbox=box, zorder=5)
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
        figs.append(fig)
    for clip in (True, False):  # a line running out of the Axes under the title
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.set_title("En rubrik med text", fontsize=30, backgroundcolor="white")
        ax.plot([5, 5], [2, 12], lw=2, clip_on=clip, label="Ut ur rutan")
        ax.legend(loc="lower left", bbox_to_anchor=(1, 0))
        figs.append(fig)
    return figs


def _legend_figures() -> list[plt.Figure]:
    """Legends beside the Axes (left out of the entry drawings) and over a line in it."""
    x = np.arange(5.0)
    figs = []
    for width in (1.0, 30.0):  # thin handles: far; a thick handle's cap reaches the Axes
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(x, x, lw=width, label="Linje")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1), borderaxespad=1, frameon=False)
        figs.append(fig)
    for framed in (True, False):  # a short line under the legend: its frame hides it
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.plot([0.5, 1.0], [9.2, 9.2], lw=1, label="Under förklaringen")
        ax.legend(loc="upper left", frameon=framed, framealpha=1, fontsize=14)
        figs.append(fig)
    return figs


def test_legend_check_without_far_artists_equals_full_drawings(clean, monkeypatch) -> None:
    """Leaving texts and legends far from an entry's clip box out of its drawings
    changes no fact: compared with full drawings (the reference, ``SKIP_FAR_ARTISTS``
    off) on every chart of a report and on figures on both sides of each rule."""
    tables = charts.load_tables(clean[0])
    figs = [c.draw(tables, 2025) for c in charts.available_charts(tables, 2025)]
    figs += _boxed_text_figures() + _hidden_line_figures() + _legend_figures()
    results = {}
    for skip in (False, True):
        monkeypatch.setattr(chartfacts, "SKIP_FAR_ARTISTS", skip)
        results[skip] = [chartfacts.figure_facts(f)["legend"] for f in figs]
    assert results[True] == results[False]
    seen = [[e["seen"] for e in entries] for entries in results[True][-10:]]
    assert seen == [
        [False, True],
        [True, True],
        [False],
        [True],
        [True],
        [True],
        [True],
        [True],
        [False],
        [True],
    ]
    for fig in figs:
        plt.close(fig)


def test_legend_check_leaves_out_legends_only_away_from_the_clip_box() -> None:
    thin, thick, framed, frameless = _legend_figures()
    far = {}
    for name, fig in (("thin", thin), ("thick", thick), ("framed", framed), ("bare", frameless)):
        fig.canvas.draw()
        check = chartfacts._EntryCheck(fig, chartfacts._drawn_pixels(fig))
        (line,) = fig.axes[0].get_lines()
        far[name] = fig.axes[0].get_legend() in check._far_texts([line])
        plt.close(fig)
    assert far == {"thin": True, "thick": False, "framed": False, "bare": False}


def test_legend_reach_is_refused_for_a_shadow_and_path_effects() -> None:
    from matplotlib import patheffects

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="Linje")
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert chartfacts._legend_reach(legend, renderer)
    legend.get_texts()[0].set_path_effects([patheffects.withStroke(linewidth=20)])
    assert chartfacts._legend_reach(legend, renderer) is None
    shadowed = ax.legend(loc="upper left", bbox_to_anchor=(1, 1), shadow=True)
    fig.canvas.draw()
    assert chartfacts._legend_reach(shadowed, renderer) is None
    plt.close(fig)


def test_changed_pixels_counts_pixels_not_channels() -> None:
    a = np.zeros((3, 4, 4), dtype=np.uint8)
    b = a.copy()
    b[0, 0, :3] = 255  # one pixel, three channels
    b[2, 3, 3] = 1  # one pixel, alpha only
    assert chartfacts._changed_pixels(a, b) == 2 == int((a != b).any(axis=-1).sum())
    assert chartfacts._changed_pixels(a[:, ::2], b[:, ::2]) == 1  # not contiguous


def test_legend_check_leaves_out_far_texts_only_for_clipped_artists() -> None:
    near, far = _hidden_line_figures()[-2:]
    found = {}
    for fig in (near, far):
        fig.canvas.draw()
        check = chartfacts._EntryCheck(fig, chartfacts._drawn_pixels(fig))
        (line,) = fig.axes[0].get_lines()
        found[line.get_clip_on()] = {t.get_text() for t in check._far_texts([line])}
        plt.close(fig)
    assert {"0", "10"} <= found[True]  # tick labels: outside the Axes
    assert found[False] == set()  # not clipped: full drawings


def _boxed_text_figures() -> list[plt.Figure]:
    """A text with a box above the Axes: a small box stays away from the clip box, a
    wide one (pad) or a thick edge reaches into it; a line under it in the Axes."""
    figs = []
    for pad, edge in ((0.3, 1.0), (3.0, 1.0), (0.3, 40.0)):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.plot([2, 8], [9.6, 9.6], lw=1, label="Under rutan")
        top = ax.get_position().y1
        fig.text(
            0.5,
            top + 0.08,
            "Exempeldata – inte verkliga resultat",
            ha="center",
            va="bottom",
            fontsize=10,
            bbox={
                "boxstyle": f"round,pad={pad}",
                "facecolor": "#FFF4E5",
                "edgecolor": "#A33F00",
                "linewidth": edge,
            },
        )
        ax.legend(loc="lower left", bbox_to_anchor=(1, 0))
        figs.append(fig)
    return figs


def test_legend_check_leaves_out_boxed_texts_only_away_from_the_clip_box() -> None:
    far = []
    for fig in _boxed_text_figures():
        fig.canvas.draw()
        check = chartfacts._EntryCheck(fig, chartfacts._drawn_pixels(fig))
        (line,) = fig.axes[0].get_lines()
        far.append(
            "Exempeldata – inte verkliga resultat"
            in {t.get_text() for t in check._far_texts([line]) if isinstance(t, Text)}
        )
        plt.close(fig)
    assert far == [True, False, False]


def test_text_extents_measure_each_text_once_for_one_renderer() -> None:
    from matplotlib.backends.backend_agg import RendererAgg

    fig = plt.figure(figsize=(4, 3))
    text = fig.text(0.5, 0.5, "Exempeldata", bbox={"boxstyle": "round,pad=0.3"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    own = text.get_window_extent(renderer)
    extents = chartfacts._TextExtents(renderer)
    measured = []
    text.get_window_extent = lambda r=None: measured.append(r) or Text.get_window_extent(text, r)
    first = extents(text)
    assert extents(text) is first and measured == [renderer]
    assert np.array_equal(first.get_points(), own.get_points())
    assert chartfacts._text_reach(text, renderer, extents).bounds == (
        chartfacts._text_reach(text, renderer).bounds
    )
    assert len(measured) == 2  # the second without the kept extents
    # another renderer (another size) measures anew: the kept extent is not its answer
    other = RendererAgg(800, 600, 200)
    assert chartfacts._extent(text, other, extents).width > 1.5 * first.width
    plt.close(fig)


def test_text_reach_is_refused_for_a_box_with_path_effects() -> None:
    from matplotlib import patheffects

    fig = plt.figure(figsize=(4, 3))
    text = fig.text(0.5, 0.5, "Exempeldata", bbox={"boxstyle": "round,pad=0.3"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    reach = chartfacts._text_reach(text, renderer)
    assert reach is not None and reach.width > text.get_window_extent(renderer).width
    text.get_bbox_patch().set_path_effects([patheffects.withStroke(linewidth=20)])
    assert chartfacts._text_reach(text, renderer) is None
    plt.close(fig)


def test_text_inside_figure_on_both_sides_of_the_edge() -> None:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("Kort titel")
    inside = {t["text"]: t["inside"] for t in chartfacts.figure_facts(fig)["texts"]}
    assert inside["Kort titel"] is True
    ax.set_title("En titel som är alldeles för lång för ett så här litet diagram, 2025")
    inside = {t["text"]: t["inside"] for t in chartfacts.figure_facts(fig)["texts"]}
    assert inside[ax.get_title()] is False


@pytest.mark.parametrize(("step", "overlap"), [(1, True), (5, False)])
def test_overlapping_tick_labels_are_found(step: int, overlap: bool) -> None:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlim(2005, 2025)
    ax.set_xticks(range(2005, 2026, step))
    assert bool(chartfacts.figure_facts(fig)["overlaps"]) is overlap


def test_small_multiples_years_do_not_run_together(clean) -> None:
    facts = _facts(clean[1], "otrygghet_omraden")
    assert facts["overlaps"] == []


def test_response_rate_chart_merges_areas_with_identical_rates() -> None:
    from trygghet_analys.report.plotting import response_rate_chart

    rates = pd.DataFrame(
        {
            "kommun": "X",
            "year": [2024, 2024, 2024, 2025, 2025, 2025],
            "stratum": ["A", "B", "C"] * 2,
            "sampled": 300,
            "respondents": [180, 180, 150, 190, 190, 160],
        }
    ).assign(response_rate=lambda d: d["respondents"] / d["sampled"])
    ax = response_rate_chart(rates)
    labels = {line.get_label() for line in ax.get_lines()}
    assert labels == {"A = B", "C", "Hela kommunen"}
    entries = chartfacts.figure_facts(ax.figure)["legend"]
    assert all(e["seen"] for e in entries), entries


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.1654, "share", f"16,5{NBSP}%"),
        (4000, "count", "4\u202f000"),
        (4000.0, "count", "4\u202f000"),
        (2025, "year", "2025"),
        (1.4736, "index", "1,47"),
        (0.2283, "number", "0,23"),
        (97.13, "number", "97,1"),
        (-0.0004, "share", f"0,0{NBSP}%"),
        (0.0004, "pvalue", "< 0,001"),
        (27.0, "percent_number", f"27{NBSP}%"),
        (np.nan, "share", "–"),
        (True, "bool", "ja"),
    ],
)
def test_table_cells_in_swedish_format(value, kind, text) -> None:
    assert tableformat.format_value(value, kind) == text


def test_suppressed_cells_read_too_few_answers() -> None:
    frame = pd.DataFrame(
        {
            "År": [2024, 2025],
            "Skattning": [0.2, np.nan],
            "Antal svar": [300, 12],
            "Undertryckt (för få svar)": [False, True],
        }
    )
    kinds = tableformat.column_kinds(frame, values="share")
    rows = tableformat.html_rows(frame, kinds)
    assert [t for t, _ in rows[1]] == ["2025", "för få svar", "12", "ja"]
    formats = tableformat.xlsx_formats(kinds)
    assert formats == {"År": "0", "Skattning": ["0.0%", "0.0%"], "Antal svar": "#,##0"}


@pytest.mark.parametrize(
    ("value", "text"),
    [(-0.004, "0 procentenheter"), (0.004, "0 procentenheter"), (-0.006, "−1 procentenheter")],
)
def test_no_minus_zero(value, text) -> None:
    assert fmt_signed_points(value) == text
    assert fmt_number(-0.04, 1) == "0,0"


def test_executed_notebook_paths_are_scrubbed(tmp_path: Path) -> None:
    """Parameters, outputs and papermill's metadata lose this machine's paths."""
    folder = tmp_path / "ut" / "2025"
    data = tmp_path / "data"
    book = folder / "notebooks" / "1.0-trygghetsmatning.ipynb"
    book.parent.mkdir(parents=True)
    (folder / "rapport.html").write_text("<html></html>", encoding="utf-8")
    doc = {
        "cells": [
            {"cell_type": "code", "source": [f'data_dir = "{data}"\n'], "outputs": []},
            {"cell_type": "code", "source": [], "outputs": [{"text": [f"{folder}/figurer"]}]},
        ],
        "metadata": {"papermill": {"input_path": "/home/ana/repo/notebooks/1.0.ipynb"}},
    }
    book.write_text(json.dumps(doc), encoding="utf-8")
    assert any("sökvägen" in i for i in granska.check_report(folder))
    report._scrub_paths(
        book,
        {str(data): "data", str(folder): "ut/2025", "/home/ana/repo" + "/": ""},
    )
    text = book.read_text(encoding="utf-8")
    assert 'data_dir = \\"data\\"' in text and "ut/2025/figurer" in text
    assert "notebooks/1.0.ipynb" in text
    assert not [i for i in granska.check_report(folder) if "sökvägen" in i]


def test_underlag_table_leaves_out_empty_columns() -> None:
    from trygghet_analys.report.underlag import _html_table, _signed

    page = _html_table(
        "Trygghet: indikatorer i underlaget",
        ("Rang", "Indikator", "Riket (NTU)", "Källa"),
        [[("td", "num", "1"), ("th", "", "Otrygghet"), ("td", "num", ""), ("td", "", "–")]],
    )
    assert "Riket (NTU)" not in page and "Källa" not in page and "Otrygghet" in page
    kept = _html_table(
        "T", ("A", "B"), [[("td", "", "x"), ("td", "", "")], [("td", "", "y"), ("td", "", "z")]]
    )
    assert ">B<" in kept
    assert [_signed(v, 0) for v in (-0.4, 0.4, 0.6, -0.6)] == ["0", "0", "+1", "−1"]


# --------------------------------------------------------------------------- real reports


def test_high_min_n_report_passes_with_suppressed_cells_shown(
    tmp_path_factory, sample_data_dir
) -> None:
    """The end-to-end report (min_n 150) passes; suppressed cells read "för få svar" in
    the tables and in the group chart."""
    from test_raw_readonly import reported_folder

    e2e = reported_folder(tmp_path_factory, sample_data_dir)
    (folder,) = [p for p in e2e["reports"].iterdir() if p.is_dir()]
    assert granska.check_report(folder) == []
    text = (folder / "rapport.html").read_text(encoding="utf-8")
    assert '<td class="num">för få svar</td>' in text
    assert _facts(folder, "otrygghet_grupper")["gids"]["undertryckt"]["shown"] > 0


def test_region_report_passes(tmp_path: Path, region_data_dir: Path) -> None:
    from trygghet_analys import pipeline

    data = tmp_path / "data"
    shutil.copytree(region_data_dir, data)
    pipeline.build(data)
    kommun = sorted(p.name for p in (data / "raw" / "kommuner").iterdir())[-1]
    out = report.run(data=data, out=tmp_path / "ut", kommun=kommun, notebooks=False)
    assert granska.check_report(out) == []


def test_bundled_report_with_the_euda_file_passes(tmp_path: Path, sample_data_dir: Path) -> None:
    """The report as CI and the analyst make it, with EUDA's file in external/: the
    comparison cities, EUDA medians and the substances EUDA does not measure (tramadol)
    must not leave phantom legend entries, hidden intervals or empty columns."""
    from conftest import REPO, SHARED, reference_file
    from trygghet_analys import pipeline

    euda = reference_file(
        SHARED / "reference" / "euda" / "ww2025-all-data.csv",
        REPO / "data" / "external" / "ww2025-all-data.csv",
        what="EUDA-filen ww2025-all-data.csv",
    )
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir, data)
    (data / "external").mkdir(exist_ok=True)
    shutil.copy(euda, data / "external" / euda.name)
    pipeline.build(data)
    out = report.run(data=data, out=tmp_path / "ut", notebooks=False)
    assert (out / "figurer" / "avloppsvatten_tramadol.png").is_file()
    assert granska.check_report(out) == []


def test_unpainted_texts_keep_the_layout_of_the_full_drawing() -> None:
    """Tick labels left unpainted (not hidden) leave the axis label where the full
    drawing put it; hidden ones move it. Their ``draw`` is theirs again afterwards."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_ylim(0, 1000000)
    ax.set_ylabel("Antal svar")
    ax.plot([0, 1], [0, 1000000], label="Linje")
    fig.canvas.draw()
    where = ax.yaxis.label.get_position()
    full = chartfacts._drawn_pixels(fig)
    labels = [t for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    unpainted = chartfacts._pixels(fig, unpainted=labels)
    assert ax.yaxis.label.get_position() == where
    assert all("draw" not in t.__dict__ for t in labels)
    assert chartfacts._changed_pixels(unpainted, full) > 0  # the labels are not painted
    chartfacts._pixels(fig, labels)  # hidden: the label moves to the Axes
    assert ax.yaxis.label.get_position()[0] > where[0]
    plt.close(fig)


def test_changed_pixels_inside_the_clip_region_count_as_between_left_out_drawings() -> None:
    """The legend check draws an entry once, far texts left out, and compares it with
    the full drawing inside the entry's clip boxes: the count is the one between two
    drawings with the far texts left out (entry shown and hidden), on figures on both
    sides of each rule."""
    figs = _boxed_text_figures() + _hidden_line_figures() + _legend_figures()
    compared = 0
    for fig in figs:
        fig.canvas.draw()
        full = chartfacts._drawn_pixels(fig)
        check = chartfacts._EntryCheck(fig, full)
        for line in fig.axes[0].get_lines():
            far = check._far_texts([line])
            if not far:
                continue
            base = chartfacts._pixels(fig, unpainted=far)
            without = chartfacts._pixels(fig, [line], unpainted=far)
            region = chartfacts._clip_region([line], without.shape)
            assert region.any() and not region.all()
            assert chartfacts._changed_pixels(without, full, region) == (
                chartfacts._changed_pixels(without, base)
            )
            compared += 1
        plt.close(fig)
    assert compared >= 5


def test_changed_pixels_count_only_inside_the_region() -> None:
    a = np.zeros((4, 5, 4), dtype=np.uint8)
    b = a.copy()
    b[0, 0, 0] = 1
    b[3, 4, 2] = 1
    region = np.zeros((4, 5), dtype=bool)
    region[2:, 3:] = True
    assert chartfacts._changed_pixels(a, b, region) == 1
    assert chartfacts._changed_pixels(a, b) == 2


def test_kept_layout_draws_what_matplotlib_places_and_gives_its_steps_back() -> None:
    """The legend check's drawings keep the full drawing's titles, axis labels and
    offset texts where they are: the pixels are those of matplotlib's own placing,
    a text moved by hand stays moved only while the layout is kept, and the placing
    steps are matplotlib's again afterwards."""
    for fig in _boxed_text_figures() + _legend_figures():
        ax = fig.axes[0]
        ax.set_title("Rubrik")
        ax.set_ylabel("Andel")
        ax.set_xlabel("År")
        fig.canvas.draw()
        full = chartfacts._drawn_pixels(fig)
        layout = chartfacts._KeptLayout(fig)
        with layout.kept():
            assert chartfacts._changed_pixels(chartfacts._pixels(fig), full) == 0
            ax.title.set_position((0.5, 2.0))
            chartfacts._pixels(fig)
            assert ax.title.get_position() == (0.5, 2.0)
        assert "_update_title_position" not in ax.__dict__
        for axis in ax._axis_map.values():
            assert not {"_update_label_position", "_get_ticklabel_bboxes"} & set(axis.__dict__)
        assert chartfacts._changed_pixels(chartfacts._pixels(fig), full) == 0
        assert ax.title.get_position() != (0.5, 2.0)
        plt.close(fig)


def test_figure_artists_are_findobj_without_new_ticks_on_axes_switched_off() -> None:
    fig, (shown, off) = plt.subplots(1, 2, figsize=(4, 2))
    shown.plot([0, 1], [0, 1], gid="linje", label="Linje")
    off.set_axis_off()
    off.text(0.5, 0.5, "Status", gid="status")
    fig.canvas.draw()
    ticks = len(off.xaxis.__dict__.get("majorTicks", []))
    gathered = chartfacts.figure_artists(fig)
    assert len(off.xaxis.__dict__.get("majorTicks", [])) == ticks  # none made
    everything = fig.findobj()  # makes the ticks the switched-off axes lack
    made = {id(a) for a in everything} - {id(a) for a in gathered}
    assert made  # findobj made new ticks on the switched-off axes ...
    assert [a for a in everything if id(a) not in made] == gathered  # ... and nothing else
    for artist in everything:
        if id(artist) in made:  # ... each with an empty label and no gid
            assert artist.get_gid() is None
            assert not (isinstance(artist, Text) and artist.get_text())
    # once the ticks exist, it is findobj itself
    assert chartfacts.figure_artists(fig) == fig.findobj()
    plt.close(fig)


def _layered_figures() -> list[plt.Figure]:
    """Entries the replayed drawings must get right: a line under a wider one drawn
    later and beside it, a band under an opaque patch drawn later, a line mostly
    outside its Axes (clipped), small multiples whose entries span the panels (one
    panel's line under a wider one), and a label in two legends."""
    x = np.arange(5.0)
    figs = []
    for offset in (0.0, 0.3):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.fill_between(x, x - 1, x + 1, alpha=0.3, label="Band", zorder=1)
        ax.plot(x, x + offset, lw=1, zorder=2, label="Under")
        ax.plot(x, x, lw=6, zorder=3, color="black", label="Över")
        ax.set_ylim(-2, 6)
        ax.legend(loc="upper left")
        figs.append(fig)
    for covered in (True, False):  # a band under an opaque rectangle drawn after it
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.fill_between([2, 4], [2, 2], [4, 4], label="Gömt band", zorder=1)
        width = 4 if covered else 1
        ax.add_patch(plt.Rectangle((1, 1), width, width, color="white", zorder=2, label="Ruta"))
        ax.plot([0, 10], [9, 9], zorder=3, label="Linje")
        ax.legend(loc="lower right")
        figs.append(fig)
    fig, ax = plt.subplots(figsize=(4, 3))  # partly clipped: most of the line is outside
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.plot([8, 30], [5, 40], lw=3, label="Delvis utanför")
    ax.plot([-20, -10], [5, 5], lw=3, label="Helt utanför")
    ax.legend(loc="lower left")
    figs.append(fig)
    fig, axes = plt.subplots(1, 3, figsize=(6, 2.5), sharey=True)  # small multiples
    for i, ax in enumerate(axes):
        ax.plot(x, x * (i + 1) / 3, lw=1, color="tab:blue", label="Område")
        ax.plot(x, x / 3 if i == 0 else x, lw=5, color="black", label="Hela kommunen")
    axes[0].legend(loc="upper left")
    axes[2].legend(loc="upper left")  # the same labels again
    figs.append(fig)
    return figs


def test_legend_check_replayed_from_the_image_before_the_entry_equals_whole_drawings(
    clean, monkeypatch
) -> None:
    """An entry's drawing that starts from the image just before its first artist and
    paints only what follows (:class:`chartfacts._Layers`) gives every fact of the
    whole drawings, on every chart of a report and on figures on both sides of each
    rule; a label met twice is checked once."""
    tables = charts.load_tables(clean[0])
    figs = [c.draw(tables, 2025) for c in charts.available_charts(tables, 2025)]
    figs += _layered_figures() + _hidden_line_figures() + _legend_figures()
    replayed, checked = [], []
    replay, changes = chartfacts._Layers.replay, chartfacts._EntryCheck.changes_pixels

    def counted_replay(self, artists, unpainted):
        out = replay(self, artists, unpainted)
        replayed.append(out is not None)
        return out

    def counted_check(self, artists):
        checked.append(tuple(map(id, artists)))
        return changes(self, artists)

    results = {}
    for layers in (False, True):
        monkeypatch.setattr(chartfacts, "REPLAY_LAYERS", layers)
        monkeypatch.setattr(chartfacts._Layers, "replay", counted_replay)
        monkeypatch.setattr(chartfacts._EntryCheck, "changes_pixels", counted_check)
        checked.clear()
        results[layers] = [chartfacts.figure_facts(f)["legend"] for f in figs]
        assert len(checked) == len(set(checked))  # no set of artists checked twice
        for fig in figs:  # the canvas shows the whole figure again afterwards
            after = np.asarray(fig.canvas.buffer_rgba()).copy()
            fig.canvas.draw()
            assert np.array_equal(after, np.asarray(fig.canvas.buffer_rgba()))
    assert results[True] == results[False]
    assert sum(replayed) >= 20  # the shortcut was taken
    seen = [[e["seen"] for e in entries] for entries in results[True][-16:-11]]
    assert seen == [
        [True, False, True],
        [True, True, True],
        [False, True, True],
        [True, False, True],  # a white square beside the band, on white: not seen
        [True, False],
    ]
    multiples = results[True][-11]
    assert [e["label"] for e in multiples] == ["Område", "Hela kommunen"] * 2
    assert multiples[:2] == multiples[2:]
    for fig in figs:
        plt.close(fig)


def test_legend_check_from_the_images_kept_in_the_png_drawing_equals_whole_drawings(
    clean, monkeypatch
) -> None:
    """The images before each entry's first artist kept while the PNG is drawn
    (:func:`chartfacts.layers_kept`, where the texts far from the entries are painted
    too) give every fact of the whole drawings, on every chart of a report and on
    figures on both sides of each rule; a block that draws the figure twice keeps
    nothing, and the check draws its own images as before."""
    from trygghet_analys.files import export

    tables = charts.load_tables(clean[0])
    figs = [c.draw(tables, 2025) for c in charts.available_charts(tables, 2025)]
    figs += _layered_figures() + _hidden_line_figures() + _legend_figures()
    monkeypatch.setattr(chartfacts, "REPLAY_LAYERS", False)
    whole = [chartfacts.figure_facts(f)["legend"] for f in figs]
    monkeypatch.setattr(chartfacts, "REPLAY_LAYERS", True)
    used = []
    layers = chartfacts._EntryCheck._layers

    def counted(self):
        out = layers(self)
        used.append(out is not None and out is self.kept)
        return out

    monkeypatch.setattr(chartfacts._EntryCheck, "_layers", counted)
    kept_facts = []
    for fig in figs:
        with chartfacts.layers_kept(fig) as kept:
            png = export.figure_png_bytes(fig)
        kept_facts.append(chartfacts.figure_facts(fig, drawn=True, kept=kept)["legend"])
        after = np.asarray(fig.canvas.buffer_rgba()).copy()  # the PNG's drawing is back
        fig.canvas.draw()
        assert np.array_equal(after, np.asarray(fig.canvas.buffer_rgba()))
        assert png == export.figure_png_bytes(fig)
    assert kept_facts == whole
    assert sum(used) >= 20  # the kept images were used
    used.clear()
    twice = []
    for fig in figs:
        with chartfacts.layers_kept(fig) as kept:
            fig.canvas.draw()
            fig.canvas.draw()
        assert kept is None or not kept.covers([[fig.patch]])
        twice.append(chartfacts.figure_facts(fig, drawn=True, kept=kept)["legend"])
    assert twice == whole
    assert not any(used)
    for fig in figs:
        plt.close(fig)


def _edge_figures() -> list[plt.Figure]:
    """A line covered by an opaque rectangle drawn after it but for a strip a few
    pixels wide at the left or right edge of its Axes (its clip box), and covered
    whole: only the strip at the edge shows it."""
    figs = []
    for left, right in ((0.08, 10.0), (0.0, 9.92), (0.0, 10.0)):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.plot([0, 5, 10], [5, 5, 5], lw=3, zorder=2, label="Linje")
        ax.add_patch(plt.Rectangle((left, -1), right - left, 12, color="white", zorder=3))
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
        figs.append(fig)
    return figs


def test_legend_check_compares_the_pixels_at_the_edge_of_the_clip_box(monkeypatch) -> None:
    """The replayed drawings are painted and compared only inside the rectangle of the
    entry's clip boxes (:func:`chartfacts._clip_window`): an entry seen only at the
    edge of its Axes is seen, one covered whole is not, as in whole drawings; and the
    rectangle holds every pixel of the region compared, boxes at fractional pixels
    too."""
    figs = _edge_figures()
    replayed = []
    replay = chartfacts._Layers.replay

    def counted_replay(self, artists, unpainted):
        out = replay(self, artists, unpainted)
        replayed.append(out is not None)
        return out

    monkeypatch.setattr(chartfacts._Layers, "replay", counted_replay)
    results = {}
    for layers in (False, True):
        monkeypatch.setattr(chartfacts, "REPLAY_LAYERS", layers)
        results[layers] = [[e["seen"] for e in chartfacts.figure_facts(f)["legend"]] for f in figs]
    assert results[True] == results[False] == [[True], [True], [False]]
    assert sum(replayed) == 3
    for fig in figs:
        (line,) = fig.axes[0].get_lines()
        for box in ((10.3, 20.6, 200.2, 150.7), (-5.5, 0.4, 50.5, 299.99), (0.0, 0.0, 400, 300)):
            line.set_clip_box(chartfacts.Bbox.from_extents(*box))
            shape = (300, 400, 4)
            rows, cols = chartfacts._clip_window([line], shape)
            whole = chartfacts._clip_region([line], shape)
            assert whole[rows, cols].sum() == whole.sum()  # nothing of the region left out
            assert whole[rows, cols].all()
            assert np.array_equal(
                chartfacts._clip_region([line], shape, (rows, cols)), whole[rows, cols]
            )
        plt.close(fig)
