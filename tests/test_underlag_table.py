"""The underlag table: ``build`` computes it for every survey year, the report only reads it.

- ``processed/underlag.parquet`` (+ csv) holds, per kommun and survey year, exactly what
  :func:`commitments.followup.underlag` gives for that one year (the function the
  commitment tests check line by line);
- the report's underlag page, the sheet "Underlag nästa år" and the draft read that table
  and call no computation (every computing function is replaced by one that fails);
- every kommun with a register gets its page, also when the draft cannot be made;
- next year's draft register is made by ``build`` (``processed/commitment_draft.parquet``)
  and only turned into YAML by the report, which reads no register file.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from trygghet_analys import pipeline
from trygghet_analys.commitments import followup as cm
from trygghet_analys.files import registers as registers_io
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
def no_computing(monkeypatch, no_raw_reading):
    """Every function that computes an underlag or findings fails when called, and so does
    reading a raw file (``no_raw_reading``: the kommun's own indicators, any file under
    ``raw/`` but ``kommun.yml``)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the report computed what build should have written")

    for name in (
        "underlag",
        "underlag_by_year",
        "underlag_of",
        "_underlag_years",
        "_underlag_batch",
        "_underlag_findings",
    ):
        monkeypatch.setattr(cm, name, refuse)
    for name in ("draft_register", "draft_table", "registers_table", "follow_up", "follow_up_of"):
        monkeypatch.setattr(cm, name, refuse)
    monkeypatch.setattr(stats_findings, "build_findings", refuse)
    # and no register is read at report time: the registers are in processed/
    for name in ("load_registers", "load_register"):
        monkeypatch.setattr(registers_io, name, refuse)


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
    # without an underlag, build makes no draft (test_the_draft_table_*)
    tables = _tables(built_data_dir, underlag=empty, followup=empty, draft=empty)
    assert len(tables.commitment_registers)
    render.write_commitment_outputs(tables, 2025, tmp_path)
    page = (tmp_path / "underlag_medborgarlofte.html").read_text(encoding="utf-8")
    assert "Inga indikatorer har försämrats" in page
    assert not (tmp_path / "medborgarlofte_2026_utkast.yml").exists()  # nothing to propose


def test_no_register_no_followup_no_underlag_no_page(built_data_dir, tmp_path):
    empty = pd.DataFrame()
    tables = _tables(
        built_data_dir, underlag=empty, followup=empty, commitment_registers=empty, draft=empty
    )
    render.write_commitment_outputs(tables, 2025, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_page_stays_when_the_draft_cannot_be_made(built_data_dir, tmp_path, capsys):
    """2010 has an underlag but no register in force (the first is 2022): no draft, a
    Swedish line on stderr with the reason build recorded, and the page is still written."""
    tables = charts.load_tables(built_data_dir)
    assert len(render.underlag_table(tables, 2010))
    assert tables.commitment_registers["year"].min() > 2010
    reason = tables.draft.loc[tables.draft["year"] == 2010, "reason"]
    assert len(reason) == 1 and "ett medborgarlöfte för år 2010 eller tidigare" in reason.iloc[0]
    render.write_commitment_outputs(tables, 2010, tmp_path)
    assert (tmp_path / "underlag_medborgarlofte.html").is_file()
    assert not (tmp_path / "medborgarlofte_2011_utkast.yml").exists()
    err = capsys.readouterr().err
    assert f"Utkastet till nästa års medborgarlöfte kunde inte tas fram: {reason.iloc[0]}" in err


# --- next year's draft register: made by build, written as YAML by the report ----------------
@pytest.fixture(scope="module")
def reference_drafts(built_data_dir) -> dict[int, dict]:
    """Reference: ``draft_register`` called on its own per year, on the registers read from
    ``raw/`` and the processed underlag and follow-up, as the report did before."""
    kommun = charts.load_tables(built_data_dir).kommun
    regs = registers_io.load_registers(kommun.commitments_dir)
    read = lambda n: pd.read_parquet(built_data_dir / "processed" / f"{n}.parquet")  # noqa: E731
    under, followup = read("underlag"), read("commitment_followup")
    return {
        year: cm.draft_register(
            regs,
            under[under["year"] == year].reset_index(drop=True),
            year=year,
            kommun=kommun.name,
            followup=followup,
        )
        for year in (2022, 2025)
    }


def test_the_draft_table_holds_every_underlag_year(built_data_dir):
    drafts = pd.read_parquet(built_data_dir / "processed" / "commitment_draft.parquet")
    validate_table("commitment_draft", drafts)
    under = pd.read_parquet(built_data_dir / "processed" / "underlag.parquet")
    assert set(drafts["year"]) == set(under["year"])
    registers = pd.read_parquet(built_data_dir / "processed" / "commitment_registers.parquet")
    assert list(registers["year"]) == [2022, 2023, 2024, 2025]
    assert not registers["draft"].any()
    # a year before the first register: one row, the reason; from 2022 on: a draft
    made = drafts[drafts["reason"].isna()]
    assert sorted(set(made["year"])) == [2022, 2023, 2024, 2025]
    assert drafts[drafts["year"] < 2022].groupby("year").size().eq(1).all()


@pytest.mark.parametrize("year", [2022, 2025])
def test_the_draft_from_the_table_is_the_draft_register(built_data_dir, reference_drafts, year):
    """The table's rows turned back into a register (``draft_document``) are exactly what
    ``draft_register`` gives for that year: the same dict and the same YAML bytes."""
    want = reference_drafts[year]
    drafts = pd.read_parquet(built_data_dir / "processed" / "commitment_draft.parquet")
    got = cm.draft_document(drafts[drafts["year"] == year])
    assert got == want
    assert registers_io.dump_register(got) == registers_io.dump_register(want)
    assert any(c.get("forslag") is True for c in got["commitments"])  # new proposals
    assert any(isinstance(c.get("forslag"), str) for c in got["commitments"])  # behåll/...


def test_the_report_writes_the_draft_without_reading_a_register(
    built_data_dir, reference_drafts, tmp_path, no_computing
):
    tables = charts.load_tables(built_data_dir)
    assert tables.periods == [(2022, 2025, "Medborgarlöfte 2022–2025")]
    assert tables.base_year == 2021
    render.write_commitment_outputs(tables, 2025, tmp_path)
    text = (tmp_path / "medborgarlofte_2026_utkast.yml").read_text(encoding="utf-8")
    assert text == registers_io.dump_register(reference_drafts[2025])


def test_draft_rows_of_a_register_without_commitments_and_back():
    reg = cm.Register(
        kommun="Exempelby",
        year=2024,
        signed=None,
        signatories=(cm.Signatory("A", "B"),),
        focus_areas=("Trygghet",),
        commitments=(),
        example=True,
    )
    under = pd.DataFrame(columns=table_columns("underlag")).astype({"year": "int64"})
    under = pd.concat([under, pd.DataFrame([{"kommun": "Exempelby", "year": 2024,
                                              "significant": False}])])  # fmt: skip
    table = cm.draft_table([reg], under, kommun="Exempelby")
    validate_table("commitment_draft", table)
    assert len(table) == 1 and table["commitment_id"].isna().all()
    doc = cm.draft_document(table)
    assert doc == cm.draft_register([reg], under, year=2024, kommun="Exempelby")
    assert doc["exempel"] is True and doc["commitments"] == []


def test_a_draft_that_cannot_be_made_is_said_by_build_and_by_the_report(
    data_copy, tmp_path, capsys
):
    """Only a register for 2026 (none in force in 2025, the latest survey year): build says
    so on stderr (also with --tyst) and exits 0; the reason is in ``commitment_draft``; the
    report for 2025 says the same reason and still writes the underlag page."""
    from trygghet_analys import cli

    folder = data_copy / "raw" / "medborgarloften"
    for year in (2022, 2023, 2024):
        (folder / f"{year}.yml").unlink()
    text = (folder / "2025.yml").read_text(encoding="utf-8")
    assert text.count("year: 2025\n") == 1
    (folder / "2026.yml").write_text(text.replace("year: 2025\n", "year: 2026\n"), "utf-8")
    (folder / "2025.yml").unlink()
    assert cli.main(["build", "--data", str(data_copy), "--tyst"]) == 0
    err = capsys.readouterr().err
    reason = "ett medborgarlöfte för år 2025 eller tidigare för en kommun (fanns: inget)"
    line = "Utkastet till medborgarlöftet 2026 för Älmhult kunde inte tas fram: "
    assert line in err and reason in err and err.count("\n") == 1  # not once per past year
    drafts = pd.read_parquet(data_copy / "processed" / "commitment_draft.parquet")
    assert drafts["reason"].notna().all() and drafts["commitment_id"].isna().all()

    tables = charts.load_tables(data_copy)
    assert tables.periods == [(2026, 2026, "Medborgarlöfte 2026")]
    render.write_commitment_outputs(tables, 2025, tmp_path)
    assert (tmp_path / "underlag_medborgarlofte.html").is_file()
    assert not (tmp_path / "medborgarlofte_2026_utkast.yml").exists()
    assert reason in capsys.readouterr().err


def test_draft_notices_say_the_latest_year_of_each_kommun_only():
    drafts = pd.DataFrame(
        {
            "kommun": ["A", "A", "B", "B"],
            "year": [2024, 2025, 2024, 2025],
            "reason": ["gammalt", None, "gammalt", "saknas"],
        }
    )
    assert pipeline.draft_notices({"commitment_draft": drafts}) == [
        "Utkastet till medborgarlöftet 2026 för B kunde inte tas fram: saknas"
    ]
    assert pipeline.draft_notices({}) == []


@pytest.mark.parametrize(
    ("unit", "change", "significant", "text"),
    [
        ("andel", -0.01, False, "−1 procentenhet (inte säkerställd)"),
        ("andel", 0.012, True, "+1 procentenhet (statistiskt säkerställd)"),
        ("andel", 0.02, False, "+2 procentenheter (inte säkerställd)"),
        ("andel", 0.004, False, "0 procentenheter (inte säkerställd)"),
        ("antal", 2.0, float("nan"), "+2"),
        ("timmar", -5.0, float("nan"), "−5 timmar"),
    ],
)
def test_underlag_changes_read_as_swedish(unit, change, significant, text):
    from types import SimpleNamespace

    from trygghet_analys.report import underlag

    r = SimpleNamespace(unit=unit, change_base=change, significant_base=significant)
    assert underlag._followup_change(r) == text
    assert underlag._followup_value(2.0, "antal", 2025) == "2 (2025)"
