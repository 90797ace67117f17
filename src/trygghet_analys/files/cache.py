"""The build cache: parsed inputs kept between builds, keyed by what they were made from.

A region analyst adds one year of files for 58 kommuner; everything else is as last year.
``build`` therefore keeps, in ``processed/.cache/``, each survey file's parsed rows (and
ledger lines) and each kommun's wastewater tables, under a key made of the SHA-256 of every
input they came from (the file itself, ``kodbok.yml``, ``kommun.yml``'s relevant settings)
and of the package's own code and resources. A later build with the same key reads the
parquet back (one pack per kind, :class:`BuildCache`) instead of parsing again; anything changed — a file, the codebook, a
setting, the program — gives a new key and is parsed afresh. The result is byte-identical
to a build without cache (``tests/test_incremental_build.py``).

``processed/.cache/manifest.json`` lists, per kommun and input, the hash used, so an
analyst can see what the last build read. Deleting ``.cache/`` is always safe.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._io import atomic_write_text
from ._open import open_raw

__all__ = [
    "BuildCache",
    "code_version",
    "dictionary_columns",
    "file_digest",
    "frame_digest",
    "row_hashes",
    "table_layout",
    "year_digests",
]

#: Copy tables in and out of the cache in full only without copy-on-write (pandas < 3).
_DEEP = int(pd.__version__.split(".")[0]) < 3

#: Bump when the cache's own layout changes.
_LAYOUT = "2"


def file_digest(path: Path) -> str:
    """SHA-256 of a raw input's bytes (hex), read through the one way in (:func:`open_raw`)."""
    h = hashlib.sha256()
    with open_raw(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of ``frame`` (its values only, not the index). A row's hash
    depends on that row alone, so the hashes of a table's rows taken out are these
    hashes taken out at the same positions: a region table is hashed once and each
    kommun's digests are made from its positions (``hashes=`` below)."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def rows_digest(hashes: np.ndarray) -> str:
    """SHA-256 of some rows' :func:`row_hashes` (the rows of one kommun and year taken out
    of a region table hashed once)."""
    return hashlib.sha256(hashes.tobytes()).hexdigest()


def frame_digest(frame: pd.DataFrame | None, *, hashes: np.ndarray | None = None) -> str:
    """SHA-256 of a whole table: its columns, their types and every row in order
    (``hashes``: its :func:`row_hashes`, when already made)."""
    if frame is None:
        return "-"
    h = hashlib.sha256(table_layout(frame).encode())
    h.update((row_hashes(frame) if hashes is None else hashes).tobytes())
    return h.hexdigest()


def year_digests(
    frame: pd.DataFrame | None,
    years: list[int],
    *,
    column: str = "year",
    upto: bool = True,
    hashes: np.ndarray | None = None,
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
    hashes
        The table's :func:`row_hashes`, when already made.
    """
    if frame is None:
        return {int(y): "-" for y in years}
    h0 = hashlib.sha256(table_layout(frame).encode())
    rows = row_hashes(frame) if hashes is None else hashes
    year = frame[column].to_numpy() if len(frame) else None
    if year is not None and year.dtype.kind in "iu" and len(years):
        return _year_digests_by_run(h0, rows, year, years, upto=upto)
    out = {}
    for y in years:
        h = h0.copy()
        if year is not None:
            h.update(rows[(year <= y) if upto else (year == y)].tobytes())
        out[int(y)] = h.hexdigest()
    return out


def _year_digests_by_run(
    h0: hashlib._Hash, rows: np.ndarray, year: np.ndarray, years: list[int], *, upto: bool
) -> dict[int, str]:
    """:func:`year_digests` of an integer year column without a filter of every row per
    year (a region's kommun has some twenty years and six such tables).

    SHA-256 fed piece by piece is the digest of the pieces joined, so the digest of the
    rows up to a year is the running digest of the rows year by year, when the rows come
    in year order (the estimates and findings do); and the rows of one year, in table
    order, are one run of a stable sort by year (the changes, by ``year_to``, do not come
    in year order). Other tables (rows up to a year, not in year order) are filtered per
    year as before. The same digests either way (tests/test_incremental_build.py)."""
    ordered = bool(np.all(year[1:] >= year[:-1]))
    if upto and not ordered:
        out = {}
        for y in years:
            h = h0.copy()
            h.update(rows[year <= y].tobytes())
            out[int(y)] = h.hexdigest()
        return out
    if ordered:
        by_year, sorted_rows = year, rows
    else:
        order = np.argsort(year, kind="stable")
        by_year, sorted_rows = year[order], rows[order]
    wanted = sorted({int(y) for y in years})
    ends = np.searchsorted(by_year, wanted, side="right")
    out = {}
    if upto:
        h, start = h0.copy(), 0
        for y, end in zip(wanted, ends, strict=True):
            h.update(sorted_rows[start:end].tobytes())
            start = int(end)
            out[y] = h.copy().hexdigest()
    else:
        starts = np.searchsorted(by_year, wanted, side="left")
        for y, start, end in zip(wanted, starts, ends, strict=True):
            h = h0.copy()
            h.update(sorted_rows[start:end].tobytes())
            out[y] = h.hexdigest()
    return {int(y): out[int(y)] for y in years}


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

    Each kind (``enkat``, ``avloppsvatten``, ``fynd``, ``underlag``, ``uppfoljning``,
    ``utkast``) is
    kept as one *pack*: the tables of
    all its entries stacked into a few parquet files (one per table name and column
    layout) and ``<kind>/pack.json`` saying which rows belong to which key. A build reads
    a kind's pack once instead of a file per entry (1 218 survey files for a region), and
    writes it again only when an entry was added or dropped.

    Rendered text (the csv files' rows per kommun and year) is kept as bytes under
    ``texts/``: one file per name with an index of each key's span, its size and SHA-256
    (:meth:`texts`, :meth:`put_texts`).

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
        self._packs: dict[str, dict[str, dict[str, pd.DataFrame]]] = {}
        self._kept: dict[str, dict[str, dict[str, pd.DataFrame]]] = {}
        self._texts: dict[str, dict[str, bytes]] = {}
        self._index: dict[str, dict] = {}
        self._text_index: dict[str, dict] = {}

    @staticmethod
    def key(*parts: object) -> str:
        """A key from strings (hashes, names, settings) and the program's version."""
        h = hashlib.sha256(code_version().encode())
        for part in parts:
            h.update(b"\x00" + repr(part).encode("utf-8"))
        return h.hexdigest()[:40]

    def _pack(self, kind: str) -> dict[str, dict[str, pd.DataFrame]]:
        """Every entry of a kind's pack (read once per build); empty when absent or damaged."""
        if kind not in self._packs:
            try:
                self._packs[kind], self._index[kind] = _read_pack(self.folder / kind)
            except (OSError, ValueError, KeyError, TypeError):  # damaged: parsed again
                self._packs[kind] = {}
                self._index.pop(kind, None)
        return self._packs[kind]

    def get(self, kind: str, key: str) -> dict[str, pd.DataFrame] | None:
        """The tables stored under ``kind``/``key`` (copies); None when absent or damaged."""
        self.used.setdefault(kind, set()).add(key)
        tables = self._pack(kind).get(key)
        if tables is None:
            return None
        self._kept.setdefault(kind, {})[key] = tables
        # shallow copies: with pandas' copy-on-write (pandas >= 3) a change to a returned
        # table never reaches the kept one, and nothing is copied that is not changed
        # (_DEEP: full copies with an older pandas)
        return {name: table.copy(deep=_DEEP) for name, table in tables.items()}

    def get_rows(self, kind: str, keys: list[str], name: str) -> tuple[list[str], pd.DataFrame]:
        """The table ``name`` of each entry of ``keys`` held under ``kind``, stacked in the
        order of ``keys`` (one take per pack file instead of a slice per entry), and the
        keys found. Every key counts as used, like :meth:`get`; the stacked table is
        empty (no columns) when none was found."""
        used = self.used.setdefault(kind, set())
        used.update(keys)
        pack = self._pack(kind)
        found = [key for key in keys if key in pack]
        if not found:
            return [], pd.DataFrame()
        kept = self._kept.setdefault(kind, {})
        runs: list[tuple[str, list[np.ndarray]]] = []
        for key in found:
            kept[key] = pack[key]
            file, start, stop = pack.span(key, name)
            if not runs or runs[-1][0] != file:
                runs.append((file, []))
            runs[-1][1].append(np.arange(start, stop))
        parts = [pack.files[file].take(np.concatenate(idx)) for file, idx in runs]
        out = parts[0] if len(parts) == 1 else pd.concat(parts)
        return found, out.reset_index(drop=True)

    def get_blocks(
        self, kind: str, keys: list[str], names: tuple[str, ...]
    ) -> tuple[list[dict[str, pd.DataFrame]], dict[str, tuple[int, dict[str, tuple[int, int]]]]]:
        """The tables ``names`` of every entry of ``keys`` held under ``kind``, taken in
        bulk: the entries whose tables lie in the same pack files form one *block* (name →
        their rows, one take per pack file instead of a slice and a copy per entry).

        Returns the blocks, in the order of the first key of each, and for each key found
        its block and, per name, the span ``(start, stop)`` of its rows in that block.
        Every key counts as used, like :meth:`get`; an entry lacking one of ``names`` is
        not found. A block's tables share the columns and types of their pack file."""
        self.used.setdefault(kind, set()).update(keys)
        pack = self._pack(kind)
        kept = self._kept.setdefault(kind, {})
        groups: dict[tuple[str, ...], list[tuple[str, dict[str, tuple[str, int, int]]]]] = {}
        for key in keys:
            if key not in pack:
                continue
            try:
                spans = {name: pack.span(key, name) for name in names}
            except KeyError:
                continue
            kept[key] = pack[key]
            groups.setdefault(tuple(spans[n][0] for n in names), []).append((key, spans))
        blocks: list[dict[str, pd.DataFrame]] = []
        found: dict[str, tuple[int, dict[str, tuple[int, int]]]] = {}
        for files, members in groups.items():
            block = {}
            for name, file in zip(names, files, strict=True):
                idx = [np.arange(spans[name][1], spans[name][2]) for _, spans in members]
                block[name] = pack.files[file].take(np.concatenate(idx)).reset_index(drop=True)
            for key, _ in members:
                found[key] = (len(blocks), {})
            for name in names:
                start = 0
                for key, spans in members:
                    stop = start + spans[name][2] - spans[name][1]
                    found[key][1][name] = (start, stop)
                    start = stop
            blocks.append(block)
        return blocks, found

    def put(self, kind: str, key: str, tables: dict[str, pd.DataFrame]) -> None:
        """Keep tables for the cache; they are written by :meth:`finish`, i.e. only after the
        build has written ``processed/`` (a failed build leaves ``processed/`` untouched)."""
        self.used.setdefault(kind, set()).add(key)
        self._pending.append((kind, key, {n: t.copy(deep=_DEEP) for n, t in tables.items()}))

    def texts(self, name: str, *, views: bool = False) -> dict[str, bytes | memoryview]:
        """The rendered texts kept under ``name`` (``texts/<name>``): key → bytes; empty when
        absent or damaged (a file whose length or SHA-256 is not its index's is not used).

        ``views``: each text a ``memoryview`` of the file's bytes instead of a copy, for a
        caller that only writes the texts out again (the csv files: 95 MB of a region's
        findings, copied out block by block every build)."""
        try:
            texts, self._text_index[name] = _read_texts(self.folder / "texts", name, views=views)
        except (OSError, ValueError, KeyError, TypeError):
            self._text_index.pop(name, None)
            return {}
        return texts

    def put_texts(self, name: str, texts: Mapping[str, bytes | memoryview]) -> None:
        """Replace the texts kept under ``name`` (written by :meth:`finish`, like tables)."""
        self._texts[name] = dict(texts)

    def note(self, kommun: str, what: str, digest: str) -> None:
        """Record an input's hash in the manifest."""
        self.manifest.setdefault(kommun, {})[what] = digest

    def finish(self) -> None:
        """Write the packs of the entries this build used (read or new; nothing else, so
        the cache does not grow without bound) and the manifest. Called after the build
        has written ``processed/``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        added: dict[str, set[str]] = {}
        for kind, key, tables in self._pending:
            self._kept.setdefault(kind, {})[key] = tables
            added.setdefault(kind, set()).add(key)
        self._pending.clear()
        for kind, keys in self.used.items():
            kept = {k: t for k, t in self._kept.get(kind, {}).items() if k in keys}
            if kind in added or set(kept) != set(self._pack(kind)):
                _write_pack(
                    self.folder / kind,
                    kept,
                    old=self._index.get(kind),
                    fresh=added.get(kind, set()),
                )
        for name, texts in self._texts.items():
            _write_texts(self.folder / "texts", name, texts, old=self._text_index.get(name))
        self._texts.clear()
        doc = {"program": code_version(), "kommuner": self.manifest}
        text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        atomic_write_text(self.folder / "manifest.json", text)


def table_layout(table: pd.DataFrame) -> str:
    """A table's columns and their types: tables with the same layout share a pack file."""
    # ``dtypes`` once, not a Series per column (720 tables per region build); each type's
    # text made once (the repr of a string type costs more than the lookup)
    return repr(
        [(str(c), _dtype_text(d)) for c, d in zip(table.columns, table.dtypes, strict=True)]
    )


_DTYPE_TEXTS: dict[object, str] = {}


def _dtype_text(dtype: object) -> str:
    """``repr(dtype)``, kept for NumPy and string types, whose equal types have the same
    repr (not for a categorical type: unordered ones are equal with their categories in
    another order, which the repr shows)."""
    if not isinstance(dtype, (np.dtype, pd.StringDtype)):
        return repr(dtype)
    text = _DTYPE_TEXTS.get(dtype)
    if text is None:
        text = _DTYPE_TEXTS[dtype] = repr(dtype)
    return text


def _read_pack(folder: Path) -> tuple[dict[str, dict[str, pd.DataFrame]], dict]:
    """The entries of a pack: key → table name → its rows (see :class:`BuildCache`), and
    the pack's index."""
    index = json.loads((folder / "pack.json").read_text(encoding="utf-8"))
    files = {}
    for file, rows in index["files"].items():
        frame = pd.read_parquet(folder / file)
        if len(frame) != rows:  # a pack file that does not match its index is never used
            raise ValueError(f"{file}: {len(frame)} rows, the index says {rows}")
        files[file] = frame
    return _Pack(files, index["entries"]), index


class _Pack(Mapping):
    """A pack's entries (key → table name → rows), each sliced from its file only when
    asked for: a build uses a few of the entries of some kinds."""

    def __init__(self, files: dict[str, pd.DataFrame], entries: dict[str, dict]) -> None:
        self.files, self._entries = files, entries

    def __getitem__(self, key: str) -> _Entry:
        return _Entry(self.files, self._entries[key])

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def span(self, key: str, name: str) -> tuple[str, int, int]:
        """(pack file, first row, row after the last) of one table of an entry."""
        file, start, stop = self._entries[key][name]
        return file, int(start), int(stop)


class _Entry(Mapping):
    """One entry of a pack: table name → its rows, sliced from the pack file when asked."""

    def __init__(self, files: dict[str, pd.DataFrame], spans: dict[str, list]) -> None:
        self._files, self._spans = files, spans

    def __getitem__(self, name: str) -> pd.DataFrame:
        file, start, stop = self._spans[name]
        return self._files[file].iloc[start:stop].reset_index(drop=True)

    def __iter__(self):
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


#: Files a pack may grow to by keeping its older files (:func:`_write_pack`); beyond, the
#: pack is written afresh as one file per table name and column layout.
_MAX_PACK_FILES = 24


def _write_pack(
    folder: Path,
    entries: dict[str, dict[str, pd.DataFrame]],
    *,
    old: dict | None = None,
    fresh: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Write a pack under new file names, then its index, then remove the old files: a
    build stopped half-way leaves the old pack readable (or none), never a mixed one.

    ``old`` is the index the pack was read with and ``fresh`` the keys put by this build.
    A file of the old pack is kept as it is when every entry it holds is kept and none was
    put anew (a new year's survey files only add entries): only the other tables are
    written, so a region's parsed survey is not written again for each new file. When
    the pack would hold more than :data:`_MAX_PACK_FILES` files it is written afresh.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index: dict = {"files": {}, "entries": {}}
    if old is not None and len(old["files"]) < _MAX_PACK_FILES:
        holders: dict[str, set[str]] = {}
        for key, names in old["entries"].items():
            for file, _, _ in names.values():
                holders.setdefault(file, set()).add(key)
        for file, keys in holders.items():
            if keys <= set(entries) and not keys & fresh:
                index["files"][file] = old["files"][file]
        for key, names in old["entries"].items():
            for name, span in names.items():
                if span[0] in index["files"]:
                    index["entries"].setdefault(key, {})[name] = list(span)
    groups: dict[tuple[str, str], list[tuple[str, pd.DataFrame]]] = {}
    for key in sorted(entries):
        for name in sorted(entries[key]):  # a kept entry's tables are not sliced out
            if name not in index["entries"].get(key, {}):
                table = entries[key][name]
                groups.setdefault((name, table_layout(table)), []).append((key, table))
    token = secrets.token_hex(6)
    for i, ((name, _), members) in enumerate(groups.items()):
        file = f"pack-{token}-{i}.{name}.parquet"
        stacked = pd.concat([t for _, t in members], ignore_index=True)
        arrow = pa.Table.from_pandas(stacked, preserve_index=False)
        pq.write_table(arrow, folder / file, use_dictionary=dictionary_columns(arrow.schema))
        index["files"][file] = len(stacked)
        start = 0
        for key, table in members:
            index["entries"].setdefault(key, {})[name] = [file, start, start + len(table)]
            start += len(table)
    atomic_write_text(folder / "pack.json", json.dumps(index))
    for path in folder.iterdir():  # older packs and any file of an earlier cache layout
        if path.name != "pack.json" and path.name not in index["files"]:
            path.unlink(missing_ok=True)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns of a parquet file written with a dictionary: every column but the
    floats (``processed/`` and the cache's packs).

    Estimates, standard errors, intervals and p-values are nearly all distinct, so a
    dictionary of them is built, found too large and the column written plain anyway;
    without it a region's survey_changes, findings and survey_estimates are written in
    about half the CPU time (0,36 → 0,20 s) and smaller (38,2 → 34,4 MB), and the
    findings' pack of the cache in 0,12 → 0,08 s; the values read back are the same.
    Texts, years and counts repeat and keep their dictionary."""
    return [f.name for f in schema if not pa.types.is_floating(f.type)]


def _read_texts(
    folder: Path, name: str, *, views: bool = False
) -> tuple[dict[str, bytes | memoryview], dict]:
    """The texts of ``name`` (key → bytes, or ``views`` of the file's bytes) and their
    index: ``<name>.json`` gives each file's size and SHA-256 and each key's file and span."""
    index = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    data = {}
    for file, meta in index["files"].items():
        blob = (folder / file).read_bytes()
        if len(blob) != meta["size"] or hashlib.sha256(blob).hexdigest() != meta["sha256"]:
            raise ValueError(f"{file}: not the bytes its index describes")
        data[file] = memoryview(blob) if views else blob
    texts = {key: data[file][start:stop] for key, (file, start, stop) in index["entries"].items()}
    return texts, index


def _write_texts(
    folder: Path, name: str, texts: Mapping[str, bytes | memoryview], *, old: dict | None = None
) -> None:
    """Write the texts of ``name``: the new ones into a new file, then the index, then
    remove files no longer listed; a build stopped half-way leaves the old texts readable
    (or none).

    A file of the previous index (``old``) is kept as it is when at least half of its
    bytes are texts still wanted (a new year adds blocks and changes a few: the region's
    earlier years are not written again; the unused rest is dropped when the file is
    written afresh); beyond :data:`_MAX_PACK_FILES` files everything is written afresh.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index: dict = {"files": {}, "entries": {}}
    if old is not None and len(old["files"]) < _MAX_PACK_FILES:
        used: dict[str, int] = dict.fromkeys(old["files"], 0)
        for key, (file, start, stop) in old["entries"].items():
            if key in texts:
                used[file] += stop - start
        for file, n in used.items():
            if n and 2 * n >= old["files"][file]["size"]:
                index["files"][file] = old["files"][file]
        for key, span in old["entries"].items():
            if key in texts and span[0] in index["files"]:
                index["entries"][key] = list(span)
    new = sorted(key for key in texts if key not in index["entries"])
    if new or not index["files"]:
        file = f"{name}-{secrets.token_hex(6)}.bin"
        start = 0
        for key in new:
            index["entries"][key] = [file, start, start + len(texts[key])]
            start += len(texts[key])
        data = b"".join(texts[key] for key in new)
        (folder / file).write_bytes(data)
        index["files"][file] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    atomic_write_text(folder / f"{name}.json", json.dumps(index))
    for path in folder.glob(f"{name}-*.bin"):
        if path.name not in index["files"]:
            path.unlink(missing_ok=True)
