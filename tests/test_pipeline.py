"""build / validate through the command line: atomic, deterministic, one Swedish line."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from trygghet_analys import cli
from trygghet_analys.errors import DataError
from trygghet_analys.pipeline import compute_tables, survey_stage
from trygghet_analys.survey.ingest import LEDGER_COLUMNS, RESPONSE_COLUMNS, STRATA_COLUMNS

TABLES = ("survey_responses", "survey_strata", "survey_breaks", "ledger")


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_build_writes_the_tables(built_data_dir):
    processed = built_data_dir / "processed"
    assert {f"{t}.parquet" for t in TABLES} <= set(_snapshot(processed))
    responses = pd.read_parquet(processed / "survey_responses.parquet")
    assert tuple(responses.columns) == RESPONSE_COLUMNS
    assert responses["otrygg_ute_sent"].cat.ordered
    strata = pd.read_parquet(processed / "survey_strata.parquet")
    assert tuple(strata.columns) == STRATA_COLUMNS
    ledger = pd.read_parquet(processed / "ledger.parquet")
    assert tuple(ledger.columns) == LEDGER_COLUMNS and len(ledger) > 0
    assert not any(p.name.startswith(".tmp") for p in processed.iterdir())


def test_build_is_byte_deterministic(built_data_dir, data_copy):
    assert cli.main(["build", "--data", str(data_copy)]) == 0
    a = _snapshot(built_data_dir / "processed")
    b = _snapshot(data_copy / "processed")
    assert {k: a[k] for k in b} == b


def test_build_creates_processed_when_missing(data_copy):
    shutil.rmtree(data_copy / "processed")
    assert cli.main(["build", "--data", str(data_copy)]) == 0
    assert (data_copy / "processed/survey_responses.parquet").is_file()


def test_validate_writes_nothing(data_copy):
    before = _snapshot(data_copy / "processed")
    assert cli.main(["validate", "--data", str(data_copy)]) == 0
    assert _snapshot(data_copy / "processed") == before


def _break(data):
    path = data / "raw/trygghetsmatning/2023.csv"
    text = path.read_bytes().decode("utf-8-sig")
    path.write_bytes(text.replace("fritext", "kommentar_ny", 1).encode("utf-8-sig"))


@pytest.mark.parametrize("command", ["build", "validate"])
def test_bad_file_exit_2_one_line_processed_unchanged(built_data_dir, tmp_path, capsys, command):
    data_copy = tmp_path / "data"
    shutil.copytree(built_data_dir, data_copy)
    before = _snapshot(data_copy / "processed")
    _break(data_copy)
    capsys.readouterr()
    assert cli.main([command, "--data", str(data_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fel: Fel i data (fil ")
    assert "2023.csv" in err and "kommentar_ny" in err and "Traceback" not in err
    assert _snapshot(data_copy / "processed") == before


def test_debug_shows_the_traceback(data_copy):
    _break(data_copy)
    with pytest.raises(DataError, match="kommentar_ny"):
        cli.main(["--debug", "build", "--data", str(data_copy)])


def test_missing_raw_folder_is_a_config_error(tmp_path, capsys):
    assert cli.main(["build", "--data", str(tmp_path)]) == 2
    assert "saknar undermappen 'raw/'" in capsys.readouterr().err


def test_several_kommuner_are_concatenated(region_data_dir):
    tables = compute_tables(region_data_dir, stages=[survey_stage])
    assert set(tables) == set(TABLES)
    for name in TABLES:
        assert tables[name]["kommun"].nunique() == 3, name
    counts = tables["survey_responses"].groupby("kommun")["year"].nunique()
    assert (counts == 21).all()


def _varied_table(rows: int) -> pd.DataFrame:
    """Every kind of column a processed table holds: texts (non-ASCII, missing), years,
    counts, nullable integers, floats (NaN, -0.0, tiny and huge), bools, an ordered
    categorical."""
    import numpy as np

    rng = np.random.default_rng(16)
    floats = rng.normal(size=rows)
    floats[::5] = np.nan
    if rows > 1:
        floats[1] = -0.0
    if rows > 3:
        floats[3] = 1e-300
    return pd.DataFrame(
        {
            "kommun": pd.Series(["Åre", "Öckerö", None, "Malmö"] * rows, dtype="str")[:rows],
            "year": np.arange(rows, dtype="int64") % 7 + 2005,
            "group": pd.Series(["16–24", "Går inte ut av oro"] * rows, dtype="str")[:rows],
            "estimate": floats,
            "se": np.round(np.abs(floats), 2),
            "n": rng.integers(0, 500, size=rows),
            "compare_year": pd.array([2010, None] * rows, dtype="Int64")[:rows],
            "significant": (np.arange(rows) % 3 == 0),
            "sex": pd.Categorical(
                (["Kvinna", "Man", None] * rows)[:rows], categories=["Kvinna", "Man"], ordered=True
            ),
        }
    )


@pytest.mark.parametrize("rows", [0, 1, 7, 5000])
def test_parquet_without_float_dictionaries_reads_back_the_same_values(tmp_path, rows):
    """``write_parquet`` leaves the float columns out of the dictionary encoding: the
    table read back equals the table and the same table written the default way
    (dictionary for every column) read back; only the floats lost their dictionary."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trygghet_analys.pipeline import write_parquet

    table = _varied_table(rows)
    write_parquet(table, tmp_path / "t.parquet")
    arrow = pa.Table.from_pandas(table, preserve_index=False).combine_chunks()
    pq.write_table(arrow, tmp_path / "default.parquet", compression="zstd")
    got = pd.read_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "default.parquet"))
    if rows:  # an empty categorical comes back without its categories either way
        pd.testing.assert_frame_equal(got, table)
    assert pq.read_table(tmp_path / "t.parquet").equals(pq.read_table(tmp_path / "default.parquet"))
    if rows:
        meta = pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
        dictionary = {
            meta.column(i).path_in_schema: meta.column(i).dictionary_page_offset is not None
            for i in range(meta.num_columns)
        }
        assert not dictionary["estimate"] and not dictionary["se"]
        assert dictionary["kommun"] and dictionary["year"] and dictionary["sex"]
    # the same bytes every time
    write_parquet(table, tmp_path / "again.parquet")
    assert (tmp_path / "again.parquet").read_bytes() == (tmp_path / "t.parquet").read_bytes()
