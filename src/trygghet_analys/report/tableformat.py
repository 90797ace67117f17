"""How each column of a report table is shown: one rule for the HTML tables and the xlsx.

A column's *kind* follows from its key, the English column name behind its Swedish
header (:data:`COLUMN_FORMATS`; for value columns that mix shares and index values, from
each row's indicator): ``year`` ("2025"), ``count``
("4 000"), ``share`` (a fraction shown as "16,5 %"), ``index`` (the 0–6 problemindex,
"1,47"), ``pvalue``, ``percent_number`` (a value already in percent, "24 %"),
``number`` (other decimals, "0,23", "97,1"), ``date``, ``bool`` and ``text``. A value
in a named unit ("antal") is an ``amount``: a count when whole ("9"), else a number.
A difference of two shares (a change, its standard error, a trend's slope per year) is
in percentage points: ``points_change`` ("+1,5 p.e.", "−1,0 p.e.") or ``points`` (a
standard error, "0,9 p.e."), never "1,0 %", which reads as a relative change.

:func:`html_rows` turns a table into the strings of an HTML table; :func:`xlsx_formats`
gives the Excel number format of every numeric cell, so the workbook shows the same
thing (Excel renders the decimal comma and digit groups from the reader's locale).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import vocabulary
from ..formatting import fmt_number, fmt_percent, fmt_signed_points
from ..stats._values import row_tuples
from ..vocabulary import header_keys

__all__ = [
    "COLUMN_FORMATS",
    "DIFFERENCE_KEYS",
    "column_keys",
    "column_kinds",
    "excel_values",
    "html_rows",
    "xlsx_formats",
]

#: How each column is shown, by its KEY (the English column name of the processed tables
#: and ``resources/rubriker.csv``), never by its Swedish header: renaming a header changes
#: no format. ``value``: a share for a proportion indicator, an index value for a mean
#: (per row, see :func:`column_kinds`); ``auto``: by the column's dtype (an integer
#: column a count, a float column a number).
COLUMN_FORMATS: dict[str, str] = {
    # years
    "year": "year",
    "year_from": "year",
    "year_to": "year",
    "from_year": "year",
    "to_year": "year",
    "latest_year": "year",
    "previous_year": "year",
    "base_year": "year",
    "compare_year": "year",
    "ntu_year": "year",
    # counts
    "n": "count",
    "n_years": "count",
    "sampled": "count",
    "respondents": "count",
    "population": "count",
    "n_days": "count",
    "n_below_loq": "count",
    "n_sites": "count",
    "rank": "count",
    "evidence_rank": "count",
    "n_improved": "count",
    "n_unchanged": "count",
    "n_worsened": "count",
    "n_insufficient": "count",
    # shares, p-values, numbers already in percent
    "response_rate": "share",
    "share": "share",
    "share_in_year": "share",
    "p_value": "pvalue",
    "p_value_base": "pvalue",
    "q_value": "pvalue",
    "percent": "percent_number",
    "ntu_percent": "percent_number",
    # a survey indicator's value: share or index value per row
    "estimate": "value",
    "se": "value",
    "ci_low": "value",
    "ci_high": "value",
    "estimate_from": "value",
    "estimate_to": "value",
    "change": "value",
    "se_change": "value",
    "slope": "value",
    "latest_value": "value",
    "previous_value": "value",
    "change_previous": "value",
    "base_value": "value",
    "change_base": "value",
    "compare_value": "value",
    "value_from": "value",
    "value_to": "value",
    # other numbers
    "z": "number",
    "tau": "number",
    "score": "number",
    "concentration_ng_l": "number",
    "loq_ng_l": "number",
    "flow_m3_day": "number",
    "load_mg_day": "number",
    "load_mg_day_1000": "number",
    "daily_mean": "number",
    "weekday_mean": "number",
    "weekend_mean": "number",
    "daily_mean_low": "number",
    "daily_mean_high": "number",
    "n_excluded": "auto",
    "target": "auto",
    "delivered": "auto",
    # dates and yes/no
    "date": "date",
    "date_from": "date",
    "date_to": "date",
    "suppressed": "bool",
    "significant": "bool",
    "significant_previous": "bool",
    "significant_base": "bool",
    "below_loq": "bool",
    "excluded": "bool",
    "season_matched": "bool",
    "activities_met": "bool",
    "met": "bool",
    "reliable": "bool",
    # text
    **dict.fromkeys(
        (
            "kommun indicator label group_var group comparison direction stratum plant "
            "campaign weekday substance metabolite flags season rules city country kind "
            "source variable reason commitment_id focus_area text responsible "
            "indicator_kind implementation effect desired_direction unit trend status "
            "activities_delivered commitment_status measure reasons ntu_source forslag "
            "motivering sentence"
        ).split(),
        "text",
    ),
}
SUPPRESSED_TEXT = "för få svar"

#: Value keys that hold a difference rather than a level, and whether it has a sign: for a
#: proportion they are percentage points ("p.e."), not shares. A table with a ``change``
#: column gives the change's confidence bounds under ``ci_low``/``ci_high`` (the findings).
DIFFERENCE_KEYS: dict[str, bool] = {
    "change": True,
    "change_previous": True,
    "change_base": True,
    "slope": True,
    "se_change": False,
}
_CHANGE_BOUNDS = ("ci_low", "ci_high")
POINTS_UNIT = "\u00a0p.e."

_EXCEL = {
    "year": "0",
    "count": "#,##0",
    "share": "0.0%",
    "index": "0.00",
    "pvalue": "0.000",
    "percent_number": "0",
    "number": "#,##0.00",
    "date": "yyyy-mm-dd",
    # the workbook stores a difference of shares in percentage points (see excel_values)
    "points": '0.0" p.e."',
    "points_change": '+0.0" p.e.";-0.0" p.e.";0.0" p.e."',
}

Kinds = dict[str, "str | list[str]"]


def column_keys(columns: Iterable[object]) -> dict[str, str]:
    """Header → column key for each of ``columns``: a Swedish header through
    ``resources/rubriker.csv`` (:func:`~trygghet_analys.vocabulary.header_keys`, with the
    ``{year}`` templates such as "Andel {year}"), an English key as itself. A column
    with neither keeps its header (its format then follows its dtype).
    """
    known, templates = _header_lookup(vocabulary.resource_text("rubriker.csv"))
    out: dict[str, str] = {}
    for col in columns:
        name = str(col)
        key = known.get(name)
        if key is None:
            key = next((k for pattern, k in templates if pattern.match(name)), name)
            known[name] = key
        out[name] = key
    return out


@functools.lru_cache(maxsize=4)
def _header_lookup(text: str) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """:func:`~trygghet_analys.vocabulary.header_keys` and its ``{year}`` templates
    compiled, for one text of ``rubriker.csv`` (the cache key, so an edited text is read
    anew). A report asks for the keys of some 60 tables, each of which read and parsed
    the file and compiled the templates again. The dict also remembers the key found for
    any other header (a template's or its own)."""
    keys = header_keys()
    templates = [
        (re.compile(re.escape(h).replace(re.escape("{year}"), r"\d{4}") + "$"), k)
        for h, k in keys.items()
        if "{year}" in h
    ]
    return dict(keys), templates


def _column_of(keys: Mapping[str, str], key: str) -> str | None:
    return next((h for h, k in keys.items() if k == key), None)


def _row_kind(
    frame: pd.DataFrame,
    keys: Mapping[str, str],
    indicator_kinds: Mapping[str, str],
    default: str,
) -> list[str]:
    """Per row: "share", "index", "amount" or "number" for the value columns.

    "amount" is a value in a named unit (a ``unit`` other than "andel", such as "antal",
    or a follow-up row of an indicator that is neither a proportion nor a mean): the
    follow-up chart writes a whole one without decimals ("9"), so its table must too;
    :func:`column_kinds` resolves it per cell (:func:`_amount_kind`).
    """
    n = len(frame)
    indicator, unit, kind = (_column_of(keys, k) for k in ("indicator", "unit", "kind"))
    followup = _column_of(keys, "commitment_id") is not None
    if indicator is None and indicator_kinds:
        # a table naming its indicators by their Swedish label (the follow-up chart's)
        labels = _column_of(keys, "label")
        known = labels is not None and frame[labels].astype(str).isin(indicator_kinds).any()
        indicator = labels if known else None
    if indicator is not None:
        ids = frame[indicator].astype(object).tolist()
        units = frame[unit].astype(object).tolist() if unit is not None else [None] * n
        rows = list(zip(ids, units, strict=True))
        try:  # decided once per (indicator, unit): a table repeats them over many rows
            decided = dict.fromkeys(rows)
        except TypeError:  # an unhashable value: one row at a time
            return [_value_row_kind(i, u, indicator_kinds, followup) for i, u in rows]
        for i, u in decided:
            decided[i, u] = _value_row_kind(i, u, indicator_kinds, followup)
        return list(map(decided.__getitem__, rows))
    # the underlag's kind of measure (the same key names the EUDA rows' kind, whose
    # values are no kind of measure: those keep the default)
    kinds = frame[kind].astype(object) if kind is not None else pd.Series([], dtype=object)
    if len(kinds) and set(kinds.astype(str)) <= _MEASURE_KINDS:
        return ["share" if str(v) in ("proportion", "andel") else "index" for v in kinds]
    return [default] * n


_MEASURE_KINDS = frozenset({"proportion", "andel", "mean", "medelvärde"})


def _value_row_kind(
    indicator: object, unit: object, indicator_kinds: Mapping[str, str], followup: bool
) -> str:
    """:func:`_row_kind` of one row with an indicator (and perhaps a unit)."""
    k = indicator_kinds.get(str(indicator))
    named = unit.strip().lower() if isinstance(unit, str) else ""
    if k == "proportion" or named == "andel":
        return "share"
    if k == "mean":
        return "index"
    if named or followup:
        return "amount"
    return "number"


def _amount_kind(value: object) -> str:
    """An "amount" cell's kind: a whole value is a "count" ("9", as the follow-up chart
    writes it), any other a "number" ("9,50")."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "count" if math.isfinite(value) and float(value).is_integer() else "number"
    return "number"


def _resolve_amounts(per_row: list[str], values: pd.Series) -> list[str]:
    """``per_row`` with each "amount" replaced by its cell's kind (:func:`_amount_kind`)."""
    if "amount" not in per_row:
        return per_row
    cells = values.tolist()
    return [_amount_kind(v) if k == "amount" else k for k, v in zip(per_row, cells, strict=True)]


def _by_dtype(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "count"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    return "text"


def column_kinds(
    frame: pd.DataFrame,
    *,
    indicator_kinds: Mapping[str, str] | None = None,
    values: str = "number",
) -> Kinds:
    """The kind of every column (a list for columns whose kind differs by row), from
    :data:`COLUMN_FORMATS` by the column's key (:func:`column_keys`).

    Parameters
    ----------
    frame
        A table with Swedish headers (or English keys).
    indicator_kinds
        Indicator id → "proportion" | "mean" (``resources/indikatorer.csv``), for
        tables with an ``indicator`` column.
    values
        Kind of the value columns when the table says nothing per row: "share" for a
        chart of a proportion, "index" for the problemindex, else "number".
    """
    keys = column_keys(frame.columns)
    per_row: list[str] | None = None
    out: Kinds = {}
    has_change = "change" in keys.values()
    for col in frame.columns:
        name = str(col)
        key = keys[name]
        kind = COLUMN_FORMATS.get(key, "auto")
        if kind == "value":
            if per_row is None:
                per_row = _row_kind(frame, keys, indicator_kinds or {}, values)
            cells = _resolve_amounts(per_row, frame[col])
            signed = DIFFERENCE_KEYS.get(
                key, True if has_change and key in _CHANGE_BOUNDS else None
            )
            out[name] = cells if signed is None else _in_points(cells, signed)
        elif kind == "auto":
            out[name] = _by_dtype(frame[col])
        else:
            out[name] = kind
    return out


def _in_points(kinds: list[str], signed: bool) -> list[str]:
    """A difference column's kinds: each share a percentage-point kind."""
    points = "points_change" if signed else "points"
    return [points if k == "share" else k for k in kinds]


def excel_values(frame: pd.DataFrame, kinds: Kinds) -> pd.DataFrame:
    """``frame`` as ``tabeller.xlsx`` stores it: a difference of shares in percentage
    points (the share × 100), so that the cell holds what its format shows ("−1,0 p.e.";
    an Excel format can scale by 100 only by showing "%"). Other cells as they are.

    Examples
    --------
    >>> frame = pd.DataFrame({"change": [-0.0125, 0.5], "estimate": [0.25, 1.5]})
    >>> kinds = {"change": ["points_change", "index"], "estimate": ["share", "index"]}
    >>> excel_values(frame, kinds)["change"].tolist()
    [-1.25, 0.5]
    """
    out = frame
    for i, col in enumerate(frame.columns):
        kind = kinds.get(str(col))
        if kind is None or ("points" not in kind and "points_change" not in kind):
            continue  # (a list or a single kind; neither is in points)
        per_row = kind if isinstance(kind, list) else [kind] * len(frame)
        rows = [r for r, k in enumerate(per_row) if k in ("points", "points_change")]
        if out is frame:
            out = frame.copy()
        values = pd.to_numeric(out.iloc[:, i], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
        values[rows] = values[rows] * 100
        out[col] = values
    return out


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_value(value: object, kind: str) -> str:
    """One cell as Swedish text."""
    if isinstance(value, np.generic):
        value = value.item()
    if _missing(value):
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    if kind == "year":
        return str(round(v))
    if kind == "amount":
        kind = _amount_kind(v)
    if kind == "count":
        return fmt_number(v, 0)
    if kind == "share":
        return fmt_percent(v, 1)
    if kind == "points_change":
        return fmt_signed_points(v, 1, unit=POINTS_UNIT)
    if kind == "points":
        return f"{fmt_number(100 * v, 1)}{POINTS_UNIT}"
    if kind == "index":
        return fmt_number(v, 2)
    if kind == "pvalue":
        return "< 0,001" if v < 0.001 else fmt_number(v, 3)
    if kind == "percent_number":
        return f"{fmt_number(v, 0)}\u00a0%"
    if isinstance(value, int):
        return fmt_number(v, 0)
    return fmt_number(v, 2 if abs(v) < 10 else 1)


def _kind_at(kinds: Kinds, column: str, row: int) -> str:
    kind = kinds.get(column, "text")
    return kind[row] if isinstance(kind, list) else kind


_VALUE_KINDS = frozenset({"share", "index", "number", "points", "points_change"})


def html_rows(frame: pd.DataFrame, kinds: Kinds) -> list[list[tuple[str, bool]]]:
    """The cells of ``frame`` as (text, is_number) pairs, row by row.

    A value column of a row marked suppressed ("Undertryckt (för få svar)" true)
    reads "för få svar" instead of a dash.
    """
    flag = _column_of(column_keys(frame.columns), "suppressed")
    suppressed = (
        frame[flag].astype("boolean").fillna(False).tolist()
        if flag is not None
        else [False] * len(frame)
    )
    rows = []
    columns = [str(c) for c in frame.columns]
    for i, values in enumerate(row_tuples(frame, name=None)):
        cells = []
        for col, value in zip(columns, values, strict=True):
            kind = _kind_at(kinds, col, i)
            if suppressed[i] and _missing(value) and kind in _VALUE_KINDS:
                cells.append((SUPPRESSED_TEXT, True))
                continue
            text = format_value(value, kind)
            number = kind not in ("text", "bool", "date") and not isinstance(value, str)
            cells.append((text, number))
        rows.append(cells)
    return rows


def xlsx_formats(kinds: Kinds) -> dict[str, str | list[str]]:
    """Excel number formats per column (a list for per-row kinds)."""
    out: dict[str, str | list[str]] = {}
    for col, kind in kinds.items():
        if isinstance(kind, list):
            # looked up once per kind, not per row
            excel = {k: _EXCEL.get(k, _EXCEL["number"]) for k in set(kind)}
            out[col] = list(map(excel.__getitem__, kind))
        elif kind in _EXCEL:
            out[col] = _EXCEL[kind]
    return out
