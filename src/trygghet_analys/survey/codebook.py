"""The codebook's model: canonical questions, their answer categories and the frozen
:class:`Codebook` that maps each year's survey file onto the canonical table (pure).

Reading and checking ``kodbok.yml`` is :func:`trygghet_analys.files.codebook.load_codebook`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from ..vocabulary import load_age_groups

if TYPE_CHECKING:
    from collections.abc import Sequence
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
    "AgeBand",
    "SeriesBreak",
    "normalise_header",
    "normalise_label",
    "normalise_labels",
    "normalise_value",
    "parse_age_band",
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


#: Age groups (label, lowest age, highest age), en dash in the labels
#: (``resources/aldersgrupper.csv``).
AGE_GROUPS: tuple[tuple[str, int, int], ...] = load_age_groups()


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
class SeriesBreak:
    """The first year of a new series of ``variable`` (reworded item, new scale, new mode)."""

    variable: str
    year: int
    reason: str


@dataclass(frozen=True)
class Layout:
    """One file layout of the survey, used for a set of years."""

    name: str
    years: frozenset[int]
    file: FileOptions
    columns: tuple[ColumnSpec, ...]
    answers: dict[str, dict[str, str | None]] = field(hash=False, compare=False)
    ignore: tuple[str, ...] = ()
    age: str = "ar"
    age_bands: dict[str, str | None] | None = field(default=None, hash=False, compare=False)
    breaks: tuple[SeriesBreak, ...] = ()
    no_break: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def first_year(self) -> int:
        """The earliest year the layout is used for."""
        return min(self.years)

    def columns_for(self, year: int) -> tuple[ColumnSpec, ...]:
        """The column specs that apply to the file of ``year``."""
        return tuple(c for c in self.columns if c.applies(year))


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
        return frozenset(normalise_label(str(w)) for w in words)


#: Every dash a vendor or a word processor may type, unified to "-".
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")


def normalise_label(text: object) -> str:
    """A header or an answer label as compared with the codebook (forgiving, one rule).

    Unicode NFC (a decomposed "å" equals the composed one), case folding, every run of
    whitespace (spaces, tabs, line breaks, no-break spaces) one space, trimmed, and every
    dash (en dash, em dash, minus sign, hyphen) an ASCII ``-``. The *stored* value is
    always the codebook's canonical category, never this key.

    Examples
    --------
    >>> normalise_label("  Går inte ut \u2013 oro\u00a0för  BROTT ")
    'går inte ut - oro för brott'
    >>> normalise_label("16\u201424 år") == normalise_label("16-24 ÅR")
    True
    """
    return _normalise_text(text if type(text) is str else str(text))


@lru_cache(maxsize=8192)
def _normalise_text(text: str) -> str:
    """:func:`normalise_label` of a str (headers and labels recur: cached)."""
    text = unicodedata.normalize("NFC", text)
    return _DASHES.sub("-", " ".join(text.split()).casefold())


_SEPARATOR = "\x00"  # a normalisation boundary: no whitespace, case or composition
_WHITESPACE_RUN = re.compile(r"\s+")  # str.isspace, as str.split uses
_AROUND_SEPARATOR = re.compile(" ?\x00 ?")
_ODD_WHITESPACE = re.compile(r"[^\S ]|  ")  # whitespace other than single spaces


def normalise_labels(texts: Sequence[str]) -> list[str]:
    """:func:`normalise_label` of many texts at once (equal, text by text).

    The texts are joined with NUL (which neither composes, changes case nor counts as
    whitespace) and the whole string is normalised in a few C-level passes instead of
    one Python call per text; a text that itself holds a NUL falls back to
    :func:`normalise_label`, one at a time.
    """
    if len(texts) == 0:
        return []
    try:
        joined = _SEPARATOR.join(texts.tolist() if hasattr(texts, "tolist") else texts)
    except TypeError:  # not every item is a str
        return [normalise_label(t) for t in texts]
    if joined.count(_SEPARATOR) != len(texts) - 1:
        return [normalise_label(t) for t in texts]
    joined = unicodedata.normalize("NFC", joined).casefold()
    if _ODD_WHITESPACE.search(joined):  # the substitutions only where they change something
        joined = _WHITESPACE_RUN.sub(" ", joined)
    if " " + _SEPARATOR in joined or _SEPARATOR + " " in joined:
        joined = _AROUND_SEPARATOR.sub(_SEPARATOR, joined)
    joined = joined.strip(" ")
    if _DASHES.search(joined):
        joined = _DASHES.sub("-", joined)
    return joined.split(_SEPARATOR)


def normalise_header(text: object) -> str:
    """Header as compared with the codebook: :func:`normalise_label`.

    Examples
    --------
    >>> normalise_header("  Hur  trygg\\nkänner du dig? ")
    'hur trygg känner du dig?'
    """
    return normalise_label(text)


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


@dataclass(frozen=True)
class AgeBand:
    """An age band as a vendor writes it ("45–64 år", "65+", "under 16"), with its ages."""

    label: str
    low: int
    high: int


_BAND_PATTERNS = (
    (re.compile(r"^\D*?(\d{1,3}) ?- ?(\d{1,3})\b"), lambda m: (int(m[1]), int(m[2]))),
    (
        re.compile(r"^\D*?(\d{1,3}) ?(?:\+|år eller äldre|år och äldre|och äldre|eller äldre)"),
        lambda m: (int(m[1]), 200),
    ),
    (re.compile(r"^(?:under|yngre än) (\d{1,3})\b"), lambda m: (0, int(m[1]) - 1)),
    (re.compile(r"^(?:över|äldre än) (\d{1,3})\b"), lambda m: (int(m[1]) + 1, 200)),
)


def parse_age_band(label: object) -> AgeBand | None:
    """The ages of a band label, or ``None`` when the label names no ages.

    Examples
    --------
    >>> parse_age_band("45\u201364 år")
    AgeBand(label='45\u201364 år', low=45, high=64)
    >>> parse_age_band("65+").low, parse_age_band("Under 16").high
    (65, 15)
    >>> parse_age_band("Vill ej uppge") is None
    True
    """
    key = normalise_label(label)
    for pattern, bounds in _BAND_PATTERNS:
        m = pattern.search(key)
        if m:
            low, high = bounds(m)
            if low <= high:
                return AgeBand(str(label), low, high)
    return None
