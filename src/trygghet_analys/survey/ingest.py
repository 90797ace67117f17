"""Raw survey files → the canonical respondent table, strata, series breaks and ledger.

Pure: the files are read by :mod:`trygghet_analys.files.survey` and
:func:`trygghet_analys.pipeline.ingest_kommun` ties reading and these steps together.
:func:`apply_layout` and :func:`design_weights` map whole columns at once. The rules (``CONTRIBUTING.md``): rows the codebook's exclusion rules
catch go to the ledger with the rule's name; anything else that is wrong raises a
:class:`~trygghet_analys.errors.DataError` naming file, sheet, Excel row, column and value.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..errors import DataError, ProblemLog
from ..formatting import file_name
from .codebook import (
    AGE_GROUPS,
    QUESTIONS,
    SEX_CATEGORIES,
    Codebook,
    Layout,
    normalise_header,
    normalise_label,
    parse_age_band,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = [
    "BREAK_COLUMNS",
    "LEDGER_COLUMNS",
    "RESPONSE_COLUMNS",
    "RESPONSE_SCHEMA",
    "SOURCE",
    "STRATA_COLUMNS",
    "SurveyTables",
    "apply_layout",
    "design_weights",
    "layout_for_file",
    "survey_tables",
    "validate_responses",
]

SOURCE = "trygghetsmatning"
RESPONSE_COLUMNS: tuple[str, ...] = (
    "kommun",
    "year",
    "respondent_id",
    "stratum",
    "weight",
    "sex",
    "age_group",
    *QUESTIONS,
)
STRATA_COLUMNS = ("kommun", "year", "stratum", "population", "sampled", "respondents",
                  "response_rate")  # fmt: skip
BREAK_COLUMNS = ("kommun", "variable", "year", "reason")
LEDGER_COLUMNS = ("kommun", "source", "file", "sheet", "row", "rule", "detail")

_AGE_LABELS = tuple(label for label, _, _ in AGE_GROUPS)


def _cat(categories) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=True)


#: The boundary to ``processed/survey_responses.parquet``.
RESPONSE_SCHEMA = pa.DataFrameSchema(
    {
        "kommun": pa.Column(str),
        "year": pa.Column("int64", pa.Check.in_range(1900, 2100)),
        "respondent_id": pa.Column(str),
        "stratum": pa.Column(str),
        "weight": pa.Column("float64", pa.Check.gt(0)),
        "sex": pa.Column(_cat(SEX_CATEGORIES), nullable=True),
        "age_group": pa.Column(_cat(_AGE_LABELS), nullable=True),
        **{q: pa.Column(_cat(c), nullable=True) for q, c in QUESTIONS.items()},
    },
    strict=True,
    ordered=True,
    unique=["kommun", "year", "respondent_id"],
)


class SurveyTables(NamedTuple):
    """The survey tables of one or more kommuner (columns as in ``CONTRIBUTING.md``)."""

    responses: pd.DataFrame
    strata: pd.DataFrame
    breaks: pd.DataFrame
    ledger: pd.DataFrame


# --- the codebook applied (pure) ------------------------------------------------------------
def apply_layout(
    cells: pd.DataFrame,
    *,
    codebook: Codebook,
    layout: Layout,
    year: int,
    kommun: str,
    strata: tuple[str, ...],
    file: str | Path,
    sheet: str | None = None,
    first_row: int = 2,
    ledger_file: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply one codebook layout to one file's text cells.

    Parameters
    ----------
    cells
        Text cells as :func:`read_raw_file` returns them.
    codebook, layout
        The codebook and the layout for ``year``.
    year
        The file's year (from its name).
    kommun, strata
        The kommun's name and areas.
    file, sheet, first_row
        Where the cells come from, for error messages; ``first_row`` is the Excel row of
        the first data row.
    ledger_file
        The file name written into the ledger (default ``str(file)``).

    Returns
    -------
    responses : DataFrame
        The canonical columns except ``weight`` (NaN), one row per kept respondent.
    ledger : DataFrame
        ``kommun, source, file, sheet, row, rule, detail`` for each excluded row.

    Raises
    ------
    DataError
        No respondent row, unknown column, codebook column missing from the file,
        unknown answer value, another year's contents, a missing or duplicate respondent id, an area not in
        ``kommun.yml``, or an age that is not a number.
    """
    where = {"file": file, "sheet": sheet}
    log = ProblemLog()
    specs = layout.columns_for(year)
    by_header = {normalise_header(c): c for c in cells.columns}
    # every codebook column must be in the file, every file column in the codebook
    source_of: dict[str, str] = {}
    for spec in specs:
        key = normalise_header(spec.source)
        if key not in by_header:
            log.add(
                DataError(
                    f"kolumnen '{spec.source}' som kodbokens layout '{layout.name}' mappar till "
                    f"{spec.variable} (den finns inte i filen)",
                    row=first_row - 1,
                    column=spec.source,
                    **where,
                )
            )
            continue
        source_of[spec.variable] = by_header[key]
    known = {normalise_header(s.source) for s in specs} | {
        normalise_header(c) for c in layout.ignore
    }
    for key, name in by_header.items():
        if key not in known:
            later = [s for s in layout.columns if normalise_header(s.source) == key]
            hint = (
                f"kolumnen bara åren {later[0].from_year or ''}–{later[0].to_year or ''} "
                f"enligt kodboken (fran_ar/till_ar), inte {year}"
                if later
                else "en kolumn som kodboken mappar (kolumner) eller ignorerar (ignorera)"
            )
            log.add(DataError(hint, row=first_row - 1, column=name, value=name, **where))

    names = list(cells.columns)
    values = cells.to_numpy(dtype=object)
    col = {v: names.index(c) for v, c in source_of.items()}
    n = len(values)
    rows = np.arange(first_row, first_row + n)
    excluded = np.zeros(n, dtype=bool)
    found: list[tuple[np.ndarray, str, np.ndarray | str]] = []

    def exclude(mask: np.ndarray, rule: str, detail: np.ndarray | str) -> None:
        new = mask & ~excluded
        if new.any():
            found.append(
                (rows[new], rule, detail[new] if isinstance(detail, np.ndarray) else detail)
            )
            excluded[new] = True

    def problem(j: int, mask: np.ndarray, expected: str, *, body=None, at=None) -> None:
        """One line per distinct bad value of column ``j`` (its first row, and a count)."""
        body = values if body is None else body
        at = rows if at is None else at
        hits = np.flatnonzero(mask)
        shown: dict[str, list[int]] = {}
        for i in hits:
            shown.setdefault(body[i, j], []).append(int(i))
        log.more += max(0, len(shown) - 10)  # counted, not shown
        for value, idx in list(shown.items())[:10]:
            more = len(idx) - 1
            extra = f" (samma värde på ytterligare {more} {'rad' if more == 1 else 'rader'})"
            extra = extra if more else ""
            log.add(
                DataError(
                    expected + extra, row=int(at[idx[0]]), column=names[j], value=value, **where
                )
            )

    rules = codebook.rules
    if "tom_rad" in rules:
        exclude((values == "").all(axis=1), "tom_rad", "tom rad")
    if "summeringsrad" in rules and n:
        inverse, uniq = pd.factorize(values.ravel())
        words = codebook.summary_words
        is_word = np.array([normalise_label(u) in words for u in uniq], dtype=bool)
        hits = is_word[inverse.reshape(values.shape)].any(axis=1)
        exclude(hits, "summeringsrad", "summeringsrad (till exempel 'Totalt')")
    if "saknar_omrade" in rules and "stratum" in col:
        exclude(values[:, col["stratum"]] == "", "saknar_omrade", "saknar område")

    age = None
    band_group = None
    if "age" in col:
        j = col["age"]
        raw = values[:, j]
        if layout.age_bands is not None:
            age, band_group = _age_from_bands(raw, layout, codebook, excluded, problem, j)
        else:
            age = _numbers(raw, layout.file.decimal)
            bad = np.isnan(age) & (raw != "") & ~excluded
            if bad.any():
                problem(j, bad, _age_expected(raw[bad], layout))
            if layout.age == "fodelsear":
                age = year - np.floor(age)
        age = np.floor(age)
        if "alder_utanfor_urvalet" in rules:
            lo, hi = rules["alder_utanfor_urvalet"]["min"], rules["alder_utanfor_urvalet"]["max"]
            outside = ~np.isnan(age) & ((age < lo) | (age > hi))
            detail = np.full(n, "", dtype=object)
            if layout.age == "fodelsear":
                detail[outside] = [
                    f"födelseår {b} → ålder {a:.0f} utanför {lo}–{hi}"
                    for a, b in zip(age[outside], raw[outside], strict=True)
                ]
            elif band_group is not None:
                detail[outside] = [f"åldersband '{b}' utanför {lo}–{hi}" for b in raw[outside]]
            else:
                detail[outside] = [f"ålder {a:.0f} utanför {lo}–{hi}" for a in age[outside]]
            exclude(outside, "alder_utanfor_urvalet", detail)

    kept = ~excluded
    if n == 0:
        log.add(DataError("minst en svarsrad under rubrikraden", row=first_row, **where))
        log.check()
    if not kept.any():
        log.add(DataError(_all_excluded(found, values, col, layout), row=first_row, **where))
        log.check()
    ledger = _ledger(found, kommun=kommun, file=ledger_file or str(file), sheet=sheet)
    kvalues = values[kept]
    krows = rows[kept]
    m = len(kvalues)

    def fail(variable: str, mask: np.ndarray, expected: str) -> None:
        problem(col[variable], mask, expected, body=kvalues, at=krows)

    if "year" in col:
        other = kvalues[:, col["year"]] != str(year)
        if other.any():
            fail(
                "year",
                other,
                f"året {year} (filen heter {file_name(file)}; innehållet är ett annat år)",
            )

    if "respondent_id" in col:
        ids = kvalues[:, col["respondent_id"]]
        if (ids == "").any():
            fail("respondent_id", ids == "", "ett respondent-id")
        _, first_index, counts = np.unique(ids, return_index=True, return_counts=True)
        for dup_id in ids[first_index[counts > 1]][:10]:
            if dup_id == "":
                continue
            same = ids == dup_id
            where_rows = krows[same]
            fail(
                "respondent_id",
                same & (krows == where_rows[-1]),
                f"unika respondent-id (samma id på rad {', '.join(map(str, where_rows[:-1]))})",
            )
    else:
        ids = np.array([f"rad {r}" for r in krows], dtype=object)

    if "stratum" in col:
        stratum = kvalues[:, col["stratum"]]
        stratum_map = layout.answers.get("stratum")
        if stratum_map is not None:
            codes = _codes(stratum, tuple(stratum_map.items()), None)
            if (codes < 0).any():
                fail("stratum", codes < 0, "ett områdesvärde i kodboken: " + ", ".join(stratum_map))
            targets = np.asarray([*stratum_map.values(), ""], dtype=object)
            stratum = targets[np.where(codes < 0, -1, codes)]
        canonical = {normalise_label(s): s for s in strata}
        inverse, uniq = pd.factorize(stratum)
        named = np.array([canonical.get(normalise_label(u), u) for u in uniq], dtype=object)
        stratum = named[inverse] if len(stratum) else stratum
        wrong = ~np.isin(stratum, np.asarray(strata, dtype=object))
        if stratum_map is not None:
            wrong &= stratum != ""
        if wrong.any():
            fail("stratum", wrong, "ett av områdena i kommun.yml: " + ", ".join(strata))
    else:
        stratum = np.full(m, "", dtype=object)

    out: dict[str, object] = {
        "kommun": pd.array(np.full(m, kommun, dtype=object), dtype="str"),
        "year": np.full(m, year, dtype=np.int64),
        "respondent_id": pd.array(ids, dtype="str"),
        "stratum": pd.array(stratum, dtype="str"),
        "weight": np.full(m, np.nan),
    }
    if "sex" in col:
        out["sex"] = _categorical(kvalues[:, col["sex"]], "sex", SEX_CATEGORIES,
                                  layout.answers.get("sex"), fail)  # fmt: skip
    else:
        out["sex"] = _missing(m, SEX_CATEGORIES)
    groups = codebook.age_groups
    if band_group is not None:
        out["age_group"] = pd.Categorical.from_codes(
            band_group[kept], dtype=_dtype(tuple(g[0] for g in groups))
        )
    elif age is not None:
        kage = age[kept]
        code = np.searchsorted(np.array([g[1] for g in groups[1:]]), kage, side="right")
        outside = ~np.isnan(kage) & ((kage < groups[0][1]) | (kage > groups[-1][2]))
        if outside.any():
            fail("age", outside,
                 f"en ålder {groups[0][1]}–{groups[-1][2]} (eller regeln alder_utanfor_urvalet)")  # fmt: skip
        code = np.where(np.isnan(kage) | outside, -1, code)
        out["age_group"] = pd.Categorical.from_codes(
            code, dtype=_dtype(tuple(g[0] for g in groups))
        )
    else:
        out["age_group"] = _missing(m, _AGE_LABELS)
    # one hash pass over every answer column at once; each column then maps the few
    # distinct values through its own codebook entry
    asked = [q for q in QUESTIONS if q in col]
    inverse, uniq = pd.factorize(kvalues[:, [col[q] for q in asked]].ravel(order="F"))
    inverse = inverse.reshape(len(asked), m)
    for q, cats in QUESTIONS.items():
        if q in col:
            i = asked.index(q)
            out[q] = _categorical(
                kvalues[:, col[q]], q, cats, layout.answers.get(q), fail,
                factorized=(inverse[i], uniq),
            )  # fmt: skip
        else:
            out[q] = _missing(m, cats)
    log.check()
    return pd.DataFrame(out), ledger


def _age_expected(bad: np.ndarray, layout: Layout) -> str:
    """What an age cell should hold, with a hint when a setting is the likely cause."""
    if layout.age == "fodelsear":
        expected = "ett födelseår (ett tal, alder: fodelsear)"
    else:
        expected = "en ålder i år (ett tal)"
    sample = [str(v) for v in bad[:50]]
    if layout.file.decimal == "." and any(re.fullmatch(r"-?\d+,\d+", v) for v in sample):
        return expected + " – värdet har decimalkomma: sätt decimaltecken: ',' under fil"
    if any(parse_age_band(v) for v in sample):
        return expected + " – kolumnen ser ut att ha åldersband: ange aldersgrupper i layouten"
    return expected


def _age_from_bands(raw, layout, codebook, excluded, problem, j):
    """Age bands → (a representative age for the exclusion rule, age-group codes)."""
    groups = codebook.age_groups
    labels = [g[0] for g in groups]
    table = {normalise_label(k): v for k, v in (layout.age_bands or {}).items()}
    n = len(raw)
    age = np.full(n, np.nan)
    group = np.full(n, -1, dtype=np.int64)
    inverse, uniq = pd.factorize(raw)
    unknown = np.zeros(len(uniq), dtype=bool)
    rep = np.full(len(uniq), np.nan)
    code = np.full(len(uniq), -1, dtype=np.int64)
    for k, u in enumerate(uniq):
        if u == "":
            continue
        key = normalise_label(u)
        if key not in table:
            unknown[k] = True
            continue
        target = table[key]
        band = parse_age_band(u)
        if target is not None:
            code[k] = labels.index(target)
            g = groups[code[k]]
            rep[k] = g[1] if band is None else max(band.low, g[1])
        elif band is not None:
            rep[k] = band.low if band.low > groups[-1][2] else band.high
    if n:
        age = rep[inverse]
        group = code[inverse]
        bad = unknown[inverse] & ~excluded
        if bad.any():
            problem(j, bad, "ett åldersband i layoutens aldersgrupper: " + ", ".join(
                str(k) for k in table))  # fmt: skip
    return age, group


_RULE_HINTS = {
    "tom_rad": "stämmer rader_ovanfor_rubrik och bladet?",
    "summeringsrad": "står ett summeringsord i varje rad?",
    "saknar_omrade": "är rätt kolumn mappad till stratum?",
}


def _all_excluded(found: list, values: np.ndarray, col: dict, layout: Layout) -> str:
    """The message when every row of a file was excluded: the rule and an example."""
    counts: dict[str, int] = {}
    example: dict[str, object] = {}
    for rows_, rule, detail in found:
        counts[rule] = counts.get(rule, 0) + len(rows_)
        example.setdefault(rule, detail[0] if isinstance(detail, np.ndarray) else detail)
    rule = max(counts, key=counts.get)
    total = sum(counts.values())
    text = f"minst en svarsrad som behålls, men alla {total} rader uteslöts"
    text += f" av {rule}" if len(counts) == 1 else f", flest ({counts[rule]}) av {rule}"
    if rule == "alder_utanfor_urvalet" and "age" in col:
        ages = values[:, col["age"]]
        sample = next((a for a in ages if a != ""), "")
        text += f", t.ex. {sample}"
        nums = _numbers(ages, layout.file.decimal)
        if layout.age == "ar" and np.nanmedian(nums) > 1900:
            text += " – är kolumnen födelseår? (alder: fodelsear i layouten)"
    else:
        text += f", t.ex. {example[rule]} – {_RULE_HINTS.get(rule, '')}".rstrip(" –")
    return text


def _numbers(text: np.ndarray, decimal: str) -> np.ndarray:
    """Text to float (NaN for blanks and non-numbers), with the layout's decimal sign."""
    s = pd.Series(text, dtype="str").str.replace(" ", "", regex=False)
    if decimal == ",":
        s = s.str.replace(",", ".", regex=False)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _codes(
    text: np.ndarray,
    items: tuple[tuple[str, object], ...],
    blank: int | None = -1,
    factorized: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Position of each text in ``items`` (``blank`` for ``""``, -2 when unknown).

    Texts and keys are compared after :func:`normalise_label` (case, whitespace, dashes,
    Unicode form), the one forgiving rule for headers and answers alike.

    Vectorised over the distinct values: ``pd.factorize`` + one dict lookup per distinct
    value, so the cost does not grow with the number of rows in Python.
    """
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    position = {normalise_label(k): i for i, (k, _) in enumerate(items)}
    if blank is not None:
        position.setdefault("", blank)
    inverse, uniq = pd.factorize(text) if factorized is None else factorized
    mapped = np.array([position.get(normalise_label(u), -2) for u in uniq], dtype=np.int64)
    return mapped[inverse]


@lru_cache(maxsize=64)
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=True)


def _categorical(text, variable, categories, mapping, fail, factorized=None) -> pd.Categorical:
    """Map a text column to an ordered categorical; unknown values stop the run."""
    categories = tuple(categories)
    if mapping is None:
        mapping = {c: c for c in categories}
    items = tuple(mapping.items())
    targets = np.array(
        [-1 if dst is None else categories.index(dst) for _, dst in items] + [-1, -1],
        dtype=np.int64,
    )  # positions -1 (blank) and -2 (unknown) index the last two
    codes = _codes(text, items, factorized=factorized)
    unknown = codes == -2
    if unknown.any():
        shown = [k for k in mapping if k != ""]
        fail(variable, unknown, "ett av: " + ", ".join(shown) + " (eller tom cell)"
             + _encoding_hint(text[unknown]))  # fmt: skip
    return pd.Categorical.from_codes(targets[codes], dtype=_dtype(categories))


def _encoding_hint(bad: np.ndarray) -> str:
    """A hint when unknown values look like text decoded in the wrong encoding."""
    sample = " ".join(str(v) for v in bad[:50])
    if "\ufffd" in sample or re.search("Ã[\u0080-\u00bf]", sample):
        return " – texten ser felavkodad ut: kontrollera kodning under fil (auto, utf-8, cp1252)"
    return ""


def _missing(n: int, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(np.full(n, -1), dtype=_dtype(tuple(categories)))


def _ledger(found: list, *, kommun: str, file: str, sheet: str | None) -> pd.DataFrame:
    if not found:
        return _empty_ledger()
    rows = np.concatenate([r for r, _, _ in found])
    rule = np.concatenate([np.full(len(r), name, dtype=object) for r, name, _ in found])
    detail = np.concatenate(
        [d if isinstance(d, np.ndarray) else np.full(len(r), d, dtype=object) for r, _, d in found]
    )
    order = np.argsort(rows, kind="stable")
    return pd.DataFrame(
        {
            "kommun": kommun,
            "source": SOURCE,
            "file": file,
            "sheet": sheet,
            "row": rows[order],
            "rule": rule[order],
            "detail": detail[order],
        }
    )


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "row" else "str") for c in LEDGER_COLUMNS}
    )


def design_weights(
    responses: pd.DataFrame, population: pd.DataFrame, *, kommun: str, file: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design weights N_h / r_h and the strata table of one kommun.

    Parameters
    ----------
    responses
        Canonical rows of one kommun (any ``weight``).
    population
        ``year, stratum, population, sampled`` from :func:`read_population`.
    kommun
        The kommun's name.
    file
        The population file, for error messages.

    Returns
    -------
    responses : DataFrame
        With ``weight = N_h / r_h``, r_h the kept respondents of stratum h that year.
    strata : DataFrame
        ``kommun, year, stratum, population, sampled, respondents, response_rate`` for
        every population row of a year with survey data.

    Raises
    ------
    DataError
        A stratum with respondents but no population row, or more respondents than
        sampled.

    Notes
    -----
    The weight makes the stratum's weights sum to N_h (the estimator of R's
    ``svydesign(ids=~1, strata=~stratum, weights=~weight, fpc=~population)``).
    """
    counts = (
        responses.groupby(["year", "stratum"], observed=True)
        .size()
        .rename("respondents")
        .reset_index()
    )
    years = responses["year"].unique()
    merged = counts.merge(population, on=["year", "stratum"], how="left", indicator=True)
    missing = merged["_merge"] == "left_only"
    if missing.any():
        r = merged[missing].iloc[0]
        raise DataError(
            f"en rad i population.csv för år {r['year']} och området '{r['stratum']}'",
            file=file, column="stratum", value=r["stratum"],
        )  # fmt: skip
    strata = population[population["year"].isin(years)].merge(
        counts, on=["year", "stratum"], how="left"
    )
    strata["respondents"] = strata["respondents"].fillna(0).astype("int64")
    over = strata["respondents"] > strata["sampled"]
    if over.any():
        r = strata[over].iloc[0]
        raise DataError(
            f"högst {r['sampled']} svarande (sampled) år {r['year']} i '{r['stratum']}'",
            file=file, column="sampled", value=r["respondents"],
        )  # fmt: skip
    strata["response_rate"] = strata["respondents"] / strata["sampled"].where(strata["sampled"] > 0)
    strata.insert(0, "kommun", kommun)
    strata["kommun"] = strata["kommun"].astype("str")
    order = {name: i for i, name in enumerate(dict.fromkeys(population["stratum"]))}
    strata = strata.sort_values(
        ["year", "stratum"], key=lambda c: c.map(order) if c.name == "stratum" else c
    ).reset_index(drop=True)
    key = responses[["year", "stratum"]].merge(
        strata[["year", "stratum", "population", "respondents"]], on=["year", "stratum"], how="left"
    )
    out = responses.copy()
    out["weight"] = (key["population"] / key["respondents"]).to_numpy(dtype=float)
    return out, strata[list(STRATA_COLUMNS)]


def validate_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """Check the canonical table at the boundary (pandera); raise DataError on failure."""
    try:
        return RESPONSE_SCHEMA.validate(responses, lazy=False)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise DataError(
            f"en kanonisk svarstabell enligt CONTRIBUTING.md ({str(exc).splitlines()[0]})",
            file="survey_responses",
        ) from exc


def layout_for_file(codebook: Codebook, year: int, path: Path) -> Layout:
    """The codebook layout for one year's file, checked against the file's format.

    Raises
    ------
    DataError
        No layout covers the year, or the file's extension differs from the layout's format.
    """
    layout = codebook.layout_for(year)
    if layout is None:
        raise DataError(f"en layout i kodboken som omfattar året {year}", file=path, value=year)
    if path.suffix.lower().lstrip(".") != layout.file.format:
        raise DataError(
            f"en {layout.file.format}-fil enligt kodbokens layout '{layout.name}'",
            file=path, value=path.name,
        )  # fmt: skip
    return layout


def survey_tables(
    parts: Sequence[pd.DataFrame],
    ledgers: Sequence[pd.DataFrame],
    population: pd.DataFrame,
    *,
    codebook: Codebook,
    kommun: str,
    file: str | Path,
) -> SurveyTables:
    """One kommun's survey tables from its files' :func:`apply_layout` results.

    Parameters
    ----------
    parts, ledgers
        :func:`apply_layout`'s responses and ledger of each yearly file.
    population
        ``population.csv`` as read (year, stratum, population, sampled).
    codebook
        The kommun's codebook (its series breaks).
    kommun
        The kommun's name.
    file
        The population file (named in errors).

    Returns
    -------
    SurveyTables
        ``responses`` (canonical, validated), ``strata``, ``breaks`` and ``ledger``.
    """
    responses = pd.concat(parts, ignore_index=True)
    responses, strata_table = design_weights(responses, population, kommun=kommun, file=file)
    breaks = pd.DataFrame(
        {
            "kommun": pd.Series([kommun] * len(codebook.breaks), dtype="str"),
            "variable": pd.Series([b.variable for b in codebook.breaks], dtype="str"),
            "year": pd.Series([b.year for b in codebook.breaks], dtype="int64"),
            "reason": pd.Series([b.reason for b in codebook.breaks], dtype="str"),
        }
    )
    ledger = _tidy_ledger(
        pd.concat([x for x in ledgers if len(x)] or [_empty_ledger()], ignore_index=True)
    )
    return SurveyTables(validate_responses(responses), strata_table, breaks, ledger)


def _tidy_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    out = ledger[list(LEDGER_COLUMNS)].copy()
    for col in ("kommun", "source", "file", "sheet", "rule", "detail"):
        out[col] = out[col].astype("str")
    out["row"] = out["row"].astype("int64")
    return out.reset_index(drop=True)
