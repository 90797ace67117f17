"""EUDA's European wastewater data: reading, campaign means, comparison and download.

The EUDA (formerly EMCDDA) publishes the SCORE network's city measurements as one CSV,
"Wastewater analysis and drugs — a European multi-city study": one row per year,
metabolite and site, one column per weekday, plus the published weekday, weekend and
daily means. Values are population-normalised loads of the measured residue in
mg/day/1000 inhabitants; 0 means below the limit of quantification and a blank cell means
no sample. ``campaign_means`` applies EUDA's day rules, so the same function gives a
kommun's own campaign means and reproduces EUDA's published means.

Site ids are renumbered between releases: join on city and year, never on site id.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import default_data_dir
from ..errors import ConfigError, DataError
from ..files._io import read_text_any

__all__ = [
    "DAYS",
    "EUDA_COLUMNS",
    "EUDA_FILE_NAME",
    "EUDA_PAGE_URL",
    "EUDA_URL",
    "WEEKDAY_DAYS",
    "WEEKEND_DAYS",
    "campaign_means",
    "campaign_season",
    "COMPARISON_COLUMNS",
    "ComparisonCity",
    "compare_with_euda",
    "comparison_cities",
    "euda_countries",
    "euda_day_rules",
    "euda_rule_campaigns",
    "euda_rules_text",
    "euda_comparison_table",
    "fetch_euda",
    "find_euda_file",
    "read_euda",
    "read_euda_means",
]

#: EUDA's data page "Wastewater analysis and drugs in Europe — source data" (2026 release).
#: The page links the CSV; check it when a new release appears and pass ``--url``.
EUDA_PAGE_URL = "https://www.euda.europa.eu/data/repository/drugs-municipal-wastewater-europe-source-data-2026_en"
#: The CSV's file name on that page in the 2026 release (encoded CP1252).
EUDA_FILE_NAME = "ww2026-all-data_en.csv"
#: Default download address: the data page; ``fetch_euda`` follows its link to the CSV.
EUDA_URL = EUDA_PAGE_URL

#: English day names in Monday-first order, as EUDA's header spells them.
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: EUDA's "weekday" days (Tue–Thu) and "weekend" days (Fri–Mon).
WEEKDAY_DAYS = ("Tuesday", "Wednesday", "Thursday")
WEEKEND_DAYS = ("Friday", "Saturday", "Sunday", "Monday")

_ID_COLUMNS = {"Year": "year", "Metabolite": "metabolite", "Site ID": "site_id"}
_ID_COLUMNS |= {"Country": "country", "City": "city"}
_MEAN_COLUMNS = {
    "Weekday mean": "weekday_mean",
    "Weekend mean": "weekend_mean",
    "Daily mean": "daily_mean",
}
#: Columns every EUDA all-data file must have (the header check of ``fetch_euda``).
EUDA_COLUMNS = (*_ID_COLUMNS, *DAYS, *_MEAN_COLUMNS)

# Day names a caller may use in the ``day`` column: English (any case), Swedish, or
# Python's weekday numbers (Monday = 0).
_SWEDISH_DAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
_DAY_LOOKUP: dict[object, str] = {}
for _i, (_en, _sv) in enumerate(zip(DAYS, _SWEDISH_DAYS, strict=True)):
    _DAY_LOOKUP[_en.lower()] = _en
    _DAY_LOOKUP[_sv] = _en
    _DAY_LOOKUP[_i] = _en


# --------------------------------------------------------------------------- reading
def _read_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    path = Path(path)
    if not path.is_file():
        raise DataError("en befintlig EUDA-fil (ww…-all-data….csv)", file=path)
    text, _enc = read_text_any(path)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError("en kommaseparerad EUDA-fil", file=path) from exc
    header = [str(c).strip() for c in raw.columns]
    raw.columns = header
    missing = [c for c in EUDA_COLUMNS if c not in header]
    if missing:
        raise DataError(
            "EUDA:s kolumner " + ", ".join(EUDA_COLUMNS),
            file=path,
            row=1,
            column=missing[0],
            value=", ".join(header[:16]),
        )
    return raw, header


def _to_float(raw: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = raw[column].astype(str).str.strip()
    out = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = out.isna() & (text != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            "ett tal eller en tom cell", file=path, row=i + 2, column=column, value=text.iloc[i]
        )
    return out.astype("float64")


def _to_year(raw: pd.DataFrame, path: Path) -> pd.Series:
    text = raw["Year"].astype(str).str.strip()
    ok = text.str.fullmatch(r"\d{4}")
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        raise DataError("ett årtal", file=path, row=i + 2, column="Year", value=text.iloc[i])
    return text.astype("int64")


def read_euda(path: str | Path) -> pd.DataFrame:
    """Read EUDA's all-data CSV (UTF-8 or CP1252) into one row per city, year and day.

    Parameters
    ----------
    path
        The all-data file, e.g. ``data/external/ww2025-all-data.csv``.

    Returns
    -------
    DataFrame
        Columns exactly ``year, metabolite, site_id, country, city, weekday, value``:

        - ``year`` (int64);
        - ``metabolite``, ``site_id``, ``country``, ``city`` (str), exactly as in the file
          ("cocaine", "SE012", "SE", "Växjö", "Stockholm (2)");
        - ``weekday`` (str), the English day name from the header ("Wednesday");
        - ``value`` (float64), mg/day/1000 inhabitants: NaN where the cell is blank (no
          sample), 0 where the file says 0 (below LOQ).

        Rows follow the file's rows, and within a row the header's day order.

    Raises
    ------
    DataError
        When the file is missing, lacks EUDA's columns, or holds a non-numeric value.

    Notes
    -----
    "cocaine" is measured as benzoylecgonine and "cannabis" as THC-COOH; the values are
    loads of the residue, not back-calculated consumption.

    Examples
    --------
    >>> from pathlib import Path
    >>> p = Path(__import__("tempfile").mkdtemp()) / "ww.csv"
    >>> _ = p.write_text(",".join(EUDA_COLUMNS) + "\\n2024,cocaine,SE012,SE,Växjö,"
    ...                  "1,2,3,4,5,6,,1.5,4.5,3.5\\n", encoding="utf-8")
    >>> read_euda(p).value.tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, nan]
    """
    path = Path(path)
    raw, header = _read_table(path)
    days = [c for c in header if c in DAYS]
    wide = pd.DataFrame(
        {
            "year": _to_year(raw, path),
            **{new: raw[old].astype(str) for old, new in _ID_COLUMNS.items() if old != "Year"},
        }
    )
    for d in days:
        wide[d] = _to_float(raw, d, path)
    wide["_row"] = np.arange(len(wide))
    long = wide.melt(
        id_vars=["_row", "year", "metabolite", "site_id", "country", "city"],
        value_vars=days,
        var_name="weekday",
        value_name="value",
    )
    long["_day"] = long["weekday"].map({d: i for i, d in enumerate(days)})
    long = long.sort_values(["_row", "_day"], kind="stable").reset_index(drop=True)
    out = long[["year", "metabolite", "site_id", "country", "city", "weekday", "value"]].copy()
    for c in ("metabolite", "site_id", "country", "city", "weekday"):
        out[c] = out[c].astype("str")
    out["value"] = out["value"].astype("float64")
    return out


def read_euda_means(path: str | Path) -> pd.DataFrame:
    """EUDA's published means, one row per year, metabolite and site.

    Parameters
    ----------
    path
        The all-data file.

    Returns
    -------
    DataFrame
        ``year, metabolite, site_id, country, city, weekday_mean, weekend_mean,
        daily_mean`` as published (mg/day/1000 inhabitants, rounded to 2 decimals).
    """
    path = Path(path)
    raw, _ = _read_table(path)
    out = pd.DataFrame(
        {
            "year": _to_year(raw, path),
            **{new: raw[old].astype(str) for old, new in _ID_COLUMNS.items() if old != "Year"},
        }
    )
    for old, new in _MEAN_COLUMNS.items():
        out[new] = _to_float(raw, old, path)
    return out


# --------------------------------------------------------------------------- means
def _day_names(values: pd.Series, column: str) -> pd.Series:
    def norm(v: object) -> object:
        key = v.lower().strip() if isinstance(v, str) else v
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            key = int(key)
        return _DAY_LOOKUP.get(key, None)

    names = values.map(norm)
    bad = names.isna() & values.notna()
    if bad.any() or values.isna().any():
        v = values[bad | values.isna()].iloc[0]
        raise DataError(
            "en veckodag (Monday–Sunday, måndag–söndag eller 0–6)", column=column, value=v
        )
    return names.astype(str)


def campaign_means(
    data: pd.DataFrame,
    *,
    by: Sequence[str] | str,
    day: str = "weekday",
    value: str = "value",
    year: str | None = None,
) -> pd.DataFrame:
    """Daily, weekday and weekend means of a campaign by EUDA's day rules.

    Parameters
    ----------
    data
        Long table: one row per campaign day (``read_euda`` output, or wastewater loads).
    by
        Columns identifying a campaign, e.g. ``["year", "metabolite", "city"]``.
    day
        Column with the day of the week: English names ("Tuesday"), Swedish names
        ("tisdag") or Python weekday numbers (Monday = 0).
    value
        Column with the daily value. NaN means no sample and is not a day present;
        0 (below LOQ under EUDA's convention) is a day present.
    year
        Column with the campaign's year. When given, each row follows EUDA's day rules
        of its year (:func:`euda_day_rules`: Tue–Fri and Sat–Mon in 2021); when None,
        the usual Tue–Thu and Fri–Mon for every row.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``daily_mean``, ``weekday_mean``, ``weekend_mean``
        (float64, NaN when no day of that kind is present) and ``n_days`` (int64, the
        number of days present), one row per group in order of first appearance.

    Notes
    -----
    With :math:`x_d` the values present and :math:`D` the days present,

    .. math::
        \\text{daily} = \\frac{1}{|D|}\\sum_{d\\in D} x_d,\\quad
        \\text{weekday} = \\text{mean}\\{x_d : d \\in \\{\\text{Tue, Wed, Thu}\\}\\},\\quad
        \\text{weekend} = \\text{mean}\\{x_d : d \\in \\{\\text{Fri, Sat, Sun, Mon}\\}\\}.

    No day is imputed. These are EUDA's rules for every year except 2021, when EUDA
    used Tue–Fri and Sat–Mon (see ``docs/euda.md``).

    Examples
    --------
    >>> d = pd.DataFrame({"c": "x", "weekday": ["Monday", "Tuesday", "Saturday"],
    ...                   "value": [1.0, 2.0, 3.0]})
    >>> campaign_means(d, by="c").iloc[0].to_dict()
    {'c': 'x', 'daily_mean': 2.0, 'weekday_mean': 2.0, 'weekend_mean': 2.0, 'n_days': 3}
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, day, value] if c not in data.columns]
    if missing:
        raise DataError(
            "kolumnerna " + ", ".join([*keys, day, value]),
            column=missing[0],
        )
    work = data[keys].copy()
    work["_day"] = _day_names(data[day], day).to_numpy()
    work["_v"] = pd.to_numeric(data[value], errors="raise").astype("float64").to_numpy()
    present = work["_v"].notna()
    is_wd = work["_day"].isin(WEEKDAY_DAYS).to_numpy().copy()
    is_we = work["_day"].isin(WEEKEND_DAYS).to_numpy().copy()
    if year is not None:
        if year not in data.columns:
            raise DataError("kolumnerna " + ", ".join([*keys, day, value, year]), column=year)
        years = pd.to_numeric(data[year], errors="raise").to_numpy()
        for y in pd.unique(years):
            wd_days, we_days = euda_day_rules(int(y))
            rows = years == y
            is_wd[rows] = work["_day"][rows].isin(wd_days).to_numpy()
            is_we[rows] = work["_day"][rows].isin(we_days).to_numpy()
    work["_wd"] = work["_v"].where(is_wd & present)
    work["_we"] = work["_v"].where(is_we & present)
    g = work.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame(
        {
            "daily_mean": g["_v"].mean(),
            "weekday_mean": g["_wd"].mean(),
            "weekend_mean": g["_we"].mean(),
            "n_days": g["_v"].count().astype("int64"),
        }
    ).reset_index()
    return out[[*keys, "daily_mean", "weekday_mean", "weekend_mean", "n_days"]]


# --------------------------------------------------------------------------- rules
#: EUDA's sampling weeks: the SCORE protocol samples one week in spring (March–April, a
#: few sites into May–June), so EUDA's values are compared with the kommun's spring.
EUDA_SEASON = "vår"

#: The season of a campaign by the month of its middle day (meteorological seasons).
_SEASONS = {12: "vinter", 1: "vinter", 2: "vinter", 3: "vår", 4: "vår", 5: "vår"}
_SEASONS |= {6: "sommar", 7: "sommar", 8: "sommar", 9: "höst", 10: "höst", 11: "höst"}


def euda_day_rules(year: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """EUDA's weekday and weekend days for one year.

    Parameters
    ----------
    year
        The campaign year.

    Returns
    -------
    (weekday days, weekend days)
        Tue–Thu and Fri–Mon; in 2021 Tue–Fri and Sat–Mon (EUDA's 2021 release, checked
        against its published means in ``tests/test_euda.py``).
    """
    if int(year) == 2021:
        return ("Tuesday", "Wednesday", "Thursday", "Friday"), ("Saturday", "Sunday", "Monday")
    return WEEKDAY_DAYS, WEEKEND_DAYS


def euda_rules_text(year: int) -> str:
    """The EUDA rules used for a year's comparison, as one Swedish phrase."""
    wd, _we = euda_day_rules(year)
    days = "tis–fre, helg lör–mån" if len(wd) == 4 else "tis–tor, helg fre–mån"
    return f"EUDA:s regler {int(year)}: under LOQ räknas som 0; vardag {days}"


def campaign_season(date_from: object, date_to: object) -> str | None:
    """Season of a campaign ("vår", "sommar", "höst", "vinter") by its middle day.

    Examples
    --------
    >>> campaign_season("2023-04-05", "2023-04-11"), campaign_season("2023-10-04", "2023-10-10")
    ('vår', 'höst')
    """
    if pd.isna(date_from) or pd.isna(date_to):
        return None
    first, last = pd.Timestamp(date_from), pd.Timestamp(date_to)
    return _SEASONS[(first + (last - first) / 2).month]


def euda_rule_campaigns(loads: pd.DataFrame) -> pd.DataFrame:
    """A kommun's campaign means recomputed under EUDA's conventions.

    Whatever ``loq_policy`` the kommun uses for its own charts, a comparison with EUDA
    must count a day below the LOQ as 0 (EUDA's convention) and apply EUDA's day rules of
    the campaign's year.

    Parameters
    ----------
    loads
        The ``wastewater_loads`` table (``kommun, plant, campaign, date, weekday,
        substance, metabolite, below_loq, population, load_mg_day_1000``).

    Returns
    -------
    DataFrame
        ``kommun, plant, year, campaign, substance, metabolite, daily_mean, weekday_mean,
        weekend_mean, n_days, date_from, date_to, season, population`` (means in
        mg/day/1000 inhabitants; ``population`` the plant's population served, the mean
        over the campaign's days; ``season`` by :func:`campaign_season`).
    """
    cols = [
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
        "date_from",
        "date_to",
        "season",
        "population",
    ]
    if loads.empty:
        return _empty(cols)
    keys = ["kommun", "plant", "campaign", "substance", "metabolite"]
    work = loads[[*keys, "date", "weekday", "population"]].copy()
    below = loads["below_loq"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    work["value"] = loads["load_mg_day_1000"].astype("float64").where(~below, 0.0)
    work["date"] = pd.to_datetime(work["date"])
    g = work.groupby(keys, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "date_from": g["date"].min(),
            "date_to": g["date"].max(),
            "population": g["population"].mean(),
        }
    ).reset_index()
    work = work.merge(extra[[*keys, "date_from"]], on=keys, how="left")
    work["year"] = work["date_from"].dt.year.astype("int64")
    means = campaign_means(work, by=[*keys, "year"], day="weekday", value="value", year="year")
    out = means.merge(extra, on=keys, how="left")
    out["season"] = [
        campaign_season(a, b) for a, b in zip(out["date_from"], out["date_to"], strict=True)
    ]
    out = out.sort_values(["plant", "date_from", "substance"], kind="stable")
    return out[cols].reset_index(drop=True)


@dataclass(frozen=True)
class ComparisonCity:
    """A city the kommun compares itself with (``jamforelsestader`` in ``kommun.yml``).

    Attributes
    ----------
    city : the city as EUDA spells it ("Växjö").
    population : population served by the city's plant(s) in EUDA's campaign.
    plant : the plant's name, for the chart's legend (optional).
    source : where the population comes from (optional).
    """

    city: str
    population: int
    plant: str | None = None
    source: str | None = None


def comparison_cities(config: Mapping[str, object], *, file: object = None) -> list[ComparisonCity]:
    """The kommun's comparison cities from ``kommun.yml`` (key ``jamforelsestader``).

    Parameters
    ----------
    config
        The parsed ``kommun.yml`` (or ``KommunConfig.extra``); ``jamforelsestader`` is a
        list of ``{stad: Växjö, anslutna: 75410, reningsverk: Sundets ARV, kalla: ...}``.
    file
        The ``kommun.yml`` path, for error messages.

    Returns
    -------
    list of ComparisonCity
        Empty when the key is absent.

    Raises
    ------
    DataError
        When an entry has no ``stad`` or no positive whole ``anslutna`` (the plant size is
        printed beside every comparison city).
    """
    entries = config.get("jamforelsestader") or []
    if not isinstance(entries, list):
        raise DataError(
            "en lista med {stad, anslutna}", file=file, column="jamforelsestader", value=entries
        )
    out = []
    for i, e in enumerate(entries, start=1):
        if not isinstance(e, Mapping) or not str(e.get("stad") or "").strip():
            raise DataError(
                "en post med 'stad' (stadens namn som i EUDA:s fil)",
                file=file,
                column=f"jamforelsestader[{i}]",
                value=e,
            )
        pop = e.get("anslutna")
        if not isinstance(pop, int) or isinstance(pop, bool) or pop <= 0:
            raise DataError(
                "ett positivt heltal (anslutna personer vid stadens reningsverk)",
                file=file,
                column=f"jamforelsestader[{i}].anslutna",
                value=pop,
            )
        plant = e.get("reningsverk")
        source = e.get("kalla")
        out.append(
            ComparisonCity(
                city=str(e["stad"]).strip(),
                population=pop,
                plant=None if plant is None else str(plant),
                source=None if source is None else str(source),
            )
        )
    return out


@cache
def _countries_text() -> str:
    return (
        resources.files("trygghet_analys")
        .joinpath("resources", "euda_lander.csv")
        .read_text("utf-8")
    )


def euda_countries() -> pd.DataFrame:
    """EUDA's country codes with whether each is European and Nordic.

    Returns
    -------
    DataFrame
        ``resources/euda_lander.csv``: ``kod, land, europa, norden`` (bool), ``kalla,
        anmarkning``. Europe is the Council of Europe's 46 member states (so Turkey and
        Cyprus count, Brazil, Chile, Canada, the US, Australia, New Zealand and South Korea
        do not); the Nordic countries are the Nordic Council's five. ``H`` is how EUDA's
        2025 file writes Hungary (Debrecen 2023).
    """
    out = pd.read_csv(io.StringIO(_countries_text()), dtype=str, keep_default_na=False)
    for c in ("europa", "norden"):
        out[c] = out[c].eq("ja")
    return out


#: Columns of ``compare_with_euda``'s table (the chart's input).
COMPARISON_COLUMNS = [
    "year",
    "metabolite",
    "city",
    "country",
    "daily_mean",
    "kind",
    "campaign",
    "n_sites",
    "season",
    "season_matched",
    "population",
    "rules",
]

#: Kinds of rows in the comparison, in display order.
KINDS = ("kommun", "jämförelsestad", "Sverige", "Norden (median)", "Europa (median)")


def euda_comparison_table(
    data_dir: str | Path | None,
    loads: pd.DataFrame,
    *,
    country: str = "SE",
    cities: Sequence[ComparisonCity] = (),
) -> tuple[pd.DataFrame, Path | None]:
    """The comparison table from the newest EUDA file in ``<data_dir>/external``, if any.

    Parameters
    ----------
    data_dir
        The data folder (None: the default ``data/``).
    loads
        The kommun's ``wastewater_loads`` (recomputed under EUDA's rules here).
    country, cities
        As in :func:`compare_with_euda`.

    Returns
    -------
    (DataFrame, Path or None)
        :func:`compare_with_euda`'s table and the file used; an empty table with
        :data:`COMPARISON_COLUMNS` and None when no EUDA file is present (the report then
        says so plainly).
    """
    path = find_euda_file(data_dir)
    if path is None:
        return _empty(COMPARISON_COLUMNS), None
    own = euda_rule_campaigns(loads)
    return compare_with_euda(own, read_euda(path), country=country, cities=cities), path


def compare_with_euda(
    campaigns: pd.DataFrame,
    euda: pd.DataFrame,
    *,
    country: str = "SE",
    cities: Sequence[ComparisonCity] = (),
) -> pd.DataFrame:
    """A kommun's campaigns beside its comparison cities, Sweden, the Nordic and Europe.

    Parameters
    ----------
    campaigns
        The kommun's campaigns under EUDA's rules (:func:`euda_rule_campaigns`; at least
        ``kommun, year, campaign, metabolite, daily_mean``, and ``season`` or
        ``date_from``/``date_to`` for season matching, ``population`` for the plant size).
        Do not pass campaign means computed with another ``loq_policy``.
    euda
        ``read_euda`` output.
    country
        EUDA country code whose sites are shown one by one (default Sweden).
    cities
        The kommun's comparison cities (``kommun.yml``), with their plant sizes.

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS`, one row per:

        - ``kind`` "kommun": the kommun's campaign (under EUDA's rules) compared that
          year: its spring campaign(s) when it has one (``season_matched`` True), else its
          other campaigns with ``season_matched`` False; ``city`` the kommun ("Älmhult",
          "Älmhult (plant)" with several plants), ``population`` its plant's;
        - ``kind`` "jämförelsestad": each comparison city's EUDA value, ``population``
          from ``kommun.yml``;
        - ``kind`` "Sverige": every other EUDA site in ``country``;
        - ``kind`` "Norden (median)" and "Europa (median)": the median over the Nordic /
          European sites (:func:`euda_countries`) present in *every* year shown for that
          metabolite (a balanced panel, so a change of line is not a change of sites);
          ``n_sites`` the number of sites.

        EUDA rows have ``season`` "vår" (EUDA samples one spring week) and
        ``season_matched`` True; ``rules`` says which EUDA rules the year follows. Only
        years and metabolites of ``campaigns`` (substances without an EUDA metabolite,
        such as tramadol, are left out). Sorted by metabolite, year, kind.

    Raises
    ------
    DataError
        When the EUDA file has a country code that ``resources/euda_lander.csv`` does not
        list (no site is dropped or counted as European silently).

    Notes
    -----
    EUDA's daily means are recomputed from its daily values with :func:`campaign_means`
    with each year's day rules; sites are matched on country, city and year because EUDA
    renumbers site ids between releases. "cocaine" is benzoylecgonine and "cannabis"
    THC-COOH on both sides.
    """
    cols = COMPARISON_COLUMNS
    own = campaigns[campaigns["metabolite"].notna()].copy()
    if own.empty:
        return _empty(list(cols))
    if "season" not in own.columns:
        if {"date_from", "date_to"} <= set(own.columns):
            own["season"] = [
                campaign_season(a, b) for a, b in zip(own["date_from"], own["date_to"], strict=True)
            ]
        else:
            own["season"] = None
    own["_city"] = _own_names(own)
    own["year"] = own["year"].astype("int64")
    own["_match"] = own["season"].eq(EUDA_SEASON)
    has_spring = own.groupby(["year", "metabolite", "_city"])["_match"].transform("any")
    own = own[own["_match"] | ~has_spring]
    own_rows = pd.DataFrame(
        {
            "year": own["year"].to_numpy(),
            "metabolite": own["metabolite"].astype(str).to_numpy(),
            "city": own["_city"].to_numpy(),
            "country": country,
            "daily_mean": own["daily_mean"].astype("float64").to_numpy(),
            "kind": "kommun",
            "campaign": own["campaign"].astype(str).to_numpy(),
            "n_sites": 1,
            "season": own["season"].to_numpy(),
            "season_matched": own["_match"].to_numpy(dtype=bool),
            "population": (
                own["population"].astype("float64").to_numpy()
                if "population" in own.columns
                else np.nan
            ),
        }
    )
    wanted = own_rows[["year", "metabolite"]].drop_duplicates()
    means = campaign_means(euda, by=["year", "metabolite", "city", "country"], year="year")
    means = means.merge(wanted, on=["year", "metabolite"], how="inner")
    means = means[means["n_days"] > 0]
    kinds = _country_kinds(means["country"])
    means = means.assign(_eu=kinds["europa"].to_numpy(), _nordic=kinds["norden"].to_numpy())

    def site_rows(frame: pd.DataFrame, kind: str, population: object) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "year": frame["year"].to_numpy(),
                "metabolite": frame["metabolite"].to_numpy(),
                "city": frame["city"].to_numpy(),
                "country": frame["country"].to_numpy(),
                "daily_mean": frame["daily_mean"].to_numpy(),
                "kind": kind,
                "campaign": None,
                "n_sites": 1,
                "season": EUDA_SEASON,
                "season_matched": True,
                "population": population,
            }
        )

    size = {_fold(c.city): float(c.population) for c in cities}
    folded = means["city"].map(_fold)
    chosen = means[folded.isin(size)]
    city_rows = site_rows(chosen, "jämförelsestad", chosen["city"].map(_fold).map(size).to_numpy())
    swedish = means[(means["country"] == country) & ~folded.isin(size)]
    se_rows = site_rows(swedish, "Sverige", np.nan)
    nordic = _balanced_median(means[means["_nordic"]], "Norden (median)")
    europe = _balanced_median(means[means["_eu"]], "Europa (median)")
    parts = [own_rows, city_rows, se_rows, nordic, europe]
    out = pd.concat([r for r in parts if not r.empty], ignore_index=True)
    out["rules"] = out["year"].map(euda_rules_text)
    out["_k"] = out["kind"].map({k: i for i, k in enumerate(KINDS)})
    out = out.sort_values(["metabolite", "year", "_k", "city", "campaign"], kind="stable")
    out = out.drop(columns="_k").reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["n_sites"] = out["n_sites"].astype("int64")
    out["daily_mean"] = out["daily_mean"].astype("float64")
    out["population"] = out["population"].astype("float64")
    out["season_matched"] = out["season_matched"].astype(bool)
    for c in ("metabolite", "city", "country", "kind", "campaign", "season", "rules"):
        out[c] = out[c].astype("object").where(out[c].notna()).astype("str").where(out[c].notna())
    return out[cols]


def _balanced_median(means: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Median per year and metabolite over the sites present in every year shown."""
    rows = []
    for metabolite, part in means.groupby("metabolite", sort=True):
        years = sorted(part["year"].unique())
        per_site = part.groupby(["country", "city"])["year"].nunique()
        panel = per_site[per_site == len(years)].index
        if len(panel) == 0:
            continue
        keyed = part.set_index(["country", "city"])
        inside = part[keyed.index.isin(panel)]
        for year, vals in inside.groupby("year", sort=True):
            rows.append(
                {
                    "year": int(year),
                    "metabolite": metabolite,
                    "city": kind,
                    "country": None,
                    "daily_mean": float(vals["daily_mean"].median()),
                    "kind": kind,
                    "campaign": None,
                    "n_sites": int(len(vals)),
                    "season": EUDA_SEASON,
                    "season_matched": True,
                    "population": np.nan,
                }
            )
    return pd.DataFrame(rows)


def _country_kinds(codes: pd.Series) -> pd.DataFrame:
    table = euda_countries().set_index("kod")
    unknown = sorted(set(codes.astype(str)) - set(table.index))
    if unknown:
        raise DataError(
            "en landskod som finns i resources/euda_lander.csv (lägg till landet där, "
            "med om det är europeiskt och nordiskt)",
            column="Country",
            value=unknown[0],
        )
    return table.loc[codes.astype(str), ["europa", "norden"]].reset_index(drop=True)


def _fold(text: object) -> str:
    """Case- and accent-insensitive key: "Växjö", "VAXJO" → "vaxjo"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return plain.casefold().strip()


def _own_names(own: pd.DataFrame) -> np.ndarray:
    """The kommun's name, or "kommun (plant)" when the kommun has several plants."""
    names = own["kommun"].astype(str)
    if "plant" in own.columns:
        plants = own.groupby("kommun")["plant"].transform("nunique")
        several = plants > 1
        names = names.where(~several, names + " (" + own["plant"].astype(str) + ")")
    return names.to_numpy()


def _empty(cols: list[str]) -> pd.DataFrame:
    types = {"year": "int64", "daily_mean": "float64", "n_sites": "int64"}
    types |= {"population": "float64", "season_matched": "bool", "weekday_mean": "float64"}
    types |= {"weekend_mean": "float64", "n_days": "int64"}
    types |= {"date_from": "datetime64[us]", "date_to": "datetime64[us]"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "str")) for c in cols})


# --------------------------------------------------------------------------- files
_FILE_RE = re.compile(r"ww(\d{4})-all-data.*\.csv$", re.IGNORECASE)


def find_euda_file(data_dir: str | Path | None) -> Path | None:
    """The newest EUDA all-data file in ``<data_dir>/external``, or None.

    Parameters
    ----------
    data_dir
        A data folder (holding ``external/``); None means the default ``data/``.

    Returns
    -------
    Path or None
        The ``ww<year>-all-data*.csv`` with the highest release year (ties: the most
        recently modified), or None when there is none.
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = root / "external"
    if not folder.is_dir():
        return None
    found = []
    for p in folder.iterdir():
        m = _FILE_RE.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p.stat().st_mtime, p.name, p))
    return max(found)[3] if found else None


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise ConfigError(
            f"Kunde inte hämta EUDA-filen från '{url}' (HTTP {exc.code}); kontrollera "
            f"adressen på {EUDA_PAGE_URL} och ange den med --url"
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"Kunde inte hämta EUDA-filen från '{url}' ({reason}); kontrollera "
            "internetanslutningen och adressen (--url)"
        ) from exc


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - cp1252 leaves few bytes undecodable


def _header_ok(text: str) -> bool:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    names = [c.strip().strip('"').strip() for c in first.split(",")]
    return all(c in names for c in EUDA_COLUMNS)


def fetch_euda(
    data: str | Path | None,
    *,
    url: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download EUDA's all-data CSV into ``<data>/external/``.

    Parameters
    ----------
    data
        The data folder (None: the default ``data/``); the file goes to ``external/``.
    url
        Address of the CSV, or of the data page that links it (default
        :data:`EUDA_URL`, EUDA's 2026 data page; check it when a new release appears).
    timeout
        Seconds to wait for the server.

    Returns
    -------
    Path
        The written file, named as in the address (``ww2026-all-data_en.csv``).

    Raises
    ------
    ConfigError
        When the download fails (no connection, HTTP error).
    DataError
        When the content is not an EUDA all-data file (wrong header); an existing file
        is then left as it was.

    Notes
    -----
    When the address returns an HTML page, the first link to a ``ww<year>-all-data…csv``
    on it is followed once. The file is written to a temporary name in the same folder and
    moved into place only after its header has been checked.
    """
    root = Path(data) if data is not None else default_data_dir()
    address = url or EUDA_URL
    body = _download(address, timeout)
    text = _decode(body)
    if not _header_ok(text) and "<html" in text[:2000].lower():
        m = re.search(r"""href=["']([^"']*ww\d{4}-all-data[^"']*\.csv)["']""", text, re.I)
        if m:
            address = urllib.parse.urljoin(address, m.group(1))
            body = _download(address, timeout)
            text = _decode(body)
    if not _header_ok(text):
        first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
        raise DataError(
            "en EUDA-fil med kolumnerna " + ", ".join(EUDA_COLUMNS[:5]) + " …",
            file=address,
            row=1,
            value=first[:60],
        )
    name = Path(urllib.parse.urlparse(address).path).name
    if not _FILE_RE.match(name):
        name = EUDA_FILE_NAME
    folder = root / "external"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        final = folder / name
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return final
