"""Wastewater lab files, flows, plants and campaigns: reading and parsing of raw cells.

Every reader returns a tidy DataFrame with the source file and Excel row of each value
(for error messages further on) and raises :class:`~trygghet_analys.errors.DataError`
naming file, sheet, row, column and value. The computation lives in
:mod:`trygghet_analys.wastewater.loads`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..vocabulary import load_sample_flags, load_substances
from ._io import read_text_any
from ._limits import check_file, check_rows
from ._open import list_raw, open_workbook, raw_exists

__all__ = [
    "parse_concentration",
    "parse_number",
    "read_campaigns",
    "read_flows",
    "read_lab_file",
    "read_plants",
    "read_wastewater",
    "unit_factor",
]


# Concentration units → factor to ng/L (1 ng/L = 1 µg/m³).
#: Highest plausible concentration in raw wastewater (ng/L): 1 mg/L. The highest values
#: in EUDA's European data are in the tens of thousands of ng/L (cocaine, some cities);
#: a thousandfold more is a typing or unit error (e.g. ``1e308``, which would overflow
#: every load to infinity). Documented in docs/avloppsvatten.md.
MAX_CONCENTRATION_NG_L = 1_000_000.0
#: Highest plausible daily inflow of one plant (m³/dygn): ten million, some thirty times
#: Sweden's largest plant (Henriksdal, about 300 000 m³/dygn).
MAX_FLOW_M3_DAY = 10_000_000.0

_UNIT_FACTORS = {
    "ng/l": 1.0,
    "µg/m3": 1.0,
    "pg/ml": 1.0,
    "pg/l": 1e-3,
    "ng/m3": 1e-3,
    "µg/l": 1e3,
    "ng/ml": 1e3,
    "mg/m3": 1e3,
    "mg/l": 1e6,
    "µg/ml": 1e6,
    "g/m3": 1e6,
}


# Header aliases (normalised: lower case, single spaces, unit in parentheses removed).
_LAB_ALIASES = {
    "plant": ("reningsverk", "avloppsreningsverk", "provpunkt", "provtagningsplats", "anläggning"),
    "date": ("provtagningsdatum", "provdatum", "datum", "provtagningsdag", "dygnsprov"),
    "substance": ("substans", "ämne", "analys", "parameter", "komponent", "analyt"),
    "value": ("halt", "resultat", "koncentration", "värde", "mätvärde", "haltvärde"),
    "loq": ("loq", "rapporteringsgräns", "kvantifieringsgräns", "bestämningsgräns"),
    "unit": ("enhet",),
    "flag": ("flagga", "flaggor", "provflagga", "kvalitetsflagga"),
}


_FLOW_ALIASES = {
    "plant": ("reningsverk", "avloppsreningsverk", "anläggning"),
    "date": ("datum", "dygn", "provtagningsdatum"),
    "flow": ("flöde", "inflöde", "flode", "flöde m3/dygn", "dygnsflöde"),
}


_PLANT_ALIASES = {
    "plant": ("reningsverk", "avloppsreningsverk", "anläggning"),
    "kommun": ("kommun",),
    "year": ("år", "ar", "year"),
    "population": ("befolkning", "anslutna", "anslutna personer", "folkmängd", "population"),
}


_CAMPAIGN_ALIASES = {
    "plant": ("reningsverk", "avloppsreningsverk", "anläggning"),
    "campaign": ("kampanj",),
    "start": ("första dag", "startdatum", "start", "från"),
    "end": ("sista dag", "slutdatum", "slut", "till"),
}


def _norm_key(text: object) -> str:
    return re.sub(r"[\s,]+", " ", str(text).replace("\u00a0", " ").lower()).strip()


@cache
def _substance_lookup() -> dict[str, tuple[str, str | None]]:
    table = load_substances()
    out: dict[str, tuple[str, str | None]] = {}
    for row in table.itertuples(index=False):
        metabolite = row.euda_metabolit if isinstance(row.euda_metabolit, str) else None
        for alias in [row.id, row.namn, *str(row.labbnamn).split("|")]:
            out[_norm_key(alias)] = (row.id, metabolite)
    return out


_NUMBER_RE = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


_BELOW_WORDS = {"<loq", "< loq", "n.d.", "n.d", "nd", "ej detekterad", "ej påvisad", "<lod"}


def parse_number(value: object) -> float:
    """Parse a number as Swedish and international files write it.

    Parameters
    ----------
    value
        A number, or text such as ``"1 234,5"``, ``"12.5"``, ``"1.234,5"``, ``"-3"``.
        Spaces (also no-break and narrow no-break) group digits; when both ``.`` and
        ``,`` occur the last one is the decimal separator.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``value`` is blank, not finite or not a number.

    Examples
    --------
    >>> parse_number("1 234,5"), parse_number("12.5"), parse_number(7)
    (1234.5, 12.5, 7.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    else:
        text = re.sub(r"[\s\u00a0\u202f\u2009]", "", str(value)).replace("\u2212", "-")
        if "," in text and "." in text:
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        if not _NUMBER_RE.fullmatch(text):
            raise ValueError(f"not a number: {value!r}")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_concentration(value: object) -> tuple[float, bool, float]:
    """Parse a lab result cell into (value, below LOQ, LOQ from the cell).

    Parameters
    ----------
    value
        ``"12,5"``, ``12.5``, ``"<0,5"`` (below an LOQ of 0.5), ``"<LOQ"`` or ``"n.d."``.

    Returns
    -------
    tuple
        ``(value, below_loq, loq)``: ``value`` is NaN when below the limit; ``loq`` is
        the limit written in the cell (``"<0,5"`` → 0.5) and NaN otherwise. Units are
        the file's; conversion happens in the reader.

    Raises
    ------
    ValueError
        When the cell is blank, negative or not a lab value.

    Examples
    --------
    >>> parse_concentration("<0,5")
    (nan, True, 0.5)
    >>> parse_concentration("1 234,5")
    (1234.5, False, nan)
    """
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        if low in _BELOW_WORDS:
            return (math.nan, True, math.nan)
        if low.startswith("<"):
            loq = parse_number(text[1:])
            if loq < 0:
                raise ValueError(f"negative limit: {value!r}")
            return (math.nan, True, loq)
    number = parse_number(value)
    if number < 0:
        raise ValueError(f"negative concentration: {value!r}")
    return (number, False, math.nan)


def unit_factor(unit: str) -> float:
    """Factor converting a concentration in ``unit`` to ng/L.

    Parameters
    ----------
    unit
        ``"ng/L"``, ``"µg/m³"`` (= ng/L), ``"µg/L"``, ``"mg/L"``, ``"ng/mL"``, ``"pg/mL"``,
        ``"mg/m³"``, ``"g/m³"``, ``"ng/m³"``, ``"pg/L"``, ``"µg/mL"``; ``u`` or ``μ`` may
        stand for µ and ``3`` for ³.

    Returns
    -------
    float
        Multiply a value in ``unit`` by this to get ng/L.

    Raises
    ------
    ValueError
        For any other unit: an unknown unit is never taken as ng/L.

    Examples
    --------
    >>> unit_factor("µg/L"), unit_factor("ug/m3")
    (1000.0, 1.0)
    """
    key = str(unit).strip().lower().replace(" ", "").replace("³", "3")
    key = key.replace("μ", "µ").replace("mikrog", "µg")
    if key.startswith("ug"):
        key = "µ" + key[1:]
    if key not in _UNIT_FACTORS:
        raise ValueError(f"unknown unit: {unit!r}")
    return _UNIT_FACTORS[key]


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r}")


@dataclass
class _Sheet:
    file: Path
    sheet: str | None
    header: list[str]
    header_row: int  # 1-based row of the header
    rows: list[list[object]]


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _header_key(text: str) -> str:
    key = _norm_key(re.sub(r"\(.*?\)|\[.*?\]", "", text)).strip(" :")
    # "Halt ng/L", "Halt, µg/m³": drop a trailing unit written without parentheses
    return re.sub(r"\s*\S+/\S+$", "", key).strip(" :") or key


def _read_grid(path: Path) -> tuple[str | None, list[list[object]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        try:
            wb = open_workbook(path)  # a regular, readable file within the size limit
            name = wb.sheet_names[0]
            # the sheet's XML is parsed here: an entity bomb or a broken part raises now
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except DataError:
            raise
        except Exception as exc:  # calamine raises its own types for broken files
            raise DataError("en läsbar Excel-fil", file=path) from exc
        check_rows(len(grid), file=path, sheet=name)
        return name, [list(r) for r in grid]
    check_file(path)  # size limit before the whole file is read into memory
    text, _enc = read_text_any(path)
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    delim = max((";", "\t", ","), key=first.count)
    grid = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delim)]
    check_rows(len(grid), file=path)
    return None, grid


def _find_header(
    path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[_Sheet, dict[str, int]]:
    sheet, grid = _read_grid(path)
    for i, row in enumerate(grid[:20]):
        texts = [_cell_text(c) for c in row]
        found: dict[str, int] = {}
        for j, t in enumerate(texts):
            key = _header_key(t)
            for field, names in aliases.items():
                if field not in found and (key in names or _norm_key(t) in names):
                    found[field] = j
        if all(f in found for f in required):
            return _Sheet(path, sheet, texts, i + 1, grid[i + 1 :]), found
    want = ", ".join(aliases[f][0] for f in required)
    raise DataError(f"en rubrikrad med kolumnerna {want}", file=path, sheet=sheet, row=1)


def _is_blank(row: list[object]) -> bool:
    return all(_cell_text(c) == "" for c in row)


def _get(row: list[object], j: int | None) -> object:
    if j is None or j >= len(row):
        return None
    return row[j]


def _unit_in_header(text: str) -> str | None:
    m = re.search(r"[(\[]\s*([^)\]]+?)\s*[)\]]", text)
    if m:
        return m.group(1)
    m = re.search(r"[\s,:]\s*(\S+/\S+)\s*$", text)
    return m.group(1) if m else None


def read_lab_file(path: str | Path) -> pd.DataFrame:
    """Read one lab delivery (xlsx or csv) into a tidy table in ng/L.

    Parameters
    ----------
    path
        A file in ``raw/avloppsvatten/labb/``. The header row may be preceded by title
        lines; columns are recognised by name (``Provtagningsdatum``/``Datum``,
        ``Substans``/``Analys``/``Parameter``, ``Halt``/``Resultat``, ``LOQ``/
        ``Rapporteringsgräns``, ``Enhet``, optionally ``Reningsverk``/``Provpunkt``).
        The unit comes from an ``Enhet`` column or the value column's header
        (``"Halt (µg/m³)"``); without a unit the file is refused.

    Returns
    -------
    DataFrame
        ``plant`` (str, NaN when the file has no plant column), ``date`` (datetime64),
        ``substance`` (substance id), ``metabolite`` (EUDA name or NaN),
        ``value_ng_l`` (float, NaN below LOQ), ``below_loq`` (bool; also True for a
        number below the row's own LOQ, e.g. 0,8 with LOQ 1,0), ``loq_ng_l`` (float,
        NaN when unknown), ``source_file``, ``source_sheet``, ``source_row`` (Excel row),
        ``source_date_column`` (the date column's header, for error messages),
        ``flags`` (the row's sample flags from an optional ``Flagga`` column, plus
        ``under_loq`` for every value below the LOQ, joined by ``|``; "" for none).

    Raises
    ------
    DataError
        Naming file, sheet, row, column and value for: an unknown flag, unknown substance, unknown or
        missing unit, text or a negative number where a concentration is expected, a bad
        date, a duplicate sample (same plant, day and substance twice in the file), no
        result row under the header, or a file beyond the limits of
        :mod:`trygghet_analys._limits`.
    """
    path = Path(path)
    sh, col = _find_header(path, _LAB_ALIASES, ("date", "substance", "value"))
    header_unit = _unit_in_header(sh.header[col["value"]])
    loq_unit = _unit_in_header(sh.header[col["loq"]]) if "loq" in col else None
    lookup = _substance_lookup()
    known_flags = tuple(load_sample_flags()["flagga"])  # display order
    records = []
    seen: dict[tuple, int] = {}
    for k, row in enumerate(sh.rows):
        excel_row = sh.header_row + 1 + k
        if _is_blank(row):
            continue

        def fail(expected: str, field: str, value: object, _row: int = excel_row) -> DataError:
            return DataError(
                expected,
                file=path,
                sheet=sh.sheet,
                row=_row,
                column=sh.header[col[field]] if field in col else field,
                value=value,
            )

        raw_sub = _cell_text(_get(row, col["substance"]))
        hit = lookup.get(_norm_key(raw_sub))
        if hit is None:
            known = ", ".join(sorted({v[0] for v in lookup.values()}))
            raise fail(f"en känd substans ({known})", "substance", raw_sub)
        substance, metabolite = hit
        raw_date = _get(row, col["date"])
        try:
            date = _parse_date(raw_date)
        except ValueError:
            raise fail("ett datum (ÅÅÅÅ-MM-DD)", "date", raw_date) from None
        unit = _cell_text(_get(row, col.get("unit"))) or header_unit
        if not unit:
            raise fail(
                "en enhet (kolumnen 'Enhet' eller i rubriken, t.ex. 'Halt (ng/L)')", "value", None
            )
        try:
            factor = unit_factor(unit)
        except ValueError:
            raise fail(
                "en känd enhet (ng/L, µg/m³, µg/L, mg/L, ng/mL ...)",
                "unit" if "unit" in col and _cell_text(_get(row, col["unit"])) else "value",
                unit,
            ) from None
        raw_value = _get(row, col["value"])
        if _cell_text(raw_value) == "":
            raise fail("en halt, '<LOQ' eller 'n.d.'", "value", raw_value)
        try:
            value, below, loq_cell = parse_concentration(raw_value)
        except ValueError:
            raise fail(
                "en halt ≥ 0 (t.ex. 12,5), '<0,5', '<LOQ' eller 'n.d.'", "value", raw_value
            ) from None
        if not below and value * factor > MAX_CONCENTRATION_NG_L:
            raise fail(
                "en rimlig halt: högst 1 000 000 ng/L (1 mg/L); kontrollera värdet och enheten",
                "value",
                raw_value,
            )
        loq = loq_cell * factor
        raw_loq = _get(row, col.get("loq"))
        if math.isnan(loq) and _cell_text(raw_loq) not in ("", "-", "–"):
            try:
                loq_number = parse_number(str(raw_loq).lstrip("<"))
                loq_factor = unit_factor(loq_unit) if loq_unit else factor
            except ValueError:
                raise fail("en LOQ ≥ 0 (t.ex. 0,5)", "loq", raw_loq) from None
            if loq_number < 0:
                raise fail("en LOQ ≥ 0 (t.ex. 0,5)", "loq", raw_loq)
            loq = loq_number * loq_factor
        flags: set[str] = set()
        raw_flag = _cell_text(_get(row, col.get("flag")))
        for part in re.split(r"[,;|/]+", raw_flag):
            name = part.strip().lower().replace(" ", "_")
            if not name:
                continue
            if name not in known_flags:
                raise fail("en känd flagga (" + ", ".join(known_flags) + ")", "flag", part.strip())
            flags.add(name)
        if not below and not math.isnan(loq) and value * factor < loq:
            below, value = True, math.nan  # a number under its own LOQ is below the LOQ
        if below:
            flags.add("under_loq")
        plant_text = _cell_text(_get(row, col.get("plant")))
        key = (plant_text, date, substance)
        if key in seen:
            raise fail(
                f"ett prov per reningsverk, dag och substans (samma prov finns på rad {seen[key]})",
                "substance",
                raw_sub,
            )
        seen[key] = excel_row
        records.append(
            {
                "plant": plant_text or None,
                "date": pd.Timestamp(date),
                "substance": substance,
                "metabolite": metabolite,
                "value_ng_l": value * factor,
                "below_loq": below,
                "loq_ng_l": loq,
                "source_file": str(path),
                "source_sheet": sh.sheet,
                "source_row": excel_row,
                "source_date_column": sh.header[col["date"]],
                "flags": "|".join(f for f in known_flags if f in flags),
            }
        )
    if not records:  # a delivery without results would leave its campaign silently empty
        raise DataError(
            "minst en analysrad under rubrikraden",
            file=path,
            sheet=sh.sheet,
            row=sh.header_row + 1,
        )
    return _lab_frame(records)


def _sourced_frame(
    records: list[tuple[int, dict]], path: str | Path, dtypes: dict[str, str]
) -> pd.DataFrame:
    """One register file's ``(row, record)`` pairs as a typed table whose rows say the
    file and row they came from (``source_file``, ``source_row``)."""
    cols = {**dtypes, "source_file": "str", "source_row": "int64"}
    rows = [{**rec, "source_file": str(path), "source_row": r} for r, rec in records]
    return pd.DataFrame.from_records(rows, columns=list(cols)).astype(cols)


def _lab_frame(records: list[dict]) -> pd.DataFrame:
    cols = {
        "plant": "str",
        "date": "datetime64[us]",
        "substance": "str",
        "metabolite": "str",
        "value_ng_l": "float64",
        "below_loq": "bool",
        "loq_ng_l": "float64",
        "source_file": "str",
        "source_sheet": "str",
        "source_row": "int64",
        "source_date_column": "str",
        "flags": "str",
    }
    frame = pd.DataFrame.from_records(records, columns=list(cols))
    return frame.astype(cols)


_WHAT = {
    "flow": "en fil med dygnsflöden (Reningsverk;Datum;Flöde (m³/dygn))",
    "population": "ett register över reningsverken (Reningsverk;Kommun;År;Anslutna personer)",
    "campaign": "en lista över kampanjerna (Reningsverk;Kampanj;Första dag;Sista dag)",
}


def _read_simple(
    path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[_Sheet, dict[str, int]]:
    if not raw_exists(path):
        what = next((v for k, v in _WHAT.items() if k in required), "filen")
        raise DataError(what, file=path)
    return _find_header(path, aliases, required)


_MISSING = object()


@dataclass(frozen=True)
class _Cells:
    """One data row of a simple register sheet: its cells by field, and errors that name
    the file, sheet, row, column header and raw value."""

    sheet: _Sheet
    col: dict[str, int]
    row: list[object]
    number: int  # Excel row

    def raw(self, field: str) -> object:
        return _get(self.row, self.col[field])

    def text(self, field: str) -> str:
        return _cell_text(self.raw(field))

    def error(self, field: str, expected: str, value: object = _MISSING) -> DataError:
        sh = self.sheet
        return DataError(
            expected,
            file=sh.file,
            sheet=sh.sheet,
            row=self.number,
            column=sh.header[self.col[field]],
            value=self.raw(field) if value is _MISSING else value,
        )

    def first_of(self, seen: dict, key: object, field: str, expected: str) -> None:
        """Refuse a second row with ``key`` (``expected`` says the rule; ``{row}`` becomes
        the first row's number) and remember this row as the first."""
        if key in seen:
            raise self.error(field, expected.format(row=seen[key]))
        seen[key] = self.number

    def parse(self, field: str, parse: Callable[[object], Any], expected: str) -> Any:
        """``parse`` of the field's cell; its ``ValueError`` becomes this row's DataError."""
        try:
            return parse(self.raw(field))
        except ValueError:
            raise self.error(field, expected) from None


def _data_rows(sh: _Sheet, col: dict[str, int]) -> Iterator[_Cells]:
    """The sheet's non-blank rows below the header."""
    for k, row in enumerate(sh.rows):
        if not _is_blank(row):
            yield _Cells(sh, col, row, sh.header_row + 1 + k)


def _whole_number(value: object, *, low: float, high: float = math.inf) -> int:
    """A cell's whole number in ``(low, high)``; anything else is a ``ValueError``."""
    number = parse_number(value)
    if number != int(number) or not low < number < high:
        raise ValueError(f"not a whole number in ({low}, {high}): {value!r}")
    return int(number)


def read_flows(path: str | Path) -> pd.DataFrame:
    """Read daily inflow per plant (``flode.csv``).

    Parameters
    ----------
    path
        CSV (or xlsx) with ``Reningsverk``, ``Datum`` and ``Flöde`` in m³/day
        (a header ``Flöde (l/s)`` is converted: 1 l/s = 86.4 m³/day). The header must
        state its unit; ``Flöde`` alone is refused.

    Returns
    -------
    DataFrame
        ``plant, date, flow_m3_day, source_file, source_row``.

    Raises
    ------
    DataError
        For a bad date, text or a negative number in the flow column, an unknown flow
        unit, or the same plant and day twice.
    """
    path = Path(path)
    sh, col = _read_simple(path, _FLOW_ALIASES, ("plant", "date", "flow"))
    unit = _unit_in_header(sh.header[col["flow"]])
    factor = 1.0
    if not unit:  # m³/dygn and l/s differ by a factor 86.4: never guess
        raise DataError(
            "en enhet i flödets rubrik: 'Flöde (m3/dygn)' eller 'Flöde (l/s)'",
            file=path,
            sheet=sh.sheet,
            row=sh.header_row,
            column=sh.header[col["flow"]],
            value=sh.header[col["flow"]],
        )
    if unit:
        u = unit.lower().replace(" ", "").replace("³", "3")
        if u in ("l/s",):
            factor = 86.4
        elif u not in ("m3/dygn", "m3/d", "m3/day", "m3/dag", "m3"):
            raise DataError(
                "flöde i m³/dygn eller l/s",
                file=path,
                sheet=sh.sheet,
                row=sh.header_row,
                column=sh.header[col["flow"]],
                value=unit,
            )
    records, seen = [], {}
    for cells in _data_rows(sh, col):
        plant = cells.text("plant")
        if not plant:
            raise cells.error("plant", "ett reningsverk", "")
        date = cells.parse("date", _parse_date, "ett datum (ÅÅÅÅ-MM-DD)")
        flow = cells.parse("flow", parse_number, "ett flöde i m³/dygn (t.ex. 4 250)") * factor
        if flow < 0:
            raise cells.error("flow", "ett flöde ≥ 0")
        if flow > MAX_FLOW_M3_DAY:
            raise cells.error(
                "flow",
                "ett rimligt flöde: högst 10 000 000 m³/dygn; kontrollera värdet och enheten",
            )
        cells.first_of(
            seen,
            (plant, date),
            "date",
            "ett flöde per reningsverk och dag (samma dag finns på rad {row})",
        )
        records.append(
            (cells.number, {"plant": plant, "date": pd.Timestamp(date), "flow_m3_day": flow})
        )
    return _sourced_frame(
        records, path, {"plant": "str", "date": "datetime64[us]", "flow_m3_day": "float64"}
    )


def read_plants(path: str | Path) -> pd.DataFrame:
    """Read the plant register (``reningsverk.csv``).

    Parameters
    ----------
    path
        CSV with ``Reningsverk``, ``Kommun``, ``År`` and ``Befolkning`` (population
        served, persons; also ``Anslutna``).

    Returns
    -------
    DataFrame
        ``plant, kommun, year (int64), population (int64), source_file, source_row``.

    Raises
    ------
    DataError
        For a non-integer year, a population that is not a positive number, or the same
        plant and year twice.
    """
    path = Path(path)
    sh, col = _read_simple(path, _PLANT_ALIASES, ("plant", "kommun", "year", "population"))
    records, seen = [], {}
    for cells in _data_rows(sh, col):
        plant, kommun = cells.text("plant"), cells.text("kommun")
        year = cells.parse("year", partial(_whole_number, low=1900, high=2200), "ett årtal")
        pop = cells.parse(
            "population",
            partial(_whole_number, low=0),
            "ett positivt heltal (antal anslutna personer)",
        )
        cells.first_of(
            seen, (plant, year), "year", "en rad per reningsverk och år (samma finns på rad {row})"
        )
        records.append(
            (cells.number, {"plant": plant, "kommun": kommun, "year": year, "population": pop})
        )
    return _sourced_frame(
        records,
        path,
        {
            "plant": "str",
            "kommun": "str",
            "year": "int64",
            "population": "int64",
        },
    )


def read_campaigns(path: str | Path) -> pd.DataFrame:
    """Read the campaign list (``kampanjer.csv``).

    Parameters
    ----------
    path
        CSV with ``Reningsverk``, ``Kampanj`` (a name such as "2023 vår"),
        ``Första dag`` and ``Sista dag``.

    Returns
    -------
    DataFrame
        ``plant, campaign, start, end (datetime64), source_file, source_row``.

    Raises
    ------
    DataError
        For a bad date, a last day before the first, a campaign name used twice for a
        plant, or overlapping campaigns.
    """
    path = Path(path)
    sh, col = _read_simple(path, _CAMPAIGN_ALIASES, ("plant", "campaign", "start", "end"))
    records: list[tuple[int, dict]] = []
    for cells in _data_rows(sh, col):
        plant, name = cells.text("plant"), cells.text("campaign")
        days = [cells.parse(f, _parse_date, "ett datum (ÅÅÅÅ-MM-DD)") for f in ("start", "end")]
        if days[1] < days[0]:
            raise cells.error(
                "end", "en sista dag på eller efter första dagen", days[1].isoformat()
            )
        for other_row, other in records:
            if other["plant"] != plant:
                continue
            same = other["campaign"] == name
            overlap = days[0] <= other["end"].date() and other["start"].date() <= days[1]
            if same or overlap:
                raise cells.error(
                    "campaign",
                    f"kampanjer med unika namn som inte överlappar (jämför rad {other_row})",
                )
        records.append(
            (
                cells.number,
                {
                    "plant": plant,
                    "campaign": name,
                    "start": pd.Timestamp(days[0]),
                    "end": pd.Timestamp(days[1]),
                },
            )
        )
    return _sourced_frame(
        records,
        path,
        {
            "plant": "str",
            "campaign": "str",
            "start": "datetime64[us]",
            "end": "datetime64[us]",
        },
    )


def _lab_files(folder: Path) -> list[Path]:
    # a lab "file" that is a folder or a dangling link is kept: reading it refuses it
    # (open_raw) instead of the campaign silently vanishing
    return [
        p
        for p in list_raw(folder)
        if p.suffix.lower() in (".xlsx", ".csv") and not p.name.startswith(("~$", "."))
    ]


def read_wastewater(raw_dir: str | Path) -> dict[str, pd.DataFrame] | None:
    """Read one kommun's raw wastewater files.

    Parameters
    ----------
    raw_dir
        The kommun's raw folder (``KommunConfig.raw``), holding ``avloppsvatten/``.

    Returns
    -------
    dict of DataFrame or None
        ``lab`` (every lab file stacked, :func:`read_lab_file`), ``plants``, ``flows`` and
        ``campaigns``; ``None`` when there is no ``avloppsvatten/labb/`` folder or no lab
        file in it.

    Raises
    ------
    DataError
        From the readers.
    """
    folder = Path(raw_dir) / "avloppsvatten"
    files = _lab_files(folder / "labb")
    if not files:
        return None
    lab = pd.concat([read_lab_file(p) for p in files], ignore_index=True)
    return {
        "lab": lab,
        "plants": read_plants(folder / "reningsverk.csv"),
        "flows": read_flows(folder / "flode.csv"),
        "campaigns": read_campaigns(folder / "kampanjer.csv"),
    }
