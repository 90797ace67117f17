"""The underlag table: ``build`` computes it for every survey year, the report only reads it.

- ``processed/underlag.parquet`` (+ csv) holds, per kommun and survey year, exactly what
  :func:`commitments.followup.underlag` gives for that one year (the function the
  commitment tests check line by line);
- the report's underlag page, the sheet "Underlag nästa år" and the draft read that table
  and call no computation (every computing function is replaced by one that fails);
- every kommun with a register gets its page, also when the draft cannot be made.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from trygghet_analys.commitments import followup as cm
from trygghet_analys.report import charts, render
from trygghet_analys.schemas import table_columns, validate_table
from trygghet_analys.stats import findings as stats_findings
from trygghet_analys.survey.indicators import load_indicators
from trygghet_analys.vocabulary import load_ntu


@pytest.fixture(scope="module")
def processed(built_data_dir):
    read = lambda name: pd.read_parquet(built_data_dir / "processed" / f"{name}.parquet")  # noqa: E731
    return {n: read(n) for n in ("underlag", "survey_estimates", "survey_changes", "findings")}


def test_build_writes_the_underlag_as_parquet_and_swedish_csv(built_data_dir, processed):
    under = processed["underlag"]
    validate_table("underlag", under)
    assert list(under.columns) == table_columns("underlag")
    csv = pd.read_csv(
        built_data_dir / "processed" / "underlag.csv", sep=";", decimal=",", encoding="utf-8-sig"
    )
    assert len(csv) == len(under) and list(csv.columns) == list(under.columns)
    # a year's block is ranked on its own: evidence_rank 1..n within every year
    for _, g in under.groupby("year"):
        assert sorted(g["evidence_rank"]) == list(range(1, len(g) + 1))


@pytest.mark.parametrize("year", [2010, 2019, 2025])
def test_each_year_is_the_one_year_underlag(processed, year):
    """Reference: ``underlag(..., year=Y)`` called on its own for that year."""
    est, chg, fnd = (
        processed["survey_estimates"],
        processed["survey_changes"],
        processed["findings"],
    )
    kommun = str(est["kommun"].iloc[0])
    want = cm.underlag(
        est.assign(group=est["group"].astype(str)),
        chg[chg["year_to"] <= year],
        pd.DataFrame(),
        indicators=load_indicators(),
        ntu=load_ntu(),
        kommun=kommun,
        year=year,
        findings=fnd[fnd["kommun"] == kommun],
    )
    got = processed["underlag"]
    got = got[got["year"] == year].reset_index(drop=True)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.fixture
def no_computing(monkeypatch):
    """Every function that computes an underlag or findings fails when called."""

    def refuse(*args, **kwargs):
        raise AssertionError("the report computed what build should have written")

    for name in ("underlag", "underlag_by_year", "_underlag_years", "_underlag_findings"):
        monkeypatch.setattr(cm, name, refuse)
    monkeypatch.setattr(stats_findings, "build_findings", refuse)


def test_report_reads_the_underlag_and_computes_nothing(
    built_data_dir, processed, tmp_path, no_computing
):
    tables = charts.load_tables(built_data_dir)
    for year in (2019, 2025):
        want = processed["underlag"]
        want = want[want["year"] == year].reset_index(drop=True)
        pd.testing.assert_frame_equal(render.underlag_table(tables, year), want)
    render.write_commitment_outputs(tables, 2025, tmp_path)
    page = (tmp_path / "underlag_medborgarlofte.html").read_text(encoding="utf-8")
    top = want[want["evidence_rank"] <= 10]
    assert len(top) and all(s in page for s in top["sentence"])
    assert (tmp_path / "medborgarlofte_2026_utkast.yml").is_file()
    sheets = render.table_sheets(tables, 2025, [])
    assert len(sheets["Underlag nästa år"]) == len(want)


def _tables(built_data_dir, **change) -> charts.Tables:
    return dataclasses.replace(charts.load_tables(built_data_dir), **change)


def test_a_kommun_with_a_register_gets_its_page_even_without_underlag(built_data_dir, tmp_path):
    empty = pd.DataFrame()
    tables = _tables(built_data_dir, underlag=empty, followup=empty)
    assert tables.registers
    render.write_commitment_outputs(tables, 2025, tmp_path)
    page = (tmp_path / "underlag_medborgarlofte.html").read_text(encoding="utf-8")
    assert "Inga indikatorer har försämrats" in page
    assert not (tmp_path / "medborgarlofte_2026_utkast.yml").exists()  # nothing to propose


def test_no_register_no_followup_no_underlag_no_page(built_data_dir, tmp_path):
    empty = pd.DataFrame()
    tables = _tables(built_data_dir, underlag=empty, followup=empty, registers=[])
    render.write_commitment_outputs(tables, 2025, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_page_stays_when_the_draft_cannot_be_made(built_data_dir, tmp_path, capsys):
    """2010 has an underlag but no register in force (the first is 2022): no draft, a
    Swedish line on stderr, and the page is still written."""
    tables = charts.load_tables(built_data_dir)
    assert len(render.underlag_table(tables, 2010))
    assert min(r.year for r in tables.registers) > 2010
    render.write_commitment_outputs(tables, 2010, tmp_path)
    assert (tmp_path / "underlag_medborgarlofte.html").is_file()
    assert not (tmp_path / "medborgarlofte_2011_utkast.yml").exists()
    assert "Utkastet till nästa års medborgarlöfte kunde inte tas fram" in capsys.readouterr().err
