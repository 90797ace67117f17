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

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._io import atomic_replace_files
from .config import DataFolder, KommunConfig
from .survey import BREAK_COLUMNS, LEDGER_COLUMNS, STRATA_COLUMNS, ingest_kommun

__all__ = [
    "STAGES",
    "Stage",
    "build",
    "compute_tables",
    "survey_stage",
    "validate",
    "write_parquet",
]

#: A stage: (data folder, its kommuner) → processed table name (without ``.parquet``) → table.
Stage = Callable[[DataFolder, list[KommunConfig]], dict[str, pd.DataFrame]]


def survey_stage(folder: DataFolder, kommuner: list[KommunConfig]) -> dict[str, pd.DataFrame]:
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


#: The stages of ``build`` in order. The lead appends estimates, wastewater, commitments.
STAGES: list[Stage] = [survey_stage]


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
        for name, table in stage(folder, kommuner).items():
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
