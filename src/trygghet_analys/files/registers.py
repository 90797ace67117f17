"""Medborgarlöfte registers (YAML) and activity files (CSV): reading and writing.

A *register* is one YAML file per year (``raw/medborgarloften/<year>.yml``) holding the
citizen promise signed by kommun and police: focus areas, and under ``commitments`` the
concrete commitments, each linked to the indicators that show whether it works (survey
indicator ids, wastewater substance ids, activity measure ids) with the desired direction.
The key names are documented for analysts in ``docs/medborgarloften.md``. The register
model and the follow-up are pure and live in :mod:`trygghet_analys.commitments.followup`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import yaml

from ..commitments.followup import (
    _DIRECTIONS,
    _GROUP_VARS,
    _RESPONSIBLE,
    _TOTAL,
    SUGGESTIONS,
    ActivityTarget,
    Commitment,
    IndicatorLink,
    Register,
    Signatory,
    _frame,
    _known,
)
from ..errors import DataError
from ..survey.codebook import AGE_GROUPS, SEX_CATEGORIES
from ..vocabulary import Source, load_activity_measures
from ._io import read_text_any
from ._limits import check_file
from ._models import RegisterDoc, check_shape
from ._open import list_raw
from ._yaml import load_yaml_with_lines

__all__ = [
    "dump_register",
    "load_activities",
    "load_register",
    "load_registers",
    "register_from_json",
    "register_to_json",
]


_REGISTER_KEYS = {
    "kommun",
    "year",
    "signed",
    "signatories",
    "focus_areas",
    "commitments",
    "exempel",
    "utkast",
}


_COMMITMENT_KEYS = {
    "id",
    "focus_area",
    "text",
    "responsible",
    "activities",
    "indicators",
    "forslag",
    "motivering",
}


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")


def _period_months(period: str) -> tuple[int, int]:
    """The months a period covers, counted from year 0: ``2023-Q2`` → (2023·12+3, 2023·12+5).

    >>> _period_months("2023") == (2023 * 12, 2023 * 12 + 11)
    True
    """
    year, _, part = period.partition("-")
    base = int(year) * 12
    if not part:
        return base, base + 11
    if part[0] == "Q":
        q = int(part[1]) - 1
        return base + 3 * q, base + 3 * q + 2
    if part[0] == "H":
        h = int(part[1]) - 1
        return base + 6 * h, base + 6 * h + 5
    m = int(part) - 1
    return base + m, base + m


class _LineDict(dict):
    """A mapping that remembers the 1-based line of itself and of each key."""

    line: int = 0
    key_lines: dict


# libyaml's loader when PyYAML has it (5–10× faster); its nodes carry the same marks
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict(loader.construct_pairs(node, deep=True))
    out.line = node.start_mark.line + 1
    out.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(obj: object, key: str | None = None) -> int | None:
    if isinstance(obj, _LineDict):
        if key is not None and key in obj.key_lines:
            return obj.key_lines[key]
        return obj.line
    return None


def load_register(
    path: str | Path,
    *,
    known_indicators: Mapping[str, str] | Iterable[str] | None = None,
    areas: Sequence[str] | None = None,
    kommun: str | None = None,
) -> Register:
    """Read and validate one register YAML file.

    Parameters
    ----------
    path
        ``raw/medborgarloften/<year>.yml``.
    known_indicators
        Either id → kind (``enkät``/``avloppsvatten``/``aktivitet``), or just the
        survey indicator ids (substances and activity measures are added); default
        :func:`known_indicator_ids`.
    areas
        The kommun's areas (``kommun.yml: omraden``): a link's ``group`` under
        ``group_var: stratum`` must be one of them (checked when given). A ``group`` under
        ``sex`` or ``age_group`` is always checked against the canonical categories.
    kommun
        The kommun's name in ``kommun.yml``: the register's ``kommun`` must be the same
        (checked when given; another name would leave the register out of the follow-up
        without a word).

    Returns
    -------
    Register

    Raises
    ------
    DataError
        Invalid YAML, a missing or unknown key, an unknown focus area, indicator id,
        activity measure, responsible party or direction — naming file and line.
    """
    path = Path(path)
    known = _known(known_indicators)
    measures = load_activity_measures().set_index("id")["unit"].to_dict()
    check_file(path)  # size limit before reading
    text, _ = read_text_any(path)
    # alias bombs, duplicate keys (a second `commitments: []` would erase the first list)
    # and dates that do not exist are refused naming the line
    doc, lines = load_yaml_with_lines(text, file=path, loader=_LineLoader)
    if not isinstance(doc, dict):
        raise DataError("ett YAML-dokument med nycklarna kommun, year och commitments", file=path)
    # wrong types, unknown and missing keys: one line with line number and key path
    check_shape(RegisterDoc, doc, file=path, lines=lines)

    def err(expected: str, obj: object, key: str | None, value: object = None) -> DataError:
        return DataError(expected, file=path, row=_line(obj, key), column=key, value=value)

    for key in doc:
        if key not in _REGISTER_KEYS:
            raise err("en av nycklarna " + ", ".join(sorted(_REGISTER_KEYS)), doc, key, key)
    for key in ("kommun", "year", "commitments"):
        if key not in doc:
            raise DataError(f"nyckeln '{key}'", file=path, row=1)
    if kommun is not None and str(doc["kommun"]) != kommun:
        raise err(f"kommunens namn som i kommun.yml ('{kommun}')", doc, "kommun", doc["kommun"])
    year = doc["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise err("ett årtal (heltal)", doc, "year", year)
    signed = doc.get("signed")
    if isinstance(signed, str):
        try:
            signed = dt.date.fromisoformat(signed)
        except ValueError:
            raise err("ett datum ÅÅÅÅ-MM-DD", doc, "signed", signed) from None
    elif signed is not None and not isinstance(signed, dt.date):
        raise err("ett datum ÅÅÅÅ-MM-DD", doc, "signed", signed)
    signatories = []
    for item in doc.get("signatories") or []:
        if not isinstance(item, dict) or not item.get("name") or "role" not in item:
            raise err(
                "en undertecknare med name och role",
                item if isinstance(item, dict) else doc,
                None if isinstance(item, dict) else "signatories",
                item,
            )
        signatories.append(Signatory(str(item["name"]), str(item["role"] or "")))
    focus_areas = doc.get("focus_areas") or []
    if not isinstance(focus_areas, list) or not all(isinstance(f, str) for f in focus_areas):
        raise err("en lista med fokusområden", doc, "focus_areas", focus_areas)
    raw_commitments = doc["commitments"]
    if not isinstance(raw_commitments, list):
        raise err("en lista med löften", doc, "commitments", raw_commitments)
    commitments = []
    seen: set[str] = set()
    for item in raw_commitments:
        c = _parse_commitment(item, doc, focus_areas, known, measures, err, areas)
        if c.id in seen:
            raise err("ett unikt id", item, "id", c.id)
        seen.add(c.id)
        commitments.append(c)
    return Register(
        kommun=str(doc["kommun"]),
        year=year,
        signed=signed,
        signatories=tuple(signatories),
        focus_areas=tuple(focus_areas),
        commitments=tuple(commitments),
        example=bool(doc.get("exempel", False)),
        draft=bool(doc.get("utkast", False)),
        source=path,
    )


def _parse_commitment(
    item: object,
    doc: dict,
    focus_areas: list[str],
    known: Mapping[str, str],
    measures: Mapping[str, str],
    err: Callable[..., DataError],
    areas: Sequence[str] | None = None,
) -> Commitment:
    """One item under ``commitments``; ``err`` builds a DataError at a node's line."""
    if not isinstance(item, dict):
        raise err("ett löfte med id, focus_area och text", doc, "commitments", item)
    for key in item:
        if key not in _COMMITMENT_KEYS:
            raise err("en av nycklarna " + ", ".join(sorted(_COMMITMENT_KEYS)), item, key, key)
    for key in ("id", "focus_area", "text", "responsible"):
        if item.get(key) in (None, ""):
            raise err(f"nyckeln '{key}' i löftet", item, None)
    if item["focus_area"] not in focus_areas:
        expected = "ett av fokusområdena " + ", ".join(focus_areas)
        raise err(expected, item, "focus_area", item["focus_area"])
    if item["responsible"] not in _RESPONSIBLE:
        raise err("en av " + ", ".join(_RESPONSIBLE), item, "responsible", item["responsible"])
    activities = []
    for act in item.get("activities") or []:
        if not isinstance(act, dict) or "measure" not in act:
            raise err("en aktivitet med measure, unit och target", item, "activities", act)
        if act["measure"] not in measures:
            raise err("ett aktivitetsmått från aktivitetsmatt.csv", act, "measure", act["measure"])
        unit = act.get("unit") or measures[act["measure"]]
        if unit != measures[act["measure"]]:
            raise err(f"enheten '{measures[act['measure']]}'", act, "unit", unit)
        target = act.get("target")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int | float)):
            raise err("ett tal eller tomt", act, "target", target)
        activities.append(
            ActivityTarget(act["measure"], unit, None if target is None else float(target))
        )
    links = [_parse_link(link, item, known, err, areas) for link in item.get("indicators") or []]
    forslag = item.get("forslag", False)
    if forslag not in (True, False, None, *SUGGESTIONS):
        raise err("forslag: true, " + ", ".join(SUGGESTIONS), item, "forslag", forslag)
    motivation = item.get("motivering")
    if motivation is not None and not isinstance(motivation, str):
        raise err("en text", item, "motivering", motivation)
    return Commitment(
        id=str(item["id"]),
        focus_area=str(item["focus_area"]),
        text=str(item["text"]).strip(),
        responsible=str(item["responsible"]),
        activities=tuple(activities),
        indicators=tuple(links),
        proposal=forslag is True,
        suggestion=forslag if forslag in SUGGESTIONS else None,
        motivation=None if motivation is None else motivation.strip(),
    )


def _parse_link(
    link: object,
    item: dict,
    known: Mapping[str, str],
    err: Callable[..., DataError],
    areas: Sequence[str] | None = None,
) -> IndicatorLink:
    """One item under a commitment's ``indicators``."""
    if not isinstance(link, dict) or "id" not in link:
        raise err("en indikator med id och direction", item, "indicators", link)
    if link["id"] not in known:
        expected = "ett indikator-id (enkätindikator, substans eller aktivitetsmått)"
        raise err(expected, link, "id", link["id"])
    if link.get("direction") not in _DIRECTIONS:
        raise err("riktningen minska eller öka", link, "direction", link.get("direction"))
    kind = known[link["id"]]
    group = link.get("group")
    group_var = link.get("group_var", "stratum" if group else "total")
    if group_var not in _GROUP_VARS:
        raise err("en av " + ", ".join(_GROUP_VARS), link, "group_var", group_var)
    if group_var != "total" and kind != Source.SURVEY:
        raise err("group endast för enkätindikatorer", link, "group", group)
    if group_var != "total" and group in (None, ""):
        raise err(f"en grupp (group) för group_var '{group_var}'", link, "group_var", group_var)
    # a group that does not exist would only show as "otillräckligt underlag" later
    groups = {
        "stratum": ("ett av områdena i kommun.yml (omraden)", tuple(areas or ())),
        "sex": ("ett av könen", SEX_CATEGORIES),
        "age_group": ("en av åldersgrupperna", tuple(g[0] for g in AGE_GROUPS)),
    }.get(group_var)
    if groups and groups[1] and str(group) not in groups[1]:
        raise err(f"{groups[0]}: " + ", ".join(groups[1]), link, "group", group)
    return IndicatorLink(
        link["id"],
        kind,
        link["direction"],
        group_var,
        _TOTAL if group_var == "total" else str(group),
    )


def load_registers(
    directory: str | Path,
    *,
    known_indicators: Mapping[str, str] | Iterable[str] | None = None,
    areas: Sequence[str] | None = None,
    kommun: str | None = None,
    read: Callable[..., Register] = load_register,
) -> list[Register]:
    """Every ``<year>.yml`` register in a folder, sorted by year.

    Parameters
    ----------
    directory
        ``raw/medborgarloften/`` of one kommun (other files there are ignored).
    known_indicators, areas, kommun
        Passed to :func:`load_register`.
    read
        Reads one file, called like :func:`load_register` (the default); ``build`` passes
        one that takes a file whose bytes it has read before from its cache.

    Returns
    -------
    list of Register (empty when the folder does not exist).
    """
    directory = Path(directory)

    known = _known(known_indicators)
    # a register that is a folder or a dangling link is read (and refused), not skipped
    files = [
        p for p in list_raw(directory) if p.suffix == ".yml" and re.fullmatch(r"\d{4}", p.stem)
    ]
    out = [read(p, known_indicators=known, areas=areas, kommun=kommun) for p in files]
    for reg, p in zip(out, files, strict=True):
        if reg.year != int(p.stem):
            raise DataError(f"året {p.stem} som i filnamnet", file=p, column="year", value=reg.year)
    return out


def register_to_json(register: Register) -> bytes:
    """A register as JSON (UTF-8), read back by :func:`register_from_json`.

    The build cache keeps parsed registers this way: composing and checking the YAML of
    232 registers took 1,3 s CPU of every region build, reading them back 0,03 s. JSON
    and not pickle: a cache folder that came with a shared data folder can hold data,
    never code.
    """
    doc = {
        "kommun": register.kommun,
        "year": register.year,
        "signed": None if register.signed is None else register.signed.isoformat(),
        # YAML reads ``signed: 2024-05-02 10:00`` as a datetime
        "signed_time": isinstance(register.signed, dt.datetime),
        "signatories": [[s.name, s.role] for s in register.signatories],
        "focus_areas": list(register.focus_areas),
        "commitments": [_commitment_doc(c) for c in register.commitments],
        "example": register.example,
        "draft": register.draft,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _commitment_doc(c: Commitment) -> dict:
    """One commitment of :func:`register_to_json`: its fields, links and activities as lists."""
    return {
        "id": c.id,
        "focus_area": c.focus_area,
        "text": c.text,
        "responsible": c.responsible,
        "activities": [[a.measure, a.unit, a.target] for a in c.activities],
        # kind: a Source (repr ``<Source.SURVEY: 'enkät'>``) or a plain text, kept as it was
        "indicators": [
            [i.id, i.kind, i.direction, i.group_var, i.group, isinstance(i.kind, Source)]
            for i in c.indicators
        ],
        "proposal": c.proposal,
        "suggestion": c.suggestion,
        "motivation": c.motivation,
    }


def register_from_json(data: bytes, *, source: Path | None = None) -> Register:
    """The register :func:`register_to_json` wrote (equal to it, the same ``repr``: the
    draft cache's keys hold it), read from ``source``."""
    doc = json.loads(data.decode("utf-8"))
    commitments = tuple(
        Commitment(
            id=c["id"],
            focus_area=c["focus_area"],
            text=c["text"],
            responsible=c["responsible"],
            activities=tuple(ActivityTarget(*a) for a in c["activities"]),
            indicators=tuple(
                IndicatorLink(i[0], Source(i[1]) if i[5] else i[1], *i[2:5])
                for i in c["indicators"]
            ),
            proposal=c["proposal"],
            suggestion=c["suggestion"],
            motivation=c["motivation"],
        )
        for c in doc["commitments"]
    )
    signed = doc["signed"]
    if signed is not None:
        signed = (dt.datetime if doc["signed_time"] else dt.date).fromisoformat(signed)
    return Register(
        kommun=doc["kommun"],
        year=doc["year"],
        signed=signed,
        signatories=tuple(Signatory(*s) for s in doc["signatories"]),
        focus_areas=tuple(doc["focus_areas"]),
        commitments=commitments,
        example=doc["example"],
        draft=doc["draft"],
        source=source,
    )


def load_activities(path: str | Path) -> pd.DataFrame:
    """Read and validate ``aktiviteter.csv`` (``period, measure, value, unit``).

    Comma or semicolon separated; UTF-8 (with or without BOM) or CP1252; values may use
    a decimal comma. ``period`` is a year (``2023``), a quarter (``2023-Q2``), a half year
    (``2023-H1``) or a month (``2023-05``).

    Returns
    -------
    DataFrame with columns ``period`` (str), ``year`` (int), ``measure``, ``value``
    (float), ``unit``.

    Raises
    ------
    DataError
        A missing column, unknown measure, wrong unit, non-numeric or negative value or
        bad period, naming file, row (header = row 1), column and value.
    """
    path = Path(path)
    check_file(path)  # size limit before reading
    text, _ = read_text_any(path)
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = [h.strip() for h in next(reader, [])]
    for col in ("period", "measure", "value", "unit"):
        if col not in header:
            raise DataError("kolumnerna period, measure, value, unit", file=path, row=1, column=col)
    idx = {c: header.index(c) for c in ("period", "measure", "value", "unit")}
    units = load_activity_measures().set_index("id")["unit"].to_dict()
    rows = []
    spans: dict[str, list[tuple[int, int, int, str]]] = {}
    for n, rec in enumerate(reader, start=2):
        if not any(cell.strip() for cell in rec):
            continue
        cell = {c: (rec[i].strip() if i < len(rec) else "") for c, i in idx.items()}
        m = _PERIOD.match(cell["period"])
        if not m:
            raise DataError(
                "en period ÅÅÅÅ, ÅÅÅÅ-Q1..Q4, ÅÅÅÅ-H1/H2 eller ÅÅÅÅ-MM",
                file=path,
                row=n,
                column="period",
                value=cell["period"],
            )
        if cell["measure"] not in units:
            raise DataError(
                "ett aktivitetsmått: " + ", ".join(units),
                file=path,
                row=n,
                column="measure",
                value=cell["measure"],
            )
        try:
            # "1 404" with a space, a no-break space or a narrow no-break space as the
            # thousands separator (as Excel writes it), a decimal comma
            value = float(re.sub(r"[\s\u00a0\u202f\u2009]", "", cell["value"]).replace(",", "."))
        except ValueError:
            raise DataError(
                "ett tal", file=path, row=n, column="value", value=cell["value"]
            ) from None
        if not math.isfinite(value):
            raise DataError("ett tal", file=path, row=n, column="value", value=cell["value"])
        if value < 0:  # hours, counts and households are never negative
            raise DataError("ett tal ≥ 0", file=path, row=n, column="value", value=cell["value"])
        unit = cell["unit"] or units[cell["measure"]]
        if unit != units[cell["measure"]]:
            raise DataError(
                f"enheten '{units[cell['measure']]}'", file=path, row=n, column="unit", value=unit
            )
        # one row per measure and period, periods that do not overlap: a copied row would
        # double the count, a quarter beside its year would be summed into it
        start, end = _period_months(cell["period"])
        for other_start, other_end, other_row, other_period in spans.get(cell["measure"], []):
            if start <= other_end and other_start <= end:
                same = other_period == cell["period"]
                raise DataError(
                    f"en rad per mått och period, och perioder som inte överlappar (rad "
                    f"{other_row} har samma mått för "
                    + (
                        "samma period)"
                        if same
                        else f"perioden {other_period}, som överlappar; ange antingen hela "
                        "året eller delarna)"
                    ),
                    file=path,
                    row=n,
                    column="period",
                    value=cell["period"],
                )
        spans.setdefault(cell["measure"], []).append((start, end, n, cell["period"]))
        rows.append(
            {
                "period": cell["period"],
                "year": int(m.group(1)),
                "measure": cell["measure"],
                "value": value,
                "unit": unit,
            }
        )
    return _frame(rows, ["period", "year", "measure", "value", "unit"]).astype(
        {"year": "int64", "value": "float64"}
    )


def dump_register(doc: Mapping, *, header: str | None = None) -> str:
    """A register dict as YAML text with a Swedish comment header.

    Parameters
    ----------
    doc
        A register as from :meth:`Register.to_dict` or :func:`draft_register`.
    header
        Comment text (without ``#``); default explains a draft or a register.

    Returns
    -------
    str: YAML that :func:`load_register` reads back to the same register.

    Examples
    --------
    >>> print(dump_register({"kommun": "Exempelby", "year": 2026, "commitments": []},
    ...                     header="Exempel"), end="")
    # Exempel
    kommun: Exempelby
    year: 2026
    commitments: []
    """
    if header is None:
        if doc.get("utkast"):
            header = (
                f"Utkast till medborgarlöfte {doc.get('kommun')} {doc.get('year')}.\n"
                "Fortsatta löften är kopierade från förra årets medborgarlöfte med forslag:\n"
                "behåll, justera eller avsluta och en motivering ur uppföljningen; löften med\n"
                "forslag: true är förslag ur underlaget som rådet formulerar om eller stryker.\n"
                "Fyll i signed (ÅÅÅÅ-MM-DD) och ta bort utkast och forslag när löftet är undertecknat.\n"
                "Nycklarna beskrivs i docs/medborgarloften.md."
            )
        else:
            header = (
                f"Medborgarlöfte {doc.get('kommun')} {doc.get('year')}.\n"
                "Nycklarna beskrivs i docs/medborgarloften.md."
            )
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    body = yaml.safe_dump(
        dict(doc), allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    return comment + body
