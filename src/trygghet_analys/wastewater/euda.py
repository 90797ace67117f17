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
from collections.abc import Sequence
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
    "COMPARISON_COLUMNS",
    "compare_with_euda",
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
    work["_wd"] = work["_v"].where(work["_day"].isin(WEEKDAY_DAYS) & present)
    work["_we"] = work["_v"].where(work["_day"].isin(WEEKEND_DAYS) & present)
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


# --------------------------------------------------------------------------- comparison
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
]


def euda_comparison_table(
    data_dir: str | Path | None, campaigns: pd.DataFrame, *, country: str = "SE"
) -> tuple[pd.DataFrame, Path | None]:
    """The comparison table from the newest EUDA file in ``<data_dir>/external``, if any.

    Parameters
    ----------
    data_dir
        The data folder (None: the default ``data/``).
    campaigns
        ``wastewater_campaigns`` (computed with the ``zero`` LOQ policy).
    country
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
    return compare_with_euda(campaigns, read_euda(path), country=country), path


def compare_with_euda(
    campaigns: pd.DataFrame,
    euda: pd.DataFrame,
    *,
    country: str = "SE",
) -> pd.DataFrame:
    """A kommun's campaigns beside the Swedish EUDA sites and the European median.

    Parameters
    ----------
    campaigns
        The ``wastewater_campaigns`` table (``kommun, year, campaign, metabolite,
        daily_mean`` at least; loads in mg/day/1000 inhabitants under the ``zero`` policy
        for a like-for-like comparison).
    euda
        ``read_euda`` output.
    country
        EUDA country code whose sites are shown one by one (default Sweden).

    Returns
    -------
    DataFrame
        ``year, metabolite, city, country, daily_mean, kind, campaign, n_sites``:

        - ``kind`` "kommun": one row per campaign; ``city`` is the kommun ("Älmhult", or
          "Älmhult (plant)" when the kommun has several plants), ``country`` is
          ``country``;
        - ``kind`` "Sverige": one row per EUDA site in ``country`` (city as EUDA spells
          it, e.g. "Växjö");
        - ``kind`` "Europa (median)": the median of every EUDA site's daily mean that
          year, ``city`` "Europa (median)", ``country`` NaN, ``n_sites`` the number of sites.

        Only years and metabolites in ``campaigns`` (substances without an EUDA
        metabolite, such as tramadol, are left out). Sorted by metabolite, year, kind.

    Notes
    -----
    EUDA's daily means are recomputed from its daily values with :func:`campaign_means`,
    so both sides follow the same day rules; sites are matched on city and year because
    EUDA renumbers site ids between releases. "cocaine" is benzoylecgonine and
    "cannabis" THC-COOH on both sides.
    """
    cols = COMPARISON_COLUMNS
    own = campaigns[campaigns["metabolite"].notna()]
    if own.empty:
        return _empty(list(cols))
    own_rows = pd.DataFrame(
        {
            "year": own["year"].astype("int64").to_numpy(),
            "metabolite": own["metabolite"].astype(str).to_numpy(),
            "city": _own_names(own),
            "country": country,
            "daily_mean": own["daily_mean"].astype("float64").to_numpy(),
            "kind": "kommun",
            "campaign": own["campaign"].astype(str).to_numpy(),
            "n_sites": 1,
        }
    )
    wanted = own_rows[["year", "metabolite"]].drop_duplicates()
    means = campaign_means(euda, by=["year", "metabolite", "city", "country"])
    means = means.merge(wanted, on=["year", "metabolite"], how="inner")
    swedish = means[means["country"] == country]
    se_rows = pd.DataFrame(
        {
            "year": swedish["year"].to_numpy(),
            "metabolite": swedish["metabolite"].to_numpy(),
            "city": swedish["city"].to_numpy(),
            "country": swedish["country"].to_numpy(),
            "daily_mean": swedish["daily_mean"].to_numpy(),
            "kind": "Sverige",
            "campaign": None,
            "n_sites": 1,
        }
    )
    med = (
        means.groupby(["year", "metabolite"], sort=True)["daily_mean"]
        .agg(["median", "count"])
        .reset_index()
    )
    eu_rows = pd.DataFrame(
        {
            "year": med["year"].to_numpy(),
            "metabolite": med["metabolite"].to_numpy(),
            "city": "Europa (median)",
            "country": None,
            "daily_mean": med["median"].to_numpy(),
            "kind": "Europa (median)",
            "campaign": None,
            "n_sites": med["count"].to_numpy(),
        }
    )
    out = pd.concat([r for r in (own_rows, se_rows, eu_rows) if not r.empty], ignore_index=True)
    order = {"kommun": 0, "Sverige": 1, "Europa (median)": 2}
    out["_k"] = out["kind"].map(order)
    out = out.sort_values(["metabolite", "year", "_k", "city", "campaign"], kind="stable")
    out = out.drop(columns="_k").reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["n_sites"] = out["n_sites"].astype("int64")
    out["daily_mean"] = out["daily_mean"].astype("float64")
    for c in ("metabolite", "city", "country", "kind", "campaign"):
        out[c] = out[c].astype("str").where(out[c].notna())
    return out[cols]


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
