"""EUDA's European wastewater data file: finding, reading and downloading it.

The EUDA (formerly EMCDDA) publishes the SCORE network's city measurements as one CSV,
"Wastewater analysis and drugs — a European multi-city study": one row per year,
metabolite and site, one column per weekday, plus the published weekday, weekend and
daily means. Values are population-normalised loads of the measured residue in
mg/day/1000 inhabitants; 0 means below the limit of quantification and a blank cell means
no sample. The comparison with a kommun's campaigns is pure and lives in
:mod:`trygghet_analys.wastewater.euda`.

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
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import default_data_dir
from ..errors import ConfigError, DataError
from ..wastewater.days import DAYS
from ._io import read_text_any
from ._open import list_raw, raw_exists

__all__ = [
    "EUDA_COLUMNS",
    "EUDA_FILE_NAME",
    "EUDA_PAGE_URL",
    "EUDA_URL",
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


_ID_COLUMNS = {"Year": "year", "Metabolite": "metabolite", "Site ID": "site_id",
               "Country": "country", "City": "city"}  # fmt: skip


_MEAN_COLUMNS = {
    "Weekday mean": "weekday_mean",
    "Weekend mean": "weekend_mean",
    "Daily mean": "daily_mean",
}


#: Columns every EUDA all-data file must have (the header check of ``fetch_euda``).
EUDA_COLUMNS = (*_ID_COLUMNS, *DAYS, *_MEAN_COLUMNS)


def _read_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    path = Path(path)
    if not raw_exists(path):  # a folder or dangling link is refused by open_raw, by name
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
    found = []
    for p in list_raw(folder):
        m = _FILE_RE.match(p.name)
        if m:  # a folder or dangling link with this name is refused when read, not skipped
            found.append((int(m.group(1)), p.lstat().st_mtime, p.name, p))
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
