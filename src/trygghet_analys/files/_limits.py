"""Limits on what a run will read: file size, row count, and xlsx archives that are bombs.

A yearly survey file is a few MB and tens of thousands of rows even for a whole police
region; anything far beyond that is a wrong file or an attack, and reading it would
exhaust memory before any useful message. Readers call these checks *before* parsing
(:func:`check_file`) and after counting rows (:func:`check_rows`); both raise a
:class:`~trygghet_analys.errors.DataError` with one Swedish line.

A YAML file (``kodbok.yml``, ``kommun.yml``, the registers) can hold an *alias bomb*:
anchors that refer to lists of anchors, a few lines that expand to billions of nodes as
soon as anything walks the document. :func:`check_yaml` counts the expanded nodes before
the document is used.

An xlsx file is a zip archive of XML parts. :func:`check_file` also refuses an archive
whose parts unpack to far more than the file (a zip bomb) and any part that declares a
DTD (``<!DOCTYPE`` / ``<!ENTITY``): Excel never writes one, and a DTD is how an XML
entity bomb ("billion laughs") or an external entity is smuggled in. This does not rely
on the XML parser (calamine does not expand entities; openpyxl runs with defusedxml).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import DataError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNPACKED_BYTES",
    "MAX_YAML_NODES",
    "check_file",
    "check_rows",
    "check_yaml",
    "check_yaml_node",
]

#: Largest raw file read (bytes): 200 MB.
MAX_FILE_BYTES = 200 * 1024**2
#: Most data rows read from one file or sheet.
MAX_ROWS = 2_000_000
#: Largest total unpacked size of an xlsx archive's parts (bytes): 2 GB.
MAX_XLSX_UNPACKED_BYTES = 2 * 1024**3
#: Largest unpacked/packed ratio of an xlsx archive (spreadsheets compress ~5–20×).
MAX_XLSX_RATIO = 200
#: Most nodes a YAML file may expand to (aliases counted as often as they are used).
MAX_YAML_NODES = 1_000_000
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_PROLOG_BYTES = 4096  # a DTD must come before the root element


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f}".replace(".", ",") + " MB"


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def check_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse a file that is too large, or an xlsx archive that is a zip or XML bomb.

    Parameters
    ----------
    path
        The raw file about to be read.
    max_bytes
        The size limit (default :data:`MAX_FILE_BYTES`).

    Raises
    ------
    DataError
        The file is larger than ``max_bytes``; or (``.xlsx``/``.xlsm``) its parts unpack
        to more than :data:`MAX_XLSX_UNPACKED_BYTES` or :data:`MAX_XLSX_RATIO` times the
        file, or an XML part declares a DTD. A missing file or one that is not a zip
        archive passes: the reader reports those with its own message.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("x\\n1\\n")
    >>> check_file(p, max_bytes=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trygghet_analys.errors.DataError: Fel i data (fil '...a.csv'): förväntade en fil på högst 0,0 MB (filen är 0,0 MB; ...
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > max_bytes:
        raise DataError(
            f"en fil på högst {_mb(max_bytes)} (filen är {_mb(size)}; dela upp filen, "
            "eller kontrollera att det är rätt fil)",
            file=path,
        )
    if path.suffix.lower() in _XLSX_SUFFIXES:
        _check_xlsx(path, size)


def _check_xlsx(path: Path, size: int) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not an archive: the reader says "en läsbar xlsx-fil"
    with archive:
        infos = archive.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_XLSX_UNPACKED_BYTES or unpacked > MAX_XLSX_RATIO * max(size, 1):
            raise DataError(
                f"en xlsx-fil som packas upp till högst {_mb(MAX_XLSX_UNPACKED_BYTES)} och "
                f"{MAX_XLSX_RATIO} gånger filens storlek (delarna packas upp till "
                f"{_mb(unpacked)}: en möjlig zip-bomb)",
                file=path,
            )
        for info in infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with archive.open(info) as part:
                    head = part.read(_PROLOG_BYTES)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                return  # truncated or odd archive: the reader reports it
            if any(marker in head for marker in _DTD_MARKERS):
                raise DataError(
                    "en xlsx-fil utan DTD (delen '"
                    + info.filename
                    + "' innehåller <!DOCTYPE eller <!ENTITY: en möjlig XML-bomb; "
                    "spara om filen i Excel)",
                    file=path,
                )


def check_rows(
    n_rows: int,
    *,
    file: str | Path,
    sheet: str | None = None,
    max_rows: int = MAX_ROWS,
) -> None:
    """Refuse a file or sheet with more than ``max_rows`` data rows.

    Parameters
    ----------
    n_rows
        Data rows read (header excluded).
    file, sheet
        Where, for the message.
    max_rows
        The limit (default :data:`MAX_ROWS`).

    Raises
    ------
    DataError
        When ``n_rows > max_rows``.

    Examples
    --------
    >>> check_rows(10, file="2025.csv")
    >>> check_rows(3, file="2025.csv", max_rows=2)
    Traceback (most recent call last):
    ...
    trygghet_analys.errors.DataError: Fel i data (fil '2025.csv'): förväntade högst 2 rader per fil (filen har 3 rader; dela upp filen, eller kontrollera att det är rätt fil)
    """
    if n_rows > max_rows:
        raise DataError(
            f"högst {_count(max_rows)} rader per fil (filen har {_count(n_rows)} rader; "
            "dela upp filen, eller kontrollera att det är rätt fil)",
            file=file,
            sheet=sheet,
        )


def check_yaml(text: str, *, file: str | Path, max_nodes: int = MAX_YAML_NODES) -> None:
    """Refuse a YAML document that expands to more than ``max_nodes`` nodes (alias bomb).

    Parameters
    ----------
    text
        The file's text.
    file
        The file, for the message.
    max_nodes
        The limit (default :data:`MAX_YAML_NODES`).

    Raises
    ------
    DataError
        When the document, with every alias expanded, has more nodes than ``max_nodes``.
        Invalid YAML passes: the reader reports it with its own message.

    Notes
    -----
    Composing a document keeps aliases as shared references, so it is linear in the
    file's size; the expanded size is then counted once per distinct node.

    Examples
    --------
    >>> bomb = "a: &a [x, x, x]\\nb: &b [*a, *a, *a]\\nc: [*b, *b, *b]\\n"
    >>> check_yaml(bomb, file="kodbok.yml")
    >>> check_yaml(bomb, file="kodbok.yml", max_nodes=20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trygghet_analys.errors.DataError: Fel i data (fil 'kodbok.yml'): förväntade en YAML-fil med högst 20 noder när alias (*namn) räknas ut (filen har minst ...: en möjlig alias-bomb)
    """
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return
    check_yaml_node(root, file=file, max_nodes=max_nodes)


def check_yaml_node(root, *, file: str | Path, max_nodes: int = MAX_YAML_NODES) -> None:
    """:func:`check_yaml` on a document already composed (``root``, a PyYAML node or
    ``None``): for a reader that composes the document anyway, so that it is parsed once.

    Raises
    ------
    DataError
        As :func:`check_yaml`.
    """
    import yaml

    if root is None:
        return
    sizes: dict[int, int] = {}

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a recursive alias counts once
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
                if total > max_nodes:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > max_nodes:
                    break
        sizes[key] = total
        return total

    n = size(root)
    if n > max_nodes:
        raise DataError(
            f"en YAML-fil med högst {_count(max_nodes)} noder när alias (*namn) räknas ut "
            f"(filen har minst {_count(n)}: en möjlig alias-bomb)",
            file=file,
        )
