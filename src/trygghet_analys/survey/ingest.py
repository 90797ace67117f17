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
import pyarrow as pa_

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
    normalise_labels,
    parse_age_band,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "BREAK_COLUMNS",
    "Applied",
    "CodedCells",
    "SourceFile",
    "LEDGER_COLUMNS",
    "RESPONSE_COLUMNS",
    "RESPONSE_SCHEMA",
    "align_questions",
    "new_questions",
    "response_schema",
    "SOURCE",
    "STRATA_COLUMNS",
    "KommunSurvey",
    "SurveyTables",
    "apply_layout",
    "apply_layout_files",
    "design_weights",
    "layout_for_file",
    "layout_signature",
    "region_survey_tables",
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


def response_schema(
    questions: Mapping[str, Sequence[str]] = QUESTIONS,
) -> pa.DataFrameSchema:
    """The boundary to ``processed/survey_responses.parquet`` for a build whose codebooks
    declare ``questions`` (the known :data:`QUESTIONS` first, then the new ones)."""
    return pa.DataFrameSchema(
        {
            "kommun": pa.Column(str),
            "year": pa.Column("int64", pa.Check.in_range(1900, 2100)),
            "respondent_id": pa.Column(str),
            "stratum": pa.Column(str),
            "weight": pa.Column("float64", pa.Check.gt(0)),
            "sex": pa.Column(_cat(SEX_CATEGORIES), nullable=True),
            "age_group": pa.Column(_cat(_AGE_LABELS), nullable=True),
            **{q: pa.Column(_cat(c), nullable=True) for q, c in questions.items()},
        },
        strict=True,
        ordered=True,
        unique=["kommun", "year", "respondent_id"],
    )


#: The boundary to ``processed/survey_responses.parquet`` (the known questions only).
RESPONSE_SCHEMA = response_schema()


def new_questions(responses: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The questions of ``responses`` beyond :data:`RESPONSE_COLUMNS` (a codebook's new
    questions), with their categories; a column that is not categorical keeps no
    categories (the schema then rejects it)."""
    return {
        str(c): tuple(responses[c].cat.categories)
        if isinstance(responses[c].dtype, pd.CategoricalDtype)
        else ()
        for c in responses.columns
        if c not in RESPONSE_COLUMNS
    }


def align_questions(parts: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """Canonical tables made to share their columns: a new question one table lacks (its
    kommun's codebook does not declare it) is added to it as missing (NaN), with the
    categories of the table that has it, so stacking keeps every column categorical."""
    extra: dict[str, tuple[str, ...]] = {}
    for part in parts:
        for q, cats in new_questions(part).items():
            extra.setdefault(q, cats)
    if not extra:
        return list(parts)
    out = []
    for part in parts:
        lacking = {q: _missing(len(part), c) for q, c in extra.items() if q not in part}
        out.append(part.assign(**lacking) if lacking else part)
    return out


class SurveyTables(NamedTuple):
    """The survey tables of one or more kommuner (columns as in ``CONTRIBUTING.md``)."""

    responses: pd.DataFrame
    strata: pd.DataFrame
    breaks: pd.DataFrame
    ledger: pd.DataFrame


# --- the codebook applied (pure) ------------------------------------------------------------
class CodedCells(NamedTuple):
    """The text cells of one or more files with the same header, dictionary-coded.

    ``codes[i, j]`` is the position in ``uniques`` of the text in row ``i`` (the files'
    rows one after the other, in the order of their :class:`SourceFile`) and column
    ``names[j]``. Equal texts share a code, so a rule decided for each distinct text is
    decided for every cell at the cost of one array lookup.
    """

    names: tuple[str, ...]
    codes: np.ndarray
    uniques: np.ndarray

    @classmethod
    def from_frame(cls, cells: pd.DataFrame) -> CodedCells:
        """Code one file's text cells (as :func:`read_raw_file` returns them)."""
        values = cells.to_numpy(dtype=object)
        codes, uniques = pd.factorize(values.ravel(order="F"), use_na_sentinel=False)
        return cls(
            tuple(cells.columns),
            codes.astype(np.int64).reshape(values.shape, order="F"),
            np.asarray(uniques, dtype=object),
        )


class SourceFile(NamedTuple):
    """Where a block of rows of :class:`CodedCells` comes from (errors and ledger).

    ``kommun``, ``strata`` and ``layout`` are the file's own kommun, areas and codebook
    layout when they differ from those :func:`apply_layout_files` is called with: files of
    several kommuner whose layouts are the same apart from the area codes
    (:func:`layout_signature`) are applied together.
    """

    year: int
    file: str | Path
    rows: int
    sheet: str | None = None
    first_row: int = 2
    ledger_file: str | None = None
    kommun: str | None = None
    strata: tuple[str, ...] | None = None
    layout: Layout | None = None


class Applied(NamedTuple):
    """:func:`apply_layout_files`' result: the files' rows one after the other."""

    responses: pd.DataFrame
    ledger: pd.DataFrame
    kept: np.ndarray  # responses rows per source file
    excluded: np.ndarray  # ledger rows per source file

    def per_file(self) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """(responses, ledger) of each source file, as :func:`apply_layout` gives them."""
        out = []
        k0 = l0 = 0
        for kept, excluded in zip(self.kept, self.excluded, strict=True):
            responses = self.responses.iloc[k0 : k0 + kept].reset_index(drop=True)
            ledger = (
                self.ledger.iloc[l0 : l0 + excluded].reset_index(drop=True)
                if excluded
                else _empty_ledger()
            )
            out.append((responses, ledger))
            k0, l0 = k0 + kept, l0 + excluded
        return out


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
    source = SourceFile(year, file, len(cells), sheet, first_row, ledger_file)
    applied = apply_layout_files(
        CodedCells.from_frame(cells), [source], codebook=codebook, layout=layout,
        kommun=kommun, strata=strata,
    )  # fmt: skip
    return applied.responses, applied.ledger


def layout_signature(codebook: Codebook, layout: Layout) -> tuple:
    """Everything :func:`apply_layout_files` reads from a codebook and a layout except the
    area codes (``svar: stratum``, which it takes from each file's own layout).

    Files whose layouts have equal signatures (and equal headers and columns) may be
    applied in one call even when they belong to different kommuner (each
    :class:`SourceFile` then names its kommun, areas and layout).
    """
    answers = tuple((v, tuple(m.items())) for v, m in layout.answers.items() if v != "stratum")
    return (
        layout.name, layout.file, layout.columns, layout.ignore, layout.age,
        repr(layout.age_bands), repr(answers), repr(codebook.rules), codebook.age_groups,
        tuple(codebook.variables.items()),
    )  # fmt: skip


def apply_layout_files(
    cells: CodedCells,
    sources: Sequence[SourceFile],
    *,
    codebook: Codebook,
    layout: Layout,
    kommun: str,
    strata: tuple[str, ...],
) -> Applied:
    """Apply one codebook layout to the cells of several files at once (single pass).

    Every file of ``sources`` has the same header (``cells.names``) and the same codebook
    columns for its year; their rows follow each other in ``cells``. Each rule is applied
    once, column by column over all files and decided once per distinct text, and every
    error and ledger line still names its own file, sheet and Excel row. For one file the
    result and every error are those of :func:`apply_layout`; for several, the rows are
    those of the files applied one by one, in order (errors may be grouped differently:
    :func:`trygghet_analys.pipeline.ingest_kommun` applies the files one by one when any
    error is found, so that its messages are always those of one file at a time).

    A source may name its own kommun, areas and layout (:class:`SourceFile`); its layout
    must then have the :func:`layout_signature` of ``layout`` (checked), and its area
    codes and areas are its own.

    Returns
    -------
    Applied
        ``responses`` and ``ledger`` as :func:`apply_layout`'s, the files one after the
        other, and the number of rows of each in both.
    """
    first = sources[0]
    signature = None
    checked: set[int] = set()  # a kommun's layout object, checked once for all its files
    for s in sources:
        if s.layout is not None and s.layout is not layout and id(s.layout) not in checked:
            signature = signature or layout_signature(codebook, layout)
            if layout_signature(codebook, s.layout) != signature:
                raise ValueError("apply_layout_files: the files need the same layout")
            checked.add(id(s.layout))
    # each file's kommun, areas and area codes
    owners = [
        (s.kommun or kommun, strata if s.strata is None else s.strata,
         (s.layout or layout).answers.get("stratum"))
        for s in sources
    ]  # fmt: skip
    year = first.year
    specs = layout.columns_for(year)
    if any(layout.columns_for(s.year) != specs for s in sources[1:]):
        raise ValueError("apply_layout_files: the files need the same codebook columns")
    where = {"file": first.file, "sheet": first.sheet}
    log = ProblemLog()
    names = list(cells.names)
    by_header = {normalise_header(c): c for c in names}
    # every codebook column must be in the file, every file column in the codebook
    source_of: dict[str, str] = {}
    for spec in specs:
        key = normalise_header(spec.source)
        if key not in by_header:
            log.add(
                DataError(
                    f"kolumnen '{spec.source}' som kodbokens layout '{layout.name}' mappar till "
                    f"{spec.variable} (den finns inte i filen)",
                    row=first.first_row - 1,
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
            log.add(DataError(hint, row=first.first_row - 1, column=name, value=name, **where))

    codes, uniq = cells.codes, cells.uniques
    col = {v: names.index(c) for v, c in source_of.items()}
    sizes = np.array([s.rows for s in sources], dtype=np.int64)
    n = int(sizes.sum())
    if codes.shape != (n, len(names)):
        raise ValueError("apply_layout_files: the cells do not match the files' rows")
    file_of = np.repeat(np.arange(len(sources)), sizes)
    starts = np.cumsum(sizes) - sizes
    first_rows = np.array([s.first_row for s in sources], dtype=np.int64)
    rows = np.arange(n) - starts[file_of] + first_rows[file_of]
    years = np.array([s.year for s in sources], dtype=np.int64)[file_of]
    empty = _position_of(uniq, "")
    excluded = np.zeros(n, dtype=bool)
    found: list[tuple[np.ndarray, str, np.ndarray | str]] = []  # (positions, rule, detail)

    def exclude(mask: np.ndarray, rule: str, detail: np.ndarray | str) -> None:
        new = mask & ~excluded
        if new.any():
            found.append(
                (
                    np.flatnonzero(new),
                    rule,
                    detail[new] if isinstance(detail, np.ndarray) else detail,
                )
            )
            excluded[new] = True

    def problem(j: int, positions: np.ndarray, expected: str) -> None:
        """One line per distinct bad value of column ``j`` (its first row, and a count)."""
        inverse, distinct = pd.factorize(codes[positions, j])  # in order of appearance
        counts = np.bincount(inverse)
        _, firsts = np.unique(inverse, return_index=True)
        log.more += max(0, len(distinct) - 10)  # counted, not shown
        for k in range(min(10, len(distinct))):
            more = int(counts[k]) - 1
            extra = f" (samma värde på ytterligare {more} {'rad' if more == 1 else 'rader'})"
            extra = extra if more else ""
            at = positions[firsts[k]]
            src = sources[file_of[at]]
            log.add(
                DataError(
                    expected + extra, row=int(rows[at]), column=names[j],
                    value=uniq[distinct[k]], file=src.file, sheet=src.sheet,
                )
            )  # fmt: skip

    rules = codebook.rules
    if "tom_rad" in rules:
        exclude((codes == empty).all(axis=1), "tom_rad", "tom rad")
    if "summeringsrad" in rules and n:
        words = codebook.summary_words
        is_word = np.fromiter(
            (w in words for w in normalise_labels(uniq)), dtype=bool, count=len(uniq)
        )
        hits = is_word[codes].any(axis=1)
        exclude(hits, "summeringsrad", "summeringsrad (till exempel 'Totalt')")
    if "saknar_omrade" in rules and "stratum" in col:
        exclude(codes[:, col["stratum"]] == empty, "saknar_omrade", "saknar område")

    age = None
    band_group = None
    if "age" in col:
        j = col["age"]
        acodes = codes[:, j]
        if layout.age_bands is not None:
            age, band_group = _age_from_bands(acodes, uniq, layout, codebook, excluded,
                                              problem, j)  # fmt: skip
        else:
            age = _per_text(acodes, uniq, lambda t: _numbers(t, layout.file.decimal))
            bad = np.isnan(age) & (acodes != empty) & ~excluded
            if bad.any():
                problem(j, np.flatnonzero(bad), _age_expected(uniq[acodes[bad]], layout))
            if layout.age == "fodelsear":
                age = years - np.floor(age)
        age = np.floor(age)
        if "alder_utanfor_urvalet" in rules:
            lo, hi = rules["alder_utanfor_urvalet"]["min"], rules["alder_utanfor_urvalet"]["max"]
            outside = ~np.isnan(age) & ((age < lo) | (age > hi))
            detail = np.full(n, "", dtype=object)
            raw = uniq[acodes[outside]]
            if layout.age == "fodelsear":
                detail[outside] = [
                    f"födelseår {b} → ålder {a:.0f} utanför {lo}–{hi}"
                    for a, b in zip(age[outside], raw, strict=True)
                ]
            elif band_group is not None:
                detail[outside] = [f"åldersband '{b}' utanför {lo}–{hi}" for b in raw]
            else:
                detail[outside] = [f"ålder {a:.0f} utanför {lo}–{hi}" for a in age[outside]]
            exclude(outside, "alder_utanfor_urvalet", detail)

    kept = ~excluded
    kept_per_file = np.bincount(file_of[kept], minlength=len(sources))
    for f, src in enumerate(sources):
        at = {"file": src.file, "sheet": src.sheet}
        if src.rows == 0:
            log.add(DataError("minst en svarsrad under rubrikraden", row=src.first_row, **at))
            log.check()
        if kept_per_file[f] == 0:
            own = slice(int(starts[f]), int(starts[f] + sizes[f]))
            ages = uniq[codes[own, col["age"]]] if "age" in col else None
            mine = [
                (p[file_of[p] == f], rule, d[file_of[p] == f] if isinstance(d, np.ndarray) else d)
                for p, rule, d in found
            ]
            mine = [entry for entry in mine if len(entry[0])]
            log.add(DataError(_all_excluded(mine, ages, layout), row=src.first_row, **at))
            log.check()
    ledger, ledger_per_file = _ledger(
        found, sources, file_of, rows, kommuner=[o[0] for o in owners]
    )
    kidx = np.flatnonzero(kept)
    kfile = file_of[kidx]
    krows = rows[kidx]
    m = len(kidx)

    def fail(variable: str, mask: np.ndarray, expected: str) -> None:
        problem(col[variable], kidx[mask], expected)

    if "year" in col:
        ycodes = codes[kidx, col["year"]]
        present = {uniq[c]: c for c in np.unique(ycodes)}
        wanted = np.array([present.get(str(s.year), -1) for s in sources], dtype=np.int64)
        other = ycodes != wanted[kfile]
        for f in np.unique(kfile[other]) if other.any() else ():
            src = sources[f]
            fail(
                "year",
                other & (kfile == f),
                f"året {src.year} (filen heter {file_name(src.file)}; innehållet är ett annat år)",
            )

    if "respondent_id" in col:
        icodes = codes[kidx, col["respondent_id"]]
        if (icodes == empty).any():
            fail("respondent_id", icodes == empty, "ett respondent-id")
        key = np.sort(kfile.astype(np.int64) * len(uniq) + icodes)
        if (key[1:] == key[:-1]).any():  # an id twice in one file
            for f in range(len(sources)):
                mine = np.flatnonzero(kfile == f)
                ids_f, rows_f = uniq[icodes[mine]], krows[mine]
                _, first_index, counts = np.unique(ids_f, return_index=True, return_counts=True)
                for dup_id in ids_f[first_index[counts > 1]][:10]:
                    if dup_id == "":
                        continue
                    same = ids_f == dup_id
                    where_rows = rows_f[same]
                    mask = np.zeros(m, dtype=bool)
                    mask[mine[same & (rows_f == where_rows[-1])]] = True
                    fail(
                        "respondent_id",
                        mask,
                        "unika respondent-id (samma id på rad "
                        f"{', '.join(map(str, where_rows[:-1]))})",
                    )
        # Arrow takes the distinct texts (a Python object per row made pandas' text
        # array slowly, 0,2 s for the region)
        ids = pd.array(pa_.array(uniq, pa_.string()).take(icodes), dtype="str")
    else:
        ids = pd.array(np.array([f"rad {r}" for r in krows], dtype=object), dtype="str")

    if "stratum" in col and m:
        stratum = np.empty(m, dtype=object)
        # the files of one kommun (same areas, same area codes) together
        segments: dict[tuple, list[int]] = {}
        for f, (_, own_strata, stratum_map) in enumerate(owners):
            segments.setdefault((own_strata, id(stratum_map)), []).append(f)
        for f_list in segments.values():
            _, own_strata, stratum_map = owners[f_list[0]]
            if len(segments) == 1:
                at = np.arange(m)
                seg_fail = fail
            else:
                at = np.flatnonzero(np.isin(kfile, f_list))

                def seg_fail(variable, mask, expected, at=at):
                    whole = np.zeros(m, dtype=bool)
                    whole[at[mask]] = True
                    fail(variable, whole, expected)

            stratum[at] = _strata(
                codes[kidx[at], col["stratum"]], uniq, own_strata, stratum_map, seg_fail
            )
    elif "stratum" in col:
        stratum = np.zeros(0, dtype=object)
    else:
        stratum = np.full(m, "", dtype=object)

    # text columns made by Arrow (a take of the few names; the area names as one array):
    # pandas' text array from a Python object per row cost 0,1 s each for the region
    kommun_names = [o[0] for o in owners]
    kommun_col = pa_.array(kommun_names, pa_.string()).take(kfile)
    out: dict[str, object] = {
        "kommun": pd.array(kommun_col, dtype="str"),
        "year": years[kidx],
        "respondent_id": ids,
        "stratum": pd.array(pa_.array(stratum, pa_.string(), from_pandas=True), dtype="str"),
        "weight": np.full(m, np.nan),
    }
    if "sex" in col:
        out["sex"] = _categorical(codes[kidx, col["sex"]], uniq, "sex", SEX_CATEGORIES,
                                  layout.answers.get("sex"), fail)  # fmt: skip
    else:
        out["sex"] = _missing(m, SEX_CATEGORIES)
    groups = codebook.age_groups
    if band_group is not None:
        out["age_group"] = pd.Categorical.from_codes(
            band_group[kidx], dtype=_dtype(tuple(g[0] for g in groups))
        )
    elif age is not None:
        kage = age[kidx]
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
    for q, cats in codebook.variables.items():
        if q in col:
            out[q] = _categorical(codes[kidx, col[q]], uniq, q, cats, layout.answers.get(q), fail)
        else:
            out[q] = _missing(m, cats)
    log.check()
    return Applied(pd.DataFrame(out), ledger, kept_per_file, ledger_per_file)


def _strata(column, uniq, strata, stratum_map, fail) -> np.ndarray:
    """One kommun's coded area column → its area names (``kommun.yml: omraden``)."""
    present, inverse = _distinct(column)
    texts = uniq[present]  # each distinct area text once
    if stratum_map is not None:
        positions = _positions(texts, tuple(stratum_map.items()), None)
        unknown = positions[inverse] < 0
        if unknown.any():
            fail("stratum", unknown, "ett områdesvärde i kodboken: " + ", ".join(stratum_map))
        targets = np.asarray([*stratum_map.values(), ""], dtype=object)
        texts = targets[np.where(positions < 0, -1, positions)]
    canonical = {normalise_label(s): s for s in strata}
    named = np.array([canonical.get(normalise_label(u), u) for u in texts], dtype=object)
    wrong = ~np.isin(named, np.asarray(strata, dtype=object))
    if stratum_map is not None:
        wrong &= named != ""
    if wrong[inverse].any():
        fail("stratum", wrong[inverse], "ett av områdena i kommun.yml: " + ", ".join(strata))
    return named[inverse]


def _position_of(uniq: np.ndarray, text: str) -> int:
    """The code of ``text`` among the distinct texts, or -1 (no cell holds it)."""
    hits = np.flatnonzero(uniq == text) if len(uniq) else ()
    return int(hits[0]) if len(hits) else -1


def _distinct(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes of a column and, per row, the position of its code among them
    (a hash pass, no sort)."""
    inverse, present = pd.factorize(column)
    return present, inverse


def _distinct_texts(texts: pd.Series) -> tuple[list, np.ndarray]:
    """The distinct texts and, per text, its position among them."""
    codes, names = pd.factorize(texts)
    return list(names), codes.astype(np.int64)


def _per_text(column: np.ndarray, uniq: np.ndarray, fn) -> np.ndarray:
    """``fn`` applied to each distinct text of one column, spread back to its rows."""
    present, inverse = _distinct(column)
    return np.asarray(fn(uniq[present]))[inverse]


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


def _age_from_bands(column, uniq, layout, codebook, excluded, problem, j):
    """Age bands → (a representative age for the exclusion rule, age-group codes)."""
    groups = codebook.age_groups
    labels = [g[0] for g in groups]
    table = {normalise_label(k): v for k, v in (layout.age_bands or {}).items()}
    n = len(column)
    age = np.full(n, np.nan)
    group = np.full(n, -1, dtype=np.int64)
    if not n:
        return age, group
    present, inverse = _distinct(column)
    texts = uniq[present]
    unknown = np.zeros(len(texts), dtype=bool)
    rep = np.full(len(texts), np.nan)
    code = np.full(len(texts), -1, dtype=np.int64)
    for k, u in enumerate(texts):
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
    age = rep[inverse]
    group = code[inverse]
    bad = unknown[inverse] & ~excluded
    if bad.any():
        problem(j, np.flatnonzero(bad), "ett åldersband i layoutens aldersgrupper: " + ", ".join(
            str(k) for k in table))  # fmt: skip
    return age, group


_RULE_HINTS = {
    "tom_rad": "stämmer rader_ovanfor_rubrik och bladet?",
    "summeringsrad": "står ett summeringsord i varje rad?",
    "saknar_omrade": "är rätt kolumn mappad till stratum?",
}


def _all_excluded(found: list, ages: np.ndarray | None, layout: Layout) -> str:
    """The message when every row of a file was excluded: the rule and an example.

    ``found`` holds that file's exclusions, ``ages`` its age column (None without one).
    """
    counts: dict[str, int] = {}
    example: dict[str, object] = {}
    for rows_, rule, detail in found:
        counts[rule] = counts.get(rule, 0) + len(rows_)
        example.setdefault(rule, detail[0] if isinstance(detail, np.ndarray) else detail)
    rule = max(counts, key=counts.get)
    total = sum(counts.values())
    text = f"minst en svarsrad som behålls, men alla {total} rader uteslöts"
    text += f" av {rule}" if len(counts) == 1 else f", flest ({counts[rule]}) av {rule}"
    if rule == "alder_utanfor_urvalet" and ages is not None:
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


def _positions(
    texts: np.ndarray, items: tuple[tuple[str, object], ...], blank: int | None = -1
) -> np.ndarray:
    """Position of each (distinct) text in ``items`` (``blank`` for ``""``, -2 when unknown).

    Texts and keys are compared after :func:`normalise_label` (case, whitespace, dashes,
    Unicode form), the one forgiving rule for headers and answers alike.
    """
    position = {normalise_label(k): i for i, (k, _) in enumerate(items)}
    if blank is not None:
        position.setdefault("", blank)
    # a few texts (answers): one cached call each; many (areas, ids): all at once
    keys = [normalise_label(t) for t in texts] if len(texts) < 64 else normalise_labels(texts)
    return np.array([position.get(k, -2) for k in keys], dtype=np.int64)


@lru_cache(maxsize=64)
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=True)


def _categorical(column, uniq, variable, categories, mapping, fail) -> pd.Categorical:
    """Map a coded text column to an ordered categorical; unknown values stop the run.

    Each distinct text is looked up once (:func:`_positions`), then spread to its rows.
    """
    categories = tuple(categories)
    if mapping is None:
        mapping = {c: c for c in categories}
    items = tuple(mapping.items())
    targets = np.array(
        [-1 if dst is None else categories.index(dst) for _, dst in items] + [-1, -1],
        dtype=np.int64,
    )  # positions -1 (blank) and -2 (unknown) index the last two
    if len(column) == 0:
        return pd.Categorical.from_codes(np.zeros(0, dtype=np.int64), dtype=_dtype(categories))
    present, inverse = _distinct(column)
    codes = _positions(uniq[present], items)[inverse]
    unknown = codes == -2
    if unknown.any():
        shown = [k for k in mapping if k != ""]
        fail(variable, unknown, "ett av: " + ", ".join(shown) + " (eller tom cell)"
             + _encoding_hint(uniq[column[unknown]]))  # fmt: skip
    return pd.Categorical.from_codes(targets[codes], dtype=_dtype(categories))


def _encoding_hint(bad: np.ndarray) -> str:
    """A hint when unknown values look like text decoded in the wrong encoding."""
    sample = " ".join(str(v) for v in bad[:50])
    if "\ufffd" in sample or re.search("Ã[\u0080-\u00bf]", sample):
        return " – texten ser felavkodad ut: kontrollera kodning under fil (auto, utf-8, cp1252)"
    return ""


def _missing(n: int, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(np.full(n, -1), dtype=_dtype(tuple(categories)))


def _ledger(
    found: list, sources: Sequence[SourceFile], file_of: np.ndarray, rows: np.ndarray, *,
    kommuner: Sequence[str],
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """The ledger lines (files in order, rows in order) and their number per file
    (``kommuner``: each file's kommun)."""
    if not found:
        return _empty_ledger(), np.zeros(len(sources), dtype=np.int64)
    positions = np.concatenate([p for p, _, _ in found])
    rule = np.concatenate([np.full(len(p), name, dtype=object) for p, name, _ in found])
    detail = np.concatenate(
        [d if isinstance(d, np.ndarray) else np.full(len(p), d, dtype=object) for p, _, d in found]
    )
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    files = [s.ledger_file or str(s.file) for s in sources]
    sheets = [s.sheet for s in sources]
    if len(set(files)) == 1 and len(set(sheets)) == 1:
        file_col, sheet_col = files[0], sheets[0]
    else:
        file_col = np.asarray(files, dtype=object)[file_of[positions]]
        sheet_col = np.asarray(sheets, dtype=object)[file_of[positions]]
    kommun_col = (
        kommuner[0]
        if len(set(kommuner)) == 1
        else np.asarray(kommuner, dtype=object)[file_of[positions]]
    )
    ledger = pd.DataFrame(
        {
            "kommun": kommun_col,
            "source": SOURCE,
            "file": file_col,
            "sheet": sheet_col,
            "row": rows[positions],
            "rule": rule[order],
            "detail": detail[order],
        }
    )
    return ledger, np.bincount(file_of[positions], minlength=len(sources))


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
    # (year, stratum) as one integer key: the few distinct pairs counted by hash, not merged
    names, codes = _distinct_texts(
        pd.concat([population["stratum"], responses["stratum"]], ignore_index=True)
    )
    span = max(len(names), 1)
    pop_key = population["year"].to_numpy(dtype=np.int64) * span + codes[: len(population)]
    resp_key = responses["year"].to_numpy(dtype=np.int64) * span + codes[len(population) :]
    counted, respondents_of = np.unique(resp_key, return_counts=True)
    missing = ~np.isin(counted, pop_key)
    if missing.any():  # the first in (year, stratum) order, as a sorted count table has it
        first = min((int(k // span), names[k % span]) for k in counted[missing])
        raise DataError(
            f"en rad i population.csv för år {np.int64(first[0])} och området '{first[1]}'",
            file=file, column="stratum", value=first[1],
        )  # fmt: skip
    years = np.unique(responses["year"].to_numpy(dtype=np.int64))
    keep = np.isin(population["year"].to_numpy(dtype=np.int64), years)
    strata = population[keep].reset_index(drop=True)
    at = pd.Index(counted).get_indexer(pop_key[keep])  # -1: no respondent that year
    strata["respondents"] = np.append(respondents_of, 0)[at].astype("int64")
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
    first_seen = {name: i for i, name in enumerate(dict.fromkeys(population["stratum"]))}
    order = np.lexsort(
        (np.array([first_seen[s] for s in strata["stratum"]], dtype=np.int64), strata["year"])
    )
    strata = strata.take(order).reset_index(drop=True)
    # each respondent's stratum row (every (year, stratum) once in strata), found by hash
    at = pd.Index(pop_key[keep][order]).get_indexer(resp_key)
    out = responses.copy()
    out["weight"] = (
        strata["population"].to_numpy()[at] / strata["respondents"].to_numpy()[at]
    ).astype(float)
    return out, strata[list(STRATA_COLUMNS)]


def validate_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """Check the canonical table at the boundary (pandera); raise DataError on failure."""
    try:
        return response_schema({**QUESTIONS, **new_questions(responses)}).validate(
            responses, lazy=False
        )
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
    validate: bool = True,
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
    validate
        Check the canonical table against :data:`RESPONSE_SCHEMA` (the caller may check
        several kommuner's tables at once instead).

    Returns
    -------
    SurveyTables
        ``responses`` (canonical, validated), ``strata``, ``breaks`` and ``ledger``.
    """
    responses = pd.concat(align_questions(parts), ignore_index=True)
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
    if validate:
        responses = validate_responses(responses)
    return SurveyTables(responses, strata_table, breaks, ledger)


class KommunSurvey(NamedTuple):
    """One kommun in :func:`region_survey_tables`."""

    kommun: str
    rows: int  # its rows in the stacked responses
    population: pd.DataFrame  # population.csv as read
    codebook: Codebook  # the kommun's codebook (its series breaks)
    file: str | Path  # the population file (named in errors)


def region_survey_tables(
    responses: pd.DataFrame, ledger: pd.DataFrame, kommuner: Sequence[KommunSurvey]
) -> SurveyTables:
    """The survey tables of several kommuner at once.

    Parameters
    ----------
    responses, ledger
        :func:`apply_layout`'s responses and ledger lines of every file, kommun after
        kommun in the order of ``kommuner`` (``rows`` responses each), each kommun's files
        in the order of the years.
    kommuner
        The kommuner, with their populations and codebooks.

    Returns
    -------
    SurveyTables
        The tables :func:`survey_tables` gives for each kommun, stacked (tested), except
        that the responses are not checked against :data:`RESPONSE_SCHEMA` (the caller
        checks them). The design weights, strata, breaks and ledger are made once for all
        kommuner: pandas' fixed cost per operation is paid once, not once per kommun.

    Raises
    ------
    DataError
        As :func:`design_weights` for the first kommun, in order, with a problem.
    """
    if not kommuner:
        raise ValueError("region_survey_tables: no kommun")
    sizes = np.array([k.rows for k in kommuner], dtype=np.int64)
    if sizes.sum() != len(responses):
        raise ValueError("region_survey_tables: the rows do not add up to the responses")
    responses = responses.reset_index(drop=True)
    strata = _region_weights(responses, sizes, kommuner)
    breaks = [(k.kommun, b) for k in kommuner for b in k.codebook.breaks]
    breaks_table = pd.DataFrame(
        {
            "kommun": pd.Series([name for name, _ in breaks], dtype="str"),
            "variable": pd.Series([b.variable for _, b in breaks], dtype="str"),
            "year": pd.Series([b.year for _, b in breaks], dtype="int64"),
            "reason": pd.Series([b.reason for _, b in breaks], dtype="str"),
        }
    )
    return SurveyTables(responses, strata, breaks_table, _tidy_ledger(ledger))


def _region_weights(
    responses: pd.DataFrame, sizes: np.ndarray, kommuner: Sequence[KommunSurvey]
) -> pd.DataFrame:
    """:func:`design_weights` for every kommun at once: ``responses`` (the kommuner's rows
    one after the other, ``sizes`` rows each) get their ``weight``; returns the strata.

    (kommun, year, area) is one integer key, so the few distinct keys are counted and
    looked up by hash over the whole region, as :func:`design_weights` does per kommun.
    """
    pops = [k.population for k in kommuner]
    pop_sizes = np.array([len(p) for p in pops], dtype=np.int64)
    population = pd.concat(pops, ignore_index=True)
    pop_k = np.repeat(np.arange(len(kommuner)), pop_sizes)
    resp_k = np.repeat(np.arange(len(kommuner)), sizes)
    names, codes = _distinct_texts(
        pd.concat([population["stratum"], responses["stratum"]], ignore_index=True)
    )
    span = max(len(names), 1)
    pop_year = population["year"].to_numpy(dtype=np.int64)
    resp_year = responses["year"].to_numpy(dtype=np.int64)
    years = np.concatenate([pop_year, resp_year])
    y0 = int(years.min()) if len(years) else 0
    n_years = int(years.max()) - y0 + 1 if len(years) else 1
    pop_ky = pop_k * n_years + (pop_year - y0)  # (kommun, year)
    resp_ky = resp_k * n_years + (resp_year - y0)
    pop_key = pop_ky * span + codes[: len(population)]
    resp_key = resp_ky * span + codes[len(population) :]
    counted, respondents_of = np.unique(resp_key, return_counts=True)
    missing = ~np.isin(counted, pop_key)
    keep = np.isin(pop_ky, resp_ky)  # the years with survey data, per kommun
    strata = population[keep].reset_index(drop=True)
    at = pd.Index(counted).get_indexer(pop_key[keep])  # -1: no respondent that year
    strata["respondents"] = np.append(respondents_of, 0)[at].astype("int64")
    over = strata["respondents"].to_numpy() > strata["sampled"].to_numpy()
    if missing.any() or over.any():
        first = int(min([*(counted[missing] // span // n_years), *pop_k[keep][over]]))
        start = int(sizes[:first].sum())
        own = responses.iloc[start : start + int(sizes[first])].reset_index(drop=True)
        k = kommuner[first]
        design_weights(own, k.population, kommun=k.kommun, file=k.file)  # raises its error
        raise AssertionError("design_weights found no problem")  # pragma: no cover
    strata["response_rate"] = strata["respondents"] / strata["sampled"].where(strata["sampled"] > 0)
    kept_k = pop_k[keep]
    strata.insert(0, "kommun", np.asarray([k.kommun for k in kommuner], dtype=object)[kept_k])
    strata["kommun"] = strata["kommun"].astype("str")
    # each kommun's areas in the order of its population file
    first_seen = np.concatenate(
        [_first_seen(p["stratum"].tolist()) for p in pops] or [np.zeros(0, dtype=np.int64)]
    )
    order = np.lexsort((first_seen[keep], strata["year"].to_numpy(), kept_k))
    strata = strata.take(order).reset_index(drop=True)
    # each respondent's stratum row, found by hash
    at = pd.Index(pop_key[keep][order]).get_indexer(resp_key)
    responses["weight"] = (
        strata["population"].to_numpy()[at] / strata["respondents"].to_numpy()[at]
    ).astype(float)
    return strata[list(STRATA_COLUMNS)]


def _first_seen(names: list) -> np.ndarray:
    """For each name, the position of its first occurrence among the distinct names."""
    first = {name: i for i, name in enumerate(dict.fromkeys(names))}
    return np.array([first[name] for name in names], dtype=np.int64)


def _tidy_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    out = ledger[list(LEDGER_COLUMNS)].copy()
    for col in ("kommun", "source", "file", "sheet", "rule", "detail"):
        out[col] = out[col].astype("str")
    out["row"] = out["row"].astype("int64")
    return out.reset_index(drop=True)
