"""``trygghet-analys kodbok-utkast``: a draft codebook layout from a new delivery.

:func:`draft_for_file` reads the delivery (:mod:`trygghet_analys.files.delivery`) and the
existing codebook and prints YAML to paste under ``layouter``. The matching itself is
pure (:func:`match_delivery`): each column is compared with the question texts and
column names of the earlier layouts (tf-idf over accent-folded word stems, plus how many
of the column's values are answer labels of the question), each answer label with the
categories and the labels earlier layouts mapped (after
:func:`~trygghet_analys.files.codebook.normalise_label`, then by similarity). What is not
matched becomes a ``TODO`` that the codebook check refuses until the analyst fills it.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path

from ..errors import DataError
from ..survey.codebook import (
    QUESTIONS,
    SEX_CATEGORIES,
    Codebook,
    normalise_label,
    normalise_value,
    parse_age_band,
)
from .delivery import Delivery, read_delivery

__all__ = ["ColumnMatch", "Draft", "draft_for_file", "match_delivery", "render_draft"]

#: A column is matched to a question from this score on (0–1); below it: TODO.
COLUMN_THRESHOLD = 0.25
#: An answer label is matched to a category from this similarity on (0–1).
LABEL_THRESHOLD = 0.72

#: Header words (accent-folded stems) of the variables that are not questions.
_ID_WORDS = {
    "respondent_id": {"id", "lopnr", "lopnum", "respon", "nr", "lpnr", "idnr", "svarsi"},
    "stratum": {"omrad", "delomr", "stadsd", "strat", "bostad", "kommun", "distri", "zon",
                "geogra", "omr"},
    "sex": {"kon", "sex", "kön", "gender"},
    "age": {"alder", "ålder", "fodd", "fodels", "alders", "age", "fodelse", "alderg"},
    "year": {"ar", "år", "unders", "year", "matar", "enkata", "artal"},
}  # fmt: skip
_IGNORE_WORDS = {"postnr", "postnu", "kommen", "fritex", "synpun", "anteck", "ovriga",
                 "ovrigt", "insaml", "datum", "tid", "svarss", "metod", "kanal", "vikt",
                 "lank", "epost", "mejl", "mode"}  # fmt: skip
#: Answer labels that mean "no answer" (→ null) for every variable.
_NO_ANSWER = {"ej svar", "uppgift saknas", "saknas", "inget svar", "ej besvarad", "-", "ej angivet",
              "vill ej svara", "vill inte svara", "besvarades inte"}  # fmt: skip
_SEX_LABELS = {"kvinna": "Kvinna", "kvinnor": "Kvinna", "k": "Kvinna", "kv": "Kvinna",
               "flicka": "Kvinna", "man": "Man", "män": "Man", "m": "Man", "pojke": "Man"}  # fmt: skip


def _fold(text: str) -> str:
    """normalise_label, then without accents (å, ä → a; ö → o)."""
    text = unicodedata.normalize("NFKD", normalise_label(text))
    return "".join(c for c in text if not unicodedata.combining(c))


def _stems(text: str) -> list[str]:
    """Word stems of a header: the first six letters, and the last five of long words
    (Swedish compounds: "narkotikapåverkade" and "narkotikahandel" differ at the end)."""
    out = []
    for w in re.split(r"[^a-z0-9]+", _fold(text)):
        if not w or re.fullmatch(r"[a-z]?\d+[a-z]?", w):
            continue
        out.append(w[:6])
        if len(w) >= 9:
            out.append("~" + w[-5:])
    return out


@dataclass
class ColumnMatch:
    """One column of the delivery and what it was matched to."""

    header: str
    variable: str | None  # None: TODO; "ignorera": ignore
    score: float
    note: str = ""
    labels: dict[str, tuple[str | None, float]] = field(default_factory=dict)


@dataclass
class Draft:
    """The draft layout: settings and one match per column."""

    delivery: Delivery
    year: int
    columns: list[ColumnMatch]
    age_form: str | None = None
    age_bands: dict[str, tuple[str | None, str]] = field(default_factory=dict)


def _references(codebook: Codebook) -> dict[str, list[str]]:
    """Variable → texts that name it: earlier headers and the variable's own name."""
    refs: dict[str, list[str]] = {v: [v.replace("_", " ")] for v in QUESTIONS}
    for layout in codebook.layouts:
        for c in layout.columns:
            refs.setdefault(c.variable, []).append(c.source)
    return refs


def _label_references(codebook: Codebook, variable: str) -> dict[str, str | None]:
    """Folded label → category, from the categories and every earlier layout's labels."""
    out: dict[str, str | None] = {}
    cats = QUESTIONS.get(variable, SEX_CATEGORIES if variable == "sex" else ())
    for c in cats:
        out[_fold(c)] = c
    for layout in codebook.layouts:
        for key, target in (layout.answers.get(variable) or {}).items():
            if not key.isdigit():
                out.setdefault(_fold(key), target)
    return out


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b).ratio()
    ta, tb = set(a.split()), set(b.split())
    if tb and tb <= ta:  # every word of the reference in the label ("vet inte / ingen åsikt")
        ratio = max(ratio, 0.75 + 0.25 * len(tb) / len(ta))
    return ratio


def match_label(value: str, references: dict[str, str | None]) -> tuple[str | None, float, bool]:
    """A label's category, its similarity and whether it counts as matched."""
    key = _fold(value)
    if key in references:
        return references[key], 1.0, True
    if normalise_label(value) in _NO_ANSWER:
        return None, 1.0, True
    best, score = None, 0.0
    for ref, target in references.items():
        s = _similar(key, ref)
        if s > score:
            best, score = target, s
    return best, score, score >= LABEL_THRESHOLD


def _value_fit(values: list[str], references: dict[str, str | None]) -> float:
    distinct = [v for v in set(values) if v]
    if not distinct or not references:
        return 0.0
    return sum(match_label(v, references)[2] for v in distinct) / len(distinct)


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(?:[.,]\d+)?", text.replace(" ", "")))


def _id_variable(header: str, values: list[str], strata: tuple[str, ...], year: int) -> str | None:
    stems = set(_stems(header)) | {_fold(header)}
    filled = [v for v in values if v]
    distinct = set(filled)
    if not filled:
        return None
    folded_strata = {_fold(s) for s in strata}
    if strata and sum(_fold(v) in folded_strata for v in distinct) >= max(1, len(distinct) // 2):
        return "stratum"
    if stems & _ID_WORDS["sex"] or distinct and all(_fold(v) in _SEX_LABELS or
                                                   normalise_label(v) in _NO_ANSWER or
                                                   _fold(v) in {"annat", "vill ej uppge"}
                                                   for v in distinct) and len(distinct) <= 6:  # fmt: skip
        if any(_fold(v) in _SEX_LABELS for v in distinct):
            return "sex"
    if distinct == {str(year)}:
        return "year"
    if stems & _ID_WORDS["age"]:
        return "age"
    numbers = [v for v in filled if _is_number(v)]
    if len(distinct) == len(filled) and len(filled) > 5 and stems & _ID_WORDS["respondent_id"]:
        return "respondent_id"
    if stems & _ID_WORDS["stratum"]:
        return "stratum"
    if (
        len(distinct) == len(filled)
        and len(filled) > 20
        and (len(numbers) == len(filled) or all(re.fullmatch(r"[A-Za-z]*-?\d+", v) for v in filled))
    ):
        return "respondent_id"
    if numbers and len(numbers) == len(filled):
        nums = [float(v.replace(",", ".").replace(" ", "")) for v in numbers]
        median = sorted(nums)[len(nums) // 2]
        if 1900 < median < 2020 or 10 < median < 100 and len(distinct) > 30:
            return "age"
    if sum(parse_age_band(v) is not None for v in distinct) >= max(2, len(distinct) * 0.6):
        return "age"
    return None


def match_delivery(
    delivery: Delivery, codebook: Codebook, *, strata: tuple[str, ...], year: int
) -> Draft:
    """Match every column and answer label of a delivery (pure: no reading)."""
    refs = _references(codebook)
    questions = list(QUESTIONS)
    # tf-idf over stems: a stem shared by many questions ("problem") weighs little
    docs = {q: Counter(s for text in refs.get(q, []) for s in _stems(text)) for q in questions}
    df = Counter(s for d in docs.values() for s in d)
    idf = {s: math.log(1 + len(questions) / n) for s, n in df.items()}

    def vector(stems) -> dict[str, float]:
        counts = Counter(stems)
        return {s: (1 + math.log(c)) * idf.get(s, 0.0) for s, c in counts.items()}

    def cosine(a, b) -> float:
        dot = sum(a[s] * b.get(s, 0.0) for s in a)
        na = math.sqrt(sum(x * x for x in a.values()))
        nb = math.sqrt(sum(x * x for x in b.values()))
        return dot / (na * nb) if na and nb else 0.0

    qvec = {q: vector([s for s, c in docs[q].items() for _ in range(c)]) for q in questions}
    label_refs = {q: _label_references(codebook, q) for q in [*questions, "sex"]}
    exact = {normalise_label(src): var for var, texts in refs.items() for src in texts}

    # summary rows ("Totalt") and empty rows say nothing about the labels
    words = codebook.summary_words
    body = [r for r in delivery.rows if any(r) and not any(normalise_label(c) in words for c in r)]
    delivery = replace(delivery, rows=tuple(body))
    columns: list[ColumnMatch] = []
    candidates: list[tuple[float, int, str]] = []
    taken_ids: set[str] = set()
    for j, header in enumerate(delivery.header):
        values = delivery.column(j)
        if not header:
            continue
        m = ColumnMatch(header, None, 0.0)
        columns.append(m)
        known = exact.get(normalise_label(header))
        if known is not None and known not in QUESTIONS and known not in taken_ids:
            m.variable, m.score, m.note = known, 1.0, "samma rubrik som en tidigare layout"
            taken_ids.add(known)
            continue
        ident = _id_variable(header, values, strata, year)
        if ident and ident not in taken_ids and known not in QUESTIONS:
            fit = max((_value_fit(values, label_refs[q]) for q in questions), default=0.0)
            if fit < 0.5 or ident in ("stratum", "sex", "year"):
                m.variable, m.score, m.note = ident, 1.0, "känd kolumntyp"
                taken_ids.add(ident)
                continue
        if set(_stems(header)) & _IGNORE_WORDS:
            m.variable, m.score, m.note = "ignorera", 1.0, "fritext eller administrativ"
            continue
        hv = vector(_stems(header))
        for q in questions:
            text = cosine(hv, qvec[q])
            if known == q:
                text = 1.0
            fit = _value_fit(values, label_refs[q])
            candidates.append((0.75 * text + 0.25 * fit, len(columns) - 1, q))
    # one column per question, best pairs first
    used_q: set[str] = set()
    for score, i, q in sorted(candidates, key=lambda t: -t[0]):
        m = columns[i]
        if m.variable is not None or q in used_q or score < COLUMN_THRESHOLD:
            continue
        m.variable, m.score, m.note = q, score, f"likhet {score:.2f}"
        used_q.add(q)
    for m in columns:
        if m.variable is None:
            best = max((c for c in candidates if columns[c[1]] is m), default=None,
                       key=lambda c: c[0])  # fmt: skip
            if best is not None:
                m.score, m.note = best[0], f"närmast {best[2]} ({best[0]:.2f})"
            distinct = {v for v in delivery.column(delivery.header.index(m.header)) if v}
            if len(distinct) > 50:
                m.variable, m.note = "ignorera", "fritext (många olika värden)"
    draft = Draft(delivery, year, columns)
    for m in columns:
        j = delivery.header.index(m.header)
        values = delivery.column(j)
        distinct = list(dict.fromkeys(v for v in values if v))
        if m.variable in QUESTIONS or m.variable == "sex":
            refs_q = label_refs[m.variable]
            for v in distinct:
                if m.variable == "sex" and _fold(v) in _SEX_LABELS:
                    m.labels[v] = (_SEX_LABELS[_fold(v)], 1.0)
                    continue
                target, score, ok = match_label(v, refs_q)
                if m.variable == "sex" and not ok:
                    target, score, ok = None, 1.0, True  # annat, vill ej uppge → tomt
                m.labels[v] = (target if ok else "TODO", score)
        elif m.variable == "stratum":
            canonical = {_fold(s): s for s in strata}
            if any(_fold(v) not in canonical for v in distinct):
                for v in distinct:
                    hit, score = canonical.get(_fold(v)), 1.0
                    if hit is None:
                        best = max(canonical, key=lambda c: _similar(_fold(v), c), default=None)
                        score = 0.0 if best is None else _similar(_fold(v), best)
                        if score >= 0.6:
                            hit = canonical[best]
                    m.labels[v] = (hit or "TODO", score)
        elif m.variable == "age":
            nums = [float(v.replace(",", ".").replace(" ", "")) for v in distinct if _is_number(v)]
            if nums and len(nums) >= 0.9 * len(distinct):
                median = sorted(nums)[len(nums) // 2]
                draft.age_form = "fodelsear" if median > 1900 else "ar"
            else:
                draft.age_form = "aldersgrupper"
                for v in distinct:
                    draft.age_bands[v] = _band_group(v, codebook)
    return draft


def _band_group(label: str, codebook: Codebook) -> tuple[str | None, str]:
    band = parse_age_band(label)
    if band is None:
        return "TODO", "inget åldersband i texten"
    hit = [g for g in codebook.age_groups if g[1] <= band.high and band.low <= g[2]]
    if len(hit) == 1:
        return hit[0][0], ""
    if not hit:
        return None, "utanför åldersgrupperna"
    return "TODO", "spänner över " + " och ".join(g[0] for g in hit)


def _q(text: object) -> str:
    """A YAML double-quoted string (JSON is YAML): safe for ': ', '#', quotes."""
    return json.dumps(str(text), ensure_ascii=False)


def render_draft(draft: Draft) -> str:
    """The draft as YAML text with comments (scores, TODOs) to paste under ``layouter``."""
    d = draft.delivery
    out = [
        f"# Utkast från trygghet-analys kodbok-utkast för {d.path.name} – granska varje rad.",
        "# Klistra in under layouter: i kodbok.yml, fyll i varje TODO och kör validate.",
        f"- namn: {_q(f'leverans {draft.year}')}",
        f"  ar: {draft.year}",
    ]
    opts = [f"format: {d.format}"]
    if d.sheet is not None:
        opts.append(f"blad: {_q(d.sheet)}")
    opts.append(f"rader_ovanfor_rubrik: {d.skip_rows}")
    if d.format == "csv":
        opts.append(f"avgransare: {_q(d.delimiter)}")
        opts.append(f"kodning: {'utf-8-sig' if d.encoding == 'utf-8-sig' else 'cp1252'}")
    if d.decimal == ",":
        opts.append("decimaltecken: ','")
    out.append("  fil: {" + ", ".join(opts) + "}")
    note = f"  # rubrikraden hittades på rad {d.skip_rows + 1}"
    if d.sheet is not None and not d.first_sheet:
        note += f"; datat ligger på bladet {_q(d.sheet)}, inte det första"
    out.append(note)
    if draft.age_form == "fodelsear":
        out.append("  alder: fodelsear  # kolumnen har födelseår (ålder = år − födelseår, ±1 år)")
    out.append("  kolumner:")
    ignore = []
    for m in draft.columns:
        if m.variable == "ignorera":
            ignore.append(m)
        elif m.variable is None:
            out.append(
                f"    {_q(m.header)}: TODO  # ingen fråga hittad ({m.note}); mappa eller ignorera"
            )
        else:
            out.append(f"    {_q(m.header)}: {m.variable}  # {m.note}")
    if draft.age_form == "aldersgrupper":
        out.append("  aldersgrupper:")
        for label, (group, why) in draft.age_bands.items():
            value = "null" if group is None else group
            out.append(f"    {_q(label)}: {value}" + (f"  # {why}" if why else ""))
    answers = [m for m in draft.columns if m.labels]
    if answers:
        out.append("  svar:")
    for m in answers:
        out.append(f"    {m.variable}:")
        for label, (target, score) in m.labels.items():
            value = "null" if target is None else target
            key = normalise_value(label)
            comment = "TODO: ingen kategori hittad" if target == "TODO" else f"likhet {score:.2f}"
            out.append(
                f"      {_q(key)}: {value if value in ('null', 'TODO') else _q(value)}  # {comment}"
            )
    if ignore:
        out.append("  ignorera:")
        for m in ignore:
            out.append(f"  - {_q(m.header)}  # {m.note}")
    out.append("  # TODO: beslut om seriebrott (se docs/kodbok.md): byt insamlingssätt,")
    out.append("  # formulering, skala eller frågeordning? Skriv en av raderna:")
    out.append("  # seriebrott: <orsak>")
    out.append("  # inget_seriebrott: <orsak>")
    return "\n".join(out) + "\n"


def draft_for_file(
    path: str | Path, *, year: int | None = None, data: str | Path | None = None
) -> str:
    """Read a delivery and the codebook of the data folder; return the draft as YAML text.

    Nothing is written. The year defaults to the file name (``2026.xlsx``).
    """
    from ..config import DataFolder
    from .codebook import load_codebook

    path = Path(path)
    if year is None:
        m = re.match(r"^(\d{4})", path.stem)
        if not m:
            raise DataError("ett år i filnamnet (t.ex. 2026.xlsx) eller --ar ÅR", file=path)
        year = int(m.group(1))
    kommuner = DataFolder.at(data).kommuner()
    kommun = kommuner[0]
    codebook = load_codebook(kommun.survey_dir / "kodbok.yml")
    delivery = read_delivery(path)
    return render_draft(match_delivery(delivery, codebook, strata=kommun.strata, year=year))
