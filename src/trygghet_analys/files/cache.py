"""The build cache: parsed inputs kept between builds, keyed by what they were made from.

A region analyst adds one year of files for 58 kommuner; everything else is as last year.
``build`` therefore keeps, in ``processed/.cache/``, each survey file's parsed rows (and
ledger lines) and each kommun's wastewater tables, under a key made of the SHA-256 of every
input they came from (the file itself, ``kodbok.yml``, ``kommun.yml``'s relevant settings)
and of the package's own code and resources. A later build with the same key reads the
parquet back instead of parsing again; anything changed — a file, the codebook, a
setting, the program — gives a new key and is parsed afresh. The result is byte-identical
to a build without cache (``tests/test_incremental_build.py``).

``processed/.cache/manifest.json`` lists, per kommun and input, the hash used, so an
analyst can see what the last build read. Deleting ``.cache/`` is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

import pandas as pd

from ._open import open_raw

__all__ = ["BuildCache", "code_version", "file_digest", "frame_digest", "year_digests"]

#: Bump when the cache's own layout changes.
_LAYOUT = "1"


def file_digest(path: Path) -> str:
    """SHA-256 of a raw input's bytes (hex), read through the one way in (:func:`open_raw`)."""
    h = hashlib.sha256()
    with open_raw(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def frame_digest(frame: pd.DataFrame | None) -> str:
    """SHA-256 of a whole table: its columns, their types and every row in order."""
    if frame is None:
        return "-"
    h = hashlib.sha256(repr([(str(c), repr(frame[c].dtype)) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def year_digests(
    frame: pd.DataFrame | None, years: list[int], *, column: str = "year", upto: bool = True
) -> dict[int, str]:
    """SHA-256 of a table's rows up to (``upto``) or in each year, with its columns and types.

    A result computed from the rows up to a year is kept under these digests: any change
    in those rows — a value, a row more or less, their order, a column's type — gives
    another digest, while rows of later years do not touch it.

    Parameters
    ----------
    frame
        The table (None: no table, the same digest for every year).
    years
        The years to give a digest for.
    column
        The column holding the year.
    upto
        Rows with ``column <= year`` (True) or ``column == year`` (False).
    """
    if frame is None:
        return {int(y): "-" for y in years}
    h0 = hashlib.sha256(repr([(str(c), repr(frame[c].dtype)) for c in frame.columns]).encode())
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    year = frame[column].to_numpy() if len(frame) else None
    out = {}
    for y in years:
        h = h0.copy()
        if year is not None:
            h.update(rows[(year <= y) if upto else (year == y)].tobytes())
        out[int(y)] = h.hexdigest()
    return out


@cache
def code_version() -> str:
    """SHA-256 over the package's source files and resources: a new program, a new key."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(_LAYOUT.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".yml", ".yaml", ".mplstyle"}:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class BuildCache:
    """Parsed tables under ``folder`` (``processed/.cache``), by kind and key.

    Parameters
    ----------
    folder
        Where the cache lives; created on first write.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.used: dict[str, set[str]] = {}
        self.manifest: dict[str, dict[str, str]] = {}
        self._pending: list[tuple[str, str, dict[str, pd.DataFrame]]] = []

    @staticmethod
    def key(*parts: object) -> str:
        """A key from strings (hashes, names, settings) and the program's version."""
        h = hashlib.sha256(code_version().encode())
        for part in parts:
            h.update(b"\x00" + repr(part).encode("utf-8"))
        return h.hexdigest()[:40]

    def get(self, kind: str, key: str) -> dict[str, pd.DataFrame] | None:
        """The tables stored under ``kind``/``key``; None when absent, incomplete or damaged."""
        self.used.setdefault(kind, set()).add(key)
        index = self.folder / kind / f"{key}.json"
        try:
            names = json.loads(index.read_text(encoding="utf-8"))
            return {n: pd.read_parquet(self.folder / kind / f"{key}.{n}.parquet") for n in names}
        except (OSError, ValueError):  # absent or damaged: parsed again, never trusted
            return None

    def put(self, kind: str, key: str, tables: dict[str, pd.DataFrame]) -> None:
        """Keep tables for the cache; they are written by :meth:`finish`, i.e. only after the
        build has written ``processed/`` (a failed build leaves ``processed/`` untouched)."""
        self.used.setdefault(kind, set()).add(key)
        self._pending.append((kind, key, tables))

    def _write(self, kind: str, key: str, tables: dict[str, pd.DataFrame]) -> None:
        """Store tables atomically (each file written to a temporary name, then renamed)."""
        target = self.folder / kind
        target.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=target)
            os.close(fd)
            try:
                table.to_parquet(tmp, index=False)
                os.replace(tmp, target / f"{key}.{name}.parquet")
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        # the index is written last: an entry without it is incomplete and never read
        (target / f"{key}.json").write_text(json.dumps(sorted(tables)), encoding="utf-8")

    def note(self, kommun: str, what: str, digest: str) -> None:
        """Record an input's hash in the manifest."""
        self.manifest.setdefault(kommun, {})[what] = digest

    def finish(self) -> None:
        """Write what was parsed, the manifest, and drop entries this build did not use
        (no unbounded growth). Called after the build has written ``processed/``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for kind, key, tables in self._pending:
            self._write(kind, key, tables)
        self._pending.clear()
        for kind, keys in self.used.items():
            for path in (self.folder / kind).glob("*"):
                if path.name.split(".", 1)[0] not in keys:
                    path.unlink(missing_ok=True)
        doc = {"program": code_version(), "kommuner": self.manifest}
        text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (self.folder / "manifest.json").write_text(text, encoding="utf-8")
