"""One small exception hierarchy for everything a run can refuse.

Every data error renders as one Swedish line naming file, sheet, row (as Excel shows it:
1-based, header counted), column, the bad value and what was expected. The CLI prints
that line, exits with code 2 and shows a traceback only with ``--debug``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataError", "DataProblems", "ConfigError", "ProblemLog", "TrygghetError", "printable"]


class TrygghetError(Exception):
    """Base class for errors the CLI reports as one Swedish line (exit code 2)."""

    def swedish(self) -> str:
        return str(self)


def printable(text: object) -> str:
    """Text safe to print on one terminal line: control characters escaped.

    A line break becomes ``\\n``, an escape sequence (which could clear the analyst's
    screen or recolour the terminal) ``\\x1b``; every other character is kept.

    >>> printable("a\\nb\\x1b[2J")
    'a\\\\nb\\\\x1b[2J'
    """
    out = []
    for ch in "" if text is None else str(text):
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\u00ad\u200d":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


#: said after a value whose letters are stored in another Unicode form than NFC
NFD_NOTE = (
    "samma bokstäver men annan Unicode-form (NFD) — spara filen som UTF-8 NFC eller låt "
    "programmet normalisera"
)


def _fmt_value(value: object) -> str:
    raw = "" if value is None else str(value)
    text = printable(raw)
    if len(text) > 60:
        text = text[:57] + "..."
    if not unicodedata.is_normalized("NFC", raw):
        return f"'{text}' ({NFD_NOTE})"
    return f"'{text}'"


@dataclass
class DataError(TrygghetError):
    """A bad input file, row or cell.

    Parameters
    ----------
    expected
        What was expected, in Swedish ("ett heltal", "ett av: Ja, Nej").
    file, sheet, row, column, value
        Where and what. ``row`` is the row as the analyst sees it in Excel or a text
        editor: 1-based, header counted. Leave out what does not apply.
    key
        In a YAML file: the key path (``skalor.ja_nej``, ``commitments[2].indicators``).
    """

    expected: str
    file: str | Path | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None
    has_value: bool = False
    key: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None:
            self.has_value = True
        super().__init__(self.swedish())

    def swedish(self) -> str:
        parts = []
        if self.file is not None:
            # a file name saved on a Mac (NFD) is shown composed, like every other name
            name = unicodedata.normalize("NFC", _display_path(self.file))
            parts.append(f"fil '{printable(name)}'")
        if self.sheet is not None:
            parts.append(f"blad '{printable(self.sheet)}'")
        if self.row is not None:
            parts.append(f"rad {self.row}")
        if self.column is not None:
            parts.append(f"kolumn '{printable(self.column)}'")
        if self.key is not None:
            parts.append(f"nyckel '{printable(self.key)}'")
        where = ", ".join(parts)
        what = f"värdet {_fmt_value(self.value)}: " if self.has_value else ""
        head = f"Fel i data ({where}): " if where else "Fel i data: "
        return f"{head}{what}förväntade {printable(self.expected)}"

    def __str__(self) -> str:  # dataclass would otherwise replace it
        return self.swedish()


class DataProblems(DataError):
    """Several data errors found in one run, reported together (one line each).

    A :class:`DataError` itself (the first problem's fields), so code and tests that
    expect one error still work; :meth:`lines` gives every problem, grouped per file in
    the order found, and :meth:`swedish` all of them plus a closing count.
    """

    def __init__(self, problems: list[DataError], *, more: int = 0) -> None:
        self.problems = list(problems)
        self.more = more
        first = self.problems[0]
        super().__init__(
            first.expected, first.file, first.sheet, first.row, first.column, first.value,
            first.has_value,
        )  # fmt: skip

    def lines(self) -> list[str]:
        """One Swedish line per problem, grouped per file (files in the order found), each
        file's lines by row (stable: problems of one row keep the order found)."""
        order: dict[str, list[DataError]] = {}
        for p in self.problems:
            key = "" if p.file is None else _display_path(p.file)
            order.setdefault(key, []).append(p)
        return [
            p.swedish()
            for group in order.values()
            for p in sorted(group, key=lambda p: -1 if p.row is None else p.row)
        ]

    def summary(self) -> str:
        """The closing count, in Swedish."""
        n = len(self.problems)
        files = len({"" if p.file is None else str(p.file) for p in self.problems})
        text = f"{n} problem i {files} {'fil' if files == 1 else 'filer'}"
        if self.more:
            text += f" (och minst {self.more} till som inte visas; rätta dessa och kör igen)"
        return text + "; inget skrevs."

    def swedish(self) -> str:
        if len(self.problems) == 1 and not self.more:
            return self.problems[0].swedish()
        return "\n".join([*self.lines(), self.summary()])


class ProblemLog:
    """Collects data errors up to a limit instead of stopping at the first.

    ``add`` records an error (the same line twice is kept once); ``check`` raises
    :class:`DataProblems` when anything was recorded. Past ``limit`` the errors are
    only counted.
    """

    LIMIT = 50

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.problems: list[DataError] = []
        self.more = 0
        self._seen: set[str] = set()

    def add(self, error: DataError) -> None:
        items = error.problems if isinstance(error, DataProblems) else [error]
        for item in items:
            line = item.swedish()
            if line in self._seen:
                continue
            self._seen.add(line)
            if len(self.problems) < self.limit:
                self.problems.append(item)
            else:
                self.more += 1
        if isinstance(error, DataProblems):
            self.more += error.more

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def check(self) -> None:
        """Raise :class:`DataProblems` with everything recorded, if anything was."""
        if self.problems:
            raise DataProblems(self.problems, more=self.more)


class ConfigError(TrygghetError):
    """Bad settings or arguments (a missing data folder, an unknown kommun)."""


def _display_path(path: str | Path) -> str:
    """Show paths relative to the working directory when they are below it.

    A link is shown as the analyst named it, not as the place it points to (only the
    folder above it is resolved).
    """
    if "://" in str(path):  # an address (fetch-euda), not a path: Path would fold the //
        return str(path)
    p = Path(path)
    try:
        cwd = Path.cwd().resolve()
        return str((p.absolute().parent.resolve() / p.name).relative_to(cwd))
    except (ValueError, OSError):
        return str(p)
