"""Survey files: the yearly ``<år>.xlsx``/``<år>.csv`` files and ``population.csv``.

:func:`read_raw_file` returns every cell as text, exactly as the analyst sees it; the
codebook is applied by the pure :func:`trygghet_analys.survey.ingest.apply_layout`.
Anything unreadable raises a :class:`~trygghet_analys.errors.DataError` naming file,
sheet, Excel row, column and value.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa_
import pyarrow.compute as pc

from ..errors import DataError
from ..survey.codebook import Layout, normalise_header
from ..survey.ingest import CodedCells
from ._io import decoded_nfc, nfc, read_text_any
from ._limits import check_rows
from ._open import list_raw, open_workbook, read_raw
from ._xlsx import column_letter

__all__ = [
    "EncodedCells",
    "RawCells",
    "code_cells",
    "encode_cells",
    "reading_memory",
    "read_population",
    "read_raw_file",
    "read_survey_cells",
    "survey_files",
]


_FILE_NAME = re.compile(r"^(\d{4})\.(xlsx|csv)$", re.IGNORECASE)


@contextlib.contextmanager
def reading_memory() -> Iterator[None]:
    """Arrow's memory from the C library's ``malloc`` (its system pool) inside the block,
    and Python's cyclic garbage collector paused.

    Reading many survey files makes and frees many large Arrow buffers; pyarrow's default
    pool (mimalloc) then hands memory back to the kernel and asks for it again so often
    that the kernel's time was a quarter of reading 58 kommuner (0,6–0,9 s of 2,9 s CPU;
    0,3 s with the system pool, and a lower peak; docs/performance.md). Every buffer is
    freed by the pool that made it, so buffers made inside the block may outlive it.

    The collector looked for cycles about 200 times while 58 kommuner were read (the
    codebooks' YAML and the tables make many small objects), 0,18 s of 2,9 s CPU, and
    found next to nothing: almost everything is freed by reference counting. Paused, the
    peak grew by about 10 MB. The pool and the collector before the block are restored
    after it, also on an error.
    """
    previous = pa_.default_memory_pool()
    collecting = gc.isenabled()
    pa_.set_memory_pool(pa_.system_memory_pool())
    gc.disable()
    try:
        yield
    finally:
        pa_.set_memory_pool(previous)
        if collecting:
            gc.enable()


def survey_files(folder: str | Path) -> dict[int, Path]:
    """The yearly survey files of a ``trygghetsmatning/`` folder: year → path.

    Raises
    ------
    DataError
        Two files for the same year (e.g. ``2014.xlsx`` and ``2014.csv``).
    """
    found: dict[int, Path] = {}
    # every entry named like a year file is kept, also a folder or a dangling link: the
    # reader then refuses it (open_raw) instead of the year silently vanishing
    for path in list_raw(folder):
        m = _FILE_NAME.match(path.name)
        if not m:
            continue
        year = int(m.group(1))
        if year in found:
            raise DataError(
                f"en enda fil per år (också '{found[year].name}')", file=path, value=path.name
            )
        found[year] = path
    return found


class RawCells(NamedTuple):
    """One survey file's cells as read, before their text is normalised.

    ``columns`` holds one Arrow string array per column with a header (``names``, as
    written), ``rows`` cells each; ``first_row`` is the Excel row of the first data row.
    A csv file in a one-byte code page (CP1252) has its columns dictionary-coded over one
    dictionary of its distinct texts (each decoded once: :func:`_decoded_cells`).
    """

    sheet: str | None
    names: tuple[str, ...]
    columns: tuple[pa_.Array, ...]
    rows: int
    first_row: int


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
        See :func:`read_survey_cells`.
    """
    raw = read_survey_cells(path, layout)
    cells = pd.DataFrame(
        {name: _text(column) for name, column in zip(raw.names, raw.columns, strict=True)},
        index=pd.RangeIndex(raw.rows),
        columns=list(raw.names),
        dtype=object,
    )
    return raw.sheet, cells, raw.first_row


def read_survey_cells(path: str | Path, layout: Layout) -> RawCells:
    """Read one survey file's cells (the one read of the file; the text is normalised
    later, once per layout, by :func:`code_cells`, or per file by :func:`read_raw_file`).

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
    # size limit, zip and XML bombs before anything is read into memory: checked by the
    # one way in (files/_open.py: read_raw, open_workbook), once per file
    merged: list = []
    if opts.format == "xlsx":
        sheet, grid, merged = _read_xlsx(path, opts.sheet)
    else:
        utf8 = opts.encoding in ("utf-8", "utf-8-sig")
        if utf8:
            # UTF-8 bytes go to pyarrow as they are (it checks them; cells are put in
            # form NFC with their other normalisation, once per distinct text): no
            # decoding of the whole file into Python text and encoding it again
            fast = _csv_arrow(_csv_utf8(path), opts.delimiter, opts.skip_rows)
        elif opts.encoding in _SINGLE_BYTE:
            # a one-byte code page: pyarrow splits the bytes (every delimiter, quote and
            # line end is ASCII), and only each distinct cell is decoded (_decoded_cells)
            fast = _csv_arrow(
                _csv_bytes(path), opts.delimiter, opts.skip_rows, encoding=opts.encoding
            )
            if fast is not None:
                fast = fast[0], _decoded_cells(fast[1], path, opts.encoding)
        if fast is None:
            # not the code page's text (the text says so), or a file pyarrow cannot take
            # exactly as csv.reader does (the same as text: only the form NFC differs)
            text = _csv_text(path, opts.encoding)
            direct = utf8 or opts.encoding in _SINGLE_BYTE
            fast = None if direct else _csv_arrow(text, opts.delimiter, opts.skip_rows)
            if fast is None:
                grid = _csv_records(text, path, opts.delimiter)
    if fast is not None:
        header, columns = fast
        n = len(columns[0]) if columns else 0
        check_rows(n, file=path, sheet=sheet)
    else:
        header, columns, n = _grid_columns(grid, path, opts, layout, sheet)
        if opts.format == "xlsx":
            _refuse_unreadable_cells(path, sheet, header, layout, merged)
    keep = []
    for j, name in enumerate(header):
        if name == "":
            values = _text(columns[j])
            filled = np.flatnonzero(values != "")
            if filled.size:
                raise DataError(
                    "en rubrik över varje kolumn med värden",
                    file=path,
                    sheet=sheet,
                    row=opts.header_row + 1 + int(filled[0]),
                    column=column_letter(j),
                    value=values[filled[0]],
                )
            continue
        keep.append(j)
    names = tuple(header[j] for j in keep)
    seen: dict[str, int] = {}
    for j, name in zip(keep, names, strict=True):
        key = normalise_header(name)
        if key in seen:
            raise DataError(
                "unika kolumnrubriker", file=path, sheet=sheet, row=opts.header_row,
                column=column_letter(j), value=name,
            )  # fmt: skip
        seen[key] = j
    return RawCells(sheet, names, tuple(columns[j] for j in keep), n, opts.header_row + 1)


class EncodedCells(NamedTuple):
    """One file's cells dictionary-coded as soon as it is read (:func:`encode_cells`).

    ``indices`` (32-bit) holds, column after column, the position of each cell's raw
    text in ``dictionary`` (the file's distinct raw texts, not yet normalised).
    """

    names: tuple[str, ...]
    rows: int
    indices: np.ndarray
    dictionary: pa_.Array


def encode_cells(raw: RawCells) -> EncodedCells:
    """One file's cells as :class:`EncodedCells`, for :func:`code_cells`.

    Done right after the file is read, so that its text can be freed before the next
    file is read: the memory of every file's text is then not held (and faulted in anew)
    until all files of a layout are read, and the texts are not copied into one array.
    """
    width = len(raw.names)
    if width == 0 or raw.rows == 0:
        return EncodedCells(raw.names, raw.rows, np.zeros(0, np.int32), pa_.array([""]))
    shared = _shared_dictionary(raw.columns)
    if shared is not None:  # coded while read (_decoded_cells): taken as it is
        indices = pa_.concat_arrays([c.indices for c in raw.columns])
        return EncodedCells(raw.names, raw.rows, indices.to_numpy(), shared)
    columns = [c.dictionary_decode() if pa_.types.is_dictionary(c.type) else c for c in raw.columns]
    flat = pa_.concat_arrays(columns) if width > 1 else columns[0]
    if flat.null_count:  # a missing cell is an empty one (as _normalise reads it)
        flat = pc.fill_null(flat, "")
    encoded = pc.dictionary_encode(flat)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return EncodedCells(raw.names, raw.rows, indices, encoded.dictionary)


def _shared_dictionary(columns: Sequence[pa_.Array]) -> pa_.Array | None:
    """The one dictionary every column is coded over (the same buffers), else None."""
    if not columns or not all(pa_.types.is_dictionary(c.type) for c in columns):
        return None
    first = columns[0].dictionary
    key = [None if b is None else b.address for b in first.buffers()]
    for c in columns[1:]:
        d = c.dictionary
        if len(d) != len(first) or [None if b is None else b.address for b in d.buffers()] != key:
            return None
    if any(c.null_count for c in columns):
        return None
    return first


def code_cells(files: Sequence[RawCells | EncodedCells]) -> CodedCells:
    """The cells of files with the same header as one dictionary-coded grid.

    Each file's distinct raw texts (Arrow's hash table, in C: :func:`encode_cells`) are
    joined and found once more across the files, and only the distinct texts normalised
    (trimmed, whitespace runs one space, whole decimals without ``.0``), so the cost of
    normalising does not grow with the number of files or cells.
    """
    names = files[0].names
    if any(f.names != names for f in files):
        raise ValueError("code_cells: the files need the same header")
    n = sum(f.rows for f in files)
    width = len(names)
    if width == 0 or n == 0:
        return CodedCells(names, np.zeros((n, width), dtype=np.int64), np.array([""], dtype=object))
    encoded = [f if isinstance(f, EncodedCells) else encode_cells(f) for f in files]
    encoded = [e for e in encoded if e.rows]
    merged = pc.dictionary_encode(pa_.concat_arrays([e.dictionary for e in encoded]))
    normalised = _normalise(merged.dictionary).to_numpy(zero_copy_only=False)
    again, uniques = pd.factorize(np.asarray(normalised, dtype=object))
    # each file's dictionary entry → its code; 32-bit codes (Arrow's): half the memory
    # traffic of the region's grid
    code_of = again.astype(np.int32)[merged.indices.to_numpy(zero_copy_only=False)]
    codes = np.empty((width, n), dtype=np.int32)
    row, entry = 0, 0
    for e in encoded:
        own = code_of[entry : entry + len(e.dictionary)]
        codes[:, row : row + e.rows] = own[e.indices].reshape(width, e.rows)
        row, entry = row + e.rows, entry + len(e.dictionary)
    return CodedCells(names, codes.T, np.asarray(uniques, dtype=object))


def _text(column: pa_.Array) -> np.ndarray:
    """One raw column as normalised text (object array)."""
    if pa_.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return _normalise(column).to_numpy(zero_copy_only=False).astype(object)


def _grid_columns(grid: list[list], path: Path, opts, layout: Layout, sheet: str | None):
    """Header, raw text columns and row count of a grid read row by row (xlsx, or csv
    with quotes)."""
    if len(grid) <= opts.skip_rows:
        raise DataError(
            f"en rubrikrad på rad {opts.header_row} (layout '{layout.name}')",
            file=path,
            sheet=sheet,
            row=opts.header_row,
        )
    header = ["" if h is None else nfc(" ".join(str(h).split())) for h in grid[opts.skip_rows]]
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
    n = len(rows)
    grid_cells = np.empty((n, width), dtype=object)
    if rows:
        grid_cells[:] = rows
    if grid_cells.size == 0:
        return header, [pa_.array([], pa_.string()) for _ in range(width)], n
    # column after column, every cell as Python shows it (xlsx stores 1 as 1.0)
    text = [c if type(c) is str else _cell_text(c) for c in grid_cells.ravel(order="F")]
    flat = pa_.array(text, type=pa_.string())
    return header, [flat.slice(j * n, n) for j in range(width)], n


def _cell_text(value: object) -> str:
    """A cell that is not text as text: ``str``, empty for a missing value (None, NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _csv_bytes(path: Path) -> bytes:
    """A csv file's bytes, not decoded (an unreadable file as :func:`_csv_text` says)."""
    try:
        return read_raw(path)
    except OSError as exc:
        raise DataError("en läsbar fil", file=path) from exc


def _csv_utf8(path: Path) -> bytes:
    """A csv file's bytes without a UTF-8 byte order mark (not decoded: pyarrow checks
    them; the caller reads the file as text for the message when they are not UTF-8)."""
    data = _csv_bytes(path)
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


#: code pages of one byte per character (csv files read as bytes, cells decoded later)
_SINGLE_BYTE = ("cp1252",)


@functools.cache
def _utf8_widths(encoding: str) -> np.ndarray:
    """UTF-8 length of each byte's character in a one-byte code page (1 if undefined:
    decoding raises before it is used)."""
    widths = np.ones(256, dtype=np.int64)
    for b in range(256):
        with contextlib.suppress(UnicodeDecodeError):
            widths[b] = len(bytes([b]).decode(encoding).encode("utf-8"))
    return widths


def _decoded(values: pa_.Array, encoding: str) -> pa_.Array:
    """Byte strings of a one-byte code page as UTF-8 text, decoded in one call.

    Raises ``UnicodeDecodeError`` for a byte the code page leaves undefined.
    """
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + n + 1
    ]
    data = values.buffers()[2]
    raw = b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]
    utf8 = raw.decode(encoding).encode("utf-8")
    starts = (offsets - offsets[0]).astype(np.int64)
    if len(utf8) != len(raw):  # characters of two or three bytes in UTF-8: offsets move
        grown = np.concatenate(
            ([0], np.cumsum(_utf8_widths(encoding)[np.frombuffer(raw, np.uint8)] - 1))
        )
        starts = starts + grown[starts]
    return pa_.StringArray.from_buffers(
        n, pa_.py_buffer(starts.astype(np.int32)), pa_.py_buffer(utf8)
    )


def _decoded_cells(columns: list[pa_.Array], path: Path, encoding: str) -> list[pa_.Array]:
    """Byte columns of one file as text: each distinct cell decoded once; the columns are
    dictionary-coded over one shared dictionary (:func:`encode_cells` takes it as it is).

    Raises
    ------
    DataError
        A byte the code page leaves undefined (the message of :func:`_csv_text`).
    """
    if not columns:
        return columns
    n = len(columns[0])
    flat = pa_.concat_arrays(columns) if len(columns) > 1 else columns[0]
    encoded = pc.dictionary_encode(flat)
    try:
        dictionary = _decoded(encoded.dictionary, encoding)
    except UnicodeDecodeError as exc:
        raise DataError(_NOT_IN_ENCODING.format(encoding=encoding), file=path) from exc
    indices = encoded.indices
    return [
        pa_.DictionaryArray.from_arrays(indices.slice(j * n, n), dictionary)
        for j in range(len(columns))
    ]


def _csv_arrow(
    text: str | bytes, delimiter: str, skip_rows: int, *, encoding: str = "utf-8"
) -> tuple[list[str], list[pa_.Array]] | None:
    """Header and raw body columns of a csv text, or of a file's bytes in ``encoding``
    (UTF-8, or a one-byte code page: the columns are then bytes, for
    :func:`_decoded_cells`), parsed by pyarrow in C.

    Used only when the result is certain to equal :func:`_csv_records` (Python's
    ``csv.reader``, strict): every quote belongs to a well-formed quoted field, no NUL,
    no blank or ragged rows (pyarrow refuses those). Otherwise ``None``, and the exact
    row-by-row reader gives the same cells or the error that names the row.

    The header row is read by ``csv.reader`` from the first lines only (the same cells
    as pyarrow's when every quote is well-formed), and the body columns are pyarrow's
    own arrays, not copies; pyarrow parses on this thread (its thread pool costs more
    CPU time than it saves for files of this size).
    """
    import pyarrow.csv as pacsv

    if not text or len(delimiter) != 1 or not delimiter.isascii():
        return None
    data = text.encode("utf-8") if isinstance(text, str) else text
    if b"\x00" in data:
        return None
    quotes = data.count(b'"')
    if quotes and quotes != sum(m.group().count(b'"') for m in _QUOTED[delimiter].finditer(data)):
        return None  # a quote outside a well-formed quoted field
    try:
        records = _first_records(data, delimiter, skip_rows + 1, encoding)
    except UnicodeDecodeError:
        return None  # not in the encoding: the caller reads the file as text (and says so)
    first = records[0] if records else []
    if not first:
        return None
    names = [f"c{i}" for i in range(len(first))]
    try:
        table = pacsv.read_csv(
            pa_.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=1 << 26, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                # UTF-8 checked by pyarrow; a code page's bytes decoded by the caller
                column_types=dict.fromkeys(
                    names, pa_.string() if encoding == "utf-8" else pa_.binary()
                ),
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa_.ArrowInvalid, pa_.ArrowException):
        return None
    if table.num_rows <= skip_rows:
        return None
    if len(records) > skip_rows and len(records[skip_rows]) == len(names):
        cells = records[skip_rows]
    else:  # an empty line among the first (one column): pyarrow's own cells
        cells = list(table.slice(skip_rows, 1).to_pylist()[0].values())
        cells = [c.decode(encoding) if isinstance(c, bytes) else c for c in cells]
    header = [nfc(" ".join(str(h).split())) for h in cells]
    body = table.slice(skip_rows + 1)
    return header, [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for c in body.columns]


def _first_records(
    data: bytes, delimiter: str, count: int, encoding: str = "utf-8"
) -> list[list[str]]:
    """The first ``count`` records of a csv text's UTF-8 bytes as ``csv.reader`` reads
    them (in form NFC, as the header is compared).

    Only the lines that hold them are decoded and parsed when they have no quote (every
    newline then ends a record); otherwise the whole text.
    """
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    head = data[: end + 1] if end >= 0 and b'"' not in data[: end + 1] else data
    text = nfc(head.decode(encoding))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [row for row, _ in zip(reader, range(count), strict=False)]


class _QuotedFields(dict):
    """delimiter → compiled regex of a well-formed quoted csv field (cached)."""

    def __missing__(self, delimiter: str) -> re.Pattern:
        d = re.escape(delimiter)
        # the opening quote first (fast scanning), then: preceded by start, delimiter or
        # newline; closed by a quote followed by delimiter, newline or the end (on the
        # UTF-8 bytes: the delimiter is ASCII, so no byte of another character is it)
        pattern = re.compile(rf'"(?<![^{d}\r\n]")[^"]*(?:""[^"]*)*"(?![^{d}\r\n])'.encode("ascii"))
        self[delimiter] = pattern
        return pattern


_QUOTED = _QuotedFields()


#: combining marks (RE2 syntax): only text holding one can be other than NFC in practice
_COMBINING = (
    r"[\x{0300}-\x{036F}\x{1AB0}-\x{1AFF}\x{1DC0}-\x{1DFF}\x{20D0}-\x{20FF}"
    r"\x{FE20}-\x{FE2F}\x{3099}\x{309A}]"
)


def _read_xlsx(path: Path, sheet: str | None) -> tuple[str, list[list], list]:
    try:
        wb = open_workbook(path)  # a regular, readable file within the size limit
        names = wb.sheet_names
        # a sheet named on a Mac (NFD) is the codebook's sheet all the same
        by_nfc = {nfc(n): n for n in names}
        name = nfc(sheet) if sheet is not None else nfc(names[0])
        if name not in by_nfc:
            raise DataError(
                f"bladet '{name}' (filen har: {', '.join(names)})", file=path, sheet=name
            )
        ws = wb.get_sheet_by_name(by_nfc[name])
        return name, ws.to_python(skip_empty_area=False), list(ws.merged_cell_ranges or [])
    except DataError:
        raise
    except Exception as exc:  # calamine raises several types for broken zips and XML
        raise DataError(
            f"en läsbar xlsx-fil (filen är trasig eller avkortad: {type(exc).__name__})",
            file=path,
        ) from exc


_SAVE_AGAIN = "spara filen i Excel och leverera igen"


def _refuse_unreadable_cells(
    path: Path, sheet: str, header: list[str], layout: Layout, merged: list
) -> None:
    """Merged cells and formulas without a saved value in the columns the layout reads.

    Both would be read as blank cells: a merged answer holds its value only in the first
    cell of the range, and a formula written by a script (not by Excel) has no computed
    value stored in the file. Only data rows (below the header) of mapped columns count;
    a merged title above the header is fine.
    """
    wanted = {normalise_header(c.source) for c in layout.columns}
    mapped = {j for j, h in enumerate(header) if h and normalise_header(h) in wanted}
    first_data = layout.file.skip_rows + 1  # 0-based row index of the first data row
    for (r0, c0), (r1, c1) in sorted(merged):
        cols = [j for j in range(c0, c1 + 1) if j in mapped]
        if cols and r1 >= first_data:
            top = max(r0, first_data)
            ref = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            raise DataError(
                f"celler som inte är sammanfogade (cellerna {ref} är sammanfogade och läses "
                f"som tomma utom den första) – ta bort sammanfogningen, {_SAVE_AGAIN}",
                file=path, sheet=sheet, row=top + 1, column=header[cols[0]],
            )  # fmt: skip
    for ref, col, row in _uncached_formulas(path, sheet):
        if col in mapped and row >= first_data:
            raise DataError(
                f"ett sparat värde i cellen {ref} (cellen har en formel utan beräknat värde "
                f"och skulle läsas som tom) – {_SAVE_AGAIN}",
                file=path, sheet=sheet, row=row + 1, column=header[col],
            )  # fmt: skip


_CELL_WITH_FORMULA = re.compile(
    rb"<c\b([^>]*)(?<!/)>((?:(?!</c>).)*?<f[\s>/](?:(?!</c>).)*?)</c>", re.S
)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CACHED = re.compile(rb"<v>[^<]+</v>")


def _uncached_formulas(path: Path, sheet: str) -> list[tuple[str, int, int]]:
    """Cells of ``sheet`` holding a formula without a cached value: (ref, col, row), 0-based.

    Reads the sheet's XML from the archive (calamine gives values only). Fast when the
    sheet has no formulas at all (one byte search); a formula whose cached value is an
    empty text (``t="str"`` with ``<v></v>``, as Excel saves ``=""``) is a value.
    """
    import zipfile

    with zipfile.ZipFile(io.BytesIO(read_raw(path))) as z:
        member = _sheet_member(z, sheet)
        if member is None:
            return []
        xml = z.read(member)
    if b"<f" not in xml:
        return []
    out = []
    for m in _CELL_WITH_FORMULA.finditer(xml):
        attrs, body = m.group(1), m.group(2)
        if _CACHED.search(body) or (b't="str"' in attrs and b"<v" in body):
            continue
        ref = _CELL_REF.search(attrs)
        if ref is None:
            continue
        letters, number = ref.group(1).decode(), int(ref.group(2))
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        out.append((f"{letters}{number}", col - 1, number - 1))
    return out


def _sheet_member(z, sheet: str) -> str | None:
    """The archive member holding the sheet called ``sheet`` (workbook.xml → rels)."""
    import html

    try:
        book = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except KeyError:
        return None
    rid = None
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)/?>", book):
        name = re.search(r'\bname="([^"]*)"', m.group(1))
        ident = re.search(r'\br:id="([^"]*)"', m.group(1))
        if name and ident and nfc(html.unescape(name.group(1))) == nfc(sheet):
            rid = ident.group(1)
            break
    if rid is None:
        return None
    for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
        ident = re.search(r'\bId="([^"]*)"', m.group(1))
        target = re.search(r'\bTarget="([^"]*)"', m.group(1))
        if ident and target and ident.group(1) == rid:
            t = target.group(1)
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    return None


_NOT_IN_ENCODING = (
    "en textfil i kodningen {encoding} – sätt kodning: auto under fil i layouten "
    "(eller den kodning leverantören använt)"
)


def _csv_text(path: Path, encoding: str) -> str:
    try:
        if encoding == "auto":
            text, _ = read_text_any(path)
        else:
            text = decoded_nfc(read_raw(path), encoding)
    except UnicodeDecodeError as exc:
        raise DataError(_NOT_IN_ENCODING.format(encoding=encoding), file=path) from exc
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


def _normalise(arr: pa_.Array) -> pa_.Array:
    """Trim, collapse whitespace runs, ``""`` for null, whole decimals without ``.0``,
    Unicode form NFC (a cell "Södra" typed on a Mac, NFD, is "Södra")."""
    arr = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
    if pc.any(pc.match_substring_regex(arr, _COMBINING)).as_py():
        arr = pc.utf8_normalize(arr, form="NFC")
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
        text, _ = read_text_any(path)  # read_raw: the size limit before reading
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
    stratum = table["stratum"].str.strip()
    numbers: dict[str, np.ndarray] = {}
    for col in ("year", "population", "sampled"):
        values = pd.to_numeric(table[col].str.replace(" ", ""), errors="coerce").to_numpy()
        lowest = 1 if col == "population" else 0  # N_h = 0 would give weight 0
        bad = pd.isna(values) | (values < lowest) | (values % 1 != 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                "ett heltal > 0" if lowest else "ett heltal ≥ 0",
                file=path,
                row=i + 2,
                column=col,
                value=table[col].iloc[i],
            )
        numbers[col] = values.astype("int64")
    # plain Python over the few rows: pandas' fixed cost per operation is the larger part
    names = stratum.tolist()
    known = set(strata)
    unknown = [i for i, name in enumerate(names) if name not in known]
    if unknown:
        i = unknown[0]
        raise DataError(
            "ett av områdena i kommun.yml: " + ", ".join(strata),
            file=path, row=i + 2, column="stratum", value=names[i],
        )  # fmt: skip
    seen: set[tuple[int, str]] = set()
    for i, pair in enumerate(zip(numbers["year"].tolist(), names, strict=True)):
        if pair in seen:
            raise DataError(
                "en rad per år och område", file=path, row=i + 2, column="stratum",
                value=f"{numbers['year'][i]} {names[i]}",
            )  # fmt: skip
        seen.add(pair)
    return pd.DataFrame(
        {
            "year": numbers["year"],
            "stratum": stratum,
            "population": numbers["population"],
            "sampled": numbers["sampled"],
        }
    )
