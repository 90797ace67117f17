"""Number formats keyed on the column KEY, never on the Swedish header (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest

from trygghet_analys import vocabulary
from trygghet_analys.report import charts, tableformat


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kommun": ["K", "K"],
            "year": [2024, 2025],
            "indicator": ["otrygghet_ute_sent", "problemindex"],
            "estimate": [0.21, 1.47],
            "n": [300, 250],
            "p_value": [0.0004, 0.2],
            "q_value": [0.01, 0.3],
            "response_rate": [0.52, 0.48],
            "suppressed": [False, False],
            "date_from": pd.to_datetime(["2024-04-01", "2025-04-01"]),
            "n_excluded": [1, 0],
        }
    )


KINDS = {"otrygghet_ute_sent": "proportion", "problemindex": "mean"}


def _kinds_by_key(frame: pd.DataFrame, table: str | None = None) -> dict[str, object]:
    swedish = charts.swedish_headers(frame, vocabulary.column_headers(table))
    kinds = tableformat.column_kinds(swedish, indicator_kinds=KINDS)
    assert len(kinds) == frame.shape[1]
    return dict(zip(frame.columns, kinds.values(), strict=True))


def test_formats_follow_the_key():
    got = _kinds_by_key(_table())
    assert got["year"] == "year" and got["n"] == "count"
    assert got["estimate"] == ["share", "index"]  # per row, by the indicator's kind
    assert got["p_value"] == got["q_value"] == "pvalue"
    assert got["response_rate"] == "share"
    assert got["suppressed"] == "bool" and got["date_from"] == "date"
    assert got["kommun"] == "text" and got["indicator"] == "text"
    assert got["n_excluded"] == "count"  # "auto": an integer column is a count
    # English keys (a table never given Swedish headers) get the same formats
    assert tableformat.column_kinds(_table(), indicator_kinds=KINDS) == got


def test_renaming_headers_in_rubriker_leaves_every_format_unchanged(monkeypatch):
    before = _kinds_by_key(_table())
    findings_before = _kinds_by_key(_table(), "findings")
    original = vocabulary.resource_text
    renamed = {
        "\nyear,År\n": "\nyear,Kalenderår\n",
        "\nestimate,Skattning\n": "\nestimate,Värdet\n",
        "\nindicator,Indikator-id\n": "\nindicator,Indikatorns id\n",
        "\np_value,p-värde\n": "\np_value,Sannolikhet\n",
        "\nresponse_rate,Svarsfrekvens\n": "\nresponse_rate,Svarsandel\n",
        "q-värde (Benjamini–Hochberg)": "Justerat p",
    }

    def text(name: str) -> str:
        out = original(name)
        if name == "rubriker.csv":
            for old, new in renamed.items():
                assert old in out, old
                out = out.replace(old, new)
        return out

    monkeypatch.setattr(vocabulary, "resource_text", text)
    headers = charts.swedish_headers(_table()).columns.tolist()
    assert "Kalenderår" in headers and "Värdet" in headers and "Svarsandel" in headers
    assert (
        "Justerat p"
        in charts.swedish_headers(_table(), vocabulary.column_headers("findings")).columns.tolist()
    )
    assert _kinds_by_key(_table()) == before
    assert _kinds_by_key(_table(), "findings") == findings_before


def test_a_year_template_header_resolves_to_its_key():
    keys = tableformat.column_keys(["Andel 2025", "Andel 2022", "Andel av målet", "Okänd"])
    assert keys == {
        "Andel 2025": "share_in_year",
        "Andel 2022": "share_in_year",
        "Andel av målet": "share",
        "Okänd": "Okänd",  # neither header nor key: formatted by dtype
    }


def test_a_column_without_a_rule_is_formatted_by_dtype():
    frame = pd.DataFrame({"Okänd heltal": [3], "Okänd decimal": [0.5], "Okänd text": ["a"]})
    assert tableformat.column_kinds(frame) == {
        "Okänd heltal": "count",
        "Okänd decimal": "number",
        "Okänd text": "text",
    }


def test_every_key_in_rubriker_has_a_format_rule_and_shared_headers_agree():
    table = vocabulary.read_resource_csv("rubriker.csv", dtype=str, keep_default_na=False)
    keys = {k.rpartition(".")[2] for k in table["kolumn"]}
    assert keys - set(tableformat.COLUMN_FORMATS) == set()
    # a header two keys share ("Slag") must not make their formats depend on which wins
    by_header: dict[str, set[str]] = {}
    for key, header in zip(table["kolumn"], table["rubrik"], strict=True):
        by_header.setdefault(header, set()).add(tableformat.COLUMN_FORMATS[key.rpartition(".")[2]])
    assert {h: f for h, f in by_header.items() if len(f) > 1} == {}


@pytest.mark.parametrize(("value", "text"), [(0.0009, "< 0,001"), (0.001, "0,001")])
def test_pvalue_format_on_both_sides_of_its_boundary(value, text):
    assert tableformat.format_value(value, "pvalue") == text


def test_a_table_naming_indicators_by_label_is_formatted_by_their_kind():
    # the follow-up chart's table names each indicator by its Swedish label ("Indikator"
    # is the key ``label``); a proportion's latest value and change are shares, an
    # activity count (no indicator) an amount: whole, it reads as a count ("9")
    frame = pd.DataFrame(
        {
            "Löfte": ["SA1", "SA2", "SA3"],
            "Indikator": ["Utsatt för brott", "Problemindex", "Möten i rådet"],
            "Senaste värde": [0.149, 1.47, 9.0],
            "Förändring mot året före löftet": [-0.01, 0.1, None],
        }
    )
    kinds = {"Utsatt för brott": "proportion", "Problemindex": "mean"}
    got = tableformat.column_kinds(frame, indicator_kinds=kinds)
    assert got["Senaste värde"] == ["share", "index", "count"]
    # a proportion's change in percentage points (see the test below)
    assert got["Förändring mot året före löftet"] == ["points_change", "index", "number"]
    assert tableformat.html_rows(frame, got)[0][2][0] == "14,9\u00a0%"
    # no label known: every row a plain number, as before
    assert (
        tableformat.column_kinds(frame, indicator_kinds={"x": "mean"})["Senaste värde"]
        == ["number"] * 3
    )


def test_the_report_kinds_know_each_indicator_by_its_label_too():
    from types import SimpleNamespace

    from trygghet_analys.report import render

    indicators = pd.DataFrame(
        {
            "id": ["x_prop", "x_mean"],
            "label": ["Andel x", "Medel x"],
            "kind": ["proportion", "mean"],
        }
    )
    kinds = render._report_indicator_kinds(SimpleNamespace(indicators=indicators))
    assert kinds["Andel x"] == "proportion" and kinds["Medel x"] == "mean"
    assert kinds["x_prop"] == "proportion"


def test_the_follow_up_charts_table_names_each_value_s_unit():
    # "98,1" means nothing to the council without "mg/dag/1000 inv", nor "9,00" without
    # "antal": the follow-up chart's table carries the unit its chart writes beside the value
    draw, data, available = charts._commitment_panel()
    followup = pd.DataFrame(
        {
            "commitment_id": ["SA1", "SA2"],
            "focus_area": ["Samverkan", "Samverkan"],
            "text": ["Löfte 1", "Löfte 2"],
            "indicator": ["kokain", "utsatt_brott"],
            "label": ["Kokain", "Utsatt för brott"],
            "latest_year": [2025, 2025],
            "latest_value": [93.1, 0.149],
            "unit": ["mg/dag/1000 inv", "andel"],
            "status": ["försämrad", "oförändrad"],
        }
    )
    from types import SimpleNamespace

    table = data(SimpleNamespace(followup=followup), 2025)
    assert list(table["Enhet"]) == ["mg/dag/1000 inv", "andel"]
    assert list(table.columns).index("Enhet") == list(table.columns).index("Senaste värde") + 1


def test_a_value_in_a_named_unit_reads_as_the_follow_up_chart_writes_it():
    # the follow-up chart writes "9", "93,1 mg/dag/1000 inv": a whole value in a
    # named unit has no decimals in rapport.html and tabeller.xlsx either ("9", not "9,00")
    from types import SimpleNamespace

    _draw, data, _available = charts._commitment_panel()
    followup = pd.DataFrame(
        {
            "commitment_id": ["SA1", "SA2", "SA3", "SA4", "SA5"],
            "focus_area": ["Samverkan"] * 5,
            "text": ["Löfte"] * 5,
            "indicator": ["moten", "kokain", "utsatt_brott", "problemindex", "trygghetsvandringar"],
            "label": ["Möten i rådet", "Kokain", "Utsatt för brott", "Problemindex", "Vandringar"],
            "latest_year": [2025] * 5,
            "latest_value": [9.0, 93.1, 0.149, 2.0, 4.0],
            "unit": ["antal", "mg/dag/1000 inv", "andel", "index 0–6", None],
            "status": ["förbättrad"] * 5,
        }
    )
    table = data(SimpleNamespace(followup=followup), 2025)
    kinds = tableformat.column_kinds(
        table, indicator_kinds={"Utsatt för brott": "proportion", "Problemindex": "mean"}
    )
    assert kinds["Senaste värde"] == ["count", "number", "share", "index", "count"]
    texts = [
        row[list(table.columns).index("Senaste värde")][0]
        for row in tableformat.html_rows(table, kinds)
    ]
    assert texts == ["9", "93,1", "14,9\u00a0%", "2,00", "4"]
    formats = tableformat.xlsx_formats(kinds)["Senaste värde"]
    assert formats == ["#,##0", "#,##0.00", "0.0%", "0.00", "#,##0"]
    # a named unit outside the follow-up: a whole value a count, a fraction a number
    frame = pd.DataFrame(
        {
            "indicator": ["a", "b", "c"],
            "unit": ["antal", "antal", None],
            "estimate": [12.0, 2.5, 3.0],
        }
    )
    assert tableformat.column_kinds(frame)["estimate"] == ["count", "number", "number"]
    assert tableformat.format_value(9.0, "amount") == "9"
    assert tableformat.format_value(9.5, "amount") == "9,50"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.35, "mg/dag/1000 inv", "0,35"),  # the chart wrote "0,4", the table "0,35"
        (7.1, "mg/dag/1000 inv", "7,10"),
        (93.1, "mg/dag/1000 inv", "93,1"),
        (1404.0, "hushåll", "1\u202f404"),
    ],
)
def test_the_follow_up_chart_writes_a_value_in_a_named_unit_as_its_table(value, unit, shown):
    # one rule for a value in a named unit: the chart's label and its table's cell agree
    from trygghet_analys.report import plotting

    table = tableformat.html_rows(
        pd.DataFrame({"Senaste värde": [value], "Enhet": [unit]}),
        {"Senaste värde": ["amount"], "Enhet": "text"},
    )
    assert table[0][0][0] == shown
    assert plotting._value_text("x", value, unit) == f"{shown} {unit}"


@pytest.mark.parametrize("unit", ["antal", "Antal"])
def test_the_follow_up_chart_writes_a_count_without_the_word_antal(unit):
    # "9 antal" is not Swedish; the chart writes "9" and its table "9" with the unit
    # "antal" in its own column
    from trygghet_analys.report import plotting

    assert plotting._value_text("x", 9.0, unit) == "9"
    assert plotting._value_text("x", 9.5, unit) == "9,50"


def test_a_change_of_a_proportion_reads_in_percentage_points_not_percent():
    # "Förändring 17,5 %" beside "51,6 %" reads as a relative change; the difference of two
    # shares is 17,5 percentage points, signed as the prose writes it ("+6 procentenheter")
    frame = pd.DataFrame(
        {
            "indicator": ["otrygghet_ute_sent", "otrygghet_ute_sent", "problemindex"],
            "estimate_to": [0.516, 0.095, 1.47],
            "change": [0.175, -0.0104, -0.12],
            "se_change": [0.031, 0.009, 0.05],
            "ci_low": [0.11, -0.03, -0.2],
        }
    )
    kinds = tableformat.column_kinds(frame, indicator_kinds=KINDS)
    assert kinds["estimate_to"] == ["share", "share", "index"]  # a level stays a share
    assert kinds["change"] == ["points_change", "points_change", "index"]
    assert kinds["se_change"] == ["points", "points", "index"]  # a standard error: no sign
    assert kinds["ci_low"] == ["points_change", "points_change", "index"]  # the change's bound
    cells = [[text for text, _ in row] for row in tableformat.html_rows(frame, kinds)]
    assert cells[0][1:] == ["51,6\u00a0%", "+17,5\u00a0p.e.", "3,1\u00a0p.e.", "+11,0\u00a0p.e."]
    assert cells[1][2] == "−1,0\u00a0p.e."
    assert cells[2][2] == "−0,12"  # an index change in index units, as before


@pytest.mark.parametrize(
    ("change", "text"),
    [(0.0004, "0,0\u00a0p.e."), (0.0005001, "+0,1\u00a0p.e."), (-0.0005001, "−0,1\u00a0p.e.")],
)
def test_a_change_that_rounds_to_zero_has_no_sign(change, text):
    assert tableformat.format_value(change, "points_change") == text


def test_confidence_bounds_of_a_level_stay_shares():
    # the estimates' "ci_low" is the level's bound; only a table with a change has the
    # change's bounds under that key (the findings)
    frame = pd.DataFrame(
        {"indicator": ["otrygghet_ute_sent"], "estimate": [0.21], "ci_low": [0.18]}
    )
    assert tableformat.column_kinds(frame, indicator_kinds=KINDS)["ci_low"] == ["share"]


def test_the_workbook_stores_a_change_of_shares_in_the_points_its_format_shows():
    frame = pd.DataFrame(
        {
            "indicator": ["otrygghet_ute_sent", "problemindex"],
            "estimate": [0.25, 1.5],
            "change": [-0.0125, -0.25],
        }
    )
    kinds = tableformat.column_kinds(frame, indicator_kinds=KINDS)
    stored = tableformat.excel_values(frame, kinds)
    assert stored["change"].tolist() == [-1.25, -0.25]  # points; the index change as it is
    assert stored["estimate"].tolist() == [0.25, 1.5]  # a share stays a fraction ("0.0%")
    assert frame["change"].tolist() == [-0.0125, -0.25]  # the table itself is not changed
    formats = tableformat.xlsx_formats(kinds)
    assert formats["change"] == ['+0.0" p.e.";-0.0" p.e.";0.0" p.e."', "0.00"]
    assert formats["estimate"] == ["0.0%", "0.00"]


def test_the_report_workbook_holds_changes_in_points(tmp_path):
    # the xlsx a report writes: the Förändringar sheet's change equals the processed
    # survey_changes' change × 100 for a proportion, with the points format
    import openpyxl

    from trygghet_analys.report import render

    changes = pd.DataFrame(
        {"indicator": ["otrygghet_ute_sent"], "change": [0.175], "se_change": [0.031]}
    )
    path = render.write_tables(
        tmp_path / "t.xlsx",
        {"Förändringar": changes},
        [],
        title="t",
        kinds=KINDS,
    )
    sheet = openpyxl.load_workbook(path)["Förändringar"]
    assert sheet.cell(2, 2).value == pytest.approx(17.5) and sheet.cell(2, 3).value == 3.1
    assert sheet.cell(2, 2).number_format == '+0.0" p.e.";-0.0" p.e.";0.0" p.e."'
