"""Raw survey files → the canonical respondent table, strata, series breaks and ledger.

Reading (:func:`read_raw_file`, :func:`read_population`, :func:`ingest_kommun`) is kept
apart from the pure steps (:func:`apply_layout`, :func:`design_weights`), which map whole
columns at once. The rules (``CONTRIBUTING.md``): rows the codebook's exclusion rules
catch go to the ledger with the rule's name; anything else that is wrong raises a
:class:`~trygghet_analys.errors.DataError` naming file, sheet, Excel row, column and value.
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc

from ..config import KommunConfig
from ..errors import DataError, ProblemLog
from ..files._io import read_text_any
from ..files._limits import check_file, check_rows
from ..files.codebook import (
    QUESTIONS,
    SEX_CATEGORIES,
    Codebook,
    Layout,
    load_codebook,
    normalise_header,
    normalise_label,
    parse_age_band,
)

__all__ = [
    "BREAK_COLUMNS",
    "LEDGER_COLUMNS",
    "RESPONSE_COLUMNS",
    "RESPONSE_SCHEMA",
    "SOURCE",
    "STRATA_COLUMNS",
    "SurveyTables",
    "apply_layout",
    "design_weights",
    "ingest_kommun",
    "read_population",
    "read_raw_file",
    "survey_files",
    "validate_responses",
]

SOURCE = "trygghetsmatning"
RESPONSE_COLUMNS: tuple[str, ...] = (
    "kommun",
    "year",
    "respondent_id",
    "stratum",
    "weight",
    "sex",
    "age_group",
    *QUESTIONS,
)
STRATA_COLUMNS = ("kommun", "year", "stratum", "population", "sampled", "respondents",
                  "response_rate")  # fmt: skip
BREAK_COLUMNS = ("kommun", "variable", "year", "reason")
LEDGER_COLUMNS = ("kommun", "source", "file", "sheet", "row", "rule", "detail")

_AGE_LABELS = ("16–24", "25–44", "45–64", "65–85")
_FILE_NAME = re.compile(r"^(\d{4})\.(xlsx|csv)$", re.IGNORECASE)


def _cat(categories) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=True)


#: The boundary to ``processed/survey_responses.parquet``.
RESPONSE_SCHEMA = pa.DataFrameSchema(
    {
        "kommun": pa.Column(str),
        "year": pa.Column("int64", pa.Check.in_range(1900, 2100)),
        "respondent_id": pa.Column(str),
        "stratum": pa.Column(str),
        "weight": pa.Column("float64", pa.Check.gt(0)),
        "sex": pa.Column(_cat(SEX_CATEGORIES), nullable=True),
        "age_group": pa.Column(_cat(_AGE_LABELS), nullable=True),
        **{q: pa.Column(_cat(c), nullable=True) for q, c in QUESTIONS.items()},
    },
    strict=True,
    ordered=True,
    unique=["kommun", "year", "respondent_id"],
)


class SurveyTables(NamedTuple):
    """The survey tables of one or more kommuner (columns as in ``CONTRIBUTING.md``)."""

    responses: pd.DataFrame
    strata: pd.DataFrame
    breaks: pd.DataFrame
    ledger: pd.DataFrame


# --- reading --------------------------------------------------------------------------------
def survey_files(folder: str | Path) -> dict[int, Path]:
    """The yearly survey files of a ``trygghetsmatning/`` folder: year → path.

    Raises
    ------
    DataError
        Two files for the same year (e.g. ``2014.xlsx`` and ``2014.csv``).
    """
    found: dict[int, Path] = {}
    for path in sorted(Path(folder).iterdir()):
        m = _FILE_NAME.match(path.name)
        if not m or not path.is_file():
            continue
        year = int(m.group(1))
        if year in found:
            raise DataError(
                f"en enda fil per år (också '{found[year].name}')", file=path, value=path.name
            )
        found[year] = path
    return found


def read_raw_file(path: str | Path, layout: Layout) -> tuple[str | None, pd.DataFrame, int]:
    """Read one survey file as text cells, exactly as the analyst sees it.

    Parameters
    ----------
    path
        An ``.xlsx`` or ``.csv`` file.
    layout
        The codebook layout (file format, sheet, rows above the header, encoding).

    Returns
    -------
    sheet : str or None
        The sheet read (``None`` for csv).
    cells : DataFrame
        One column per source column, named by the header as written; every cell as text
        (whole numbers without ``.0``, whitespace collapsed, empty cells ``""``).
    first_row : int
        Excel row (1-based, header counted) of the first data row.

    Raises
    ------
    DataError
        Unreadable or truncated file (calamine does not expand XML entities: a bomb is
        reported as unreadable), a csv file or a sheet beyond the size and row limits of
        :mod:`trygghet_analys._limits`, a missing sheet, no header row, duplicate headers or a data row with more or fewer fields than the
        header.
    """
    path = Path(path)
    opts = layout.file
    sheet: str | None = None
    fast = None
    check_file(path)  # size limit, zip and XML bombs: before anything is read into memory
    if opts.format == "xlsx":
        sheet, grid = _read_xlsx(path, opts.sheet)
    else:
        text = _csv_text(path, opts.encoding)
        fast = _csv_arrow(text, opts.delimiter, opts.skip_rows)
        if fast is None:
            grid = _csv_records(text, path, opts.delimiter)
    if fast is not None:
        header, values = fast
        check_rows(len(values), file=path, sheet=sheet)
        width = len(header)
    else:
        header, values = _grid_text(grid, path, opts, layout, sheet)
        width = len(header)
    cells = pd.DataFrame(values, columns=range(width), dtype=object)
    keep = []
    for j, name in enumerate(header):
        if name == "":
            filled = np.flatnonzero(cells[j].to_numpy() != "")
            if filled.size:
                raise DataError(
                    "en rubrik över varje kolumn med värden",
                    file=path,
                    sheet=sheet,
                    row=opts.header_row + 1 + int(filled[0]),
                    column=_excel_column(j),
                    value=cells[j].iloc[filled[0]],
                )
            continue
        keep.append(j)
    cells = cells[keep]
    names = [header[j] for j in keep]
    seen: dict[str, int] = {}
    for j, name in zip(keep, names, strict=True):
        key = normalise_header(name)
        if key in seen:
            raise DataError(
                "unika kolumnrubriker", file=path, sheet=sheet, row=opts.header_row,
                column=_excel_column(j), value=name,
            )  # fmt: skip
        seen[key] = j
    cells.columns = names
    return sheet, cells, opts.header_row + 1


def _grid_text(grid: list[list], path: Path, opts, layout: Layout, sheet: str | None):
    """Header and normalised body cells of a grid read row by row (xlsx, or csv with quotes)."""
    if len(grid) <= opts.skip_rows:
        raise DataError(
            f"en rubrikrad på rad {opts.header_row} (layout '{layout.name}')",
            file=path,
            sheet=sheet,
            row=opts.header_row,
        )
    header = ["" if h is None else " ".join(str(h).split()) for h in grid[opts.skip_rows]]
    body = grid[opts.skip_rows + 1 :]
    check_rows(len(body), file=path, sheet=sheet)
    width = len(header)
    lengths = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    bad = np.flatnonzero((lengths != width) & (lengths > 0) & (opts.format == "csv"))
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{width} fält som rubrikraden (raden är avkortad eller har fler fält)",
            file=path,
            row=opts.header_row + 1 + i,
            value=f"{lengths[i]} fält",
        )
    rows = [r if len(r) == width else [""] * width for r in body]
    grid_cells = np.empty((len(rows), width), dtype=object)
    if rows:
        grid_cells[:] = rows
    values = _as_text(grid_cells)
    return header, values


def _csv_arrow(text: str, delimiter: str, skip_rows: int) -> tuple[list[str], np.ndarray] | None:
    """Header and normalised body cells of a csv text, parsed by pyarrow in C.

    Used only when the result is certain to equal :func:`_csv_records` (Python's
    ``csv.reader``, strict): every quote belongs to a well-formed quoted field, no NUL,
    no blank or ragged rows (pyarrow refuses those). Otherwise ``None``, and the exact
    row-by-row reader gives the same cells or the error that names the row.
    """
    import pyarrow.csv as pacsv

    if not text or len(delimiter) != 1 or "\x00" in text:
        return None
    if '"' in text and '"' in _QUOTED[delimiter].sub("", text):
        return None
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    if not first:
        return None
    names = [f"c{i}" for i in range(len(first))]
    try:
        table = pacsv.read_csv(
            pa_.BufferReader(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 26),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa_.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa_.ArrowInvalid, pa_.ArrowException):
        return None
    if table.num_rows <= skip_rows:
        return None
    header = [" ".join(str(h).split()) for h in table.slice(skip_rows, 1).to_pylist()[0].values()]
    body = table.slice(skip_rows + 1)
    n, width = body.num_rows, len(names)
    if n == 0:
        return header, np.empty((0, width), dtype=object)
    flat = pa_.concat_arrays([c.combine_chunks() for c in body.columns])
    values = _normalise(flat).to_numpy(zero_copy_only=False).astype(object)
    return header, values.reshape(width, n).T


class _QuotedFields(dict):
    """delimiter → compiled regex of a well-formed quoted csv field (cached)."""

    def __missing__(self, delimiter: str) -> re.Pattern:
        d = re.escape(delimiter)
        # the opening quote first (fast scanning), then: preceded by start, delimiter or
        # newline; closed by a quote followed by delimiter, newline or the end
        pattern = re.compile(rf'"(?<![^{d}\r\n]")[^"]*(?:""[^"]*)*"(?![^{d}\r\n])')
        self[delimiter] = pattern
        return pattern


_QUOTED = _QuotedFields()


def _excel_column(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _read_xlsx(path: Path, sheet: str | None) -> tuple[str, list[list]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        name = sheet if sheet is not None else names[0]
        if name not in names:
            raise DataError(
                f"bladet '{name}' (filen har: {', '.join(names)})", file=path, sheet=name
            )
        return name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except DataError:
        raise
    except Exception as exc:  # calamine raises several types for broken zips and XML
        raise DataError(
            f"en läsbar xlsx-fil (filen är trasig eller avkortad: {type(exc).__name__})",
            file=path,
        ) from exc


def _read_csv(path: Path, delimiter: str, encoding: str) -> list[list[str]]:
    return _csv_records(_csv_text(path, encoding), path, delimiter)


def _csv_text(path: Path, encoding: str) -> str:
    try:
        if encoding == "auto":
            text, _ = read_text_any(path)
        else:
            text = path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"en textfil i kodningen {encoding}", file=path) from exc
    except OSError as exc:
        raise DataError("en läsbar fil", file=path) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _csv_records(text: str, path: Path, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise DataError(
            f"en hel csv-fil (filen är avkortad eller har ett oavslutat citattecken: {exc})",
            file=path,
        ) from exc


def _as_text(grid: np.ndarray) -> np.ndarray:
    """Cells as comparable text, vectorised over the whole grid at once.

    Whole floats lose ``.0`` (xlsx stores 1 as 1.0), whitespace runs become one space,
    empty cells become ``""``.
    """
    if grid.size == 0:
        return grid.astype(object)
    arr = pa_.array(pd.Series(grid.ravel(), dtype=object).astype("str"))
    return _normalise(arr).to_numpy(zero_copy_only=False).astype(object).reshape(grid.shape)


def _normalise(arr: pa_.Array) -> pa_.Array:
    """Trim, collapse whitespace runs, ``""`` for null, whole decimals without ``.0``."""
    arr = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
    # the regexes are the costly part: run them only where they can change something
    if pc.any(pc.match_substring_regex(arr, r"\s\s|[\t\n\r\xa0]")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"\s+", replacement=" ")
    if pc.any(pc.match_substring(arr, ".0")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"^(-?\d+)\.0+$", replacement=r"\1")
    return arr


def read_population(path: str | Path, strata: tuple[str, ...]) -> pd.DataFrame:
    """Read ``population.csv`` (year, stratum, population, sampled).

    Parameters
    ----------
    path
        The file (comma or semicolon separated; UTF-8, UTF-8 with BOM or CP1252).
    strata
        The kommun's areas (``kommun.yml: omraden``).

    Returns
    -------
    DataFrame
        ``year, stratum, population, sampled`` (int64 except stratum).

    Raises
    ------
    DataError
        Missing file or column, a population that is not a whole number > 0, a sampled
        count that is not a whole number ≥ 0, an unknown area or a repeated
        (year, stratum).
    """
    path = Path(path)
    try:
        check_file(path)
        text, _ = read_text_any(path)
    except FileNotFoundError as exc:
        raise DataError(
            "filen population.csv (year, stratum, population, sampled)", file=path
        ) from exc
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:  # an empty file: not even a header row
        raise DataError("kolumnerna year, stratum, population, sampled", file=path, row=1) from exc
    table.columns = [normalise_header(c) for c in table.columns]
    for col in ("year", "stratum", "population", "sampled"):
        if col not in table.columns:
            raise DataError(
                "kolumnerna year, stratum, population, sampled", file=path, row=1, column=col
            )
    out = pd.DataFrame({"stratum": table["stratum"].str.strip()})
    for col in ("year", "population", "sampled"):
        values = pd.to_numeric(table[col].str.replace(" ", ""), errors="coerce")
        lowest = 1 if col == "population" else 0  # N_h = 0 would give weight 0
        bad = values.isna() | (values < lowest) | (values % 1 != 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                "ett heltal > 0" if lowest else "ett heltal ≥ 0",
                file=path,
                row=i + 2,
                column=col,
                value=table[col].iloc[i],
            )
        out[col] = values.astype("int64")
    unknown = ~out["stratum"].isin(strata)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            "ett av områdena i kommun.yml: " + ", ".join(strata),
            file=path, row=i + 2, column="stratum", value=out["stratum"].iloc[i],
        )  # fmt: skip
    dup = out.duplicated(["year", "stratum"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(
            "en rad per år och område", file=path, row=i + 2, column="stratum",
            value=f"{out['year'].iloc[i]} {out['stratum'].iloc[i]}",
        )  # fmt: skip
    return out[["year", "stratum", "population", "sampled"]]


# --- the codebook applied (pure) ------------------------------------------------------------
def apply_layout(
    cells: pd.DataFrame,
    *,
    codebook: Codebook,
    layout: Layout,
    year: int,
    kommun: str,
    strata: tuple[str, ...],
    file: str | Path,
    sheet: str | None = None,
    first_row: int = 2,
    ledger_file: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply one codebook layout to one file's text cells.

    Parameters
    ----------
    cells
        Text cells as :func:`read_raw_file` returns them.
    codebook, layout
        The codebook and the layout for ``year``.
    year
        The file's year (from its name).
    kommun, strata
        The kommun's name and areas.
    file, sheet, first_row
        Where the cells come from, for error messages; ``first_row`` is the Excel row of
        the first data row.
    ledger_file
        The file name written into the ledger (default ``str(file)``).

    Returns
    -------
    responses : DataFrame
        The canonical columns except ``weight`` (NaN), one row per kept respondent.
    ledger : DataFrame
        ``kommun, source, file, sheet, row, rule, detail`` for each excluded row.

    Raises
    ------
    DataError
        No respondent row, unknown column, codebook column missing from the file,
        unknown answer value, another year's contents, a missing or duplicate respondent id, an area not in
        ``kommun.yml``, or an age that is not a number.
    """
    where = {"file": file, "sheet": sheet}
    log = ProblemLog()
    specs = layout.columns_for(year)
    by_header = {normalise_header(c): c for c in cells.columns}
    # every codebook column must be in the file, every file column in the codebook
    source_of: dict[str, str] = {}
    for spec in specs:
        key = normalise_header(spec.source)
        if key not in by_header:
            log.add(
                DataError(
                    f"kolumnen '{spec.source}' som kodbokens layout '{layout.name}' mappar till "
                    f"{spec.variable} (den finns inte i filen)",
                    row=first_row - 1,
                    column=spec.source,
                    **where,
                )
            )
            continue
        source_of[spec.variable] = by_header[key]
    known = {normalise_header(s.source) for s in specs} | {
        normalise_header(c) for c in layout.ignore
    }
    for key, name in by_header.items():
        if key not in known:
            later = [s for s in layout.columns if normalise_header(s.source) == key]
            hint = (
                f"kolumnen bara åren {later[0].from_year or ''}–{later[0].to_year or ''} "
                f"enligt kodboken (fran_ar/till_ar), inte {year}"
                if later
                else "en kolumn som kodboken mappar (kolumner) eller ignorerar (ignorera)"
            )
            log.add(DataError(hint, row=first_row - 1, column=name, value=name, **where))

    names = list(cells.columns)
    values = cells.to_numpy(dtype=object)
    col = {v: names.index(c) for v, c in source_of.items()}
    n = len(values)
    rows = np.arange(first_row, first_row + n)
    excluded = np.zeros(n, dtype=bool)
    found: list[tuple[np.ndarray, str, np.ndarray | str]] = []

    def exclude(mask: np.ndarray, rule: str, detail: np.ndarray | str) -> None:
        new = mask & ~excluded
        if new.any():
            found.append(
                (rows[new], rule, detail[new] if isinstance(detail, np.ndarray) else detail)
            )
            excluded[new] = True

    def problem(j: int, mask: np.ndarray, expected: str, *, body=None, at=None) -> None:
        """One line per distinct bad value of column ``j`` (its first row, and a count)."""
        body = values if body is None else body
        at = rows if at is None else at
        hits = np.flatnonzero(mask)
        shown: dict[str, list[int]] = {}
        for i in hits:
            shown.setdefault(body[i, j], []).append(int(i))
        log.more += max(0, len(shown) - 10)  # counted, not shown
        for value, idx in list(shown.items())[:10]:
            extra = f" (samma värde på ytterligare {len(idx) - 1} rader)" if len(idx) > 1 else ""
            log.add(
                DataError(
                    expected + extra, row=int(at[idx[0]]), column=names[j], value=value, **where
                )
            )

    rules = codebook.rules
    if "tom_rad" in rules:
        exclude((values == "").all(axis=1), "tom_rad", "tom rad")
    if "summeringsrad" in rules and n:
        inverse, uniq = pd.factorize(values.ravel())
        words = codebook.summary_words
        is_word = np.array([normalise_label(u) in words for u in uniq], dtype=bool)
        hits = is_word[inverse.reshape(values.shape)].any(axis=1)
        exclude(hits, "summeringsrad", "summeringsrad (till exempel 'Totalt')")
    if "saknar_omrade" in rules and "stratum" in col:
        exclude(values[:, col["stratum"]] == "", "saknar_omrade", "saknar område")

    age = None
    band_group = None
    if "age" in col:
        j = col["age"]
        raw = values[:, j]
        if layout.age_bands is not None:
            age, band_group = _age_from_bands(raw, layout, codebook, excluded, problem, j)
        else:
            age = _numbers(raw, layout.file.decimal)
            bad = np.isnan(age) & (raw != "") & ~excluded
            if bad.any():
                problem(j, bad, _age_expected(raw[bad], layout))
            if layout.age == "fodelsear":
                age = year - np.floor(age)
        age = np.floor(age)
        if "alder_utanfor_urvalet" in rules:
            lo, hi = rules["alder_utanfor_urvalet"]["min"], rules["alder_utanfor_urvalet"]["max"]
            outside = ~np.isnan(age) & ((age < lo) | (age > hi))
            detail = np.full(n, "", dtype=object)
            if layout.age == "fodelsear":
                detail[outside] = [
                    f"födelseår {b} → ålder {a:.0f} utanför {lo}–{hi}"
                    for a, b in zip(age[outside], raw[outside], strict=True)
                ]
            elif band_group is not None:
                detail[outside] = [f"åldersband '{b}' utanför {lo}–{hi}" for b in raw[outside]]
            else:
                detail[outside] = [f"ålder {a:.0f} utanför {lo}–{hi}" for a in age[outside]]
            exclude(outside, "alder_utanfor_urvalet", detail)

    kept = ~excluded
    if n == 0:
        log.add(DataError("minst en svarsrad under rubrikraden", row=first_row, **where))
        log.check()
    if not kept.any():
        log.add(DataError(_all_excluded(found, values, col, layout), row=first_row, **where))
        log.check()
    ledger = _ledger(found, kommun=kommun, file=ledger_file or str(file), sheet=sheet)
    kvalues = values[kept]
    krows = rows[kept]
    m = len(kvalues)

    def fail(variable: str, mask: np.ndarray, expected: str) -> None:
        problem(col[variable], mask, expected, body=kvalues, at=krows)

    if "year" in col:
        other = kvalues[:, col["year"]] != str(year)
        if other.any():
            fail(
                "year",
                other,
                f"året {year} (filen heter {Path(file).name}; innehållet är ett annat år)",
            )

    if "respondent_id" in col:
        ids = kvalues[:, col["respondent_id"]]
        if (ids == "").any():
            fail("respondent_id", ids == "", "ett respondent-id")
        _, first_index, counts = np.unique(ids, return_index=True, return_counts=True)
        for dup_id in ids[first_index[counts > 1]][:10]:
            if dup_id == "":
                continue
            same = ids == dup_id
            where_rows = krows[same]
            fail(
                "respondent_id",
                same & (krows == where_rows[-1]),
                f"unika respondent-id (samma id på rad {', '.join(map(str, where_rows[:-1]))})",
            )
    else:
        ids = np.array([f"rad {r}" for r in krows], dtype=object)

    if "stratum" in col:
        stratum = kvalues[:, col["stratum"]]
        stratum_map = layout.answers.get("stratum")
        if stratum_map is not None:
            codes = _codes(stratum, tuple(stratum_map.items()), None)
            if (codes < 0).any():
                fail("stratum", codes < 0, "ett områdesvärde i kodboken: " + ", ".join(stratum_map))
            targets = np.asarray([*stratum_map.values(), ""], dtype=object)
            stratum = targets[np.where(codes < 0, -1, codes)]
        canonical = {normalise_label(s): s for s in strata}
        inverse, uniq = pd.factorize(stratum)
        named = np.array([canonical.get(normalise_label(u), u) for u in uniq], dtype=object)
        stratum = named[inverse] if len(stratum) else stratum
        wrong = ~np.isin(stratum, np.asarray(strata, dtype=object))
        if stratum_map is not None:
            wrong &= stratum != ""
        if wrong.any():
            fail("stratum", wrong, "ett av områdena i kommun.yml: " + ", ".join(strata))
    else:
        stratum = np.full(m, "", dtype=object)

    out: dict[str, object] = {
        "kommun": pd.array(np.full(m, kommun, dtype=object), dtype="str"),
        "year": np.full(m, year, dtype=np.int64),
        "respondent_id": pd.array(ids, dtype="str"),
        "stratum": pd.array(stratum, dtype="str"),
        "weight": np.full(m, np.nan),
    }
    if "sex" in col:
        out["sex"] = _categorical(kvalues[:, col["sex"]], "sex", SEX_CATEGORIES,
                                  layout.answers.get("sex"), fail)  # fmt: skip
    else:
        out["sex"] = _missing(m, SEX_CATEGORIES)
    groups = codebook.age_groups
    if band_group is not None:
        out["age_group"] = pd.Categorical.from_codes(
            band_group[kept], dtype=_dtype(tuple(g[0] for g in groups))
        )
    elif age is not None:
        kage = age[kept]
        code = np.searchsorted(np.array([g[1] for g in groups[1:]]), kage, side="right")
        outside = ~np.isnan(kage) & ((kage < groups[0][1]) | (kage > groups[-1][2]))
        if outside.any():
            fail("age", outside,
                 f"en ålder {groups[0][1]}–{groups[-1][2]} (eller regeln alder_utanfor_urvalet)")  # fmt: skip
        code = np.where(np.isnan(kage) | outside, -1, code)
        out["age_group"] = pd.Categorical.from_codes(
            code, dtype=_dtype(tuple(g[0] for g in groups))
        )
    else:
        out["age_group"] = _missing(m, _AGE_LABELS)
    # one hash pass over every answer column at once; each column then maps the few
    # distinct values through its own codebook entry
    asked = [q for q in QUESTIONS if q in col]
    inverse, uniq = pd.factorize(kvalues[:, [col[q] for q in asked]].ravel(order="F"))
    inverse = inverse.reshape(len(asked), m)
    for q, cats in QUESTIONS.items():
        if q in col:
            i = asked.index(q)
            out[q] = _categorical(
                kvalues[:, col[q]], q, cats, layout.answers.get(q), fail,
                factorized=(inverse[i], uniq),
            )  # fmt: skip
        else:
            out[q] = _missing(m, cats)
    log.check()
    return pd.DataFrame(out), ledger


def _age_expected(bad: np.ndarray, layout: Layout) -> str:
    """What an age cell should hold, with a hint when a setting is the likely cause."""
    if layout.age == "fodelsear":
        expected = "ett födelseår (ett tal, alder: fodelsear)"
    else:
        expected = "en ålder i år (ett tal)"
    sample = [str(v) for v in bad[:50]]
    if layout.file.decimal == "." and any(re.fullmatch(r"-?\d+,\d+", v) for v in sample):
        return expected + " – värdet har decimalkomma: sätt decimaltecken: ',' under fil"
    if any(parse_age_band(v) for v in sample):
        return expected + " – kolumnen ser ut att ha åldersband: ange aldersgrupper i layouten"
    return expected


def _age_from_bands(raw, layout, codebook, excluded, problem, j):
    """Age bands → (a representative age for the exclusion rule, age-group codes)."""
    groups = codebook.age_groups
    labels = [g[0] for g in groups]
    table = layout.age_bands or {}
    n = len(raw)
    age = np.full(n, np.nan)
    group = np.full(n, -1, dtype=np.int64)
    inverse, uniq = pd.factorize(raw)
    unknown = np.zeros(len(uniq), dtype=bool)
    rep = np.full(len(uniq), np.nan)
    code = np.full(len(uniq), -1, dtype=np.int64)
    for k, u in enumerate(uniq):
        if u == "":
            continue
        key = normalise_label(u)
        if key not in table:
            unknown[k] = True
            continue
        target = table[key]
        band = parse_age_band(u)
        if target is not None:
            code[k] = labels.index(target)
            g = groups[code[k]]
            rep[k] = g[1] if band is None else max(band.low, g[1])
        elif band is not None:
            rep[k] = band.low if band.low > groups[-1][2] else band.high
    if n:
        age = rep[inverse]
        group = code[inverse]
        bad = unknown[inverse] & ~excluded
        if bad.any():
            problem(j, bad, "ett åldersband i layoutens aldersgrupper: " + ", ".join(
                str(k) for k in table))  # fmt: skip
    return age, group


_RULE_HINTS = {
    "tom_rad": "stämmer rader_ovanfor_rubrik och bladet?",
    "summeringsrad": "står ett summeringsord i varje rad?",
    "saknar_omrade": "är rätt kolumn mappad till stratum?",
}


def _all_excluded(found: list, values: np.ndarray, col: dict, layout: Layout) -> str:
    """The message when every row of a file was excluded: the rule and an example."""
    counts: dict[str, int] = {}
    example: dict[str, object] = {}
    for rows_, rule, detail in found:
        counts[rule] = counts.get(rule, 0) + len(rows_)
        example.setdefault(rule, detail[0] if isinstance(detail, np.ndarray) else detail)
    rule = max(counts, key=counts.get)
    total = sum(counts.values())
    text = f"minst en svarsrad som behålls, men alla {total} rader uteslöts"
    text += f" av {rule}" if len(counts) == 1 else f", flest ({counts[rule]}) av {rule}"
    if rule == "alder_utanfor_urvalet" and "age" in col:
        ages = values[:, col["age"]]
        sample = next((a for a in ages if a != ""), "")
        text += f", t.ex. {sample}"
        nums = _numbers(ages, layout.file.decimal)
        if layout.age == "ar" and np.nanmedian(nums) > 1900:
            text += " – är kolumnen födelseår? (alder: fodelsear i layouten)"
    else:
        text += f", t.ex. {example[rule]} – {_RULE_HINTS.get(rule, '')}".rstrip(" –")
    return text


def _numbers(text: np.ndarray, decimal: str) -> np.ndarray:
    """Text to float (NaN for blanks and non-numbers), with the layout's decimal sign."""
    s = pd.Series(text, dtype="str").str.replace(" ", "", regex=False)
    if decimal == ",":
        s = s.str.replace(",", ".", regex=False)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _codes(
    text: np.ndarray,
    items: tuple[tuple[str, object], ...],
    blank: int | None = -1,
    factorized: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Position of each text in ``items`` (``blank`` for ``""``, -2 when unknown).

    Texts and keys are compared after :func:`normalise_label` (case, whitespace, dashes,
    Unicode form), the one forgiving rule for headers and answers alike.

    Vectorised over the distinct values: ``pd.factorize`` + one dict lookup per distinct
    value, so the cost does not grow with the number of rows in Python.
    """
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    position = {normalise_label(k): i for i, (k, _) in enumerate(items)}
    if blank is not None:
        position.setdefault("", blank)
    inverse, uniq = pd.factorize(text) if factorized is None else factorized
    mapped = np.array([position.get(normalise_label(u), -2) for u in uniq], dtype=np.int64)
    return mapped[inverse]


@lru_cache(maxsize=64)
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=True)


def _categorical(text, variable, categories, mapping, fail, factorized=None) -> pd.Categorical:
    """Map a text column to an ordered categorical; unknown values stop the run."""
    categories = tuple(categories)
    if mapping is None:
        mapping = {c: c for c in categories}
    items = tuple(mapping.items())
    targets = np.array(
        [-1 if dst is None else categories.index(dst) for _, dst in items] + [-1, -1],
        dtype=np.int64,
    )  # positions -1 (blank) and -2 (unknown) index the last two
    codes = _codes(text, items, factorized=factorized)
    unknown = codes == -2
    if unknown.any():
        shown = [k for k in mapping if k != ""]
        fail(variable, unknown, "ett av: " + ", ".join(shown) + " (eller tom cell)"
             + _encoding_hint(text[unknown]))  # fmt: skip
    return pd.Categorical.from_codes(targets[codes], dtype=_dtype(categories))


def _encoding_hint(bad: np.ndarray) -> str:
    """A hint when unknown values look like text decoded in the wrong encoding."""
    sample = " ".join(str(v) for v in bad[:50])
    if "\ufffd" in sample or re.search("Ã[\u0080-\u00bf]", sample):
        return " – texten ser felavkodad ut: kontrollera kodning under fil (auto, utf-8, cp1252)"
    return ""


def _missing(n: int, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(np.full(n, -1), dtype=_dtype(tuple(categories)))


def _ledger(found: list, *, kommun: str, file: str, sheet: str | None) -> pd.DataFrame:
    if not found:
        return _empty_ledger()
    rows = np.concatenate([r for r, _, _ in found])
    rule = np.concatenate([np.full(len(r), name, dtype=object) for r, name, _ in found])
    detail = np.concatenate(
        [d if isinstance(d, np.ndarray) else np.full(len(r), d, dtype=object) for r, _, d in found]
    )
    order = np.argsort(rows, kind="stable")
    return pd.DataFrame(
        {
            "kommun": kommun,
            "source": SOURCE,
            "file": file,
            "sheet": sheet,
            "row": rows[order],
            "rule": rule[order],
            "detail": detail[order],
        }
    )


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "row" else "str") for c in LEDGER_COLUMNS}
    )


def design_weights(
    responses: pd.DataFrame, population: pd.DataFrame, *, kommun: str, file: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design weights N_h / r_h and the strata table of one kommun.

    Parameters
    ----------
    responses
        Canonical rows of one kommun (any ``weight``).
    population
        ``year, stratum, population, sampled`` from :func:`read_population`.
    kommun
        The kommun's name.
    file
        The population file, for error messages.

    Returns
    -------
    responses : DataFrame
        With ``weight = N_h / r_h``, r_h the kept respondents of stratum h that year.
    strata : DataFrame
        ``kommun, year, stratum, population, sampled, respondents, response_rate`` for
        every population row of a year with survey data.

    Raises
    ------
    DataError
        A stratum with respondents but no population row, or more respondents than
        sampled.

    Notes
    -----
    The weight makes the stratum's weights sum to N_h (the estimator of R's
    ``svydesign(ids=~1, strata=~stratum, weights=~weight, fpc=~population)``).
    """
    counts = (
        responses.groupby(["year", "stratum"], observed=True)
        .size()
        .rename("respondents")
        .reset_index()
    )
    years = responses["year"].unique()
    merged = counts.merge(population, on=["year", "stratum"], how="left", indicator=True)
    missing = merged["_merge"] == "left_only"
    if missing.any():
        r = merged[missing].iloc[0]
        raise DataError(
            f"en rad i population.csv för år {r['year']} och området '{r['stratum']}'",
            file=file, column="stratum", value=r["stratum"],
        )  # fmt: skip
    strata = population[population["year"].isin(years)].merge(
        counts, on=["year", "stratum"], how="left"
    )
    strata["respondents"] = strata["respondents"].fillna(0).astype("int64")
    over = strata["respondents"] > strata["sampled"]
    if over.any():
        r = strata[over].iloc[0]
        raise DataError(
            f"högst {r['sampled']} svarande (sampled) år {r['year']} i '{r['stratum']}'",
            file=file, column="sampled", value=r["respondents"],
        )  # fmt: skip
    strata["response_rate"] = strata["respondents"] / strata["sampled"].where(strata["sampled"] > 0)
    strata.insert(0, "kommun", kommun)
    strata["kommun"] = strata["kommun"].astype("str")
    order = {name: i for i, name in enumerate(dict.fromkeys(population["stratum"]))}
    strata = strata.sort_values(
        ["year", "stratum"], key=lambda c: c.map(order) if c.name == "stratum" else c
    ).reset_index(drop=True)
    key = responses[["year", "stratum"]].merge(
        strata[["year", "stratum", "population", "respondents"]], on=["year", "stratum"], how="left"
    )
    out = responses.copy()
    out["weight"] = (key["population"] / key["respondents"]).to_numpy(dtype=float)
    return out, strata[list(STRATA_COLUMNS)]


def validate_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """Check the canonical table at the boundary (pandera); raise DataError on failure."""
    try:
        return RESPONSE_SCHEMA.validate(responses, lazy=False)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise DataError(
            f"en kanonisk svarstabell enligt CONTRIBUTING.md ({str(exc).splitlines()[0]})",
            file="survey_responses",
        ) from exc


# --- one kommun (reads files) ---------------------------------------------------------------
def ingest_kommun(kommun: KommunConfig) -> SurveyTables:
    """Read every survey file of one kommun through its codebook.

    Parameters
    ----------
    kommun
        The kommun (its ``raw`` folder holds ``trygghetsmatning/``).

    Returns
    -------
    SurveyTables
        ``responses`` (canonical, validated), ``strata``, ``breaks`` and ``ledger``.

    Raises
    ------
    DataError
        See :func:`read_raw_file`, :func:`apply_layout` and :func:`design_weights`; also a
        year without a codebook layout or a folder without survey files.
    """
    folder = kommun.survey_dir
    codebook = load_codebook(folder / "kodbok.yml")
    files = survey_files(folder) if folder.is_dir() else {}
    if not files:
        raise DataError("minst en fil <år>.xlsx eller <år>.csv", file=folder)
    strata = kommun.strata
    parts, ledgers = [], []
    log = ProblemLog()
    for year, path in files.items():
        try:
            layout = codebook.layout_for(year)
            if layout is None:
                raise DataError(
                    f"en layout i kodboken som omfattar året {year}", file=path, value=year
                )
            if path.suffix.lower().lstrip(".") != layout.file.format:
                raise DataError(
                    f"en {layout.file.format}-fil enligt kodbokens layout '{layout.name}'",
                    file=path, value=path.name,
                )  # fmt: skip
            try:
                sheet, cells, first_row = read_raw_file(path, layout)
            except DataError:
                _header_hint(path, layout, year, (), layout.file.sheet, log)
                raise
            _header_hint(path, layout, year, cells.columns, sheet, log)
            responses, ledger = apply_layout(
                cells,
                codebook=codebook,
                layout=layout,
                year=year,
                kommun=kommun.name,
                strata=strata,
                file=path,
                sheet=sheet,
                first_row=first_row,
                ledger_file=path.relative_to(kommun.raw).as_posix(),
            )
        except DataError as exc:
            log.add(exc)
            continue
        parts.append(responses)
        ledgers.append(ledger)
    log.check()
    responses = pd.concat(parts, ignore_index=True)
    population = read_population(folder / "population.csv", strata)
    responses, strata_table = design_weights(
        responses, population, kommun=kommun.name, file=folder / "population.csv"
    )
    breaks = pd.DataFrame(
        {
            "kommun": pd.Series([kommun.name] * len(codebook.breaks), dtype="str"),
            "variable": pd.Series([b.variable for b in codebook.breaks], dtype="str"),
            "year": pd.Series([b.year for b in codebook.breaks], dtype="int64"),
            "reason": pd.Series([b.reason for b in codebook.breaks], dtype="str"),
        }
    )
    ledger = _tidy_ledger(
        pd.concat([x for x in ledgers if len(x)] or [_empty_ledger()], ignore_index=True)
    )
    return SurveyTables(validate_responses(responses), strata_table, breaks, ledger)


def _header_hint(path: Path, layout: Layout, year: int, headers, sheet, log: ProblemLog) -> None:
    """When most of the layout's headers are missing: say which row holds them."""
    from ..files.delivery import guess_header_row, read_grid

    wanted = {normalise_header(c.source) for c in layout.columns_for(year)}
    have = {normalise_header(c) for c in headers}
    if len(wanted - have) * 2 <= len(wanted):
        return
    try:
        _, _, grid = read_grid(
            path, sheet=sheet, delimiter=layout.file.delimiter, encoding=layout.file.encoding
        )
    except DataError:
        return
    row = guess_header_row(grid, wanted)
    if row is None or row == layout.file.skip_rows:
        return
    log.add(
        DataError(
            f"rubrikraden på rad {layout.file.header_row} (rader_ovanfor_rubrik: "
            f"{layout.file.skip_rows}), men rubrikerna står på rad {row + 1}: sätt "
            f"rader_ovanfor_rubrik: {row} under fil i layouten '{layout.name}' (tomma rader "
            "räknas också)",
            file=path,
            sheet=sheet,
            row=row + 1,
        )
    )


def _tidy_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    out = ledger[list(LEDGER_COLUMNS)].copy()
    for col in ("kommun", "source", "file", "sheet", "rule", "detail"):
        out[col] = out[col].astype("str")
    out["row"] = out["row"].astype("int64")
    return out.reset_index(drop=True)
