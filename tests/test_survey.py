"""Survey ingestion: canonical table, weights, ledger, fourth layout, errors."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from trygghet_analys.config import load_kommuner
from trygghet_analys.errors import DataError
from trygghet_analys.files.codebook import load_codebook
from trygghet_analys.files.survey import read_raw_file
from trygghet_analys.pipeline import ingest_kommun
from trygghet_analys.sample.generator import true_population_values
from trygghet_analys.survey.codebook import AGE_GROUPS, QUESTIONS, SEX_CATEGORIES
from trygghet_analys.survey.ingest import (
    LEDGER_COLUMNS,
    RESPONSE_COLUMNS,
    STRATA_COLUMNS,
    apply_layout,
)


@pytest.fixture(scope="module")
def tables(sample_data_dir):
    (kommun,) = load_kommuner(sample_data_dir / "raw")
    return ingest_kommun(kommun)


def _kommun(data):
    (kommun,) = load_kommuner(data / "raw")
    return kommun


def test_canonical_columns_and_dtypes(tables):
    r = tables.responses
    assert tuple(r.columns) == RESPONSE_COLUMNS
    assert str(r["kommun"].dtype) == "str" and r["year"].dtype == np.int64
    assert r["weight"].dtype == np.float64 and (r["weight"] > 0).all()
    assert list(r["sex"].cat.categories) == list(SEX_CATEGORIES)
    assert list(r["age_group"].cat.categories) == [g[0] for g in AGE_GROUPS]
    for q, cats in QUESTIONS.items():
        assert r[q].cat.ordered and tuple(r[q].cat.categories) == cats
    assert not r.duplicated(["kommun", "year", "respondent_id"]).any()


def test_every_year_present(tables):
    assert sorted(tables.responses["year"].unique()) == list(range(2005, 2026))
    assert sorted(tables.strata["year"].unique()) == list(range(2005, 2026))


def test_no_personal_details_reach_the_table(tables, sample_data_dir):
    r = tables.responses
    assert not {"age", "alder", "postcode", "postnr", "kommentar", "fritext"} & set(r.columns)
    texts = set()
    for path in (sample_data_dir / "raw/trygghetsmatning").glob("202*.csv"):
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
        col = rows[0].index("fritext")
        texts |= {row[col] for row in rows[1:] if len(row) > col and row[col]}
    assert texts  # the raw files do hold free text ...
    for column in r.select_dtypes(exclude="number").columns:  # ... and it never gets through
        assert not set(r[column].astype(str)) & texts, column


def _raw_data_rows(path) -> int:
    """Rows below the header, counted independently of the package's readers."""
    if path.suffix == ".xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        return len(sheet.to_python(skip_empty_area=False)) - 1
    return len(path.read_text(encoding="utf-8-sig").splitlines()) - 1


def test_rows_in_equal_rows_kept_plus_rejected(tables, sample_data_dir):
    folder = sample_data_dir / "raw/trygghetsmatning"
    kept = tables.responses.groupby("year").size()
    rejected = tables.ledger.groupby("file").size()
    for year in range(2005, 2026):
        (path,) = folder.glob(f"{year}.*")
        n_in = _raw_data_rows(path)
        n_out = kept[year] + rejected.get(f"trygghetsmatning/{path.name}", 0)
        assert n_in == n_out, year
    assert set(tables.ledger["rule"]) == {
        "tom_rad", "summeringsrad", "saknar_omrade", "alder_utanfor_urvalet"
    }  # fmt: skip


def test_ledger_columns_and_excel_rows(tables, sample_data_dir):
    ledger = tables.ledger
    assert tuple(ledger.columns) == LEDGER_COLUMNS
    assert (ledger["source"] == "trygghetsmatning").all()
    # the "Totalt" row is the last row of its sheet, as Excel numbers it
    total = ledger[(ledger["rule"] == "summeringsrad") & (ledger["file"].str.contains("2016"))]
    path = sample_data_dir / "raw/trygghetsmatning/2016.xlsx"
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert total["row"].tolist() == [len(grid)] and grid[-1][0] == "Totalt"
    assert total["sheet"].tolist() == ["Svar"]


def test_weights_are_population_over_respondents(tables):
    r, s = tables.responses, tables.strata
    assert tuple(s.columns) == STRATA_COLUMNS
    sums = r.groupby(["year", "stratum"])["weight"].sum()
    counts = r.groupby(["year", "stratum"]).size()
    s = s.set_index(["year", "stratum"])
    np.testing.assert_allclose(sums, s.loc[sums.index, "population"])
    assert (counts == s.loc[counts.index, "respondents"]).all()
    assert s["response_rate"].between(0.59, 0.68).all()


def test_breaks_table(tables):
    assert tables.breaks.to_dict("records") == [
        {"kommun": "Älmhult", "variable": "oro_vald", "year": 2020,
         "reason": tables.breaks["reason"].iloc[0]}
    ]  # fmt: skip
    assert "omformulerad" in tables.breaks["reason"].iloc[0]


def test_estimates_recover_true_values(tables):
    """Weighted shares per year, area, question and category lie within sampling error.

    The generator draws respondents independently from its population model, so the
    stratum share's standard error is sqrt(p (1 - p) / n) (n = valid answers). About 5 %
    of |z| exceed 1.96; none should exceed 4.5.
    """
    r = tables.responses
    truth = true_population_values().set_index(["year", "stratum", "variable", "category"])
    z = []
    for q in QUESTIONS:
        valid = r[r[q].notna()]
        n = valid.groupby(["year", "stratum"]).size()
        share = pd.crosstab([valid["year"], valid["stratum"]], valid[q], normalize="index")
        long = share.stack().rename("estimate").reset_index()
        long.columns = ["year", "stratum", "category", "estimate"]
        long["variable"] = q
        long = long.join(truth["share"], on=["year", "stratum", "variable", "category"])
        long["n"] = n.loc[list(zip(long["year"], long["stratum"], strict=True))].to_numpy()
        long = long[long["share"].between(0.05, 0.95)]
        se = np.sqrt(long["share"] * (1 - long["share"]) / long["n"])
        z.append((long["estimate"] - long["share"]) / se)
    z = pd.concat(z)
    assert len(z) > 3000
    assert np.abs(z).max() < 4.5
    assert 0.03 < (np.abs(z) > 1.96).mean() < 0.075


def test_kommun_level_estimate_uses_weights(tables):
    """The design-weighted kommun share equals sum_h N_h p_h / N within 4 SE."""
    r = tables.responses
    truth = true_population_values(years=[2022])
    unsafe = ["Ganska otrygg", "Mycket otrygg", "Går inte ut av oro"]
    t = truth[(truth["variable"] == "otrygg_ute_sent") & truth["category"].isin(unsafe)]
    p_h = t.groupby("stratum")["share"].sum()
    pop = tables.strata[tables.strata["year"] == 2022].set_index("stratum")["population"]
    true_total = (p_h * pop).sum() / pop.sum()
    d = r[(r["year"] == 2022) & r["otrygg_ute_sent"].notna()]
    y = d["otrygg_ute_sent"].isin(unsafe).to_numpy(float)
    est = np.sum(d["weight"] * y) / d["weight"].sum()
    assert abs(est - true_total) < 4 * np.sqrt(true_total * (1 - true_total) / len(d))


# --- the fourth layout, through the codebook alone ------------------------------------------
FOURTH = {
    "namn": "ny leverantör 2026",
    "ar": 2026,
    "fil": {"format": "xlsx", "blad": "Resultat", "rader_ovanfor_rubrik": 2},
    "kolumner": {
        "Löpnummer": "respondent_id",
        "Delområde": "stratum",
        "Kön": "sex",
        "Ålder (år)": "age",
        **{f"Fråga {i}": q for i, q in enumerate(QUESTIONS, start=1)},
    },
    "svar": {"grannsamverkan": {"JA": "Ja", "NEJ": "Nej", "VET EJ": "Vet ej"}},
    "ignorera": ["Anteckning"],
    "inget_seriebrott": "Samma frågor, skalor och insamlingssätt; bara ny leverantör",
}


def _fourth_layout(data, rng, n=90):
    """Add 2026.xlsx in a new layout plus its codebook entry and population rows."""
    folder = data / "raw/trygghetsmatning"
    book = folder / "kodbok.yml"
    doc = yaml.safe_load(book.read_text(encoding="utf-8"))
    doc["layouter"].append(FOURTH)
    book.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    strata = ["Älmhults tätort", "Övriga tätorter", "Landsbygd"]
    with (folder / "population.csv").open("a", encoding="utf-8", newline="") as f:
        for s in strata:
            f.write(f"2026;{s};5000;300\r\n")
    wb = Workbook()
    ws = wb.active
    ws.title = "Resultat"
    ws.append(["Trygghetsmätning 2026"])
    ws.append(["Leverantör: Exempel AB"])
    header = ["Löpnummer", "Delområde", "Kön", "Ålder (år)", "Anteckning"]
    header += [f"Fråga {i}" for i in range(1, len(QUESTIONS) + 1)]
    ws.append(header)
    rows = []
    for i in range(n):
        answers = []
        for q, cats in QUESTIONS.items():
            value = cats[rng.integers(len(cats))]
            if q == "grannsamverkan":
                value = value.upper()
            answers.append(value)
        rows.append([f"N{i:03d}", strata[i % 3], SEX_CATEGORIES[i % 2], int(rng.integers(16, 86)),
                     "fritext" if i % 7 == 0 else None, *answers])  # fmt: skip
        ws.append(rows[-1])
    ws.append(["Totalt", None, None, None, None, *[n] * len(QUESTIONS)])
    wb.save(folder / "2026.xlsx")
    return rows


def test_fourth_layout_through_the_codebook_alone(data_copy, rng):
    rows = _fourth_layout(data_copy, rng)
    tables = ingest_kommun(_kommun(data_copy))
    new = tables.responses[tables.responses["year"] == 2026]
    assert len(new) == len(rows)
    assert new["respondent_id"].tolist() == [r[0] for r in rows]
    assert new["grannsamverkan"].astype(str).tolist() == [r[-1].capitalize() for r in rows]
    assert new["otrygg_ute_sent"].astype(str).tolist() == [r[5] for r in rows]
    total = tables.ledger[tables.ledger["file"] == "trygghetsmatning/2026.xlsx"]
    # two title rows + header + n data rows, then "Totalt" on Excel row n + 4
    assert total[["sheet", "row", "rule"]].values.tolist() == [
        ["Resultat", len(rows) + 4, "summeringsrad"]
    ]
    strata = tables.strata[tables.strata["year"] == 2026]
    assert strata["respondents"].tolist() == [30, 30, 30]
    assert (new.groupby("stratum")["weight"].first() == 5000 / 30).all()


# --- errors that stop the run ---------------------------------------------------------------
def _edit_csv(path, edit):
    text = path.read_bytes().decode("utf-8-sig")
    path.write_bytes(edit(text).encode("utf-8-sig"))


def _swap_header(old, new):
    return lambda text: text.replace(old, new, 1)


def _respondent_lines(lines):
    return [i for i, line in enumerate(lines) if line.startswith("w")]


def _replace_cell(column, value):
    def edit(text):
        lines = text.split("\r\n")
        head = lines[0].split(";")
        line = _respondent_lines(lines)[0] + 1
        cells = lines[line - 1].split(";")
        cells[head.index(column)] = value
        lines[line - 1] = ";".join(cells)
        return "\r\n".join(lines)

    return edit


def _duplicate_id(text):
    lines = text.split("\r\n")
    a, b = _respondent_lines(lines)[:2]
    cells = lines[b].split(";")
    cells[0] = lines[a].split(";")[0]
    lines[b] = ";".join(cells)
    return "\r\n".join(lines)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_swap_header("fritext", "ny_kolumn"), "kolumn 'ny_kolumn'.*kodboken mappar"),
        (_swap_header("q01_trygg_kvall", "q01"), "kolumn 'q01_trygg_kvall'.*finns inte i filen"),
        (
            _replace_cell("q02_avstatt", "kanske"),
            "rad \\d+, kolumn 'q02_avstatt'.*'kanske'.*nej, ja",
        ),
        (_replace_cell("ar", "2021"), "kolumn 'ar'.*'2021'.*året 2022"),
        (_replace_cell("omrade", "07"), "kolumn 'omrade'.*'07'.*områdesvärde"),
        (_replace_cell("alder_ar", "trettio"), "kolumn 'alder_ar'.*ålder"),
        (_duplicate_id, "rad \\d+, kolumn 'id'.*unika respondent-id \\(samma id på rad \\d+\\)"),
        (lambda t: t.rstrip("\r\n").rsplit(";", 3)[0] + "\r\n", "fält som rubrikraden"),
        (lambda t: t + '"oavslutat;\r\n', "oavslutat citattecken"),
    ],
)
def test_data_errors_name_file_row_column_value(data_copy, edit, message):
    path = data_copy / "raw/trygghetsmatning/2022.csv"
    _edit_csv(path, edit)
    with pytest.raises(DataError, match=message) as info:
        ingest_kommun(_kommun(data_copy))
    lines = str(info.value).splitlines()
    problems = lines[:-1] if len(lines) > 1 else lines  # several problems: a closing count
    for text in problems:
        assert "2022.csv" in text and text.startswith("Fel i data")
    if len(lines) > 1:
        assert lines[-1] == f"{len(problems)} problem i 1 fil; inget skrevs."


def test_stratum_without_population(data_copy):
    path = data_copy / "raw/trygghetsmatning/population.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(x for x in lines if not x.startswith("2013;Landsbygd")) + "\n")
    with pytest.raises(DataError, match="population.csv för år 2013 och området 'Landsbygd'"):
        ingest_kommun(_kommun(data_copy))


@pytest.mark.parametrize(("name", "content"), [("2014.xlsx", "cut"), ("2030.csv", "new")])
def test_truncated_file_and_year_without_layout(data_copy, name, content):
    path = data_copy / "raw/trygghetsmatning" / name
    if content == "cut":
        path.write_bytes(path.read_bytes()[:5000])
        message = "2014.xlsx.*läsbar xlsx-fil"
    else:
        shutil.copy(data_copy / "raw/trygghetsmatning/2025.csv", path)
        message = "2030.csv.*layout i kodboken som omfattar året 2030"
    with pytest.raises(DataError, match=message):
        ingest_kommun(_kommun(data_copy))


def test_wrong_sheet_name(data_copy):
    book = data_copy / "raw/trygghetsmatning/kodbok.yml"
    book.write_text(book.read_text(encoding="utf-8").replace("blad: Data", "blad: Blad1"))
    with pytest.raises(DataError, match="bladet 'Blad1' \\(filen har: Data\\)"):
        ingest_kommun(_kommun(data_copy))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_in_any_supported_encoding(data_copy, encoding):
    book = load_codebook(data_copy / "raw/trygghetsmatning/kodbok.yml")
    layout = book.layout_for(2012)
    path = data_copy / "raw/trygghetsmatning/2022.csv"
    text = path.read_text(encoding="utf-8-sig").replace("vet ej", "vet ej")
    path.write_bytes(text.encode(encoding))
    auto = layout.file.__class__(format="csv", encoding="auto", decimal=",")
    web = type(layout)(name="t", years=frozenset([2022]), file=auto, columns=(), answers={})
    _, cells, first = read_raw_file(path, web)
    assert first == 2 and "q03b_hur_ofta_oro_vald" in cells.columns
    assert (
        cells["q03b_hur_ofta_oro_vald"]
        .isin(["aldrig", "sällan", "ibland", "ofta", "vet ej", ""])
        .all()
    )


@pytest.mark.parametrize(
    ("rule_off", "message"),
    [(("tom_rad", "saknar_omrade"), "kolumn 'ar'\\): värdet '': förväntade året 2021"), (("saknar_omrade",), "områdesvärde"),
     (("alder_utanfor_urvalet",), "en ålder 16–85")],
)  # fmt: skip
def test_switching_a_rule_off_makes_its_rows_errors(sample_data_dir, rule_off, message):
    book = load_codebook(sample_data_dir / "raw/trygghetsmatning/kodbok.yml")
    layout = book.layout_for(2021)
    path = sample_data_dir / "raw/trygghetsmatning/2021.csv"
    sheet, cells, first = read_raw_file(path, layout)
    rules = {k: v for k, v in book.rules.items() if k not in rule_off}
    book_off = type(book)(
        book.path, book.variables, book.age_groups, rules, book.breaks, book.layouts
    )
    with pytest.raises(DataError, match=message):
        apply_layout(cells, codebook=book_off, layout=layout, year=2021, kommun="Älmhult",
                     strata=("Älmhults tätort", "Övriga tätorter", "Landsbygd"), file=path,
                     first_row=first)  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [("population", "0", "ett heltal > 0"), ("population", "-5", "ett heltal > 0"),
     ("population", "7,5", "ett heltal > 0"), ("sampled", "tre hundra", "ett heltal ≥ 0")],
)  # fmt: skip
def test_population_values(data_copy, column, value, expected):
    path = data_copy / "raw/trygghetsmatning/population.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(";")
    cells[["year", "stratum", "population", "sampled"].index(column)] = value
    lines[3] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"rad 4, kolumn '{column}'.*förväntade {expected}$"):
        ingest_kommun(_kommun(data_copy))


def test_file_without_respondent_rows_stops(data_copy):
    path = data_copy / "raw/trygghetsmatning/2024.csv"
    header = path.read_bytes().decode("utf-8-sig").split("\r\n")[0]
    path.write_bytes((header + "\r\n").encode("utf-8-sig"))
    with pytest.raises(DataError, match="2024.csv', rad 2\\): förväntade minst en svarsrad"):
        ingest_kommun(_kommun(data_copy))


def test_column_outside_its_years_is_an_error(sample_data_dir):
    """The 2017 file has the drug-dealing item; as a 2016 file it must stop."""
    book = load_codebook(sample_data_dir / "raw/trygghetsmatning/kodbok.yml")
    layout = book.layout_for(2016)
    path = sample_data_dir / "raw/trygghetsmatning/2017.xlsx"
    sheet, cells, first = read_raw_file(path, layout)
    with pytest.raises(DataError, match="Öppen narkotikahandel.*bara åren 2017– .*inte 2016"):
        apply_layout(cells, codebook=book, layout=layout, year=2016, kommun="Älmhult",
                     strata=("Älmhults tätort", "Övriga tätorter", "Landsbygd"), file=path,
                     sheet=sheet, first_row=first)  # fmt: skip


def test_xlsx_entity_bomb_is_unreadable_not_expanded(data_copy):
    """A billion-laughs DTD with an entity used in a cell: refused, never expanded."""
    import zipfile

    path = data_copy / "raw/trygghetsmatning/2014.xlsx"
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    name = "xl/worksheets/sheet1.xml"  # write-only openpyxl: inline strings in the sheet
    dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    body = parts[name]
    start = body.index(b"<worksheet")
    parts[name] = body[:start] + dtd + body[start:].replace(b"<t>", b"<t>&b;", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, content in parts.items():
            z.writestr(part, content)
    with pytest.raises(DataError, match="2014.xlsx.*(läsbar xlsx-fil|DTD)"):
        ingest_kommun(_kommun(data_copy))


# Ages at every group boundary (16–24 | 25–44 | 45–64 | 65–85) and just outside the sample.
# Expected groups written out by hand from the codebook's definition, not computed.
_BOUNDARY_AGES = {
    "16": "16–24", "24": "16–24", "25": "25–44", "44": "25–44", "45": "45–64",
    "64": "45–64", "65": "65–85", "85": "65–85", "24,9": "16–24", "64,5": "45–64",
}  # fmt: skip


def test_ages_at_every_group_boundary(sample_data_dir):
    codebook = load_codebook(sample_data_dir / "raw" / "trygghetsmatning" / "kodbok.yml")
    year = max(y for layout in codebook.layouts for y in layout.years)
    layout = codebook.layout_for(year)
    specs = layout.columns_for(year)
    source = {s.variable: s.source for s in specs}
    ages = [*_BOUNDARY_AGES, "15", "86"]
    rows = []
    for i, age in enumerate(ages):
        row = dict.fromkeys([s.source for s in specs] + list(layout.ignore), "")
        for s in specs:
            mapping = layout.answers.get(s.variable)
            if mapping:
                row[s.source] = next(k for k, v in mapping.items() if v is not None)
        row[source["respondent_id"]] = f"r{i}"
        row[source["year"]] = str(year)
        row[source["age"]] = age
        rows.append(row)
    strata = tuple(v for v in layout.answers["stratum"].values() if v)
    responses, ledger = apply_layout(
        pd.DataFrame(rows, dtype=object), codebook=codebook, layout=layout, year=year,
        kommun="K", strata=strata, file=f"{year}.csv",
    )  # fmt: skip
    assert responses["age_group"].astype(str).tolist() == list(_BOUNDARY_AGES.values())
    # 15 and 86 are outside the sample (16–85): ledger rows 12 and 13 (header is row 1)
    assert ledger["rule"].tolist() == ["alder_utanfor_urvalet"] * 2
    assert ledger["row"].tolist() == [12, 13]


def test_a_kommun_without_a_new_question_gets_its_column_empty_when_stacked():
    """``align_questions``: two kommuner's canonical tables, one with a new question; the
    stacked table keeps it categorical (its categories), missing (NaN) for the other."""
    from trygghet_analys.survey.ingest import align_questions, new_questions

    dtype = pd.CategoricalDtype(["Nej", "Ja", "Vet ej"], ordered=True)
    with_q = pd.DataFrame(
        {"year": [2025, 2025], "kamera": pd.Categorical(["Ja", "Nej"], dtype=dtype)}
    )
    without = pd.DataFrame({"year": [2025, 2024, 2023]})
    stacked = pd.concat(align_questions([without, with_q]), ignore_index=True)
    assert stacked["kamera"].dtype == dtype
    assert stacked["kamera"].isna().tolist() == [True, True, True, False, False]
    assert stacked["kamera"].iloc[3:].tolist() == ["Ja", "Nej"]
    assert new_questions(stacked) == {"kamera": ("Nej", "Ja", "Vet ej")}
    # no new question: the tables as they were
    assert align_questions([without])[0] is without
