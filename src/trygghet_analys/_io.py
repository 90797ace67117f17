"""File reading and atomic writing: the only module besides the entry points that does I/O."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["atomic_replace_files", "read_text_any"]

ENCODINGS = ("utf-8-sig", "cp1252")


def read_text_any(path: Path) -> tuple[str, str]:
    """Read a text file in UTF-8 (with or without BOM) or CP1252; return (text, encoding)."""
    raw = Path(path).read_bytes()
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("cp1252 decoding should never fail")  # pragma: no cover


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
