"""A kommun's own indicators: define_indicator in code, raw/indikatorer_egna.csv in the build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygghet_analys import (
    DataError,
    add_indicators,
    define_indicator,
    estimate_indicators,
    kommun_indicators,
    load_indicators,
    pipeline,
    read_own_indicators,
    suppress,
)
from trygghet_analys.config import DataFolder

FILE = (
    "id;label;kind;variables;categories;direction\n"
    "mycket_otrygg;Mycket otrygg ute sent;proportion;otrygg_ute_sent;Mycket otrygg;"
    "higher_is_worse\n"
    "oro_nagon;Orolig för inbrott eller våld;mean;oro_inbrott|oro_vald;"
    "Inte alls orolig=0|Inte särskilt orolig=0|Ganska orolig=1|Mycket orolig=1;"
    "higher_is_worse\n"
)


def _in_code() -> pd.DataFrame:
    return pd.concat(
        [
            define_indicator(
                "mycket_otrygg",
                variables="otrygg_ute_sent",
                categories=["Mycket otrygg"],
                label="Mycket otrygg ute sent",
            ),
            define_indicator(
                "oro_nagon",
                variables=["oro_inbrott", "oro_vald"],
                categories={
                    "Inte alls orolig": 0,
                    "Inte särskilt orolig": 0,
                    "Ganska orolig": 1,
                    "Mycket orolig": 1,
                },
                label="Orolig för inbrott eller våld",
            ),
        ],
        ignore_index=True,
    )


def test_file_and_code_give_the_same_definitions(tmp_path):
    path = tmp_path / "indikatorer_egna.csv"
    path.write_text(FILE, encoding="utf-8-sig")
    from_file = read_own_indicators(path)
    code = _in_code()
    cols = ["id", "label", "kind", "variables", "categories", "direction", "focus_area", "unit"]
    pd.testing.assert_frame_equal(from_file[cols], code[cols])


@pytest.fixture(scope="module")
def own_build(tmp_path_factory, sample_data_dir) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("own") / "data"
    shutil.copytree(sample_data_dir, root)
    (root / "raw" / "indikatorer_egna.csv").write_text(FILE, encoding="utf-8")
    pipeline.build(root)
    return root


def test_build_estimates_the_kommuns_file_like_a_notebook_definition(own_build):
    est = pd.read_parquet(own_build / "processed" / "survey_estimates.parquet")
    responses = pd.read_parquet(own_build / "processed" / "survey_responses.parquet")
    strata = pd.read_parquet(own_build / "processed" / "survey_strata.parquet")
    kommun = DataFolder.at(own_build).kommun()
    # what a notebook does: the definition in code, then the build's disclosure rules
    adhoc = suppress(
        estimate_indicators(responses, strata, indicators=_in_code(), min_n=kommun.min_n),
        min_n=kommun.min_n,
    )
    built = est[est["indicator"].isin(["mycket_otrygg", "oro_nagon"])].reset_index(drop=True)
    assert len(built) == len(adhoc) > 0
    pd.testing.assert_frame_equal(built, adhoc.reset_index(drop=True))
    # the own indicators come after the package's, every year, like the package's
    per_year = est[est["year"] == est["year"].max()]["indicator"].unique().tolist()
    assert per_year[-2:] == ["mycket_otrygg", "oro_nagon"]


def test_own_indicators_get_changes_and_trends(own_build):
    changes = pd.read_parquet(own_build / "processed" / "survey_changes.parquet")
    trends = pd.read_parquet(own_build / "processed" / "survey_trends.parquet")
    assert (changes["indicator"] == "mycket_otrygg").any()
    assert (trends["indicator"] == "oro_nagon").any()


def test_package_indicators_unchanged_by_the_kommuns_file(own_build, built_data_dir):
    with_own = pd.read_parquet(own_build / "processed" / "survey_estimates.parquet")
    without = pd.read_parquet(built_data_dir / "processed" / "survey_estimates.parquet")
    package = with_own[with_own["indicator"].isin(load_indicators()["id"])]
    pd.testing.assert_frame_equal(package.reset_index(drop=True), without)


def test_mycket_otrygg_is_below_the_ntu_share(own_build):
    # "Mycket otrygg" is one of the three answers of the NTU indicator: never larger
    est = pd.read_parquet(own_build / "processed" / "survey_estimates.parquet")
    total = est[(est["group_var"] == "total")].pivot(
        index="year", columns="indicator", values="estimate"
    )
    assert (total["mycket_otrygg"] <= total["otrygghet_ute_sent"] + 1e-12).all()
    assert (total["mycket_otrygg"] > 0).all()


def test_the_build_writes_the_definitions_the_report_reads(own_build):
    """``survey_indicators``: the package's indicators, then the kommun's file (``own``);
    ``load_tables`` gives back exactly what ``kommun_indicators`` reads from raw/."""
    from trygghet_analys.report import charts

    table = pd.read_parquet(own_build / "processed" / "survey_indicators.parquet")
    kommun = DataFolder.at(own_build).kommun()
    want = kommun_indicators(kommun)
    assert table["indicator"].tolist() == want["id"].tolist()
    assert table["own"].tolist() == [False] * len(load_indicators()) + [True, True]
    assert set(table["kommun"]) == {kommun.name}
    tables = charts.load_tables(own_build)
    pd.testing.assert_frame_equal(tables.indicators, want)
    assert tables.labels["oro_nagon"] == "Orolig för inbrott eller våld"


def test_the_report_labels_own_indicators_without_reading_raw(own_build, tmp_path, no_raw_reading):
    """The whole report of a kommun with its own indicators, every raw reader refused: the
    own indicators' labels come from processed/ (the estimates sheet of tabeller.xlsx)."""
    from trygghet_analys.report import charts, render

    assert charts.load_tables(own_build).labels["mycket_otrygg"] == "Mycket otrygg ute sent"
    out = render.run(data=own_build, out=tmp_path, build=False)
    sheet = pd.read_excel(out / "tabeller.xlsx", sheet_name="Skattningar", engine="calamine")
    labels = dict(zip(sheet.iloc[:, 2], sheet.iloc[:, 3], strict=True))
    assert labels["mycket_otrygg"] == "Mycket otrygg ute sent"
    assert labels["oro_nagon"] == "Orolig för inbrott eller våld"


@pytest.mark.parametrize("own", [True, False])
def test_the_summary_tells_an_own_indicator_under_its_focus_area(own_build, own):
    """A significant finding of an own indicator (``focus_area`` left out: Trygghet) is told
    under Trygghet, like the package's; an indicator the build does not know goes under
    Övrigt."""
    import dataclasses

    from trygghet_analys.report import charts, render

    tables = charts.load_tables(own_build)
    year = max(tables.years)
    found = tables.findings
    row = found[(found["indicator"] == "mycket_otrygg") & (found["year"] == year)].head(1)
    assert len(row) == 1
    row = row.assign(significant=True, q_value=0.0, sentence="Testmeningen om ett eget mått.")
    if not own:
        row = row.assign(indicator="okant_matt")
    tables = dataclasses.replace(tables, findings=pd.concat([found, row], ignore_index=True))
    lines = render.summary_findings(tables, year)
    told = [line for line in lines if "Testmeningen om ett eget mått." in line]
    assert len(told) == 1
    assert told[0].startswith("Trygghet: " if own else "Övrigt: ")


def test_kommun_indicators_adds_the_file(own_build):
    ids = kommun_indicators(DataFolder.at(own_build).kommun())["id"].tolist()
    assert ids == [*load_indicators()["id"], "mycket_otrygg", "oro_nagon"]


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (
            "otrygghet_ute_sent;X;proportion;otrygg_ute_sent;Mycket otrygg;higher_is_worse",
            "id",
            "nytt id",
        ),
        ("Mycket;X;proportion;otrygg_ute_sent;Mycket otrygg;higher_is_worse", "id", "små"),
        ("ny;X;proportion;otrygg_ute_sent;Mycket otrygg;lower", "direction", "higher_is"),
        ("ny;X;andel;otrygg_ute_sent;Mycket otrygg;higher_is_worse", "kind", "proportion"),
        ("ny;;proportion;otrygg_ute_sent;Mycket otrygg;higher_is_worse", "label", "ifylld"),
    ],
)
def test_bad_rows_name_file_row_column(tmp_path, row, column, words):
    path = tmp_path / "indikatorer_egna.csv"
    path.write_text("id;label;kind;variables;categories;direction\n" + row + "\n")
    with pytest.raises(DataError) as err:
        add_indicators(load_indicators(), read_own_indicators(path), file=path)
    text = str(err.value)
    assert "indikatorer_egna.csv" in text and "rad 2" in text and f"kolumn '{column}'" in text
    assert words in text and "\n" not in text


@pytest.mark.parametrize(
    ("variables", "categories", "column"),
    [("otrygg_ute_sent", "Väldigt otrygg", "categories"), ("finns_inte", "Ja", "variables")],
)
def test_build_refuses_unknown_answers_and_questions(data_copy, variables, categories, column):
    path = data_copy / "raw" / "indikatorer_egna.csv"
    path.write_text(
        "id;label;kind;variables;categories;direction\n"
        f"ny;Ny;proportion;{variables};{categories};higher_is_worse\n",
        encoding="utf-8",
    )
    before = sorted((data_copy / "processed").rglob("*"))
    with pytest.raises(DataError) as err:
        pipeline.build(data_copy)
    text = str(err.value)
    assert "indikatorer_egna.csv" in text and "rad 2" in text and f"kolumn '{column}'" in text
    # nothing written: no table, and no parsed file in processed/.cache either
    assert sorted((data_copy / "processed").rglob("*")) == before


def test_missing_required_column_is_named(tmp_path):
    path = tmp_path / "indikatorer_egna.csv"
    path.write_text("id,label,kind,variables,direction\nny,Ny,proportion,x,higher_is_worse\n")
    with pytest.raises(DataError, match="categories"):
        read_own_indicators(path)


def test_define_indicator_checks_like_the_file():
    with pytest.raises(DataError, match="direction"):
        define_indicator("ny", variables="x", categories=["Ja"], label="Ny", direction="upp")
    mean = define_indicator("ny", variables=["a", "b"], categories={"Ja": 1, "Nej": 0}, label="N")
    assert mean.loc[0, "kind"] == "mean" and mean.loc[0, "categories"] == "Ja=1|Nej=0"
    assert np.all(mean.columns == load_indicators().columns)


@pytest.mark.parametrize(("given", "expected_breaks"), [(True, 1), (False, 0)])
def test_trend_chart_reads_an_own_indicators_question_for_series_breaks(given, expected_breaks):
    from trygghet_analys import trend_chart

    est = pd.DataFrame(
        {
            "kommun": "K", "year": [2019, 2020, 2021], "indicator": "mycket_otrygg",
            "group_var": "total", "group": "Hela kommunen", "estimate": [0.02, 0.03, 0.025],
            "se": 0.005, "ci_low": 0.01, "ci_high": 0.04, "n": 500, "suppressed": False,
        }
    )  # fmt: skip
    breaks = pd.DataFrame(
        {"kommun": ["K"], "variable": ["otrygg_ute_sent"], "year": [2020], "reason": ["ny"]}
    )
    own = _in_code().iloc[[0]]
    ax = trend_chart(
        est, indicator="mycket_otrygg", breaks=breaks, indicators=own if given else None
    )
    lines = [a for a in ax.get_children() if a.get_gid() == "seriebrott"]
    assert len(lines) == expected_breaks
    assert ax.get_title() == ("Mycket otrygg ute sent" if given else "mycket_otrygg")


@pytest.mark.parametrize(
    ("indicator", "top", "label"),
    [("oro_nagon", 1.0, "Medelvärde (0–1)"), ("problemindex", 6.0, "Index (0–6)")],
)
def test_mean_axis_follows_the_indicators_own_scores(indicator, top, label):
    from trygghet_analys import trend_chart

    est = pd.DataFrame(
        {
            "kommun": "K", "year": [2020, 2021], "indicator": indicator,
            "group_var": "total", "group": "Hela kommunen", "estimate": [0.4, 0.5],
            "se": 0.05, "ci_low": 0.3, "ci_high": 0.6, "n": 500, "suppressed": False,
        }
    )  # fmt: skip
    ax = trend_chart(est, indicator=indicator, indicators=_in_code())
    assert ax.get_ylim() == (0.0, top)
    assert ax.get_ylabel() == label


def _hand_percent(fraction: float) -> str:
    """Swedish percent with one decimal, written out by hand: 0.022338 → "2,2 %"."""
    return f"{100 * fraction:.1f}".replace(".", ",") + "\u00a0%"


def _latest_total(tables, indicator: str) -> tuple[int, float]:
    est = tables.estimates
    rows = est[(est["indicator"] == indicator) & (est["group_var"] == "total")]
    row = rows.sort_values("year").iloc[-1]
    return int(row["year"]), float(row["estimate"])


def test_an_own_proportions_table_in_the_report_shows_percent(own_build):
    """The HTML table of a chart of an own proportion indicator (its trend, as the
    package's indicators are drawn) shows its estimate as a percent, like the package's –
    the kinds come from the definitions build estimated with, not the package's only."""
    from trygghet_analys.report import charts, render

    tables = charts.load_tables(own_build)
    for indicator in ("mycket_otrygg", "otrygghet_ute_sent"):
        year, estimate = _latest_total(tables, indicator)
        chart = charts._trend_chart("egen", "Ett mått", "Förklaring.", indicator=indicator)
        shown = render.RenderedChart(
            name="egen",
            title="Ett mått",
            explanation="Förklaring.",
            alt="Diagram.",
            png=b"",
            data=chart.data(tables, year),
            facts={"indicator": indicator},
        )
        html = render.render_html(tables, year, [], [shown])
        assert f'<td class="num">{_hand_percent(estimate)}</td>' in html, indicator


def test_own_indicators_have_the_packages_number_formats_in_tabeller_xlsx(own_build, tmp_path):
    """In tabeller.xlsx an own proportion's estimate has the percent format (0.0%) and an
    own mean's the index format (0.00), exactly as a package indicator of the same kind."""
    import openpyxl

    from trygghet_analys.report import render

    out = render.run(data=own_build, out=tmp_path, build=False, quiet=True)
    sheet = openpyxl.load_workbook(out / "tabeller.xlsx")["Skattningar"]
    rows = list(sheet.iter_rows(min_row=2))
    header = [c.value for c in rows[0]]
    ids, estimate = header.index("Indikator-id"), header.index("Skattning")
    formats: dict[str, set[str]] = {}
    for row in rows[1:]:
        formats.setdefault(row[ids].value, set()).add(row[estimate].number_format)
    assert formats["mycket_otrygg"] == formats["otrygghet_ute_sent"] == {"0.0%"}
    assert formats["oro_nagon"] == formats["problemindex"] == {"0.00"}
