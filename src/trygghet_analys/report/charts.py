"""The report's charts: one registry the report, the chart book and the notebooks share.

Each :class:`Chart` has an ASCII ``name`` (its file name under ``figurer/``), a Swedish
title, a short Swedish explanation for a council member, a ``draw`` function (tables →
finished Figure, drawn with :mod:`trygghet_analys.plotting`), an alt text and the table
behind it (Swedish headers, for ``tabeller.xlsx``).

Notebooks call :func:`load_tables` once and :func:`show` per chart, so the notebooks
hold no logic::

    from trygghet_analys import charts
    tables = charts.load_tables(data_dir, kommun)
    charts.show("otrygghet_trend", tables, year)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..config import DataFolder, KommunConfig
from ..errors import TrygghetError
from ..stats._values import per_value
from ..stats.estimation import TOTAL_GROUP
from ..survey.codebook import AGE_GROUPS, SEX_CATEGORIES
from ..survey.indicators import load_indicators
from ..vocabulary import Comparison, Source, column_headers, substance_ids, substance_name
from . import plotting

__all__ = [
    "Chart",
    "Tables",
    "available_charts",
    "chart_names",
    "commitment_periods",
    "get_chart",
    "load_tables",
    "preload",
    "release",
    "show",
    "swedish_headers",
]


_TABLE_FILES = {
    "estimates": "survey_estimates",
    "changes": "survey_changes",
    "trends": "survey_trends",
    "response_rates": "survey_response_rates",
    "breaks": "survey_breaks",
    "strata": "survey_strata",
    "wastewater_loads": "wastewater_loads",
    "wastewater_campaigns": "wastewater_campaigns",
    "wastewater_trends": "wastewater_trends",
    "wastewater_detectable": "wastewater_detectable",
    "followup": "commitment_followup",
    "findings": "findings",
    "euda": "wastewater_euda",
    "underlag": "underlag",
    "commitment_registers": "commitment_registers",
    "draft": "commitment_draft",
    "indicators": "survey_indicators",
}


def swedish_headers(frame: pd.DataFrame, extra: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with Swedish column headers (unknown columns keep their name).

    Values in ``group_var`` are translated too ("stratum" → "Område", "sex+age_group" →
    "Kön × ålder").
    """
    names = {**column_headers(), **(extra or {})}
    out = frame.copy()
    if "group_var" in out.columns:  # a few distinct values in thousands of rows
        out["group_var"] = per_value(
            out["group_var"].astype(object),
            lambda v: plotting.group_var_label(v) if isinstance(v, str) else v,
            dtype=object,
        )
    return out.rename(columns={c: names.get(c, c) for c in out.columns})


@dataclass
class Tables:
    """Everything the report's charts and summary read, for one kommun.

    Every table holds only this kommun's rows; a table that does not exist is an empty
    DataFrame. ``notes`` collects Swedish sentences on what is missing ("EUDA-data
    saknas: …"), which the report prints. For one's own analyses (JupyterLab):
    ``responses`` (the canonical respondent table, read on first use) and ``strata``
    go into :func:`~trygghet_analys.estimate_indicators`; ``indicators`` are the
    definitions ``build`` estimated with (``processed/survey_indicators``): the package's
    plus the kommun's ``raw/indikatorer_egna.csv``.
    """

    kommun: KommunConfig
    estimates: pd.DataFrame
    changes: pd.DataFrame
    trends: pd.DataFrame
    response_rates: pd.DataFrame
    breaks: pd.DataFrame
    wastewater_loads: pd.DataFrame
    wastewater_campaigns: pd.DataFrame
    wastewater_trends: pd.DataFrame
    euda: pd.DataFrame
    followup: pd.DataFrame
    ntu: pd.DataFrame
    labels: dict[str, str]
    periods: list[tuple[int, int, str]] = field(default_factory=list)
    #: ``processed/commitment_registers.parquet`` of this kommun: one row per register
    #: (``year``, ``draft``); empty without a medborgarlöfte.
    commitment_registers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: ``processed/commitment_draft.parquet`` of this kommun: next year's draft register
    #: per underlag year, or the reason it could not be made.
    draft: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    #: ``processed/findings.parquet`` of this kommun: every comparison any text speaks of.
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The year before the current commitment period (None without registers).
    base_year: int | None = None
    #: ``processed/underlag.parquet`` of this kommun, every survey year (``year`` column).
    underlag: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: ``processed/wastewater_detectable.parquet`` of this kommun: per campaign year, the
    #: year-to-year change its sampling plan detects.
    wastewater_detectable: pd.DataFrame = field(default_factory=pd.DataFrame)
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    processed: Path | None = None

    @functools.cached_property
    def responses(self) -> pd.DataFrame:
        """The kommun's rows of ``survey_responses`` (read on first use: it is the largest
        table, and only one's own analyses need it)."""
        if self.processed is None:
            return pd.DataFrame()
        path = self.processed / "survey_responses.parquet"
        if not path.is_file():
            return pd.DataFrame()
        frame = pd.read_parquet(path, filters=[("kommun", "==", self.kommun.name)])
        return frame.reset_index(drop=True)

    @property
    def years(self) -> list[int]:
        """Survey years with estimates, ascending.

        Worked out once per ``estimates`` table (again when another table is assigned):
        a report asks some twenty times, and each answer went through every row.
        """
        estimates = self.estimates
        memo = self.__dict__.get("_years_of")
        if memo is None or memo[0] is not estimates:
            found = [] if estimates.empty else sorted({int(y) for y in estimates["year"].dropna()})
            memo = (estimates, found)
            self.__dict__["_years_of"] = memo
        return list(memo[1])

    @property
    def latest_year(self) -> int | None:
        """The latest year with survey estimates, else with a wastewater campaign."""
        if self.years:
            return self.years[-1]
        if not self.wastewater_campaigns.empty:
            return int(self.wastewater_campaigns["year"].max())
        return None


#: Whole processed tables by (path, size, mtime): ``report --alla`` reads each table once in
#: the parent process (:func:`preload`) and its forked workers pick their kommun from it.
_TABLE_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}
#: Row positions of each kommun in a kept table, by the same key: found once in the parent,
#: so that a worker's report takes its rows instead of comparing every row's kommun again.
_KOMMUN_ROWS: dict[tuple[str, int, int], dict[str, np.ndarray]] = {}
_KEEP = {"tables": False}


def _table_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def _whole_table(path: Path) -> pd.DataFrame:
    key = _table_key(path)
    frame = _TABLE_CACHE.get(key)
    if frame is None:
        frame = pd.read_parquet(path)
        if _KEEP["tables"]:  # only while preloaded (report --alla)
            _TABLE_CACHE[key] = frame
            if "kommun" in frame.columns:
                _KOMMUN_ROWS[key] = kommun_rows(frame)
    return frame


def kommun_rows(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each kommun's row positions in ``frame``, ascending (rows without a kommun in none).

    Taking these rows gives the same frame as selecting ``kommun == name``.

    Examples
    --------
    >>> frame = pd.DataFrame({"kommun": ["Lund", "Malmö", None, "Lund"]})
    >>> {k: v.tolist() for k, v in kommun_rows(frame).items()}
    {'Lund': [0, 3], 'Malmö': [1]}
    """
    names = frame["kommun"].astype("string")
    return {str(k): v for k, v in names.groupby(names, sort=False).indices.items()}


def preload(data_dir: str | Path | None) -> None:
    """Read every processed table the report shows once and keep it for :func:`load_tables`.

    Used by ``report --alla`` before it forks one worker per kommun; :func:`release` ends it.
    """
    processed = DataFolder.at(data_dir).processed
    _KEEP["tables"] = True
    for stem in _TABLE_FILES.values():
        path = processed / f"{stem}.parquet"
        if path.is_file():
            _whole_table(path)


def preloaded_rows() -> dict[str, int]:
    """Rows per kommun over the tables :func:`preload` keeps (how much each report shows)."""
    rows: dict[str, int] = {}
    for positions in _KOMMUN_ROWS.values():
        for name, at in positions.items():
            rows[name] = rows.get(name, 0) + len(at)
    return rows


def release() -> None:
    """Forget the tables kept by :func:`preload`."""
    _KEEP["tables"] = False
    _TABLE_CACHE.clear()
    _KOMMUN_ROWS.clear()


def _read(processed: Path, stem: str, kommun: str) -> pd.DataFrame:
    path = processed / f"{stem}.parquet"
    if not path.is_file():
        return pd.DataFrame()
    frame = _whole_table(path)
    if "kommun" not in frame.columns:
        return frame
    rows = _KOMMUN_ROWS.get(_table_key(path)) if _KEEP["tables"] else None
    if rows is not None:
        return _rows_at(frame, rows.get(kommun, _NO_ROWS)).reset_index(drop=True)
    return frame[frame["kommun"].astype("string") == kommun].reset_index(drop=True)


_NO_ROWS = np.array([], dtype=np.intp)


def _rows_at(frame: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """``frame.take(at)`` for ascending, distinct positions (:func:`kommun_rows`): a slice
    when they are one run (the processed tables are sorted by kommun), since ascending
    distinct integers whose last minus first is their count less one are exactly that run.

    Taking copies every column (Arrow's ``take`` on the text columns costs some 50 ms
    of a kommun's report); the slice copies nothing, and pandas' copy on write keeps
    the kept table unchanged if the report alters its frame.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [10, 11, 12, 13]})
    >>> _rows_at(frame, np.array([1, 2])).equals(frame.take([1, 2]))
    True
    >>> _rows_at(frame, np.array([0, 3])).equals(frame.take([0, 3]))
    True
    """
    if len(at) and int(at[-1]) - int(at[0]) + 1 == len(at):
        return frame.iloc[int(at[0]) : int(at[-1]) + 1]
    return frame.take(at)


def commitment_periods(registers: list | pd.DataFrame) -> list[tuple[int, int, str]]:
    """Medborgarlöfte periods from the registers: runs of consecutive register years.

    Parameters
    ----------
    registers
        The ``commitment_registers`` table (``year``, ``draft``), or
        :class:`~trygghet_analys.commitments.Register` objects.

    Returns
    -------
    list of (start_year, end_year, label)
        e.g. ``[(2022, 2024, "Medborgarlöfte 2022–2024")]``; drafts are left out.
    """
    if isinstance(registers, pd.DataFrame):
        registers = registers.itertuples(index=False) if len(registers) else []
    years = sorted({int(r.year) for r in registers if not getattr(r, "draft", False)})
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    out = []
    for run in runs:
        a, b = run[0], run[-1]
        out.append((a, b, f"Medborgarlöfte {a}" if a == b else f"Medborgarlöfte {a}–{b}"))
    return out


def load_tables(data_dir: str | Path | None, kommun: str | None = None) -> Tables:
    """Read the processed tables of one kommun, plus EUDA, NTU and the registers.

    Parameters
    ----------
    data_dir
        The data folder (with ``raw/`` and ``processed/``); None for the default.
    kommun
        The kommun's name or slug; None when the folder holds one kommun.

    Returns
    -------
    Tables
        Missing optional parts (wastewater, EUDA, registers) give empty tables and a
        Swedish note in ``Tables.notes``.
    """
    folder = DataFolder.at(data_dir)
    cfg = folder.kommun(kommun)
    read = functools.partial(_read, folder.processed, kommun=cfg.name)
    frames = {key: read(stem) for key, stem in _TABLE_FILES.items()}
    notes: list[str] = []
    if frames["estimates"].empty:
        notes.append(
            "Skattningar saknas: data/processed/survey_estimates.parquet finns inte "
            "eller saknar kommunen – trygghetsmätningens diagram utelämnas."
        )
    if frames["response_rates"].empty and not frames["strata"].empty:
        strata = frames["strata"]
        cols = ["kommun", "year", "stratum", "sampled", "respondents", "response_rate"]
        if set(cols) <= set(strata.columns):
            frames["response_rates"] = strata[cols].copy()

    campaigns = frames["wastewater_campaigns"]
    euda = frames["euda"].drop(columns="kommun", errors="ignore")
    if campaigns.empty:
        notes.append("Avloppsvattendata saknas: inga mätkampanjer för kommunen.")
    elif euda.empty:
        notes.append(_euda_note(folder))

    indicators = _indicator_definitions(frames["indicators"], frames["estimates"], notes)
    followup = frames["followup"]
    registers = frames["commitment_registers"]
    try:
        from ..vocabulary import load_ntu

        ntu = load_ntu()
    except (TrygghetError, ImportError) as exc:
        ntu = pd.DataFrame(columns=["indicator", "year", "percent", "source"])
        notes.append(f"NTU-jämförelsen kunde inte läsas: {exc}")
    periods = commitment_periods(registers)
    if followup.empty and len(registers) and not frames["estimates"].empty:
        notes.append(
            "Uppföljningen av medborgarlöftet saknas i data/processed/ – kör trygghet-analys build."
        )

    return Tables(
        kommun=cfg,
        estimates=_order_groups(frames["estimates"], cfg),
        changes=frames["changes"],
        trends=frames["trends"],
        response_rates=frames["response_rates"],
        breaks=frames["breaks"],
        wastewater_loads=frames["wastewater_loads"],
        wastewater_campaigns=campaigns,
        wastewater_trends=frames["wastewater_trends"],
        euda=euda,
        followup=followup,
        ntu=ntu,
        labels=dict(
            zip(indicators["id"].astype(str), indicators["label"].astype(str), strict=True)
        ),
        periods=periods,
        commitment_registers=registers,
        draft=frames["draft"],
        notes=notes,
        strata=frames["strata"],
        indicators=indicators,
        processed=folder.processed,
        findings=frames["findings"],
        underlag=frames["underlag"],
        wastewater_detectable=frames["wastewater_detectable"],
        base_year=_kommun_base_year(cfg, registers),
    )


def _indicator_definitions(
    table: pd.DataFrame, estimates: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """The kommun's rows of ``survey_indicators`` as definitions (the columns of
    :func:`~trygghet_analys.load_indicators`): the package's indicators and the kommun's
    own, as ``build`` estimated them. A ``processed/`` written before the table existed
    gives the package's definitions, and a note when an estimated indicator has none."""
    if table.empty:
        table = load_indicators()
        unknown = set() if estimates.empty else set(estimates["indicator"]) - set(table["id"])
        if unknown:
            notes.append(
                "Indikatorernas namn saknas: data/processed/survey_indicators.parquet finns "
                f"inte – {', '.join(sorted(map(str, unknown)))} visas med sitt id (kör "
                "trygghet-analys build)."
            )
        return table
    table = table.drop(columns=["kommun", "own"]).rename(columns={"indicator": "id"})
    return table.reset_index(drop=True)


def _kommun_base_year(cfg: KommunConfig, registers: pd.DataFrame | None = None) -> int | None:
    """The base year as ``build`` took it, from ``kommun.yml`` and the registers' years in
    ``commitment_registers`` (:func:`load_tables` passes them; without, the register files)."""
    from ..config import base_year

    years = None
    if registers is not None:
        years = [int(y) for y in registers["year"]] if "year" in registers.columns else []
    try:
        return base_year(cfg, register_years=years)
    except (TypeError, ValueError):
        return None


_GROUP_ORDER = (TOTAL_GROUP, *SEX_CATEGORIES, *(label for label, _, _ in AGE_GROUPS))


def _order_groups(estimates: pd.DataFrame, cfg: KommunConfig) -> pd.DataFrame:
    """Groups as an ordered categorical: the whole kommun, the areas as in kommun.yml, …"""
    if estimates.empty or "group" not in estimates.columns:
        return estimates
    order = [_GROUP_ORDER[0], *cfg.strata, *_GROUP_ORDER[1:]]
    present = [str(g) for g in pd.unique(estimates["group"].dropna().astype(str))]
    categories = list(dict.fromkeys([g for g in order if g in present] + sorted(present)))
    return estimates.assign(
        group=pd.Categorical(estimates["group"].astype(object), categories=categories, ordered=True)
    )


def _euda_note(folder: DataFolder) -> str:
    """Why the EUDA comparison is missing: no EUDA file, or ``build`` ran before it came."""
    from ..files.euda import find_euda_file

    path = find_euda_file(folder.root)
    if path is None:
        return (
            "EUDA-data saknas: ingen EUDA-fil i data/external/ – avloppsvattnet "
            "jämförs inte med andra städer (hämta den med trygghet-analys fetch-euda)."
        )
    return (
        f"EUDA-data saknas: jämförelsen med {path.name} finns inte i data/processed/ "
        "(kör trygghet-analys build igen)."
    )


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Chart:
    """One chart of the report.

    Attributes
    ----------
    name : ASCII file name without suffix ("otrygghet_trend").
    title : Swedish title (chart book page, HTML heading).
    explanation : a few Swedish sentences for a council member (always true).
    draw : ``(tables, year) -> Figure``, finished with source line and synthetic label.
    data : ``(tables, year) -> DataFrame``, the numbers behind the chart, Swedish headers.
    available : ``(tables, year) -> bool``; False when the chart's data is missing.
    kind : the chart family ("trend", "small_multiples", "group", "ranking",
        "wastewater", "commitments", "response_rates"); the report checker reads it.
    indicator, group_var : the series a survey chart shows.
    notes : ``(gid, sentence)`` pairs: a sentence that describes a drawn element is
        added to the explanation only when the figure draws that element visibly.
    tail : a closing sentence after the notes.
    """

    name: str
    title: str
    explanation: str
    draw: Callable[[Tables, int], Figure]
    data: Callable[[Tables, int], pd.DataFrame]
    available: Callable[[Tables, int], bool]
    kind: str = ""
    indicator: str | None = None
    group_var: str = "total"
    notes: tuple[tuple[str, str], ...] = ()
    tail: str = ""

    def alt(self, fig: Figure) -> str:
        """Swedish alt text of the drawn figure: what it shows and its key numbers."""
        text = plotting.alt_text(fig)
        return text if text and text != "Diagram" else self.title

    def explain(self, fig: Figure) -> str:
        """The explanation for this drawing: only sentences about elements it shows."""
        from .chartfacts import artist_is_shown, figure_artists

        drawn = {
            str(a.get_gid())
            for a in figure_artists(fig)
            if a.get_gid() is not None and artist_is_shown(a)
        }
        parts = [self.explanation, *(s for gid, s in self.notes if gid in drawn), self.tail]
        return " ".join(p for p in parts if p)


def _source(tables: Tables, year: int, what: str = "survey") -> str:
    name = tables.kommun.name
    if what == "wastewater":
        text = f"avloppsvattenanalys, {name} kommun"
        if not tables.euda.empty:
            text += "; EUDA (European Union Drugs Agency)"
        return f"Källa: {text}, egna beräkningar"
    if what == "commitments":
        return f"Källa: medborgarlöftet {name}, trygghetsmätningen {year}, egna beräkningar"
    first = min(tables.years) if tables.years else year
    text = f"Källa: trygghetsmätningen {name} {first}–{year}, egna beräkningar"
    if what == "ntu":
        text += "; riket: Brå, NTU"
    return text


def _finish(ax_or_axes: object, tables: Tables, year: int, what: str = "survey") -> Figure:
    first = np.asarray(ax_or_axes, dtype=object).ravel()[0]
    fig = first.figure
    plotting.finish_figure(
        fig, source=_source(tables, year, what), synthetic=tables.kommun.synthetic
    )
    return fig


def _upto(frame: pd.DataFrame, year: int, column: str = "year") -> pd.DataFrame:
    if frame.empty or column not in frame.columns:
        return frame
    return frame[frame[column].astype(int) <= year]


def _has_indicator(tables: Tables, indicator: str, group_var: str = "total") -> bool:
    est = tables.estimates
    if est.empty:
        return False
    return bool(((est["indicator"] == indicator) & (est["group_var"] == group_var)).any())


def _ntu(tables: Tables, ntu_id: str) -> pd.DataFrame | None:
    if tables.ntu.empty:
        return None
    rows = tables.ntu[tables.ntu["indicator"] == ntu_id]
    return rows if len(rows) else None


def _series_data(
    tables: Tables, year: int, indicator: str, group_var: str = "total"
) -> pd.DataFrame:
    est = _upto(tables.estimates, year)
    rows = est[(est["indicator"] == indicator) & (est["group_var"] == group_var)]
    cols = ["year", "group", "estimate", "ci_low", "ci_high", "n", "suppressed"]
    rows = rows[[c for c in cols if c in rows.columns]].sort_values(["group", "year"])
    return swedish_headers(rows.reset_index(drop=True))


def _marked_changes(tables: Tables, year: int) -> pd.DataFrame:
    """Year-on-year changes to mark in a chart, read from the findings table.

    A marker means the same as "statistiskt säkerställd" in every text: q < 0.05 in
    ``findings``. Without a findings table (an older ``processed/``) nothing is marked.

    Made once per findings table and year (again when another table is assigned): the
    trend charts and the small multiples of a report ask for the same frame, some 3 ms
    each. The charts only select from it.
    """
    f = tables.findings
    memo = tables.__dict__.get("_marked_of")
    if memo is None or memo[0] is not f:
        memo = (f, {})
        tables.__dict__["_marked_of"] = memo
    found = memo[1].get(year)
    if found is None:
        found = memo[1][year] = _changes_to_mark(f, year)
    return found


def _changes_to_mark(f: pd.DataFrame | None, year: int) -> pd.DataFrame:
    """:func:`_marked_changes` of the findings table ``f``, made anew."""
    if f is None or f.empty:
        return pd.DataFrame()
    f = f[
        (f["source"] == Source.SURVEY)
        & (f["comparison"] == Comparison.PREVIOUS_YEAR)
        & (f["to_year"].astype(int) <= year)
    ]
    return pd.DataFrame(
        {
            "kommun": f["kommun"],
            "indicator": f["indicator"],
            "group_var": f["group_var"],
            "group": f["group"],
            "comparison": f["comparison"],
            "year_from": f["from_year"],
            "year_to": f["to_year"],
            "estimate_to": f["value_to"],
            "change": f["change"],
            "significant": f["significant"].astype(bool),
        }
    )


def _wide_axes() -> Axes:
    """A new wide figure's Axes in the package style (trend and wastewater charts)."""
    with plotting.use_style():
        fig, ax = plt.subplots(figsize=(9, 4.8))
    plotting.copy_new_ticks(fig)
    return ax


def _trend(indicator: str, ntu_id: str | None = None) -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = _wide_axes()
        plotting.trend_chart(
            _upto(tables.estimates, year),
            indicator=indicator,
            changes=_marked_changes(tables, year),
            breaks=tables.breaks,
            periods=tables.periods,
            national=_ntu(tables, ntu_id) if ntu_id else None,
            labels=tables.labels,
            ax=ax,
        )
        return _finish(ax, tables, year, "ntu" if ntu_id else "survey")

    def data(tables: Tables, year: int) -> pd.DataFrame:
        out = _series_data(tables, year, indicator)
        national = _ntu(tables, ntu_id) if ntu_id else None
        if national is not None:
            riket = national[["year", "percent"]].rename(
                columns={"year": "År", "percent": "Riket enligt NTU (%)"}
            )
            out = out.merge(riket, on="År", how="left")
        return out

    def available(tables: Tables, year: int) -> bool:
        return _has_indicator(tables, indicator)

    return draw, data, available


def _small_multiples(indicator: str, group_var: str) -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        axes = plotting.small_multiples(
            _upto(tables.estimates, year),
            indicator=indicator,
            group_var=group_var,
            periods=tables.periods,
            breaks=tables.breaks,
            labels=tables.labels,
            changes=_marked_changes(tables, year),
        )
        return _finish(axes, tables, year)

    def data(tables: Tables, year: int) -> pd.DataFrame:
        return _series_data(tables, year, indicator, group_var)

    def available(tables: Tables, year: int) -> bool:
        return _has_indicator(tables, indicator, group_var)

    return draw, data, available


def _group(indicator: str) -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = plotting.group_chart(
            tables.estimates, indicator=indicator, year=year, labels=tables.labels
        )
        return _finish(ax, tables, year)

    def data(tables: Tables, year: int) -> pd.DataFrame:
        est = tables.estimates
        rows = est[(est["indicator"] == indicator) & (est["year"].astype(int) == year)]
        cols = ["group_var", "group", "estimate", "ci_low", "ci_high", "n", "suppressed"]
        return swedish_headers(rows[[c for c in cols if c in rows.columns]].reset_index(drop=True))

    def available(tables: Tables, year: int) -> bool:
        est = tables.estimates
        return bool(
            not est.empty
            and ((est["indicator"] == indicator) & (est["year"].astype(int) == year)).any()
        )

    return draw, data, available


def _base_year(tables: Tables, year: int) -> int:
    earlier = [y for y in tables.years if y <= year - 3]
    return earlier[-1] if earlier else (tables.years[0] if tables.years else year)


def _problem_items(tables: Tables) -> pd.DataFrame:
    est = tables.estimates
    if est.empty:
        return est
    return est[
        est["indicator"].astype("string").str.startswith("problem_").fillna(False)
        & (est["indicator"] != "problemindex")
        & (est["group_var"] == "total")
    ]


def _ranking() -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = plotting.problem_ranking(
            _problem_items(tables),
            year=year,
            base_year=_base_year(tables, year),
            labels=tables.labels,
        )
        return _finish(ax, tables, year)

    def data(tables: Tables, year: int) -> pd.DataFrame:
        base = _base_year(tables, year)
        items = _problem_items(tables)
        wide = items[items["year"].astype(int).isin([year, base])].pivot_table(
            index="indicator", columns="year", values="estimate", aggfunc="first"
        )
        share_in = column_headers()["share_in_year"]  # "Andel {year}"
        now, then = share_in.format(year=year), share_in.format(year=base)
        out = pd.DataFrame(
            {
                "Indikator": [tables.labels.get(i, i) for i in wide.index],
                now: wide[year].to_numpy() if year in wide.columns else np.nan,
                then: wide[base].to_numpy() if base in wide.columns else np.nan,
            }
        )
        return out.sort_values(now, ascending=False).reset_index(drop=True)

    def available(tables: Tables, year: int) -> bool:
        items = _problem_items(tables)
        return bool(len(items) and (items["year"].astype(int) == year).any())

    return draw, data, available


def medicine_note(substance: str) -> str:
    """The caveat for a substance that is also a prescribed medicine ("" for others);
    :func:`trygghet_analys.vocabulary.medicine_note`."""
    from ..vocabulary import medicine_note as note

    return note(substance)


def _wastewater(substance: str) -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = _wide_axes()
        plotting.wastewater_chart(
            _upto(tables.wastewater_campaigns, year),
            substance=substance,
            loads=tables.wastewater_loads if len(tables.wastewater_loads) else None,
            euda=tables.euda if len(tables.euda) else None,
            note=medicine_note(substance) or None,
            ax=ax,
        )
        return _finish(ax, tables, year, "wastewater")

    def data(tables: Tables, year: int) -> pd.DataFrame:
        camp = _upto(tables.wastewater_campaigns, year)
        camp = camp[camp["substance"] == substance]
        cols = [
            "plant",
            "year",
            "campaign",
            "substance",
            "daily_mean",
            "weekday_mean",
            "weekend_mean",
            "n_days",
            "n_below_loq",
            "n_excluded",
            "daily_mean_low",
            "daily_mean_high",
        ]
        out = camp[[c for c in cols if c in camp.columns]].assign(city=tables.kommun.name)
        if len(tables.euda) and "metabolite" in camp.columns:
            ref = tables.euda[
                tables.euda["metabolite"].isin(set(camp["metabolite"].dropna()))
                & (tables.euda["kind"] != "kommun")
            ]
            ref = ref[["year", "city", "kind", "daily_mean"]].assign(substance=substance)
            out = pd.concat([out, ref], ignore_index=True)
        return swedish_headers(out.reset_index(drop=True))

    def available(tables: Tables, year: int) -> bool:
        camp = tables.wastewater_campaigns
        return bool(len(camp) and ((camp["substance"] == substance) & (camp["year"] <= year)).any())

    return draw, data, available


def _commitment_panel() -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = plotting.commitment_panel(tables.followup)
        ids = set(tables.followup.get("indicator", pd.Series(dtype=str)).dropna().astype(str))
        notes = [medicine_note(s) for s in substance_ids() if s in ids and medicine_note(s)]
        if notes:
            plotting.add_note(ax, " ".join(notes))
        return _finish(ax, tables, year, "commitments")

    def data(tables: Tables, year: int) -> pd.DataFrame:
        cols = [
            "commitment_id",
            "focus_area",
            "text",
            "label",
            "latest_year",
            "latest_value",
            "unit",
            "change_base",
            "significant_base",
            "status",
        ]
        fu = tables.followup
        return swedish_headers(fu[[c for c in cols if c in fu.columns]])

    def available(tables: Tables, year: int) -> bool:
        return not tables.followup.empty

    return draw, data, available


def _response_rates() -> tuple[Callable, Callable, Callable]:
    def draw(tables: Tables, year: int) -> Figure:
        ax = plotting.response_rate_chart(_upto(tables.response_rates, year))
        return _finish(ax, tables, year)

    def data(tables: Tables, year: int) -> pd.DataFrame:
        rr = _upto(tables.response_rates, year)
        cols = ["year", "stratum", "sampled", "respondents", "response_rate"]
        return swedish_headers(rr[cols].sort_values(["year", "stratum"]).reset_index(drop=True))

    def available(tables: Tables, year: int) -> bool:
        return not tables.response_rates.empty

    return draw, data, available


def _chart(
    name: str,
    title: str,
    explanation: str,
    parts: tuple,
    *,
    kind: str,
    indicator: str | None = None,
    group_var: str = "total",
    notes: tuple[tuple[str, str], ...] = (),
    tail: str = "",
) -> Chart:
    draw, data, available = parts
    return Chart(
        name, title, explanation, draw, data, available, kind, indicator, group_var, notes, tail
    )


_BAND = ("konfidensintervall", "Bandet visar osäkerheten (95 % konfidensintervall).")
_DIAMOND = (
    "sakerstalld",
    "En romb betyder en statistiskt säkerställd förändring mot året före.",
)
_BREAK_NOTE = ("seriebrott", "En streckad lodrät linje är ett seriebrott: frågan ändrades.")
_NTU_NOTE = ("riket", "De svarta fyrkanterna är nivån i hela Sverige enligt Brås NTU.")


def _trend_chart(name: str, title: str, explanation: str, *, indicator: str) -> Chart:
    """A trend chart of one indicator; with Brå's national level when the indicator has
    an NTU twin (``ntu_id`` in ``resources/indikatorer.csv``)."""
    ntu_id = load_indicators().set_index("id")["ntu_id"].get(indicator) or None
    notes = (_BAND, _DIAMOND, *((_NTU_NOTE,) if ntu_id else ()), _BREAK_NOTE)
    return _chart(
        name,
        title,
        explanation,
        _trend(indicator, ntu_id),
        kind="trend",
        indicator=indicator,
        notes=notes,
    )


@functools.cache
def _charts() -> tuple[Chart, ...]:
    """The chart registry, in report order (one wastewater chart per substance in
    ``resources/substanser.csv``)."""
    return (
        _trend_chart(
            "otrygghet_trend",
            "Otrygghet ute sent en kväll",
            "Andelen invånare som känner sig otrygga ute ensamma sent en kväll i sitt "
            "bostadsområde, eller som inte går ut av oro, år för år.",
            indicator="otrygghet_ute_sent",
        ),
        _chart(
            "otrygghet_omraden",
            "Otrygghet per område",
            "Samma mått som ovan, ett litet diagram per område med samma skala.",
            _small_multiples("otrygghet_ute_sent", "stratum"),
            kind="small_multiples",
            indicator="otrygghet_ute_sent",
            group_var="stratum",
            notes=(
                (
                    "konfidensintervall",
                    "Områdena har färre svarande än hela kommunen, så banden är bredare.",
                ),
                _DIAMOND,
                _BREAK_NOTE,
            ),
        ),
        _chart(
            "problem_rangordning",
            "Problem i bostadsområdet",
            "Hur stor andel som tycker att varje problem är ganska eller mycket stort, det "
            "senaste året jämfört med tre år tidigare. Det största problemet står överst.",
            _ranking(),
            kind="ranking",
            notes=(
                ("konfidensintervall", "Strecken visar osäkerheten (95 % konfidensintervall)."),
            ),
        ),
        _trend_chart(
            "problemindex_trend",
            "Problemindex",
            "Ett samlat mått på hur stora problemen i bostadsområdet upplevs, från 0 (inga "
            "problem) till 6 (mycket stora problem). Indexet är kommunens egen beräkning och "
            "är inte detsamma som polisens publicerade index.",
            indicator="problemindex",
        ),
        _trend_chart(
            "fortroende_polisen_trend",
            "Förtroende för polisen i området",
            "Andelen som har ganska eller mycket stort förtroende för polisens arbete i "
            "bostadsområdet. Högre är bättre.",
            indicator="fortroende_polisen",
        ),
        _trend_chart(
            "ser_polis_trend",
            "Ser polis till fots i området",
            "Andelen som ser polis till fots i sitt bostadsområde varje månad eller oftare – "
            "ett mått på polisens synlighet.",
            indicator="ser_polis_fots",
        ),
        _chart(
            "otrygghet_grupper",
            "Otrygghet per grupp det senaste året",
            "Otryggheten det senaste året per område, kön och ålder.",
            _group("otrygghet_ute_sent"),
            kind="group",
            indicator="otrygghet_ute_sent",
            notes=(
                (
                    "konfidensintervall",
                    "Strecken visar osäkerheten; grupper vars streck inte överlappar skiljer "
                    "sig tydligt åt.",
                ),
            ),
        ),
        *(
            _chart(
                f"avloppsvatten_{s}",
                f"{substance_name(s)} i avloppsvatten",
                "Mängden narkotikarester som når reningsverket per dygn och 1 000 anslutna "
                "invånare, per mätkampanj." + (" " + medicine_note(s) if medicine_note(s) else ""),
                _wastewater(s),
                kind="wastewater",
                notes=(
                    (
                        "spridning",
                        "Strecket vid kampanjmedlet visar hur mycket dygnen inom mätveckan "
                        "skilde sig åt (inte osäkerheten mellan år).",
                    ),
                    ("under_loq", "Ofyllda ringar är dygn under kvantifieringsgränsen."),
                    ("flaggat", "Ofyllda fyrkanter är flaggade dygn som räknas i medlet."),
                    ("utelamnat", "Ofyllda trianglar är flaggade dygn som inte räknas i medlet."),
                    (
                        "euda_kommun",
                        "EUDA-jämförelsen gäller vårkampanjen räknad med EUDA:s regler.",
                    ),
                    ("euda_jamforelsestad", "Jämförelsestaden visas med antal anslutna."),
                    ("euda_sverige", "Grå romber är övriga svenska städer i EUDA:s mätningar."),
                    (
                        "euda_europa",
                        "Linjerna för Norden och Europa är medianen av samma städer alla år.",
                    ),
                ),
                tail="En kampanj är en ögonblicksbild av en vecka.",
            )
            for s in substance_ids()
        ),
        _chart(
            "medborgarlofte_uppfoljning",
            "Uppföljning av medborgarlöftet",
            "Varje indikator som följer upp ett löfte, med status i ord och symbol: för "
            "enkäten och avloppsvattnet utfallet (förbättrad, oförändrad, försämrad eller "
            "otillräckligt underlag), för aktiviteter genomförandet mot målet (uppnått, delvis, "
            "ej uppnått eller inget mål angivet), och det senaste värdet.",
            _commitment_panel(),
            kind="commitments",
        ),
        _chart(
            "svarsfrekvens",
            "Svarsfrekvens",
            "Andelen av de tillfrågade som svarade, per område och för hela kommunen. Låg "
            "svarsfrekvens gör resultaten osäkrare.",
            _response_rates(),
            kind="response_rates",
        ),
    )


def chart_names() -> list[str]:
    """Names of every chart in the registry, in report order."""
    return [c.name for c in _charts()]


def get_chart(name: str) -> Chart:
    """The chart called ``name``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the names that exist).
    """
    for chart in _charts():
        if chart.name == name:
            return chart
    raise ValueError(f"unknown chart {name!r}; charts: {', '.join(chart_names())}")


def available_charts(tables: Tables, year: int) -> list[Chart]:
    """The charts whose data exists for ``year``, in report order."""
    return [c for c in _charts() if c.available(tables, year)]


def show(name: str, tables: Tables, year: int | None = None) -> Figure | None:
    """Draw one chart for a notebook (its explanation is printed under it).

    Parameters
    ----------
    name
        A name from :func:`chart_names`.
    tables
        From :func:`load_tables`.
    year
        The report year; default the latest in the data.

    Returns
    -------
    Figure or None
        The figure (Jupyter displays it), or None when its data is missing (a Swedish
        sentence says so).
    """
    chart = get_chart(name)
    year = tables.latest_year if year is None else int(year)
    if year is None or not chart.available(tables, year):
        print(f"{chart.title}: underlag saknas för {year}.")
        return None
    return chart.draw(tables, year)
