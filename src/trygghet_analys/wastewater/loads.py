"""Wastewater analysis: lab results, inflows and plants → loads, campaign means, trends.

Raw files of one kommun live in ``raw/avloppsvatten/`` (see ``docs/avloppsvatten.md``)::

    labb/*.xlsx | *.csv   lab results, one row per sample and substance
    flode.csv             daily inflow per plant (m³/day)
    reningsverk.csv       plant register: plant, kommun, year, population served
    kampanjer.csv         campaigns: plant, campaign, first and last day

The readers (``read_*``) are the only functions here that touch files; everything else
is pure. ``build_wastewater`` ties them together for ``pipeline.build``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..errors import DataError
from ..files._io import read_text_any
from ..files._limits import check_file, check_rows
from .euda import campaign_means

__all__ = [
    "LOAD_COLUMNS",
    "CAMPAIGN_COLUMNS",
    "CONSUMPTION_COLUMNS",
    "LOQ_POLICIES",
    "SAMPLE_FLAGS",
    "load_sample_flags",
    "swedish_holidays",
    "TREND_COLUMNS",
    "back_calculate",
    "wastewater_schemas",
    "build_wastewater",
    "campaign_statistics",
    "compute_loads",
    "load_backcalculation_factors",
    "load_substances",
    "parse_concentration",
    "parse_number",
    "read_campaigns",
    "read_flows",
    "read_lab_file",
    "read_plants",
    "substance_trends",
    "unit_factor",
]

LOQ_POLICIES = ("zero", "half_loq", "loq")

LOAD_COLUMNS = [
    "kommun",
    "plant",
    "campaign",
    "date",
    "weekday",
    "substance",
    "metabolite",
    "concentration_ng_l",
    "loq_ng_l",
    "below_loq",
    "flow_m3_day",
    "population",
    "load_mg_day",
    "load_mg_day_1000",
    "flags",
    "excluded",
]
CAMPAIGN_COLUMNS = [
    "kommun",
    "plant",
    "year",
    "campaign",
    "substance",
    "metabolite",
    "daily_mean",
    "weekday_mean",
    "weekend_mean",
    "n_days",
    "n_below_loq",
    "date_from",
    "date_to",
    "n_excluded",
    "daily_mean_low",
    "daily_mean_high",
]
TREND_COLUMNS = [
    "kommun",
    "plant",
    "substance",
    "metabolite",
    "year_from",
    "year_to",
    "n_campaigns",
    "slope",
    "tau",
    "p_value",
    "significant",
    "direction",
]
CONSUMPTION_COLUMNS = [
    "kommun",
    "plant",
    "year",
    "campaign",
    "substance",
    "metabolite",
    "daily_mean",
    "correction_factor",
    "consumption_mg_day_1000",
    "dose_mg",
    "doses_day_1000",
    "source",
]

_WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")

# Concentration units → factor to ng/L (1 ng/L = 1 µg/m³).
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


# --------------------------------------------------------------------------- resources
@cache
def _resource_text(name: str) -> str:
    return resources.files("trygghet_analys").joinpath("resources", name).read_text("utf-8")


def load_substances() -> pd.DataFrame:
    """The substance register ``resources/substanser.csv``.

    Returns
    -------
    DataFrame
        ``id`` (substance id, e.g. "kokain"), ``namn`` (Swedish display name),
        ``labbnamn`` (lab aliases separated by ``|``), ``euda_metabolit`` (EUDA's name,
        NaN when EUDA does not report it), ``matt_restprodukt`` (the residue measured).
    """
    return pd.read_csv(io.StringIO(_resource_text("substanser.csv")), dtype=str)


def load_backcalculation_factors() -> pd.DataFrame:
    """Correction factors and typical doses with sources (``resources/aterberakning.csv``).

    Returns
    -------
    DataFrame
        ``substans, matt_restprodukt, utsondring_andel, korrektionsfaktor, typisk_dos_mg,
        kalla_korrektionsfaktor, kalla_dos, anmarkning``.
    """
    out = pd.read_csv(io.StringIO(_resource_text("aterberakning.csv")), dtype=str)
    for c in ("utsondring_andel", "korrektionsfaktor", "typisk_dos_mg"):
        out[c] = out[c].astype("float64")
    return out


def load_sample_flags() -> pd.DataFrame:
    """The sample quality flags ``resources/provflaggor.csv``.

    Returns
    -------
    DataFrame
        ``flagga`` (``under_loq``, ``regn``, ``bräddning``, ``helgdag``,
        ``provtagningsfel``), ``betydelse`` (Swedish meaning), ``i_kampanjmedel`` (bool:
        whether a day with this flag counts in the campaign mean), ``satts_av`` (who sets
        it).
    """
    out = pd.read_csv(io.StringIO(_resource_text("provflaggor.csv")), dtype=str)
    out["i_kampanjmedel"] = out["i_kampanjmedel"].eq("ja")
    return out


#: The known flags in display order.
SAMPLE_FLAGS = tuple(load_sample_flags()["flagga"])


def _excluding_flags() -> frozenset[str]:
    table = load_sample_flags()
    return frozenset(table.loc[~table["i_kampanjmedel"], "flagga"])


def swedish_holidays(dates: pd.Series) -> pd.Series:
    """Whether each date is a Swedish public holiday (``holidays.Sweden``, Sundays not
    counted as holidays unless they are one, e.g. Easter Sunday).

    Examples
    --------
    >>> swedish_holidays(pd.Series(pd.to_datetime(["2023-04-07", "2023-04-12"]))).tolist()
    [True, False]
    """
    import holidays

    stamps = pd.to_datetime(dates)
    if stamps.empty:
        return pd.Series(dtype=bool, index=dates.index)
    years = sorted({int(y) for y in stamps.dt.year.dropna()})
    calendar = holidays.Sweden(years=years, include_sundays=False)
    return stamps.dt.date.map(lambda d: d in calendar).astype(bool)


def _join_flags(flags: set[str]) -> str:
    return "|".join(f for f in SAMPLE_FLAGS if f in flags)


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


# --------------------------------------------------------------------------- parsers
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


# --------------------------------------------------------------------------- readers
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
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(path))
            name = wb.sheet_names[0]
            # the sheet's XML is parsed here: an entity bomb or a broken part raises now
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
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
        ``value_ng_l`` (float, NaN below LOQ), ``below_loq`` (bool), ``loq_ng_l`` (float,
        NaN when unknown), ``source_file``, ``source_sheet``, ``source_row`` (Excel row),
        ``source_date_column`` (the date column's header, for error messages).

    Raises
    ------
    DataError
        Naming file, sheet, row, column and value for: unknown substance, unknown or
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
            if name not in SAMPLE_FLAGS:
                raise fail("en känd flagga (" + ", ".join(SAMPLE_FLAGS) + ")", "flag", part.strip())
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
                "flags": _join_flags(flags),
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
    if not path.is_file():
        what = next((v for k, v in _WHAT.items() if k in required), "filen")
        raise DataError(what, file=path)
    return _find_header(path, aliases, required)


def read_flows(path: str | Path) -> pd.DataFrame:
    """Read daily inflow per plant (``flode.csv``).

    Parameters
    ----------
    path
        CSV (or xlsx) with ``Reningsverk``, ``Datum`` and ``Flöde``; the flow header
        must state its unit: ``Flöde (m3/dygn)`` (also ``m³/dygn``) or ``Flöde (l/s)``
        (converted: 1 l/s = 86.4 m³/day).

    Returns
    -------
    DataFrame
        ``plant, date, flow_m3_day, source_file, source_row``.

    Raises
    ------
    DataError
        For a flow header without a unit, an unknown flow unit, a bad date, text or a
        negative number in the flow column, or the same plant and day twice.
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
    for k, row in enumerate(sh.rows):
        r = sh.header_row + 1 + k
        if _is_blank(row):
            continue
        plant = _cell_text(_get(row, col["plant"]))
        raw_date, raw_flow = _get(row, col["date"]), _get(row, col["flow"])
        where = {"file": path, "sheet": sh.sheet, "row": r}
        if not plant:
            raise DataError("ett reningsverk", column=sh.header[col["plant"]], value="", **where)
        try:
            date = _parse_date(raw_date)
        except ValueError:
            raise DataError(
                "ett datum (ÅÅÅÅ-MM-DD)", column=sh.header[col["date"]], value=raw_date, **where
            ) from None
        try:
            flow = parse_number(raw_flow) * factor
        except ValueError:
            raise DataError(
                "ett flöde i m³/dygn (t.ex. 4 250)",
                column=sh.header[col["flow"]],
                value=raw_flow,
                **where,
            ) from None
        if flow < 0:
            raise DataError("ett flöde ≥ 0", column=sh.header[col["flow"]], value=raw_flow, **where)
        if (plant, date) in seen:
            raise DataError(
                f"ett flöde per reningsverk och dag (samma dag finns på rad {seen[(plant, date)]})",
                column=sh.header[col["date"]],
                value=raw_date,
                **where,
            )
        seen[(plant, date)] = r
        records.append(
            {
                "plant": plant,
                "date": pd.Timestamp(date),
                "flow_m3_day": flow,
                "source_file": str(path),
                "source_row": r,
            }
        )
    cols = {
        "plant": "str",
        "date": "datetime64[us]",
        "flow_m3_day": "float64",
        "source_file": "str",
        "source_row": "int64",
    }
    return pd.DataFrame.from_records(records, columns=list(cols)).astype(cols)


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
    for k, row in enumerate(sh.rows):
        r = sh.header_row + 1 + k
        if _is_blank(row):
            continue
        where = {"file": path, "sheet": sh.sheet, "row": r}
        plant = _cell_text(_get(row, col["plant"]))
        kommun = _cell_text(_get(row, col["kommun"]))
        raw_year, raw_pop = _get(row, col["year"]), _get(row, col["population"])
        try:
            year = parse_number(raw_year)
            if year != int(year) or not 1900 < year < 2200:
                raise ValueError
        except ValueError:
            raise DataError(
                "ett årtal", column=sh.header[col["year"]], value=raw_year, **where
            ) from None
        try:
            pop = parse_number(raw_pop)
            if pop <= 0 or pop != int(pop):
                raise ValueError
        except ValueError:
            raise DataError(
                "ett positivt heltal (antal anslutna personer)",
                column=sh.header[col["population"]],
                value=raw_pop,
                **where,
            ) from None
        if (plant, int(year)) in seen:
            raise DataError(
                f"en rad per reningsverk och år (samma finns på rad {seen[(plant, int(year))]})",
                column=sh.header[col["year"]],
                value=raw_year,
                **where,
            )
        seen[(plant, int(year))] = r
        records.append(
            {
                "plant": plant,
                "kommun": kommun,
                "year": int(year),
                "population": int(pop),
                "source_file": str(path),
                "source_row": r,
            }
        )
    cols = {
        "plant": "str",
        "kommun": "str",
        "year": "int64",
        "population": "int64",
        "source_file": "str",
        "source_row": "int64",
    }
    return pd.DataFrame.from_records(records, columns=list(cols)).astype(cols)


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
    records: list[dict] = []
    for k, row in enumerate(sh.rows):
        r = sh.header_row + 1 + k
        if _is_blank(row):
            continue
        where = {"file": path, "sheet": sh.sheet, "row": r}
        plant = _cell_text(_get(row, col["plant"]))
        name = _cell_text(_get(row, col["campaign"]))
        days = []
        for field in ("start", "end"):
            raw = _get(row, col[field])
            try:
                days.append(_parse_date(raw))
            except ValueError:
                raise DataError(
                    "ett datum (ÅÅÅÅ-MM-DD)", column=sh.header[col[field]], value=raw, **where
                ) from None
        if days[1] < days[0]:
            raise DataError(
                "en sista dag på eller efter första dagen",
                column=sh.header[col["end"]],
                value=days[1].isoformat(),
                **where,
            )
        for other in records:
            if other["plant"] != plant:
                continue
            same = other["campaign"] == name
            overlap = days[0] <= other["end"].date() and other["start"].date() <= days[1]
            if same or overlap:
                raise DataError(
                    "kampanjer med unika namn som inte överlappar "
                    f"(jämför rad {other['source_row']})",
                    column=sh.header[col["campaign"]],
                    value=name,
                    **where,
                )
        records.append(
            {
                "plant": plant,
                "campaign": name,
                "start": pd.Timestamp(days[0]),
                "end": pd.Timestamp(days[1]),
                "source_file": str(path),
                "source_row": r,
            }
        )
    cols = {
        "plant": "str",
        "campaign": "str",
        "start": "datetime64[us]",
        "end": "datetime64[us]",
        "source_file": "str",
        "source_row": "int64",
    }
    return pd.DataFrame.from_records(records, columns=list(cols)).astype(cols)


# --------------------------------------------------------------------------- computation
def _lab_error(lab_row: pd.Series, expected: str, column: str, value: object) -> DataError:
    sheet = lab_row.get("source_sheet")
    return DataError(
        expected,
        file=lab_row.get("source_file"),
        sheet=sheet if isinstance(sheet, str) else None,
        row=int(lab_row["source_row"]) if pd.notna(lab_row.get("source_row")) else None,
        column=column,
        value=value,
    )


def _date_column(lab_row: pd.Series) -> str:
    name = lab_row.get("source_date_column")
    return name if isinstance(name, str) and name else "Provtagningsdatum"


def compute_loads(
    lab: pd.DataFrame,
    flows: pd.DataFrame,
    plants: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    kommun: str,
    loq_policy: str = "zero",
) -> pd.DataFrame:
    """Daily loads and population-normalised loads per sample.

    Parameters
    ----------
    lab
        ``read_lab_file`` output (one or more files concatenated).
    flows, plants, campaigns
        ``read_flows``, ``read_plants`` and ``read_campaigns`` output.
    kommun
        The kommun; only its plants in ``plants`` are used.
    loq_policy
        Value used for a result below LOQ: ``"zero"`` (EUDA's convention, default),
        ``"half_loq"`` (LOQ/2) or ``"loq"``.

    Returns
    -------
    DataFrame
        The ``wastewater_loads`` contract: ``kommun, plant, campaign, date, weekday``
        (Swedish lower-case day name, "tisdag"), ``substance, metabolite,
        concentration_ng_l`` (the value used, after the LOQ policy), ``loq_ng_l,
        below_loq, flow_m3_day, population, load_mg_day, load_mg_day_1000``, ``flags``
        (the day's sample flags joined by ``|`` in :data:`SAMPLE_FLAGS` order, "" when
        none; ``helgdag`` added for Swedish public holidays, ``under_loq`` for every
        value below the LOQ) and ``excluded`` (True when a flag keeps the day out of the
        campaign mean: ``bräddning``, ``provtagningsfel``; see
        ``resources/provflaggor.csv``); sorted by plant, date and substance.

    Raises
    ------
    DataError
        Naming the lab file and row for: a plant not in the register, a sample day with
        no flow, a date outside every campaign, no population for the year, or (policy
        ``half_loq``/``loq``) a result below LOQ whose LOQ is unknown.

    Notes
    -----
    .. math::
        L\\,[\\mathrm{mg/d}] = C\\,[\\mathrm{ng/L}] \\times Q\\,[\\mathrm{m^3/d}]
        \\times 10^{-3},\\qquad
        L_{1000} = L / (P / 1000)

    since 1 ng/L × 1 m³ = 1000 ng = 10⁻³ mg (ARCHITECTURE, "Wastewater"; EUDA/SCORE).
    """
    if loq_policy not in LOQ_POLICIES:
        raise DataError("en LOQ-princip: " + ", ".join(LOQ_POLICIES), value=loq_policy)
    own = plants[plants["kommun"] == kommun]
    if lab.empty:
        return _empty_frame(LOAD_COLUMNS)
    if own.empty:
        raise DataError(
            f"minst ett reningsverk för kommunen {kommun}",
            file=plants["source_file"].iloc[0] if len(plants) else "reningsverk.csv",
            column="kommun",
            value=kommun,
        )
    own_names = sorted(own["plant"].unique())
    work = lab.copy()
    no_plant = work["plant"].isna() | (work["plant"] == "")
    if no_plant.any():
        if len(own_names) != 1:
            raise _lab_error(
                work[no_plant].iloc[0],
                "en kolumn Reningsverk (kommunen har flera reningsverk: "
                + ", ".join(own_names)
                + ")",
                "Reningsverk",
                None,
            )
        work.loc[no_plant, "plant"] = own_names[0]
    unknown = ~work["plant"].isin(own_names)
    if unknown.any():
        r = work[unknown].iloc[0]
        raise _lab_error(
            r,
            "ett reningsverk i reningsverk.csv (" + ", ".join(own_names) + ")",
            "Reningsverk",
            r["plant"],
        )

    # campaign of each sample
    work["campaign"] = pd.Series(pd.NA, index=work.index, dtype="str")
    for c in campaigns.itertuples(index=False):
        hit = (work["plant"] == c.plant) & work["date"].between(c.start, c.end)
        work.loc[hit, "campaign"] = c.campaign
    outside = work["campaign"].isna()
    if outside.any():
        r = work[outside].iloc[0]
        raise _lab_error(
            r,
            f"ett provdatum inom en kampanj för {r['plant']} i kampanjer.csv",
            _date_column(r),
            r["date"].date().isoformat(),
        )

    # flows
    work = work.merge(flows[["plant", "date", "flow_m3_day"]], on=["plant", "date"], how="left")
    no_flow = work["flow_m3_day"].isna()
    if no_flow.any():
        r = work[no_flow].iloc[0]
        raise _lab_error(
            r,
            f"ett flöde i flode.csv för {r['plant']} detta provdygn",
            _date_column(r),
            r["date"].date().isoformat(),
        )

    # population for the sample's year
    work["_year"] = work["date"].dt.year.astype("int64")
    pop = own[["plant", "year", "population"]].rename(columns={"year": "_year"})
    work = work.merge(pop, on=["plant", "_year"], how="left")
    no_pop = work["population"].isna()
    if no_pop.any():
        r = work[no_pop].iloc[0]
        raise _lab_error(
            r,
            f"befolkning för {r['plant']} år {r['_year']} i reningsverk.csv",
            _date_column(r),
            r["date"].date().isoformat(),
        )

    below = work["below_loq"].astype(bool)
    if loq_policy != "zero":
        unknown_loq = below & work["loq_ng_l"].isna()
        if unknown_loq.any():
            r = work[unknown_loq].iloc[0]
            raise _lab_error(
                r,
                f"en LOQ för värden under LOQ (krävs av principen '{loq_policy}')",
                "LOQ",
                None,
            )
    flags = work["flags"].fillna("") if "flags" in work.columns else pd.Series("", work.index)
    holiday = swedish_holidays(work["date"]).to_numpy()
    flags = pd.Series(
        [
            _join_flags({*f.split("|"), "helgdag"} - {""} if h else set(f.split("|")) - {""})
            for f, h in zip(flags, holiday, strict=True)
        ],
        index=work.index,
    )
    excluding = _excluding_flags()
    excluded = flags.map(lambda f: bool(set(f.split("|")) & excluding)).astype(bool)
    substitute = {"zero": 0.0, "half_loq": 0.5, "loq": 1.0}[loq_policy]
    conc = work["value_ng_l"].where(~below, work["loq_ng_l"] * substitute)
    if loq_policy == "zero":
        conc = conc.where(~below, 0.0)
    load = conc * work["flow_m3_day"] * 1e-3
    out = pd.DataFrame(
        {
            "kommun": kommun,
            "plant": work["plant"].astype(str),
            "campaign": work["campaign"].astype(str),
            "date": work["date"].astype("datetime64[us]"),
            "weekday": work["date"].dt.day_of_week.map(dict(enumerate(_WEEKDAYS_SV))),
            "substance": work["substance"].astype(str),
            "metabolite": work["metabolite"],
            "concentration_ng_l": conc.astype("float64"),
            "loq_ng_l": work["loq_ng_l"].astype("float64"),
            "below_loq": below,
            "flow_m3_day": work["flow_m3_day"].astype("float64"),
            "population": work["population"].astype("int64"),
            "load_mg_day": load.astype("float64"),
            "load_mg_day_1000": (load / (work["population"] / 1000.0)).astype("float64"),
            "flags": flags.astype(str),
            "excluded": excluded.to_numpy(dtype=bool),
        }
    )
    out["weekday"] = out["weekday"].astype("str")
    out["metabolite"] = out["metabolite"].astype("str")
    out = out.sort_values(["plant", "date", "substance"], kind="stable").reset_index(drop=True)
    return out[LOAD_COLUMNS]


def campaign_statistics(loads: pd.DataFrame) -> pd.DataFrame:
    """Campaign means per plant and substance by EUDA's day rules.

    Parameters
    ----------
    loads
        ``compute_loads`` output.

    Returns
    -------
    DataFrame
        The ``wastewater_campaigns`` contract: ``kommun, plant, year, campaign, substance,
        metabolite, daily_mean, weekday_mean, weekend_mean, n_days, n_below_loq``
        (means in mg/day/1000 inhabitants), then ``date_from, date_to`` (first and last
        sample day, used for trends), ``n_excluded`` (days kept out by a flag,
        :func:`load_sample_flags`) and ``daily_mean_low, daily_mean_high``: a 95 %
        t-interval of the daily mean over the campaign's days,
        mean ± t(0.975, n−1)·s/√n (NaN with fewer than 2 days). The interval describes
        the variation between days *within* the campaign, not the uncertainty from year
        to year or of the back-calculation. ``year`` is the year of the first sample day.

    Notes
    -----
    Uses :func:`trygghet_analys.euda.campaign_means`: daily mean over the days present,
    weekday mean over the Tue–Thu days present, weekend mean over the Fri–Mon days
    present; no imputation of missing days.
    """
    if loads.empty:
        return _empty_frame(CAMPAIGN_COLUMNS)
    keys = ["kommun", "plant", "campaign", "substance", "metabolite"]
    excluded = (
        loads["excluded"].astype(bool).to_numpy()
        if "excluded" in loads.columns
        else np.zeros(len(loads), dtype=bool)
    )
    used = loads.assign(
        load_mg_day_1000=loads["load_mg_day_1000"].where(~excluded),
        below_loq=loads["below_loq"].astype(bool) & ~excluded,
        _excluded=excluded,
    )
    means = campaign_means(used, by=keys, day="weekday", value="load_mg_day_1000")
    g = used.groupby(keys, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "n_below_loq": g["below_loq"].sum().astype("int64"),
            "date_from": g["date"].min(),
            "date_to": g["date"].max(),
            "n_excluded": g["_excluded"].sum().astype("int64"),
            "_sd": g["load_mg_day_1000"].std(ddof=1),
        }
    ).reset_index()
    out = means.merge(extra, on=keys, how="left")
    out = out[out["n_days"] > 0]  # a campaign whose every day is excluded has no mean
    n = out["n_days"].astype(float)
    half = scipy_stats.t.ppf(0.975, n - 1) * out["_sd"] / np.sqrt(n)
    half = half.where(n >= 2)
    out["daily_mean_low"] = out["daily_mean"] - half
    out["daily_mean_high"] = out["daily_mean"] + half
    out["year"] = out["date_from"].dt.year.astype("int64")
    out = out.sort_values(["plant", "date_from", "substance"], kind="stable")
    return out[CAMPAIGN_COLUMNS].reset_index(drop=True)


def substance_trends(
    campaigns: pd.DataFrame,
    *,
    value: str = "daily_mean",
    min_campaigns: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Trend over campaigns per plant and substance: Theil–Sen slope and Mann–Kendall test.

    Parameters
    ----------
    campaigns
        ``campaign_statistics`` output (needs ``date_from`` and ``date_to``).
    value
        The campaign statistic to follow (default ``daily_mean``).
    min_campaigns
        Fewer campaigns than this give no row (default 5, as for the survey trends).
    alpha
        Significance level.

    Returns
    -------
    DataFrame
        ``kommun, plant, substance, metabolite, year_from, year_to, n_campaigns, slope``
        (Theil–Sen, mg/day/1000 inhabitants per year), ``tau, p_value, significant,
        direction`` ("ökande", "minskande" or "ingen säkerställd trend").

    Notes
    -----
    Time is each campaign's mid-point in decimal years, so two campaigns a year and
    uneven intervals count correctly. The test and slope are
    :func:`trygghet_analys.trends.mann_kendall`, the same as for the survey trends:
    Mann–Kendall S with tie-corrected variance and continuity correction, two-sided
    normal p (R ``cor.test(t, x, method="kendall", exact=FALSE, continuity=TRUE)``),
    and the Theil–Sen slope (median of pairwise slopes, Sen 1968).
    """
    from ..stats.trends import mann_kendall  # trends is a sibling module; imported lazily

    keys = ["kommun", "plant", "substance", "metabolite"]
    if campaigns.empty:
        return _empty_frame(TREND_COLUMNS)
    data = campaigns.dropna(subset=[value]).copy()
    mid = data["date_from"] + (data["date_to"] - data["date_from"]) / 2
    data["_t"] = mid.dt.year + (mid.dt.day_of_year - 1) / 365.25
    data["metabolite"] = data["metabolite"].fillna("")  # tramadol has no EUDA name
    size = data.groupby(keys, sort=True)["_t"].transform("size")
    data = data[size >= min_campaigns]
    if data.empty:
        return _empty_frame(TREND_COLUMNS)
    mk = mann_kendall(data, by=keys, time="_t", value=value)
    years = data.groupby(keys, sort=True)["year"].agg(["min", "max", "size"]).reset_index()
    out = mk.drop(columns=["year_from", "year_to"]).merge(years, on=keys, how="left")
    out = out.rename(columns={"min": "year_from", "max": "year_to", "size": "n_campaigns"})
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    out["direction"] = np.select(
        [out["significant"] & (out["slope"] > 0), out["significant"] & (out["slope"] < 0)],
        ["ökande", "minskande"],
        default="ingen säkerställd trend",
    )
    out["metabolite"] = out["metabolite"].where(out["metabolite"] != "")
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return out.astype(_dtypes_for(TREND_COLUMNS))[TREND_COLUMNS]


def back_calculate(campaigns: pd.DataFrame, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Back-calculated consumption and doses per 1000 inhabitants per campaign.

    Parameters
    ----------
    campaigns
        ``campaign_statistics`` output.
    factors
        Correction factors and doses (default ``load_backcalculation_factors()``).

    Returns
    -------
    DataFrame
        ``kommun, plant, year, campaign, substance, metabolite, daily_mean,
        correction_factor, consumption_mg_day_1000, dose_mg, doses_day_1000, source``;
        substances without a factor are left out.

    Notes
    -----
    consumption = daily mean load × CF, with CF = (M_parent / M_residue) / excretion
    fraction; doses per day per 1000 inhabitants = consumption / typical dose
    (Zuccato et al. 2008; Castiglioni et al. 2013). The factors carry large uncertainty
    and are best used for changes over time, not absolute levels.
    """
    if factors is None:
        factors = load_backcalculation_factors()
    if campaigns.empty:
        return _empty_frame(CONSUMPTION_COLUMNS)
    f = factors.rename(
        columns={
            "substans": "substance",
            "korrektionsfaktor": "correction_factor",
            "typisk_dos_mg": "dose_mg",
        }
    )
    f["source"] = f["kalla_korrektionsfaktor"].astype(str) + "; dos: " + f["kalla_dos"].astype(str)
    out = campaigns.merge(
        f[["substance", "correction_factor", "dose_mg", "source"]], on="substance", how="inner"
    )
    out["consumption_mg_day_1000"] = out["daily_mean"] * out["correction_factor"]
    out["doses_day_1000"] = out["consumption_mg_day_1000"] / out["dose_mg"]
    return out[CONSUMPTION_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- schemas
def wastewater_schemas() -> dict[str, object]:
    """pandera schemas of the four ``wastewater_*`` tables (the boundary to processed/).

    Returns
    -------
    dict of pandera.DataFrameSchema
        Keyed by table name; strict and ordered (contract columns in contract order),
        with non-negative loads, flows and means, a positive population, ``n_days`` 1–31,
        ``n_below_loq`` ≤ ``n_days``, p-values in [0, 1] and the Swedish trend directions.
    """
    import pandera.pandas as pa

    def col(dtype: str, *checks: object, nullable: bool = False) -> pa.Column:
        return pa.Column(dtype, list(checks), nullable=nullable)

    nonneg = pa.Check.ge(0)
    types = {**_dtypes_for(LOAD_COLUMNS), **_dtypes_for(CAMPAIGN_COLUMNS)}
    types |= {**_dtypes_for(TREND_COLUMNS), **_dtypes_for(CONSUMPTION_COLUMNS)}
    nullable = {"metabolite", "loq_ng_l", "weekday_mean", "weekend_mean", "tau", "p_value"}
    nullable |= {"daily_mean_low", "daily_mean_high"}
    nullable |= {"slope"}
    special = {
        "population": (pa.Check.gt(0),),
        "n_days": (pa.Check.in_range(1, 31),),
        "p_value": (pa.Check.in_range(0, 1),),
        "tau": (pa.Check.in_range(-1, 1),),
        "direction": (pa.Check.isin(["ökande", "minskande", "ingen säkerställd trend"]),),
    }
    nonneg_cols = {
        "concentration_ng_l",
        "loq_ng_l",
        "flow_m3_day",
        "load_mg_day",
        "load_mg_day_1000",
        "daily_mean",
        "weekday_mean",
        "weekend_mean",
        "n_below_loq",
        "n_excluded",
        "correction_factor",
        "consumption_mg_day_1000",
        "dose_mg",
        "doses_day_1000",
    }

    def schema(cols: list[str], *checks: object) -> pa.DataFrameSchema:
        columns = {}
        for c in cols:
            cks = special.get(c, (nonneg,) if c in nonneg_cols else ())
            columns[c] = col(types[c], *cks, nullable=c in nullable)
        return pa.DataFrameSchema(columns, checks=list(checks), strict=True, ordered=True)

    return {
        "wastewater_loads": schema(LOAD_COLUMNS),
        "wastewater_campaigns": schema(
            CAMPAIGN_COLUMNS, pa.Check(lambda d: d["n_below_loq"] <= d["n_days"])
        ),
        "wastewater_trends": schema(TREND_COLUMNS),
        "wastewater_consumption": schema(CONSUMPTION_COLUMNS),
    }


# --------------------------------------------------------------------------- top level
def _dtypes_for(cols: list[str]) -> dict[str, str]:
    types = {
        "year": "int64",
        "year_from": "int64",
        "year_to": "int64",
        "n_days": "int64",
        "n_below_loq": "int64",
        "n_campaigns": "int64",
        "n_excluded": "int64",
        "population": "int64",
        "below_loq": "bool",
        "excluded": "bool",
        "significant": "bool",
        "date": "datetime64[us]",
        "date_from": "datetime64[us]",
        "date_to": "datetime64[us]",
    }
    floats = {
        "concentration_ng_l",
        "loq_ng_l",
        "flow_m3_day",
        "load_mg_day",
        "load_mg_day_1000",
        "daily_mean",
        "weekday_mean",
        "weekend_mean",
        "daily_mean_low",
        "daily_mean_high",
        "slope",
        "tau",
        "p_value",
        "correction_factor",
        "consumption_mg_day_1000",
        "dose_mg",
        "doses_day_1000",
    }
    return {c: types.get(c, "float64" if c in floats else "str") for c in cols}


def _empty_frame(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _dtypes_for(cols).items()})


def _lab_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in (".xlsx", ".csv")
        and not p.name.startswith(("~$", "."))
    )


def build_wastewater(
    raw_dir: str | Path, kommun: str, *, loq_policy: str = "zero"
) -> dict[str, pd.DataFrame]:
    """All wastewater tables of one kommun, from its raw folder.

    Parameters
    ----------
    raw_dir
        The kommun's raw folder (``KommunConfig.raw``), holding ``avloppsvatten/``.
    kommun
        The kommun's name as in ``reningsverk.csv``.
    loq_policy
        ``"zero"`` (default, as EUDA), ``"half_loq"`` or ``"loq"``.

    Returns
    -------
    dict of DataFrame
        ``wastewater_loads``, ``wastewater_campaigns``, ``wastewater_trends`` and
        ``wastewater_consumption`` (columns: ``LOAD_COLUMNS``, ``CAMPAIGN_COLUMNS``,
        ``TREND_COLUMNS``, ``CONSUMPTION_COLUMNS``). Empty tables with these columns when
        the kommun has no ``avloppsvatten/`` folder or no lab files.

    Raises
    ------
    DataError
        From the readers and :func:`compute_loads`; also when a lab sample is reported
        twice across files.
    """
    folder = Path(raw_dir) / "avloppsvatten"
    files = _lab_files(folder / "labb")
    if not files:
        return {
            "wastewater_loads": _empty_frame(LOAD_COLUMNS),
            "wastewater_campaigns": _empty_frame(CAMPAIGN_COLUMNS),
            "wastewater_trends": _empty_frame(TREND_COLUMNS),
            "wastewater_consumption": _empty_frame(CONSUMPTION_COLUMNS),
        }
    lab = pd.concat([read_lab_file(p) for p in files], ignore_index=True)
    plants = read_plants(folder / "reningsverk.csv")
    flows = read_flows(folder / "flode.csv")
    campaigns = read_campaigns(folder / "kampanjer.csv")
    _check_duplicates_across_files(lab, plants, kommun)
    loads = compute_loads(lab, flows, plants, campaigns, kommun=kommun, loq_policy=loq_policy)
    stats_ = campaign_statistics(loads)
    tables = {
        "wastewater_loads": loads,
        "wastewater_campaigns": stats_,
        "wastewater_trends": substance_trends(stats_),
        "wastewater_consumption": back_calculate(stats_),
    }
    schemas = wastewater_schemas()
    return {name: schemas[name].validate(table) for name, table in tables.items()}


def _check_duplicates_across_files(lab: pd.DataFrame, plants: pd.DataFrame, kommun: str) -> None:
    own = sorted(plants.loc[plants["kommun"] == kommun, "plant"].unique())
    plant = lab["plant"].fillna(own[0] if len(own) == 1 else "")
    key = pd.DataFrame({"p": plant, "d": lab["date"], "s": lab["substance"]})
    dup = key.duplicated(keep="first")
    if dup.any():
        r = lab[dup].iloc[0]
        first = lab[(key == key[dup].iloc[0]).all(axis=1)].iloc[0]
        raise _lab_error(
            r,
            "ett prov per reningsverk, dag och substans (samma prov finns i "
            f"{Path(first['source_file']).name} rad {first['source_row']})",
            "Substans",
            r["substance"],
        )
