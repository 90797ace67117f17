"""Single-pass ingestion (issue 16): the files of one layout read once and applied together
give exactly what applying them one by one gives — rows, ledger and error messages."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trygghet_analys.config import load_kommuner
from trygghet_analys.errors import DataError
from trygghet_analys.files.codebook import load_codebook
from trygghet_analys.files.survey import (
    RawCells,
    code_cells,
    encode_cells,
    read_raw_file,
    read_survey_cells,
    survey_files,
)
from trygghet_analys.pipeline import ingest_kommun
from trygghet_analys.survey.codebook import normalise_label, normalise_labels
from trygghet_analys.survey.ingest import (
    CodedCells,
    SourceFile,
    apply_layout,
    apply_layout_files,
    layout_for_file,
)


def _groups(data):
    """The kommun, its codebook and its files grouped as the pipeline groups them."""
    (kommun,) = load_kommuner(data / "raw")
    codebook = load_codebook(kommun.survey_dir / "kodbok.yml")
    groups: dict[tuple, list] = {}
    for year, path in survey_files(kommun.survey_dir).items():
        layout = layout_for_file(codebook, year, path)
        raw = read_survey_cells(path, layout)
        columns = tuple((c.variable, c.source) for c in layout.columns_for(year))
        groups.setdefault((layout.name, raw.names, columns), []).append((year, path, layout, raw))
    return kommun, codebook, list(groups.values())


def _one_by_one(kommun, codebook, members):
    out = []
    for year, path, layout, _ in members:
        sheet, cells, first = read_raw_file(path, layout)
        out.append(
            apply_layout(
                cells, codebook=codebook, layout=layout, year=year, kommun=kommun.name,
                strata=kommun.strata, file=path, sheet=sheet, first_row=first,
                ledger_file=path.name,
            )
        )  # fmt: skip
    return out


def _together(kommun, codebook, members):
    layout = members[0][2]
    sources = [
        SourceFile(year, path, raw.rows, raw.sheet, raw.first_row, path.name)
        for year, path, _, raw in members
    ]
    return apply_layout_files(
        code_cells([raw for *_, raw in members]), sources, codebook=codebook, layout=layout,
        kommun=kommun.name, strata=kommun.strata,
    )  # fmt: skip


def _tidy(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.astype({c: "str" for c in ledger.columns if c != "row"}).reset_index(drop=True)


def test_every_layout_together_equals_file_by_file(sample_data_dir):
    kommun, codebook, groups = _groups(sample_data_dir)
    assert len(groups) >= 3 and max(len(g) for g in groups) >= 5  # several files per layout
    excluded = 0
    for members in groups:
        single = _one_by_one(kommun, codebook, members)
        applied = _together(kommun, codebook, members)
        pd.testing.assert_frame_equal(
            applied.responses, pd.concat([r for r, _ in single], ignore_index=True)
        )
        ledgers = [led for _, led in single if len(led)]
        if ledgers:
            pd.testing.assert_frame_equal(
                _tidy(applied.ledger), _tidy(pd.concat(ledgers, ignore_index=True))
            )
        else:
            assert applied.ledger.empty
        excluded += len(applied.ledger)
        # and split again per file (the build cache keeps files one by one)
        for (r1, l1), (r2, l2) in zip(single, applied.per_file(), strict=True):
            pd.testing.assert_frame_equal(r1, r2)
            assert _tidy(l1).equals(_tidy(l2))
    assert excluded > 0  # the sample has summary rows, blank rows and ages outside the sample


def test_coded_cells_decode_to_the_text_read_file_by_file(sample_data_dir):
    _, _, groups = _groups(sample_data_dir)
    for members in groups:
        coded = code_cells([raw for *_, raw in members])
        text = pd.DataFrame(coded.uniques[coded.codes], columns=list(coded.names), dtype=object)
        cells = [read_raw_file(path, layout)[1] for _, path, layout, _ in members]
        pd.testing.assert_frame_equal(text, pd.concat(cells, ignore_index=True))
        assert len(set(coded.uniques)) == len(coded.uniques)  # one code per distinct text
        # each file coded as soon as it is read (the pipeline's way) gives the same cells
        early = code_cells([encode_cells(raw) for *_, raw in members])
        assert early.names == coded.names and early.codes.shape == coded.codes.shape
        assert (early.uniques[early.codes] == coded.uniques[coded.codes]).all()
        assert len(set(early.uniques)) == len(early.uniques)


def test_each_survey_file_is_checked_once(sample_data_dir, monkeypatch):
    """The size limit and the zip/XML-bomb checks run once per read of a file (by the one
    way in, files/_open.py), not once more by the survey reader (issue 16). An xlsx file
    is opened twice: by calamine, and for the formula scan of its sheet's XML."""
    from trygghet_analys.files import _open

    checked = []
    real = _open.check_file
    monkeypatch.setattr(_open, "check_file", lambda p, **kw: (checked.append(p), real(p, **kw)))
    _, _, groups = _groups(sample_data_dir)
    files = [path for members in groups for _, path, _, _ in members]
    assert len(files) >= 20
    survey = [str(p) for p in checked if p.parent.name == "trygghetsmatning" and p.stem.isdigit()]
    reads = {".csv": 1, ".xlsx": 2}
    expected = [str(p.resolve()) for p in files for _ in range(reads[p.suffix])]
    assert {p.suffix for p in files} == {".csv", ".xlsx"}
    assert sorted(survey) == sorted(expected)


def test_utf8_bytes_give_the_cells_of_the_decoded_text(tmp_path):
    """A UTF-8 csv file goes to pyarrow as bytes: a header and cells written decomposed
    (NFD, as a Mac may save them) are read in form NFC, exactly as the decoded text."""
    import unicodedata

    from trygghet_analys.files.survey import _csv_arrow, _csv_utf8

    text = "Område;Svar\n" + 'Södra;"Ja; ganska"\nNorra;Vet ej\n' * 3
    path = tmp_path / "2024.csv"
    path.write_bytes(unicodedata.normalize("NFD", text).encode("utf-8-sig"))
    data = _csv_utf8(path)
    assert not data.startswith(b"\xef\xbb\xbf")
    header, columns = _csv_arrow(data, ";", 0)
    expected_header, expected = _csv_arrow(text, ";", 0)
    assert header == expected_header == ["Område", "Svar"]
    coded = code_cells([RawCells(None, tuple(header), tuple(columns), 6, 2)])
    assert list(coded.uniques[coded.codes[:, 0]]) == ["Södra", "Norra"] * 3
    assert expected[1].to_pylist()[0] == "Ja; ganska"
    assert list(coded.uniques[coded.codes[:, 1]]) == ["Ja; ganska", "Vet ej"] * 3


def test_cp1252_cells_are_decoded_once_per_distinct_text(tmp_path):
    """A CP1252 csv file is split by pyarrow as bytes and each distinct cell decoded once;
    the cells are those of the decoded text (every character CP1252 has, of one, two and
    three bytes in UTF-8), and a byte CP1252 leaves undefined gives the text reader's
    message naming the file."""
    from trygghet_analys.files.survey import _csv_arrow, _decoded_cells
    from trygghet_analys.survey.codebook import FileOptions, Layout

    chars = bytes(
        b for b in range(32, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x22, 0x3B, 0x7F)
    )
    cells = [chars[i : i + 7].decode("cp1252") for i in range(0, len(chars), 7)]
    text = "Område;Svar\n" + "".join(f"Söder;{c}\n" for c in cells) + "Söder;\n"
    path = tmp_path / "2024.csv"
    path.write_bytes(text.encode("cp1252"))
    layout = Layout(name="w", years=frozenset({2024}), file=FileOptions(format="csv",
                    encoding="cp1252", delimiter=";"), columns=(), answers={})  # fmt: skip
    raw = read_survey_cells(path, layout)
    assert raw.names == ("Område", "Svar") and raw.rows == len(cells) + 1
    coded = code_cells([raw])
    expected = _csv_arrow(text, ";", 0)[1]  # the decoded text's cells, as read before
    before = code_cells([raw._replace(columns=tuple(expected))])
    assert (coded.uniques[coded.codes] == before.uniques[before.codes]).all()
    assert raw.columns[1].dictionary_decode().to_pylist() == expected[1].to_pylist()
    # a byte CP1252 leaves undefined
    path.write_bytes(text.encode("cp1252").replace(b"Svar", b"Sv\x81r"))
    with pytest.raises(DataError) as info:
        read_survey_cells(path, layout)
    assert info.value.file == path and "kodningen cp1252" in info.value.swedish()
    path.write_bytes(text.encode("cp1252") + b"S\x9d;x\n")
    with pytest.raises(DataError) as info:
        read_survey_cells(path, layout)
    assert info.value.file == path and "kodningen cp1252" in info.value.swedish()
    with pytest.raises(DataError):
        _decoded_cells([pa.array([b"a", b"\x8f"], pa.binary())], path, "cp1252")


def test_invalid_utf8_is_reported_as_before(tmp_path):
    """Bytes that are not UTF-8 in a file the codebook says is UTF-8: the text reader's
    message (which names the file and the setting to change), not pyarrow's."""
    from trygghet_analys.survey.codebook import FileOptions, Layout

    path = tmp_path / "2024.csv"
    path.write_bytes("Område;Svar\nSödra;Ja\n".encode("cp1252"))
    layout = Layout(name="w", years=frozenset({2024}), file=FileOptions(format="csv",
                    encoding="utf-8", delimiter=";"), columns=(), answers={})  # fmt: skip
    with pytest.raises(DataError) as info:
        read_survey_cells(path, layout)
    assert info.value.file == path
    assert "kodningen utf-8" in info.value.swedish()


def _two_web_files(data):
    """Cells of 2022.csv and 2023.csv (the same layout) and what apply needs."""
    (kommun,) = load_kommuner(data / "raw")
    codebook = load_codebook(kommun.survey_dir / "kodbok.yml")
    out = []
    for year in (2022, 2023):
        path = kommun.survey_dir / f"{year}.csv"
        layout = layout_for_file(codebook, year, path)
        sheet, cells, first = read_raw_file(path, layout)
        out.append((year, path, layout, cells, first))
    return kommun, codebook, out


def _apply_both(kommun, codebook, files):
    cells = pd.concat([f[3] for f in files], ignore_index=True)
    sources = [SourceFile(y, p, len(c), None, first) for y, p, _, c, first in files]
    return apply_layout_files(
        CodedCells.from_frame(cells), sources, codebook=codebook, layout=files[0][2],
        kommun=kommun.name, strata=kommun.strata,
    )  # fmt: skip


def test_an_error_in_the_second_file_names_that_file_and_its_row(sample_data_dir):
    kommun, codebook, files = _two_web_files(sample_data_dir)
    year, path, layout, cells, first = files[1]
    i = int((cells["q02_avstatt"] != "").to_numpy().nonzero()[0][3])
    cells.loc[i, "q02_avstatt"] = "kanske"
    with pytest.raises(DataError) as together:
        _apply_both(kommun, codebook, files)
    with pytest.raises(DataError) as alone:
        apply_layout(
            cells, codebook=codebook, layout=layout, year=year, kommun=kommun.name,
            strata=kommun.strata, file=path, first_row=first,
        )  # fmt: skip
    err = together.value
    assert (err.file, err.row, err.column, err.value) == (path, first + i, "q02_avstatt", "kanske")
    assert err.swedish() == alone.value.swedish()


def test_another_years_contents_named_per_file(sample_data_dir):
    kommun, codebook, files = _two_web_files(sample_data_dir)
    files[1][3].loc[0, "ar"] = "2022"  # 2023.csv says 2022 in its first row
    with pytest.raises(DataError) as info:
        _apply_both(kommun, codebook, files)
    assert info.value.file == files[1][1]
    assert "året 2023 (filen heter 2023.csv" in info.value.swedish()


def test_a_respondent_id_is_unique_within_its_file_not_across_years(sample_data_dir):
    kommun, codebook, files = _two_web_files(sample_data_dir)
    ids_2022, ids_2023 = files[0][3]["id"], files[1][3]["id"]
    respondents = ids_2023.index[ids_2023.str.startswith("w")]  # not blank or summary rows
    first_id = ids_2022[ids_2022.str.startswith("w")].iloc[0]
    files[1][3].loc[respondents[-1], "id"] = first_id  # the same id, another year
    applied = _apply_both(kommun, codebook, files)
    assert (applied.responses["respondent_id"] == first_id).sum() == 2
    files[1][3].loc[respondents[-2], "id"] = first_id  # now twice in 2023.csv
    with pytest.raises(DataError, match="unika respondent-id") as info:
        _apply_both(kommun, codebook, files)
    assert info.value.file == files[1][1]


def test_ingest_with_a_problem_gives_the_messages_of_one_file_at_a_time(data_copy):
    """A problem anywhere: the files are applied one by one, in the order of the years."""
    folder = data_copy / "raw" / "trygghetsmatning"
    for year, old, new in ((2023, ";nej;", ";kanske;"), (2022, ";ja;", ";kanske;")):
        path = folder / f"{year}.csv"
        text = path.read_bytes().decode("utf-8-sig")
        assert old in text
        path.write_bytes(text.replace(old, new, 1).encode("utf-8-sig"))
    with pytest.raises(DataError) as info:
        ingest_kommun(load_kommuner(data_copy / "raw")[0])
    lines = info.value.lines()
    assert [line.count("2022.csv") for line in lines] == [1, 0]
    assert [line.count("2023.csv") for line in lines] == [0, 1]
    assert all("'kanske'" in line for line in lines)


_TEXT = st.text(
    st.sampled_from(
        list(" \t\n\x0b\x1c\x85\xa0\u2000\u3000aAÉe\u0301åÅßİΣς\ufb01\u2013\u2212-09.,\x00")
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TEXT, st.text(max_size=6))))
def test_normalise_labels_equals_normalise_label_text_by_text(texts):
    assert normalise_labels(texts) == [normalise_label(t) for t in texts]


def _region_tables(data):
    from trygghet_analys.config import DataFolder
    from trygghet_analys.pipeline import survey_stage

    folder = DataFolder.at(data)
    return survey_stage(folder, folder.kommuner(), {})


def test_region_pass_equals_kommun_by_kommun(region_data_dir, monkeypatch):
    """Files of the same layout in several kommuner are applied together (issue 16), each
    kommun keeping its own area codes and areas, its rows, ledger lines and order."""
    import trygghet_analys.pipeline as pipeline

    calls = []
    real = pipeline.apply_layout_files

    def counting(cells, sources, **kw):
        calls.append({s.kommun for s in sources})
        return real(cells, sources, **kw)

    monkeypatch.setattr(pipeline, "apply_layout_files", counting)
    tables = _region_tables(region_data_dir)
    region_calls = len(calls)
    assert any(len(c) > 1 for c in calls)  # a layout shared by kommuner: applied together
    kommuner = load_kommuner(region_data_dir / "raw")
    one_by_one = [ingest_kommun(k) for k in kommuner]
    assert region_calls < len(calls) - region_calls
    for name, field in (
        ("survey_responses", "responses"),
        ("survey_strata", "strata"),
        ("survey_breaks", "breaks"),
        ("ledger", "ledger"),
    ):
        expected = pd.concat([getattr(t, field) for t in one_by_one], ignore_index=True)
        pd.testing.assert_frame_equal(tables[name], expected[list(tables[name].columns)])
    assert len(tables["ledger"]) > 0
    assert list(tables["survey_responses"]["kommun"].unique()) == [k.name for k in kommuner]


def test_region_pass_with_a_problem_gives_that_kommuns_message(tmp_path, region_data_dir):
    """A problem in the second kommun: the message is the one its own files give."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(region_data_dir, data)
    kommun = load_kommuner(data / "raw")[1]
    path = [p for p in survey_files(kommun.survey_dir).values() if p.suffix == ".csv"][-1]
    raw = path.read_bytes()
    row = raw.split(b"\n")[1].rstrip(b"\r")  # the first respondent, again at the end
    path.write_bytes(raw.rstrip(b"\r\n") + b"\r\n" + row + b"\r\n")
    with pytest.raises(DataError) as alone:
        ingest_kommun(kommun)
    with pytest.raises(DataError) as info:
        _region_tables(data)
    assert info.value.file == path
    assert "unika respondent-id" in info.value.swedish()
    assert info.value.swedish() == alone.value.swedish()


# --- the csv fast path (pyarrow) gives exactly the cells of csv.reader ----------------------
_CSV_CHARS = st.sampled_from(["a", "b", ";", ",", '"', "\n", "\r\n", "\r", " ", "é", '""'])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_CSV_CHARS, max_size=40).map("".join),
    st.sampled_from([";", ","]),
    st.integers(min_value=0, max_value=2),
)
def test_csv_fast_path_equals_the_row_by_row_reader(text, delimiter, skip_rows):
    """Whenever pyarrow's path answers, its header and columns are csv.reader's (issue 16:
    the header is read from the first lines only, the columns are pyarrow's own arrays)."""
    import csv
    import io

    from trygghet_analys.files._io import nfc
    from trygghet_analys.files.survey import _csv_arrow

    fast = _csv_arrow(text, delimiter, skip_rows)
    if fast is None:
        return
    header, columns = fast
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    width = len(records[0])
    rows = [r if r else [""] * width for r in records]  # a blank line: one empty cell
    assert header == [nfc(" ".join(h.split())) for h in rows[skip_rows]]
    body = rows[skip_rows + 1 :]
    assert [c.to_pylist() for c in columns] == [[r[j] for r in body] for j in range(width)]
    # the same text's UTF-8 bytes (how a UTF-8 file is read): the same header and cells
    header_b, columns_b = _csv_arrow(text.encode("utf-8"), delimiter, skip_rows)
    assert header_b == header
    assert [c.to_pylist() for c in columns_b] == [c.to_pylist() for c in columns]
    # and its CP1252 bytes: the same header; byte cells that decode to the same text
    header_c, columns_c = _csv_arrow(text.encode("cp1252"), delimiter, skip_rows, encoding="cp1252")
    assert header_c == header
    decoded = [[v.decode("cp1252") for v in c.to_pylist()] for c in columns_c]
    assert decoded == [c.to_pylist() for c in columns]


@pytest.mark.parametrize(
    ("text", "skip_rows", "header"),
    [
        ('"Kön; svar";Ålder\n1;2\n', 0, ["Kön; svar", "Ålder"]),  # a quoted header
        ('Kön;"Ålder\n(år)"\n1;2\n', 0, ["Kön", "Ålder (år)"]),  # a newline in a header
        ("Enkät 2024;\n\nKön;Ålder\n1;2\n", 2, ["Kön", "Ålder"]),  # a title, a blank line
        ("Titel;x\nKön;Ålder\r\n1;2\r\n", 1, ["Kön", "Ålder"]),
        ("Kön;Ålder\r1;2\r", 0, ["Kön", "Ålder"]),  # old Mac line ends
        ("Kön\n\n1\n", 0, ["Kön"]),  # one column: a blank line is an empty cell
    ],
)
def test_csv_fast_path_header(text, skip_rows, header):
    from trygghet_analys.files.survey import _csv_arrow

    fast = _csv_arrow(text, ";", skip_rows)
    assert (fast[0] if fast else None) == header


def _region_inputs(data):
    """Every kommun's responses (no weights), ledger and what region_survey_tables needs."""
    from trygghet_analys.files.survey import read_population
    from trygghet_analys.survey.ingest import KommunSurvey

    responses, ledgers, surveys = [], [], []
    for kommun in load_kommuner(data / "raw"):
        tables = ingest_kommun(kommun)
        population_file = kommun.survey_dir / "population.csv"
        population = read_population(population_file, kommun.strata)
        responses.append(tables.responses.assign(weight=float("nan")))
        ledgers.append(tables.ledger)
        codebook = load_codebook(kommun.survey_dir / "kodbok.yml", areas=kommun.strata)
        surveys.append(
            KommunSurvey(kommun.name, len(tables.responses), population, codebook,
                         population_file)
        )  # fmt: skip
    return responses, ledgers, surveys


@pytest.mark.parametrize("problem", ["missing", "over"])
def test_region_tables_name_the_first_kommun_with_a_population_problem(region_data_dir, problem):
    """Weights made for every kommun at once: a population problem gives the message that
    kommun's own design_weights gives, for the first kommun (in order) that has one."""
    from trygghet_analys.survey.ingest import design_weights, region_survey_tables

    responses, ledgers, surveys = _region_inputs(region_data_dir)
    for k in (1, 2):  # the second and the third kommun
        population = surveys[k].population.copy()
        if problem == "missing":
            population = population.iloc[1:]  # the first year's first area
        else:
            population.loc[3, "sampled"] = 1  # fewer sampled than respondents
        surveys[k] = surveys[k]._replace(population=population)
    with pytest.raises(DataError) as region:
        region_survey_tables(
            pd.concat(responses, ignore_index=True), pd.concat(ledgers, ignore_index=True), surveys
        )
    with pytest.raises(DataError) as alone:
        second = surveys[1]
        design_weights(responses[1], second.population, kommun=second.kommun, file=second.file)
    assert region.value.file == surveys[1].file
    assert region.value.swedish() == alone.value.swedish()
    assert (
        "en rad i population.csv" if problem == "missing" else "högst"
    ) in region.value.swedish()


def test_region_tables_equal_each_kommuns_own(region_data_dir):
    """region_survey_tables gives each kommun's survey_tables (design_weights per kommun),
    stacked: weights, strata in the order of each population file, breaks, ledger."""
    from trygghet_analys.survey.ingest import region_survey_tables, survey_tables

    responses, ledgers, surveys = _region_inputs(region_data_dir)
    region = region_survey_tables(
        pd.concat(responses, ignore_index=True), pd.concat(ledgers, ignore_index=True), surveys
    )
    alone = [
        survey_tables([r], [led], s.population, codebook=s.codebook, kommun=s.kommun,
                      file=s.file, validate=False)
        for r, led, s in zip(responses, ledgers, surveys, strict=True)
    ]  # fmt: skip
    assert len({s.kommun for s in surveys}) == 3
    for field in ("responses", "strata", "breaks", "ledger"):
        expected = pd.concat([getattr(t, field) for t in alone], ignore_index=True)
        pd.testing.assert_frame_equal(getattr(region, field), expected)
    assert region.responses["weight"].notna().all()


def test_reading_memory_uses_the_system_pool_and_restores_the_default():
    """Inside reading_memory Arrow allocates from the system pool; the pool before it is
    back afterwards, also when the block raises, and buffers made inside outlive it."""
    import gc

    import pyarrow as pa

    from trygghet_analys.files.survey import reading_memory

    before = pa.default_memory_pool().backend_name
    assert gc.isenabled()
    with reading_memory():
        assert pa.default_memory_pool().backend_name == "system"
        assert not gc.isenabled()  # the cyclic collector paused while reading
        kept = pa.array(["a", "bb"] * 1000)
    assert pa.default_memory_pool().backend_name == before
    assert gc.isenabled()
    with pytest.raises(DataError), reading_memory():
        raise DataError("något", file="x.csv")
    assert pa.default_memory_pool().backend_name == before
    assert gc.isenabled()
    assert kept.to_pylist()[:2] == ["a", "bb"]
    gc.disable()  # a collector paused by the caller stays paused
    try:
        with reading_memory():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
