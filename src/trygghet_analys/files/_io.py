"""File reading and atomic writing: the only module besides the entry points that does I/O."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import DataError
from ._open import read_raw

__all__ = [
    "FIXED_DATE",
    "atomic_replace_files",
    "decoded_nfc",
    "deterministic_zip",
    "nfc",
    "read_text_any",
]

ENCODINGS = ("utf-8-sig", "cp1252")


def nfc(text: str) -> str:
    """``text`` in Unicode normal form NFC (composed: "Ä" one character, not "A" + "̈").

    macOS and some exports save names decomposed (NFD); they look identical but compare
    unequal. Every text that enters the program is composed here (a quick check first:
    text already in NFC, nearly all of it, is returned as it is).

    >>> nfc("A\u0308lmhult") == "Älmhult"
    True
    """
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def decoded_nfc(raw: bytes, encoding: str) -> str:
    """``raw`` decoded, in Unicode form NFC (:func:`nfc`).

    Text decoded from CP1252 is NFC already: none of its 251 characters is a combining
    mark or composes with another (checked for every pair in ``tests/test_io.py``), so the
    check over the whole text is skipped for it.
    """
    text = raw.decode(encoding)
    return text if encoding == "cp1252" else nfc(text)


def read_text_any(path: Path) -> tuple[str, str]:
    """Read a text file in UTF-8 (with or without BOM) or CP1252; return (text, encoding).

    The bytes come through :func:`~trygghet_analys.files._open.read_raw` (a regular file
    inside the data folder, readable, within the size limit); a missing file raises
    :class:`FileNotFoundError` for the caller to word. The text is in Unicode form NFC
    (:func:`nfc`): "Älmhult" saved by a Mac (NFD) is the same "Älmhult".
    """
    raw = read_raw(path, kind=None)
    for enc in ENCODINGS:
        try:
            return decoded_nfc(raw, enc), enc
        except UnicodeDecodeError:
            continue
    # CP1252 leaves five bytes undefined: a binary file (an image, a zip) ends up here
    raise DataError("en textfil i UTF-8 eller CP1252", file=path)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: into a temporary file beside it, renamed over it.

    A reader sees the old file or the new one, never half of one; the temporary file is
    removed when the write fails (the error is raised).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_replace_files(target: Path, writers: Mapping[str, Callable[[Path], None]]) -> list[Path]:
    """Write every file into a temporary folder, then move each into ``target``.

    ``writers`` maps a file name to a function that writes that file at the given path.
    Nothing in ``target`` changes until every writer has succeeded; the folder itself is
    kept (only files in it are replaced).
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target))
    try:
        for name, write in writers.items():
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            write(dest)
        done = []
        for name in writers:
            final = target / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name, final)
            done.append(final)
        return done
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: The date written into every generated file that needs one (xlsx properties, zip entries).
FIXED_DATE = dt.datetime(2000, 1, 1, 0, 0, 0)

_W3CDTF = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def deterministic_zip(data: bytes, *, when: dt.datetime = FIXED_DATE) -> bytes:
    """Rewrite a zip (an xlsx) so that the same content always gives the same bytes.

    Every entry gets the date ``when``, the same permissions and deflate compression, in
    the original order; the document dates in ``docProps/core.xml`` are set to ``when``.
    """
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _W3CDTF.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()
