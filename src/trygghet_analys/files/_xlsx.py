"""A small, fast xlsx writer: tables of values as SpreadsheetML text, byte-reproducible.

``tabeller.xlsx`` holds some 16 000 rows and 235 000 cells; openpyxl builds and
serialises an XML element per cell, which took longer than anything else in a report
outside the charts (about 2,4 s CPU, 7,4 s under a profiler). This module writes the same
workbook as text, column by column (about 0,3 s), with only what the report's workbooks
use: text, numbers with a number format, booleans, dates, a bold header, a coloured
banner line, column widths and frozen rows.

The parts and their order follow what XlsxWriter and openpyxl write (shared strings,
built-in number formats where one exists, no theme); every zip entry carries the same
fixed date, so the same tables give the same bytes. The zip container is written here too
(:func:`zip_entries`, the same records as :mod:`zipfile` writes), so that its entries can
be deflated by zlib-ng, which :mod:`zipfile` cannot be given.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import numbers
import operator
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from zlib_ng import zlib_ng

__all__ = ["MAX_ROWS", "Book", "column_letter", "zip_entries"]

#: Rows of one Excel sheet.
MAX_ROWS = 1_048_576
#: Characters of one Excel cell.
MAX_TEXT = 32_767
#: zlib-ng level of the zip entries. ``tabeller.xlsx`` holds some 10 MB of XML: zlib-ng's
#: level 4 deflates it in about half the CPU of stdlib zlib's level 5 (used before) into
#: slightly fewer bytes (table in ``docs/performance.md``); the cells are the same. Like
#: any deflate library, zlib-ng promises the same bytes only for one version (pinned) on
#: one kind of processor.
COMPRESS_LEVEL = 4

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument"

#: Excel's built-in number formats (ids below 164 need no <numFmt> of their own).
_BUILTIN = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
#: Characters XML 1.0 cannot carry: written as Excel's ``_xHHHH_`` escape.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: Text that Excel would read as such an escape: its underscore escaped (``_x005F_``).
_LOOKS_ESCAPED = re.compile("_(x[0-9A-Fa-f]{4}_)")
_EPOCH = dt.datetime(1899, 12, 30)
#: Larger than any finite float: NaN and ±inf fail ``-_HUGE < v < _HUGE``.
_HUGE = float("inf")
#: A boolean cell's value.
_BIT = {True: "1", False: "0"}

#: Floats in a column from which their text is made in bulk (:func:`_float_reprs`), not
#: by ``repr`` one at a time (below it, making the Arrow array costs more than it saves).
_BULK_REPR = 64

#: The zip records as :mod:`zipfile` packs them: local file header, central directory
#: entry, end of central directory.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
#: Version 2.0 of the zip format (deflate), to make and to extract, as zipfile writes it.
_ZIP_VERSION = 20
#: The "made by" system: Unix (what zipfile writes on any system but Windows).
_UNIX = 3
_DEFLATED = 8
#: The general-purpose flag of a name in UTF-8.
_UTF8_NAME = 0x800
#: Entry permissions rw-r--r--, in the high half of the external attributes.
_PERMISSIONS = 0o644 << 16
#: Sizes and offsets at which zipfile would switch to ZIP64 records (not written here).
_ZIP64_LIMIT = (1 << 31) - 1


def _float_reprs(values: Sequence[float | None]) -> list[str]:
    """``repr`` of each of ``values`` (finite floats), made in bulk; a None (no cell, left
    out by the caller) gives "nan".

    A report writes some 90 000 floats, each with every digit ``repr`` gives it (most have
    17 significant digits): their text took half the time of filling in the sheets' rows.
    Arrow's cast of floats to text writes the same shortest round-trip digits some three
    times faster, but lays some numbers out otherwise: whole numbers without ".0", numbers
    below 1e-4 without an exponent and some long ones from 1e12 up with one. Those (2 % of
    a report's) take ``repr``; the rest are Arrow's text, which is then ``repr``'s
    (``tests/test_export.py`` compares the two over 300 000 floats).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = np.array(values, dtype=np.float64)
    texts = pa.array(array).cast(pa.string())
    other = (np.abs(array) < 1e-4) | (array == np.trunc(array))
    other |= pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    out = texts.to_pylist()
    for i in np.flatnonzero(other).tolist():
        out[i] = repr(values[i])
    return out


def _deflate(data: bytes) -> bytes:
    """``data`` as raw deflate (no zlib header), zlib-ng at :data:`COMPRESS_LEVEL`."""
    return zlib_ng.compress(data, COMPRESS_LEVEL, -15)


def zip_entries(
    entries: Mapping[str, bytes],
    when: dt.datetime,
    deflate: Callable[[bytes], bytes] = _deflate,
) -> bytes:
    """A zip archive of ``entries`` (name → content, in that order), each deflated.

    The records and fields are those :mod:`zipfile` writes for a ``ZipInfo`` entry with
    ``compress_type=ZIP_DEFLATED`` and ``external_attr=0o644 << 16``, dated ``when``, on a
    seekable file (no data descriptor, no extra fields, no comments): with zlib's deflate
    as ``deflate`` the bytes are those of :mod:`zipfile`. Here the entries are deflated by
    zlib-ng (:func:`_deflate`), which :mod:`zipfile` cannot be handed.

    Parameters
    ----------
    entries
        Entry name → uncompressed content.
    when
        The date and time of every entry (1980–2107, to two seconds).
    deflate
        Raw deflate (no zlib header or checksum) of one entry's content.

    Returns
    -------
    bytes
        The archive.
    """
    year, month, day, hour, minute, second = when.timetuple()[:6]
    if not 1980 <= year <= 2107:
        raise ValueError(f"a zip entry cannot be dated {when:%Y-%m-%d}")
    if len(entries) > 0xFFFF:
        raise ValueError(f"{len(entries)} zip entries need ZIP64")
    dos_time = hour << 11 | minute << 5 | second // 2
    dos_date = (year - 1980) << 9 | month << 5 | day
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in entries.items():
        if len(data) * 1.05 > _ZIP64_LIMIT or offset > _ZIP64_LIMIT:
            raise ValueError(f"zip entry {name!r}: too large without ZIP64")
        try:
            raw_name, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            raw_name, flags = name.encode("utf-8"), _UTF8_NAME
        packed = deflate(data)
        crc = zlib_ng.crc32(data)
        fields = (flags, _DEFLATED, dos_time, dos_date, crc, len(packed), len(data))
        out.append(
            _LOCAL.pack(b"PK\x03\x04", _ZIP_VERSION, 0, *fields, len(raw_name), 0) + raw_name
        )
        out.append(packed)
        central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                _ZIP_VERSION,
                _UNIX,
                _ZIP_VERSION,
                0,
                *fields,
                len(raw_name),
                0,
                0,
                0,
                0,
                _PERMISSIONS,
                offset,
            )
            + raw_name
        )
        offset += len(out[-2]) + len(packed)
    directory = b"".join(central)
    if offset > _ZIP64_LIMIT:
        raise ValueError("zip archive too large without ZIP64")
    end = _END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join(out) + directory + end


def column_letter(index: int) -> str:
    """Excel's name of column ``index`` (0 → "A", 26 → "AA").

    Examples
    --------
    >>> [column_letter(i) for i in (0, 25, 26, 701, 702)]
    ['A', 'Z', 'AA', 'ZZ', 'AAA']
    """
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(value: str) -> str:
    """``value`` as the content of an XML element (Excel's escapes for control characters)."""
    if "_x" in value:
        value = _LOOKS_ESCAPED.sub(r"_x005F_\1", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")


def _excel_date(value: dt.date) -> float:
    """Days since Excel's epoch (1899-12-30, as Excel counts from 1900-03-01 on)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    delta = value.replace(tzinfo=None) - _EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


def _plain(value: object) -> object:
    """Python's own bool, int, float or str for a subclass or numpy scalar, else ``value``."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if getattr(getattr(value, "dtype", None), "kind", "") == "b":  # numpy.bool_
        return bool(value)
    return value


def _sparse(
    part: str, args: list[Sequence[object]], values: Sequence[object], empty: tuple = (None,)
) -> tuple[str, list[Sequence[object]]]:
    """A column's piece of the row template: ``part`` filled from ``args`` when every row
    has a value, else ``"%s"`` and its cells as XML: every row filled in from ``part``,
    then "" where the value is one of ``empty`` (found by ``Sequence.index``, not by a
    test per cell)."""
    if not any(map(values.__contains__, empty)):
        return part, args
    cells = list(map(part.__mod__, zip(*args, strict=True)))
    for nothing in empty:
        i = -1
        for _ in range(values.count(nothing)):
            i = values.index(nothing, i + 1)
            cells[i] = ""
    return "%s", [cells]


@dataclass
class _Sheet:
    name: str
    xml: str
    rows: int
    columns: int


@dataclass
class Book:
    """A workbook being written: add sheets with :meth:`add_sheet`, then :meth:`to_bytes`.

    Cell styles: ``"bold"`` (a header), ``"banner"`` (bold, dark orange), or an Excel
    number format for a number (``"0.0%"``, ``"#,##0"``); dates get ``date_format``.
    """

    date_format: str = "yyyy-mm-dd h:mm:ss"
    _sheets: list[_Sheet] = field(default_factory=list)
    _strings: dict[str, int] = field(default_factory=dict)
    _string_count: int = 0
    _formats: dict[str, int] = field(default_factory=dict)
    _numbers: tuple[int, int, list[str]] = (0, 0, [])

    def _style(self, code: str) -> int:
        """The cell style (index into cellXfs) of a number format; 0–2 are fixed."""
        style = self._formats.get(code)
        if style is None:
            style = self._formats[code] = 3 + len(self._formats)
        return style

    def _string(self, value: str) -> int:
        self._string_count += 1
        index = self._strings.get(value)
        if index is None:
            index = self._strings[value] = len(self._strings)
        return index

    def add_sheet(
        self,
        name: str,
        *,
        top: Sequence[Sequence[tuple[str, str]]],
        columns: Sequence[Sequence[object]],
        formats: Sequence[str | Sequence[str | None] | None],
        widths: Sequence[float],
        frozen_rows: int,
    ) -> None:
        """Add a sheet: text rows on top, then the table, one column at a time.

        Parameters
        ----------
        name
            The sheet's name (checked by the caller).
        top
            Rows above the table (a banner, the header): (text, "bold" | "banner") cells.
        columns
            The table's values column by column: None (no cell), bool, int, float
            (finite), str, datetime or date.
        formats
            Per column: the number format of its numbers, or one per row.
        widths
            Per column: its width in characters.
        frozen_rows
            Rows that stay in view when scrolling (0: none).
        """
        first = len(top) + 1
        n_rows = max((len(c) for c in columns), default=0)
        if first - 1 + n_rows > MAX_ROWS:
            raise ValueError(f"sheet {name!r}: {first - 1 + n_rows} rows, Excel holds {MAX_ROWS}")
        letters = [column_letter(j) for j in range(max(len(columns), *map(len, top), 1))]
        # the columns first: they number the shared strings and styles before the header
        template = ['<row r="%s">']
        arguments: list[Sequence[object]] = [self._row_numbers(first, n_rows)]
        for j, values in enumerate(columns):
            part, args = self._column_part(letters[j], first, values, formats[j])
            template.append(part)
            arguments.extend(args)
        template.append("</row>")
        parts = []
        for r, row in enumerate(top, start=1):
            parts.append(f'<row r="{r}">')
            for j, (value, style) in enumerate(row):
                s = 1 if style == "bold" else 2
                parts.append(
                    f'<c r="{letters[j]}{r}" s="{s}" t="s"><v>{self._string(value)}</v></c>'
                )
            parts.append("</row>")
        # every row of the table from one %-template, filled in C: a row costs one
        # formatting call instead of a string per cell and a join per row
        parts.extend(map("".join(template).__mod__, zip(*arguments, strict=True)))
        n_cols = max(len(columns), *map(len, top), 1)
        last = len(top) + n_rows
        ref = "A1" if last <= 1 and n_cols <= 1 else f"A1:{letters[n_cols - 1]}{max(last, 1)}"
        view = '<sheetView workbookViewId="0"'
        if not self._sheets:
            view += ' tabSelected="1"'
        view += ">"
        if frozen_rows:
            view += (
                f'<pane ySplit="{frozen_rows}" topLeftCell="A{frozen_rows + 1}" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
            )
        view += "</sheetView>"
        cols = "".join(
            f'<col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>'
            for j, w in enumerate(widths, start=1)
        )
        xml = (
            f'{_DECL}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            f'<dimension ref="{ref}"/><sheetViews>{view}</sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f"<sheetData>{''.join(parts)}</sheetData>"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
            'header="0.3" footer="0.3"/></worksheet>'
        )
        self._sheets.append(_Sheet(name, xml, last, n_cols))

    def _column(self, letter: str, first: int, values: Sequence[object], fmt: object) -> list[str]:
        """The cells of one column as XML ("" where there is no value)."""
        part, args = self._column_part(letter, first, values, fmt)
        if not args:
            return [part] * len(values)
        return [part % cell for cell in zip(*args, strict=True)]

    def _column_part(
        self, letter: str, first: int, values: Sequence[object], fmt: object
    ) -> tuple[str, list[Sequence[object]]]:
        """One column as a piece of the row template of :meth:`add_sheet`: a %-format
        for its cell in any row and the columns of arguments that fill it, row by row
        (``"%s"`` and the cells as XML when its cells differ in more than their values)."""
        per_row = isinstance(fmt, (list, tuple))
        fast = self._plain_column(letter, first, values, fmt, per_row)
        if fast is not None:
            return fast
        return "%s", [self._any_column(letter, first, values, fmt, per_row)]

    def _plain_column(
        self, letter: str, first: int, values: Sequence[object], fmt: object, per_row: bool
    ) -> tuple[str, list[Sequence[object]]] | None:
        """:meth:`_column_part` for a column of one plain type (float, int, str or bool,
        with None for no value), the kinds a table's columns give: a type check per column
        instead of per cell, and the same XML (styles numbered in the same order). A
        column with a value in every row is a format with a place for the row and the
        value. None for any other column, or one with a value :meth:`_any_column` refuses
        (so that its message is the one said)."""
        if per_row and len(fmt) != len(values):  # type: ignore[arg-type]
            return None
        if values and values[0].__class__ is str:
            text = self._text_column(letter, first, values)
            if text is not None:
                return text
        kinds = set(map(type, values))
        sparse = type(None) in kinds
        kinds.discard(type(None))
        if len(kinds) != 1:
            return None if kinds else ("", [])
        (kind,) = kinds
        rows = self._row_numbers(first, len(values))
        if kind is float or kind is int:
            # NaN and ±inf make the sum NaN or inf (as may a sum of huge numbers): the
            # slow path then decides, and names the cell it refuses (a zero adds nothing)
            if kind is float and not math.isfinite(sum(filter(None, values))):
                return None
            default = "0" if kind is int else "#,##0.00"
            if per_row:
                styles = self._row_styles(values, fmt, default, sparse)  # type: ignore[arg-type]
                if len(styles) == 1:  # one style in every row: written into the piece
                    (style,) = styles.values()
                    part = f'<c r="{letter}%s" s="{style}"><v>%r</v></c>'
                    args = [rows, values]
                else:
                    part = f'<c r="{letter}%s" s="%s"><v>%r</v></c>'
                    args = [rows, list(map(styles.get, fmt)), values]  # type: ignore[arg-type]
            else:
                part = f'<c r="{letter}%s" s="{self._style(fmt or default)}"><v>%r</v></c>'  # type: ignore[arg-type]
                args = [rows, values]
            if kind is float and len(values) >= _BULK_REPR:
                # the values (the last arguments) as their repr, made in bulk
                part = part.replace("<v>%r</v>", "<v>%s</v>")
                args[-1] = _float_reprs(values)  # type: ignore[arg-type]
            return _sparse(part, args, values) if sparse else (part, args)
        if kind is str:
            return self._text_column(letter, first, values)
        if kind is bool:
            bits = list(map(_BIT.get, values))  # type: ignore[arg-type]
            part = f'<c r="{letter}%s" t="b"><v>%s</v></c>'
            return _sparse(part, [rows, bits], values) if sparse else (part, [rows, bits])
        return None

    def _text_column(
        self, letter: str, first: int, values: Sequence[object]
    ) -> tuple[str, list[Sequence[object]]] | None:
        """:meth:`_plain_column` of a column of text (None for no value), checked and
        numbered once per distinct value (a text column repeats a few values over
        thousands of rows). None if some distinct value is no ``str`` (or none is hashable).

        A str subclass equal to a text seen first is written as that text, which is what
        the slow path writes for it too.
        """
        try:
            distinct = dict.fromkeys(values)
        except TypeError:
            return None
        kinds = set(map(type, distinct))
        kinds.discard(type(None))
        if kinds != {str}:
            return None
        if max(map(len, filter(None, distinct)), default=0) > MAX_TEXT:  # type: ignore[arg-type]
            return None
        strings = self._strings
        # numbered in the order of first use, as one cell at a time would number them
        for v in distinct:
            if v and v not in strings:
                strings[v] = len(strings)  # type: ignore[index]
        # None and "" have no shared string (their index is None) and get no cell; the
        # indexes as text once per distinct value, not once per cell
        names = {v: str(strings[v]) for v in distinct if v in strings}
        ids = list(map(names.get, values))
        rows = self._row_numbers(first, len(values))
        part = f'<c r="{letter}%s" t="s"><v>%s</v></c>'
        if all(map(strings.__contains__, distinct)):  # a cell in every row
            self._string_count += len(values)
            return part, [rows, ids]
        self._string_count += len(values) - ids.count(None)
        return _sparse(part, [rows, ids], ids)

    def _row_numbers(self, first: int, n: int) -> list[str]:
        """Rows ``first`` … ``first + n - 1`` as text, made once for every column of a
        sheet (each of its cells names its row)."""
        if self._numbers[:2] != (first, n):
            self._numbers = (first, n, [str(r) for r in range(first, first + n)])
        return self._numbers[2]

    def _row_styles(
        self,
        values: Sequence[object],
        fmt: Sequence[str | None],
        default: str,
        sparse: bool = True,
    ) -> dict[str | None, int]:
        """The style of each of a column's per-row formats, looked up once per format
        rather than once per cell, in the order the cells first use them (that order
        numbers the styles, so the bytes stay the same); ``sparse``: some value is None
        (its row's format unused)."""
        if len(values) != len(fmt):
            raise ValueError(f"{len(values)} values, {len(fmt)} formats")
        used = (
            itertools.compress(fmt, map(operator.is_not, values, itertools.repeat(None)))
            if sparse
            else fmt
        )
        return {code: self._style(code or default) for code in dict.fromkeys(used)}

    def _any_column(
        self, letter: str, first: int, values: Sequence[object], fmt: object, per_row: bool
    ) -> list[str]:
        """:meth:`_column` one cell at a time, for any mix of values and formats."""
        fixed = None if per_row else fmt
        out = []
        string = self._string
        style = self._style
        for i, v in enumerate(values):
            kind = v.__class__
            if v is None or v == "":  # an empty text is an empty cell, as openpyxl wrote it
                out.append("")
            elif kind is float or kind is int:
                if kind is float and not -_HUGE < v < _HUGE:  # type: ignore[operator]
                    raise ValueError(f"cell {letter}{first + i}: {v} is no number Excel holds")
                code = fmt[i] if per_row else fixed  # type: ignore[index]
                s = style(code or ("0" if kind is int else "#,##0.00"))
                out.append(f'<c r="{letter}{first + i}" s="{s}"><v>{v!r}</v></c>')
            elif kind is str:
                if len(v) > MAX_TEXT:  # type: ignore[arg-type]
                    raise ValueError(f"cell {letter}{first + i}: text longer than {MAX_TEXT}")
                out.append(f'<c r="{letter}{first + i}" t="s"><v>{string(v)}</v></c>')  # type: ignore[arg-type]
            elif kind is bool:
                out.append(f'<c r="{letter}{first + i}" t="b"><v>{int(v)}</v></c>')  # type: ignore[call-overload]
            elif isinstance(v, (dt.datetime, dt.date)):
                code = self.date_format if isinstance(v, dt.datetime) else "yyyy-mm-dd"
                out.append(
                    f'<c r="{letter}{first + i}" s="{style(code)}"><v>{_excel_date(v)!r}</v></c>'
                )
            else:  # subclasses of bool/int/float/str, numpy scalars
                plain = _plain(v)
                if plain is v:
                    raise TypeError(f"cell {letter}{first + i}: cannot write {kind.__name__}")
                one = [fmt[i]] if per_row else fmt  # type: ignore[index]
                out.extend(self._any_column(letter, first + i, [plain], one, per_row))
        return out

    def _styles_xml(self) -> str:
        custom = {}
        xfs = [
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
            '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        ]
        for code in self._formats:  # in style order (3, 4, …)
            num = _BUILTIN.get(code)
            if num is None:
                num = custom.setdefault(code, 164 + len(custom))
            xfs.append(
                f'<xf numFmtId="{num}" fontId="0" fillId="0" borderId="0" xfId="0" '
                'applyNumberFormat="1"/>'
            )
        num_fmts = "".join(
            f'<numFmt numFmtId="{n}" formatCode="{_attr(c)}"/>' for c, n in custom.items()
        )
        size, name = '<sz val="11"/>', '<name val="Calibri"/><family val="2"/>'
        return (
            f'{_DECL}<styleSheet xmlns="{_MAIN}">'
            + (f'<numFmts count="{len(custom)}">{num_fmts}</numFmts>' if custom else "")
            + f'<fonts count="3"><font>{size}{name}</font><font><b/>{size}{name}</font>'
            f'<font><b/>{size}<color rgb="00A33F00"/>{name}</font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )

    def to_bytes(self, *, title: str, creator: str, when: dt.datetime) -> bytes:
        """The workbook as an xlsx file: every zip entry dated ``when``."""
        n = len(self._sheets)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        sheet_list = "".join(
            f'<sheet name="{_attr(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self._sheets, start=1)
        )
        ws_type = f"{_REL}/worksheet"
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{ws_type}" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        rels += (
            f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        strings = "".join(
            f'<si><t xml:space="preserve">{_text(s)}</t></si>'
            if s[:1].isspace() or s[-1:].isspace()
            else f"<si><t>{_text(s)}</t></si>"
            for s in self._strings
        )
        parts = {
            "[Content_Types].xml": (
                f'{_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/docProps/app.xml" '
                f'ContentType="{_CT}.extended-properties+xml"/>'
                '<Override PartName="/docProps/core.xml" '
                'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
                f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                f'ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>{overrides}'
                '<Override PartName="/xl/sharedStrings.xml" '
                f'ContentType="{_CT}.spreadsheetml.sharedStrings+xml"/></Types>'
            ),
            "_rels/.rels": (
                f'{_DECL}<Relationships xmlns="{_PKG_REL}">'
                f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
                'Target="docProps/core.xml"/>'
                f'<Relationship Id="rId3" Type="{_REL}/extended-properties" '
                'Target="docProps/app.xml"/></Relationships>'
            ),
            "docProps/app.xml": (
                f'{_DECL}<Properties xmlns="{_REL.replace("relationships", "extended-properties")}">'
                f"<Application>{_text(creator)}</Application></Properties>"
            ),
            "docProps/core.xml": (
                f"{_DECL}<cp:coreProperties "
                'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                'xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                + (f"<dc:title>{_text(title)}</dc:title>" if title else "")
                + f"<dc:creator>{_text(creator)}</dc:creator>"
                f"<cp:lastModifiedBy>{_text(creator)}</cp:lastModifiedBy>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
                "</cp:coreProperties>"
            ),
            "xl/workbook.xml": (
                f'{_DECL}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
                '<bookViews><workbookView activeTab="0"/></bookViews>'
                f"<sheets>{sheet_list}</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                f'{_DECL}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'
            ),
            "xl/styles.xml": self._styles_xml(),
            "xl/sharedStrings.xml": (
                f'{_DECL}<sst xmlns="{_MAIN}" count="{self._string_count}" '
                f'uniqueCount="{len(self._strings)}">{strings}</sst>'
            ),
        }
        for i, sheet in enumerate(self._sheets, start=1):
            parts[f"xl/worksheets/sheet{i}.xml"] = sheet.xml
        return zip_entries({name: text.encode("utf-8") for name, text in parts.items()}, when)
