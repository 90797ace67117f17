"""The codebook (``kodbok.yml``): how each year's survey file maps onto the canonical table.

The codebook is an analyst-edited YAML file in ``raw/trygghetsmatning/``; its format is
documented in Swedish in ``docs/kodbok.md``. This module reads it, checks it against the
canonical contract (``CONTRIBUTING.md``) and returns a frozen
:class:`~trygghet_analys.survey.codebook.Codebook` (the model lives there). It does no
ingestion itself: :mod:`trygghet_analys.survey.ingest` applies the codebook to the files.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import yaml

from ..errors import DataError
from ..survey.codebook import (
    AGE_GROUPS,
    EXCLUSION_RULES,
    ID_VARIABLES,
    QUESTIONS,
    SEX_CATEGORIES,
    Codebook,
    ColumnSpec,
    FileOptions,
    Layout,
    SeriesBreak,
    normalise_header,
    normalise_label,
    normalise_value,
    parse_age_band,
)
from ._models import CodebookDoc, check_shape
from ._open import read_raw
from ._yaml import key_path, load_yaml_with_lines

__all__ = ["codebook_from_json", "codebook_to_json", "load_codebook"]

_FORMATS = ("xlsx", "csv")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp1252")


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
        if variable in ("age", "respondent_id", "year"):
            hint = (
                "åldersband under aldersgrupper i layouten (eller alder: fodelsear för födelseår)"
                if variable == "age"
                else "ingen översättning: kolumnen läses som den står"
            )
            raise DataError(
                f"en fråga, stratum eller sex under svar – för {variable}: {hint}",
                file=path,
                column=var_where,
                value=variable,
            )
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
    """Source label (as written, first spelling kept) → target; two labels that are equal
    after :func:`normalise_label` but name different targets are refused."""
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
        shown.setdefault(key, source)
    return {normalise_value(shown[key]): value for key, value in clean.items()}


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
            hint = None
            if len(item) == 1:
                ((key, rest),) = item.items()
                hint = _colon_hint(key, {rest: None})
            raise DataError(
                hint or "en lista med rubriker", file=path, column=f"{where}.ignorera", value=item
            )
        out.append(str(item))
    return tuple(out)


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
    questions = [c.variable for c in columns if c.variable not in ID_VARIABLES]
    decided: dict[str, dict[str, str]] = {}
    # per-question mappings first; a text then covers the questions not named by the other
    keys = sorted(("seriebrott", "inget_seriebrott"), key=lambda k: isinstance(item.get(k), str))
    for key in keys:
        doc = item.get(key)
        if doc is None:
            continue
        col = f"{where}.{key}"
        if isinstance(doc, str):
            if not doc.strip():
                raise DataError("en orsak (text)", file=path, column=col, value=doc)
            named = {q for table in decided.values() for q in table}
            decided[key] = {q: doc.strip() for q in questions if q not in named}
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


def _colon_error(exc: DataError, text: str, path: Path) -> DataError:
    """A YAML syntax error from an unquoted ': ' in a header, with the quoting hint."""
    cause = exc.__cause__
    if not (isinstance(cause, yaml.YAMLError) and exc.row is not None
            and "mapping values are not allowed" in str(getattr(cause, "problem", ""))):  # fmt: skip
        return exc
    return DataError(
        "giltig YAML: raden har ': ' två gånger (en rubrik eller etikett med kolon) – "
        'sätt rubriken inom citattecken, t.ex. "Fråga 3: Hur orolig är du?": oro_inbrott',
        file=path,
        row=exc.row,
        value=text.splitlines()[exc.row - 1].strip(),
    )


def _check_areas(
    doc: dict, scales: dict, areas: Sequence[str], path: Path, lines: dict[tuple, int]
) -> None:
    """Every area name a layout maps to under ``svar: stratum`` is in ``kommun.yml``."""
    for i, item in enumerate(doc.get("layouter") or [], start=1):
        spec = (item.get("svar") or {}).get("stratum")
        at: tuple = ("layouter", i, "svar", "stratum")
        if isinstance(spec, str):  # a scale under skalor
            at, spec = ("skalor", spec), scales.get(spec)
        if not isinstance(spec, dict):
            continue
        for source, target in spec.items():
            if target is None or str(target) in areas:
                continue
            key = (*at, unicodedata.normalize("NFC", str(source)))
            raise DataError(
                "ett av områdena i kommun.yml (omraden): " + ", ".join(areas),
                file=path,
                row=lines.get(key),
                key=key_path(key),
                value=target,
            )


def load_codebook(path: str | Path, *, areas: Sequence[str] | None = None) -> Codebook:
    """Read and check a ``kodbok.yml``.

    Parameters
    ----------
    path
        The codebook file.
    areas
        The kommun's areas (``kommun.yml: omraden``); when given, every area a layout maps
        a code to (``svar: stratum:``) must be one of them, and a name that is not is
        refused naming the codebook's line (where the name stands), not a survey row.

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
    text = ""  # read_raw may refuse the file before there is any text
    try:
        text = read_raw(path, kind=None).decode("utf-8")  # size limit before reading
        # alias bombs, duplicate keys and dates that do not exist: one line with the line
        doc, lines = load_yaml_with_lines(
            text, file=path, loader=_LOADER, expected="giltig YAML i UTF-8"
        )
    except DataError as exc:
        raise _colon_error(exc, text, path) from exc
    except FileNotFoundError as exc:
        raise DataError("en kodbok (kodbok.yml) i mappen trygghetsmatning", file=path) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DataError(
            "giltig YAML i UTF-8", file=path, row=None if line is None else line + 1
        ) from exc
    doc = _mapping(doc, path, "kodbok")
    # wrong types, unknown and missing keys: one line with line number and key path
    check_shape(CodebookDoc, doc, file=path, lines=lines)
    try:
        return _codebook(doc, path, lines, areas)
    except DataError as exc:
        raise _with_line(exc, doc, lines) from None


def _with_line(exc: DataError, doc: dict, lines: dict[tuple, int]) -> DataError:
    """A codebook error that names its place as ``column='layouter.<namn>.svar.x'``,
    given the line and key path (``layouter[3].svar.x``) of that place instead."""
    if exc.row is not None or exc.column is None or type(exc) is not DataError:
        return exc
    names = {
        str(item.get("namn") or f"layout {i}"): i
        for i, item in enumerate(doc.get("layouter") or [], start=1)
        if isinstance(item, dict)
    }
    for key, line in lines.items():
        shown = key
        if len(key) >= 2 and key[0] == "layouter" and isinstance(key[1], int):
            item = (doc.get("layouter") or [None] * key[1])[key[1] - 1]
            name = str(item.get("namn") or f"layout {key[1]}") if isinstance(item, dict) else ""
            if names.get(name) != key[1]:
                continue
            shown = ("layouter", name, *key[2:])
        as_dots = ".".join(str(k) for k in shown)
        if exc.column in (as_dots, key_path(key)):
            return DataError(
                exc.expected, file=exc.file, row=line, key=key_path(key),
                value=exc.value if exc.has_value else None,
            )  # fmt: skip
    return exc


def _variables(obj: object, path: Path) -> dict[str, tuple[str, ...]]:
    """The codebook's questions: every known question (:data:`QUESTIONS`) with its
    categories unchanged, then the new questions in the codebook's order.

    A variable not in :data:`QUESTIONS` is a question the survey did not ask before: it
    needs a non-empty list of distinct categories and a layout column that maps it (checked after the layouts).
    """
    table = _mapping(obj, path, "variabler")
    variables = {str(k): tuple(str(c) for c in (v or [])) for k, v in table.items()}
    for q in QUESTIONS:
        if variables.get(q) != QUESTIONS[q]:
            raise DataError(
                "variablerna och kategorierna i CONTRIBUTING.md (frågan saknas eller har andra "
                "kategorier)",
                file=path,
                column="variabler",
                value=q,
            )
    new = [q for q in variables if q not in QUESTIONS]
    for q in new:
        cats = variables[q]  # a missing list is refused by the typed shape already
        if not cats:
            raise DataError(
                "en lista med frågans svarskategorier (ny fråga, se docs/egna-analyser.md)",
                file=path, column=f"variabler.{q}", value=table[q],
            )  # fmt: skip
        twice = [c for i, c in enumerate(cats) if c in cats[:i]]
        if twice:
            raise DataError(
                "svarskategorier som förekommer en gång var (ny fråga)",
                file=path, column=f"variabler.{q}", value=twice[0],
            )  # fmt: skip
    return {**{q: QUESTIONS[q] for q in QUESTIONS}, **{q: variables[q] for q in new}}


def _codebook(
    doc: dict, path: Path, lines: dict[tuple, int], areas: Sequence[str] | None
) -> Codebook:
    """The checks of :func:`load_codebook` after the typed shape."""
    known = {"version", "kommentar", "variabler", "aldersgrupper", "uteslut", "seriebrott",
             "skalor", "layouter"}  # fmt: skip
    for key in doc:
        if key not in known:
            raise DataError(
                "en av nycklarna " + ", ".join(sorted(known)), file=path, column=str(key)
            )

    variables = _variables(doc.get("variabler"), path)

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
                "åldersgrupperna " + ", ".join(label for label, _, _ in AGE_GROUPS),
                file=path,
                column="aldersgrupper",
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
    if areas:
        _check_areas(doc, scales, areas, path, lines)
    _check_break_decisions(layouts, breaks, path)
    mapped = {c.variable for layout in layouts for c in layout.columns}
    for q in variables:
        if q not in QUESTIONS and q not in mapped:
            raise DataError(
                "en kolumn i någon layout som mappar den nya frågan (kolumner: <rubrik>: "
                f"{q})",
                file=path, column=f"variabler.{q}", value=q,
            )  # fmt: skip
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


#: The classes a codebook is made of, by name: the only ones :func:`codebook_from_json`
#: builds (a cache file can hold data, never code).
_CLASSES = {c.__name__: c for c in (Codebook, Layout, FileOptions, ColumnSpec, SeriesBreak)}


def codebook_to_json(codebook: Codebook) -> bytes:
    """A checked codebook as JSON (UTF-8), read back by :func:`codebook_from_json`.

    The build cache keeps parsed codebooks this way (like the registers): reading and
    checking a region's 58 ``kodbok.yml`` (YAML with line numbers, the shape, every
    layout) took 0,19 s CPU of every build, a new year's too. Tuples, frozensets, paths
    and dicts are tagged so that the codebook read back is equal to this one with the
    same ``repr`` (the caller checks that before keeping it)."""
    return json.dumps(_encode(codebook), ensure_ascii=False).encode("utf-8")


def codebook_from_json(data: bytes) -> Codebook:
    """The codebook :func:`codebook_to_json` wrote.

    Raises
    ------
    ValueError, KeyError, TypeError
        The text is not one :func:`codebook_to_json` wrote (a damaged cache entry).
    """
    codebook = _decode(json.loads(data.decode("utf-8")))
    if not isinstance(codebook, Codebook):
        raise TypeError(f"not a codebook: {type(codebook).__name__}")
    return codebook


def _encode(obj: object) -> object:
    """One value of a codebook as JSON data: every container tagged with its kind."""
    if obj is None or type(obj) in (str, int, float, bool):
        return obj
    if type(obj) in _CLASSES.values():
        fields = {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"class": type(obj).__name__, "fields": fields}
    if type(obj) is dict:
        return {"dict": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if type(obj) in (tuple, list, frozenset):
        return {type(obj).__name__: [_encode(v) for v in obj]}
    if isinstance(obj, Path):
        return {"path": str(obj)}
    raise TypeError(f"not kept in the cache: {type(obj).__name__}")


_CONTAINERS = {"tuple": tuple, "list": list, "frozenset": frozenset}


def _decode(doc: object) -> object:
    """The value :func:`_encode` turned into ``doc``."""
    if not isinstance(doc, dict):
        if isinstance(doc, list):
            raise TypeError("an untagged list")
        return doc
    if "class" in doc:
        cls = _CLASSES[doc["class"]]
        return cls(**{name: _decode(v) for name, v in doc["fields"].items()})
    ((tag, value),) = doc.items()  # one tag, else a damaged entry (ValueError)
    if tag == "dict":
        return {_decode(k): _decode(v) for k, v in value}
    if tag == "path":
        return Path(value)
    return _CONTAINERS[tag](_decode(v) for v in value)
