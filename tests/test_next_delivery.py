"""Next year's delivery in one sitting (issue 12): new vendors through the codebook alone,
every problem in one run, hints, receipts and the codebook draft.

The deliveries and their hand-written layouts (``facit_<år>.yml``) are in
``tests/data/leveranser/`` (written by ``skapa_leveranser.py`` there).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from trygghet_analys import cli
from trygghet_analys.config import load_kommuner
from trygghet_analys.errors import DataError
from trygghet_analys.pipeline import ingest_kommun
from trygghet_analys.survey.codebook import QUESTIONS, normalise_label

HERE = Path(__file__).parent / "data/leveranser"
DELIVERIES = {2026: "2026.xlsx", 2027: "2027.csv", 2028: "2028.xlsx"}
STRATA = ("Älmhults tätort", "Övriga tätorter", "Landsbygd")


def _facit(year: int) -> dict:
    return yaml.safe_load((HERE / f"facit_{year}.yml").read_text(encoding="utf-8"))


def _add(data: Path, year: int, layout: dict | None = None) -> Path:
    """Copy a delivery in, append its layout to kodbok.yml and its population rows."""
    folder = data / "raw/trygghetsmatning"
    target = folder / DELIVERIES[year]
    shutil.copy(HERE / DELIVERIES[year], target)
    book = folder / "kodbok.yml"
    doc = yaml.safe_load(book.read_text(encoding="utf-8"))
    doc["layouter"].append(layout if layout is not None else _facit(year))
    book.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with (folder / "population.csv").open("a", encoding="utf-8", newline="") as f:
        for s in STRATA:
            f.write(f"{year};{s};5000;300\r\n")
    return target


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- the fourth and fifth vendor, through the codebook alone ---------------------------------
def _data_rows_a() -> list[list]:
    """Vendor A's rows under the header (row 4 of sheet 'Data'), read with openpyxl."""
    ws = load_workbook(HERE / "2026.xlsx", read_only=True)["Data"]
    return [list(r) for r in ws.iter_rows(min_row=5, values_only=True)]


def _data_rows_b() -> list[list[str]]:
    text = (HERE / "2027.csv").read_bytes().decode("cp1252")
    return list(csv.reader(text.splitlines(), delimiter=","))[1:]


def test_fourth_and_fifth_vendor_through_the_codebook_alone(data_copy):
    _add(data_copy, 2026)
    _add(data_copy, 2027)
    (kommun,) = load_kommuner(data_copy / "raw")
    tables = ingest_kommun(kommun)
    r, ledger = tables.responses, tables.ledger
    a_rows, b_rows = _data_rows_a(), _data_rows_b()
    for year, name, rows in ((2026, "2026.xlsx", a_rows), (2027, "2027.csv", b_rows)):
        kept = int((r["year"] == year).sum())
        excluded = int((ledger["file"] == f"trygghetsmatning/{name}").sum())
        assert kept + excluded == len(rows), year  # rows in = kept + ledger
    # the Totalt row of vendor A is the only excluded row: Excel row 4 + len(rows)
    a_ledger = ledger[ledger["file"] == "trygghetsmatning/2026.xlsx"]
    assert a_ledger[["sheet", "row", "rule"]].values.tolist() == [
        ["Data", 4 + len(a_rows), "summeringsrad"]
    ]
    a = r[r["year"] == 2026].set_index("respondent_id")
    body = [x for x in a_rows if x[0] != "Totalt"]
    # birth year: age = 2026 − birth year, hand-computed group per row
    for row in body[:40]:
        age = 2026 - int(row[3])
        group = next(g for g, lo, hi in (("16–24", 16, 24), ("25–44", 25, 44),
                                         ("45–64", 45, 64), ("65–85", 65, 85)) if lo <= age <= hi)  # fmt: skip
        assert a.loc[row[0], "age_group"] == group
    # web answers in capitals, paper answers not: the same category either way
    header = [c.value for c in next(load_workbook(HERE / "2026.xlsx", read_only=True)["Data"]
                                    .iter_rows(min_row=4, max_row=4))]  # fmt: skip
    j = header.index(next(h for h in header if h and h.startswith("Fråga 1:")))
    raw = [x[j] for x in body]
    assert any(v.isupper() for v in raw) and any(not v.isupper() for v in raw)
    expected = [{"GÅR INTE UT PGA ORO FÖR BROTT": "Går inte ut av oro", "VET INTE": "Vet ej"}
                .get(v.upper(), v.capitalize() if v.isupper() else v) for v in raw]  # fmt: skip
    expected = ["Vet ej" if e == "Vet inte" else "Går inte ut av oro"
                if e == "Går inte ut pga oro för brott" else e for e in expected]  # fmt: skip
    assert a["otrygg_ute_sent"].astype(str).tolist() == expected
    # Annat / Vill ej uppge → missing sex; areas spelled differently → the canonical area
    sexes = dict(zip([x[0] for x in body], [x[2] for x in body], strict=True))
    for rid, sex in sexes.items():
        got = a.loc[rid, "sex"]
        assert (got == sex) if sex in ("Kvinna", "Man") else (got != got), rid
    assert set(a["stratum"]) == set(STRATA)
    # age bands: every band inside one canonical group
    b = r[r["year"] == 2027].set_index("respondent_id")
    bands = _facit(2027)["aldersgrupper"]
    for row in b_rows[:40]:
        assert b.loc[row[0], "age_group"] == bands[row[3]]


def test_birth_year_read_as_age_names_the_rule_and_asks(data_copy):
    layout = _facit(2026)
    del layout["alder"]
    _add(data_copy, 2026, layout)
    with pytest.raises(DataError) as info:
        ingest_kommun(load_kommuner(data_copy / "raw")[0])
    text = str(info.value)
    assert "alla 151 rader uteslöts, flest (150) av alder_utanfor_urvalet, t.ex. " in text
    assert "är kolumnen födelseår? (alder: fodelsear" in text


# --- all problems in one run ---------------------------------------------------------------
def _break_b(path: Path) -> None:
    text = path.read_bytes().decode("cp1252")
    lines = text.split("\r\n")
    lines[0] = lines[0].replace('"kommentar"', '"anteckning"')  # 1 unknown column
    lines[0] = lines[0].replace('"fr9_grannsamverkan"', '"fr9"')  # 2 missing + 3 unknown
    rows = [next(csv.reader([x])) for x in lines[1:] if x]
    rows[0][4] = "kanske"  # 4 unknown answer (otrygg_ute_sent)
    rows[1][1] = "storstan"  # 5 unknown area
    rows[2][3] = "20-29 år"  # 6 unknown age band
    rows[4][0] = rows[3][0]  # 7 duplicate id
    rows[5][0] = ""  # 8 missing id
    rows[6][2] = "x"  # 9 unknown sex
    rows[7][10] = "jättestort problem"  # 10 unknown problem label
    out = [lines[0]] + [",".join(f'"{c}"' for c in row) for row in rows]
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("cp1252"))


def test_broken_delivery_all_problems_in_one_run(built_data_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(built_data_dir, data)
    before = _snapshot(data / "processed")
    _break_b(_add(data, 2027))
    capsys.readouterr()
    assert cli.main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err.splitlines()
    problems = [x for x in err if x.startswith("fel: Fel i data (fil ")]
    expected = [
        r"rad 1, kolumn 'anteckning'\): värdet 'anteckning': förväntade en kolumn som kodboken",
        r"rad 1, kolumn 'fr9_grannsamverkan'\): förväntade kolumnen 'fr9_grannsamverkan'",
        r"rad 1, kolumn 'fr9'\): värdet 'fr9'",
        r"rad 2, kolumn 'fr1_trygghet_ute_kvall'\): värdet 'kanske': förväntade ett av: ",
        r"rad 3, kolumn 'omr'\): värdet 'storstan': förväntade ett områdesvärde",
        r"rad 4, kolumn 'aldersgrupp'\): värdet '20-29 år': förväntade ett åldersband",
        r"rad 6, kolumn 'resp_id'\): värdet '7003': förväntade unika respondent-id \(samma id på rad 5\)",
        r"rad 7, kolumn 'resp_id'\): värdet '': förväntade ett respondent-id",
        r"rad 8, kolumn 'kon'\): värdet 'x': förväntade ett av: ",
        r"rad 9, kolumn 'fr6_skadegorelse'\): värdet 'jättestort problem'",
    ]
    for pattern in expected:
        assert sum(bool(re.search(pattern, x)) for x in problems) == 1, pattern
    assert all("2027.csv" in x for x in problems) and len(problems) == len(expected)
    assert err[-1] == f"{len(expected)} problem i 1 fil; inget skrevs."
    assert not any("Traceback" in x for x in err)
    assert _snapshot(data / "processed") == before


def test_problems_are_capped_at_fifty(data_copy):
    path = _add(data_copy, 2027)
    text = path.read_bytes().decode("cp1252").replace('"nej"', '"kanske"')
    text = text.replace('"ja"', '"kanhända"').replace('"vet ej"', '"osäker"')
    text = text.replace('"inget problem"', '"inga"').replace('"litet problem"', '"lite"')
    text = text.replace('"kvinna"', '"kvinnor"').replace('"man"', '"männ"')
    text = text.replace('"uppgift saknas"', '"?"').replace('"landsbygd"', '"landet"')
    text = text.replace('"ganska stort problem"', '"rätt stort"')
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(DataError) as info:
        ingest_kommun(load_kommuner(data_copy / "raw")[0])
    lines = str(info.value).splitlines()
    assert len(lines) == 51 and "och minst" in lines[-1] and "inget skrevs" in lines[-1]


# --- hints where a setting is the likely cause -------------------------------------------------
def test_header_row_off_by_one_says_which_row(data_copy):
    layout = _facit(2026)
    layout["fil"]["rader_ovanfor_rubrik"] = 2  # the blank row forgotten
    _add(data_copy, 2026, layout)
    with pytest.raises(DataError, match=r"rubrikerna står på rad 4: sätt rader_ovanfor_rubrik: 3"):
        ingest_kommun(load_kommuner(data_copy / "raw")[0])


def test_decimal_comma_hint(data_copy):
    path = data_copy / "raw/trygghetsmatning/2022.csv"
    book = data_copy / "raw/trygghetsmatning/kodbok.yml"
    book.write_text(book.read_text(encoding="utf-8").replace("    decimaltecken: ','\n", ""))
    text = path.read_bytes().decode("utf-8-sig")
    path.write_bytes(text.encode("utf-8-sig"))
    with pytest.raises(DataError, match=r"decimalkomma: sätt decimaltecken: ','"):
        ingest_kommun(load_kommuner(data_copy / "raw")[0])


def test_decimal_point_gives_no_hint(data_copy):
    path = data_copy / "raw/trygghetsmatning/2022.csv"
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    head = lines[0].split(";")
    j = head.index("alder_ar")
    cells = lines[2].split(";")
    cells[j] = "trettio"
    lines[2] = ";".join(cells)
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    with pytest.raises(DataError, match=r"en ålder i år \(ett tal\)$"):
        ingest_kommun(load_kommuner(data_copy / "raw")[0])


# --- receipt ---------------------------------------------------------------------------------
def test_validate_prints_a_receipt_and_tyst_silences_it(data_copy, capsys):
    _add(data_copy, 2026)
    capsys.readouterr()
    assert cli.main(["validate", "--data", str(data_copy)]) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(x for x in out if x.startswith("2026:"))
    n = len(_data_rows_a())
    assert line == (
        f"2026: trygghetsmatning/2026.xlsx (layout 'Enkätfabriken 2026'): {n} rader lästa, "
        f"{n - 1} behållna, 1 i liggaren (summeringsrad 1)"
    )
    assert len([x for x in out if x[:4].isdigit()]) == 22
    assert cli.main(["validate", "--tyst", "--data", str(data_copy)]) == 0
    assert capsys.readouterr().out == ""


# --- kodbok-utkast ---------------------------------------------------------------------------
def _measure(draft: dict, facit: dict) -> tuple[int, int, int, int]:
    """(question columns right, question columns, answer labels right, answer labels)."""
    qcols = {h: v for h, v in facit["kolumner"].items() if v in QUESTIONS}
    right = sum(draft["kolumner"].get(h) == v for h, v in qcols.items())
    labels_right = labels = 0
    for h, v in qcols.items():
        truth = {normalise_label(k): t for k, t in facit["svar"][v].items()}
        got = {}
        if draft["kolumner"].get(h) == v:
            got = {normalise_label(k): t for k, t in (draft["svar"].get(v) or {}).items()}
        labels += len(truth)
        labels_right += sum(got.get(k, "saknas") == t for k, t in truth.items())
    return right, len(qcols), labels_right, labels


@pytest.mark.parametrize("year", sorted(DELIVERIES))
def test_kodbok_utkast_matches_columns_and_labels(sample_data_dir, year, capsys):
    before = _snapshot(sample_data_dir / "raw/trygghetsmatning")
    capsys.readouterr()
    path = HERE / DELIVERIES[year]
    assert cli.main(["kodbok-utkast", str(path), "--data", str(sample_data_dir)]) == 0
    text = capsys.readouterr().out
    assert _snapshot(sample_data_dir / "raw/trygghetsmatning") == before  # nothing written
    (draft,) = yaml.safe_load(text)
    right, n, labels_right, labels = _measure(draft, _facit(year))
    assert right / n >= 0.80 and labels_right / labels >= 0.90, (right, n, labels_right, labels)
    assert "# TODO: beslut om seriebrott" in text


@pytest.mark.parametrize("year", sorted(DELIVERIES))
def test_kodbok_utkast_once_filled_validates(data_copy, year, capsys):
    capsys.readouterr()
    path = HERE / DELIVERIES[year]
    assert cli.main(["kodbok-utkast", str(path), "--data", str(data_copy)]) == 0
    (draft,) = yaml.safe_load(capsys.readouterr().out)
    facit = _facit(year)
    # the analyst fills every TODO (here: from the answer key) and decides the break
    for h, v in list(draft["kolumner"].items()):
        if v == "TODO":
            draft["kolumner"][h] = facit["kolumner"][h]
    for v, table in (draft.get("svar") or {}).items():
        for k, t in list(table.items()):
            if t == "TODO":
                table[k] = {normalise_label(a): b for a, b in facit["svar"][v].items()}[
                    normalise_label(k)
                ]
    draft["inget_seriebrott"] = "Samma frågor och skalor som förut"
    _add(data_copy, year, draft)
    assert cli.main(["validate", "--tyst", "--data", str(data_copy)]) == 0


def test_kodbok_utkast_draft_is_refused_until_todos_are_filled(data_copy, capsys):
    capsys.readouterr()
    assert cli.main(["kodbok-utkast", str(HERE / "2028.xlsx"), "--data", str(data_copy)]) == 0
    text = capsys.readouterr().out
    assert "TODO" in text.split("# TODO: beslut")[0]  # 2028 has labels the draft leaves open
    book = data_copy / "raw/trygghetsmatning/kodbok.yml"
    book.write_text(book.read_text(encoding="utf-8") + text, encoding="utf-8")
    shutil.copy(HERE / "2028.xlsx", data_copy / "raw/trygghetsmatning/2028.xlsx")
    assert cli.main(["validate", "--data", str(data_copy)]) == 2
    assert "TODO" in capsys.readouterr().err


# --- the README's steps, verbatim ------------------------------------------------------------
def _readme_steps() -> list[str]:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Lägga till nästa års trygghetsmätning", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\d\. (.*?)(?=^\d\. |\Z)", section, flags=re.S | re.M)


def test_readme_steps_are_enough_for_a_new_vendor(data_copy, monkeypatch, capsys):
    """Step by step as the README says, in a copy of the data folder (``data/``)."""
    import shlex

    from trygghet_analys import config

    monkeypatch.chdir(data_copy.parent)  # the repository: data/ is here
    monkeypatch.setattr(config, "default_data_dir", lambda: data_copy)
    steps = _readme_steps()
    assert len(steps) == 6

    def commands(step: str) -> list[list[str]]:
        found = re.findall(r"`(\.venv/bin/trygghet-analys[^`]*)`", " ".join(step.split()))
        return [shlex.split(c)[1:] for c in found]

    # 1. the file, named after the year
    assert "data/raw/trygghetsmatning/" in steps[0] and "2026.xlsx" in steps[0]
    shutil.copy(HERE / "2026.xlsx", Path("data/raw/trygghetsmatning/2026.xlsx"))
    # 2 is for the same vendor as last year; 3: a new vendor → the draft
    (draft_cmd,) = commands(steps[2])
    capsys.readouterr()
    assert cli.main(draft_cmd) == 0
    text = capsys.readouterr().out
    # paste it last under layouter, fill every TODO, decide the series break
    (draft,) = yaml.safe_load(text)
    assert "TODO" not in yaml.safe_dump(draft, allow_unicode=True)  # nothing left open here
    assert "seriebrott: <orsak>" in steps[2] and "inget_seriebrott: <orsak>" in steps[2]
    book = Path("data/raw/trygghetsmatning/kodbok.yml")
    pasted = text.replace("# seriebrott: <orsak>", "seriebrott: Ny leverantör, webb + papper")
    book.write_text(book.read_text(encoding="utf-8") + pasted, encoding="utf-8")
    # 4. population rows
    assert "population.csv" in steps[3]
    with Path("data/raw/trygghetsmatning/population.csv").open("a", encoding="utf-8") as f:
        for s in STRATA:
            f.write(f"2026;{s};5000;300\r\n")
    # 5. validate: a receipt per year
    (validate_cmd,) = commands(steps[4])
    assert cli.main(validate_cmd) == 0
    out = capsys.readouterr().out
    n = len(_data_rows_a())
    assert f"2026: trygghetsmatning/2026.xlsx (layout 'leverans 2026'): {n} rader lästa" in out
    # 6. make report builds processed/ first (the report itself: tests/test_report.py)
    assert "make report" in steps[5]
    assert cli.main(["build", "--tyst"]) == 0
    breaks = pd.read_parquet("data/processed/survey_breaks.parquet")
    assert set(breaks.loc[breaks["year"] == 2026, "variable"]) == set(QUESTIONS)


def test_wrong_encoding_gives_the_encoding_hint(data_copy):
    book = data_copy / "raw/trygghetsmatning/kodbok.yml"
    text = book.read_text(encoding="utf-8")
    book.write_text(text.replace("kodning: utf-8-sig", "kodning: cp1252"), encoding="utf-8")
    with pytest.raises(DataError) as info:
        ingest_kommun(load_kommuner(data_copy / "raw")[0])
    lines = [x for x in str(info.value).splitlines() if "'q01_trygg_kvall'" in x]
    assert lines and all("texten ser felavkodad ut: kontrollera kodning" in x for x in lines)


def test_an_unknown_value_in_the_right_encoding_gives_no_hint(data_copy):
    path = data_copy / "raw/trygghetsmatning/2022.csv"
    text = path.read_bytes().decode("utf-8-sig")
    path.write_bytes(text.replace(";ja;", ";kanske;", 1).encode("utf-8-sig"))
    with pytest.raises(DataError) as info:
        ingest_kommun(load_kommuner(data_copy / "raw")[0])
    assert "'kanske'" in str(info.value) and "kodning" not in str(info.value)


def test_build_prints_the_receipt(data_copy, capsys):
    capsys.readouterr()
    assert cli.main(["build", "--data", str(data_copy)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [x[:5] for x in out[:21]] == [f"{y}:" for y in range(2005, 2026)]
    assert out[-1] == "Klart: tabellerna är skrivna till processed/."
    ledger = pd.read_parquet(data_copy / "processed/ledger.parquet")
    responses = pd.read_parquet(data_copy / "processed/survey_responses.parquet")
    for line in out[:21]:
        year = int(line[:4])
        read, kept, excluded = map(
            int, re.findall(r"(\d+) rader lästa, (\d+) behållna, (\d+) i", line)[0]
        )
        name = re.search(r"(trygghetsmatning/\S+) \(layout", line).group(1)
        assert kept == int((responses["year"] == year).sum())
        assert excluded == int((ledger["file"] == name).sum()) and read == kept + excluded
    assert cli.main(["build", "--tyst", "--data", str(data_copy)]) == 0
    assert capsys.readouterr().out == ""
