"""Reading and checking kodbok.yml."""

from __future__ import annotations

import copy

import pytest
import yaml

from trygghet_analys.errors import DataError
from trygghet_analys.files.codebook import load_codebook
from trygghet_analys.survey.codebook import (
    QUESTIONS,
    normalise_header,
    normalise_label,
    normalise_value,
    parse_age_band,
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


# --- issue 12: forgiving labels, ages, quoting, series-break decision ------------------------
@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("JA", "Ja", True),
        ("Går inte ut – oro", "går  inte\u00a0ut - oro", True),  # en dash, NBSP, double space
        ("Vet\nej", "vet ej", True),
        ("a\u030a", "\u00e5", True),  # decomposed å equals composed å (NFC)
        ("16—24 år", "16-24 ÅR", True),  # em dash
        ("Ganska trygg", "Ganska otrygg", False),
        ("Vet ej", "Vet ej.", False),
    ],
)
def test_normalise_label(a, b, same):
    assert (normalise_label(a) == normalise_label(b)) is same


def test_label_matching_two_categories_is_a_codebook_error(tmp_path, sample_doc):
    doc = copy.deepcopy(sample_doc)
    doc["layouter"][2]["svar"]["grannsamverkan"] = {"Ja": "Ja", "JA ": "Nej", "nej": "Nej"}
    with pytest.raises(DataError, match=r"etiketter som skiljer sig åt.*'Ja' → Ja, 'JA ' → Nej"):
        load_codebook(_write(tmp_path, doc))
    doc["layouter"][2]["svar"]["grannsamverkan"] = {"Ja": "Ja", "JA ": "Ja", "nej": "Nej"}
    book = load_codebook(_write(tmp_path, doc))  # the same category twice is fine
    assert book.layouts[2].answers["grannsamverkan"] == {"Ja": "Ja", "nej": "Nej"}


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ({"16-24 år": "16–24", "20-29 år": "16–24"}, r"'20-29 år' \(20–29\) spänner över åldersgrupperna 16–24 och 25–44"),
        ({"60-69 år": "65–85"}, r"'60-69 år' \(60–69\) spänner över åldersgrupperna 45–64 och 65–85"),
        ({"25-34 år": "16–24"}, r"åldersgruppen 25–44 för '25-34 år'"),
        ({"16-24 år": "unga"}, r"en av åldersgrupperna 16–24"),
    ],
)  # fmt: skip
def test_age_bands_that_straddle_or_mismatch_are_refused(tmp_path, sample_doc, bands, message):
    doc = copy.deepcopy(sample_doc)
    doc["layouter"][2]["aldersgrupper"] = bands
    with pytest.raises(DataError, match=message):
        load_codebook(_write(tmp_path, doc))


def test_age_bands_inside_one_group_are_accepted(tmp_path, sample_doc):
    doc = copy.deepcopy(sample_doc)
    doc["layouter"][2]["aldersgrupper"] = {"16–24 år": "16–24", "25-34 år": "25–44",
                                           "65 år eller äldre": "65–85", "Under 16": None}  # fmt: skip
    layout = load_codebook(_write(tmp_path, doc)).layouts[2]
    assert layout.age_bands == {"16–24 år": "16–24", "25-34 år": "25–44",
                                "65 år eller äldre": "65–85", "Under 16": None}  # fmt: skip
    assert parse_age_band("65 år eller äldre").low == 65
    assert parse_age_band("Under 16").high == 15 and parse_age_band("Vill ej uppge") is None


def test_birth_year_setting(tmp_path, sample_doc):
    doc = copy.deepcopy(sample_doc)
    doc["layouter"][2]["alder"] = "fodelsear"
    assert load_codebook(_write(tmp_path, doc)).layouts[2].age == "fodelsear"
    doc["layouter"][2]["alder"] = "födelsedatum"
    with pytest.raises(DataError, match="alder: fodelsear"):
        load_codebook(_write(tmp_path, doc))


def test_unquoted_colon_in_a_header_says_quote_it(tmp_path, sample_doc):
    path = _write(tmp_path, sample_doc)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    F1: otrygg_ute_sent", "    Fråga 1: Hur trygg?: otrygg_ute_sent")
    )
    with pytest.raises(
        DataError,
        match=r"rad \d+\): värdet 'Fråga 1: Hur trygg\?: otrygg_ute_sent'.*sätt rubriken inom citattecken",
    ):
        load_codebook(path)
    # in a list (ignorera) YAML silently makes a mapping: the check names it
    path.write_text(text.replace("- Kommentar", "- Fråga 9: Övrigt"))
    with pytest.raises(
        DataError, match=r"ignorera.*sätt rubriken inom citattecken: \"Fråga 9: Övrigt\""
    ):
        load_codebook(path)
    # quoted, it is a header like any other
    path.write_text(text.replace("- Kommentar", '- "Fråga 9: Övrigt"'))
    assert "Fråga 9: Övrigt" in load_codebook(path).layouts[0].ignore


def _new_layout(doc, **decision):
    layout = copy.deepcopy(doc["layouter"][2])
    layout["namn"], layout["ar"] = "ny leverantör", 2026
    layout.update(decision)
    doc["layouter"].append(layout)
    return doc


def test_a_new_layout_must_decide_the_series_break(tmp_path, sample_doc):
    doc = _new_layout(copy.deepcopy(sample_doc))
    with pytest.raises(
        DataError,
        match=r"beslut om seriebrott för frågan i layouten 'ny leverantör' \(ny layout från 2026; 19 frågor",
    ):
        load_codebook(_write(tmp_path, doc))


@pytest.mark.parametrize(
    ("decision", "broken"),
    [
        ({"inget_seriebrott": "Samma enkät, bara ny leverantör"}, set()),
        ({"seriebrott": "Webb + papper i stället för webb"}, set(QUESTIONS)),
        ({"seriebrott": {"oro_vald": "Ny skala"}, "inget_seriebrott": "Oförändrat i övrigt"},
         {"oro_vald"}),
    ],
)  # fmt: skip
def test_a_decided_layout_is_accepted(tmp_path, sample_doc, decision, broken):
    doc = _new_layout(copy.deepcopy(sample_doc), **decision)
    book = load_codebook(_write(tmp_path, doc))
    assert {b.variable for b in book.breaks if b.year == 2026} == broken
    assert [b.year for b in book.breaks].count(2020) == 1  # the top-level break stays


def test_partial_decision_is_refused_and_older_layouts_need_none(tmp_path, sample_doc):
    doc = _new_layout(copy.deepcopy(sample_doc), inget_seriebrott={"oro_vald": "Samma"})
    with pytest.raises(DataError, match="18 frågor utan beslut"):
        load_codebook(_write(tmp_path, doc))
    # a layout starting at or before a declared break (the sample's 2012 and 2020) needs none
    assert len(load_codebook(_write(tmp_path, sample_doc)).layouts) == 3
    doc = copy.deepcopy(sample_doc)
    doc["seriebrott"] = []
    with pytest.raises(DataError, match="layouten 'frågetexter och svarstexter 2012–2019'"):
        load_codebook(_write(tmp_path, doc))


def test_an_answer_table_for_age_is_refused_with_the_way_forward(tmp_path, sample_doc):
    doc = copy.deepcopy(sample_doc)
    doc["layouter"][2]["svar"]["age"] = {"16-24 år": "16–24"}  # silently ignored before
    with pytest.raises(DataError, match=r"svar\.age.*för age: åldersband under aldersgrupper"):
        load_codebook(_write(tmp_path, doc))
    doc["layouter"][2]["svar"].pop("age")
    doc["layouter"][2]["aldersgrupper"] = {"16-24 år": "16–24"}
    assert load_codebook(_write(tmp_path, doc)).layouts[2].age_bands == {"16-24 år": "16–24"}


# --------------------------------------------------------------------------- a new question
def _with_new_question(doc, categories, *, mapped=True) -> dict:
    """The sample codebook with variable ``kamerabevakning`` (categories as given),
    mapped from column ``q09_kamera`` of the last layout unless ``mapped`` is false."""
    doc = copy.deepcopy(doc)
    doc["variabler"]["kamerabevakning"] = categories
    if mapped:
        doc["layouter"][-1]["kolumner"]["q09_kamera"] = {
            "variabel": "kamerabevakning",
            "fran_ar": 2025,
        }
    return doc


def test_a_new_question_is_read_after_the_known_ones(tmp_path, sample_doc):
    doc = _with_new_question(sample_doc, ["Nej", "Ja", "Vet ej"])
    # declared first in kodbok.yml: still placed after the known questions
    doc["variabler"] = {"kamerabevakning": doc["variabler"].pop("kamerabevakning"),
                        **doc["variabler"]}  # fmt: skip
    book = load_codebook(_write(tmp_path, doc))
    assert list(book.variables) == [*QUESTIONS, "kamerabevakning"]
    assert book.variables["kamerabevakning"] == ("Nej", "Ja", "Vet ej")
    last = book.layouts[-1]
    assert "kamerabevakning" not in {c.variable for c in last.columns_for(2024)}
    assert "kamerabevakning" in {c.variable for c in last.columns_for(2025)}


@pytest.mark.parametrize(
    ("categories", "mapped", "message", "value"),
    [
        ([], True, "en lista med frågans svarskategorier", "[]"),
        (None, True, "en lista", "variabler.kamerabevakning"),
        (["Nej", "Ja", "Nej"], True, "förekommer en gång var", "'Nej'"),
        (["Nej", "Ja", "Vet ej"], False, "en kolumn i någon layout", "'kamerabevakning'"),
    ],
)
def test_a_bad_new_question_is_one_line_with_file_line_and_key(
    tmp_path, sample_doc, categories, mapped, message, value
):
    doc = _with_new_question(sample_doc, categories, mapped=mapped)
    path = _write(tmp_path, doc)
    lines = path.read_text(encoding="utf-8").splitlines()
    line = 1 + next(i for i, s in enumerate(lines) if s.lstrip().startswith("kamerabevakning:"))
    with pytest.raises(DataError, match=message) as info:
        load_codebook(path)
    text = str(info.value)
    assert "\n" not in text and "kodbok.yml" in text
    assert f"rad {line}" in text and "variabler.kamerabevakning" in text
    assert value in text


def test_a_known_question_with_other_categories_is_still_refused(tmp_path, sample_doc):
    doc = _with_new_question(sample_doc, ["Nej", "Ja", "Vet ej"])
    doc["variabler"]["grannsamverkan"] = ["Ja", "Nej", "Vet ej"]  # reordered: a changed list
    with pytest.raises(DataError, match="CONTRIBUTING") as info:
        load_codebook(_write(tmp_path, doc))
    assert "grannsamverkan" in str(info.value)
