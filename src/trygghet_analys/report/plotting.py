"""Charts for the yearly report: trends, groups, problem items, wastewater, commitments.

Every chart function draws on ``ax`` (a new figure is created when ``ax`` is None) and
returns the Axes; saving is the report's job. All text a reader sees is Swedish, numbers
use a decimal comma (through :mod:`trygghet_analys.formatting`, never the locale) and
colours come from the Okabe–Ito palette in the package style sheet
``resources/trygghet.mplstyle`` (see :func:`use_style`).

Artists the report and the tests look for carry a ``gid``:

========================  ===========================================================
gid                       artist
========================  ===========================================================
``skattning``             the estimate line or points
``konfidensintervall``    the 95 % confidence band (trend) or whiskers (groups)
``sakerstalld``           markers for statistically significant changes
``seriebrott``            vertical dashed line at ``year - 0.5`` for a series break
``medborgarlofte``        shaded medborgarlöfte period
``riket``                 national NTU level
``undertryckt``           "för få svar" text at a suppressed year or group
``hela_kommunen``         the whole kommun's reference line in :func:`group_chart`
``dygn``, ``under_loq``   daily wastewater values; below the LOQ as hollow markers
``euda_*``                EUDA series: comparison cities from kommun.yml, Sweden, …
``status``                status words in :func:`commitment_panel`
``kalla``, ``exempeldata``  source line and synthetic-data label (:func:`finish_figure`)
========================  ===========================================================
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import re
import textwrap
import unicodedata
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources

import matplotlib as mpl
import matplotlib.collections as mcoll
import matplotlib.dates as mdates
import matplotlib.offsetbox as moffsetbox
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .._docstrings import shared_doc
from ..formatting import THOUSANDS, fmt_number, fmt_percent
from ..stats.estimation import TOTAL_GROUP
from ..vocabulary import (
    Comparison,
    read_resource_csv,
    resource_text,
    standard_text,
    substance_title,
)
from .tableformat import format_value

__all__ = [
    "PALETTE",
    "WASTEWATER_UNIT",
    "alt_text",
    "commitment_panel",
    "finish_figure",
    "pack_legends_once",
    "place_titles_lightly",
    "format_number_axis",
    "format_percent_axis",
    "group_chart",
    "group_var_label",
    "problem_ranking",
    "response_rate_chart",
    "reuse_ticks",
    "share_tick_markers",
    "small_multiples",
    "trend_chart",
    "use_style",
    "wastewater_chart",
    "add_note",
]

#: Okabe–Ito palette in the order the style sheet cycles through it.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
_TEXT = "#222222"
_MUTED = "#595959"  # 7:1 on white, WCAG AA for small text
_BREAK = "#595959"
_PERIOD = "#E69F00"

#: Unit of normalised wastewater loads, as printed on charts.
WASTEWATER_UNIT = f"mg/dygn per 1{THOUSANDS}000 invånare"

_STYLE_FILE = "trygghet.mplstyle"

# Swedish alt text per drawn Axes (WCAG 1.1.1), read with alt_text(); weak, so closed
# figures are not kept alive.
_DESCRIPTIONS: weakref.WeakKeyDictionary[Axes, str] = weakref.WeakKeyDictionary()
_INDICATOR_FILE = "indikatorer.csv"

_SIGNIFICANT_LABEL = "Statistiskt säkerställd förändring"
_BREAK_LABEL = "Seriebrott"
_BAND_LABEL = "95 % konfidensintervall"
_NATIONAL_LABEL = "Riket (NTU)"
_LOQ_LABEL = "Under kvantifieringsgränsen (LOQ)"

# Indicators whose survey variable has another name (CONTRIBUTING.md); the rest share it.
_INDICATOR_VARIABLES: dict[str, tuple[str, ...]] = {
    "otrygghet_ute_sent": ("otrygg_ute_sent",),
    "oro_bostadsinbrott": ("oro_inbrott",),
}
_MEAN_INDICATORS = frozenset({"problemindex"})
_NTU_IDS = {"otrygghet_ute_sent": "otrygg_ute_sent", "fortroende_polisen": "fortroende_polisen"}

_GROUP_VAR_LABELS = {
    "total": "Totalt",
    "stratum": "Område",
    "sex": "Kön",
    "age_group": "Ålder",
}


def group_var_label(group_var: str) -> str:
    """Swedish name of a ``group_var``: "Kön", and for a crossing "Kön × ålder".

    Examples
    --------
    >>> group_var_label("sex+age_group")
    'Kön × ålder'
    """
    parts = [_GROUP_VAR_LABELS.get(p, p) for p in str(group_var).split("+")]
    return " × ".join([parts[0], *(p.lower() for p in parts[1:])])


_MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

# Status → (symbol, colour). The symbol's shape and the status text carry the meaning;
# colour only repeats it (WCAG 1.4.1). Colours reach 3:1 against white (graphics).
_STATUS_STYLE: dict[str, tuple[str, str]] = {
    "förbättrad": ("✔", "#007A5A"),
    "oförändrad": ("●", "#595959"),
    "försämrad": ("✖", "#C24E00"),
    "otillräckligt underlag": ("?", "#595959"),
    # genomförande of an activity (a count is never "förbättrad")
    "uppnått": ("■", "#0B3A5B"),
    "delvis": ("◧", "#595959"),
    "ej uppnått": ("□", "#C24E00"),
    "inget mål angivet": ("–", "#595959"),
}


# --------------------------------------------------------------------------- style


@contextlib.contextmanager
def use_style() -> Iterator[None]:
    """Apply the package style sheet ``resources/trygghet.mplstyle`` inside a ``with``.

    The sheet sets the Okabe–Ito colour cycle, font sizes, WCAG AA text colours and
    reproducible SVG/PDF output. Decimal commas are not a style setting: every chart
    function sets :class:`~matplotlib.ticker.FuncFormatter` tick formatters itself.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with use_style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    with mpl.rc_context():
        plt.style.use(_style_settings())
        yield


@functools.cache
def _style_settings() -> dict[str, object]:
    """The style sheet's settings, read once per process.

    ``plt.style.context(path)`` reads and parses the file at every entry, and a report
    enters :func:`use_style` some fifty times; the sheet is part of the package and does
    not change while it runs. ``plt.style.use`` applies them as it would the file's.
    """
    style = resources.files("trygghet_analys") / "resources" / _STYLE_FILE
    with resources.as_file(style) as path:
        return dict(mpl.rc_params_from_file(str(path), use_default_template=False))


#: Parameter text shared by several docstrings (see :mod:`trygghet_analys._docstrings`).
_DOCS = {
    "indicators": """indicators
    Indicator definitions (:func:`~trygghet_analys.define_indicator`,
    ``tables.indicators``) for an indicator of one's own: its label, whether it is a
    mean (axis from 0 to its highest score) and its questions (for series breaks);
    default the package's.""",
    "axis_format": """Parameters
----------
ax
    The Axes.
axis
    ``"x"`` or ``"y"``.

Returns
-------
Axes
    ``ax``.""",
}

_shared_doc = shared_doc(_DOCS)


def _pct_tick(value: float, _pos: object = None) -> str:
    decimals = 0 if abs(100 * value - round(100 * value)) < 1e-6 else 1
    return fmt_percent(float(value), decimals)


def _num_tick(value: float, _pos: object = None) -> str:
    decimals = 0 if abs(value - round(value)) < 1e-9 else 1
    if decimals and abs(10 * value - round(10 * value)) > 1e-6:
        decimals = 2
    return fmt_number(float(value), decimals)


def _year_tick(value: float, _pos: object = None) -> str:
    # Years are labels, not quantities: no digit grouping ("2022", not "2 022").
    return str(round(value))


@_shared_doc
def format_percent_axis(ax: Axes, axis: str = "y") -> Axes:
    """Show fractions on ``axis`` as Swedish percent ("25 %", "2,5 %").

    %(axis_format)s
    """
    return _format_axis(ax, axis, _pct_tick)


@_shared_doc
def format_number_axis(ax: Axes, axis: str = "y") -> Axes:
    """Show numbers on ``axis`` with a decimal comma ("1,5") and grouped thousands.

    %(axis_format)s
    """
    return _format_axis(ax, axis, _num_tick)


def _format_axis(ax: Axes, axis: str, tick: Callable[[float, object], str]) -> Axes:
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(tick))
    return ax


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.xaxis.set_major_formatter(FuncFormatter(_year_tick))


def _new_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    if ax is not None:
        return ax
    with use_style():
        fig, ax = plt.subplots(figsize=figsize)
    copy_new_ticks(fig)
    return ax


def _legend(ax: Axes, *, sources: Sequence[Axes] = (), **kwargs: object) -> None:
    """A legend with one entry per label, in drawing order (of ``ax`` and ``sources``)."""
    handles, names = ax.get_legend_handles_labels()
    for other in sources:
        more, more_names = other.get_legend_handles_labels()
        handles, names = [*handles, *more], [*names, *more_names]
    seen: dict[str, object] = {}
    for handle, name in zip(handles, names, strict=True):
        if name and not name.startswith("_") and name not in seen:
            seen[name] = handle
    if seen:
        ax.legend(list(seen.values()), list(seen.keys()), **kwargs)


# --------------------------------------------------------------------------- labels


def _indicator_table() -> pd.DataFrame | None:
    """The package's indicator definitions, through :mod:`~trygghet_analys.vocabulary` (the
    one reader of ``resources/``; parsed once per text)."""
    return read_resource_csv(_INDICATOR_FILE, dtype=str, keep_default_na=False)


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    if labels is not None:
        return dict(labels)
    table = _indicator_table()
    if table is None or not {"id", "label"} <= set(table.columns):
        return {}
    return dict(zip(table["id"], table["label"], strict=True))


def _label(indicator: str, labels: Mapping[str, str]) -> str:
    return labels.get(indicator, indicator)


#: Indicator definitions given to the chart being drawn (``indicators=``): one's own
#: indicators are read from here before the package's file.
_DEFINITIONS: contextvars.ContextVar[pd.DataFrame | None] = contextvars.ContextVar(
    "trygghet_definitions", default=None
)


@contextlib.contextmanager
def _definitions(indicators: pd.DataFrame | None) -> Iterator[None]:
    token = _DEFINITIONS.set(indicators)
    try:
        yield
    finally:
        _DEFINITIONS.reset(token)


def _with_own_labels(names: dict[str, str], indicators: pd.DataFrame | None) -> dict[str, str]:
    if indicators is None or not {"id", "label"} <= set(indicators.columns):
        return names
    own = dict(zip(indicators["id"].astype(str), indicators["label"].astype(str), strict=True))
    return {**own, **names}


def _indicator_attr(indicator: str, column: str) -> str:
    given = _DEFINITIONS.get()
    if given is not None and column in given.columns and "id" in given.columns:
        hit = given.loc[given["id"] == indicator, column]
        if len(hit):
            return str(hit.iloc[0])
    return _package_attrs(_indicator_table, resource_text(_INDICATOR_FILE), column).get(
        indicator, ""
    )


@functools.cache
def _package_attrs(read: Callable[[], pd.DataFrame | None], _text: str, column: str) -> dict:
    """``column`` of each indicator in the package's definitions (``read()``), its first
    row's, as text: one lookup per text of the file instead of a copy of the table and a
    search of it for every question a chart asks (a report asks some 300)."""
    table = read()
    if table is None or column not in table.columns or "id" not in table.columns:
        return {}
    attrs: dict[str, str] = {}
    for key, value in zip(table["id"], table[column], strict=True):
        attrs.setdefault(key, str(value))
    return attrs


def _is_mean(indicator: str) -> bool:
    kind = _indicator_attr(indicator, "kind")
    return kind == "mean" if kind else indicator in _MEAN_INDICATORS


def _mean_top(indicator: str) -> float:
    """Top of a mean indicator's scale: its highest answer score (6 for the problemindex)."""
    scores = []
    for part in _indicator_attr(indicator, "categories").split("|"):
        _answer, sep, score = part.partition("=")
        with contextlib.suppress(ValueError):
            if sep:
                scores.append(float(score))
    return max(scores) if scores else 6.0


def _mean_label(indicator: str) -> str:
    """Axis label of a mean indicator: "Index (0–6)", or "Medelvärde (0–1)" for one's own."""
    top_value = _mean_top(indicator)
    top = fmt_number(top_value, 0 if top_value.is_integer() else 1)
    unit = _indicator_attr(indicator, "unit").casefold()
    word = "Index" if "index" in unit or indicator in _MEAN_INDICATORS else "Medelvärde"
    return f"{word} (0–{top})"


def _break_variables(indicator: str) -> set[str]:
    names = {indicator, *_INDICATOR_VARIABLES.get(indicator, ())}
    listed = _indicator_attr(indicator, "variables")
    names.update(v for v in re.split(r"[,;|\s]+", listed) if v)
    return names


# --------------------------------------------------------------------------- data


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; it has {list(frame.columns)}")


def _single_kommun(frame: pd.DataFrame, name: str) -> str | None:
    if "kommun" not in frame.columns:
        return None
    kommuner = pd.unique(frame["kommun"].dropna())
    if len(kommuner) > 1:
        raise ValueError(
            f"{name} holds several kommuner ({', '.join(map(str, kommuner))}); "
            "select one kommun before drawing the chart"
        )
    return str(kommuner[0]) if len(kommuner) else None


def _same_kommun(frame: pd.DataFrame, kommun: str | None) -> pd.DataFrame:
    if kommun is None or "kommun" not in frame.columns:
        return frame
    return frame[frame["kommun"] == kommun]


_EST_COLUMNS = ("year", "indicator", "group_var", "group", "estimate", "ci_low", "ci_high")


def _series(estimates: pd.DataFrame, indicator: str, group_var: str, group: str) -> pd.DataFrame:
    """One group's rows, one per year from first to last, missing years as NaN.

    The frame is built from the few selected rows' arrays (:func:`_series_of_rows`), and
    the group is found by comparing a categorical's categories once
    (:func:`_equals_text`): the same frame as the pandas way in :func:`_series_of_rows`'s
    notes, at a fifth of the cost (a report draws some ten series).
    """
    rows = estimates[
        (estimates["indicator"] == indicator)
        & (estimates["group_var"] == group_var)
        & _equals_text(estimates["group"], str(group))
    ]
    if rows.empty:
        raise ValueError(
            f"no estimates of indicator {indicator!r}, {group_var}={group!r}; "
            f"indicators present: {sorted(pd.unique(estimates['indicator']))}"
        )
    return _series_of_rows(rows)


def _equals_text(column: pd.Series, text: str) -> pd.Series | np.ndarray:
    """``column.astype("string") == text``, missing values not equal.

    A categorical of texts (the estimates' ``group``) compares its few categories and
    looks its codes up, instead of turning every row into a string.
    """
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in dtype.categories):
        hits = np.append(np.asarray(dtype.categories == text, dtype=bool), False)
        return hits[column.cat.codes.to_numpy()]  # code -1 (missing) takes the last
    return column.astype("string") == text


_SERIES_COLUMNS = ("estimate", "ci_low", "ci_high")


def _series_of_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`_series` of one group's rows.

    Notes
    -----
    The same frame as the pandas way, which is taken for repeated years (where
    ``reindex`` raises)::

        rows = rows.assign(year=rows["year"].astype(int)).sort_values("year")
        out = rows.set_index("year")[cols].astype(float)
        out["suppressed"] = rows.set_index("year")["suppressed"].astype("boolean").fillna(False)
        out = out.reindex(np.arange(out.index.min(), out.index.max() + 1))
        out["suppressed"] = out["suppressed"].astype("boolean").fillna(False).astype(bool)
    """
    year = rows["year"].astype(int).to_numpy()
    if len(np.unique(year)) != len(year):
        return _series_by_pandas(rows)
    order = np.argsort(year, kind="stable")
    first = year.min()
    years = np.arange(first, year.max() + 1)
    at = year[order] - first
    columns: dict[str, np.ndarray] = {}
    for name in _SERIES_COLUMNS:
        values = np.full(len(years), np.nan)
        values[at] = rows[name].astype(float).to_numpy()[order]
        columns[name] = values
    suppressed = np.zeros(len(years), dtype=bool)
    if "suppressed" in rows.columns:
        flags = rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        suppressed[at] = flags[order]
    columns["suppressed"] = suppressed
    return pd.DataFrame(columns, index=_years_index(year[order], years))


def _years_index(found: np.ndarray, years: np.ndarray) -> pd.Index:
    """The index ``set_index("year").reindex(years)`` gives for the ascending distinct
    ``found`` years: pandas makes two or more equally spaced years a ``RangeIndex`` (and
    keeps it one when reindexing), other years an ``Index``."""
    steps = np.diff(found)
    if len(found) > 1 and (steps == steps[0]).all():
        return pd.RangeIndex(int(years[0]), int(years[-1]) + 1, name="year")
    return pd.Index(years, name="year")


def _series_by_pandas(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`_series_of_rows` the pandas way (its notes)."""
    cols = list(_SERIES_COLUMNS)
    rows = rows.assign(year=rows["year"].astype(int)).sort_values("year")
    out = rows.set_index("year")[cols].astype(float)
    if "suppressed" in rows.columns:
        out["suppressed"] = rows.set_index("year")["suppressed"].astype("boolean").fillna(False)
    else:
        out["suppressed"] = False
    years = np.arange(out.index.min(), out.index.max() + 1)
    out = out.reindex(years)
    out["suppressed"] = out["suppressed"].astype("boolean").fillna(False).astype(bool)
    out.index.name = "year"
    return out


def _marked_rows(
    changes: pd.DataFrame, kommun: str | None, indicator: str, group_var: str, group: str
) -> pd.DataFrame:
    """The changes one trend series marks: the kommun's (:func:`_same_kommun`) significant
    changes from the year before of ``indicator``, ``group_var``, ``group``.

    One selection by the conditions combined as arrays: the same rows as selecting the
    kommun and then the rest with pandas' ``&``, at about half the cost (each pandas
    comparison and ``&`` of a report's 2 000 changes costs some 0,2 ms).
    """
    keep = (
        _is(changes["indicator"], indicator)
        & _is(changes["group_var"], group_var)
        & _is_text(changes["group"], group)
        & _is(changes["comparison"], Comparison.PREVIOUS_YEAR)
        & _flags(changes["significant"])
    )
    if kommun is not None and "kommun" in changes.columns:
        keep &= _is(changes["kommun"], kommun)
    return changes[keep]


def _is(column: pd.Series, value: object) -> np.ndarray:
    """Where ``column == value`` holds, as selecting by it takes rows (missing: not)."""
    return (column == value).to_numpy(dtype=bool, na_value=False)


def _is_text(column: pd.Series, text: str) -> np.ndarray:
    """Where ``column.astype("string") == text`` holds (missing: not); a column of texts
    is compared as it is, since turning it into strings changes only its missing values."""
    if isinstance(column.dtype, pd.StringDtype):
        return _is(column, text)
    return _is(column.astype("string"), text)


def _flags(column: pd.Series) -> np.ndarray:
    """``column.astype("boolean").fillna(False)`` as an array; a bool column as it is."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "b":
        return column.to_numpy()
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _groups_in_order(rows: pd.DataFrame) -> list[str]:
    col = rows["group"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna())
        return [str(c) for c in col.cat.categories if c in present]
    return [str(g) for g in pd.unique(col.dropna())]


# --------------------------------------------------------------------------- trend


def _draw_trend(
    ax: Axes,
    estimates: pd.DataFrame,
    *,
    indicator: str,
    group_var: str,
    group: str,
    changes: pd.DataFrame | None,
    breaks: pd.DataFrame | None,
    break_years: Sequence[int] | None,
    periods: Sequence[tuple[int, int, str]] | None,
    national: pd.DataFrame | None,
    color: str,
    line_label: str,
    name: str,
) -> pd.DataFrame:
    kommun = _single_kommun(estimates, "estimates")
    sig_years: list[tuple[int, str]] = []
    drawn_breaks: list[int] = []
    national_text = ""
    national_top = 0.0
    data = _series(estimates, indicator, group_var, group)
    years = data.index.to_numpy(dtype=float)
    first, last = years.min(), years.max()
    is_mean = _is_mean(indicator)

    for start, end, text in periods or ():
        lo, hi = max(start - 0.5, first - 0.5), min(end + 0.5, last + 0.5)
        if hi > lo:
            ax.axvspan(
                lo, hi, color=_PERIOD, alpha=0.18, lw=0, zorder=0, label=text, gid="medborgarlofte"
            )

    ax.fill_between(
        years,
        data["ci_low"].to_numpy(),
        data["ci_high"].to_numpy(),
        color=color,
        alpha=0.2,
        lw=0,
        label=_BAND_LABEL,
        gid="konfidensintervall",
    )
    ax.plot(
        years,
        data["estimate"].to_numpy(),
        color=color,
        marker="o",
        label=line_label,
        gid="skattning",
        zorder=3,
    )

    if changes is not None and not changes.empty:
        sig = _marked_rows(changes, kommun, indicator, group_var, str(group))
        if not sig.empty:
            diff = (
                sig["change"].astype(float)
                if "change" in sig.columns
                else sig["estimate_to"].astype(float) - sig["estimate_from"].astype(float)
            )
            sig_years = sorted(
                (int(y), "ökning" if d > 0 else "minskning")
                for y, d in zip(sig["year_to"], diff, strict=True)
            )
            ax.plot(
                sig["year_to"].astype(float).to_numpy(),
                sig["estimate_to"].astype(float).to_numpy(),
                linestyle="none",
                marker="D",
                markersize=10,
                markerfacecolor="none",
                markeredgecolor=_TEXT,
                markeredgewidth=1.8,
                zorder=4,
                label=_SIGNIFICANT_LABEL,
                gid="sakerstalld",
            )

    if break_years is None and breaks is not None and not breaks.empty:
        own = _same_kommun(breaks, kommun)
        wanted = _break_variables(indicator)
        hit = own["variable"].isin(wanted)
        if indicator == "problemindex":
            hit |= own["variable"].astype("string").str.startswith("problem_").fillna(False)
        break_years = sorted({int(y) for y in own.loc[hit, "year"]})
    for year in break_years or ():
        if first < year <= last:
            drawn_breaks.append(int(year))
            ax.axvline(
                year - 0.5,
                color=_BREAK,
                linestyle="--",
                lw=1.3,
                zorder=2,
                label=_BREAK_LABEL,
                gid="seriebrott",
            )

    if national is not None and not is_mean and not national.empty:
        nat = national
        if "indicator" in nat.columns:
            ntu = _indicator_attr(indicator, "ntu_id") or _NTU_IDS.get(indicator, indicator)
            nat = nat[nat["indicator"].isin({ntu, indicator})]
        nat = nat[(nat["year"] >= first) & (nat["year"] <= last)]
        if not nat.empty:
            latest_nat = nat.sort_values("year").iloc[-1]
            national_top = float(nat["percent"].astype(float).max()) / 100
            national_text = (
                f" Riket (NTU) {int(latest_nat['year'])}: "
                f"{fmt_percent(float(latest_nat['percent']) / 100)}."
            )
            # ntu_riket.csv holds percent (0–100); the axis holds fractions.
            ax.plot(
                nat["year"].astype(float).to_numpy(),
                nat["percent"].astype(float).to_numpy() / 100,
                linestyle="none",
                marker="s",
                markersize=7,
                color=_TEXT,
                zorder=3,
                label=_NATIONAL_LABEL,
                gid="riket",
            )

    for year in data.index[data["suppressed"]]:
        ax.annotate(
            "för få svar",
            (year, 0),
            xytext=(0, 4),
            textcoords="offset points",
            xycoords=("data", "axes fraction"),
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=_MUTED,
            gid="undertryckt",
        )

    _year_axis(ax)
    ax.set_xlim(first - 0.6, last + 0.6)
    if is_mean:
        ax.set_ylim(0, _mean_top(indicator))
        format_number_axis(ax)
    else:
        top = (
            np.nanmax(data[["estimate", "ci_high"]].to_numpy())
            if data["estimate"].notna().any()
            else 1
        )
        # the national level must stay visible even when it lies far above the kommun's
        top = max(float(top), national_top)
        ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
        format_percent_axis(ax)
    _DESCRIPTIONS[ax] = (
        _describe_series(
            data,
            name=name,
            group=group,
            is_mean=is_mean,
            sig_years=sig_years,
            breaks=drawn_breaks,
            periods=periods or (),
        )
        + national_text
    )
    return data


def _value(value: float, is_mean: bool) -> str:
    return fmt_number(value, 1) if is_mean else fmt_percent(value)


def _years_text(years: Sequence[int]) -> str:
    return ", ".join(str(y) for y in years)


def _describe_series(
    data: pd.DataFrame,
    *,
    name: str,
    group: str,
    is_mean: bool,
    sig_years: Sequence[tuple[int, str]],
    breaks: Sequence[int],
    periods: Sequence[tuple[int, int, str]],
) -> str:
    """Swedish alt text for one trend series: what it shows and its key numbers."""
    shown = data[data["estimate"].notna()]
    first, last = int(data.index.min()), int(data.index.max())
    text = f"Linjediagram: {name}, {group}, {first}–{last}."
    if shown.empty:
        return text + " Inga redovisade värden (för få svar)."
    y0, y1 = int(shown.index[0]), int(shown.index[-1])
    row = shown.iloc[-1]
    text += f" {y1}: {_value(row['estimate'], is_mean)}"
    if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"]):
        text += (
            f" (95 % konfidensintervall {_value(row['ci_low'], is_mean)}"
            f"–{_value(row['ci_high'], is_mean)})"
        )
    text += "."
    if y0 != y1:
        text += f" {y0}: {_value(shown.iloc[0]['estimate'], is_mean)}."
    marked = ", ".join(f"{y} ({way})" for y, way in sig_years)
    text += (
        f" Statistiskt säkerställd förändring från föregående år: {marked}."
        if sig_years
        else " Ingen statistiskt säkerställd förändring från föregående år markerad."
    )
    if breaks:
        text += f" Seriebrott före {_years_text(breaks)}."
    suppressed = [int(y) for y in data.index[data["suppressed"]]]
    if suppressed:
        text += f" För få svar för att redovisa: {_years_text(suppressed)}."
    if periods:
        spans = ", ".join(f"{lbl} ({a})" if a == b else f"{lbl} ({a}–{b})" for a, b, lbl in periods)
        text += f" Markerad period: {spans}."
    return text


@_shared_doc
def trend_chart(
    estimates: pd.DataFrame,
    *,
    indicator: str,
    group_var: str = "total",
    group: str = TOTAL_GROUP,
    changes: pd.DataFrame | None = None,
    breaks: pd.DataFrame | None = None,
    periods: Sequence[tuple[int, int, str]] | None = None,
    national: pd.DataFrame | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    break_years: Sequence[int] | None = None,
    indicators: pd.DataFrame | None = None,
) -> Axes:
    """One indicator over the years with its 95 % confidence band.

    Parameters
    ----------
    estimates
        Estimates table (CONTRIBUTING.md). Uses ``year, indicator, group_var, group,
        estimate, ci_low, ci_high`` and, when present, ``suppressed`` and ``kommun``
        (one kommun only). Suppressed and missing years are gaps in line and band.
    indicator, group_var, group
        Which series.
    changes
        Changes table; rows with ``comparison == "föregående år"`` and ``significant``
        are marked at ``(year_to, estimate_to)`` as "Statistiskt säkerställd förändring".
        Uses ``indicator, group_var, group, comparison, year_to, estimate_to,
        significant`` (and ``kommun``).
    breaks
        Series breaks table (``kommun, variable, year, reason``); a dashed line
        "Seriebrott" is drawn at ``year - 0.5``. The survey variable is mapped to the
        indicator (``otrygg_ute_sent`` → ``otrygghet_ute_sent``, ``oro_inbrott`` →
        ``oro_bostadsinbrott``, any ``problem_*`` → ``problemindex``, otherwise equal).
    periods
        Medborgarlöfte periods ``(start_year, end_year, label)``, shaded from
        ``start_year - 0.5`` to ``end_year + 0.5``.
    national
        National NTU level: ``year, percent`` (percent 0–100, as ``resources/ntu_riket.csv``),
        optionally ``indicator`` (the NTU id). Drawn as squares "Riket (NTU)".
    title
        Axes title; the indicator label by default.
    labels
        Indicator id → Swedish label; by default ``resources/indikatorer.csv``.
    ax
        Axes to draw on; a new figure when None.
    break_years
        Break years to draw instead of those from ``breaks``.

    %(indicators)s

    Returns
    -------
    Axes
        Proportions on a percent axis from 0; the problemindex on a 0–6 axis.

    Examples
    --------
    >>> est = pd.DataFrame({"kommun": "X", "year": [2021, 2022], "indicator": "oro_vald",
    ...     "group_var": "total", "group": "Hela kommunen", "estimate": [0.2, 0.25],
    ...     "se": 0.02, "ci_low": [0.16, 0.21], "ci_high": [0.24, 0.29], "n": 400,
    ...     "suppressed": False})
    >>> ax = trend_chart(est, indicator="oro_vald", labels={"oro_vald": "Oro för våld"})
    >>> ax.get_title()
    'Oro för våld'
    >>> plt.close("all")
    """
    with _definitions(indicators):
        _require(estimates, _EST_COLUMNS, "estimates")
        names = _with_own_labels(_labels(labels), indicators)
        ax = _new_axes(ax)
        with use_style():
            _draw_trend(
                ax,
                estimates,
                indicator=indicator,
                group_var=group_var,
                group=group,
                changes=changes,
                breaks=breaks,
                break_years=break_years,
                periods=periods,
                national=national,
                color=PALETTE[0],
                line_label=str(group),
                name=title if title is not None else _label(indicator, names),
            )
            ax.set_title(title if title is not None else _label(indicator, names))
            ax.set_xlabel("År")
            ax.set_ylabel(_mean_label(indicator) if _is_mean(indicator) else "Andel")
            _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return ax


@_shared_doc
def small_multiples(
    estimates: pd.DataFrame,
    *,
    indicator: str,
    group_var: str,
    periods: Sequence[tuple[int, int, str]] | None = None,
    breaks: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    axes: Sequence[Axes] | np.ndarray | None = None,
    indicators: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
) -> np.ndarray:
    """One small trend panel per group (area, sex or age group) on a shared y axis.

    Parameters
    ----------
    estimates
        Estimates table; uses the same columns as :func:`trend_chart`.
    indicator
        Indicator id.
    group_var
        ``"stratum"``, ``"sex"`` or ``"age_group"``. Panels follow the categorical
        order when ``group`` is categorical, otherwise the order of appearance.
    periods, breaks, labels
        As in :func:`trend_chart`.
    axes
        At least as many Axes as groups; a new figure (up to three panels a row)
        when None.
    changes
        Changes table as in :func:`trend_chart`: each group's significant changes
        from the year before are marked in its panel (and named in the alt text).

    %(indicators)s

    Returns
    -------
    numpy.ndarray
        1-D array of the Axes drawn on, one per group.
    """
    with _definitions(indicators):
        _require(estimates, _EST_COLUMNS, "estimates")
        names = _with_own_labels(_labels(labels), indicators)
        rows = estimates[
            (estimates["indicator"] == indicator) & (estimates["group_var"] == group_var)
        ]
        groups = _groups_in_order(rows)
        if not groups:
            raise ValueError(f"no estimates of indicator {indicator!r} by {group_var!r}")
        if axes is None:
            ncols = min(3, len(groups))
            nrows = -(-len(groups) // ncols)
            with use_style():
                fig, grid = plt.subplots(
                    nrows,
                    ncols,
                    sharex=True,
                    sharey=True,
                    squeeze=False,
                    figsize=(3.4 * ncols + 1.6, 2.9 * nrows + 0.8),
                )
                copy_new_ticks(fig)
                fig.suptitle(
                    f"{_label(indicator, names)} – per {group_var_label(group_var).lower()}",
                    x=0.01,
                    ha="left",
                )
            flat = grid.ravel()
            for extra in flat[len(groups) :]:
                extra.set_visible(False)
        else:
            flat = np.asarray(axes, dtype=object).ravel()
            if len(flat) < len(groups):
                raise ValueError(f"axes holds {len(flat)} Axes but there are {len(groups)} groups")
        used = flat[: len(groups)]
        # Panels may share y (sharey): each draw resets the shared limits, so compute the
        # common top from every panel's data first and apply it once at the end.
        shown = estimates[
            (estimates["indicator"] == indicator) & (estimates["group_var"] == group_var)
        ]
        values = shown[["estimate", "ci_high"]].to_numpy(dtype=float)
        common_top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        with use_style():
            for panel, group in zip(used, groups, strict=True):
                _draw_trend(
                    panel,
                    estimates,
                    indicator=indicator,
                    group_var=group_var,
                    group=group,
                    changes=changes,
                    breaks=breaks,
                    break_years=None,
                    periods=periods,
                    national=None,
                    color=PALETTE[0],
                    line_label="Skattning",
                    name=_label(indicator, names),
                )
                panel.set_title(group, fontsize=11)
            top = (
                _mean_top(indicator)
                if _is_mean(indicator)
                else min(1.0, max(0.05, common_top * 1.15))
            )
            for panel in used:
                panel.set_ylim(0, top)
                # narrow panels: fewer year ticks, so that the years never run together
                panel.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            used[0].set_ylabel(_mean_label(indicator) if _is_mean(indicator) else "Andel")
            _legend(
                used[-1],
                sources=list(used[:-1]),
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                fontsize=8.5,
            )
        return np.asarray(used, dtype=object)


# --------------------------------------------------------------------------- groups


@_shared_doc
def group_chart(
    estimates: pd.DataFrame,
    *,
    indicator: str,
    year: int,
    group_vars: Sequence[str] = ("stratum", "sex", "age_group"),
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    indicators: pd.DataFrame | None = None,
) -> Axes:
    """Dot-and-whisker chart of one year's estimates by group, with 95 % intervals.

    Parameters
    ----------
    estimates
        Estimates table; uses ``year, indicator, group_var, group, estimate, ci_low,
        ci_high`` and ``suppressed`` when present. The ``total`` row, when present,
        is a dashed reference line "Hela kommunen".
    indicator, year
        Which indicator and survey year.
    group_vars
        Group variables in display order, each under a bold heading.
    labels, ax
        As in :func:`trend_chart`.

    %(indicators)s

    Returns
    -------
    Axes
        Groups on the y axis (top to bottom); points ``gid="skattning"``, whiskers
        ``gid="konfidensintervall"``. Suppressed groups read "för få svar".
    """
    with _definitions(indicators):
        _require(estimates, _EST_COLUMNS, "estimates")
        _single_kommun(estimates, "estimates")
        names = _with_own_labels(_labels(labels), indicators)
        rows = estimates[(estimates["indicator"] == indicator) & (estimates["year"] == year)]
        if rows.empty:
            raise ValueError(f"no estimates of indicator {indicator!r} in year {year}")
        ticks: list[str] = []
        headings: list[int] = []
        est, lo, hi, pos, suppressed = [], [], [], [], []
        described: list[tuple[str, float, float, float]] = []
        for gv in group_vars:
            part = rows[rows["group_var"] == gv]
            if part.empty:
                continue
            headings.append(len(ticks))
            ticks.append(group_var_label(gv))
            for group in _groups_in_order(part):
                row = part[part["group"].astype("string") == group].iloc[0]
                y = len(ticks)
                ticks.append(group)
                if pd.isna(row["estimate"]):
                    suppressed.append(y)
                    continue
                pos.append(y)
                described.append((group, float(row["estimate"]), row["ci_low"], row["ci_high"]))
                est.append(float(row["estimate"]))
                lo.append(float(row["ci_low"]))
                hi.append(float(row["ci_high"]))
        if not ticks:
            raise ValueError(
                f"no groups of {list(group_vars)} for indicator {indicator!r} in year {year}"
            )
        ax = _new_axes(ax, figsize=(8, 0.38 * len(ticks) + 1.4))
        is_mean = _is_mean(indicator)
        with use_style():
            total = rows[rows["group_var"] == "total"]["estimate"].dropna()
            if len(total):
                ax.axvline(
                    float(total.iloc[0]),
                    color=_MUTED,
                    linestyle="--",
                    lw=1.2,
                    label=TOTAL_GROUP,
                    gid="hela_kommunen",
                )
            ax.hlines(
                pos,
                lo,
                hi,
                color=PALETTE[0],
                lw=2.5,
                alpha=0.6,
                label=_BAND_LABEL,
                gid="konfidensintervall",
            )
            ax.plot(
                est,
                pos,
                linestyle="none",
                marker="o",
                markersize=8,
                color=PALETTE[0],
                label="Skattning",
                gid="skattning",
                zorder=3,
            )
            for y in suppressed:
                ax.text(
                    0.01,
                    y,
                    "för få svar",
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    fontsize=9,
                    color=_MUTED,
                    gid="undertryckt",
                )
            ax.set_yticks(range(len(ticks)), ticks)
            for i in headings:
                ax.get_yticklabels()[i].set_fontweight("bold")
            ax.tick_params(axis="y", length=0)
            ax.set_ylim(len(ticks) - 0.4, -0.6)
            ax.grid(axis="x", visible=True)
            ax.grid(axis="y", visible=False)
            if is_mean:
                ax.set_xlim(0, _mean_top(indicator))
                format_number_axis(ax, "x")
            else:
                top = max([*hi, *total.astype(float)], default=1.0)
                ax.set_xlim(0, min(1.0, max(0.05, top * 1.1)))
                format_percent_axis(ax, "x")
            ax.set_title(f"{_label(indicator, names)} {year}")
            _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        parts = [
            f"{g} {_value(e, is_mean)} ({_value(lo_, is_mean)}–{_value(hi_, is_mean)})"
            for g, e, lo_, hi_ in described
        ]
        text = f"Punktdiagram med 95 % konfidensintervall: {_label(indicator, names)} {year} per grupp."
        if len(total):
            text += f" Hela kommunen {_value(float(total.iloc[0]), is_mean)}."
        if parts:
            text += " " + "; ".join(parts) + "."
        if suppressed:
            text += " För få svar: " + ", ".join(ticks[y] for y in suppressed) + "."
        _DESCRIPTIONS[ax] = text
        return ax


def problem_ranking(
    estimates: pd.DataFrame,
    *,
    year: int,
    base_year: int,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Problem items ranked by their share in ``year``, with ``base_year`` beside.

    Parameters
    ----------
    estimates
        Estimates table; uses the ``total`` rows of indicators starting ``problem_``
        (``year, indicator, group_var, estimate``).
    year, base_year
        Latest year and comparison year (e.g. three years before).
    labels, ax
        As in :func:`trend_chart`.

    Returns
    -------
    Axes
        Horizontal bars, largest share on top: ``ax.containers[0]`` for ``year``,
        ``ax.containers[1]`` for ``base_year``, each with its 95 % interval
        (``gid="konfidensintervall"``, from ``ci_low``/``ci_high`` when present); items
        not asked or suppressed in a year have no bar (width NaN) and read "inte frågat"
        or "för få svar" (from ``suppressed``).
    """
    _require(estimates, ("year", "indicator", "group_var", "estimate"), "estimates")
    _single_kommun(estimates, "estimates")
    names = _labels(labels)
    items = estimates[
        estimates["indicator"].astype("string").str.startswith("problem_").fillna(False)
        & (estimates["group_var"] == "total")
    ]

    def wide_of(column: str) -> pd.DataFrame:
        if column not in items.columns:
            return pd.DataFrame(index=pd.unique(items["indicator"]))
        return items.pivot_table(
            index="indicator", columns="year", values=column, aggfunc="first", dropna=False
        )

    wide = wide_of("estimate")
    if year not in wide.columns:
        raise ValueError(f"no estimates of the problem questions in year {year}")

    def column(frame: pd.DataFrame, y: int) -> pd.Series:
        if y in frame.columns:
            return frame[y].astype(float).reindex(wide.index)
        return pd.Series(np.nan, index=wide.index)

    latest = wide[year].astype(float)
    base = column(wide, base_year)
    lows, highs = wide_of("ci_low"), wide_of("ci_high")
    if "suppressed" in items.columns:
        flags = items.assign(suppressed=items["suppressed"].astype("boolean").fillna(False))
        hidden = flags.pivot_table(
            index="indicator", columns="year", values="suppressed", aggfunc="any"
        )
    else:
        hidden = pd.DataFrame(index=wide.index)
    order = latest.sort_values(ascending=False, na_position="last").index
    latest, base = latest.reindex(order), base.reindex(order)
    ax = _new_axes(ax, figsize=(8, 0.45 * len(order) + 1.6))
    y = np.arange(len(order), dtype=float)

    def missing_text(indicator: str, y_: int) -> str:
        gone = y_ in hidden.columns and bool(hidden[y_].reindex([indicator]).fillna(False).iloc[0])
        return "för få svar" if gone else "inte frågat"

    with use_style():
        drawn = ((-0.2, latest, year, PALETTE[0]), (0.2, base, base_year, PALETTE[5]))
        for offset, values, when, colour in drawn:
            ax.barh(
                y + offset,
                values.to_numpy(),
                height=0.38,
                color=colour,
                label=str(when),
                gid=f"ar_{when}",
            )
        for offset, values, when, _colour in drawn:
            lo = column(lows, when).reindex(order).to_numpy()
            hi = column(highs, when).reindex(order).to_numpy()
            ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(values.to_numpy())
            if ok.any():
                ax.hlines(
                    (y + offset)[ok],
                    lo[ok],
                    hi[ok],
                    color=_TEXT,
                    lw=1.3,
                    label=_BAND_LABEL,
                    gid="konfidensintervall",
                    zorder=3,
                )
        for yy, indicator, value in zip(y, order, latest.to_numpy(), strict=True):
            top = float(column(highs, year).get(indicator, np.nan))
            at = value if np.isnan(top) else max(value, top)
            ax.text(
                0 if np.isnan(value) else at,
                yy - 0.2,
                " " + (missing_text(indicator, year) if np.isnan(value) else fmt_percent(value)),
                va="center",
                fontsize=9,
                color=_MUTED if np.isnan(value) else _TEXT,
                gid="undertryckt" if np.isnan(value) else None,
            )
        ax.set_yticks(y, [_label(i, names) for i in order])
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(len(order) - 0.4, -0.6)
        ax.grid(axis="x", visible=True)
        ax.grid(axis="y", visible=False)
        top = np.nanmax(
            np.r_[latest.to_numpy(), base.to_numpy(), column(highs, year).to_numpy(), 0.05]
        )
        ax.set_xlim(0, min(1.0, float(top) * 1.25))
        format_percent_axis(ax, "x")
        ax.set_xlabel("Andel som svarar ganska eller mycket stort problem")
        # two lines: the comparison year must be readable whatever the label width
        ax.set_title(f"Problem i bostadsområdet\n{year} jämfört med {base_year}")
        handles, entries = ax.get_legend_handles_labels()
        pairs = dict(zip(entries, handles, strict=True))  # the years' bars, then the interval
        keys = [k for k in (str(year), str(base_year), _BAND_LABEL) if k in pairs]
        ax.legend([pairs[k] for k in keys], keys, loc="lower right")

    def shown(indicator: str, value: float, y_: int) -> str:
        return missing_text(indicator, y_) if np.isnan(value) else fmt_percent(value)

    parts = [
        f"{_label(i, names)} {shown(i, latest[i], year)} ({base_year}: {shown(i, base[i], base_year)})"
        for i in order
    ]
    _DESCRIPTIONS[ax] = (
        f"Stapeldiagram med 95 % konfidensintervall: andel som anser att problemet är "
        f"ganska eller mycket stort i bostadsområdet, {year} jämfört med {base_year}, "
        "störst först. " + "; ".join(parts) + "."
    )
    return ax


# --------------------------------------------------------------------------- wastewater


class _YearTicks(mdates.YearLocator):
    """A tick on one day of every year, as :class:`~matplotlib.dates.YearLocator` (every
    year, ``base`` 1) places it, counted instead of searched.

    ``YearLocator`` asks a dateutil ``rrule`` for the day in each year from the view's
    first year to its last (``rrule.between`` walks the calendar), in every drawing of
    every wastewater chart. The days are those years' ``month``/``day`` at midnight in
    the locator's time zone, as ``YearLocator`` finds them: its search starts at the
    first year's day with the view's microseconds kept, so that day is left out when the
    view starts at a fraction of a second (and with no day found, the view's ends are
    the ticks). ``tests/test_plotting.py`` compares them with ``YearLocator``'s over many
    views.
    """

    def __init__(self, month: int = 1, day: int = 1, tz: object = None) -> None:
        super().__init__(1, month=month, day=day, tz=tz)
        self._day = (month, day)

    def tick_values(self, vmin: datetime.datetime, vmax: datetime.datetime) -> np.ndarray:
        month, day = self._day
        first, last = max(vmin.year, 1) + (vmin.microsecond > 0), min(vmax.year, 9999)
        if first > last:
            return mdates.date2num([vmin, vmax])
        days = [
            vmin.replace(year=y, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
            for y in range(first, last + 1)
        ]
        return self.raise_if_exceeds(mdates.date2num(days))


def _swedish_date_axis(ax: Axes, span_days: float) -> None:
    """Years (ticked at 1 July, mid-year) for long spans; Swedish month names for short ones.

    Month names come from a fixed list, never from the locale.
    """
    if span_days > 400:
        ax.xaxis.set_major_locator(_YearTicks(month=7, day=1))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: str(mdates.num2date(v).year)))
        ax.xaxis.set_minor_locator(_YearTicks())
        return
    ax.xaxis.set_major_locator(mdates.MonthLocator())

    def month(value: float, _pos: object = None) -> str:
        day = mdates.num2date(value)
        return f"{_MONTHS[day.month - 1]} {day.year}"

    ax.xaxis.set_major_formatter(FuncFormatter(month))


def _fold(text: object) -> str:
    """Case- and accent-insensitive key: "Växjö", "VAXJO" → "vaxjo"."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return plain.casefold().strip()


def _euda_positions(ref: pd.DataFrame, when: list, camp: pd.DataFrame) -> pd.DataFrame:
    """x position of EUDA rows: EUDA samples one spring week, drawn at 1 April; the
    kommun's own rows (kind "kommun") at their campaign's position."""
    pos = pd.to_datetime(ref["year"].astype(int).astype(str) + "-04-01")
    out = ref.assign(when=pos.to_numpy())
    if "campaign" in ref.columns and "campaign" in camp.columns:
        by_campaign = dict(zip(camp["campaign"].astype(str), when, strict=False))
        own = (ref["kind"] == "kommun").to_numpy()
        mapped = ref["campaign"].astype(str).map(by_campaign)
        out.loc[own & mapped.notna().to_numpy(), "when"] = mapped[own & mapped.notna().to_numpy()]
    return out


def _thousands(value: object) -> str:
    return fmt_number(float(value), 0) if pd.notna(value) else "okänt antal"


def _draw_euda(
    ax: Axes, ref: pd.DataFrame, camp: pd.DataFrame, means: np.ndarray, kommun: str | None
) -> tuple[str, str]:
    """Draw the EUDA comparison; return (alt-text numbers, the rules note)."""
    parts: list[str] = []
    swe = ref[ref["kind"] == "Sverige"]
    if swe["daily_mean"].notna().any():  # no legend entry for a marker that is not drawn
        ax.plot(
            swe["when"].to_numpy(),
            swe["daily_mean"].astype(float).to_numpy(),
            linestyle="none",
            marker="D",
            markersize=5,
            color="#8C8C8C",
            label="Andra svenska städer (EUDA)",
            gid="euda_sverige",
        )
    cities = ref[ref["kind"] == "jämförelsestad"]
    for i, (city, rows) in enumerate(cities.groupby("city", sort=True)):
        rows = rows.sort_values("when")
        pop = rows["population"].iloc[-1] if "population" in rows.columns else np.nan
        label = f"{city} (EUDA, {_thousands(pop)} anslutna)"
        ax.plot(
            rows["when"].to_numpy(),
            rows["daily_mean"].astype(float).to_numpy(),
            linestyle=":",
            marker="D",
            markersize=7,
            color=PALETTE[(4 + i) % len(PALETTE)],
            label=label,
            gid="euda_jamforelsestad",
        )
        last = rows.iloc[-1]
        parts.append(f"{label} {int(last['year'])}: {fmt_number(last['daily_mean'], 1)}.")
    for kind, gid, style, name in (
        ("Norden (median)", "euda_norden", "-.", "Norden"),
        ("Europa (median)", "euda_europa", "--", "Europa"),
    ):
        line = ref[ref["kind"] == kind].sort_values("when")
        if line.empty:
            continue
        n = sorted(set(line["n_sites"].astype(int))) if "n_sites" in line.columns else []
        sites = f", {n[0]} städer med mätning alla år" if len(n) == 1 else ""
        label = f"{name}, median (EUDA{sites})"
        ax.plot(
            line["when"].to_numpy(),
            line["daily_mean"].astype(float).to_numpy(),
            linestyle=style,
            marker="_",
            markersize=12,
            color=_TEXT if name == "Europa" else PALETTE[2],
            lw=1.2,
            label=label,
            gid=gid,
        )
        last = line.iloc[-1]
        parts.append(f"{label} {int(last['year'])}: {fmt_number(last['daily_mean'], 1)}.")
    own = ref[ref["kind"] == "kommun"]
    note = ""
    if len(own):
        mine = dict(zip(camp["campaign"].astype(str), means, strict=False))
        differs = [
            not np.isclose(v, mine.get(str(c), np.nan), rtol=1e-9, atol=1e-9)
            for c, v in zip(own["campaign"], own["daily_mean"].astype(float), strict=True)
        ]
        name = kommun or "Kommunen"
        if any(differs):
            ax.plot(
                own["when"].to_numpy(),
                own["daily_mean"].astype(float).to_numpy(),
                linestyle="none",
                marker="*",
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=PALETTE[0],
                label=f"{name} med EUDA:s regler",
                gid="euda_kommun",
            )
        years = sorted(set(ref.loc[ref["kind"] != "kommun", "year"].astype(int)))
        years = years or sorted(set(ref["year"].astype(int)))
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        note = (
            f"Jämförelsen med EUDA följer EUDA:s regler: {name}s kampanjer räknade med "
            "dygn under LOQ = 0 och EUDA:s dagregler, vårkampanj mot EUDA:s vårvecka; "
            f"Norden och Europa är medianen av samma städer alla år {span}."
        )
        if "season_matched" in own.columns:
            other = own[~own["season_matched"].astype(bool)]
            for row in other.itertuples(index=False):
                note += (
                    f" {int(row.year)} finns bara en {row.season}kampanj – säsongen "
                    "skiljer sig från EUDA:s."
                )
    return " ".join(parts), note


def add_note(ax: Axes, text: str) -> Axes:
    """Print a caveat under the axes (``gid`` "lakemedel") and add it to the alt text.

    Parameters
    ----------
    ax
        A drawn chart.
    text
        The Swedish caveat, e.g. that a substance is also a prescribed medicine.
    """
    with use_style():
        ax.text(
            0.0,
            -0.04,
            textwrap.fill(text, 110),
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=8,
            color=_TEXT,
            gid="lakemedel",
        )
    _DESCRIPTIONS[ax] = (_DESCRIPTIONS.get(ax, "") + " " + text).strip()
    return ax


def _campaign_spans(day: pd.DataFrame, by_plant: bool) -> dict[object, tuple]:
    """First and last date of each campaign's daily values (per plant when ``by_plant``).

    One pass over the few days of one substance in plain Python: a pandas grouping costs
    more than the days it groups. As a grouping with ``dropna=True``, days without a
    campaign (or plant) belong to none, and a campaign whose dates are all missing spans
    (NaT, NaT).
    """
    campaigns = day["campaign"].tolist()
    plants = day["plant"].tolist() if by_plant else [None] * len(campaigns)
    spans: dict[object, list] = {}
    for campaign, plant, date in zip(campaigns, plants, day["date"].tolist(), strict=True):
        if pd.isna(campaign) or (by_plant and pd.isna(plant)):
            continue
        span = spans.setdefault((campaign, plant) if by_plant else campaign, [pd.NaT, pd.NaT])
        if pd.isna(date):
            continue
        if pd.isna(span[0]) or date < span[0]:
            span[0] = date
        if pd.isna(span[1]) or date > span[1]:
            span[1] = date
    return {key: (first, last) for key, (first, last) in spans.items()}


def _substance_days(
    loads: pd.DataFrame, kommun: str | None, substance: str, camp: pd.DataFrame
) -> pd.DataFrame:
    """The kommun's daily loads of one substance at the plants of its campaigns.

    One selection by the combined conditions instead of one per condition: each
    selection copies every column of the table.
    """
    keep = (loads["substance"] == substance).to_numpy(dtype=bool)
    if kommun is not None and "kommun" in loads.columns:
        keep = keep & (loads["kommun"] == kommun).to_numpy(dtype=bool)
    if "plant" in loads.columns and "plant" in camp.columns:
        keep = keep & loads["plant"].isin(set(camp["plant"])).to_numpy(dtype=bool)
    return loads[keep].assign(date=lambda d: pd.to_datetime(d["date"]))


def _column_values(frame: pd.DataFrame, column: str) -> list:
    """A column's values as Python objects (Timestamps for dates), None where it is missing:
    what ``row.get(column)`` gives in ``iterrows`` without building a Series per row."""
    return frame[column].tolist() if column in frame.columns else [None] * len(frame)


def _campaign_bars(ax: Axes, start: list, end: list, means: np.ndarray) -> None:
    """One horizontal bar per campaign across its days, as ``ax.hlines`` draws it.

    The same artists as one ``ax.hlines(mean, start, end, color=…, lw=2.5)`` call per
    campaign (a LineCollection each, so the SVG and PDF keep one group per campaign),
    without what ``hlines`` repeats per call: unit handling of every argument, masked
    arrays, the collection's data limits measured through its transform, and one
    autoscale request per bar. The data limits grow once by the bars'
    end points, which are what ``hlines`` measures.
    """
    bars = [(s, e, m) for s, e, m in zip(start, end, means, strict=True) if not pd.isna(s)]
    if not bars:
        return
    xaxis = ax.xaxis
    if not xaxis.have_units():
        xaxis.update_units(bars[0][0])
    corners = []
    for s, e, m in bars:
        x0, x1 = float(xaxis.convert_units(s)), float(xaxis.convert_units(e))
        y = float(m)
        lines = mcoll.LineCollection(
            [np.array([[x0, y], [x1, y]])], colors=PALETTE[0], linestyles="solid", label=""
        )
        ax.add_collection(lines, autolim=False)
        lines._internal_update({"color": PALETTE[0], "lw": 2.5})
        corners.extend([(min(x0, x1), y), (max(x0, x1), y)])
    ax.update_datalim(corners)
    ax._request_autoscale_view()


def wastewater_chart(
    campaigns: pd.DataFrame,
    *,
    substance: str,
    loads: pd.DataFrame | None = None,
    euda: pd.DataFrame | None = None,
    note: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Campaign daily means of one substance over time, daily values and EUDA cities.

    Parameters
    ----------
    campaigns
        Campaign table; uses ``year, campaign, substance, metabolite, daily_mean``
        (mg/dygn per 1 000 invånare) and ``plant``, ``kommun`` when present.
    substance
        Substance id (``amfetamin``, ``kokain`` …).
    loads
        Daily loads; uses ``campaign, date, substance, below_loq, load_mg_day_1000``
        (and ``plant``). Daily values are small dots; values below the LOQ are hollow
        circles "Under kvantifieringsgränsen (LOQ)". A campaign's mean is placed at the
        middle of its days and drawn as a bar across them; without loads, at the middle
        of the campaigns' optional ``date_from``/``date_to``, else at 1 July. With
        ``flags``/``excluded`` columns, flagged days are open markers: open squares
        "Flaggat dygn, medräknat" (e.g. ``helgdag``, ``regn``), open triangles
        "Flaggat dygn, ej medräknat" (``bräddning``, ``provtagningsfel``).
        With ``daily_mean_low``/``daily_mean_high`` in ``campaigns`` each mean carries a
        vertical bar "Spridning mellan kampanjens dygn (95 %)".
    euda
        EUDA comparison (:func:`trygghet_analys.wastewater.euda.compare_with_euda`):
        ``year, metabolite, city, country, daily_mean, kind`` and optionally
        ``n_sites, population, campaign, season, season_matched``. EUDA samples one
        spring week, so its values are drawn at 1 April: other Swedish cities as grey
        diamonds, the kommun's comparison cities (kind "jämförelsestad") highlighted
        with their plant size, the Nordic and European balanced-panel medians as lines
        with the number of sites. Kind "kommun" rows (the campaigns recomputed under
        EUDA's rules) are drawn as open stars only when they differ from the campaign
        means; a note beside the legend says which rules the comparison follows and
        when only another season than spring exists.
    note
        A caveat printed under the legend and added to the alt text (e.g. that the
        substance is also a prescribed medicine).
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    Axes
        Dates on x, normalised load (:data:`WASTEWATER_UNIT`) on y from 0.
    """
    _require(campaigns, ("year", "campaign", "substance", "daily_mean"), "campaigns")
    kommun = _single_kommun(campaigns, "campaigns")
    camp = campaigns[campaigns["substance"] == substance]
    if camp.empty:
        raise ValueError(
            f"no campaigns of substance {substance!r}; present: "
            f"{sorted(pd.unique(campaigns['substance'].dropna()))}"
        )
    ax = _new_axes(ax)
    day = None
    if loads is not None and not loads.empty:
        _require(loads, ("campaign", "date", "substance", "below_loq", "load_mg_day_1000"), "loads")
        day = _substance_days(loads, kommun, substance, camp)
    when, start, end = [], [], []
    by_plant = day is not None and "plant" in camp.columns and "plant" in day.columns
    spans = _campaign_spans(day, by_plant) if day is not None else {}
    for campaign, plant, date_from, date_to, year in zip(
        *(_column_values(camp, c) for c in ("campaign", "plant", "date_from", "date_to", "year")),
        strict=True,
    ):
        span = spans.get((campaign, plant) if by_plant else campaign)
        if span is not None:
            first, last = span
            when.append(first + (last - first) / 2)
            start.append(first - pd.Timedelta(hours=12))
            end.append(last + pd.Timedelta(hours=12))
        elif pd.notna(date_from) and pd.notna(date_to):
            first, last = pd.Timestamp(date_from), pd.Timestamp(date_to)
            when.append(first + (last - first) / 2)
            start.append(first - pd.Timedelta(hours=12))
            end.append(last + pd.Timedelta(hours=12))
        else:
            when.append(pd.Timestamp(int(year), 7, 1))
            start.append(pd.NaT)
            end.append(pd.NaT)
    means = camp["daily_mean"].astype(float).to_numpy()
    n_below = n_flagged = n_excluded = 0
    euda_text, euda_note = "", ""
    x = pd.DatetimeIndex(when)
    xs = list(x)
    with use_style():
        if day is not None and len(day):
            below = day["below_loq"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            n_below = int(below.sum())
            values = day["load_mg_day_1000"].astype(float).to_numpy()
            dates = day["date"].to_numpy()
            other_flags = (
                day["flags"].fillna("").astype(str).str.replace("under_loq", "").str.strip("|")
                if "flags" in day.columns
                else pd.Series("", index=day.index)
            )
            excluded = (
                day["excluded"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                if "excluded" in day.columns
                else np.zeros(len(day), dtype=bool)
            )
            flagged = (other_flags != "").to_numpy() & ~excluded
            n_flagged, n_excluded = int(flagged.sum()), int(excluded.sum())
            plain = ~below & ~flagged & ~excluded
            for mask, marker, label, gid in (
                (flagged, "s", "Flaggat dygn, medräknat (t.ex. helgdag, regn)", "flaggat"),
                (excluded, "^", "Flaggat dygn, ej medräknat (bräddning, provtagningsfel)",
                 "utelamnat"),
            ):  # fmt: skip
                if mask.any():
                    ax.plot(
                        dates[mask],
                        values[mask],
                        linestyle="none",
                        marker=marker,
                        markersize=8,
                        markerfacecolor="none",
                        markeredgecolor=PALETTE[3] if gid == "flaggat" else PALETTE[1],
                        markeredgewidth=1.3,
                        label=label,
                        gid=gid,
                    )
            below = below & ~flagged & ~excluded
            ax.plot(
                dates[plain],
                values[plain],
                linestyle="none",
                marker="o",
                markersize=4,
                color=PALETTE[5],
                label="Dygnsvärde",
                gid="dygn",
            )
            if below.any():
                ax.plot(
                    dates[below],
                    values[below],
                    linestyle="none",
                    marker="o",
                    markersize=7,
                    markerfacecolor="none",
                    markeredgecolor=PALETTE[1],
                    markeredgewidth=1.5,
                    label=_LOQ_LABEL,
                    gid="under_loq",
                )
        _campaign_bars(ax, start, end, means)
        if {"daily_mean_low", "daily_mean_high"} <= set(camp.columns):
            low = camp["daily_mean_low"].astype(float).to_numpy()
            high = camp["daily_mean_high"].astype(float).to_numpy()
            ok = ~np.isnan(low) & ~np.isnan(high)
            if ok.any():
                # dark and above the campaign markers: a narrow interval (small next to
                # the comparison cities) stays visible inside its marker
                ax.vlines(
                    x[ok],
                    np.maximum(low[ok], 0.0),
                    high[ok],
                    color="#262626",
                    lw=1.2,
                    zorder=5,
                    label="Spridning mellan kampanjens dygn (95 %)",
                    gid="spridning",
                )
        ax.plot(
            x,
            means,
            linestyle="-" if len(means) > 1 else "none",
            marker="o",
            markersize=8,
            color=PALETTE[0],
            label="Kampanjens dygnsmedelvärde",
            gid="skattning",
            zorder=4,
        )
        if euda is not None and not euda.empty:
            _require(euda, ("year", "metabolite", "city", "daily_mean", "kind"), "euda")
            metabolites = (
                set(camp["metabolite"].dropna()) if "metabolite" in camp.columns else set()
            )
            ref = euda[euda["metabolite"].isin(metabolites)] if metabolites else euda.iloc[0:0]
            ref = _euda_positions(ref, when, camp)
            euda_text, euda_note = _draw_euda(ax, ref, camp, means, kommun)
            xs.extend(ref["when"])
        lo, hi = min(xs), max(xs)
        if day is not None and len(day):
            lo, hi = min(lo, day["date"].min()), max(hi, day["date"].max())
        pad = max(pd.Timedelta(days=20), (hi - lo) * 0.05)
        ax.set_xlim(lo - pad, hi + pad)
        _swedish_date_axis(ax, ((hi - lo) + 2 * pad).days)
        ax.set_ylim(bottom=0)
        ax.margins(y=0.1)
        ax.set_ylim(bottom=0)
        format_number_axis(ax)
        ax.set_ylabel(WASTEWATER_UNIT)
        ax.set_title(substance_title(substance))
        _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        # caveats under the axes: the medicine note, then which EUDA rules were used
        above = None
        for gid, text_, color in (("lakemedel", note, _TEXT), ("euda_regler", euda_note, _MUTED)):
            if not text_:
                continue
            wrapped = textwrap.fill(text_, 110)
            if above is None:
                above = ax.text(
                    0.0,
                    -0.16,
                    wrapped,
                    transform=ax.transAxes,
                    va="top",
                    ha="left",
                    fontsize=8,
                    color=color,
                    gid=gid,
                )
            else:  # directly under the text above, whatever its height
                above = ax.annotate(
                    wrapped,
                    xy=(0.0, 0.0),
                    xycoords=above,
                    xytext=(0, -4),
                    textcoords="offset points",
                    va="top",
                    ha="left",
                    fontsize=8,
                    color=color,
                    gid=gid,
                )
    names = camp["campaign"].astype("string").fillna("").to_numpy()
    parts = [
        f"{name or int(yr)}: {fmt_number(m, 1)}"
        for name, yr, m in zip(names, camp["year"], means, strict=True)
    ]
    text = (
        f"Diagram: {substance_title(substance)} i avloppsvatten, "
        f"dygnsmedelvärde per mätkampanj i {WASTEWATER_UNIT}. " + "; ".join(parts) + "."
    )
    if n_below:
        text += f" {n_below} dygn under kvantifieringsgränsen (LOQ) markerade."
    if n_flagged:
        text += f" {n_flagged} flaggade dygn medräknade (öppna fyrkanter)."
    if n_excluded:
        text += f" {n_excluded} flaggade dygn ej medräknade (öppna trianglar)."
    if note:
        text += " " + note
    if euda_text:
        text += " " + euda_text
    if euda_note:
        text += " " + euda_note
    _DESCRIPTIONS[ax] = text
    return ax


# --------------------------------------------------------------------------- commitments


def _value_text(indicator: str, value: object, unit: object = None) -> str:
    """The latest value as Swedish text, by ``unit`` when given, else by indicator kind."""
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "–"
    if isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    unit = "" if unit is None or pd.isna(unit) else str(unit)  # type: ignore[arg-type]
    if unit == "andel":
        return fmt_percent(number)
    if unit.startswith("index"):
        return fmt_number(number, 1)
    if unit.lower() == "antal":  # "9", not "9 antal": a count needs no unit
        return format_value(number, "amount")
    if unit:  # as the chart's table beside it writes the value (tableformat, "amount")
        return f"{format_value(number, 'amount')} {unit}"
    table_kind = _indicator_attr(indicator, "kind")
    proportion = table_kind == "proportion" or (not table_kind and indicator in _KNOWN_PROPORTIONS)
    if proportion:
        return fmt_percent(number)
    return fmt_number(number, 0 if number == round(number) else 1)


_KNOWN_PROPORTIONS = frozenset(
    {
        "otrygghet_ute_sent",
        "avstatt_aktivitet",
        "oro_bostadsinbrott",
        "oro_vald",
        "utsatt_brott",
        "fortroende_polisen",
        "ser_polis_fots",
        "grannsamverkan",
        "problem_nedskrapning",
        "problem_skadegorelse",
        "problem_klotter",
        "problem_vardslos_biltrafik",
        "problem_buskorning",
        "problem_ungdomsgang",
        "problem_berusade",
        "problem_narkotikapaverkade",
        "problem_narkotikahandel",
        "problem_bostadsinbrott",
        "problem_cykelstolder",
    }
)


def commitment_panel(followup: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Follow-up of the medborgarlöfte: one row per commitment indicator.

    Each row shows a status symbol and the status in words (never colour alone,
    WCAG 1.4.1), the indicator's label and its latest value, grouped under the focus
    area and the commitment text.

    Parameters
    ----------
    followup
        Follow-up table: ``commitment_id, focus_area, text, indicator, label,
        latest_value, status``; status one of "förbättrad", "oförändrad",
        "försämrad", "otillräckligt underlag". Optional: ``unit`` ("andel" → percent,
        "index 0–6", otherwise the number and the unit), ``group_var``/``group`` (a
        group other than ``total`` is added to the label) and ``kommun`` (one only).
        Without ``unit``, proportion indicators are shown as percent.
    ax
        Axes to draw on; a new figure sized to the rows when None.

    Returns
    -------
    Axes
        Axis-less panel; status texts carry ``gid="status"``.
    """
    _require(
        followup,
        ("commitment_id", "focus_area", "text", "indicator", "label", "latest_value", "status"),
        "followup",
    )
    unknown = set(followup["status"].dropna()) - set(_STATUS_STYLE)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)}; allowed: {list(_STATUS_STYLE)}")
    _single_kommun(followup, "followup")
    # Keep the register's order but gather each focus area and commitment in one block.
    area_rank = {a: i for i, a in enumerate(pd.unique(followup["focus_area"]))}
    commitment_rank = {c: i for i, c in enumerate(pd.unique(followup["commitment_id"]))}
    ordered = followup.assign(
        _area=followup["focus_area"].map(area_rank),
        _commitment=followup["commitment_id"].map(commitment_rank),
    ).sort_values(["_area", "_commitment"], kind="stable")
    lines: list[tuple[str, pd.Series | str]] = []
    last_area, last_commitment = None, None
    for _, row in ordered.iterrows():
        if row["focus_area"] != last_area:
            lines.append(("area", str(row["focus_area"])))
            last_area, last_commitment = row["focus_area"], None
        if row["commitment_id"] != last_commitment:
            lines.append(("text", textwrap.shorten(str(row["text"]), 95, placeholder=" …")))
            last_commitment = row["commitment_id"]
        lines.append(("row", row))
    ax = _new_axes(ax, figsize=(9.5, 0.32 * len(lines) + 0.9))
    with use_style():
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(len(lines) - 0.5, -1.3)
        head = {"fontsize": 9, "color": _MUTED, "va": "center"}
        ax.text(0.0, -0.9, "Status", **head)
        ax.text(0.30, -0.9, "Indikator", **head)
        ax.text(1.0, -0.9, "Senaste värde", ha="right", fontsize=9, color=_MUTED, va="center")
        for y, (kind, item) in enumerate(lines):
            if kind == "area":
                ax.text(0.0, y, item, fontsize=11.5, fontweight="bold", va="center", color=_TEXT)
            elif kind == "text":
                ax.text(0.02, y, item, fontsize=9, fontstyle="italic", va="center", color=_MUTED)
            else:
                status = (
                    str(item["status"]) if pd.notna(item["status"]) else "otillräckligt underlag"
                )
                symbol, colour = _STATUS_STYLE[status]
                ax.text(
                    0.03,
                    y,
                    symbol,
                    fontsize=12,
                    color=colour,
                    va="center",
                    ha="center",
                    gid="status_symbol",
                )
                ax.text(
                    0.06,
                    y,
                    status.capitalize(),
                    fontsize=10,
                    color=_TEXT,
                    va="center",
                    gid="status",
                )
                label = str(item["label"] if pd.notna(item["label"]) else item["indicator"])
                group = item.get("group")
                if item.get("group_var") not in (None, "total") and pd.notna(group):
                    label = f"{label} – {group}"
                ax.text(
                    0.30,
                    y,
                    textwrap.shorten(str(label), 60, placeholder=" …"),
                    fontsize=10,
                    color=_TEXT,
                    va="center",
                )
                ax.text(
                    1.0,
                    y,
                    _value_text(str(item["indicator"]), item["latest_value"], item.get("unit")),
                    fontsize=10,
                    color=_TEXT,
                    va="center",
                    ha="right",
                )
        ax.set_title("Uppföljning av medborgarlöftet")
    counts = ordered["status"].fillna("otillräckligt underlag").value_counts()
    summary = ", ".join(f"{counts[k]} {k}" for k in _STATUS_STYLE if k in counts.index)
    rows_text = "; ".join(
        f"{r['label'] if pd.notna(r['label']) else r['indicator']}: {r['status']}"
        for _, r in ordered.iterrows()
    )
    _DESCRIPTIONS[ax] = (
        f"Tabell: uppföljning av medborgarlöftet, {len(ordered)} indikatorer ({summary}). "
        f"{rows_text}."
    )
    return ax


def response_rate_chart(rates: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Response rate per year and area, with the whole kommun in black.

    Parameters
    ----------
    rates
        Response rates: ``kommun, year, stratum, sampled, respondents, response_rate``.
        Each area's line is ``response_rate``; "Hela kommunen" is
        ``sum(respondents) / sum(sampled)`` per year (one kommun only).
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    Axes
        Percent axis from 0 to 100 %; one line per area (``label`` = area name), drawn
        over the wide line of the whole kommun. Areas with the same rate every year
        share one line labelled "A = B".
    """
    _require(rates, ("year", "stratum", "sampled", "respondents", "response_rate"), "rates")
    _single_kommun(rates, "rates")
    ax = _new_axes(ax)
    data = rates.assign(year=rates["year"].astype(int)).sort_values("year")
    with use_style():
        strata = data["stratum"]
        names = (
            [str(c) for c in strata.cat.categories if c in set(strata)]
            if isinstance(strata.dtype, pd.CategoricalDtype)
            else [str(s) for s in pd.unique(strata.dropna())]
        )
        years = np.arange(data["year"].min(), data["year"].max() + 1)
        total = data.groupby("year")[["respondents", "sampled"]].sum().reindex(years)
        whole = (total["respondents"] / total["sampled"]).to_numpy(dtype=float)
        # The whole kommun first and wide, the areas on top and thinner, so both show.
        ax.plot(
            years,
            whole,
            color=_TEXT,
            lw=4.5,
            marker="o",
            markersize=9,
            label=TOTAL_GROUP,
            gid="skattning",
            zorder=2,
        )
        # Areas with exactly the same rates every year would hide each other: one line.
        series: dict[tuple, list[str]] = {}
        for name in names:
            part = data[data["stratum"].astype("string") == name].set_index("year")
            values = part["response_rate"].astype(float).reindex(years).to_numpy()
            key = tuple(np.round(values, 9).tolist())
            series.setdefault(key, []).append(name)
        for i, (key, members) in enumerate(series.items()):
            label = members[0] if len(members) == 1 else " = ".join(members)
            ax.plot(
                years,
                np.asarray(key, dtype=float),
                marker="o",
                markersize=3.5,
                lw=1.6,
                color=PALETTE[(i + 1) % len(PALETTE)],
                label=label,
                gid="omrade",
                zorder=3,
            )
        _year_axis(ax)
        ax.set_ylim(0, 1)
        format_percent_axis(ax)
        ax.set_xlabel("År")
        ax.set_ylabel("Svarsfrekvens")
        ax.set_title("Svarsfrekvens per område")
        _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    rate = (total["respondents"] / total["sampled"]).dropna()
    text = f"Linjediagram: svarsfrekvens per område och år, {years[0]}–{years[-1]}."
    same = [m for m in series.values() if len(m) > 1]
    if same:
        text += " Samma svarsfrekvens varje år: " + "; ".join(", ".join(m) for m in same) + "."
    if len(rate):
        text += f" Hela kommunen {int(rate.index[-1])}: {fmt_percent(rate.iloc[-1])}"
        text += f", {int(rate.index[0])}: {fmt_percent(rate.iloc[0])}." if len(rate) > 1 else "."
    _DESCRIPTIONS[ax] = text
    return ax


def alt_text(target: Axes | Figure | Sequence[Axes] | np.ndarray) -> str:
    """Swedish alternative text for a chart: what it shows and its key numbers.

    Every chart function stores a description of the data it drew; this returns it,
    for the HTML report's ``alt`` attribute (WCAG 2.1, 1.1.1).

    Parameters
    ----------
    target
        An Axes returned by a chart function, the array from :func:`small_multiples`,
        or a Figure (the descriptions of all its Axes, joined).

    Returns
    -------
    str
        The description; for an Axes not drawn by this module, its title (or
        "Diagram").

    Examples
    --------
    >>> est = pd.DataFrame({"kommun": "X", "year": [2021, 2022], "indicator": "oro_vald",
    ...     "group_var": "total", "group": "Hela kommunen", "estimate": [0.2, 0.25],
    ...     "se": 0.02, "ci_low": [0.16, 0.21], "ci_high": [0.24, 0.29], "n": 400,
    ...     "suppressed": False})
    >>> ax = trend_chart(est, indicator="oro_vald", labels={"oro_vald": "Oro för våld"})
    >>> alt_text(ax).split(".")[0]
    'Linjediagram: Oro för våld, Hela kommunen, 2021–2022'
    >>> plt.close("all")
    """
    if isinstance(target, Figure):
        axes = [a for a in target.get_axes() if a.get_visible()]
    elif isinstance(target, Axes):
        axes = [target]
    else:
        axes = list(np.asarray(target, dtype=object).ravel())
    texts = [_DESCRIPTIONS.get(a) or a.get_title() or "Diagram" for a in axes]
    return " ".join(texts) if texts else "Diagram"


# --------------------------------------------------------------------------- figure


class _OnceBoxes:
    """``matplotlib._tight_layout``'s ``martist``: each Axes' layout extent measured once.

    ``tight_layout`` with a ``rect`` measures every Axes twice with the same renderer
    (``_auto_adjust_subplotpars`` runs a second time with the margins of the first) and
    changes nothing of the figure in between, so the second measurement repeats the
    first: ticks placed, labels formatted and measured anew. Here the second gets the
    first's box (the same object, so the same numbers).
    """

    def __init__(self, module: object) -> None:
        self._module = module
        self._boxes: dict[tuple[int, int], tuple[object, object]] = {}

    def _get_tightbbox_for_layout_only(self, obj: object, renderer: object) -> object:
        key = (id(obj), id(renderer))
        found = self._boxes.get(key)
        if found is None or found[0] is not obj:
            box = self._module._get_tightbbox_for_layout_only(obj, renderer)
            found = self._boxes[key] = (obj, box)
        return found[1]

    def __getattr__(self, name: str) -> object:
        return getattr(self._module, name)


@contextlib.contextmanager
def _tight_boxes_once(fig: Figure) -> Iterator[None]:
    """One ``tight_layout`` call measuring each Axes once (:class:`_OnceBoxes`) and
    placing each axis's ticks once (:func:`_ticks_placed_once`); matplotlib's own module
    put back on exit (a matplotlib without it is left as is)."""
    from matplotlib import _tight_layout

    module = getattr(_tight_layout, "martist", None)
    if module is None or not hasattr(module, "_get_tightbbox_for_layout_only"):
        yield
        return
    _tight_layout.martist = _OnceBoxes(module)
    try:
        with _ticks_placed_once(fig):
            yield
    finally:
        _tight_layout.martist = module


@contextlib.contextmanager
def _ticks_placed_once(fig: Figure) -> Iterator[None]:
    """Every axis of ``fig`` reuses its ticks inside the block, as after
    :func:`reuse_ticks`, and places them anew again after it.

    Measuring one Axes for ``tight_layout`` asks for each axis's ticks about five times
    (the axis's extent, the spines, the label and title positions, the sibling axes),
    with nothing in between that they depend on: matplotlib places and formats them
    every time. Inside the block they are placed once per :func:`_tick_key`. On exit
    the axes are as before (the layout moves the Axes, and the drawings that follow
    place the ticks for the new size); an axis already reusing its ticks is left alone.
    """
    wrapped = []
    measuring = []
    for ax in fig.get_axes():
        for axis in ax._axis_map.values():
            if getattr(axis, "_reused_ticks", None) is None and "_update_ticks" not in vars(axis):
                axis._update_ticks = _placing_once(axis, axis._update_ticks)
                wrapped.append(axis)
            if "_get_ticklabel_bboxes" not in vars(axis):
                axis._get_ticklabel_bboxes = _measuring_once(axis, axis._get_ticklabel_bboxes)
                measuring.append(axis)
    try:
        with _one_measurement():
            yield
    finally:
        for axis in wrapped:
            del axis._update_ticks
        for axis in measuring:
            del axis._get_ticklabel_bboxes


def finish_figure(fig: Figure, *, source: str, synthetic: bool) -> Figure:
    """Add the source line and, for synthetic data, the "Exempeldata" label.

    Parameters
    ----------
    fig
        The figure, after all charts are drawn.
    source
        Source text, e.g. ``"Polisens trygghetsmätning, Älmhults kommun"``; printed
        as "Källa: …" (a leading "Källa:" in ``source`` is not repeated).
    synthetic
        Whether the chart is made from the bundled synthetic data; then
        "Exempeldata – inte verkliga resultat" is printed in bold at the top right.

    Returns
    -------
    Figure
        ``fig``, laid out with room for the texts (``gid`` "kalla", "exempeldata").
    """
    text = source.strip()
    if not text.casefold().startswith("källa"):
        text = f"Källa: {text}"
    height = fig.get_figheight()
    bottom = min(0.25, 0.42 / height)
    top = 1 - (min(0.2, 0.34 / height) if synthetic else 0.0)
    share_tick_markers(fig)
    copy_new_ticks(fig)
    place_titles_lightly(fig)
    if fig.get_layout_engine() is None:
        with _tight_boxes_once(fig):
            fig.tight_layout(rect=(0, bottom, 1, top))
    fig.text(
        0.01,
        0.012,
        textwrap.fill(text, 130),
        ha="left",
        va="bottom",
        fontsize=8.5,
        color=_MUTED,
        gid="kalla",
    )
    if synthetic:
        fig.text(
            0.99,
            0.99,
            standard_text("exempeldata"),
            ha="right",
            va="top",
            fontsize=10,
            fontweight="bold",
            color="#A33F00",
            gid="exempeldata",
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": "#FFF4E5",
                "edgecolor": "#A33F00",
                "linewidth": 1,
            },
        )
    return fig


def _tick_key(axis: object) -> tuple:
    """What an axis's ticks depend on: its view, scale, locators, formatters, which tick
    parts show, and the size of its Axes in inches (``nbins="auto"`` counts on it)."""
    ax = axis.axes
    fig = ax.get_figure(root=True)
    box = ax.get_position(original=False)
    w, h = fig.get_size_inches()
    return (
        tuple(float(v) for v in axis.get_view_interval()),
        axis.get_scale(),
        id(axis.major.locator),
        id(axis.major.formatter),
        id(axis.minor.locator),
        id(axis.minor.formatter),
        repr(sorted(axis._major_tick_kw.items())),
        repr(sorted(axis._minor_tick_kw.items())),
        # the chart-book page moves an Axes keeping its size; the size computed back from
        # the new figure fractions can differ in the last bit
        round(float(box.width * w), 9),
        round(float(box.height * h), 9),
    )


def reuse_ticks(fig: Figure) -> Figure:
    """Let every axis of a drawn figure reuse its ticks in the drawings that follow.

    matplotlib places ticks and formats their labels anew in every drawing (PNG, SVG,
    PDF, the chart-book page, the drawings of the legend check), although nothing they
    depend on has changed: the locators and formatters are the most repeated work of a
    report. After this, an axis returns the ticks of its previous drawing when its view,
    scale, locators, formatters, visible tick parts and the size of its Axes in inches
    are the same (:func:`_tick_key`), and places them anew otherwise. The drawings are
    the same as without it (``tests/test_report.py`` compares the bytes).
    """
    place_titles_lightly(fig)
    pack_legends_once(fig)
    for ax in fig.get_axes():
        if "draw" not in vars(ax):
            ax.draw = _drawing_measures_once(ax.draw)
        for axis in ax._axis_map.values():
            if "_get_ticklabel_bboxes" not in vars(axis):
                axis._get_ticklabel_bboxes = _measuring_once(axis, axis._get_ticklabel_bboxes)
            if getattr(axis, "_reused_ticks", None) is not None:
                continue
            place = axis._update_ticks
            axis._reused_ticks = place
            axis._update_ticks = _placing_once(axis, place)
    return fig


#: Set while an Axes places its titles (:func:`_placing_titles`): the y axes then only
#: bring their offset text up to date (:func:`_offset_text_only`).
_PLACING_TITLES: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "trygghet_placing_titles", default=False
)


def place_titles_lightly(fig: Figure) -> Figure:
    """Let every Axes of ``fig`` place its titles without measuring the y axes whole.

    To place a title, matplotlib (``_AxesBase._update_title_position``) calls
    ``yaxis.get_tightbbox`` of the Axes and its siblings only to bring the y axis's
    offset text (the "1e6" above the axis) up to date, and throws the box away: the
    ticks are placed, every tick label measured, the axis label placed beside the
    labels of all sibling axes and measured too. Only the offset text is then read,
    and only when it is shown. Here that call places the ticks and sets the offset
    text; the rest is done only when the offset text is shown (:func:`_offset_text_only`).
    What it skips, the places of the axis label and offset text, is set again from the
    same state by ``Axis.draw`` and ``Axis.get_tightbbox`` before they are drawn or
    measured, so drawings and layouts are the same (``tests/test_plotting.py``).
    """
    for ax in fig.get_axes():
        if "_update_title_position" not in vars(ax):
            ax._update_title_position = _placing_titles(ax._update_title_position)
        if "get_tightbbox" not in vars(ax.yaxis):
            ax.yaxis.get_tightbbox = _offset_text_only(ax.yaxis, ax.yaxis.get_tightbbox)
    return fig


def _placing_titles(place: Callable) -> Callable:
    """``ax._update_title_position`` run with :data:`_PLACING_TITLES` set."""

    def placed(renderer: object) -> None:
        token = _PLACING_TITLES.set(True)
        try:
            place(renderer)
        finally:
            _PLACING_TITLES.reset(token)

    return placed


def _offset_text_only(axis: object, measure: Callable) -> Callable:
    """``yaxis.get_tightbbox`` that, while titles are placed, only places the ticks and
    sets the offset text when the offset text is not shown (returning no box, which the
    title placement does not read); otherwise, or when the axis is not drawn and
    measured afterwards (its Axes hidden or without axes), it is ``measure``."""

    def measured(renderer: object = None, **kwargs: object) -> object:
        if kwargs or not _PLACING_TITLES.get():
            return measure(renderer, **kwargs)
        ax = axis.axes
        if not (axis.get_visible() and ax.axison and ax.get_visible()):
            return measure(renderer)
        axis._update_ticks()
        offset = axis.offsetText
        offset.set_text(axis.major.formatter.get_offset())
        if offset.get_visible() and offset.get_text():
            return measure(renderer)
        return None

    return measured


#: The legend drawing under way (:func:`_drawing_legend_once`): while it is set, the
#: boxes of a legend wrapped by :func:`pack_legends_once` are packed once.
_LEGEND_DRAWING: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "trygghet_legend_drawing", default=None
)


def pack_legends_once(fig: Figure) -> Figure:
    """Let every legend of ``fig`` pack each of its boxes once per drawing.

    A legend is a tree of boxes (a column of rows, each a marker and a text) packed
    by matplotlib at draw time, and every box packs its children anew each time it
    is asked for its size: the legend's extent packs the whole tree, drawing the tree
    packs it again, and each box drawn packs its own subtree once more, so the texts
    of the rows are measured four to six times in one drawing with nothing changed in
    between but where the boxes are put (which their sizes do not depend on). Here
    each box and text is measured once per drawing of the legend and renderer; a new
    drawing measures anew. The drawings are the same (``tests/test_plotting.py``).
    """
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.get_axes())]
    for legend in legends:
        if legend is None or getattr(legend, "_legend_box", None) is None:
            continue
        if "draw" not in vars(legend):
            legend.draw = _drawing_legend_once(legend.draw)
        for box in _legend_boxes(legend._legend_box):
            if isinstance(box, moffsetbox.PackerBase):
                name = "_get_bbox_and_child_offsets"
            elif isinstance(box, moffsetbox.TextArea):
                name = "get_bbox"
            else:
                continue
            if name not in vars(box):
                setattr(box, name, _packed_once(box, getattr(box, name)))
    return fig


def _legend_boxes(box: object) -> Iterator[object]:
    """``box`` and the boxes in it, depth first."""
    yield box
    if isinstance(box, moffsetbox.PackerBase):
        for child in box.get_children():
            yield from _legend_boxes(child)


def _drawing_legend_once(draw: Callable) -> Callable:
    """A legend's ``draw`` in which its boxes are packed once (:func:`pack_legends_once`)."""

    @functools.wraps(draw)
    def drawn(renderer: object) -> object:
        token = _LEGEND_DRAWING.set(object())
        try:
            return draw(renderer)
        finally:
            _LEGEND_DRAWING.reset(token)

    return drawn


def _packed_once(box: object, pack: Callable) -> Callable:
    """A box's packing (``pack(renderer)``) done once per legend drawing, renderer and
    packing settings, and every time outside a legend drawing."""
    memo: dict[object, object] = {}

    def packed(renderer: object) -> object:
        epoch = _LEGEND_DRAWING.get()
        if epoch is None:
            return pack(renderer)
        if memo.get("epoch") is not epoch:
            memo.clear()
            memo["epoch"] = epoch
        key = (
            id(renderer),
            getattr(box, "width", None),
            getattr(box, "height", None),
            getattr(box, "align", None),
            getattr(box, "mode", None),
        )
        found = memo.get(key)
        if found is None:
            found = memo[key] = pack(renderer)
        return found

    return packed


def share_tick_markers(fig: Figure) -> Figure:
    """Let every axis of ``fig`` give a new tick the markers of its first tick themselves.

    matplotlib copies the first tick's properties to every tick it adds, and copies the
    marker of each of its three lines (tick marks and grid line) as a deep copy of the
    whole :class:`~matplotlib.markers.MarkerStyle`, bound method, paths and transforms
    included: the most costly part of making a tick, and a report makes some 300. A
    ``MarkerStyle`` is never changed once made (a line given another marker gets a new
    one), so the new tick's lines can hold the same one; everything else is copied as
    matplotlib copies it. The drawings are the same (``tests/test_plotting.py`` compares
    the ticks' markers and the bytes of a drawing).
    """
    for ax in fig.get_axes():
        for axis in ax._axis_map.values():
            if "_copy_tick_props" not in vars(axis):
                axis._copy_tick_props = _markers_shared(axis._copy_tick_props)
    return fig


#: The lines of a tick that carry a marker.
_TICK_LINES = ("tick1line", "tick2line", "gridline")

#: The artists a tick is made of.
_TICK_PARTS = (*_TICK_LINES, "label1", "label2")


def copy_new_ticks(fig: Figure) -> Figure:
    """Let every axis of ``fig`` make a new tick as a copy of its first tick.

    matplotlib makes every tick of an axis from scratch (three lines and two texts,
    each reading some thirty style settings and building its marker, font and
    transforms) and then copies the first tick's properties onto it
    (``_copy_tick_props``): a report makes some 250 ticks, mostly in ``tight_layout``,
    and making them is most of the cost of building a chart. The first tick already
    holds everything a new tick gets from both steps, so a new tick is here a copy of
    it (:func:`_tick_copy`), and the properties are then copied onto it as before. The
    first tick of an axis is still made by matplotlib. The drawings are the same
    (``tests/test_plotting.py`` compares every tick's state and the bytes of drawings).
    """
    for ax in fig.get_axes():
        for axis in ax._axis_map.values():
            if "_get_tick" not in vars(axis):
                axis._get_tick = _copying_first_tick(axis, axis._get_tick)
    return fig


def _copying_first_tick(axis: object, make: Callable) -> Callable:
    """``axis._get_tick`` returning a copy of the axis's first major (minor) tick when it
    has one, and otherwise what ``make`` makes (the first tick itself)."""

    def get_tick(major: bool) -> object:
        # vars(): the class attribute would make a first tick when there is none
        ticks = vars(axis).get("majorTicks" if major else "minorTicks")
        if not ticks:
            return make(major)
        return _tick_copy(ticks[0])

    return get_tick


def _tick_copy(tick: object) -> object:
    """A tick with the state of ``tick``: its own copies of the tick and of its five
    artists (:func:`_artist_copy`), sharing what matplotlib never changes in place
    (transforms, markers, data arrays it replaces rather than edits)."""
    new = _artist_copy(tick)
    for name in _TICK_PARTS:
        setattr(new, name, _artist_copy(getattr(tick, name)))
    return new


def _artist_copy(artist: object) -> object:
    """A shallow copy of ``artist`` with its own callbacks, sticky edges, font and no
    remembered renderer: the parts an artist changes in place or that a fresh one has
    empty."""
    new = object.__new__(type(artist))
    state = new.__dict__
    state.update(artist.__dict__)
    state["_callbacks"] = mpl.cbook.CallbackRegistry(signals=["pchanged"])
    state["_sticky_edges"] = None
    if "_fontproperties" in state:
        state["_fontproperties"] = state["_fontproperties"].copy()
    if "_renderer" in state:
        state["_renderer"] = None
    return new


def _markers_shared(copy: Callable) -> Callable:
    """``axis._copy_tick_props`` that lets ``copy`` copy everything but the three lines'
    markers (it is handed the empty marker, cheap to copy, instead) and then gives the
    new tick's lines the first tick's markers (:func:`share_tick_markers`)."""

    def copied(src: object, dest: object) -> None:
        if src is None or dest is None:
            copy(src, dest)
            return
        lines = [getattr(src, name) for name in _TICK_LINES]
        markers = [line._marker for line in lines]
        for line in lines:
            line._marker = ""
        try:
            copy(src, dest)
        finally:
            for line, marker in zip(lines, markers, strict=True):
                line._marker = marker
        for name, marker in zip(_TICK_LINES, markers, strict=True):
            getattr(dest, name)._marker = marker

    return copied


def _placing_once(axis: object, place: Callable) -> Callable:
    """``axis._update_ticks`` that calls ``place`` only when :func:`_tick_key` changed
    since its last call, and otherwise returns the ticks ``place`` returned then."""
    memo: dict[str, object] = {}

    def update() -> list:
        key = _tick_key(axis)
        if memo.get("key") != key:
            memo["ticks"] = place()
            memo["key"] = key
        return list(memo["ticks"])

    return update


#: The measurement under way (:func:`_one_measurement`): while it is set, an axis
#: wrapped by :func:`_measuring_once` measures the same tick labels only once.
_MEASURING: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "trygghet_measuring", default=None
)


@contextlib.contextmanager
def _one_measurement() -> Iterator[None]:
    """A block in which nothing changes the tick labels' fonts, rotations or alignment:
    one drawing of an Axes, one ``tight_layout``."""
    token = _MEASURING.set(object())
    try:
        yield
    finally:
        _MEASURING.reset(token)


def _drawing_measures_once(draw: Callable) -> Callable:
    """An Axes' ``draw`` as :func:`_one_measurement`.

    One drawing of an Axes measures each axis's tick labels four to six times: for the
    title's position (the y axis's extent), for the axis itself, and for its label's
    position (the labels of the axis and its siblings), with nothing in between that
    moves or changes them.
    """

    @functools.wraps(draw)  # keeps matplotlib's marks on ``draw`` (rasterization)
    def drawn(renderer: object) -> object:
        with _one_measurement():
            return draw(renderer)

    return drawn


def _label_key(axis: object, ticks: Sequence, renderer: object) -> tuple:
    """What the boxes of ``ticks``' labels depend on within one measurement: the ticks,
    their places and texts, the view and the Axes' place in pixels, the renderer."""
    return (
        id(renderer),
        tuple(
            (id(tick), tick.get_loc(), tick.label1.get_text(), tick.label2.get_text())
            for tick in ticks
        ),
        tuple(float(v) for v in axis.get_view_interval()),
        tuple(float(v) for v in axis.axes.bbox.bounds),
    )


def _measuring_once(axis: object, measure: Callable) -> Callable:
    """``axis._get_ticklabel_bboxes`` that, inside :func:`_one_measurement`, measures
    the same labels (:func:`_label_key`) once and hands out copies of those boxes (so
    the numbers are matplotlib's own); outside one it measures every time."""
    memo: dict[str, object] = {}

    def measured(ticks: Sequence, renderer: object) -> tuple[list, list]:
        epoch = _MEASURING.get()
        if epoch is None:
            return measure(ticks, renderer)
        if memo.get("epoch") is not epoch:
            memo.clear()
            memo["epoch"] = epoch
        key = _label_key(axis, ticks, renderer)
        boxes = memo.get(key)
        if boxes is None:
            boxes = memo[key] = measure(ticks, renderer)
        return [box.frozen() for box in boxes[0]], [box.frozen() for box in boxes[1]]

    return measured
