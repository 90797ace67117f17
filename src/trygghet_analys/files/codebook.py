"""The codebook (``kodbok.yml``): how each year's survey file maps onto the canonical table.

The codebook is an analyst-edited YAML file in ``raw/trygghetsmatning/``; its format is
documented in Swedish in ``docs/kodbok.md``. This module reads it, checks it against the
canonical contract (``CONTRIBUTING.md``) and returns a frozen :class:`Codebook`. It does
no ingestion itself: :mod:`trygghet_analys.survey` applies the codebook to the files.
"""

from __future__ import annotations

import re
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
    "load_codebook",
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
                    "nycklarna variabel, fran_ar, till_ar",
                    file=path,
                    column=col_where,
                    value=sorted(extra)[0],
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
        clean: dict[str, str | None] = {}
        for source, target in table.items():
            if target is not None and allowed is not None and str(target) not in allowed:
                raise DataError(
                    "en av kategorierna " + ", ".join(allowed),
                    file=path,
                    column=f"{var_where}.{source}",
                    value=target,
                )
            clean[normalise_value(source)] = None if target is None else str(target)
        out[str(variable)] = clean
    return out


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
        raise DataError(
            "giltig YAML i UTF-8", file=path, row=None if line is None else line + 1
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
        extra = set(item) - {"namn", "ar", "fil", "kolumner", "svar", "ignorera", "kommentar"}
        if extra:
            raise DataError(
                "nycklarna namn, ar, fil, kolumner, svar, ignorera",
                file=path,
                column=where,
                value=sorted(extra)[0],
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
        layouts.append(
            Layout(
                name=name,
                years=years,
                file=_file_options(item.get("fil"), path, where),
                columns=columns,
                answers=_answers(item.get("svar"), path, where, variables, scales, columns),
                ignore=tuple(str(c) for c in item.get("ignorera") or []),
            )
        )
    if not layouts:
        raise DataError("minst en layout under layouter", file=path, column="layouter")
    return Codebook(
        path=path,
        variables=variables,
        age_groups=age_groups,
        rules=rules,
        breaks=tuple(breaks),
        layouts=tuple(layouts),
    )
