"""Reading and checking kodbok.yml."""

from __future__ import annotations

import copy

import pytest
import yaml

from trygghet_analys.errors import DataError
from trygghet_analys.files.codebook import (
    QUESTIONS,
    load_codebook,
    normalise_header,
    normalise_value,
)


@pytest.fixture(scope="module")
def sample_doc(sample_data_dir) -> dict:
    path = sample_data_dir / "raw/trygghetsmatning/kodbok.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(tmp_path, doc) -> object:
    path = tmp_path / "kodbok.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_sample_codebook_reads(sample_data_dir):
    book = load_codebook(sample_data_dir / "raw/trygghetsmatning/kodbok.yml")
    assert book.variables == QUESTIONS
    assert [b.variable for b in book.breaks] == ["oro_vald"] and book.breaks[0].year == 2020
    assert set(book.rules) == {"tom_rad", "summeringsrad", "saknar_omrade", "alder_utanfor_urvalet"}
    names = {y: book.layout_for(y).name for y in range(2005, 2026)}
    assert len(set(names.values())) == 3
    assert names[2005] == names[2011] != names[2012] == names[2019] != names[2020]
    assert book.layout_for(2004) is None
    web = book.layout_for(2022)
    assert (web.file.format, web.file.decimal, web.file.encoding) == ("csv", ",", "utf-8-sig")
    # the drug-dealing item is asked from 2017
    text = book.layout_for(2014)
    assert "problem_narkotikahandel" not in {c.variable for c in text.columns_for(2014)}
    assert "problem_narkotikahandel" in {c.variable for c in text.columns_for(2017)}


def _set(doc, keys, value):
    target = doc
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("keys", "value", "message"),
    [
        (["okand_nyckel"], 1, "en av nycklarna"),
        (["variabler", "oro_vald"], ["Ja", "Nej"], "CONTRIBUTING"),
        (["layouter", 1, "ar"], "2011-2019", "varje år i en enda layout"),
        (["layouter", 1, "ar"], "2019-2012", "stigande"),
        (["layouter", 1, "ar"], "förra året", "ett år eller ett intervall"),
        (["layouter", 0, "fil", "format"], "ods", "format xlsx eller csv"),
        (["layouter", 2, "fil", "decimaltecken"], ";", "decimaltecken"),
        (["layouter", 0, "svar", "oro_vald"], "ingen_skala", "namnet på en skala"),
        (["layouter", 0, "svar", "grannsamverkan"], {1: "Kanske"}, "en av kategorierna"),
        (["layouter", 0, "kolumner", "F1"], "otrygghet", "en kanonisk variabel"),
        (["uteslut", "alla_rader"], True, "en av reglerna"),
        (["seriebrott", 0, "variabel"], "oro", "en kanonisk fråga"),
        (["aldersgrupper"], {"16-24": [16, 24]}, "åldersgrupperna"),
    ],
)
def test_codebook_errors(tmp_path, sample_doc, keys, value, message):
    doc = copy.deepcopy(sample_doc)
    _set(doc, keys, value)
    with pytest.raises(DataError, match=message) as info:
        load_codebook(_write(tmp_path, doc))
    assert "kodbok.yml" in str(info.value) and "\n" not in str(info.value)


def test_layout_needs_respondent_id(tmp_path, sample_doc):
    doc = copy.deepcopy(sample_doc)
    del doc["layouter"][0]["kolumner"]["Lopnr"]
    with pytest.raises(DataError, match="respondent_id"):
        load_codebook(_write(tmp_path, doc))


@pytest.mark.parametrize(
    ("text", "message"),
    [("a: [1, 2\n", "giltig YAML"), (None, "en kodbok")],
)
def test_unreadable_codebook(tmp_path, text, message):
    path = tmp_path / "kodbok.yml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_codebook(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (9, "9"), ("  Vet  ej ", "Vet ej"), (None, ""), ("01", "01"), ("3.0", "3"),
     (34.5, "34.5"), (True, "True")],
)  # fmt: skip
def test_normalise_value(value, expected):
    assert normalise_value(value) == expected


def test_normalise_header():
    assert normalise_header(" Hur  trygg\nkänner DU dig? ") == "hur trygg känner du dig?"
