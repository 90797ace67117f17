"""``trygghet-analys report``: the yearly report from data/processed to ``OUT/YEAR/``.

Writes, for one kommun and year:

- ``figurer/<name>.png``, ``.svg``, ``.pdf`` for every chart of :mod:`.charts`;
- ``diagram.pdf``: a one-page summary in plain Swedish, then one chart a page;
- ``rapport.html``: the same summary and every chart, images embedded, opens offline;
- ``tabeller.xlsx``: estimates, changes, trends, response rates, wastewater and the data
  behind every chart, with Swedish headers;
- ``notebooks/``: the executed notebooks (papermill).

Everything but the executed notebooks is byte-reproducible. The folder is written beside
``OUT/YEAR`` and swapped in only when everything succeeded, so a failed run leaves an
existing report as it was.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._gc import (
    collect_and_keep_survivors,
    collecting_rarely,
    frozen_for_workers,
    frozen_while_running,
)
from ..config import DataFolder, KommunConfig, repo_root
from ..errors import ConfigError, TrygghetError
from ..files import export as _export
from ..formatting import fmt_number, fmt_percent
from ..stats._values import row_tuples
from ..vocabulary import Comparison, Source, column_headers
from . import (
    chartfacts,
    charts,
    markercache,
    pages,
    plotting,
    shapestore,
    tableformat,
    textcache,
)
from .underlag import outcome_shown

__all__ = [
    "EXTRA_WRITERS",
    "largest_first",
    "run_all",
    "usable_cores",
    "underlag_table",
    "write_commitment_outputs",
    "NOTEBOOKS",
    "RenderedChart",
    "is_stale",
    "render_html",
    "run",
    "sheet_formats",
    "summary_findings",
    "table_kinds",
    "table_sheets",
]

#: Notebooks executed into ``OUT/YEAR/notebooks/``, from the repository's ``notebooks/``.
NOTEBOOKS: tuple[str, ...] = (
    "1.0-trygghetsmatning.ipynb",
    "2.0-avloppsvatten.ipynb",
    "3.0-medborgarlofte.ipynb",
)
#: Seconds a notebook cell may run before papermill stops it.
CELL_TIMEOUT = 300

#: Hook for further outputs: each function gets ``(tables, year, folder)`` and writes
#: its files into ``folder`` (the temporary ``OUT/YEAR``), deterministically. Filled
#: below with :func:`write_commitment_outputs`.
EXTRA_WRITERS: list[Callable[[charts.Tables, int, Path], None]] = []

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_KIND_TEXT = {"proportion": "andel", "mean": "medelvärde"}
_BANNER = pages.SYNTHETIC_BANNER


#: Whether the progress lines are off: set by :func:`_quiet` for one call of :func:`run`
#: (``report --alla`` silences each kommun's lines: it prints one line per kommun).
_QUIET = {"on": False}


@contextlib.contextmanager
def _quiet(on: bool) -> Iterator[None]:
    """Progress lines off (``on``) or on for the calls inside; the setting before is back
    on exit, an error included, so a quiet report leaves the next call's lines alone."""
    before = _QUIET["on"]
    _QUIET["on"] = on
    try:
        yield
    finally:
        _QUIET["on"] = before


def _say(text: str) -> None:
    """A progress line in Swedish on stderr."""
    if not _QUIET["on"]:
        print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- staleness


def _newest(folder: Path) -> float:
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file()]
    return max(times, default=0.0)


#: Processed tables whose absence means ``build`` has not run (or ran in an older version).
_REQUIRED_TABLES = ("survey_responses", "survey_estimates", "survey_changes", "underlag")


def is_stale(folder: DataFolder) -> bool:
    """True when a processed table is missing or older than any file in ``raw/`` or in
    ``external/`` (the EUDA file fetched after the last build is read by ``build``).

    Parameters
    ----------
    folder
        The data folder.

    Returns
    -------
    bool
        Whether :func:`trygghet_analys.pipeline.build` must run first.
    """
    processed = sorted(folder.processed.glob("*.parquet")) if folder.processed.is_dir() else []
    names = {p.stem for p in processed}
    if not set(_REQUIRED_TABLES) <= names:
        return True
    oldest = min(p.stat().st_mtime for p in processed)
    inputs = [folder.raw] + ([folder.external] if folder.external.is_dir() else [])
    return max(_newest(f) for f in inputs) > oldest


# --------------------------------------------------------------------------- summary


def _total(tables: charts.Tables, indicator: str, year: int) -> pd.Series | None:
    est = tables.estimates
    if est.empty:
        return None
    rows = est[
        (est["indicator"] == indicator)
        & (est["group_var"] == "total")
        & (est["year"].astype(int) == year)
    ]
    if rows.empty or pd.isna(rows["estimate"].iloc[0]):
        return None
    return rows.iloc[0]


#: Significant findings shown per focus area before "Och N till i tabeller.xlsx, bladet Fynd".
SUMMARY_PER_AREA = 3
#: Survey indicators told together with the wastewater, under "Narkotika".
DRUG_INDICATORS = ("problem_narkotikahandel", "problem_narkotikapaverkade")
_FOCUS_AREAS = ("Samverkan", "Synlighet", "Trygghet")


def _year_findings(tables: charts.Tables, year: int) -> pd.DataFrame:
    f = tables.findings
    if f is None or f.empty:
        return pd.DataFrame()
    return f[f["year"].astype(int) == year]


def _strongest_first(f: pd.DataFrame) -> pd.DataFrame:
    """Strength of evidence: q-value, then the whole kommun before an area."""
    return f.assign(_total=(f["group_var"] != "total").astype(int)).sort_values(
        ["q_value", "_total", "indicator", "group", "comparison", "from_year"], kind="stable"
    )


def _listed(f: pd.DataFrame, cap: int | None) -> tuple[list[str], int]:
    """Sentences of the strongest ``cap`` findings and how many more there are."""
    f = _strongest_first(f)
    shown = f if cap is None else f.head(cap)
    return shown["sentence"].tolist(), len(f) - len(shown)


def _more(n: int) -> str:
    # the underlag lists what got worse only; every finding is in the xlsx
    return f" Och {n} till i tabeller.xlsx, bladet Fynd." if n else ""


def _commitment_lines(tables: charts.Tables) -> dict[str, list[str]]:
    """Focus area → a line per commitment in it (how it went), in follow-up order; read
    in one pass over the follow-up rather than once per area."""
    fu = tables.followup
    if fu.empty or "implementation" not in fu.columns:
        return {}
    # a commitment's own columns (its focus area too) repeat on each of its indicator
    # rows: read the first
    firsts = fu.drop_duplicates(["kommun", "commitment_id"])
    out: dict[str, list[str]] = {}
    for r in row_tuples(firsts):
        text = textwrap.shorten(str(r.text), 90, placeholder=" …")
        line = (
            f"Löfte {r.commitment_id} ({text}): genomförande: {r.implementation}"
            + (f" ({r.activities_delivered})" if r.activities_delivered else "")
            + f"; utfall: {outcome_shown(str(r.commitment_status))}."
        )
        if isinstance(r.effect, str) and r.effect:
            line += f" {r.effect}"
        out.setdefault(r.focus_area, []).append(line)
    return out


def summary_findings(tables: charts.Tables, year: int) -> list[str]:
    """The summary page for the council, as plain Swedish paragraphs.

    Parameters
    ----------
    tables
        From :func:`charts.load_tables`.
    year
        The report year.

    Returns
    -------
    list of str
        The headline level of otrygghet; per focus area (Samverkan, Synlighet,
        Trygghet) what changed — the strongest statistically supported findings, the
        others counted ("Och 4 till i tabeller.xlsx, bladet Fynd") — and how each commitment went
        (genomförande and utfall, with its effect estimate); drugs from the survey and
        the wastewater together; how many comparisons were tested and how many chance
        alone would give; the comparison policy; the response rate. Every sentence about
        a change is a findings row's ``sentence``: nothing here tests anything.
    """
    from ..stats.findings import chance_text, policy_text

    out: list[str] = []
    k = tables.kommun.name
    found = _year_findings(tables, year)
    sig = found[found["significant"].astype(bool)] if len(found) else found
    area_of = _focus_areas(tables.indicators)
    row = _total(tables, "otrygghet_ute_sent", year)
    if row is not None:
        text = (
            f"{fmt_percent(row['estimate'])} av invånarna i {k} känner sig otrygga ute sent "
            f"en kväll i sitt bostadsområde {year} (95 % konfidensintervall "
            f"{fmt_percent(row['ci_low'])}–{fmt_percent(row['ci_high'])})."
        )
        if not tables.ntu.empty:
            ntu = tables.ntu[tables.ntu["indicator"] == "otrygg_ute_sent"].sort_values("year")
            ntu = ntu[ntu["year"] <= year]
            if len(ntu):
                last = ntu.iloc[-1]
                text += (
                    f" I hela Sverige var andelen {fmt_number(float(last['percent']), 0)}\u00a0% "
                    f"({int(last['year'])}, Brå NTU; annan metod, jämför försiktigt)."
                )
        out.append(text)

    if len(found):
        # effect estimates are told on their commitment's line, below
        survey = sig[
            (sig["source"] == Source.SURVEY)
            & (sig["comparison"] != Comparison.EFFECT)
            & ~sig["indicator"].isin(DRUG_INDICATORS)
        ]
        commitments = _commitment_lines(tables)
        for area in _FOCUS_AREAS:
            mine = survey[survey["indicator"].map(area_of) == area]
            lines, more = _listed(mine, SUMMARY_PER_AREA)
            if lines:
                text = f"{area}: " + " ".join(lines) + _more(more)
            else:
                text = f"{area}: inga statistiskt säkerställda förändringar i enkätens indikatorer."
            out.append(text)
            out += [f"{area}: {c}" for c in commitments.get(area, [])]
        other = survey[~survey["indicator"].map(area_of).isin(_FOCUS_AREAS)]
        if len(other):
            lines, more = _listed(other, SUMMARY_PER_AREA)
            out.append("Övrigt: " + " ".join(lines) + _more(more))
        out.append(_drugs(found, sig) + _detectable(tables, year))
        out.append(chance_text(found, year=year) + " " + policy_text(tables.base_year))

    rr = tables.response_rates
    if not rr.empty:
        now = rr[rr["year"].astype(int) == year]
        if len(now) and now["sampled"].sum() > 0:
            rate = now["respondents"].sum() / now["sampled"].sum()
            out.append(
                f"{fmt_percent(rate)} av de {int(now['sampled'].sum())} tillfrågade svarade {year}."
            )
    return out


def _drugs(found: pd.DataFrame, sig: pd.DataFrame) -> str:
    """Drugs from the survey and the wastewater together, in one paragraph."""
    survey = sig[
        (sig["source"] == Source.SURVEY)
        & (sig["comparison"] != Comparison.EFFECT)
        & sig["indicator"].isin(DRUG_INDICATORS)
    ]
    lines, more = _listed(survey, SUMMARY_PER_AREA)
    ww = found[found["source"] == Source.WASTEWATER]
    ww_sig = ww[ww["significant"].astype(bool)]
    parts = ["Narkotika:"]
    parts += lines or [
        "enkätens frågor om narkotika visar inga statistiskt säkerställda förändringar."
    ]
    if more:
        parts.append(_more(more).strip())
    if len(ww):
        parts += _strongest_first(ww_sig)["sentence"].tolist()
        rest = sorted(ww[~ww["significant"].astype(bool)]["indicator"].unique().tolist())
        if rest:
            parts.append(
                "Ingen statistiskt säkerställd trend i avloppsvattnet för "
                + ", ".join("MDMA" if r == "mdma" else r for r in rest)
                + "."
            )
        for substance in sorted(ww["indicator"].dropna().astype(str).unique()):
            note = charts.medicine_note(substance)  # also a prescribed medicine
            if note:
                parts.append(note)
    return " ".join(parts)


def _detectable(tables: charts.Tables, year: int) -> str:
    """What change between two years the sampling plan can detect (80 % power): the
    latest row up to ``year`` of ``processed/wastewater_detectable``."""
    d = tables.wastewater_detectable
    if d.empty:
        return ""
    d = d[d["year"].astype(int) <= year]
    if d.empty:
        return ""
    row = d.sort_values("year").iloc[-1]
    return (
        f" Med {int(row['n_campaigns_per_year'])} mätkampanjer om året kan avloppsvattnet "
        "visa en förändring från ett år till nästa först när den är större än ungefär "
        f"+{fmt_number(100 * float(row['increase']), 0)} % "
        f"eller −{fmt_number(100 * float(row['decrease']), 0)} % (typisk variation mellan "
        f"kampanjer {fmt_number(100 * float(row['cv_between_campaigns']), 0)} %); mindre "
        "förändringar syns först som trend över flera år."
    )


def _focus_areas(indicators: pd.DataFrame) -> dict[str, str]:
    """Indicator id → focus area: the kommun's definitions as built (its own indicators
    included), else the package's."""
    table = indicators
    if not {"id", "focus_area"} <= set(table.columns):
        from ..survey.indicators import load_indicators

        table = load_indicators()
    return dict(zip(table["id"].astype(str), table["focus_area"].astype(str), strict=True))


def _summary_figure(tables: charts.Tables, year: int, findings: list[str]) -> Figure:
    with plotting.use_style():
        fig = plt.figure(figsize=_PAGE)
    k = tables.kommun.name
    fig.text(0.08, 0.94, f"Trygghet i {k} {year}", fontsize=20, fontweight="bold", va="top")
    fig.text(0.08, 0.905, "Sammanfattning för förtroendevalda", fontsize=13, va="top")
    y = 0.86
    for finding in findings:
        wrapped = textwrap.fill(finding, 88)
        fig.text(0.08, y, "•", fontsize=11, va="top")
        fig.text(0.11, y, wrapped, fontsize=10.5, va="top", linespacing=1.4)
        y -= 0.0185 * (wrapped.count("\n") + 1) + 0.014
    if tables.kommun.synthetic:
        fig.text(
            0.92,
            0.975,
            _BANNER,
            ha="right",
            va="top",
            fontsize=11,
            fontweight="bold",
            color="#A33F00",
        )
    fig.text(
        0.08,
        0.04,
        "Diagrammen på följande sidor visar underlaget. Källa: "
        f"trygghetsmätningen {k}, egna beräkningar.",
        fontsize=8.5,
        color="#595959",
    )
    return fig


def _book_page(fig: Figure, title: str, explanation: str, pdf: Path) -> _export.BookPage:
    """A finished chart as a chart-book page, kept vector graphics.

    The page is (at least) A4 proportions, with a title and the explanation above the
    chart; the chart keeps its size in inches and is drawn below them, in the drawing
    that writes its own PDF file ``pdf``. Fonts stay fonts and lines stay lines in the
    PDF: nothing is rasterised.
    """
    w, h = (float(v) for v in fig.get_size_inches())
    wrapped = textwrap.fill(explanation, 95)
    lines = wrapped.count("\n") + 1
    header = 0.55 + 0.2 * lines + 0.25  # inches: title, explanation, gap
    width = max(_PAGE[0], w)
    height = max(h + header + 0.4, width * _PAGE[1] / _PAGE[0])
    with plotting.use_style():
        page = Figure(figsize=(width, height), facecolor=fig.get_facecolor())
    top = 1 - 0.45 / height
    page.text(0.08, top, title, fontsize=16, fontweight="bold", va="top")
    page.text(0.08, top - 0.4 / height, wrapped, fontsize=10, va="top", linespacing=1.4)
    return _export.BookPage(page, fig, ((width - w) / 2, height - header - h), pdf)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class RenderedChart:
    """A chart drawn for the report: its texts, PNG bytes and data table."""

    name: str
    title: str
    explanation: str
    alt: str
    png: bytes
    data: pd.DataFrame
    facts: dict = field(default_factory=dict)


def _render_charts(
    tables: charts.Tables, year: int, figdir: Path, out: list[RenderedChart]
) -> Iterator[_export.BookPage]:
    """Draw and save every chart (PNG, SVG, facts JSON) into ``figdir``.

    Appends each :class:`RenderedChart` to ``out`` and yields the chart as a chart-book
    page, before closing it; the chart book writes the chart's PDF file as it draws the
    page.
    """
    for i, chart in enumerate(charts.available_charts(tables, year), start=1):
        fig = plotting.reuse_ticks(chart.draw(tables, year))
        try:
            # one Agg drawing serves the PNG and the facts measured on it, and keeps
            # the images the legend check starts from
            with chartfacts.layers_kept(fig) as kept:
                png = _export.figure_png_bytes(fig)
            data = chart.data(tables, year)
            explanation, alt = chart.explain(fig), chart.alt(fig)
            facts = chartfacts.figure_facts(
                fig,
                drawn=True,
                kept=kept,
                name=chart.name,
                title=chart.title,
                explanation=explanation,
                alt=alt,
                kind=chart.kind,
                indicator=chart.indicator,
                group_var=chart.group_var,
                year=year,
                synthetic=bool(tables.kommun.synthetic),
                sheet=_sheet_name(i, chart.name),
                data_rows=len(data),
            )
            _export.save_figure(fig, figdir / chart.name, formats=("png", "svg"), png=png)
            (figdir / f"{chart.name}.json").write_text(
                chartfacts.facts_json(facts), encoding="utf-8", newline="\n"
            )
            out.append(RenderedChart(chart.name, chart.title, explanation, alt, png, data, facts))
            yield _book_page(fig, chart.title, explanation, figdir / f"{chart.name}.pdf")
        finally:
            plt.close(fig)


def _sheet_name(position: int, name: str) -> str:
    """The xlsx sheet holding chart number ``position``'s table (31 characters at most)."""
    return f"D{position} {name}"[:31]


def table_sheets(
    tables: charts.Tables, year: int, rendered: Iterable[RenderedChart]
) -> dict[str, pd.DataFrame]:
    """The sheets of ``tabeller.xlsx``: Swedish headers, this kommun, up to ``year``.

    Returns
    -------
    dict of DataFrame
        Sheet name → table: "Skattningar", "Förändringar", "Trender", "Svarsfrekvens",
        "Seriebrott", "Avloppsvatten kampanjer", "Avloppsvatten dygn", "EUDA jämförelse",
        "Fynd" (the findings table), "Uppföljning", then one sheet per chart ("D1 otrygghet_trend" …); empty tables
        are left out.
    """

    def upto(frame: pd.DataFrame, column: str = "year") -> pd.DataFrame:
        if frame.empty or column not in frame.columns:
            return frame
        return frame[frame[column].astype(int) <= year]

    est = upto(tables.estimates)
    if not est.empty:
        est = est.assign(label=est["indicator"].map(lambda i: tables.labels.get(i, i)))
        cols = ["kommun", "year", "indicator", "label"]
        est = est[cols + [c for c in est.columns if c not in cols]]
    sheets = {
        "Skattningar": est,
        "Förändringar": upto(tables.changes, "year_to"),
        "Trender": upto(tables.trends, "year_to"),
        "Svarsfrekvens": upto(tables.response_rates),
        "Seriebrott": tables.breaks,
        "Avloppsvatten kampanjer": upto(tables.wastewater_campaigns),
        "Avloppsvatten dygn": tables.wastewater_loads,
        "EUDA jämförelse": upto(tables.euda),
    }
    out = {name: charts.swedish_headers(frame) for name, frame in sheets.items() if not frame.empty}
    found = upto(tables.findings) if tables.findings is not None else pd.DataFrame()
    if not found.empty:
        out["Fynd"] = charts.swedish_headers(found, column_headers("findings"))
    if not tables.followup.empty:
        out["Uppföljning"] = charts.swedish_headers(tables.followup)
    under = underlag_table(tables, year)
    if not under.empty:
        if "kind" in under.columns:
            under = under.assign(kind=under["kind"].map(lambda k: _KIND_TEXT.get(k, k)))
        out["Underlag nästa år"] = charts.swedish_headers(under)
    for i, r in enumerate(rendered, start=1):
        out[_sheet_name(i, r.name)] = r.data
    # a column without a single value says nothing (the underlag's NTU columns when no
    # indicator has a national level)
    return {name: _without_empty_columns(frame) for name, frame in out.items()}


def _without_empty_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame.dropna(axis=1, how="all")``: the same frame, in a third of the time.

    ``dropna`` reduces the frame of missing flags with ``DataFrame.any``, which costs more
    than finding the flags (a report drops the empty columns of some 26 sheets and 16
    chart tables); one numpy reduction over the flags decides every column at once.
    """
    empty = frame.isna().to_numpy().all(axis=0)
    if not empty.any():
        return frame.copy(deep=False)
    return frame.iloc[:, np.flatnonzero(~empty)]


@functools.cache
def _indicator_kinds() -> dict[str, str]:
    """Indicator id → "proportion" | "mean" of the package's indicators (read once: every
    table of a report asks; callers only read it)."""
    from ..survey.indicators import load_indicators

    table = load_indicators()
    return dict(zip(table["id"].astype(str), table["kind"].astype(str), strict=True))


def _value_kind(indicator: str | None, kinds: dict[str, str]) -> str:
    """Kind of a chart table's value columns: a share, an index value or a number."""
    kind = kinds.get(str(indicator)) if indicator else None
    return {"proportion": "share", "mean": "index"}.get(kind or "", "number")


def _report_indicator_kinds(tables: charts.Tables) -> dict[str, str]:
    """Indicator id → "proportion" | "mean" of a report: the definitions ``build`` estimated
    with (``processed/survey_indicators``, the kommun's own indicators included, as
    :func:`~.charts.load_tables` gives them in ``tables.indicators``), over the package's."""
    kinds = dict(_indicator_kinds())
    table = tables.indicators
    if {"id", "kind"} <= set(table.columns):
        kinds.update(zip(table["id"].astype(str), table["kind"].astype(str), strict=True))
    # tables shown to the council name an indicator by its Swedish label (the follow-up
    # chart's table): the label gives the same kind, unless it is also some id
    if {"label", "kind"} <= set(table.columns):
        for label, kind in zip(table["label"].astype(str), table["kind"].astype(str), strict=True):
            kinds.setdefault(label, kind)
    return kinds


def table_kinds(
    frame: pd.DataFrame,
    indicator: str | None = None,
    *,
    kinds: Mapping[str, str] | None = None,
) -> tableformat.Kinds:
    """How each column of a report table is shown (see :mod:`.tableformat`); ``kinds`` from
    :func:`_report_indicator_kinds` (default: the package's indicators only)."""
    kinds = _indicator_kinds() if kinds is None else kinds
    return tableformat.column_kinds(
        frame, indicator_kinds=kinds, values=_value_kind(indicator, kinds)
    )


def _html_table(
    frame: pd.DataFrame,
    caption: str,
    *,
    sheet: str | None = None,
    indicator: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pages.Table:
    """Every row of ``frame`` as a table of the page, numbers formatted by column kind; a
    column that is empty in every row is left out (as in ``tabeller.xlsx``)."""
    frame = _without_empty_columns(frame)
    rows = [
        [("td", "num" if num else "", text) for text, num in cells]
        for cells in tableformat.html_rows(frame, table_kinds(frame, indicator, kinds=kinds))
    ]
    return pages.table(caption, [str(c) for c in frame.columns], rows, sheet=sheet)


def sheet_formats(
    sheets: dict[str, pd.DataFrame],
    rendered: Iterable[RenderedChart] = (),
    *,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str | list[str]]]:
    """Excel number formats for every sheet of ``tabeller.xlsx``, by column kind (``kinds``
    as for :func:`table_kinds`)."""
    return {
        name: tableformat.xlsx_formats(k)
        for name, k in _sheet_kinds(sheets, rendered, kinds=kinds).items()
    }


def _sheet_kinds(
    sheets: dict[str, pd.DataFrame],
    rendered: Iterable[RenderedChart] = (),
    *,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, tableformat.Kinds]:
    by_sheet = {_sheet_name(i, r.name): r.facts.get("indicator") for i, r in enumerate(rendered, 1)}
    return {
        name: table_kinds(frame, by_sheet.get(name), kinds=kinds) for name, frame in sheets.items()
    }


def write_tables(
    path: Path,
    sheets: dict[str, pd.DataFrame],
    rendered: Iterable[RenderedChart],
    *,
    title: str,
    kinds: Mapping[str, str] | None = None,
    banner: str | None = None,
) -> Path:
    """``tabeller.xlsx``: every sheet with each column's format by kind, and a difference of
    shares stored in percentage points as its format shows it (:func:`.tableformat.excel_values`)."""
    by_kind = _sheet_kinds(sheets, rendered, kinds=kinds)
    return _export.write_xlsx(
        path,
        {name: tableformat.excel_values(frame, by_kind[name]) for name, frame in sheets.items()},
        title=title,
        number_formats={name: tableformat.xlsx_formats(k) for name, k in by_kind.items()},
        banner=banner,
    )


def _for_the_council(note: str) -> bool:
    """A note fit for the council's page: no commands, paths or fetch instructions."""
    analyst = ("trygghet-analys", "data/", "kör ", "hämta", "EUDA-data saknas", ".parquet")
    return not any(word in note for word in analyst)


def render_html(
    tables: charts.Tables, year: int, findings: list[str], rendered: list[RenderedChart]
) -> str:
    """The HTML report: summary, then every chart (embedded PNG, alt text, data table).

    Parameters
    ----------
    tables, year
        As in :func:`summary_findings`.
    findings
        From :func:`summary_findings`.
    rendered
        The charts drawn for the report.

    Returns
    -------
    str
        A self-contained ``lang="sv"`` HTML document: no scripts, no external files.
    """
    k = tables.kommun.name
    notes = [n for n in tables.notes if _for_the_council(n)]
    if any(n.startswith("EUDA-data saknas") for n in tables.notes):
        # the reason and how to fetch the file are in the log; the council gets the fact
        notes.append("Avloppsvattnet jämförs inte med andra europeiska städer (EUDA-data saknas).")
    kinds = _report_indicator_kinds(tables)
    shown = [
        {
            "name": r.name,
            "title": r.title,
            "explanation": r.explanation,
            "png": base64.b64encode(r.png).decode("ascii"),
            "alt": r.alt,
            "table": _html_table(
                r.data,
                f"Siffrorna bakom diagrammet: {r.title}",
                sheet=r.facts.get("sheet"),
                indicator=r.facts.get("indicator"),
                kinds=kinds,
            ),
        }
        for r in rendered
    ]
    return pages.render_page(
        "rapport.html",
        title=f"Trygghet i {k} {year} – trygghetsmätning, avloppsvatten och medborgarlöfte",
        banner=_BANNER if tables.kommun.synthetic else "",
        kommun=k,
        year=year,
        findings=findings,
        notes=notes,
        charts=shown,
        min_n=tables.kommun.min_n,
    )


# --------------------------------------------------------------------------- commitments


def underlag_table(tables: charts.Tables, year: int) -> pd.DataFrame:
    """The underlag for next year's medborgarlöfte: ``year``'s rows of the ``underlag``
    table that ``build`` wrote (:func:`~trygghet_analys.commitments.followup.underlag`).

    Returns
    -------
    DataFrame
        Empty when the year has no underlag (or ``processed/`` has no underlag table).
    """
    under = tables.underlag
    if under.empty or "year" not in under.columns:
        return pd.DataFrame()
    return under[under["year"].astype(int) == year].reset_index(drop=True)


def write_commitment_outputs(tables: charts.Tables, year: int, folder: Path) -> None:
    """Write ``underlag_medborgarlofte.html`` and ``medborgarlofte_<YEAR+1>_utkast.yml``.

    The page is written for every kommun with a medborgarlöfte register, a follow-up or an
    underlag for ``year``; the draft register is ``year``'s rows of the ``commitment_draft``
    table that ``build`` made, turned into YAML (all read from ``processed/``). A draft
    that could not be made is said on stderr with the reason ``build`` recorded, and the
    page stays.

    Parameters
    ----------
    tables, year
        As in :func:`summary_findings`.
    folder
        The report folder being written.
    """
    from ..commitments.followup import draft_document
    from ..files.registers import dump_register
    from .underlag import render_underlag_html

    under = underlag_table(tables, year)
    if under.empty and tables.followup.empty and tables.commitment_registers.empty:
        return
    page = render_underlag_html(
        under,
        tables.followup,
        kommun=tables.kommun.name,
        year=year,
        synthetic=tables.kommun.synthetic,
        findings=tables.findings,
        base_year=tables.base_year,
    )
    (folder / "underlag_medborgarlofte.html").write_text(page, encoding="utf-8", newline="\n")
    _say("  underlag för nästa års medborgarlöfte skrivet")
    drafts = tables.draft
    rows = drafts[drafts["year"].astype(int) == year] if "year" in drafts.columns else drafts
    if rows.empty:  # no register or no underlag that year: nothing to draft
        return
    reason = rows["reason"].iloc[0]
    if isinstance(reason, str):
        # An optional part: the page and the rest of the report are still worth having.
        _say(f"Utkastet till nästa års medborgarlöfte kunde inte tas fram: {reason}")
        return
    (folder / f"medborgarlofte_{year + 1}_utkast.yml").write_text(
        dump_register(draft_document(rows)), encoding="utf-8", newline="\n"
    )


EXTRA_WRITERS.append(write_commitment_outputs)


# --------------------------------------------------------------------------- notebooks


def _start_notebooks(
    pool: ThreadPoolExecutor, dest: Path, *, year: int, data_dir: Path, out_dir: Path, kommun: str
) -> list[Future[Path]]:
    """Submit every notebook to ``pool``; they run while the main process draws charts."""
    source = repo_root() / "notebooks"
    books = [source / n for n in NOTEBOOKS if (source / n).is_file()]
    if not books:
        _say(f"Hoppar över notebooks: hittar inga i {source}.")
        return []
    # Import everything the worker threads need here, in the main thread: matplotlib
    # looks at a half-imported IPython module otherwise (a race seen in practice).
    import IPython  # noqa: F401
    import nbclient  # noqa: F401
    import papermill as pm

    dest.mkdir(parents=True, exist_ok=True)
    params = {"year": year, "data_dir": str(data_dir), "out_dir": str(out_dir), "kommun": kommun}
    # What the executed notebooks show instead of this machine's absolute paths.
    shown = {
        str(dest): _display_path(out_dir / "notebooks"),
        str(out_dir): _display_path(out_dir),
        str(data_dir): _display_path(data_dir),
        str(source) + os.sep: "notebooks" + os.sep,
        str(repo_root()) + os.sep: "",
        str(Path.home()): "~",
    }

    def one(book: Path) -> Path:
        target = dest / book.name
        pm.execute_notebook(
            str(book),
            str(target),
            parameters=params,
            kernel_name="python3",
            execution_timeout=CELL_TIMEOUT,
            progress_bar=False,
            log_output=False,
            # the kernel's own English start-up warnings are noise on the progress lines
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        _scrub_paths(target, shown)
        _say(f"  notebook klar: {book.name}")
        return target

    return [pool.submit(one, b) for b in books]


def _display_path(path: Path) -> str:
    """A path as the analyst typed it: relative to the working directory, else its name."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return Path(path).name


def _scrub_paths(notebook: Path, shown: dict[str, str]) -> None:
    """Replace this machine's absolute paths in an executed notebook (parameters,
    outputs, papermill's metadata) by the short forms in ``shown``."""
    import json

    order = sorted(shown, key=len, reverse=True)

    def clean(value: object) -> object:
        if isinstance(value, str):
            for old in order:
                if old and old in value:
                    value = value.replace(old, shown[old])
            return value
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    book = json.loads(notebook.read_text(encoding="utf-8"))
    text = json.dumps(clean(book), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    notebook.write_text(text, encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------- run


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace ``final`` with ``tmp`` (both in the same folder)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.gammal-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run(
    *,
    year: int | None = None,
    data: str | Path | None = None,
    out: str | Path = Path("reports"),
    kommun: str | None = None,
    notebooks: bool = False,
    build: bool = True,
    quiet: bool = False,
) -> Path:
    """Make the yearly report into ``out/<year>/``.

    Parameters
    ----------
    year
        Report year; default the latest year with survey estimates.
    data
        Data folder with ``raw/`` and ``processed/``; None for the default ``data/``.
    out
        Output folder; the report goes to ``out/<year>/`` – or ``out/<slug>/<year>/`` when
        the data folder holds several kommuner (so that two kommuner never overwrite each
        other; ``report --alla`` writes the same place).
    kommun
        Name or slug; needed only when the data folder holds several kommuner.
    notebooks
        Also execute the notebooks into ``out/<year>/notebooks/`` (``--notebooks``); the
        HTML report and the chart book do not need them.
    build
        Rebuild ``processed/`` first when it is missing or older than ``raw/``.
    quiet
        No progress lines (``report --alla`` prints one line per kommun instead).

    Returns
    -------
    Path
        ``out/<year>``.

    Raises
    ------
    ConfigError
        When the data folder or kommun is unknown, or there is no year to report.
    """
    with _quiet(quiet):
        return _run(year=year, data=data, out=out, kommun=kommun, notebooks=notebooks, build=build)


def _run(
    *,
    year: int | None,
    data: str | Path | None,
    out: str | Path,
    kommun: str | None,
    notebooks: bool,
    build: bool,
) -> Path:
    """:func:`run` with its progress setting in place."""
    started = time.perf_counter()
    folder = DataFolder.at(data)
    if build and is_stale(folder):
        _say("Bygger data/processed från rådata (rådata är nyare eller processed saknas) ...")
        from .. import pipeline

        pipeline.build(folder.root)
    cfg = folder.kommun(kommun)
    _say(f"Läser tabeller för {cfg.name} ...")
    tables = charts.load_tables(folder.root, cfg.name)
    with frozen_while_running(), collecting_rarely():
        return _render(
            folder, cfg, tables, year=year, out=out, notebooks=notebooks, started=started
        )


def _render(
    folder: DataFolder,
    cfg: KommunConfig,
    tables: charts.Tables,
    *,
    year: int | None,
    out: str | Path,
    notebooks: bool,
    started: float,
) -> Path:
    """:func:`_run` once the tables are read: check the year, draw and write the report."""
    if year is None:
        year = tables.latest_year
        if year is None:
            raise ConfigError(
                f"Det finns inga skattningar eller mätkampanjer för {cfg.name} i "
                f"'{folder.processed}'; kör trygghet-analys build först"
            )
    year = int(year)
    if tables.years and year not in tables.years:
        raise ConfigError(
            f"År {year} finns inte i trygghetsmätningen för {cfg.name} "
            f"(finns: {tables.years[0]}–{tables.years[-1]})"
        )
    for note in tables.notes:
        _say(note)

    # Absolute paths: papermill changes the working directory while a notebook starts.
    out = Path(out).resolve()
    if len(folder.kommuner()) > 1:
        out = out / cfg.slug
    out.mkdir(parents=True, exist_ok=True)
    final = out / str(year)
    tmp = Path(tempfile.mkdtemp(prefix=f".{year}.tmp-", dir=out))
    # Kernels are separate processes: two notebooks run beside the chart drawing.
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(NOTEBOOKS), (os.cpu_count() or 2))))
    running: list[Future[Path]] = []
    try:
        if notebooks:
            _say("Startar notebooks ...")
            running = _start_notebooks(
                pool,
                tmp / "notebooks",
                year=year,
                data_dir=folder.root.resolve(),
                out_dir=final.resolve(),
                kommun=cfg.name,
            )
        # text metrics, font lookups and font tables, and the PDF files' marker
        # extents, kept across every drawing
        with (
            _export.deterministic(),
            textcache.shared_text_layout(_shape_store(folder)),
            shapestore.stored_font_subsets(),
            markercache.shared_marker_extents(),
        ):
            _say(f"Ritar diagram för {year} ...")
            findings = summary_findings(tables, year)
            rendered: list[RenderedChart] = []
            _write_book(
                tmp / "diagram.pdf",
                tables,
                year,
                findings,
                _render_charts(tables, year, tmp / "figurer", rendered),
            )
            _say(f"  {len(rendered)} diagram i figurer/ (png, svg, pdf) och i diagram.pdf")
            _say("Skriver rapport.html ...")
            (tmp / "rapport.html").write_text(
                render_html(tables, year, findings, rendered), encoding="utf-8", newline="\n"
            )
            _say("Skriver tabeller.xlsx ...")
            write_tables(
                tmp / "tabeller.xlsx",
                table_sheets(tables, year, rendered),
                rendered,
                title=f"Trygghet i {cfg.name} {year} – tabeller",
                kinds=_report_indicator_kinds(tables),
                banner=_BANNER if cfg.synthetic else None,
            )
            for writer in EXTRA_WRITERS:
                writer(tables, year, tmp)
        if running:
            _say("Väntar på notebooks ...")
            for job in running:
                job.result()
        _swap_in(tmp, final)
    except BaseException:
        for job in running:
            job.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pool.shutdown(wait=True)
    _say(f"Klart: {final} ({fmt_number(time.perf_counter() - started, 1)} s)")
    return final


def _shape_store(folder: DataFolder) -> Path:
    """Where the report keeps text shapings between runs (:mod:`.shapestore`): beside the
    build's cache, never in ``raw/``."""
    return folder.processed / ".cache" / "formning"


def _one_kommun(job: dict) -> tuple[str, str | None, str | None]:
    """Worker of :func:`run_all`: (kommun, output folder or None, Swedish error or None)."""
    try:
        final = run(**job, build=False, quiet=True)
    except TrygghetError as exc:
        return job["kommun"], None, exc.swedish()
    finally:
        plt.close("all")
        # the kommun's figures and their reference cycles freed before the next kommun,
        # so that a worker's memory stays as after its first (``collecting_rarely``), and
        # what the worker keeps for the next kommun out of the later collections
        collect_and_keep_survivors()
    return job["kommun"], str(final), None


def run_all(
    *,
    year: int | None = None,
    data: str | Path | None = None,
    out: str | Path = Path("reports"),
    notebooks: bool = False,
    build: bool = True,
    workers: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """Every kommun's report of a (region) data folder, in one process pool.

    The processed tables are read once, and fonts and the style sheet loaded once, in this
    process; the workers are forked from it and share them. Each kommun's report goes to
    ``out/<slug>/<year>/``, byte-identical to ``run(kommun=..., out=out)`` for that kommun.

    Parameters
    ----------
    year
        Report year; default each kommun's latest year.
    data, out, notebooks, build
        As for :func:`run` (notebooks off unless asked for).
    workers
        Processes; default the number of cores (at most the number of kommuner).
    progress
        A progress bar on a terminal, one line per kommun elsewhere (CI logs).

    Returns
    -------
    list of Path
        The report folders, in the kommuner's order.

    Raises
    ------
    ConfigError
        When a kommun's report fails: the message names the kommun (the other kommuner's
        finished reports stay; a failed kommun's previous report is left as it was).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from ..progress import Progress

    started = time.perf_counter()
    folder = DataFolder.at(data)
    if build and is_stale(folder):
        _say("Bygger data/processed från rådata (rådata är nyare eller processed saknas) ...")
        from .. import pipeline

        pipeline.build(folder.root)
    kommuner = folder.kommuner()
    out = Path(out).resolve()
    # Shared by every forked worker: the tables, imports, templates, fonts and style sheet.
    charts.preload(folder.root)
    _share_before_fork()
    shapestore.load(_shape_store(folder))  # read once, shared by the workers
    jobs = [
        {"year": year, "data": folder.root, "out": out, "kommun": name, "notebooks": notebooks}
        for name in largest_first([k.name for k in kommuner], charts.preloaded_rows())
    ]
    workers = max(1, min(workers or usable_cores(), len(jobs)))
    done: dict[str, Path] = {}
    # the parent's objects (the tables above all) out of the workers' garbage collection, so
    # that its pages stay shared with the workers instead of being copied on first touch
    try:
        with (
            frozen_for_workers(),
            Progress(len(jobs), "Rapporter", "kommuner", enabled=progress) as bar,
        ):
            if workers == 1:
                results = (_one_kommun(job) for job in jobs)
                for name, final, error in results:
                    if error:
                        raise ConfigError(f"Rapporten för {name} kunde inte tas fram: {error}")
                    done[name] = Path(final)
                    bar.step(name)
            else:
                ctx = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                    futures = [pool.submit(_one_kommun, job) for job in jobs]
                    for future in as_completed(futures):
                        name, final, error = future.result()
                        if error:
                            for f in futures:
                                f.cancel()
                            raise ConfigError(f"Rapporten för {name} kunde inte tas fram: {error}")
                        done[name] = Path(final)
                        bar.step(name)
    finally:
        charts.release()
    _say(f"Klart: {len(done)} rapporter i {out} ({fmt_number(time.perf_counter() - started, 1)} s)")
    return [done[k.name] for k in kommuner]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells (Linux; a
    container or ``taskset`` may allow fewer than the machine has), else the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def largest_first(names: list[str], rows: dict[str, int]) -> list[str]:
    """The order ``report --alla`` starts the kommuner in: most table rows first (the
    longest reports), ties in the given order. The last reports to start are then the
    smallest, so the pool's workers finish close together.

    Examples
    --------
    >>> largest_first(["Alvesta", "Lund", "Ljungby", "Malmö"], {"Lund": 9, "Malmö": 12})
    ['Malmö', 'Lund', 'Alvesta', 'Ljungby']
    """
    position = {name: i for i, name in enumerate(names)}
    return sorted(names, key=lambda n: (-rows.get(n, 0), position[n]))


def _share_before_fork() -> None:
    """What every kommun's report would otherwise do again in each worker, done once in the
    parent of ``report --alla``: the imports the report makes on first use, the compiled
    page templates, the indicator kinds, the style sheet and the fonts matplotlib looks up
    and opens when it draws text."""
    import fontTools.subset  # noqa: F401  (PDF font subsets)
    from matplotlib.backends import backend_pdf, backend_svg  # noqa: F401

    pages.compile_all()
    _indicator_kinds()
    with plotting.use_style():
        fig = plt.figure(figsize=(2, 1))
        fig.text(0.1, 0.6, "Trygghet 2025 – 12,5 %")
        fig.text(0.1, 0.2, "Älmhult", fontweight="bold")
        fig.canvas.draw()
        plt.close(fig)


def _write_book(
    path: Path,
    tables: charts.Tables,
    year: int,
    findings: list[str],
    chart_pages: Iterable[_export.BookPage],
) -> None:
    def pages() -> Iterable[Figure | _export.BookPage]:
        fig = _summary_figure(tables, year, findings)
        try:
            yield fig
        finally:
            plt.close(fig)
        yield from chart_pages

    _export.write_pdf_book(path, pages(), title=f"Trygghet i {tables.kommun.name} {year}")
