"""``build`` and ``validate``: every kommun's raw files → ``processed/``, atomically.

The pipeline is a list of *stages*. A stage is a function ``(folder, kommuner) ->
dict[str, DataFrame]`` returning processed tables by name; :func:`compute_tables` runs
every stage and collects the tables, :func:`build` writes them all in one atomic step
(:func:`trygghet_analys._io.atomic_replace_files`): if any stage or write fails,
``processed/`` is left exactly as it was. :func:`validate` runs the same stages and
writes nothing. Further stages (estimates, wastewater, commitments) are added to
:data:`STAGES`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._gc import frozen_while_running
from ._memory import build_memory
from .commitments import followup as _commitments
from .config import DataFolder, KommunConfig, base_year
from .errors import ConfigError, DataError, ProblemLog
from .files._io import atomic_replace_files
from .files._open import list_raw, raw_exists
from .files.cache import (
    BuildCache,
    dictionary_columns,
    file_digest,
    frame_digest,
    row_hashes,
    rows_digest,
    table_layout,
    year_digests,
)
from .files.codebook import codebook_from_json, codebook_to_json, load_codebook
from .files.delivery import header_row_hint
from .files.euda import find_euda_file, read_euda
from .files.export import neutralise
from .files.indicators import OWN_INDICATORS_FILE, read_own_indicators
from .files.registers import (
    load_activities,
    load_register,
    load_registers,
    register_from_json,
    register_to_json,
)
from .files.survey import (
    code_cells,
    encode_cells,
    read_population,
    read_raw_file,
    read_survey_cells,
    reading_memory,
    survey_files,
)
from .files.wastewater import read_wastewater
from .progress import Progress
from .schemas import processed_schemas, table_columns, validate_table
from .stats._values import per_value
from .stats.disclosure import DEFAULT_MIN_N, suppress
from .stats.estimation import collapse_lonely_strata, estimate_indicators, response_rates
from .stats.findings import (
    FINDINGS_COLUMNS,
    build_findings_of,
    effect_findings,
    wastewater_findings,
)
from .stats.reliability import reliability
from .stats.trends import compare_estimates, trend_tests
from .survey.codebook import Codebook
from .survey.indicators import add_indicators, check_indicator_answers, load_indicators
from .survey.ingest import (
    BREAK_COLUMNS,
    LEDGER_COLUMNS,
    STRATA_COLUMNS,
    KommunSurvey,
    SourceFile,
    SurveyTables,
    align_questions,
    apply_layout,
    apply_layout_files,
    layout_for_file,
    layout_signature,
    region_survey_tables,
    survey_tables,
    validate_responses,
)
from .vocabulary import Comparison, Source, load_ntu
from .wastewater.campaigns import detectable_changes
from .wastewater.euda import compare_kommuner_with_euda, comparison_cities
from .wastewater.loads import wastewater_tables

__all__ = [
    "STAGES",
    "Stage",
    "build",
    "check_finite",
    "commitments_stage",
    "compute_tables",
    "draft_notices",
    "draft_stage",
    "findings_stage",
    "indicators_stage",
    "statistics_stage",
    "survey_receipt",
    "survey_stage",
    "underlag_stage",
    "wastewater_stage",
    "validate",
    "write_parquet",
    "write_swedish_csv",
]

#: A stage: (data folder, its kommuner, the tables of earlier stages) → processed table name
#: (without ``.parquet``) → table.
Stage = Callable[
    [DataFolder, list[KommunConfig], Mapping[str, pd.DataFrame]], dict[str, pd.DataFrame]
]

#: The build cache of the running ``build`` (None in ``validate`` and direct stage calls).
_CACHE: ContextVar[BuildCache | None] = ContextVar("build_cache", default=None)

#: What one run of :func:`compute_tables` has read once and shares between its stages
#: (a kommun's medborgarlöfte registers, read by the findings and the follow-up).
_MEMO: ContextVar[dict | None] = ContextVar("build_memo", default=None)

#: Tables also written as ``;``-separated CSV with decimal comma, for Swedish Excel.
CSV_TABLES = ("survey_estimates", "findings", "underlag")


def survey_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Ingest the survey of every kommun.

    Parameters
    ----------
    folder
        The data folder.
    kommuner
        The kommuner to read (each through its own ``kodbok.yml``).

    Returns
    -------
    dict
        ``survey_responses``, ``survey_strata``, ``survey_breaks`` and ``ledger``, every
        kommun stacked (columns as in ``CONTRIBUTING.md``).
    """
    with reading_memory():
        try:
            # every kommun's files at once: the files of one layout applied together across
            # kommuner (a vendor's layout in many kommuner)
            parts = _ingest_kommuner(kommuner)
        except DataError:
            # a problem somewhere: kommun by kommun, so that the message is the one that
            # kommun's files give on their own (the first kommun with a problem stops)
            parts = []
            with Progress(
                len(kommuner), "Läser enkäter", "kommuner", enabled=len(kommuner) > 1
            ) as bar:
                for k in kommuner:
                    parts.append(ingest_kommun(k, validate=False))
                    bar.step(k.name)
        # the schema checked once for the whole region, not once per kommun
        stacked = align_questions([p.responses for p in parts])
        responses = validate_responses(pd.concat(stacked, ignore_index=True))
        return {
            "survey_responses": responses,
            "survey_strata": _stack([p.strata for p in parts], STRATA_COLUMNS),
            "survey_breaks": _stack([p.breaks for p in parts], BREAK_COLUMNS),
            "ledger": _stack([p.ledger for p in parts], LEDGER_COLUMNS),
        }


def _stack(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    nonempty = [f for f in frames if len(f)]
    out = pd.concat(nonempty, ignore_index=True) if nonempty else frames[0].iloc[0:0]
    return out[list(columns)].reset_index(drop=True)


def _lonely_strata(kommuner: list[KommunConfig], strata: pd.DataFrame) -> str:
    """How a survey area with a single respondent is handled, from ``kommun.yml``.

    ``ensamt_stratum: stopp`` (default) stops the build naming the kommun, year and area;
    ``ta_bort`` lets the area add no variance (R survey's ``lonely.psu = "remove"``);
    ``slå_ihop`` merges it with its neighbouring area (:func:`collapse_lonely_strata`,
    done by :func:`_design_strata` before this is asked). Only areas with one respondent
    are affected, so ``"remove"`` is passed on for every kommun once each kommun that
    still has such an area has chosen ``ta_bort``.
    """
    lonely = strata[strata["respondents"] == 1]
    for k in kommuner:
        own = lonely[lonely["kommun"] == k.name]
        if len(own) and k.extra.get("ensamt_stratum", "stopp") not in ("ta_bort", "slå_ihop"):
            first = own.iloc[0]
            raise DataError(
                f"minst två svarande i varje område (år {int(first['year'])} har området en "
                "enda svarande, och en svarande ger ingen osäkerhet att skatta; välj i "
                "kommun.yml: ensamt_stratum: slå_ihop | ta_bort, se docs/statistik.md)",
                file=k.raw / "kommun.yml",
                key="ensamt_stratum",
                value=first["stratum"],
            )
    rest = lonely[~lonely["kommun"].isin(_merging(kommuner))]
    return "remove" if len(rest) else "fail"


def _merging(kommuner: list[KommunConfig]) -> list[str]:
    return [k.name for k in kommuner if k.extra.get("ensamt_stratum") == "slå_ihop"]


def _design_strata(
    kommuner: list[KommunConfig], responses: pd.DataFrame, strata: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The variance strata: each area, or for ``ensamt_stratum: slå_ihop`` a lonely area
    merged with its neighbour in ``omraden`` order. Returns responses, the design strata
    table and the column of responses holding the variance stratum."""
    merging = _merging(kommuner)
    if not merging or not (strata["respondents"] == 1).any():
        return responses, strata, "stratum"
    try:
        return (
            *collapse_lonely_strata(
                responses,
                strata,
                order={k.name: k.strata for k in kommuner},
                kommuner=merging,
                column="_design_stratum",
            ),
            "_design_stratum",
        )
    except DataError as exc:
        k = next((k for k in kommuner if f" i {k.name} " in exc.expected), kommuner[0])
        raise DataError(
            exc.expected, file=k.raw / "kommun.yml", key="ensamt_stratum", value=exc.value
        ) from None


def statistics_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Estimates, changes, trends and response rates for every indicator.

    Each kommun's ``min_n`` (``kommun.yml``) drives disclosure control (primary, then
    secondary suppression: :func:`trygghet_analys.stats.disclosure.suppress`); its ``basar``
    (base year; default the year before its first medborgarlöfte register) adds changes
    against that year besides the year-on-year ones. A kommun's own indicators
    (``raw/indikatorer_egna.csv``) are estimated, compared and trend-tested for that
    kommun exactly like the package's.
    """
    responses, strata = tables["survey_responses"], tables["survey_strata"]
    breaks = tables["survey_breaks"]
    indicators = load_indicators()
    min_n = {k.name: k.min_n for k in kommuner}
    lonely_psu = _lonely_strata(kommuner, strata)
    responses, design_strata, design_col = _design_strata(kommuner, responses, strata)
    own = {k.name: _own_indicators(k, responses) for k in kommuner}
    own = {name: defs for name, defs in own.items() if defs is not None}
    if not own:
        estimates = _estimates(
            responses,
            design_strata,
            indicators=indicators,
            min_n=min_n,
            lonely_psu=lonely_psu,
            design_stratum=design_col,
        )
    else:
        # a kommun's own indicators are estimated for that kommun only
        parts = []
        plain = [k.name for k in kommuner if k.name not in own]
        batches = [(plain, indicators)] + [([name], defs) for name, defs in own.items()]
        for names, defs in batches:
            rows = responses["kommun"].isin(names).to_numpy()
            if rows.any():
                parts.append(
                    _estimates(
                        responses[rows],
                        design_strata[design_strata["kommun"].isin(names)],
                        indicators=defs,
                        min_n=min_n,
                        lonely_psu=lonely_psu,
                        design_stratum=design_col,
                    )
                )
        estimates = pd.concat(parts, ignore_index=True).sort_values(
            ["kommun", "year"], kind="stable", ignore_index=True
        )
    estimates = suppress(estimates, min_n=min_n)
    every = pd.concat([indicators, *own.values()], ignore_index=True).drop_duplicates("id")
    return {
        "survey_estimates": estimates,
        "survey_changes": _changes(kommuner, estimates, breaks, indicators, own),
        "survey_trends": trend_tests(estimates, breaks=breaks, indicators=every),
        "survey_response_rates": response_rates(strata),
    }


def _estimates(
    responses: pd.DataFrame,
    strata: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    min_n: Mapping[str, int],
    lonely_psu: str,
    design_stratum: str,
) -> pd.DataFrame:
    """:func:`estimate_indicators`, in ``build`` each kommun and year from the build cache
    when what its rows are computed from is unchanged; the rest in one call.

    Each kommun × year is its own design, so its rows rest only on its own respondent rows
    and strata rows (every column, in order, with the columns' types and categories), the
    variance-stratum column, the kommun's ``min_n``, ``lonely_psu``, the indicator
    definitions and the program's version: the key of a kommun and year is the SHA-256 of
    exactly those. The tables are hashed once and sliced per kommun and year. The result
    is that of one call for all (``tests/test_incremental_build.py``): rows sorted by
    kommun and year as :func:`estimate_indicators` sorts them, each design's rows in the
    order computed.
    """
    cache = _CACHE.get()
    if cache is None or not len(responses):
        return estimate_indicators(
            responses,
            strata,
            indicators=indicators,
            min_n=min_n,
            lonely_psu=lonely_psu,
            design_stratum=design_stratum,
        )
    fixed = cache.key(
        "skattning",
        _exact_layout(responses),
        _exact_layout(strata),
        design_stratum,
        lonely_psu,
        frame_digest(indicators),
    )
    designs = responses.groupby(["kommun", "year"], sort=True, observed=True).indices
    in_strata = strata.groupby(["kommun", "year"], sort=True, observed=True).indices
    rows = row_hashes(responses)
    strata_rows = row_hashes(strata)
    none = np.zeros(0, dtype=np.int64)
    keys = {}
    for (kommun, year), idx in designs.items():
        sidx = in_strata.get((kommun, year), none)
        keys[(kommun, year)] = cache.key(
            fixed,
            kommun,
            int(year),
            min_n.get(kommun, DEFAULT_MIN_N),
            rows_digest(rows[idx]),
            rows_digest(strata_rows[sidx]),
        )
    found, kept = cache.get_rows("skattning", list(keys.values()), "rows")
    found = set(found)
    todo = [design for design, key in keys.items() if key not in found]
    pieces = [kept] if found else []
    new = None
    if todo:
        wanted = np.zeros(len(responses), dtype=bool)
        for design in todo:
            wanted[designs[design]] = True
        swanted = np.zeros(len(strata), dtype=bool)
        for design in todo:
            swanted[in_strata.get(design, none)] = True
        new = estimate_indicators(
            responses[wanted],
            strata[swanted],
            indicators=indicators,
            min_n=min_n,
            lonely_psu=lonely_psu,
            design_stratum=design_stratum,
        )
        own = new.groupby(["kommun", "year"], sort=False, observed=True).indices
        for design in todo:
            idx = own.get(design, none)
            cache.put("skattning", keys[design], {"rows": new.take(idx).reset_index(drop=True)})
        pieces = [*pieces, new]
    nonempty = [p for p in pieces if len(p)]
    if not nonempty:  # no rows in any design: the typed empty table
        return new if new is not None else kept.astype(_ESTIMATE_TYPES)
    out = pd.concat(nonempty, ignore_index=True) if len(nonempty) > 1 else nonempty[0]
    out = out.sort_values(["kommun", "year"], kind="stable", ignore_index=True)
    return out.astype(_ESTIMATE_TYPES)


#: The column types :func:`estimate_indicators` returns (rows from the cache as computed).
_ESTIMATE_TYPES = {
    "kommun": "str",
    "year": "int64",
    "indicator": "str",
    "group_var": "str",
    "group": "str",
    "estimate": "float64",
    "se": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "n": "int64",
    "suppressed": "bool",
}


def _exact_layout(table: pd.DataFrame) -> str:
    """A table's columns and types with every categorical column's categories in full
    (a row hash sees a category's value, not its place among the categories)."""
    parts = [table_layout(table)]
    for col, dtype in zip(table.columns, table.dtypes, strict=True):
        if isinstance(dtype, pd.CategoricalDtype):
            parts.append(repr((str(col), list(dtype.categories), dtype.ordered)))
    return "\n".join(parts)


def _changes(
    kommuner: list[KommunConfig],
    estimates: pd.DataFrame,
    breaks: pd.DataFrame,
    indicators: pd.DataFrame,
    own: Mapping[str, pd.DataFrame],
) -> pd.DataFrame:
    """Every kommun's changes (:func:`compare_estimates` with its base year and indicators),
    in the order of ``kommuner``, each kommun's year-on-year rows before its base-year rows.

    The kommuner with the package's indicators are compared in one call (each with its
    own base year) instead of one call each; the rows and their order are those of one
    call per kommun (``tests/test_incremental_build.py``).
    """
    bases = {k.name: base_year(k) for k in kommuner}
    plain = [k.name for k in kommuner if k.name not in own]
    parts = []
    if plain:
        parts.append(
            compare_estimates(
                estimates[estimates["kommun"].isin(plain)],
                breaks=breaks[breaks["kommun"].isin(plain)],
                base_year={name: bases[name] for name in plain},
                indicators=indicators,
            )
        )
    for name, defs in own.items():
        parts.append(
            compare_estimates(
                estimates[estimates["kommun"] == name],
                breaks=breaks[breaks["kommun"] == name],
                base_year=bases[name],
                indicators=defs,
            )
        )
    out = pd.concat(parts, ignore_index=True)
    order = {k.name: i for i, k in enumerate(kommuner)}
    rank = per_value(out["kommun"], order.get, dtype=np.int64) * 2 + (
        out["comparison"] == Comparison.BASE_YEAR
    ).to_numpy(dtype=np.int64)
    return out.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _own_indicators(kommun: KommunConfig, responses: pd.DataFrame) -> pd.DataFrame | None:
    """The package's indicators plus the kommun's ``raw/indikatorer_egna.csv``, checked
    against its answers; None when the kommun has no such file."""
    path = kommun.raw / OWN_INDICATORS_FILE
    if not path.is_file():
        return None
    own = read_own_indicators(path)
    defs = add_indicators(load_indicators(), own, file=path)
    check_indicator_answers(own, responses[responses["kommun"] == kommun.name], file=path)
    return defs


def indicators_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The indicator definitions every kommun's tables were estimated with, for the report:
    the package's indicators followed by the kommun's own (``raw/indikatorer_egna.csv``,
    ``own`` True), one row per kommun and indicator (``survey_indicators``). The report
    takes labels, definitions and units from here and reads no raw file."""
    base = load_indicators()
    parts = []
    for k in kommuner:
        defs = _own_indicators(k, tables["survey_responses"])
        defs = base if defs is None else defs
        own = ~defs["id"].isin(base["id"])
        parts.append(defs.rename(columns={"id": "indicator"}).assign(kommun=k.name, own=own))
    columns = table_columns("survey_indicators")
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return {"survey_indicators": table[columns]}


def wastewater_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Wastewater loads, campaign means, trends and back-calculation for every kommun,
    the year-to-year change its sampling plan detects
    (:func:`~trygghet_analys.wastewater.campaigns.detectable_changes`), plus the
    comparison with EUDA's cities when ``external/`` holds the EUDA file."""
    parts = [_cached_wastewater(k) for k in kommuner]
    out = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    # computed per kommun with its tables (and cached with them); detectable_changes of
    # the whole region orders its rows by kommun, so the same order here
    out["wastewater_detectable"] = out["wastewater_detectable"].sort_values(
        "kommun", kind="stable", ignore_index=True
    )
    out["wastewater_euda"] = _euda_comparison(folder, kommuner, out["wastewater_loads"])
    return out


def _euda_comparison(
    folder: DataFolder, kommuner: list[KommunConfig], loads: pd.DataFrame
) -> pd.DataFrame:
    """Each kommun's campaigns beside EUDA's cities (empty when no EUDA file is present)."""
    path = find_euda_file(folder.root)
    reference = None if path is None or loads.empty else read_euda(path)
    cities = {
        k.name: comparison_cities(k.extra, file=k.raw / "kommun.yml")
        for k in kommuner
        if reference is not None and (loads["kommun"] == k.name).any()
    }
    return compare_kommuner_with_euda(loads, reference, cities=cities)


def commitments_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Medborgarlöfte registers and their follow-up in the latest survey year."""
    base = load_indicators()
    base_digest = frame_digest(base)
    followups: list[pd.DataFrame | None] = []
    linked: list = []
    batches: dict[tuple, list] = {}  # (year, base year, indicators) → the kommuner to follow up
    cache = _CACHE.get()
    estimates = tables["survey_estimates"]
    latest = estimates.groupby("kommun", sort=False)["year"].max() if len(estimates) else {}
    # the follow-up reads the findings of its year only: the table split by kommun and year
    # once, and hashed once for the keys
    findings = tables["findings"]
    at = findings.groupby(["kommun", "year"], sort=False).indices if len(findings) else {}
    pairs = [
        (k.name, int(latest[k.name]))
        for k in kommuner
        if k.name in latest and raw_exists(k.commitments_dir)
    ]
    said = dict(
        zip(
            pairs,
            _block_digests(findings, pairs, lambda: _latest_digests(findings, at, pairs)),
            strict=True,
        )
    )
    for k in kommuner:
        if not raw_exists(k.commitments_dir):
            continue
        own = _own_indicators(k, tables["survey_responses"])
        indicators = base if own is None else own
        registers = _registers(k, indicators)
        if not registers:
            continue
        linked += registers  # one table of them all below
        activity_file = k.commitments_dir / "aktiviteter.csv"
        activities = (
            _activities(activity_file)
            if raw_exists(activity_file)
            else pd.DataFrame(columns=["period", "year", "measure", "value", "unit"])
        )
        if k.name not in latest:
            continue
        year = int(latest[k.name])
        rows = at.get((k.name, year), np.arange(0))
        inputs = {
            "rows": rows,
            "activities": activities,
            "indicators": indicators,
            "base_year": base_year(k),
            "year": year,
        }
        key = _follow_up_key(
            registers,
            inputs,
            findings_digest=said[(k.name, year)],
            indicators_digest=base_digest if indicators is base else None,
        )
        hit = None if key is None else cache.get("uppfoljning", key)
        followups.append(None if hit is None else hit["rows"])
        if hit is None:  # followed up below, with every kommun of its year and settings
            batch = (year, inputs["base_year"], id(indicators))
            batches.setdefault(batch, []).append((len(followups) - 1, registers, inputs, key))
    for jobs in batches.values():
        _, _, inputs, _ = jobs[0]
        table, counts = _commitments.follow_up_of(
            [(registers, i["rows"], i["activities"]) for _, registers, i, _ in jobs],
            findings=findings,
            year=inputs["year"],
            indicators=inputs["indicators"],
            base_year=inputs["base_year"],
        )
        starts = np.cumsum([0, *counts])[:-1]
        for (at_, _, _, key), start, n in zip(jobs, starts, counts, strict=True):
            out = (
                table.iloc[start : start + n].reset_index(drop=True)
                if n
                else _commitments.empty_follow_up()
            )
            if key is not None:
                cache.put("uppfoljning", key, {"rows": out})
            followups[at_] = out
    links = [_commitments.registers_frame(linked)] if linked else []
    schemas = processed_schemas()
    out = {}
    for name, frames in (("commitment_followup", followups), ("commitment_indicators", links)):
        if frames:
            out[name] = schemas[name].validate(pd.concat(frames, ignore_index=True))
    return out


def _latest_digests(
    findings: pd.DataFrame, at: Mapping[tuple[str, int], np.ndarray], pairs: list[tuple[str, int]]
) -> list[str]:
    """:func:`~trygghet_analys.files.cache.year_digests` of each ``(kommun, year)``'s
    findings rows (the table's layout and the rows' hashes), only the rows of these
    years hashed (a row's hash is its own; a take keeps the columns and their types)."""
    wanted = [at.get(pair, np.arange(0)) for pair in pairs]
    taken = np.concatenate(wanted) if wanted else np.arange(0)
    hashes = np.zeros(len(findings), dtype="uint64")
    if len(taken):
        hashes[taken] = row_hashes(findings.take(taken))
    layout = table_layout(findings).encode()
    out = []
    for rows in wanted:
        digest = hashlib.sha256(layout)
        digest.update(hashes[rows].tobytes())
        out.append(digest.hexdigest())
    return out


def _follow_up_key(
    registers: list,
    inputs: dict,
    *,
    findings_digest: str,
    indicators_digest: str | None = None,
) -> str | None:
    """The build cache's key (kind ``uppfoljning``) of one kommun's
    :func:`~trygghet_analys.commitments.followup.follow_up` with ``inputs`` (None without a
    cache).

    ``findings_digest`` is :func:`~trygghet_analys.files.cache.year_digests` of the
    kommun's findings rows of the year (all the follow-up reads), and
    ``indicators_digest`` the :func:`~trygghet_analys.files.cache.frame_digest` of the
    indicators, when the caller has it (the same key either way).

    The follow-up of ``year`` reads the kommun's registers (their parsed content, so a
    changed commitment, target, link or signatory is seen), its activity counts, its
    indicator definitions, base year, the year itself and the findings rows *of that
    year* only; with the program's version (:meth:`BuildCache.key`) that is the key. A
    kommun whose survey, settings and registers did not change is not followed up again;
    a kommun with a new year is (its findings of the new year are new).
    """
    cache = _CACHE.get()
    if cache is None:
        return None
    year = inputs["year"]
    return cache.key(
        registers[0].kommun,
        repr(registers),
        frame_digest(inputs["activities"]),
        frame_digest(inputs["indicators"]) if indicators_digest is None else indicators_digest,
        inputs["base_year"],
        year,
        findings_digest,
    )


def findings_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The findings table (:func:`trygghet_analys.stats.findings.build_findings`).

    Every comparison the report, follow-up, underlag and draft speak of, tested once,
    with Benjamini–Hochberg q-values per kommun and report year. In ``build``, a report
    year whose inputs are unchanged is taken from the build cache (:func:`_cached_findings`);
    what is left is computed for all kommuner together
    (:func:`~trygghet_analys.stats.findings.build_findings_of`).
    """
    measures = _commitments.load_activity_measures().set_index("id")["label"].to_dict()
    estimates = tables["survey_estimates"]
    flags = estimates[["kommun", "year", "indicator", "group_var", "group"]].assign(
        reliable=_reliable(estimates)
    )
    campaigns = tables.get("wastewater_campaigns")
    own = {
        name: _per_kommun(tables[name])
        for name in ("survey_estimates", "survey_changes", "survey_breaks", "survey_strata")
    }
    own_campaigns = None if campaigns is None else _per_kommun(campaigns)
    own_flags = _per_kommun(flags)
    # for the cache keys: each stacked table hashed once, sliced per kommun
    hashed = {}
    if _CACHE.get() is not None:
        hashed = {
            "estimates": own["survey_estimates"],
            "changes": own["survey_changes"],
            "breaks": own["survey_breaks"],
            "strata": own["survey_strata"],
            "reliable": own_flags,
            "wastewater_campaigns": own_campaigns,
        }
        hashed = {n: rows for n, rows in hashed.items() if rows is not None}
    package = load_indicators()
    jobs = []
    for k in kommuner:
        own_ind = _own_indicators(k, tables["survey_responses"])
        indicators = package if own_ind is None else own_ind
        yearly, targets, links, start = _commitments_of(k, indicators)
        inputs = {
            "kommun": k.name,
            "estimates": own["survey_estimates"](k.name),
            "changes": own["survey_changes"](k.name),
            "indicators": indicators,
            "breaks": own["survey_breaks"](k.name),
            "base_year": base_year(k),
            "wastewater_campaigns": None if own_campaigns is None else own_campaigns(k.name),
            "activities": yearly,
            "activity_targets": targets,
            "activity_labels": measures,
            "reliable": own_flags(k.name),
        }
        effects = {
            "links": links,
            "start_year": start,
            "strata": own["survey_strata"](k.name),
        }
        jobs.append((inputs, effects, {n: rows.hashes(k.name) for n, rows in hashed.items()}))
    shared = {"estimates": estimates, "changes": tables["survey_changes"]}
    shared |= {"breaks": tables["survey_breaks"], "reliable": flags}
    noted: dict[tuple[str, int], str] = {}
    parts = [p for p in _cached_findings(jobs, shared, noted) if len(p)]
    if not parts:
        return {"findings": pd.DataFrame({c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS})}
    out = pd.concat(parts, ignore_index=True)
    if noted:
        _note_year_keys(out, noted)
    return {"findings": out}


#: The build cache's kind holding the reliability flag of each estimates row seen.
_RELIABLE = "tillforlitlighet"


def _reliable(estimates: pd.DataFrame) -> np.ndarray:
    """:func:`~trygghet_analys.stats.reliability.reliability` of every estimates row; in
    ``build`` the flags of rows the last build saw come from the build cache.

    A row's flag rests on that row alone (its indicator, estimate, se and n) and on the
    program (indicator kinds included), whose version is part of every key: a row is
    looked up by its :func:`_row_hashes` (made for the findings' keys anyway), so a new
    year computes the Korn–Graubard intervals of its own rows only instead of the
    region's 238 000 (0,7 s CPU of every build). A changed estimate is another row, with
    another hash, and is computed. When a row was computed, the flags of this build's
    rows replace the kept ones (rows gone from the table are not kept)."""
    cache = _CACHE.get()
    if cache is None or not len(estimates):
        return reliability(estimates).to_numpy()
    hashes = _row_hashes(estimates)
    entry = cache.key(_RELIABLE)
    hit = cache.get(_RELIABLE, entry)
    flags = np.zeros(len(estimates), dtype=bool)
    todo = np.ones(len(estimates), dtype=bool)
    if hit is not None:
        kept = hit["rows"]
        at = pd.Index(kept["hash"].to_numpy()).get_indexer(hashes)
        todo = at < 0
        flags[~todo] = kept["reliable"].to_numpy(dtype=bool)[at[~todo]]
    if todo.any():
        flags[todo] = reliability(estimates[todo]).to_numpy()
        rows = pd.DataFrame({"hash": hashes, "reliable": flags}).drop_duplicates("hash")
        cache.put(_RELIABLE, entry, {"rows": rows})
    return flags


class _KommunRows:
    """``kommun → its rows`` of ``table`` (in order, index reset), the table grouped once
    instead of a filter per kommun and stage; :meth:`hashes` gives the same rows'
    :func:`~trygghet_analys.files.cache.row_hashes`, the table hashed once for every
    kommun's cache keys."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.groups = table.groupby("kommun", sort=False).indices if len(table) else {}
        self._hashes: np.ndarray | None = None
        self.suggest: tuple[str, np.ndarray] | None = None  # see _SuggestDigests

    def __call__(self, kommun: str) -> pd.DataFrame:
        idx = self.groups.get(kommun)
        if idx is None:
            return self.table.iloc[0:0].reset_index(drop=True)
        if idx[-1] - idx[0] + 1 == len(idx):  # a run of rows (tables sorted by kommun): a slice
            return self.table.iloc[int(idx[0]) : int(idx[-1]) + 1].reset_index(drop=True)
        return self.table.take(idx).reset_index(drop=True)

    def hashes(self, kommun: str) -> np.ndarray:
        if self._hashes is None:
            self._hashes = _row_hashes(self.table)
        idx = self.groups.get(kommun)
        return self._hashes[:0] if idx is None else self._hashes[idx]


def _per_kommun(table: pd.DataFrame) -> _KommunRows:
    """``kommun → its rows`` of ``table`` (:class:`_KommunRows`), made once per table of
    the run: the estimates and findings are read per kommun by several stages, which then
    share one grouping and one hashing of them."""
    return _per_table("per_kommun", table, _KommunRows)


def _row_hashes(table: pd.DataFrame) -> np.ndarray:
    """:func:`~trygghet_analys.files.cache.row_hashes` of a table of the run, made once:
    the findings (196 000 rows of text for a region) are hashed for the underlag's keys
    and again for the csv file's blocks otherwise."""
    return _per_table("row_hashes", table, row_hashes)


def _per_table(kind: str, table: pd.DataFrame, make: Callable[[pd.DataFrame], Any]) -> Any:
    """``make(table)``, kept in the run's memo under the table object itself.

    The tables of a run are never changed once a stage has made them, so a result made
    from one holds for the whole run. The memo keeps the table with the result: its
    ``id`` cannot be taken by another table while the entry exists. Without a run's memo
    (a stage called on its own) it is made every time."""
    memo = _MEMO.get()
    if memo is None:
        return make(table)
    kept = memo.setdefault(kind, {})
    hit = kept.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    value = make(table)
    kept[id(table)] = (table, value)
    return value


def _note_year_keys(table: pd.DataFrame, keys: dict[tuple[str, int], str]) -> None:
    """Keep, for the run, the build cache key each ``(kommun, year)`` block of ``table``
    was made under (the findings' and the underlag's per-year keys).

    Such a key stands for exactly the rows of that block: a stage keeps a year's rows in
    the cache under the key of everything they are computed from (the program's version
    included) and takes them back only under that same key. Later stages then key what
    rests on those rows by these keys (:func:`_block_digests`) instead of hashing the
    rows again: the findings are 196 000 rows of text for a region, hashed for the
    underlag's keys and the csv file's blocks (0,3 s CPU of a new year's build)."""
    memo = _MEMO.get()
    if memo is not None:
        memo.setdefault("year_keys", {})[id(table)] = (table, keys)


def _noted_year_keys(table: pd.DataFrame) -> dict[tuple[str, int], str] | None:
    """The keys :func:`_note_year_keys` kept for this very table object (None: none)."""
    return _per_table("year_keys", table, lambda _: None)


def _block_digests(
    table: pd.DataFrame, blocks: list[tuple[str, int]], otherwise: Callable[[], list[str]]
) -> list[str]:
    """A digest per block ``(kommun, year)`` of ``table`` that changes whenever the block's
    rows or the table's layout do: the noted key of each block (:func:`_note_year_keys`)
    with the table's layout, or else ``otherwise()`` (digests of the blocks' row hashes,
    made only then).

    The noted keys are used only when every block has one, no block occurs twice and no
    column is of type ``object`` (whose values' Python types, which a layout does not
    show, could differ under one key); ``tests/test_incremental_build.py`` checks that
    both ways give the same files."""
    noted = _noted_year_keys(table)
    if (
        noted is not None
        and len(set(blocks)) == len(blocks)
        and all(b in noted for b in blocks)
        and not any(isinstance(d, np.dtype) and d.kind == "O" for d in table.dtypes)
    ):
        layout = table_layout(table)
        return [BuildCache.key("noted", layout, noted[b]) for b in blocks]
    return otherwise()


def _year_digests_of(rows: _KommunRows, kommun: str, years: list[int]) -> list[str]:
    """:func:`~trygghet_analys.files.cache.year_digests` of one kommun's rows in each of
    ``years`` (``upto=False``), in the order of ``years``."""
    digests = year_digests(rows(kommun), years, upto=False, hashes=rows.hashes(kommun))
    return [digests[y] for y in years]


def underlag_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The underlag for next year's medborgarlöfte, per kommun and survey year
    (:func:`trygghet_analys.commitments.followup.underlag_by_year`).

    Read by the report (``underlag_medborgarlofte.html``, the sheet "Underlag nästa år"
    and the draft register): it computes nothing itself.

    The years not in the build cache are computed for every kommun in one call
    (:func:`~trygghet_analys.commitments.followup.underlag_of`, kommuner with the same
    indicators together), each kommun's rows exactly those of its own call.
    """
    ntu = load_ntu()
    base = load_indicators()
    digests = {"ntu": frame_digest(ntu), "base": frame_digest(base)}
    cache = _CACHE.get()
    own = {name: _per_kommun(tables[name]) for name in ("survey_estimates", "survey_changes")}
    own_findings = _per_kommun(tables["findings"])
    plans: list[tuple] = []  # per kommun: (kommun, plan or None, its rows computed)
    batches: dict[int, tuple[pd.DataFrame, list]] = {}  # id(indicators) → (them, jobs)
    for k in kommuner:
        own_ind = _own_indicators(k, tables["survey_responses"])
        indicators = base if own_ind is None else own_ind
        est_at = own["survey_estimates"].groups.get(k.name, np.arange(0))
        years = sorted({int(y) for y in own["survey_estimates"].table["year"].to_numpy()[est_at]})
        no_changes = k.name not in own["survey_changes"].groups
        no_findings = k.name not in own_findings.groups
        plan, todo = None, years
        if cache is not None:
            # a year's underlag rests on the estimates up to it and the findings of that
            # year; without findings it builds its own from every year's changes (then
            # all in the key)
            estimates = own["survey_estimates"](k.name)
            fixed = cache.key(
                k.name,
                digests["base"] if own_ind is None else frame_digest(indicators),
                digests["ntu"],
                no_changes,
                frame_digest(own["survey_changes"](k.name)) if no_findings else "-",
            )
            est_d = year_digests(estimates, years, hashes=own["survey_estimates"].hashes(k.name))
            fnd_d = dict(
                zip(
                    years,
                    _block_digests(
                        own_findings.table,
                        [(k.name, y) for y in years],
                        lambda k=k, years=years: _year_digests_of(own_findings, k.name, years),
                    ),
                    strict=True,
                )
            )
            keys = {y: cache.key(fixed, est_d[y], fnd_d[y]) for y in years}
            plan = _reuse_plan(cache, "underlag", k.name, keys)
            todo = plan.todo
        new = None
        if todo and not (len(est_at) == 0 or no_changes or no_findings):
            batches.setdefault(id(indicators), (indicators, []))[1].append((k.name, todo))
        elif plan is None or todo:
            new = _commitments.underlag_by_year(
                own["survey_estimates"](k.name),
                own["survey_changes"](k.name),
                indicators=indicators,
                ntu=ntu,
                kommun=k.name,
                findings=own_findings(k.name),
                years=None if plan is None else todo,
            )
        plans.append((k.name, plan, new))
    computed: dict[str, pd.DataFrame] = {}
    for indicators, jobs in batches.values():
        rows = _commitments.underlag_of(
            tables["survey_estimates"],
            tables["findings"],
            indicators=indicators,
            ntu=ntu,
            jobs=jobs,
        )
        at = rows.groupby("kommun", sort=False).indices if len(rows) else {}
        for kommun, _ in jobs:
            idx = at.get(kommun)
            computed[kommun] = (
                _commitments.empty_underlag()
                if idx is None
                else rows.take(idx).reset_index(drop=True)
            )
    parts = []
    for kommun, plan, new in plans:
        new = computed.get(kommun, new)
        if plan is None:
            parts.append(new)
        else:
            parts.append(_reuse_finish(cache, plan, new, _commitments.empty_underlag))
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = {c: pd.Series(dtype=object) for c in table_columns("underlag")}
        return {"underlag": pd.DataFrame(empty)}
    out = pd.concat(parts, ignore_index=True)
    if cache is not None:
        _note_year_keys(
            out, {(kommun, y): key for kommun, plan, _ in plans for y, key in plan.keys.items()}
        )
    return {"underlag": out}


def draft_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Next year's draft register for every kommun and underlag year, and the registers
    themselves as a table (:func:`trygghet_analys.commitments.followup.draft_table`,
    :func:`~trygghet_analys.commitments.followup.registers_table`).

    The report writes ``medborgarlofte_<YEAR+1>_utkast.yml`` from ``commitment_draft`` and
    takes the commitment periods and base year from ``commitment_registers``: it reads no
    register. A draft that cannot be made is a row with its ``reason``; the latest year's
    is said on stderr by :func:`build` (:func:`draft_notices`).
    """
    base = load_indicators()
    followup = tables.get("commitment_followup")
    followup_of = None if followup is None else _per_kommun(followup)
    underlag_of = _per_kommun(tables["underlag"])
    drafts, registers = [], []
    for k in kommuner:
        if not raw_exists(k.commitments_dir):
            continue
        own = _own_indicators(k, tables["survey_responses"])
        regs = _registers(k, base if own is None else own)
        registers.append(_commitments.registers_table(regs, kommun=k.name))
        mine = None if followup is None else followup_of(k.name)
        drafts.append(
            _cached_draft(
                regs,
                underlag_of(k.name),
                k.name,
                mine,
                underlag_of.hashes(k.name),
                suggested=None if followup_of is None else _SuggestDigests(followup_of, k.name),
            )
        )
    out = {}
    for name, frames in (("commitment_registers", registers), ("commitment_draft", drafts)):
        frames = [f for f in frames if len(f)]
        out[name] = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame({c: pd.Series(dtype=object) for c in table_columns(name)})
        )
    return out


def _cached_draft(
    registers: list,
    underlag: pd.DataFrame,
    kommun: str,
    followup: pd.DataFrame | None,
    hashes: np.ndarray | None = None,
    suggested: _SuggestDigests | None = None,
) -> pd.DataFrame:
    """:func:`~trygghet_analys.commitments.followup.draft_table` of one kommun, each
    underlag year's draft from the build cache (kind ``utkast``) when exactly what it
    rests on is unchanged.

    The draft for ``year + 1`` (:func:`~trygghet_analys.commitments.followup.draft_register`)
    reads the register in force in ``year`` (the latest up to it: its parsed content, or
    none, and then nothing else: it is refused), the underlag rows *of that year* and, of
    the follow-up, only the rows of that
    register's commitments in the columns the suggestions are made from
    (:func:`~trygghet_analys.commitments.followup.suggest_inputs`). With the kommun and the
    program's version (:meth:`BuildCache.key`) that is the year's key: a new register, a
    changed underlag year or a changed follow-up of a commitment drafts again exactly the
    years that read them. ``hashes``: the underlag's
    :func:`~trygghet_analys.files.cache.row_hashes`, when the caller has them;
    ``suggested``: the follow-up slices' digests made from the region's follow-up hashed
    once (:class:`_SuggestDigests`, the same digests).
    """
    cache = _CACHE.get()
    if cache is None:
        return _commitments.draft_table(registers, underlag, kommun=kommun, followup=followup)
    years = sorted({int(y) for y in underlag["year"]}) if registers and len(underlag) else []
    rows = year_digests(underlag, years, upto=False, hashes=hashes)
    pool = [r for r in registers if r.kommun == kommun]
    said: dict[str, str] = {}  # the same register in force: the same follow-up slice
    keys = {}
    for y in years:
        current = _commitments.current_registers(pool, y)
        reg = repr(current)
        if reg not in said:
            said[reg] = (
                frame_digest(_commitments.suggest_inputs(current, followup))
                if suggested is None
                else suggested.of(current)
            )
        # without a register in force the year is refused before its underlag is read
        keys[y] = cache.key(kommun, reg, said[reg], rows[y] if current else "-")

    def compute(todo: list[int]) -> pd.DataFrame:
        part = underlag[underlag["year"].astype(int).isin(todo)]
        return _commitments.draft_table(registers, part, kommun=kommun, followup=followup)

    return _reuse_years(cache, "utkast", kommun, keys, compute)


class _SuggestDigests:
    """The :func:`~trygghet_analys.files.cache.frame_digest` of
    :func:`~trygghet_analys.commitments.followup.suggest_inputs` for one kommun's
    follow-up, made from the region's follow-up hashed once in those columns: a row's hash
    is its own, so the digest of the rows taken out is the layout and these hashes at
    their positions (test: the same digests as the slices hashed on their own)."""

    def __init__(self, rows: _KommunRows, kommun: str) -> None:
        table = rows.table
        if rows.suggest is None:  # once per region table
            cols = [c for c in _commitments.SUGGEST_COLUMNS if c in table.columns]
            rows.suggest = (table_layout(table[cols]), row_hashes(table[cols]))
        self.layout, hashes = rows.suggest
        at = rows.groups.get(kommun, np.arange(0))
        self.hashes = hashes[at]
        self.ids = table["commitment_id"].to_numpy(dtype=object)[at]
        self.empty = len(at) == 0

    def of(self, current: list) -> str:
        if len(current) != 1 or self.empty:
            return "-"  # suggest_inputs gives None: no follow-up is read
        ids = {c.id for c in current[0].commitments}
        keep = np.fromiter((i in ids for i in self.ids), dtype=bool, count=len(self.ids))
        digest = hashlib.sha256(self.layout.encode())
        digest.update(self.hashes[keep].tobytes())
        return digest.hexdigest()


def draft_notices(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One Swedish line per kommun whose draft for its latest underlag year could not be
    made (the reason recorded in ``commitment_draft``); earlier years' reasons stay in the
    table and are said by a report made for that year."""
    drafts = tables.get("commitment_draft")
    if drafts is None or drafts.empty:
        return []
    lines = []
    for kommun, rows in drafts.groupby("kommun", sort=False):
        latest = rows[rows["year"] == rows["year"].max()]
        reason = latest["reason"].iloc[0]
        if isinstance(reason, str):
            lines.append(
                f"Utkastet till medborgarlöftet {int(latest['year'].iloc[0]) + 1} för {kommun} "
                f"kunde inte tas fram: {reason}"
            )
    return lines


class _ReusePlan(NamedTuple):
    kind: str
    entry: str
    keys: dict[int, str]
    hit: dict | None
    same: list[int]
    todo: list[int]


def _reuse_plan(cache: BuildCache, kind: str, kommun: str, keys: dict[int, str]) -> _ReusePlan:
    """Which years of ``keys`` the build cache holds under the same key (``same``) and
    which must be computed (``todo``), ascending (see :func:`_reuse_years`)."""
    wanted = sorted(keys)
    entry = cache.key(kind, kommun)
    hit = cache.get(kind, entry)
    stored = {} if hit is None else _stored_keys(hit["keys"])
    same = [y for y in wanted if stored.get(y) == keys[y]]
    todo = [y for y in wanted if y not in same]
    return _ReusePlan(kind, entry, keys, hit, same, todo)


def _reuse_finish(
    cache: BuildCache,
    plan: _ReusePlan,
    new: pd.DataFrame | None,
    empty: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """The table of :func:`_reuse_years` from its plan and the rows computed for
    ``plan.todo`` (``new``; None when nothing was to be computed); ``empty()`` is the
    typed empty table when no year has rows and nothing was computed."""
    pieces = []
    if plan.same:
        pieces.append(_rows_of_years(plan.hit["rows"], plan.same))
    if new is not None:
        pieces.append(new)
    nonempty = [p for p in pieces if len(p)]
    if nonempty:
        out = _in_year_order(pd.concat(nonempty, ignore_index=True))
    else:  # no rows in any year: as computed (the typed empty table)
        out = empty() if new is None else new
    wanted = sorted(plan.keys)
    cache.put(
        plan.kind,
        plan.entry,
        {
            "rows": out,
            "keys": pd.DataFrame({"year": wanted, "key": [plan.keys[y] for y in wanted]}),
        },
    )
    return out


def _reuse_years(
    cache: BuildCache,
    kind: str,
    kommun: str,
    keys: dict[int, str],
    compute: Callable[[list[int]], pd.DataFrame],
) -> pd.DataFrame:
    """One kommun's table of every year in ``keys``: the rows of each year whose key is the
    one stored in the build cache are taken from there, the other years computed
    (``compute(years)``, rows of those years only), and the whole kept under the new keys.
    The years come out ascending, each year's rows in the order computed."""
    plan = _reuse_plan(cache, kind, kommun, keys)
    new = compute(plan.todo) if plan.todo else None
    return _reuse_finish(cache, plan, new, lambda: compute([]))


#: The tables a kommun's findings are computed from, with the year column that bounds what a
#: report year's rows depend on, and whether that is every row up to the year (True) or the
#: rows of the year itself (False).
_FINDINGS_TABLES = {
    "estimates": ("year", True),
    "reliable": ("year", True),
    "changes": ("year_to", False),
    "wastewater_campaigns": ("year", True),
    "activities": ("year", True),
    "strata": ("year", True),
}


def _effects(inputs: dict, effects: dict, years: list[int] | None) -> pd.DataFrame | None:
    """The kommun's difference-in-differences rows for ``years`` (None: every year)."""
    if not effects["links"] or effects["start_year"] is None:
        return None
    return effect_findings(inputs["estimates"], **effects, years=years)


def _cached_findings(
    jobs: list[tuple[dict, dict, dict]],
    shared: dict,
    noted: dict[tuple[str, int], str] | None = None,
) -> list[pd.DataFrame]:
    """:func:`build_findings` of each kommun (``jobs``: its inputs, ``effects`` and the row
    hashes of its slices of the stacked tables, :meth:`_KommunRows.hashes`), each
    report year from the build cache when what that year's rows are computed from is
    unchanged, the rest computed for all kommuner together.

    A report year's rows depend only on the kommun's estimates, reliability flags, strata,
    wastewater campaigns and activity counts up to that year, its changes to that year,
    its series breaks, base year, indicator definitions, activity targets and labels and
    the place-based links of its commitments (``effects``: ``links``, ``start_year``,
    ``strata``), and on the program, whose version
    (:func:`~trygghet_analys.files.cache.code_version`, resources included) is part of
    every key. The key of a year is the SHA-256 of exactly those (contents, columns and
    types), so a changed setting, codebook, population or earlier year file — anything
    that moves an estimate — gives new keys, and only the years whose key is new are
    computed. The wastewater trend rows, which rest on the campaigns alone, are kept
    under keys of their own. The kommun's rows are one cache entry with each year's key.

    The years left to compute are computed in one
    :func:`~trygghet_analys.stats.findings.build_findings_of` call per set of kommuner
    sharing indicators, base year, activity labels and the years to compute (``shared``:
    the stacked ``estimates``, ``changes``, ``breaks`` and ``reliable`` of all kommuner);
    per kommun that is the table :func:`build_findings` gives.

    ``noted``, when given, receives each kommun's key of each year,
    ``(kommun, year) → key`` (:func:`_note_year_keys`).
    """
    cache = _CACHE.get()
    digests: dict[int, str] = {}  # indicator definitions by object: most kommuner share one

    def digest(frame: pd.DataFrame) -> str:
        if id(frame) not in digests:
            digests[id(frame)] = frame_digest(frame)
        return digests[id(frame)]

    plans = [_findings_plan(cache, *job, digest=digest) for job in jobs]
    groups: dict[tuple, list[int]] = {}
    for i, ((inputs, _, _), plan) in enumerate(zip(jobs, plans, strict=True)):
        if plan["todo"] is None or plan["todo"]:
            todo = None if plan["todo"] is None else tuple(plan["todo"])
            key = (
                inputs["base_year"],
                digest(inputs["indicators"]),
                tuple(sorted(inputs["activity_labels"].items())),
                todo,
            )
            groups.setdefault(key, []).append(i)
    new: dict[int, pd.DataFrame] = {}
    for members in groups.values():
        first = jobs[members[0]][0]
        todo = plans[members[0]]["todo"]
        own = {}
        for i in members:
            inputs, effects, _ = jobs[i]
            ww = plans[i]["ww_rows"]
            if ww is None:  # no cache: every year of the campaigns
                ww = wastewater_findings(inputs["wastewater_campaigns"], years=todo)
            own[inputs["kommun"]] = {
                "activities": inputs["activities"],
                "activity_targets": inputs["activity_targets"],
                "effects": _effects(inputs, effects, todo),
                "wastewater_rows": ww,
            }
        found = build_findings_of(
            own,
            **shared,
            indicators=first["indicators"],
            base_year=first["base_year"],
            activity_labels=first["activity_labels"],
            years=todo,
        )
        for i in members:
            new[i] = found[jobs[i][0]["kommun"]]
    if noted is not None and cache is not None:
        for (inputs, _, _), plan in zip(jobs, plans, strict=True):
            noted.update(((inputs["kommun"], y), key) for y, key in plan["keys"].items())
    return [_findings_done(cache, plan, new.get(i)) for i, plan in enumerate(plans)]


def _findings_plan(
    cache: BuildCache | None,
    inputs: dict,
    effects: dict,
    hashes: dict[str, np.ndarray],
    *,
    digest: Callable[[pd.DataFrame], str] = frame_digest,
) -> dict:
    """What of one kommun's findings the cache holds: the rows of the years whose key is
    unchanged, the years to compute (``todo``; None without a cache: every year), and
    that kommun's wastewater trend rows of those years (None without a cache).

    ``hashes`` holds the row hashes of the kommun's tables that are slices of stacked
    tables (the keys are those of hashing each table on its own)."""
    if cache is None:
        return {"todo": None, "ww_rows": None}
    kommun = inputs["kommun"]
    tables = {**inputs, "strata": effects["strata"]}
    years: set[int] = set()
    for name, (column, _) in _FINDINGS_TABLES.items():
        table = tables[name]
        if name != "strata" and table is not None and len(table):
            years.update(int(y) for y in table[column].unique())
    wanted = sorted(years)
    digests = {
        name: year_digests(tables[name], wanted, column=column, upto=upto, hashes=hashes.get(name))
        for name, (column, upto) in _FINDINGS_TABLES.items()
    }
    fixed = cache.key(
        kommun,
        inputs["base_year"],
        digest(inputs["indicators"]),
        frame_digest(inputs["breaks"], hashes=hashes.get("breaks")),
        sorted(inputs["activity_targets"].items()),
        sorted(inputs["activity_labels"].items()),
        effects["links"],
        effects["start_year"],
    )
    keys = {y: cache.key(fixed, *(digests[name][y] for name in _FINDINGS_TABLES)) for y in wanted}
    ww_keys = {y: cache.key(kommun, digests["wastewater_campaigns"][y]) for y in wanted}
    entry = cache.key("fynd", kommun)
    hit = cache.get("fynd", entry)

    def reuse(rows: str, keyed: str, now: dict[int, str]) -> tuple[pd.DataFrame | None, list[int]]:
        """The stored rows of the years whose key is unchanged, and the other years."""
        if hit is None:
            return None, wanted
        stored = _stored_keys(hit[keyed])
        same = [y for y in wanted if stored.get(y) == now[y]]
        old = hit[rows]
        return (_rows_of_years(old, same) if len(old) else None), [
            y for y in wanted if y not in same
        ]

    old_ww, ww_todo = reuse("ww", "ww_keys", ww_keys)
    new_ww = wastewater_findings(inputs["wastewater_campaigns"], years=ww_todo) if ww_todo else None
    ww = _joined(old_ww, new_ww)
    old, todo = reuse("rows", "keys", keys)
    return {
        "todo": todo,
        "ww_rows": (
            ww[ww["year"].isin(todo)]
            if ww is not None
            else pd.DataFrame(columns=FINDINGS_COLUMNS[:15])
        ),
        "old": old,
        "ww": ww,
        "keys": keys,
        "ww_keys": ww_keys,
        "wanted": wanted,
        "entry": entry,
    }


def _joined(*pieces: pd.DataFrame | None) -> pd.DataFrame | None:
    pieces = [p for p in pieces if p is not None and len(p)]
    if not pieces:
        return None
    return _in_year_order(pd.concat(pieces, ignore_index=True))


def _stored_keys(keys: pd.DataFrame) -> dict[int, str]:
    """``year → key`` of a stored table of keys (columns ``year``, ``key``), read column by
    column rather than with ``itertuples`` (a tuple class made per call, 290 calls in a
    new year's build)."""
    years, found = keys["year"].tolist(), keys["key"].tolist()
    return {int(y): str(k) for y, k in zip(years, found, strict=True)}


def _rows_of_years(table: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """The rows of a stored table whose ``year`` is in ``years``: the table itself when
    that is every row, as in a new year's build (the stored years are all still wanted,
    the new one is added), instead of a copy of each column."""
    keep = table["year"].isin(years).to_numpy()
    if keep.all():
        return table
    at = np.flatnonzero(keep)
    if len(at) and at[-1] - at[0] + 1 == len(at):
        # one run of rows, a slice and no copy: the stored rows come in year order, and a
        # new year's build drops only the latest stored years, whose keys changed (the
        # findings' latest year; the drafts of the years under the register in force,
        # whose follow-up is new): a take of every column per kommun cost 0,06–0,08 s CPU
        return table.iloc[int(at[0]) : int(at[-1]) + 1]
    return table[keep]


def _in_year_order(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` stably sorted by ``year``; as it is when already in year order (stored
    years followed by a later new one), instead of a take of every column."""
    if table["year"].is_monotonic_increasing:
        return table
    return table.sort_values("year", kind="stable", ignore_index=True)


def _findings_done(cache: BuildCache | None, plan: dict, new: pd.DataFrame | None) -> pd.DataFrame:
    """One kommun's findings of every year: the stored years and the computed ``new``,
    kept in the build cache under each year's key."""
    if cache is None:
        return new
    out = _joined(plan["old"], new)
    if out is None:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS})
    wanted, keys, ww_keys, ww = plan["wanted"], plan["keys"], plan["ww_keys"], plan["ww"]
    cache.put(
        "fynd",
        plan["entry"],
        {
            "rows": out,
            "keys": pd.DataFrame({"year": wanted, "key": [keys[y] for y in wanted]}),
            "ww": ww if ww is not None else pd.DataFrame({"year": pd.Series(dtype="int64")}),
            "ww_keys": pd.DataFrame({"year": wanted, "key": [ww_keys[y] for y in wanted]}),
        },
    )
    return out


def _commitments_of(kommun: KommunConfig, indicators: pd.DataFrame) -> tuple:
    """Of one kommun: yearly activity counts, the current register's targets, its
    place-based survey links ``(commitment_id, indicator, area)`` and the first year of
    the commitment period (None without registers)."""
    if not raw_exists(kommun.commitments_dir):
        return None, {}, [], None
    registers = _registers(kommun, indicators)
    targets: dict[str, float] = {}
    links: list[tuple[str, str, str]] = []
    start = None
    if registers:
        latest = max(registers, key=lambda r: r.year)
        base = base_year(kommun)
        start = None if base is None else base + 1
        for c in latest.commitments:
            for a in c.activities:
                if a.target is not None:
                    targets[a.measure] = float(a.target)
            for i in c.indicators:
                if i.kind == Source.SURVEY and i.group_var == "stratum":
                    links.append((c.id, i.id, i.group))
    path = kommun.commitments_dir / "aktiviteter.csv"
    yearly = _commitments.yearly_activities(_activities(path)) if raw_exists(path) else None
    return yearly, targets, links, start


def _activities(path: Path) -> pd.DataFrame:
    """:func:`~trygghet_analys.files.registers.load_activities`, read once per run: the
    findings and the follow-up both read every kommun's ``aktiviteter.csv`` (the table is
    only read by them, never changed)."""
    memo = _MEMO.get()
    if memo is None:
        return load_activities(path)
    kept = memo.setdefault("activities", {})
    if path not in kept:
        kept[path] = _cached_activities(path)
    return kept[path]


#: The build cache's kind holding each kommun's ``aktiviteter.csv`` as read.
_ACTIVITIES = "aktiviteter"


def _cached_activities(path: Path) -> pd.DataFrame:
    """:func:`~trygghet_analys.files.registers.load_activities`, in ``build`` from the build
    cache when a file with the same bytes at the same place was read before (the table
    rests on the file and the package's activity measures, which the program's version in
    the key covers): reading a region's 58 files cost 0,5 s CPU of every build, a new
    year's too. A file that fails to read is never kept, so its error comes again; an
    empty table is not kept either (its columns' types are those pandas gives it)."""
    store = _CACHE.get()
    if store is None:
        return load_activities(path)
    key = store.key(_ACTIVITIES, file_digest(path), str(path))
    hit = store.get(_ACTIVITIES, key)
    if hit is not None:
        return hit["rows"]
    table = load_activities(path)
    if len(table):
        store.put(_ACTIVITIES, key, {"rows": table})
    return table


def _registers(kommun: KommunConfig, indicators: pd.DataFrame) -> list:
    """The kommun's medborgarlöfte registers, checked against its indicators; read once
    per :func:`compute_tables` (registers are frozen, so sharing them is safe)."""
    memo = _MEMO.get()
    key = ("registers", kommun.name, tuple(indicators["id"]))
    if memo is not None and key in memo:
        return memo[key]
    known = _commitments.known_indicator_ids(indicators["id"])
    store = _CACHE.get()
    registers = load_registers(
        kommun.commitments_dir,
        known_indicators=known,
        areas=kommun.strata,
        kommun=kommun.name,
        read=load_register if store is None or memo is None else _cached_register(store, memo),
    )
    if memo is not None:
        memo[key] = registers
    return registers


#: The build cache's texts holding parsed registers (JSON), by file content and checks.
_REGISTER_TEXTS = "parsed_registers"


def _cached_register(store: BuildCache, memo: dict) -> Callable[..., _commitments.Register]:
    """A :func:`~trygghet_analys.files.registers.load_register` that takes a register from
    the build cache when a file with the same bytes was read with the same checks (known
    indicators, areas, kommun) before: parsing the YAML of a region's 232 registers cost
    1,3 s CPU of every build, a new year's too. Only registers that were read without an
    error are kept; the texts hold the registers this build read (none that are gone)."""
    if _REGISTER_TEXTS not in memo:
        memo[_REGISTER_TEXTS] = (store.texts(_REGISTER_TEXTS), {})
    kept, used = memo[_REGISTER_TEXTS]

    def read(path: Path, **checks) -> _commitments.Register:
        key = store.key(
            "register",
            file_digest(path),
            str(path),
            sorted(checks["known_indicators"].items()),
            checks["areas"],
            checks["kommun"],
        )
        text = kept.get(key)
        if text is not None:
            try:
                register = register_from_json(text, source=path)
            except (ValueError, KeyError, TypeError, IndexError):  # damaged: read again
                register = None
            if register is not None:
                used[key] = text
                store.put_texts(_REGISTER_TEXTS, used)
                return register
        register = load_register(path, **checks)
        try:
            text = register_to_json(register)
        except (ValueError, TypeError):  # not kept (e.g. a text JSON cannot hold)
            return register
        # kept only when read back exactly: keys of the drafts hold the register's repr
        if repr(register_from_json(text, source=path)) != repr(register):
            return register
        used[key] = text
        store.put_texts(_REGISTER_TEXTS, used)
        return register

    return read


#: The stages of ``build`` in order; each sees the tables of the ones before it.
STAGES: list[Stage] = [
    survey_stage,
    statistics_stage,
    indicators_stage,
    wastewater_stage,
    findings_stage,
    commitments_stage,
    underlag_stage,
    draft_stage,
]


def compute_tables(
    data: str | Path | None, stages: list[Stage] | None = None
) -> dict[str, pd.DataFrame]:
    """Run every stage on a data folder and return all processed tables (no writing).

    Parameters
    ----------
    data
        The data folder (``None``: the repository's ``data/``).
    stages
        Stages to run (default :data:`STAGES`).

    Returns
    -------
    dict
        Table name → DataFrame.

    Raises
    ------
    DataError, ConfigError
        From the stages; nothing is written.
    """
    folder = DataFolder.at(data)
    kommuner = folder.kommuner()
    tables: dict[str, pd.DataFrame] = {}
    # a caller's memo (build: shared with the receipt) or one for this run
    memo = _MEMO.get()
    token = _MEMO.set({} if memo is None else memo)
    _MEMO.get()["kommuner"] = kommuner
    try:
        for stage in stages if stages is not None else STAGES:
            for name, table in stage(folder, kommuner, tables).items():
                if name in tables:
                    raise ValueError(f"two stages produce the table {name!r}")
                tables[name] = table
    finally:
        _MEMO.reset(token)
    for name, table in tables.items():
        check_finite(table, name)  # no inf anywhere, no NaN where a number is required
        validate_table(name, table)  # every table against its contract, before any write
    return tables


#: Columns that must hold a number in every row (NaN is refused too, not only ±inf).
NO_MISSING = {
    "wastewater_loads": ("flow_m3_day", "population", "load_mg_day", "load_mg_day_1000"),
}


def check_finite(table: pd.DataFrame, name: str) -> None:
    """Refuse ``inf``/``-inf`` in any numeric column (and NaN where :data:`NO_MISSING` says).

    A processed table is what every chart and sentence is computed from; an infinite
    load (a concentration of 1e308) or a silently missing one must stop the build.

    Raises
    ------
    DataError
        Naming the table that would have been written, the column and the first row.
    """
    for col in table.columns:
        values = table[col]
        if not (pd.api.types.is_float_dtype(values) or pd.api.types.is_integer_dtype(values)):
            continue
        arr = values.to_numpy(dtype="float64", na_value=float("nan"))
        bad = np.isinf(arr)
        if col in NO_MISSING.get(name, ()):
            bad |= np.isnan(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"ändliga tal i kolumnen (rad {i + 1} av {len(table)} blev {arr[i]:g}; "
                "ingenting skrevs — kontrollera indata till tabellen)",
                file=f"processed/{name}.parquet",
                column=str(col),
            )


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a table as parquet with the same bytes for the same content.

    Notes
    -----
    The pandas index is dropped and no creation metadata differs between runs
    (pyarrow writes no timestamps); compression is zstd, statistics on; every column is
    written as one chunk, so how the table was assembled does not show in the bytes.
    Float columns are written without a dictionary
    (:func:`~trygghet_analys.files.cache.dictionary_columns`).
    """
    # one chunk per column: a table concatenated from parts (e.g. cached and new report
    # years) would otherwise be paged differently from the same table computed at once
    arrow = pa.Table.from_pandas(table, preserve_index=False).combine_chunks()
    pq.write_table(
        arrow,
        path,
        compression="zstd",
        write_statistics=True,
        use_dictionary=dictionary_columns(arrow.schema),
    )


def write_swedish_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table for Swedish Excel: ``;`` separated, decimal comma, UTF-8 with BOM.

    Text that a spreadsheet would read as a formula is neutralised
    (:func:`trygghet_analys._export.neutralise`).
    """
    Path(path).write_bytes(_swedish_csv_text(table, header=True).encode("utf-8-sig"))


def _swedish_csv_text(table: pd.DataFrame, *, header: bool) -> str:
    """The rows of :func:`write_swedish_csv` as text (with the header line or without).

    Every value is rendered on its own (a formula neutralised, a float with decimal
    comma), so the rows of a part of a table are the same text as in the whole table.
    """
    out = table.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            # each distinct text looked at once: most columns hold a few names many times
            distinct = pd.unique(values.to_numpy(dtype=object))
            if any(neutralise(v) is not v for v in distinct):
                out[col] = values.map(neutralise)
        elif values.dtype == np.float64:
            out[col] = _decimal_comma(values.to_numpy())
    return out.to_csv(None, sep=";", decimal=",", index=False, header=header, lineterminator="\n")


def _write_csv_from_blocks(table: pd.DataFrame, path: Path, name: str, store: BuildCache) -> None:
    """:func:`write_swedish_csv`, with the rendered rows of each kommun and year kept in the
    build cache: a block (a run of rows with the same ``kommun`` and ``year``) whose rows,
    columns and types are those of a kept block is not rendered again.

    The key of a block is the SHA-256 of its rows (:func:`~.files.cache.row_hashes`) — or
    the build cache key its rows were made under, when the stage noted one
    (:func:`_block_digests`) —, the table's columns and types, the table's name and the
    program's version. The bytes are
    those of :func:`write_swedish_csv` of the whole table (``tests/test_incremental_build.py``).
    """
    if table.empty or not {"kommun", "year"} <= set(table.columns):
        write_swedish_csv(table, path)
        return
    kommun, year = table["kommun"].to_numpy(), table["year"].to_numpy()
    starts = np.flatnonzero((kommun[1:] != kommun[:-1]) | (year[1:] != year[:-1])) + 1
    bounds = np.concatenate([[0], starts, [len(table)]]).tolist()
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    fixed = store.key("csv", name, table_layout(table))
    digests = _block_digests(
        table,
        [(kommun[a], int(year[a])) for a, _ in spans],
        lambda: [rows_digest(_row_hashes(table)[a:b]) for a, b in spans],
    )
    keys = [store.key(fixed, d) for d in digests]
    kept = store.texts(name, views=True)
    blocks = dict.fromkeys(keys)
    for key in blocks:
        blocks[key] = kept.get(key)
    todo = [
        (key, a, b)
        for key, a, b in zip(keys, bounds[:-1], bounds[1:], strict=True)
        if blocks[key] is None
    ]
    if todo:
        # the blocks to render rendered together (a new year: one per kommun), then split
        # at the line ends; when a value holds a line break, block by block
        rows_todo = np.concatenate([np.arange(a, b) for _, a, b in todo])
        part = table.take(rows_todo)
        lines = []
        if not _has_line_break(part):
            lines = _swedish_csv_text(part, header=False).split("\n")
        if len(lines) == len(rows_todo) + 1:  # one line per row, and the last line end
            at = 0
            for key, a, b in todo:
                blocks[key] = ("\n".join(lines[at : at + b - a]) + "\n").encode("utf-8")
                at += b - a
        else:
            for key, a, b in todo:
                blocks[key] = _swedish_csv_text(table.iloc[a:b], header=False).encode("utf-8")
    head = _swedish_csv_text(table.iloc[0:0], header=True).encode("utf-8-sig")
    # written block by block: the kept blocks are views of the cache file's bytes, not
    # copies, and the file's 86 MB (the findings of a region) are not joined in memory
    with open(path, "wb") as fh:  # not raw: writes processed/<name>.csv
        fh.write(head)
        fh.writelines(blocks[key] for key in keys)
    if set(blocks) != set(kept):
        store.put_texts(name, blocks)


def _has_line_break(table: pd.DataFrame) -> bool:
    """Whether a value of a text (or other non-numeric) column holds a line break, which
    the csv writer keeps inside a quoted value (one row on several lines)."""
    for col in table.columns:
        values = table[col]
        if values.dtype.kind in "biuf":
            continue
        for v in pd.unique(values.to_numpy(dtype=object)):
            if isinstance(v, str) and ("\n" in v or "\r" in v):
                return True
    return False


def _decimal_comma(values: np.ndarray) -> np.ndarray:
    """Float64 values as pandas' ``to_csv(decimal=",")`` writes them (``str`` of the value,
    its first ``.`` a comma, NaN empty), as text: one pass in Python instead of pandas'
    per-value formatter calls (``tests/test_incremental_build.py`` compares the bytes)."""
    text = [
        "" if v != v else str(v).replace(".", ",", 1)  # v != v: NaN
        for v in values.tolist()
    ]
    return np.array(text, dtype=object)


def survey_receipt(data: str | Path | None, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One Swedish line per kommun, year and file: rows read, kept, in the ledger per rule.

    Rows read = kept + in the ledger (every excluded row is in the ledger), so the line
    is the check the analyst would otherwise do by opening the parquet files.

    In :func:`build` the kommuner and their codebooks are those the build read (kept for
    the run, not read again); the ledger is counted once per kommun, file and rule
    instead of a filter per file.
    """
    from .survey.codebook import EXCLUSION_RULES

    memo = _MEMO.get() or {}
    kommuner = memo.get("kommuner")
    if kommuner is None:
        kommuner = DataFolder.at(data).kommuner()
    responses, ledger = tables["survey_responses"], tables["ledger"]
    kept = responses.groupby(["kommun", "year"], observed=True).size().to_dict()
    survey = ledger[ledger["source"] == "trygghetsmatning"]
    per_rule = survey.groupby(
        ["kommun", "file", "rule"], observed=True, sort=False, dropna=False
    ).size()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for (kommun, file, rule), n in per_rule.items():
        counts.setdefault((kommun, file), {})[rule] = int(n)
    many = len(kommuner) > 1
    lines = []
    for k in kommuner:
        book = memo.get(("codebook", k.name))
        if book is None:
            book = load_codebook(k.survey_dir / "kodbok.yml")
        for year, path in survey_files(k.survey_dir).items():
            name = path.relative_to(k.raw).as_posix()
            own = counts.get((k.name, name), {})
            n_ledger = sum(own.values())
            rules = {r: own[r] for r in EXCLUSION_RULES if own.get(r)}
            n_kept = int(kept.get((k.name, year), 0))
            layout = book.layout_for(year)
            detail = ", ".join(f"{rule} {n}" for rule, n in rules.items())
            lines.append(
                f"{k.name + ' ' if many else ''}{year}: {name} (layout '{layout.name}'): "
                f"{n_kept + n_ledger} rader lästa, {n_kept} behållna, {n_ledger} i liggaren"
                + (f" ({detail})" if detail else "")
            )
    return lines


def build(
    data: str | Path | None = None,
    *,
    receipt: Callable[[str], None] | None = None,
    cache: bool = True,
) -> dict[str, Path]:
    """Build ``processed/`` from ``raw/`` for every kommun of a data folder.

    Parameters
    ----------
    data
        The data folder (``None``: the repository's ``data/``).
    cache
        Take unchanged survey files and wastewater folders from ``processed/.cache``
        (:mod:`trygghet_analys.files.cache`) and keep what is parsed there; False reads
        everything again and leaves the cache alone (``build --utan-cache``). The tables
        are byte-identical either way.

    Returns
    -------
    dict
        Table name → the parquet file written.

    Raises
    ------
    DataError, ConfigError
        A bad input; ``processed/`` is then unchanged (created if missing).

    Notes
    -----
    ``receipt``, when given, is called with each line of :func:`survey_receipt`.
    """
    folder = DataFolder.at(data)
    _check_processed(folder.processed)  # before hours of work, not after
    store = BuildCache(folder.processed / ".cache") if cache else None
    token = _CACHE.set(store)
    memo_token = _MEMO.set({})  # what the run read once (kommuner, codebooks), also for the receipt
    try:
        # the imports out of the collector's passes: 1,2–1,7 → 0,7–0,8 s CPU, a new year;
        # freed buffers used again: kernel time 2,4–3,5 → 1,5–2,0 s (docs/performance.md)
        with frozen_while_running(), build_memory():
            return _build(folder, store, receipt)
    finally:
        _CACHE.reset(token)
        _MEMO.reset(memo_token)


def _build(
    folder: DataFolder, store: BuildCache | None, receipt: Callable[[str], None] | None
) -> dict[str, Path]:
    tables = compute_tables(folder.root)
    writers = {
        f"{name}.parquet": (lambda path, t=table: write_parquet(t, path))
        for name, table in tables.items()
    }
    for name in CSV_TABLES:
        if name in tables:
            writers[f"{name}.csv"] = (
                (lambda path, t=tables[name]: write_swedish_csv(t, path))
                if store is None
                else (
                    lambda path, t=tables[name], n=name: _write_csv_from_blocks(t, path, n, store)
                )
            )
    try:
        written = atomic_replace_files(folder.processed, writers)
    except PermissionError as exc:
        raise ConfigError(
            f"Kan inte skriva i '{folder.processed}' (saknar skrivrätt: "
            f"'{exc.filename}'); be den som förvaltar mappen om skrivrätt"
        ) from exc
    if store is not None:
        store.finish()
    for line in draft_notices(tables):  # a warning, not part of the receipt: also with --tyst
        print(line, file=sys.stderr)
    if receipt is not None:
        for line in survey_receipt(folder.root, tables):
            receipt(line)
    return {p.stem: p for p in written}


def _check_processed(processed: Path) -> None:
    """``processed/`` must be a folder (or missing) that the account may write in."""
    if os.path.lexists(processed) and not processed.is_dir():
        raise ConfigError(
            f"'{processed}' ska vara en mapp för tabellerna men är en fil eller en trasig "
            "länk; flytta eller byt namn på den och kör igen"
        )
    if processed.is_dir() and not os.access(processed, os.W_OK | os.X_OK):
        raise ConfigError(
            f"Kan inte skriva i '{processed}' (saknar skrivrätt); be den som förvaltar "
            "mappen om skrivrätt"
        )


def validate(data: str | Path | None = None) -> list[str]:
    """Run every check of :func:`build` without writing anything.

    Returns
    -------
    list of str
        The receipt (:func:`survey_receipt`).

    Raises
    ------
    DataError, ConfigError
        Every problem found in the survey files (up to 50,
        :class:`~trygghet_analys.errors.DataProblems`), else the first problem found.
    """
    token = _MEMO.set({})  # the kommuner and codebooks read once, also for the receipt
    try:
        tables = compute_tables(data)
        return survey_receipt(data, tables)
    finally:
        _MEMO.reset(token)


def _raw_entries(folder: Path) -> list[Path]:
    """Every entry below a raw folder, through the one way in (folders descended into;
    a FIFO or dangling link is listed, and refused by name when hashed)."""
    out = []
    for p in list_raw(folder):
        if p.is_dir() and not p.is_symlink():
            out += _raw_entries(p)
        else:
            out.append(p)
    return out


def _cached_wastewater(k: KommunConfig) -> dict[str, pd.DataFrame]:
    """:func:`build_wastewater` for one kommun, from the build cache when its inputs are
    unchanged (every file under ``avloppsvatten/`` and the kommun's LOQ policy)."""
    policy = k.extra.get("loq_policy", "zero")
    future = bool(k.extra.get("framtida_kampanjer", False))
    cache = _CACHE.get()
    folder = k.wastewater_dir
    if cache is None or not folder.is_dir():
        return _with_detectable(
            build_wastewater(k.raw, k.name, loq_policy=policy, future_campaigns=future)
        )
    digests = []
    for path in _raw_entries(folder):
        rel = path.relative_to(k.raw).as_posix()
        digest = file_digest(path)
        cache.note(k.name, rel, digest)
        digests.append((rel, digest))
    key = cache.key(k.name, policy, future, tuple(digests))
    hit = cache.get("avloppsvatten", key)
    if hit is not None:
        return hit
    tables = _with_detectable(
        build_wastewater(k.raw, k.name, loq_policy=policy, future_campaigns=future)
    )
    cache.put("avloppsvatten", key, tables)
    return tables


def _with_detectable(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One kommun's wastewater tables plus ``wastewater_detectable``
    (:func:`~trygghet_analys.wastewater.campaigns.detectable_changes` of its campaigns,
    which rests on nothing else), so that it is kept in the build cache with them."""
    return {**tables, "wastewater_detectable": detectable_changes(tables["wastewater_campaigns"])}


def build_wastewater(
    raw_dir: str | Path,
    kommun: str,
    *,
    loq_policy: str = "zero",
    future_campaigns: bool = False,
    today: dt.date | None = None,
) -> dict[str, pd.DataFrame]:
    """All wastewater tables of one kommun, from its raw folder.

    Reads ``<raw_dir>/avloppsvatten/``
    (:func:`~trygghet_analys.files.wastewater.read_wastewater`) and computes
    :func:`~trygghet_analys.wastewater.loads.wastewater_tables` (``kommun``, ``loq_policy``
    and the returned tables as documented there).

    ``future_campaigns`` is ``kommun.yml: framtida_kampanjer``: without it a campaign that
    starts after ``today`` (default: the build date) is refused as a typing error.
    """
    raw = read_wastewater(raw_dir)
    if raw is not None and not future_campaigns:
        _refuse_future_campaigns(raw["campaigns"], today or dt.date.today())
    return wastewater_tables(raw, kommun=kommun, loq_policy=loq_policy)


def _refuse_future_campaigns(campaigns: pd.DataFrame, today: dt.date) -> None:
    """A campaign that starts after the build date is a typing error unless opted in."""
    ahead = campaigns[campaigns["start"] > pd.Timestamp(today)]
    if len(ahead):
        r = ahead.iloc[0]
        raise DataError(
            f"ett datum senast i dag ({today.isoformat()}); en planerad kampanj tas med när "
            "den har genomförts, eller skriv i kommun.yml: framtida_kampanjer: true",
            file=r["source_file"],
            row=int(r["source_row"]),
            column="Första dag",
            value=r["start"].date().isoformat(),
        )


def ingest_kommun(kommun: KommunConfig, *, validate: bool = True) -> SurveyTables:
    """Read every survey file of one kommun through its codebook.

    Parameters
    ----------
    kommun
        The kommun (its ``raw`` folder holds ``trygghetsmatning/``).
    validate
        Check the canonical table against its schema (:func:`survey_stage` checks the
        whole region's table once instead).

    Returns
    -------
    SurveyTables
        ``responses`` (canonical, validated), ``strata``, ``breaks`` and ``ledger``.

    Raises
    ------
    DataError
        See :func:`read_raw_file`, :func:`apply_layout` and :func:`design_weights`; also a
        year without a codebook layout or a folder without survey files.

    Notes
    -----
    Single pass (issue 16): each file is read once, and the files of one layout (same
    header, same codebook columns) are normalised and mapped through the codebook together
    (:func:`apply_layout_files`). When any file has a problem, the files are read again and
    applied one by one in the order of the years, so that every message is exactly that of
    its own file. Files whose parsed rows are in the build cache are not read at all.
    """
    folder = kommun.survey_dir
    codebook = _codebook(kommun)
    files = survey_files(folder)  # a missing folder lists empty; a file there is refused
    if not files:
        raise DataError("minst en fil <år>.xlsx eller <år>.csv", file=folder)
    cache = _CACHE.get()
    codebook_digest = file_digest(folder / "kodbok.yml") if cache is not None else None
    entry = _SurveyInputs(kommun, codebook, files, codebook_digest)
    try:
        stacked, pending = _survey_single_pass([entry])
        parts, ledgers = [stacked.responses], [stacked.ledger]
    except DataError:
        parts, ledgers, pending = _survey_file_by_file(kommun, codebook, files, codebook_digest)
    tables = _kommun_tables(entry, parts, ledgers, validate=validate)
    for key, parsed in pending:  # cached only once the whole kommun was read without a problem
        cache.put("enkat", key, parsed)
    return tables


def _codebook(kommun: KommunConfig) -> Codebook:
    """The kommun's ``kodbok.yml`` (checked against its areas), kept for the run so that
    :func:`survey_receipt` does not read it again."""
    memo = _MEMO.get()
    store = _CACHE.get()
    path = kommun.survey_dir / "kodbok.yml"
    if store is None or memo is None:
        codebook = load_codebook(path, areas=kommun.strata)
    else:
        codebook = _cached_codebook(store, memo, path, kommun.strata)
    if memo is not None:
        memo[("codebook", kommun.name)] = codebook
    return codebook


#: The build cache's texts holding parsed codebooks (JSON), by file content and areas.
_CODEBOOK_TEXTS = "parsed_codebooks"


def _cached_codebook(store: BuildCache, memo: dict, path: Path, areas: tuple[str, ...]) -> Codebook:
    """:func:`~trygghet_analys.files.codebook.load_codebook`, from the build cache when a
    file with the same bytes at the same place was read with the same areas before (the
    program's version in the key covers the checks): reading and checking a region's 58
    codebooks cost 0,22 s CPU of every build, a new year's too; reading them back 0,03 s.
    Only a codebook read without an error and read back with exactly the same ``repr``
    is kept; the texts hold the codebooks this build read. A damaged text is read again
    from the file."""
    if _CODEBOOK_TEXTS not in memo:
        memo[_CODEBOOK_TEXTS] = (store.texts(_CODEBOOK_TEXTS), {})
    kept, used = memo[_CODEBOOK_TEXTS]
    try:
        digest = file_digest(path)
    except (OSError, DataError):  # missing or refused: load_codebook says why
        return load_codebook(path, areas=areas)
    key = store.key("codebook", digest, str(path), list(areas))
    text = kept.get(key)
    if text is not None:
        try:
            codebook = codebook_from_json(text)
        except (ValueError, KeyError, TypeError, RecursionError):  # damaged: read again
            codebook = None
        if codebook is not None and codebook.path == path:
            used[key] = text
            store.put_texts(_CODEBOOK_TEXTS, used)
            return codebook
    codebook = load_codebook(path, areas=areas)
    try:
        text = codebook_to_json(codebook)
    except (ValueError, TypeError):  # not kept (a value JSON cannot hold)
        return codebook
    if repr(codebook_from_json(text)) != repr(codebook):
        return codebook
    used[key] = text
    store.put_texts(_CODEBOOK_TEXTS, used)
    return codebook


class _SurveyInputs(NamedTuple):
    """One kommun's survey inputs: codebook, year files and the codebook's hash (cache)."""

    kommun: KommunConfig
    codebook: Codebook
    files: dict[int, Path]
    codebook_digest: str | None


def _kommun_tables(entry: _SurveyInputs, parts, ledgers, *, validate: bool) -> SurveyTables:
    """One kommun's survey tables from its files' rows and ledgers (population, weights)."""
    population_file = entry.kommun.survey_dir / "population.csv"
    population = read_population(population_file, entry.kommun.strata)
    return survey_tables(
        parts, ledgers, population, codebook=entry.codebook, kommun=entry.kommun.name,
        file=population_file, validate=validate,
    )  # fmt: skip


def _ingest_kommuner(kommuner: list[KommunConfig]) -> list[SurveyTables]:
    """Every kommun's survey in one pass (:func:`_survey_single_pass` over all of them),
    as one :class:`SurveyTables` for the whole region (:func:`region_survey_tables`).

    Raises at the first problem of any kind; :func:`survey_stage` then reads kommun by
    kommun (:func:`ingest_kommun`) for the messages of the first kommun with a problem.
    Nothing is cached unless every kommun was read.
    """
    cache = _CACHE.get()
    entries = []
    for kommun in kommuner:
        folder = kommun.survey_dir
        codebook = _codebook(kommun)
        files = survey_files(folder)
        if not files:
            raise DataError("minst en fil <år>.xlsx eller <år>.csv", file=folder)
        digest = file_digest(folder / "kodbok.yml") if cache is not None else None
        entries.append(_SurveyInputs(kommun, codebook, files, digest))
    with Progress(len(kommuner), "Läser enkäter", "kommuner", enabled=len(kommuner) > 1) as bar:
        stacked, pending = _survey_single_pass(
            entries, read=lambda entry: bar.step(entry.kommun.name)
        )
    # the tables of every kommun made at once (pandas' fixed cost paid once, not per kommun)
    surveys = []
    for entry, rows in zip(entries, stacked.rows, strict=True):
        population_file = entry.kommun.survey_dir / "population.csv"
        population = read_population(population_file, entry.kommun.strata)
        surveys.append(
            KommunSurvey(entry.kommun.name, int(rows), population, entry.codebook,
                         population_file)
        )  # fmt: skip
    tables = region_survey_tables(stacked.responses, stacked.ledger, surveys)
    for key, parsed in pending:
        cache.put("enkat", key, parsed)
    return [tables]


def _cache_key(kommun: KommunConfig, year: int, path: Path, codebook_digest: str | None):
    """(cache key, ledger file name) of one survey file; the key None without a cache."""
    ledger_file = path.relative_to(kommun.raw).as_posix()
    cache = _CACHE.get()
    if cache is None:
        return None, ledger_file
    digest = file_digest(path)
    cache.note(kommun.name, ledger_file, digest)
    key = cache.key(digest, codebook_digest, kommun.name, kommun.strata, year, ledger_file)
    return key, ledger_file


class _Stacked(NamedTuple):
    """The rows and ledger lines of several kommuner's files, kommun after kommun and each
    kommun's files in the order of the years (:func:`_survey_single_pass`)."""

    responses: pd.DataFrame
    ledger: pd.DataFrame
    rows: np.ndarray  # responses rows per kommun


def _survey_single_pass(
    entries: list[_SurveyInputs], read: Callable[[_SurveyInputs], None] | None = None
) -> tuple[_Stacked, list]:
    """Every file read once; the files of one layout applied together, also across kommuner
    (layouts equal apart from the area codes: :func:`layout_signature`). Any problem
    raises (the caller then applies the files one by one for the exact messages).

    Returns the kommuner's rows and ledger lines (:class:`_Stacked`) and the cache entries
    to keep. ``read`` is called with each entry once its files are read (progress).
    """
    cache = _CACHE.get()
    # the frames rows come from (a cached file, or the files of one layout applied
    # together), and where each file's rows and ledger lines are in them:
    # (kommun, file position, frame, first row, end row, first line, end line)
    blocks: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    pieces: list[tuple[int, int, int, int, int, int, int]] = []
    pending = []
    groups: dict[tuple, tuple] = {}
    signatures: dict[int, tuple] = {}  # layout_signature of each layout object
    keys = [
        [
            _cache_key(entry.kommun, year, path, entry.codebook_digest)
            for year, path in entry.files.items()
        ]
        for entry in entries
    ]
    found: dict = {}
    if cache is not None:
        # the cached files taken in bulk: one block per pack file, not a copy per file (a
        # region's earlier years, 1 160 files), in the order of each block's first file
        hits, found = cache.get_blocks(
            "enkat", [key for own in keys for key, _ in own], ("responses", "ledger")
        )
        blocks.extend((hit["responses"], hit["ledger"]) for hit in hits)
    for e, entry in enumerate(entries):
        kommun, codebook = entry.kommun, entry.codebook
        for position, (year, path) in enumerate(entry.files.items()):
            layout = layout_for_file(codebook, year, path)
            key, ledger_file = keys[e][position]
            if key in found:
                b, spans = found[key]
                pieces.append((e, position, b, *spans["responses"], *spans["ledger"]))
                continue
            raw = read_survey_cells(path, layout)
            error = header_row_hint(path, layout, year, raw.names, raw.sheet)
            if error is not None:
                raise error
            columns = tuple((c.variable, c.source) for c in layout.columns_for(year))
            source = SourceFile(year, path, raw.rows, raw.sheet, raw.first_row, ledger_file,
                                kommun.name, kommun.strata, layout)  # fmt: skip
            if id(layout) not in signatures:  # the layout objects live as long as entries
                signatures[id(layout)] = layout_signature(codebook, layout)
            group = (signatures[id(layout)], raw.names, columns)
            # coded now, so that the file's text is freed before the next file is read
            groups.setdefault(group, (codebook, layout, kommun, []))[3].append(
                (e, position, key, encode_cells(raw), source)
            )
        if read is not None:
            read(entry)
    for codebook, layout, kommun, members in groups.values():
        applied = apply_layout_files(
            code_cells([raw for _, _, _, raw, _ in members]),
            [source for *_, source in members],
            codebook=codebook, layout=layout, kommun=kommun.name, strata=kommun.strata,
        )  # fmt: skip
        if cache is not None:
            for (_, _, key, _, _), (responses, ledger) in zip(
                members, applied.per_file(), strict=True
            ):
                pending.append((key, {"responses": responses, "ledger": ledger}))
        kept_end, ledger_end = np.cumsum(applied.kept), np.cumsum(applied.excluded)
        for i, (e, position, *_) in enumerate(members):
            k0 = int(kept_end[i - 1]) if i else 0
            l0 = int(ledger_end[i - 1]) if i else 0
            pieces.append((e, position, len(blocks), k0, int(kept_end[i]), l0, int(ledger_end[i])))
        blocks.append((applied.responses, applied.ledger))
    # every file's rows in place with one take, not a slice and a concatenation per file
    pieces.sort(key=lambda piece: piece[:2])
    row_start = np.cumsum([0] + [len(r) for r, _ in blocks])
    line_start = np.cumsum([0] + [len(led) for _, led in blocks])
    take_rows = [
        np.arange(row_start[b] + k0, row_start[b] + k1) for _, _, b, k0, k1, _, _ in pieces
    ]
    take_lines = [
        np.arange(line_start[b] + l0, line_start[b] + l1) for *_, b, _, _, l0, l1 in pieces
    ]
    # a new question one layout lacks is added to it as missing (align_questions)
    responses = _taken(align_questions([r for r, _ in blocks]), take_rows)
    lines = [led for _, led in blocks if len(led)]
    ledger = _taken(lines, take_lines) if lines else blocks[0][1]  # empty
    rows = np.zeros(len(entries), dtype=np.int64)
    np.add.at(rows, [p[0] for p in pieces], [len(t) for t in take_rows])
    return _Stacked(responses, ledger, rows), pending


def _taken(frames: list[pd.DataFrame], index: list[np.ndarray]) -> pd.DataFrame:
    """``frames`` stacked, then the rows ``index`` (positions in the stack) in that order."""
    at = np.concatenate(index) if index else np.zeros(0, dtype=np.int64)
    stacked = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(at) == len(stacked) and (at == np.arange(len(at))).all():
        return stacked.reset_index(drop=True)
    return stacked.take(at).reset_index(drop=True)


def _survey_file_by_file(kommun: KommunConfig, codebook, files: dict[int, Path], codebook_digest):
    """Every file read and applied on its own, in the order of the years; every file's
    problems collected and raised together (issue 12)."""
    parts, ledgers = [], []
    log = ProblemLog()  # every file's problems in one run (issue 12)
    cache = _CACHE.get()
    pending = []  # cached only once the whole kommun has been read without a problem
    for year, path in files.items():
        try:
            layout = layout_for_file(codebook, year, path)
            key, ledger_file = _cache_key(kommun, year, path, codebook_digest)
            if key is not None:
                hit = cache.get("enkat", key)
                if hit is not None:
                    parts.append(hit["responses"])
                    ledgers.append(hit["ledger"])
                    continue
            try:
                sheet, cells, first_row = read_raw_file(path, layout)
            except DataError:
                _header_hint(path, layout, year, (), layout.file.sheet, log)
                raise
            _header_hint(path, layout, year, cells.columns, sheet, log)
            responses, ledger = apply_layout(
                cells,
                codebook=codebook,
                layout=layout,
                year=year,
                kommun=kommun.name,
                strata=kommun.strata,
                file=path,
                sheet=sheet,
                first_row=first_row,
                ledger_file=ledger_file,
            )
        except DataError as exc:
            log.add(exc)
            continue
        if cache is not None:
            pending.append((key, {"responses": responses, "ledger": ledger}))
        parts.append(responses)
        ledgers.append(ledger)
    log.check()
    return parts, ledgers, pending


def _header_hint(path: Path, layout, year: int, headers, sheet, log: ProblemLog) -> None:
    """When most of the layout's headers are missing: say which row holds them."""
    error = header_row_hint(path, layout, year, headers, sheet)
    if error is not None:
        log.add(error)
