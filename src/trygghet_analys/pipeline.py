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

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .commitments import followup as _commitments
from .config import DataFolder, KommunConfig
from .files._io import atomic_replace_files
from .files.export import neutralise
from .stats.disclosure import suppress_complements
from .stats.estimation import estimate_indicators, response_rates
from .stats.findings import FINDINGS_COLUMNS, build_findings
from .stats.trends import compare_estimates, trend_tests
from .survey.indicators import load_indicators
from .survey.ingest import BREAK_COLUMNS, LEDGER_COLUMNS, STRATA_COLUMNS, ingest_kommun
from .wastewater import euda as _euda
from .wastewater.loads import build_wastewater

__all__ = [
    "STAGES",
    "Stage",
    "build",
    "commitments_stage",
    "compute_tables",
    "findings_stage",
    "statistics_stage",
    "survey_stage",
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

#: Tables also written as ``;``-separated CSV with decimal comma, for Swedish Excel.
CSV_TABLES = ("survey_estimates", "findings")


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
    parts = [ingest_kommun(k) for k in kommuner]
    responses = pd.concat([p.responses for p in parts], ignore_index=True)
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


def statistics_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Estimates, changes, trends and response rates for every indicator.

    Each kommun's ``min_n`` (``kommun.yml``) drives disclosure control (primary, then
    secondary suppression: :func:`trygghet_analys.disclosure.suppress_complements`); its ``basar``
    (base year; default the year before its first medborgarlöfte register) adds changes
    against that year besides the year-on-year ones.
    """
    responses, strata = tables["survey_responses"], tables["survey_strata"]
    breaks = tables["survey_breaks"]
    indicators = load_indicators()
    estimates = suppress_complements(
        estimate_indicators(
            responses, strata, indicators=indicators, min_n={k.name: k.min_n for k in kommuner}
        )
    )
    changes = []
    for k in kommuner:
        own = estimates[estimates["kommun"] == k.name]
        base = base_year(k)
        changes.append(
            compare_estimates(
                own,
                breaks=breaks[breaks["kommun"] == k.name],
                base_year=None if base is None else int(base),
                indicators=indicators,
            )
        )
    return {
        "survey_estimates": estimates,
        "survey_changes": pd.concat(changes, ignore_index=True),
        "survey_trends": trend_tests(estimates, breaks=breaks, indicators=indicators),
        "survey_response_rates": response_rates(strata),
    }


def base_year(kommun: KommunConfig) -> int | None:
    """The kommun's base year: ``basar`` in ``kommun.yml``, else the year before its
    first medborgarlöfte register (the year before the current commitment period)."""
    base = kommun.extra.get("basar", _year_before_first_commitment(kommun))
    return None if base is None else int(base)


def _year_before_first_commitment(kommun: KommunConfig) -> int | None:
    """Default base year for changes: the survey year before the first medborgarlöfte."""
    years = [int(p.stem) for p in kommun.commitments_dir.glob("*.yml") if p.stem.isdigit()]
    return min(years) - 1 if years else None


def wastewater_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Wastewater loads, campaign means, trends and back-calculation for every kommun,
    plus the comparison with EUDA's cities when ``external/`` holds the EUDA file."""
    parts = [
        build_wastewater(k.raw, k.name, loq_policy=k.extra.get("loq_policy", "zero"))
        for k in kommuner
    ]
    out = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    out["wastewater_euda"] = _euda_comparison(folder, kommuner, out["wastewater_loads"])
    return out


def _euda_comparison(
    folder: DataFolder, kommuner: list[KommunConfig], loads: pd.DataFrame
) -> pd.DataFrame:
    """Each kommun's campaigns, recomputed under EUDA's rules, beside EUDA's cities
    (empty when no EUDA file is present)."""
    columns = ["kommun", *_euda.COMPARISON_COLUMNS]
    path = _euda.find_euda_file(folder.root)
    if path is None or loads.empty:
        return _euda._empty(columns)
    reference = _euda.read_euda(path)
    parts = []
    for k in kommuner:
        own = loads[loads["kommun"] == k.name]
        if not own.empty:
            cities = _euda.comparison_cities(k.extra, file=k.raw / "kommun.yml")
            part = _euda.compare_with_euda(_euda.euda_rule_campaigns(own), reference, cities=cities)
            parts.append(part.assign(kommun=k.name)[columns])
    return pd.concat(parts, ignore_index=True) if parts else _euda._empty(columns)


def commitments_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Medborgarlöfte registers and their follow-up in the latest survey year."""
    indicators = load_indicators()
    known = _commitments.known_indicator_ids(indicators["id"])
    followups, links = [], []
    for k in kommuner:
        if not k.commitments_dir.is_dir():
            continue
        registers = _commitments.load_registers(k.commitments_dir, known_indicators=known)
        if not registers:
            continue
        links.append(_commitments.registers_frame(registers))
        activity_file = k.commitments_dir / "aktiviteter.csv"
        activities = (
            _commitments.load_activities(activity_file)
            if activity_file.exists()
            else pd.DataFrame(columns=["period", "year", "measure", "value", "unit"])
        )
        years = _own(tables, "survey_estimates", k.name)["year"]
        if years.empty:
            continue
        followups.append(
            _commitments.follow_up(
                registers,
                findings=_own(tables, "findings", k.name),
                activities=activities,
                indicators=indicators,
                base_year=base_year(k),
                year=int(years.max()),
            )
        )
    schemas = _commitments.commitment_schemas()
    out = {}
    for name, frames in (("commitment_followup", followups), ("commitment_indicators", links)):
        if frames:
            out[name] = schemas[name].validate(pd.concat(frames, ignore_index=True))
    return out


def _own(tables: Mapping[str, pd.DataFrame], name: str, kommun: str) -> pd.DataFrame:
    table = tables[name]
    return table[table["kommun"] == kommun].reset_index(drop=True)


def findings_stage(
    folder: DataFolder, kommuner: list[KommunConfig], tables: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The findings table (:func:`trygghet_analys.stats.findings.build_findings`).

    Every comparison the report, follow-up, underlag and draft speak of, tested once,
    with Benjamini–Hochberg q-values per kommun and report year.
    """
    indicators = load_indicators()
    measures = _commitments.load_activity_measures().set_index("id")["label"].to_dict()
    parts = []
    for k in kommuner:
        yearly, targets = _activities_of(k)
        parts.append(
            build_findings(
                kommun=k.name,
                estimates=tables["survey_estimates"],
                changes=tables["survey_changes"],
                indicators=indicators,
                breaks=tables["survey_breaks"],
                base_year=base_year(k),
                wastewater_campaigns=tables.get("wastewater_campaigns"),
                activities=yearly,
                activity_targets=targets,
                activity_labels=measures,
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return {"findings": pd.DataFrame({c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS})}
    return {"findings": pd.concat(parts, ignore_index=True)}


def _activities_of(kommun: KommunConfig) -> tuple[pd.DataFrame | None, dict[str, float]]:
    """Yearly activity counts and the current register's targets of one kommun."""
    if not kommun.commitments_dir.is_dir():
        return None, {}
    known = _commitments.known_indicator_ids(load_indicators()["id"])
    registers = _commitments.load_registers(kommun.commitments_dir, known_indicators=known)
    targets: dict[str, float] = {}
    if registers:
        latest = max(registers, key=lambda r: r.year)
        for c in latest.commitments:
            for a in c.activities:
                if a.target is not None:
                    targets[a.measure] = float(a.target)
    path = kommun.commitments_dir / "aktiviteter.csv"
    if not path.exists():
        return None, targets
    return _commitments.yearly_activities(_commitments.load_activities(path)), targets


#: The stages of ``build`` in order; each sees the tables of the ones before it.
STAGES: list[Stage] = [
    survey_stage,
    statistics_stage,
    wastewater_stage,
    findings_stage,
    commitments_stage,
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
    for stage in stages if stages is not None else STAGES:
        for name, table in stage(folder, kommuner, tables).items():
            if name in tables:
                raise ValueError(f"two stages produce the table {name!r}")
            tables[name] = table
    return tables


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a table as parquet with the same bytes for the same content.

    Notes
    -----
    The pandas index is dropped and no creation metadata differs between runs
    (pyarrow writes no timestamps); compression is zstd, statistics on.
    """
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    pq.write_table(arrow, path, compression="zstd", write_statistics=True)


def write_swedish_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table for Swedish Excel: ``;`` separated, decimal comma, UTF-8 with BOM.

    Text that a spreadsheet would read as a formula is neutralised
    (:func:`trygghet_analys._export.neutralise`).
    """
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\n")


def build(data: str | Path | None = None) -> dict[str, Path]:
    """Build ``processed/`` from ``raw/`` for every kommun of a data folder.

    Parameters
    ----------
    data
        The data folder (``None``: the repository's ``data/``).

    Returns
    -------
    dict
        Table name → the parquet file written.

    Raises
    ------
    DataError, ConfigError
        A bad input; ``processed/`` is then unchanged (created if missing).
    """
    folder = DataFolder.at(data)
    tables = compute_tables(folder.root)
    writers = {
        f"{name}.parquet": (lambda path, t=table: write_parquet(t, path))
        for name, table in tables.items()
    }
    for name in CSV_TABLES:
        if name in tables:
            writers[f"{name}.csv"] = lambda path, t=tables[name]: write_swedish_csv(t, path)
    written = atomic_replace_files(folder.processed, writers)
    return {p.stem: p for p in written}


def validate(data: str | Path | None = None) -> None:
    """Run every check of :func:`build` without writing anything.

    Raises
    ------
    DataError, ConfigError
        The first problem found.
    """
    compute_tables(data)
