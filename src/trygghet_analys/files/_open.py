"""The one way in: every raw input file is opened here, every expected folder listed here.

What lands in a data folder is not always a file. A network share that is not mounted
leaves a dangling link; a copy that went wrong leaves a folder where ``2025.xlsx``
should be; a named pipe (FIFO) blocks a reader for ever; a link to ``/dev/zero`` fills
memory; a file the analyst's account may not read raises ``PermissionError``. Before a
byte is read, :func:`open_raw` requires

* a *regular* file — not a folder, named pipe, device or socket, not a dangling link;
* that symbolic links resolve to a place inside the data folder;
* that the file is readable by the account running the program;
* that its size is within :data:`~trygghet_analys.files._limits.MAX_FILE_BYTES` (and an
  xlsx archive is no zip or XML bomb);

and each refusal is one Swedish line naming the path (:class:`~trygghet_analys.errors.DataError`).
:func:`read_raw` returns the bytes (never more than the size limit, even if the file
grows while it is read). :func:`list_raw` lists a folder the program expects (``labb/``,
``trygghetsmatning/``, ``medborgarloften/``) through the same checks, so that an entry
that is a folder or a dangling link is *reported* rather than silently skipped.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import DataError
from ._limits import MAX_FILE_BYTES, check_file

__all__ = ["data_root_of", "list_raw", "open_raw", "open_workbook", "raw_exists", "read_raw"]


def data_root_of(path: str | Path) -> Path:
    """The data folder a raw path belongs to: the parent of the nearest ``raw/`` above it.

    Paths outside any ``raw/`` folder (``external/``, a test's own folder) belong to
    their own parent folder's parent (links may point anywhere below it).
    """
    p = Path(os.path.abspath(path))
    for parent in p.parents:
        if parent.name == "raw":
            return parent.parent
    return p.parent.parent if len(p.parents) > 1 else p.parent


def raw_exists(path: str | Path) -> bool:
    """True when anything stands at ``path`` — also a dangling link or a folder.

    Use it instead of ``Path.exists`` for optional inputs: a dangling link must be
    reported (:func:`open_raw`), not taken for "no file".
    """
    return os.path.lexists(path)


def _kind_of(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "en mapp"
    if stat.S_ISFIFO(mode):
        return "en namngiven pipe (FIFO), som programmet skulle vänta på för evigt"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "en enhetsfil (device), inte data"
    if stat.S_ISSOCK(mode):
        return "en socket, inte data"
    return "inte en vanlig fil"


def _os_call(call, *args, path: Path, denied: str):
    """``call(*args)``, with a refused permission or another OS error as one Swedish
    line naming ``path`` (``denied`` says what is not readable)."""
    try:
        return call(*args)
    except PermissionError:
        raise DataError(
            f"en fil som kontot som kör programmet får läsa ({denied}; be den som "
            "förvaltar mappen om läsrätt)",
            file=path,
        ) from None
    except OSError as exc:
        raise DataError(f"en läsbar fil ({exc.strerror})", file=path) from None


def _resolve_link(path: Path, root: Path, *, noun: str, extra: str) -> Path:
    """``path`` itself, or the target of a link to a ``noun`` ("fil"/"mapp") that exists
    inside the data folder ``root``; anything else is refused naming ``path``."""
    if not path.is_symlink():
        return path
    try:
        target = Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError):
        where = os.readlink(path) if os.path.islink(path) else "?"
        raise DataError(
            f"en {noun}, men länken pekar på '{where}' som inte finns{extra}", file=path
        ) from None
    try:
        inside = target.is_relative_to(Path(os.path.realpath(root)))
    except OSError:
        inside = False
    if not inside:
        raise DataError(
            f"en {noun} inne i datamappen (länken pekar på '{target}', utanför "
            f"datamappen; kopiera in {noun}en i stället för att länka)",
            file=path,
        )
    return target


def _check(path: Path, data_root: Path | None, missing: str | None) -> Path:
    """All checks before opening; returns the resolved path of the regular file."""
    if not os.path.lexists(path):
        if missing is None:  # the caller reports a missing file in its own words
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        raise DataError(missing, file=path)
    root = Path(data_root) if data_root is not None else data_root_of(path)
    target = _resolve_link(
        path,
        root,
        noun="fil",
        extra=" (är nätverksenheten ansluten? Kopiera annars in filen i datamappen)",
    )
    st = _os_call(os.stat, target, path=path, denied="mappen den ligger i får inte läsas")
    what = _kind_of(st.st_mode)
    if what is not None:
        raise DataError(f"en vanlig fil, men här står {what}", file=path)
    return target


def open_raw(
    path: str | Path,
    *,
    data_root: str | Path | None = None,
    kind: str | None = "en fil som finns",
    max_bytes: int = MAX_FILE_BYTES,
):
    """Open a raw input file for binary reading, after every check in the module text.

    Parameters
    ----------
    path
        The file (as the analyst names it; messages show this path, not the link target).
    data_root
        The data folder links must stay inside (default: the parent of the nearest
        ``raw/`` above ``path``, :func:`data_root_of`).
    kind
        What was expected when nothing stands at ``path`` ("en kodbok (kodbok.yml) i
        mappen trygghetsmatning"); default "en fil som finns". ``None``: raise
        :class:`FileNotFoundError` instead (the caller words the message).
    max_bytes
        The size limit.

    Returns
    -------
    BinaryIO
        An open binary file; the caller closes it (``with open_raw(p) as fh``).

    Raises
    ------
    DataError
        Nothing at ``path``; a folder, FIFO, device, socket or dangling link; a link out
        of the data folder; not readable; larger than ``max_bytes``; an xlsx bomb.
    """
    path = Path(path)
    target = _check(path, None if data_root is None else Path(data_root), kind)
    check_file(target, max_bytes=max_bytes)  # size (and xlsx bombs) before reading
    # O_NONBLOCK: should the file have been swapped for a FIFO since the check, the
    # open returns at once instead of waiting for a writer
    fd = _os_call(
        os.open,
        target,
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0),
        path=path,
        denied="filen saknar läsrätt",
    )
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DataError("en vanlig fil (filen byttes ut medan den lästes)", file=path)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def open_workbook(path: str | Path, *, data_root: str | Path | None = None):
    """An xlsx workbook (python-calamine), after the checks of :func:`open_raw`.

    Calamine reads the checked file itself (by its resolved path), so its own errors for
    a broken or truncated archive stay the same; the caller words them.

    Raises
    ------
    DataError
        As :func:`open_raw`.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    with open_raw(path, data_root=data_root):  # every check, and readable by this account
        target = Path(os.path.realpath(path))
    return CalamineWorkbook.from_path(str(target))


def read_raw(
    path: str | Path,
    *,
    data_root: str | Path | None = None,
    kind: str | None = "en fil som finns",
    max_bytes: int = MAX_FILE_BYTES,
) -> bytes:
    """The bytes of a raw input file (:func:`open_raw`), at most ``max_bytes`` of them.

    Raises
    ------
    DataError
        As :func:`open_raw`; also when the file grew beyond ``max_bytes`` while read.
    """
    with open_raw(path, data_root=data_root, kind=kind, max_bytes=max_bytes) as fh:
        try:
            # the file's size + 1 asked for first (Python sets aside as many bytes as are
            # asked for: max_bytes per file cost more than reading the file), then the
            # rest up to max_bytes + 1 should the file have grown since
            size = min(os.fstat(fh.fileno()).st_size, max_bytes)
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(max_bytes + 1 - len(data))
        except OSError as exc:
            raise DataError(f"en läsbar fil ({exc.strerror})", file=path) from None
    if len(data) > max_bytes:
        check_file(path, max_bytes=max_bytes)
        raise DataError("en fil som inte växer medan den läses", file=path)
    return data


def list_raw(
    folder: str | Path,
    *,
    data_root: str | Path | None = None,
    required: str | None = None,
) -> list[Path]:
    """The entries of a folder the program expects, sorted by name (hidden ones left out).

    Every entry is returned — also folders and dangling links — so that the reader opens
    each one it wants through :func:`open_raw` and an entry that is not a file is
    reported instead of silently skipped.

    Parameters
    ----------
    folder
        The folder (``labb/``, ``trygghetsmatning/``, ``medborgarloften/``).
    data_root
        As in :func:`open_raw` (for a folder that is a link).
    required
        What was expected when the folder is missing; ``None``: a missing folder is
        an empty list.

    Raises
    ------
    DataError
        The folder is a file, a dangling link, a link out of the data folder, or cannot
        be listed by the account running the program (or is missing and ``required``).
    """
    folder = Path(folder)
    if not os.path.lexists(folder):
        if required is not None:
            raise DataError(required, file=folder)
        return []
    root = Path(data_root) if data_root is not None else data_root_of(folder)
    target = _resolve_link(folder, root, noun="mapp", extra=" (är nätverksenheten ansluten?)")
    if not target.is_dir():
        raise DataError("en mapp, men här står en fil", file=folder)
    try:
        names = sorted(e.name for e in os.scandir(target))
    except PermissionError:
        raise DataError(
            "en mapp som kontot som kör programmet får läsa (be den som förvaltar mappen "
            "om läsrätt)",
            file=folder,
        ) from None
    except OSError as exc:
        raise DataError(f"en läsbar mapp ({exc.strerror})", file=folder) from None
    return [folder / n for n in names if not n.startswith(".")]
