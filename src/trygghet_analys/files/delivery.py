"""A new survey delivery read without a codebook: sheets, the header row, the cells as text.

Used where no layout exists yet (``trygghet-analys kodbok-utkast``) and for hints when a
layout's settings do not fit its file (which row looks like the header). Reading only:
nothing is interpreted beyond finding the header row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..survey.codebook import Layout, normalise_header, normalise_label
from ._io import read_text_any
from ._limits import check_file
from ._open import open_workbook, read_raw

__all__ = ["Delivery", "guess_header_row", "header_row_hint", "read_delivery", "read_grid"]

_DELIMITERS = (";", ",", "\t", "|")


@dataclass(frozen=True)
class Delivery:
    """A delivery as found.

    Attributes
    ----------
    path : the file.
    format : ``"xlsx"`` or ``"csv"``.
    sheet : the sheet with the data (xlsx), else ``None``.
    sheets : every sheet of the workbook (xlsx).
    first_sheet : whether ``sheet`` is the workbook's first sheet.
    skip_rows : rows above the header row.
    header : the header cells (whitespace collapsed).
    rows : the data rows below the header, every cell as text (``""`` for empty).
    encoding : the csv text's encoding (``utf-8-sig`` or ``cp1252``), else ``None``.
    delimiter : the csv field separator, else ``None``.
    decimal : ``","`` when numbers in the data use a decimal comma, else ``"."``.
    """

    path: Path
    format: str
    sheet: str | None
    sheets: tuple[str, ...]
    first_sheet: bool
    skip_rows: int
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    encoding: str | None
    delimiter: str | None
    decimal: str

    def column(self, j: int) -> list[str]:
        """The cells of column ``j`` below the header."""
        return [r[j] if j < len(r) else "" for r in self.rows]


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return " ".join(str(cell).split())


def read_grid(path: str | Path, *, sheet: str | None = None, delimiter: str | None = None,
              encoding: str = "auto") -> tuple[str | None, tuple[str, ...], list[list[str]]]:  # fmt: skip
    """Every cell of a sheet (xlsx) or a csv file as text.

    Returns
    -------
    sheet : the sheet read, or ``None`` for csv.
    sheets : every sheet name (xlsx), else ``()``.
    grid : rows of text cells.
    """
    path = Path(path)
    check_file(path)
    if path.suffix.lower() == ".xlsx":
        try:
            wb = open_workbook(path)  # a regular, readable file within the size limit
            names = tuple(wb.sheet_names)
            name = sheet if sheet is not None else names[0]
            if name not in names:
                raise DataError(f"bladet '{name}' (filen har: {', '.join(names)})", file=path)
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except DataError:
            raise
        except Exception as exc:  # calamine raises several types for broken files
            raise DataError("en läsbar xlsx-fil", file=path) from exc
        return name, names, [[_text(c) for c in row] for row in grid]
    if path.suffix.lower() != ".csv":
        raise DataError("en fil .xlsx eller .csv", file=path, value=path.name)
    if encoding == "auto":
        text, _ = read_text_any(path)
    else:
        text = read_raw(path).decode(encoding, errors="replace")
    text = text.lstrip("\ufeff")
    delimiter = delimiter or sniff_delimiter(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return None, (), [[_text(c) for c in row] for row in rows]


def sniff_delimiter(text: str) -> str:
    """The separator that splits the first lines into the most, equally many, fields."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    best, score = ";", -1.0
    for d in _DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=d))) for line in lines]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        s = (common - 1) * counts.count(common) / len(counts)
        if s > score:
            best, score = d, s
    return best


def guess_header_row(grid: list[list[str]], known: set[str] | None = None) -> int | None:
    """The 0-based index of the row that looks like the header row.

    With ``known`` (headers as :func:`~trygghet_analys.files.codebook.normalise_label`
    gives them): the row among the first 50 holding most of them. Without: the first row
    whose filled cells are all distinct texts (not numbers), that fills at least half of
    the widest row and is followed by a filled row.
    """
    head = grid[:50]
    if known:
        hits = [sum(normalise_label(c) in known for c in row if c) for row in head]
        if not hits or max(hits) == 0:
            return None
        return hits.index(max(hits))
    width = max((sum(1 for c in row if c) for row in grid[:200]), default=0)
    for i, row in enumerate(head):
        filled = [c for c in row if c]
        if not filled or len(filled) < max(2, width // 2):
            continue
        numbers = sum(_is_number(c) for c in filled)
        below = next((r for r in grid[i + 1 : i + 3] if any(r)), None)
        if numbers == 0 and len(set(filled)) == len(filled) and below is not None:
            return i
    return None


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return False
    return True


def read_delivery(path: str | Path) -> Delivery:
    """Read a new delivery: pick the sheet with data, find the header row, keep the cells.

    The sheet is the one with the most filled cells (the data is not always on the
    first); trailing empty columns are dropped.
    """
    path = Path(path)
    sheet, sheets, grid = read_grid(path)
    first = True
    if sheets:
        best = (sum(1 for row in grid for c in row if c), sheet, grid)
        for name in sheets[1:]:
            _, _, other = read_grid(path, sheet=name)
            size = sum(1 for row in other for c in row if c)
            if size > best[0]:
                best = (size, name, other)
        _, sheet, grid = best
        first = sheet == sheets[0]
    skip = guess_header_row(grid)
    if skip is None:
        raise DataError("en rubrikrad (en rad med kolumnrubriker ovanför svaren)", file=path)
    header = list(grid[skip])
    while header and not header[-1]:
        header.pop()
    width = len(header)
    rows = tuple(tuple((list(r) + [""] * width)[:width]) for r in grid[skip + 1 :])
    numbers = [c for r in rows[:500] for c in r if c and _is_number(c)]
    decimal = "," if any("," in c and "." not in c for c in numbers) else "."
    encoding = delimiter = None
    if path.suffix.lower() == ".csv":
        text, encoding = read_text_any(path)
        delimiter = sniff_delimiter(text.lstrip("\ufeff"))
    return Delivery(path, path.suffix.lower().lstrip("."), sheet, sheets, first, skip,
                    tuple(header), rows, encoding, delimiter, decimal)  # fmt: skip


def header_row_hint(
    path: Path, layout: Layout, year: int, headers, sheet: str | None
) -> DataError | None:
    """When most of a layout's headers are missing from the header row it points at: the
    line that says which row holds them (``rader_ovanfor_rubrik``), else ``None``."""
    wanted = {normalise_header(c.source) for c in layout.columns_for(year)}
    have = {normalise_header(c) for c in headers}
    if len(wanted - have) * 2 <= len(wanted):
        return None
    try:
        _, _, grid = read_grid(
            path, sheet=sheet, delimiter=layout.file.delimiter, encoding=layout.file.encoding
        )
    except DataError:
        return None
    row = guess_header_row(grid, wanted)
    if row is None or row == layout.file.skip_rows:
        return None
    return DataError(
        f"rubrikraden på rad {layout.file.header_row} (rader_ovanfor_rubrik: "
        f"{layout.file.skip_rows}), men rubrikerna står på rad {row + 1}: sätt "
        f"rader_ovanfor_rubrik: {row} under fil i layouten '{layout.name}' (tomma rader "
        "räknas också)",
        file=path,
        sheet=sheet,
        row=row + 1,
    )
