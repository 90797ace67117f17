"""The codebook (``kodbok.yml``): how each year's survey file maps onto the canonical table.

The codebook is an analyst-edited YAML file in ``raw/trygghetsmatning/``; its format is
documented in Swedish in ``docs/kodbok.md``. This module reads it, checks it against the
canonical contract (``CONTRIBUTING.md``) and returns a frozen :class:`Codebook`. It does
no ingestion itself: :mod:`trygghet_analys.survey` applies the codebook to the files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import DataError
from ._limits import check_file
from ._yaml import load_yaml

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
    "AgeBand",
    "load_codebook",
    "normalise_header",
    "normalise_label",
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

_FORMATS = ("xlsx", "csv")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp1252")


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
    text = unicodedata.normalize("NFC", str(text))
    return _DASHES.sub("-", " ".join(text.split()).casefold())


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


def _years(spec: object, path: Path, where: str) -> frozenset[int]:
    """Parse ``2005-2011``, ``2020``, ``[2012, 2013]`` or ``"2012, 2014-2016"``."""
    items = spec if isinstance(spec, list) else [spec]
    years: set[int] = set()
    for item in items:
        for part in str(item).split(","):
            part = part.strip().replace("–", "-")
            m = re.fullmatch(r"(\d{4})(?:\s*-\s*(\d{4}))?", part)
            if not m:
                raise DataError(
                    "ett år eller ett intervall som 2005-2011", file=path, column=where, value=item
                )
            lo = int(m.group(1))
            hi = int(m.group(2) or lo)
            if hi < lo:
                raise DataError("ett stigande intervall", file=path, column=where, value=item)
            years.update(range(lo, hi + 1))
    return frozenset(years)


def _mapping(obj: object, path: Path, where: str) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise DataError("en nyckel–värde-lista", file=path, column=where, value=obj)
    return obj


def _int(obj: object, path: Path, where: str, *, minimum: int = 0) -> int:
    if isinstance(obj, bool) or not isinstance(obj, int) or obj < minimum:
        raise DataError(f"ett heltal ≥ {minimum}", file=path, column=where, value=obj)
    return obj


def _file_options(obj: object, path: Path, where: str) -> FileOptions:
    doc = _mapping(obj, path, f"{where}.fil")
    known = {"format", "blad", "rader_ovanfor_rubrik", "kodning", "decimaltecken", "avgransare"}
    for key in doc:
        if key not in known:
            raise DataError(
                "en av nycklarna " + ", ".join(sorted(known)),
                file=path,
                column=f"{where}.fil",
                value=key,
            )
    fmt = str(doc.get("format", "")).lower()
    if fmt not in _FORMATS:
        raise DataError("format xlsx eller csv", file=path, column=f"{where}.fil.format", value=fmt)
    enc = str(doc.get("kodning", "auto")).lower()
    if enc not in _ENCODINGS:
        raise DataError(
            "kodning " + ", ".join(_ENCODINGS), file=path, column=f"{where}.fil.kodning", value=enc
        )
    decimal = str(doc.get("decimaltecken", "."))
    if decimal not in (".", ","):
        raise DataError(
            "decimaltecken ',' eller '.'",
            file=path,
            column=f"{where}.fil.decimaltecken",
            value=decimal,
        )
    delimiter = str(doc.get("avgransare", ";"))
    if len(delimiter) != 1:
        raise DataError(
            "ett enda tecken", file=path, column=f"{where}.fil.avgransare", value=delimiter
        )
    sheet = doc.get("blad")
    return FileOptions(
        format=fmt,
        sheet=None if sheet is None else str(sheet),
        skip_rows=_int(
            doc.get("rader_ovanfor_rubrik", 0), path, f"{where}.fil.rader_ovanfor_rubrik"
        ),
        encoding=enc,
        decimal=decimal,
        delimiter=delimiter,
    )


def _columns(obj: object, path: Path, where: str, variables: dict) -> tuple[ColumnSpec, ...]:
    doc = _mapping(obj, path, f"{where}.kolumner")
    allowed = set(ID_VARIABLES) | set(variables)
    specs = []
    seen: dict[str, str] = {}
    for source, target in doc.items():
        col_where = f"{where}.kolumner.{source}"
        from_year = to_year = None
        if isinstance(target, dict):
            extra = set(target) - {"variabel", "fran_ar", "till_ar"}
            if extra:
                raise DataError(
                    _colon_hint(source, target) or "nycklarna variabel, fran_ar, till_ar",
                    file=path,
                    column=col_where,
                    value=sorted(map(str, extra))[0],
                )
            variable = target.get("variabel")
            if target.get("fran_ar") is not None:
                from_year = _int(target["fran_ar"], path, col_where, minimum=1900)
            if target.get("till_ar") is not None:
                to_year = _int(target["till_ar"], path, col_where, minimum=1900)
        else:
            variable = target
        if variable not in allowed:
            raise DataError(
                "en kanonisk variabel (se variabler) eller respondent_id, stratum, sex, age, year",
                file=path,
                column=col_where,
                value=variable,
            )
        key = normalise_header(source)
        if key in seen:
            raise DataError(
                "varje källkolumn en gång", file=path, column=f"{where}.kolumner", value=source
            )
        seen[key] = variable
        specs.append(ColumnSpec(str(source), str(variable), from_year, to_year))
    for needed in ("respondent_id", "stratum"):
        if needed not in seen.values():
            raise DataError(
                f"en kolumn som mappas till {needed}", file=path, column=f"{where}.kolumner"
            )
    return tuple(specs)


def _answers(
    obj: object, path: Path, where: str, variables: dict, scales: dict, columns: tuple
) -> dict[str, dict[str, str | None]]:
    doc = _mapping(obj, path, f"{where}.svar")
    mapped = {c.variable for c in columns}
    out: dict[str, dict[str, str | None]] = {}
    for variable, spec in doc.items():
        var_where = f"{where}.svar.{variable}"
        if variable not in mapped:
            raise DataError(
                "en variabel som layouten har under kolumner",
                file=path,
                column=var_where,
                value=variable,
            )
        if isinstance(spec, str):
            if spec not in scales:
                raise DataError(
                    "namnet på en skala under skalor", file=path, column=var_where, value=spec
                )
            spec = scales[spec]
        table = _mapping(spec, path, var_where)
        allowed = _allowed_targets(variable, variables)
        out[str(variable)] = _label_table(table, allowed, path, var_where)
    return out


def _label_table(
    table: dict, allowed: tuple[str, ...] | None, path: Path, where: str
) -> dict[str, str | None]:
    """Source label → target, keyed by :func:`normalise_label`; ambiguous labels refused."""
    clean: dict[str, str | None] = {}
    shown: dict[str, object] = {}
    for source, target in table.items():
        if isinstance(target, dict):
            raise DataError(
                _colon_hint(source, target) or "en kategori (text) eller null",
                file=path,
                column=f"{where}.{source}",
                value=source,
            )
        if target is not None and allowed is not None and str(target) not in allowed:
            raise DataError(
                "en av kategorierna " + ", ".join(allowed),
                file=path,
                column=f"{where}.{source}",
                value=target,
            )
        key = normalise_label(normalise_value(source))
        value = None if target is None else str(target)
        if key in clean and clean[key] != value:
            raise DataError(
                f"etiketter som skiljer sig åt även utan hänsyn till skiftläge, mellanslag och "
                f"tankstreck ('{shown[key]}' → {clean[key]}, '{source}' → {value})",
                file=path,
                column=f"{where}.{source}",
                value=source,
            )
        clean[key] = value
        shown[key] = source
    return clean


def _colon_hint(source: object, target: object) -> str | None:
    """The hint for a header or label with an unquoted ``: `` that YAML read as a mapping."""
    if isinstance(target, dict) and len(target) == 1:
        (rest,) = target
        return (
            f"en text, men YAML läste '{source}: {rest}' som en nyckel med ett eget värde – "
            f"rubriken innehåller ': ', sätt rubriken inom citattecken: \"{source}: {rest}\""
        )
    return None


def _allowed_targets(variable: str, variables: dict) -> tuple[str, ...] | None:
    if variable in variables:
        return tuple(variables[variable])
    if variable == "sex":
        return SEX_CATEGORIES
    return None  # stratum (checked against kommun.yml), respondent_id, age, year


def _rules(obj: object, path: Path) -> dict[str, dict]:
    doc = _mapping(obj, path, "uteslut")
    rules: dict[str, dict] = {}
    for name, params in doc.items():
        if name not in EXCLUSION_RULES:
            raise DataError(
                "en av reglerna " + ", ".join(EXCLUSION_RULES),
                file=path,
                column="uteslut",
                value=name,
            )
        if params is False:
            continue
        params = {} if params in (None, True) else _mapping(params, path, f"uteslut.{name}")
        if name == "alder_utanfor_urvalet":
            lo = _int(params.get("min", 16), path, "uteslut.alder_utanfor_urvalet.min")
            hi = _int(params.get("max", 85), path, "uteslut.alder_utanfor_urvalet.max")
            params = {"min": lo, "max": hi}
        rules[str(name)] = params
    return rules


_LAYOUT_KEYS = ("namn", "ar", "fil", "kolumner", "svar", "ignorera", "kommentar", "alder",
                "aldersgrupper", "seriebrott", "inget_seriebrott")  # fmt: skip
_AGE_FORMS = ("ar", "fodelsear")


def _ignore(obj: object, path: Path, where: str) -> tuple[str, ...]:
    items = obj if isinstance(obj, list) else ([] if obj is None else [obj])
    out = []
    for item in items:
        if isinstance(item, dict):
            hint = _colon_hint(*next(iter(item.items()))) if len(item) == 1 else None
            raise DataError(
                hint or "en lista med rubriker", file=path, column=f"{where}.ignorera", value=item
            )
        out.append(str(item))
    return tuple(out)


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


def _age(
    item: dict, path: Path, where: str, columns: tuple[ColumnSpec, ...], groups: tuple
) -> tuple[str, dict[str, str | None] | None]:
    """The layout's age form (``alder``) and its band table (``aldersgrupper``)."""
    form = str(item.get("alder", "ar"))
    if form not in _AGE_FORMS:
        raise DataError(
            "alder: ar (ålder i hela år) eller alder: fodelsear (födelseår); åldersband "
            "anges med aldersgrupper",
            file=path, column=f"{where}.alder", value=form,
        )  # fmt: skip
    bands_doc = item.get("aldersgrupper")
    has_age = any(c.variable == "age" for c in columns)
    if (bands_doc is not None or "alder" in item) and not has_age:
        raise DataError(
            "en kolumn som mappas till age (alder och aldersgrupper gäller den kolumnen)",
            file=path, column=f"{where}.kolumner",
        )  # fmt: skip
    if bands_doc is None:
        return form, None
    if "alder" in item and form != "ar":
        raise DataError(
            "antingen alder: fodelsear eller aldersgrupper, inte båda",
            file=path, column=f"{where}.aldersgrupper",
        )  # fmt: skip
    labels = tuple(g[0] for g in groups)
    bands_doc = _mapping(bands_doc, path, f"{where}.aldersgrupper")
    table = _label_table(bands_doc, None, path, f"{where}.aldersgrupper")
    for source, target in bands_doc.items():
        col = f"{where}.aldersgrupper.{source}"
        if target is not None and str(target) not in labels:
            raise DataError(
                "en av åldersgrupperna " + ", ".join(labels) + " (eller null)",
                file=path, column=col, value=target,
            )  # fmt: skip
        band = parse_age_band(source)
        if band is None or target is None:
            continue
        hit = [g for g in groups if g[1] <= band.high and band.low <= g[2]]
        if len(hit) > 1:
            raise DataError(
                f"ett åldersband inom en åldersgrupp – '{source}' ({band.low}–"
                f"{band.high if band.high < 200 else ''}) spänner över åldersgrupperna "
                + " och ".join(g[0] for g in hit)
                + "; be leverantören om ålder i år eller födelseår",
                file=path, column=col, value=source,
            )  # fmt: skip
        if hit and hit[0][0] != str(target):
            raise DataError(
                f"åldersgruppen {hit[0][0]} för '{source}' (bandet ligger där)",
                file=path, column=col, value=target,
            )  # fmt: skip
    return form, table


def _layout_breaks(
    item: dict, path: Path, where: str, columns: tuple[ColumnSpec, ...], first_year: int
) -> tuple[tuple[SeriesBreak, ...], dict[str, str]]:
    """A layout's own series-break decision: ``seriebrott`` and ``inget_seriebrott``.

    Either key is a reason (text) for every question the layout maps, or a mapping
    question → reason. ``seriebrott`` becomes a break in the layout's first year.
    """
    questions = [c.variable for c in columns if c.variable in QUESTIONS]
    decided: dict[str, dict[str, str]] = {}
    for key in ("seriebrott", "inget_seriebrott"):
        doc = item.get(key)
        if doc is None:
            continue
        col = f"{where}.{key}"
        if isinstance(doc, str):
            if not doc.strip():
                raise DataError("en orsak (text)", file=path, column=col, value=doc)
            decided[key] = dict.fromkeys(questions, doc.strip())
            continue
        table = _mapping(doc, path, col)
        out = {}
        for variable, reason in table.items():
            if variable not in questions:
                raise DataError(
                    "en fråga som layouten mappar under kolumner",
                    file=path, column=col, value=variable,
                )  # fmt: skip
            if not isinstance(reason, str) or not reason.strip():
                raise DataError(
                    "en orsak (text)", file=path, column=f"{col}.{variable}", value=reason
                )
            out[str(variable)] = reason.strip()
        decided[key] = out
    both = set(decided.get("seriebrott", {})) & set(decided.get("inget_seriebrott", {}))
    if both:
        raise DataError(
            "antingen seriebrott eller inget_seriebrott för en fråga, inte båda",
            file=path, column=where, value=sorted(both)[0],
        )  # fmt: skip
    breaks = tuple(
        SeriesBreak(v, first_year, reason) for v, reason in decided.get("seriebrott", {}).items()
    )
    return breaks, decided.get("inget_seriebrott", {})


def _check_break_decisions(layouts: list[Layout], breaks: list[SeriesBreak], path: Path) -> None:
    """Every new layout decides, per question, whether the series breaks at its first year.

    A layout needs the decision when its first year is newer than every break declared
    (at the top level) for the questions it maps; the earliest layout starts the series
    and needs none. A question is decided by a break in the layout's first year (top
    level or the layout's ``seriebrott``) or by ``inget_seriebrott``.
    """
    ordered = sorted(layouts, key=lambda lay: lay.first_year)
    for layout in ordered[1:]:
        first = layout.first_year
        questions = [c.variable for c in layout.columns if c.variable in QUESTIONS]
        declared = [b.year for b in breaks if b.variable in questions]
        if declared and first <= max(declared):
            continue
        at_start = {b.variable for b in (*breaks, *layout.breaks) if b.year == first}
        open_ = [q for q in questions if q not in at_start and q not in layout.no_break]
        if open_:
            raise DataError(
                f"ett beslut om seriebrott för frågan i layouten '{layout.name}' (ny layout "
                f"från {first}; {len(open_)} frågor utan beslut): skriv seriebrott: <orsak> "
                "eller inget_seriebrott: <orsak> i layouten, för hela layouten eller per "
                "fråga (se docs/kodbok.md)",
                file=path,
                column=f"layouter.{layout.name}",
                value=open_[0],
            )


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a ``kodbok.yml``.

    Parameters
    ----------
    path
        The codebook file.

    Returns
    -------
    Codebook
        The checked codebook.

    Raises
    ------
    DataError
        The file is missing or not YAML, a key is unknown, the canonical variables differ
        from the contract, a target category does not exist, or two layouts share a year.
    """
    path = Path(path)
    try:
        check_file(path)  # size limit before reading
        text = path.read_text(encoding="utf-8")
        # alias bombs, duplicate keys and dates that do not exist: one line with the line
        doc = load_yaml(text, file=path, loader=_LOADER, expected="giltig YAML i UTF-8")
    except FileNotFoundError as exc:
        raise DataError("en kodbok (kodbok.yml) i mappen trygghetsmatning", file=path) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        expected, value = "giltig YAML i UTF-8", None
        if "mapping values are not allowed" in str(getattr(exc, "problem", "")):
            value = text.splitlines()[line].strip() if line is not None else None
            expected = (
                "giltig YAML: raden har ': ' två gånger (en rubrik eller etikett med kolon) – "
                'sätt rubriken inom citattecken, t.ex. "Fråga 3: Hur orolig är du?": oro_inbrott'
            )
        raise DataError(
            expected, file=path, row=None if line is None else line + 1, value=value
        ) from exc
    doc = _mapping(doc, path, "kodbok")
    known = {"version", "kommentar", "variabler", "aldersgrupper", "uteslut", "seriebrott",
             "skalor", "layouter"}  # fmt: skip
    for key in doc:
        if key not in known:
            raise DataError(
                "en av nycklarna " + ", ".join(sorted(known)), file=path, column=str(key)
            )

    variables = {str(k): tuple(str(c) for c in (v or [])) for k, v in _mapping(
        doc.get("variabler"), path, "variabler").items()}  # fmt: skip
    if variables != QUESTIONS:
        missing = [q for q in QUESTIONS if q not in variables]
        wrong = missing or [q for q in variables if variables.get(q) != QUESTIONS.get(q)]
        raise DataError(
            "variablerna och kategorierna i CONTRIBUTING.md (frågan saknas eller har andra "
            "kategorier)",
            file=path,
            column="variabler",
            value=wrong[0] if wrong else None,
        )

    age_doc = doc.get("aldersgrupper")
    if age_doc is None:
        age_groups = AGE_GROUPS
    else:
        age_groups = tuple(
            (str(label), int(bounds[0]), int(bounds[1]))
            for label, bounds in _mapping(age_doc, path, "aldersgrupper").items()
        )
        if age_groups != AGE_GROUPS:
            raise DataError(
                "åldersgrupperna 16–24, 25–44, 45–64, 65–85", file=path, column="aldersgrupper"
            )

    scales = _mapping(doc.get("skalor"), path, "skalor")
    rules = _rules(doc.get("uteslut"), path)

    breaks = []
    for i, item in enumerate(doc.get("seriebrott") or [], start=1):
        item = _mapping(item, path, f"seriebrott[{i}]")
        variable = item.get("variabel")
        if variable not in variables:
            raise DataError(
                "en kanonisk fråga", file=path, column=f"seriebrott[{i}].variabel", value=variable
            )
        year = _int(item.get("ar"), path, f"seriebrott[{i}].ar", minimum=1900)
        breaks.append(SeriesBreak(str(variable), year, str(item.get("orsak") or "")))

    layouts: list[Layout] = []
    owner: dict[int, str] = {}
    for i, item in enumerate(doc.get("layouter") or [], start=1):
        item = _mapping(item, path, f"layouter[{i}]")
        name = str(item.get("namn") or f"layout {i}")
        where = f"layouter.{name}"
        extra = set(item) - set(_LAYOUT_KEYS)
        if extra:
            raise DataError(
                "nycklarna " + ", ".join(_LAYOUT_KEYS),
                file=path,
                column=where,
                value=sorted(map(str, extra))[0],
            )
        years = _years(item.get("ar"), path, f"{where}.ar")
        for y in years:
            if y in owner:
                raise DataError(
                    f"varje år i en enda layout (året finns redan i '{owner[y]}')",
                    file=path,
                    column=f"{where}.ar",
                    value=y,
                )
            owner[y] = name
        columns = _columns(item.get("kolumner"), path, where, variables)
        age, bands = _age(item, path, where, columns, age_groups)
        layout_breaks, no_break = _layout_breaks(item, path, where, columns, min(years))
        layouts.append(
            Layout(
                name=name,
                years=years,
                file=_file_options(item.get("fil"), path, where),
                columns=columns,
                answers=_answers(item.get("svar"), path, where, variables, scales, columns),
                ignore=_ignore(item.get("ignorera"), path, where),
                age=age,
                age_bands=bands,
                breaks=layout_breaks,
                no_break=no_break,
            )
        )
    if not layouts:
        raise DataError("minst en layout under layouter", file=path, column="layouter")
    _check_break_decisions(layouts, breaks, path)
    for layout in layouts:
        known = {(b.variable, b.year) for b in breaks}
        breaks.extend(b for b in layout.breaks if (b.variable, b.year) not in known)
    return Codebook(
        path=path,
        variables=variables,
        age_groups=age_groups,
        rules=rules,
        breaks=tuple(breaks),
        layouts=tuple(layouts),
    )
