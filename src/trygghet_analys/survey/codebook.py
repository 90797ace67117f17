"""The codebook's model: canonical questions, their answer categories and the frozen
:class:`Codebook` that maps each year's survey file onto the canonical table (pure).

Reading and checking ``kodbok.yml`` is :func:`trygghet_analys.files.codebook.load_codebook`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "AGE_GROUPS",
    "EXCLUSION_RULES",
    "ID_VARIABLES",
    "QUESTIONS",
    "SEX_CATEGORIES",
    "Codebook",
    "ColumnSpec",
    "FileOptions",
    "Layout",
    "SeriesBreak",
    "normalise_header",
    "normalise_value",
]

_PROBLEM = ("Inget problem", "Litet problem", "Ganska stort problem", "Mycket stort problem")
_NEJ_JA = ("Nej", "Ja", "Vet ej")
_ORO = ("Inte alls orolig", "Inte särskilt orolig", "Ganska orolig", "Mycket orolig", "Vet ej")


#: Canonical questions and their ordered categories ("Vet ej" always last).
QUESTIONS: dict[str, tuple[str, ...]] = {
    "otrygg_ute_sent": (
        "Mycket trygg",
        "Ganska trygg",
        "Ganska otrygg",
        "Mycket otrygg",
        "Går inte ut av oro",
        "Går inte ut av andra skäl",
        "Vet ej",
    ),
    "avstatt_aktivitet": _NEJ_JA,
    "oro_inbrott": _ORO,
    "oro_vald": _ORO,
    "utsatt_brott": _NEJ_JA,
    **{
        f"problem_{item}": (*_PROBLEM, "Vet ej")
        for item in (
            "nedskrapning",
            "skadegorelse",
            "klotter",
            "vardslos_biltrafik",
            "buskorning",
            "ungdomsgang",
            "berusade",
            "narkotikapaverkade",
            "narkotikahandel",
            "bostadsinbrott",
            "cykelstolder",
        )
    },
    "fortroende_polisen": (
        "Mycket litet",
        "Ganska litet",
        "Ganska stort",
        "Mycket stort",
        "Vet ej",
    ),
    "ser_polis_fots": (
        "Aldrig",
        "Mer sällan än varje månad",
        "Varje månad",
        "Varje vecka eller oftare",
        "Vet ej",
    ),
    "grannsamverkan": _NEJ_JA,
}


#: Ordered categories of ``sex``.
SEX_CATEGORIES: tuple[str, ...] = ("Kvinna", "Man")


#: Age groups (label, lowest age, highest age), en dash in the labels.
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("16–24", 16, 24),
    ("25–44", 25, 44),
    ("45–64", 45, 64),
    ("65–85", 65, 85),
)


#: Variables a layout may map besides the questions: exact age and the file's year
#: are used during ingestion and never reach the canonical table.
ID_VARIABLES: tuple[str, ...] = ("respondent_id", "stratum", "sex", "age", "year")


#: Exclusion rules the codebook may switch on, in the order they are applied.
EXCLUSION_RULES: tuple[str, ...] = (
    "tom_rad",
    "summeringsrad",
    "saknar_omrade",
    "alder_utanfor_urvalet",
)


@dataclass(frozen=True)
class FileOptions:
    """How to read one layout's files.

    Attributes
    ----------
    format : ``"xlsx"`` or ``"csv"``.
    sheet : sheet name (xlsx); ``None`` means the first sheet.
    skip_rows : rows above the header row (title rows); the header is row ``skip_rows + 1``.
    encoding : ``"auto"`` (UTF-8, UTF-8 with BOM or CP1252), or one of them (csv).
    decimal : decimal sign of numeric columns (``","`` or ``"."``).
    delimiter : field separator (csv).
    """

    format: str
    sheet: str | None = None
    skip_rows: int = 0
    encoding: str = "auto"
    decimal: str = "."
    delimiter: str = ";"

    @property
    def header_row(self) -> int:
        """The header's row number as Excel or a text editor shows it (1-based)."""
        return self.skip_rows + 1


@dataclass(frozen=True)
class ColumnSpec:
    """One source column → one canonical variable, optionally only for some years."""

    source: str
    variable: str
    from_year: int | None = None
    to_year: int | None = None

    def applies(self, year: int) -> bool:
        """Whether the column is expected in the file of ``year``."""
        return (self.from_year is None or year >= self.from_year) and (
            self.to_year is None or year <= self.to_year
        )


@dataclass(frozen=True)
class Layout:
    """One file layout of the survey, used for a set of years."""

    name: str
    years: frozenset[int]
    file: FileOptions
    columns: tuple[ColumnSpec, ...]
    answers: dict[str, dict[str, str | None]] = field(hash=False, compare=False)
    ignore: tuple[str, ...] = ()

    def columns_for(self, year: int) -> tuple[ColumnSpec, ...]:
        """The column specs that apply to the file of ``year``."""
        return tuple(c for c in self.columns if c.applies(year))


@dataclass(frozen=True)
class SeriesBreak:
    """The first year of a new series of ``variable`` (reworded item, new scale, new mode)."""

    variable: str
    year: int
    reason: str


@dataclass(frozen=True)
class Codebook:
    """A checked codebook.

    Attributes
    ----------
    path : the ``kodbok.yml`` it was read from.
    variables : canonical questions → ordered categories (equal to :data:`QUESTIONS`).
    age_groups : (label, lowest, highest) per age group.
    rules : exclusion rule name → its parameters (only the rules switched on).
    breaks : declared series breaks.
    layouts : the file layouts.
    """

    path: Path
    variables: dict[str, tuple[str, ...]] = field(hash=False, compare=False)
    age_groups: tuple[tuple[str, int, int], ...]
    rules: dict[str, dict] = field(hash=False, compare=False)
    breaks: tuple[SeriesBreak, ...]
    layouts: tuple[Layout, ...]

    def layout_for(self, year: int) -> Layout | None:
        """The layout whose years include ``year``, or ``None``."""
        for layout in self.layouts:
            if year in layout.years:
                return layout
        return None

    @property
    def summary_words(self) -> frozenset[str]:
        """Case-folded words that mark a summary row (rule ``summeringsrad``)."""
        words = self.rules.get("summeringsrad", {}).get("ord", ["Totalt"])
        return frozenset(normalise_header(str(w)) for w in words)


def normalise_header(text: object) -> str:
    """Header as compared with the codebook: whitespace collapsed, case-folded.

    Examples
    --------
    >>> normalise_header("  Hur  trygg\\nkänner du dig? ")
    'hur trygg känner du dig?'
    """
    return " ".join(str(text).split()).casefold()


_INT_FLOAT = re.compile(r"^(-?\d+)\.0+$")


def normalise_value(value: object) -> str:
    """An answer value as compared with the codebook's keys (text, whole floats as ints).

    Examples
    --------
    >>> normalise_value(1.0), normalise_value(" Vet ej "), normalise_value(None)
    ('1', 'Vet ej', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = " ".join(str(value).split())
    m = _INT_FLOAT.match(text)
    return m.group(1) if m else text
