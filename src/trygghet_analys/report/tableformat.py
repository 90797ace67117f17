"""How each column of a report table is shown: one rule for the HTML tables and the xlsx.

A column's *kind* follows from its Swedish header (and, for value columns that mix
shares and index values, from each row's indicator): ``year`` ("2025"), ``count``
("4 000"), ``share`` (a fraction shown as "16,5 %"), ``index`` (the 0–6 problemindex,
"1,47"), ``pvalue``, ``percent_number`` (a value already in percent, "24 %"),
``number`` (other decimals, "0,23", "97,1"), ``date``, ``bool`` and ``text``.

:func:`html_rows` turns a table into the strings of an HTML table; :func:`xlsx_formats`
gives the Excel number format of every numeric cell, so the workbook shows the same
thing (Excel renders the decimal comma and digit groups from the reader's locale).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..formatting import fmt_number, fmt_percent

__all__ = ["column_kinds", "html_rows", "xlsx_formats"]

YEAR_HEADERS = frozenset(
    {
        "År",
        "Från år",
        "Till år",
        "Senaste år",
        "Föregående år",
        "Året före löftet",
        "Jämförelseår",
        "NTU-år",
        "Basår",
    }
)
COUNT_HEADERS = frozenset(
    {
        "Antal svar",
        "Urval",
        "Svarande",
        "Antal dygn",
        "Dygn under kvantifieringsgränsen",
        "Anslutna invånare",
        "Antal år",
        "Rang",
        "Antal mätplatser",
    }
)
#: Value columns: a share for a proportion indicator, an index value for a mean.
VALUE_HEADERS = frozenset(
    {
        "Skattning",
        "Konfidensintervall, nedre",
        "Konfidensintervall, övre",
        "Standardfel",
        "Skattning från",
        "Skattning till",
        "Förändring",
        "Standardfel för förändringen",
        "Senaste värde",
        "Värde föregående år",
        "Värde året före löftet",
        "Förändring mot föregående år",
        "Förändring mot året före löftet",
        "Jämförelsevärde",
        "Lutning per år (Theil–Sen)",
        "Värde från",
        "Värde till",
        "Förändring, 95 % KI nedre",
        "Förändring, 95 % KI övre",
    }
)
SHARE_HEADERS = frozenset({"Svarsfrekvens"})
PVALUE_PREFIX = "p-värde"
PERCENT_NUMBER_HEADERS = frozenset({"Riket enligt NTU (%)", "Procent"})
SUPPRESSED_HEADER = "Undertryckt (för få svar)"
SUPPRESSED_TEXT = "för få svar"

_EXCEL = {
    "year": "0",
    "count": "#,##0",
    "share": "0.0%",
    "index": "0.00",
    "pvalue": "0.000",
    "percent_number": "0",
    "number": "#,##0.00",
    "date": "yyyy-mm-dd",
}

Kinds = dict[str, "str | list[str]"]


def _row_kind(frame: pd.DataFrame, indicator_kinds: Mapping[str, str], default: str) -> list[str]:
    """Per row: "share" or "index"/"number" for the value columns."""
    n = len(frame)
    if "Indikator-id" in frame.columns:
        ids = frame["Indikator-id"].astype(object).tolist()
        units = frame["Enhet"].astype(object).tolist() if "Enhet" in frame.columns else [None] * n
        out = []
        for i, u in zip(ids, units, strict=True):
            kind = indicator_kinds.get(str(i))
            if kind == "proportion" or (isinstance(u, str) and u.strip().lower() == "andel"):
                out.append("share")
            elif kind == "mean":
                out.append("index")
            else:
                out.append("number")
        return out
    # the underlag's kind of measure (the same header names the EUDA rows' kind, whose
    # values are no kind of measure: those keep the default)
    kinds = frame["Slag"].astype(object) if "Slag" in frame.columns else pd.Series([], dtype=object)
    if len(kinds) and set(kinds.astype(str)) <= _MEASURE_KINDS:
        return ["share" if str(v) in ("proportion", "andel") else "index" for v in kinds]
    return [default] * n


_MEASURE_KINDS = frozenset({"proportion", "andel", "mean", "medelvärde"})


def column_kinds(
    frame: pd.DataFrame,
    *,
    indicator_kinds: Mapping[str, str] | None = None,
    values: str = "number",
) -> Kinds:
    """The kind of every column (a list for columns whose kind differs by row).

    Parameters
    ----------
    frame
        A table with Swedish headers.
    indicator_kinds
        Indicator id → "proportion" | "mean" (``resources/indikatorer.csv``), for
        tables with an "Indikator-id" column.
    values
        Kind of the value columns when the table says nothing per row: "share" for a
        chart of a proportion, "index" for the problemindex, else "number".
    """
    per_row: list[str] | None = None
    out: Kinds = {}
    for col in frame.columns:
        name = str(col)
        series = frame[col]
        if name in YEAR_HEADERS:
            out[name] = "year"
        elif name in COUNT_HEADERS:
            out[name] = "count"
        elif (
            name in SHARE_HEADERS
            or name.startswith("Andel")
            or name.startswith("Konfidensintervall ")
        ):
            out[name] = "share"
        elif name.startswith((PVALUE_PREFIX, "q-värde")):
            out[name] = "pvalue"
        elif name in PERCENT_NUMBER_HEADERS:
            out[name] = "percent_number"
        elif name in VALUE_HEADERS:
            if per_row is None:
                per_row = _row_kind(frame, indicator_kinds or {}, values)
            out[name] = per_row
        elif pd.api.types.is_bool_dtype(series.dtype):
            out[name] = "bool"
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[name] = "date"
        elif pd.api.types.is_integer_dtype(series.dtype):
            out[name] = "count"
        elif pd.api.types.is_float_dtype(series.dtype):
            out[name] = "number"
        else:
            out[name] = "text"
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
    if kind == "count":
        return fmt_number(v, 0)
    if kind == "share":
        return fmt_percent(v, 1)
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


def html_rows(frame: pd.DataFrame, kinds: Kinds) -> list[list[tuple[str, bool]]]:
    """The cells of ``frame`` as (text, is_number) pairs, row by row.

    A value column of a row marked suppressed ("Undertryckt (för få svar)" true)
    reads "för få svar" instead of a dash.
    """
    suppressed = (
        frame[SUPPRESSED_HEADER].astype("boolean").fillna(False).tolist()
        if SUPPRESSED_HEADER in frame.columns
        else [False] * len(frame)
    )
    rows = []
    columns = [str(c) for c in frame.columns]
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(columns, values, strict=True):
            kind = _kind_at(kinds, col, i)
            if suppressed[i] and _missing(value) and kind in ("share", "index", "number"):
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
            out[col] = [_EXCEL.get(k, _EXCEL["number"]) for k in kind]
        elif kind in _EXCEL:
            out[col] = _EXCEL[kind]
    return out
