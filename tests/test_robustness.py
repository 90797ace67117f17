"""Issue 17: strict YAML, the one way in for raw files, escaped messages, the safety net."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from conftest import serve_folder
from trygghet_analys import cli
from trygghet_analys.errors import DataError, printable
from trygghet_analys.files._yaml import load_yaml


# --- the CLI's safety net ----------------------------------------------------------------
def test_unexpected_error_is_one_line_and_exit_3(monkeypatch):
    """A bug (not bad input) prints one 'internt fel' line and exits 3, no traceback."""

    def boom(args):
        raise ZeroDivisionError("division by zero\x1b[2J")

    monkeypatch.setattr(cli, "_dispatch", boom)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["build", "--data", "."])
    assert rc == cli.INTERNAL_ERROR == 3
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("fel: internt fel (ZeroDivisionError: division by zero\\x1b[2J)")
    assert "kör med --debug och skicka utskriften" in lines[0]
    assert "\x1b" not in err.getvalue()


def test_unexpected_error_with_debug_raises(monkeypatch):
    def boom(args):
        raise ZeroDivisionError("x")

    monkeypatch.setattr(cli, "_dispatch", boom)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "build", "--data", "."])


def test_data_error_is_still_exit_2(monkeypatch):
    def bad(args):
        raise DataError("ett tal", file="a.csv", value="x\ny")

    monkeypatch.setattr(cli, "_dispatch", bad)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["build", "--data", "."])
    assert rc == 2
    assert err.getvalue() == "fel: Fel i data (fil 'a.csv'): värdet 'x\\ny': förväntade ett tal\n"


# --- escaped control characters -------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Landsbygd", "Landsbygd"),
        ("rad1\nrad2", "rad1\\nrad2"),
        ("a\rb", "a\\rb"),
        ("\x1b[2J\x1b[31mröd", "\\x1b[2J\\x1b[31mröd"),
        ("noll\x00byte", "noll\\x00byte"),
        ("bom\ufeff", "bom\\ufeff"),
        ("Älmhult – å ä ö", "Älmhult – å ä ö"),
    ],
)
def test_printable_escapes_control_characters(raw, shown):
    assert printable(raw) == shown


def test_file_name_with_newline_stays_on_one_line():
    line = DataError("ett tal", file="raw/20\n25.csv", sheet="Bl\tad").swedish()
    assert "\n" not in line and "\t" not in line
    assert "fil 'raw/20\\n25.csv', blad 'Bl\\tad'" in line


# --- strict YAML ------------------------------------------------------------------------------
def test_yaml_duplicate_key_names_both_lines():
    with pytest.raises(DataError) as info:
        load_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", file="kommun.yml")
    assert info.value.row == 4
    assert info.value.key == "b.c"
    assert "står redan på rad 3" in info.value.swedish()


def test_yaml_same_key_on_other_levels_is_fine():
    assert load_yaml("a: {x: 1}\nb: {x: 1}\nx: 2\n", file="k.yml") == {
        "a": {"x": 1},
        "b": {"x": 1},
        "x": 2,
    }


def test_yaml_keys_equal_after_nfc_are_duplicates():
    nfc, nfd = "Älmhult", "A\u0308lmhult"
    with pytest.raises(DataError) as info:
        load_yaml(f"{nfc}: 1\n{nfd}: 2\n", file="k.yml")
    assert info.value.row == 2


def test_yaml_merge_key_may_be_overridden():
    """``<<: *anchor`` followed by an own key is YAML's override, not a duplicate."""
    doc = load_yaml("x: &a {p: 1, q: 2}\ny:\n  <<: *a\n  p: 3\n", file="k.yml")
    assert doc["y"] == {"p": 3, "q": 2}


@pytest.mark.parametrize("date", ["2020-09-31", "2025-02-29", "2024-13-01", "2023-02-30"])
def test_yaml_date_that_does_not_exist(date):
    with pytest.raises(DataError) as info:
        load_yaml(f"a:\n- signed: {date}\n", file="2025.yml")
    assert (info.value.row, info.value.key, info.value.value) == (2, "a[1].signed", date)


@pytest.mark.parametrize("date", ["2024-02-29", "2025-02-28", "2020-09-30", "2025-12-31"])
def test_yaml_date_that_exists(date):
    import datetime as dt

    assert load_yaml(f"signed: {date}\n", file="2025.yml") == {
        "signed": dt.date.fromisoformat(date)
    }


def test_yaml_syntax_error_names_line():
    with pytest.raises(DataError) as info:
        load_yaml("a: 1\nb: [x\n", file="k.yml", expected="giltig YAML i UTF-8")
    assert info.value.swedish() == "Fel i data (fil 'k.yml', rad 3): förväntade giltig YAML i UTF-8"


# --- the one way in ---------------------------------------------------------------------------
SRC = Path(__file__).resolve().parents[1] / "src" / "trygghet_analys"
#: Calls that read or list files by path.
_READS = re.compile(
    r"\bopen\(|\.read_text\(|\.read_bytes\(|\bpd\.read_\w+\(|\bread_parquet\(|\.from_path\("
    r"|load_workbook\(|\.iterdir\(|\.glob\(|\.rglob\(|scandir\(|listdir\("
)
#: Modules that may: the one way in itself, the limits it applies before reading, and the
#: build cache (it reads processed/.cache and the package's own source; raw inputs it
#: hashes through open_raw).
_THE_WAY_IN = {"files/_open.py", "files/_limits.py", "files/cache.py"}
#: Folders that never read raw/: the report reads processed/, the generator writes raw/.
_NOT_RAW_FOLDERS = ("report/", "sample/")
#: Reading text that is already in memory, or the package's own resources.
_NOT_A_FILE = re.compile(r"io\.StringIO\(|resources\b|_resource\w*\(|urlopen\(|os\.fdopen\(")


def test_raw_files_are_read_only_through_open_raw():
    """Every other read of a file by path in src/ is a reader bypassing open_raw.

    A line that reads something else (the package's own files) says so with a comment
    ``# not raw: <what it reads>``.
    """
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in _THE_WAY_IN or rel.startswith(_NOT_RAW_FOLDERS):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0]
            if not _READS.search(code) or "# not raw:" in line:
                continue
            window = " ".join(lines[max(i - 3, 0) : i + 3])  # a call spread over lines
            if _NOT_A_FILE.search(window):
                continue
            offenders.append(f"{rel}:{i + 1}: {line.strip()}")
    assert offenders == []


def test_open_raw_refuses_what_is_not_a_regular_file(tmp_path):
    from trygghet_analys.files._open import read_raw

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "mapp.csv").mkdir()
    (raw / "trasig.csv").symlink_to(raw / "finns_inte.csv")
    (raw / "noll.csv").symlink_to("/dev/zero")
    (raw / "ok.csv").write_bytes(b"a;b\n")
    (raw / "lank.csv").symlink_to("ok.csv")
    os.mkfifo(raw / "pipe.csv")
    outside = tmp_path / "utanfor.csv"
    outside.write_bytes(b"x")
    (raw / "ut.csv").symlink_to(outside)
    assert read_raw(raw / "ok.csv") == b"a;b\n"
    assert read_raw(raw / "lank.csv") == b"a;b\n"  # a link inside the data folder is fine
    for name, words in [
        ("mapp.csv", "här står en mapp"),
        ("trasig.csv", "som inte finns"),
        ("noll.csv", "länken pekar på '/dev/zero', utanför datamappen"),
        ("pipe.csv", "namngiven pipe (FIFO)"),
        ("ut.csv", "utanför datamappen"),
        ("saknas.csv", "en fil som finns"),
    ]:
        with pytest.raises(DataError) as info:
            read_raw(raw / name)
        assert words in info.value.swedish(), name
        assert name in info.value.swedish()
    with pytest.raises(FileNotFoundError):
        read_raw(raw / "saknas.csv", kind=None)


def test_read_raw_size_limit(tmp_path):
    from trygghet_analys.files._open import read_raw

    p = tmp_path / "raw" / "stor.csv"
    p.parent.mkdir()
    p.write_bytes(b"x" * 101)
    assert len(read_raw(p, max_bytes=101)) == 101
    with pytest.raises(DataError, match="högst"):
        read_raw(p, max_bytes=100)


@pytest.mark.parametrize("length", [100, 101, 150])
def test_read_raw_file_grown_after_its_size_was_taken(tmp_path, monkeypatch, length):
    """read_raw asks for the size fstat gives + 1 bytes first; a file longer than that
    (grown meanwhile) is still read whole, and over the limit refused."""
    from trygghet_analys.files import _open

    p = tmp_path / "raw" / "vaxer.csv"
    p.parent.mkdir()
    p.write_bytes(b"x" * length)
    real_fstat = os.fstat

    class Small:  # the size as it was before the file grew
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, 10

    monkeypatch.setattr(_open.os, "fstat", lambda fd: Small(real_fstat(fd)))
    if length <= 101:
        assert _open.read_raw(p, max_bytes=101) == b"x" * length
    else:
        monkeypatch.setattr(_open, "check_file", lambda *a, **k: None)
        with pytest.raises(DataError, match="inte växer"):
            _open.read_raw(p, max_bytes=101)


def test_list_raw_lists_every_entry_but_hidden(tmp_path):
    from trygghet_analys.files._open import list_raw

    labb = tmp_path / "raw" / "labb"
    labb.mkdir(parents=True)
    (labb / "2025-var.csv").mkdir()
    (labb / "2025-host.csv").symlink_to("/mnt/finns_inte.csv")
    (labb / ".~lock").write_text("x")
    assert [p.name for p in list_raw(labb)] == ["2025-host.csv", "2025-var.csv"]
    assert list_raw(tmp_path / "raw" / "saknas") == []
    (tmp_path / "raw" / "fil").write_text("x")
    with pytest.raises(DataError, match="en mapp, men här står en fil"):
        list_raw(tmp_path / "raw" / "fil")


# --- kommun.yml: ensamt_stratum ---------------------------------------------------------------
def _strata(respondents: list[int]):
    import pandas as pd

    return pd.DataFrame(
        {
            "kommun": "Sjöbo",
            "year": 2025,
            "stratum": [f"Område {i}" for i in range(len(respondents))],
            "respondents": respondents,
        }
    )


@pytest.mark.parametrize(
    ("respondents", "setting", "expected"),
    [
        ([2, 40], "stopp", "fail"),  # two respondents: nothing to decide
        ([2, 40], "ta_bort", "fail"),
        ([1, 40], "ta_bort", "remove"),  # one respondent, the kommun chose ta_bort
        ([2, 40], "slå_ihop", "fail"),
        ([1, 40], "slå_ihop", "fail"),  # merged before estimation: nothing lonely is left
    ],
)
def test_lonely_area_follows_the_setting(respondents, setting, expected):
    from trygghet_analys.config import KommunConfig
    from trygghet_analys.pipeline import _lonely_strata

    k = KommunConfig(name="Sjöbo", slug="sjobo", raw=Path("raw"), extra={"ensamt_stratum": setting})
    assert _lonely_strata([k], _strata(respondents)) == expected


def test_lonely_area_stops_naming_the_setting_in_kommun_yml():
    from trygghet_analys.config import KommunConfig
    from trygghet_analys.pipeline import _lonely_strata

    k = KommunConfig(name="Sjöbo", slug="sjobo", raw=Path("raw"))  # default: stopp
    with pytest.raises(DataError) as info:
        _lonely_strata([k], _strata([1, 40]))
    line = info.value.swedish()
    assert line.startswith("Fel i data (fil 'raw/kommun.yml', nyckel 'ensamt_stratum'): ")
    assert "värdet 'Område 0'" in line and "år 2025" in line
    assert line.endswith("kommun.yml: ensamt_stratum: slå_ihop | ta_bort, se docs/statistik.md)")
    assert "lonely_psu" not in line  # no Python parameter the analyst cannot set


def test_slå_ihop_merges_the_lonely_area_with_its_neighbour_in_omraden_order():
    import pandas as pd

    from trygghet_analys.config import KommunConfig
    from trygghet_analys.pipeline import _design_strata

    k = KommunConfig(name="Sjöbo", slug="sjobo", raw=Path("raw"),
                     strata=("Område 1", "Område 0", "Område 2"),
                     extra={"ensamt_stratum": "slå_ihop"})  # fmt: skip
    strata = _strata([1, 3, 2]).assign(population=[10, 20, 30])
    responses = pd.DataFrame({"kommun": "Sjöbo", "year": 2025,
                              "stratum": ["Område 0"] + ["Område 1"] * 3 + ["Område 2"] * 2})  # fmt: skip
    out, design, col = _design_strata([k], responses, strata)
    # Område 0 (lonely) stands second in omraden: it joins the next one, Område 2
    assert (
        out[col].tolist()
        == ["Område 0 + Område 2"] + ["Område 1"] * 3 + ["Område 0 + Område 2"] * 2
    )
    assert sorted(design["population"]) == [20, 40]
    # ta_bort: the design is left alone
    other = KommunConfig(
        name="Sjöbo", slug="sjobo", raw=Path("raw"), extra={"ensamt_stratum": "ta_bort"}
    )
    assert _design_strata([other], responses, strata)[2] == "stratum"


# --- campaigns after the build date --------------------------------------------------------
@pytest.mark.parametrize(("start", "refused"), [("2026-03-10", False), ("2026-03-11", True)])
def test_campaign_after_the_build_date(start, refused):
    """A campaign starting on the build date is fine; one starting the day after is not."""
    import datetime as dt

    import pandas as pd

    from trygghet_analys.pipeline import _refuse_future_campaigns

    campaigns = pd.DataFrame(
        {
            "plant": ["Verket"],
            "campaign": ["2026 vår"],
            "start": [pd.Timestamp(start)],
            "end": [pd.Timestamp(start) + pd.Timedelta(days=6)],
            "source_file": ["raw/avloppsvatten/kampanjer.csv"],
            "source_row": [5],
        }
    )
    today = dt.date(2026, 3, 10)
    if not refused:
        _refuse_future_campaigns(campaigns, today)
        return
    with pytest.raises(DataError) as info:
        _refuse_future_campaigns(campaigns, today)
    assert info.value.row == 5 and info.value.value == start
    assert "framtida_kampanjer: true" in info.value.swedish()


# --- fetch-euda: validate the whole download, then replace -------------------------------------
@pytest.fixture
def euda_server(tmp_path):
    """A local HTTP server with a good EUDA file, a truncated one and one with a negative load."""

    fixture = Path(__file__).parent / "fixtures" / "euda_small.csv"
    good = fixture.read_bytes()
    www = tmp_path / "www"
    www.mkdir()
    (www / "ww2026-all-data_en.csv").write_bytes(good)
    (www / "avbruten").mkdir()
    (www / "avbruten" / "ww2026-all-data_en.csv").write_bytes(good[: len(good) // 2].rstrip(b"\n"))
    header, first, rest = good.split(b"\n", 2)
    cells = first.split(b",")
    cells[5] = b"-1.5"  # the first day's load
    (www / "negativ").mkdir()
    (www / "negativ" / "ww2026-all-data_en.csv").write_bytes(
        header + b"\n" + b",".join(cells) + b"\n" + rest
    )

    with serve_folder(www) as url:
        yield url


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("avbruten", "den sista raden slutar mitt i"),
        ("negativ", "förväntade en belastning ≥ 0"),
    ],
)
def test_fetch_euda_keeps_the_previous_file(euda_server, tmp_path, where, words):
    from trygghet_analys.files import euda

    existing = tmp_path / "external" / "ww2026-all-data_en.csv"
    existing.parent.mkdir(parents=True)
    existing.write_bytes(b"den tidigare filen")
    url = f"{euda_server}/{where}/ww2026-all-data_en.csv"
    with pytest.raises(DataError) as info:
        euda.fetch_euda(tmp_path, url=url)
    assert words in info.value.swedish()
    assert url in info.value.swedish()  # the message names what was downloaded
    assert existing.read_bytes() == b"den tidigare filen"
    assert [p.name for p in existing.parent.iterdir()] == [existing.name]  # no temp file
    # the good file then replaces it
    assert euda.fetch_euda(tmp_path, url=f"{euda_server}/ww2026-all-data_en.csv") == existing
    assert existing.read_bytes() != b"den tidigare filen"


# --- NFC at every boundary, typed shapes, unreadable xlsx cells (issue 17) ----------------
def test_text_files_are_read_in_nfc(tmp_path):
    import unicodedata

    from trygghet_analys.files._io import read_text_any

    nfd = unicodedata.normalize("NFD", "Älmhult;Södra\n")
    assert nfd != "Älmhult;Södra\n"  # the fixture really is decomposed
    (tmp_path / "raw").mkdir()
    path = tmp_path / "raw" / "a.csv"
    path.write_bytes(nfd.encode("utf-8"))
    assert read_text_any(path)[0] == "Älmhult;Södra\n"
    path.write_bytes(nfd.encode("cp1252", errors="ignore"))  # CP1252 cannot hold NFD marks
    assert read_text_any(path)[0] == "Almhult;Sodra\n"


def test_cp1252_text_is_nfc_without_normalising():
    """``decoded_nfc`` skips the NFC check for CP1252 (issue 16): every character CP1252
    can hold, alone and next to any other, is already NFC; other encodings are normalised."""
    import unicodedata

    from trygghet_analys.files._io import decoded_nfc

    chars = []
    for b in range(256):
        with contextlib.suppress(UnicodeDecodeError):
            chars.append(bytes([b]).decode("cp1252"))
    assert len(chars) == 251  # five bytes are undefined in CP1252
    assert all(unicodedata.combining(c) == 0 for c in chars)
    assert all(unicodedata.is_normalized("NFC", a + b) for a in chars for b in chars)
    assert decoded_nfc("Älmhult".encode("cp1252"), "cp1252") == "Älmhult"
    nfd = unicodedata.normalize("NFD", "Älmhult")
    assert decoded_nfc(nfd.encode("utf-8"), "utf-8") == "Älmhult"


def test_yaml_keys_and_values_are_read_in_nfc():
    import unicodedata

    from trygghet_analys.files._yaml import load_yaml

    doc = load_yaml(unicodedata.normalize("NFD", "omraden: [Södra]\nensamt_stratum: slå_ihop\n"),
                    file="kommun.yml")  # fmt: skip
    assert doc == {"omraden": ["Södra"], "ensamt_stratum": "slå_ihop"}


def test_messages_call_out_nfd_values_and_compose_file_names():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Södra")
    line = DataError("ett område", file=unicodedata.normalize("NFD", "raw/Älmhult.csv"),
                     value=nfd).swedish()  # fmt: skip
    assert "fil 'raw/Älmhult.csv'" in line
    assert "samma bokstäver men annan Unicode-form (NFD)" in line
    # the same value in NFC has no note (the other side of the rule)
    assert "Unicode-form" not in DataError("ett område", value="Södra").swedish()


def test_survey_cells_and_headers_are_nfc():
    import unicodedata

    import pyarrow as pa

    from trygghet_analys.files.survey import _normalise

    cells = pa.array([unicodedata.normalize("NFD", "Övriga tätorter"), "Ja", None, "2.0"])
    out = _normalise(cells).to_pylist()
    assert out == ["Övriga tätorter", "Ja", "", "2"]
    assert all(unicodedata.is_normalized("NFC", v) for v in out)


@pytest.mark.parametrize(
    ("doc", "key", "row", "expected"),
    [
        ({"variabler": {"ja": 5}, "layouter": []}, "variabler.ja", 2, "en lista"),
        ({"variabler": {}, "aldersgrupper": {"16–24": 16}, "layouter": []},
         "aldersgrupper.16–24", 3, "ett par [min, max]"),
        ({"variabler": {}, "skalor": {"s": "Nej"}, "layouter": []}, "skalor.s", 4,
         "en nyckel–värde-lista"),
        ({"variabler": {}, "layouter": [], "okand": 1}, "okand", 5, "en av nycklarna version"),
        ({"variabler": {}}, "layouter", 1, "nyckeln 'layouter'"),  # the document's line
    ],
)  # fmt: skip
def test_codebook_shape_errors_name_line_and_key(doc, key, row, expected):
    from trygghet_analys.files._models import CodebookDoc, check_shape

    lines = {(): 1, ("variabler",): 1, ("variabler", "ja"): 2, ("aldersgrupper", "16–24"): 3,
             ("skalor", "s"): 4, ("okand",): 5}  # fmt: skip
    with pytest.raises(DataError) as info:
        check_shape(CodebookDoc, doc, file="kodbok.yml", lines=lines)
    err = info.value
    assert (err.key, err.row) == (key, row)
    assert expected in err.expected
    # the valid document passes (the other side)
    check_shape(CodebookDoc, {"variabler": {"ja": ["Ja"]}, "layouter": []}, file="k", lines={})


def test_register_shape_accepts_the_bundled_registers():
    # the other side: every bundled register passes the typed shape unchanged
    from trygghet_analys.config import repo_root
    from trygghet_analys.files.registers import load_registers

    regs = load_registers(repo_root() / "data" / "raw" / "medborgarloften",
                          areas=("Älmhults tätort", "Övriga tätorter", "Landsbygd"))  # fmt: skip
    assert len(regs) >= 4


def _xlsx_with(tmp_path, cells: str) -> Path:
    """A one-sheet workbook whose sheet XML has the given cells in row 2."""
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Svar"
    wb.active.append(["id", "q"])
    wb.active.append([1, "x"])
    (tmp_path / "raw").mkdir(exist_ok=True)
    src = tmp_path / "raw" / "src.xlsx"
    wb.save(src)
    out = tmp_path / "raw" / "f.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<row r="2"')
                end = text.index("</row>", start)
                text = text[:start] + f'<row r="2">{cells}' + text[end:]
                data = text.encode()
            zout.writestr(info, data)
    return out


@pytest.mark.parametrize(
    ("cells", "refused"),
    [
        ('<c r="A2" t="n"><v>1</v></c><c r="B2"><f>1+1</f><v /></c>', ["B2"]),
        ('<c r="A2" t="n"><v>1</v></c><c r="B2"><f>1+1</f></c>', ["B2"]),
        ('<c r="A2" t="n"><v>1</v></c><c r="B2"><f>1+1</f><v>2</v></c>', []),  # cached
        ('<c r="A2" t="n"><v>1</v></c><c r="B2" t="str"><f>""</f><v></v></c>', []),  # ""
        ('<c r="A2"/><c r="B2"><f>1+1</f></c>', ["B2"]),  # after a self-closing cell
    ],
)
def test_formulas_without_a_cached_value(tmp_path, monkeypatch, cells, refused):
    from trygghet_analys.files.survey import _uncached_formulas

    monkeypatch.chdir(tmp_path)
    path = _xlsx_with(tmp_path, cells)
    assert [ref for ref, _, _ in _uncached_formulas(path, "Svar")] == refused


def test_slå_ihop_without_a_neighbour_blames_that_kommuns_kommun_yml():
    import pandas as pd

    from trygghet_analys.config import KommunConfig
    from trygghet_analys.pipeline import _design_strata

    ok = KommunConfig(name="Alvesta", slug="alvesta", raw=Path("raw/kommuner/alvesta"),
                      extra={"ensamt_stratum": "slå_ihop"})  # fmt: skip
    alone = KommunConfig(name="Sjöbo", slug="sjobo", raw=Path("raw/kommuner/sjobo"),
                         extra={"ensamt_stratum": "slå_ihop"})  # fmt: skip
    strata = pd.DataFrame({"kommun": ["Alvesta", "Alvesta", "Sjöbo"], "year": 2025,
                           "stratum": ["A", "B", "Område 0"], "respondents": [2, 1, 1],
                           "population": [10, 10, 10]})  # fmt: skip
    responses = pd.DataFrame({"kommun": ["Alvesta"] * 3 + ["Sjöbo"], "year": 2025,
                              "stratum": ["A", "A", "B", "Område 0"]})  # fmt: skip
    with pytest.raises(DataError) as info:
        _design_strata([ok, alone], responses, strata)
    line = info.value.swedish()
    assert line.startswith(
        "Fel i data (fil 'raw/kommuner/sjobo/kommun.yml', nyckel 'ensamt_stratum')"
    )
    assert "år 2025 i Sjöbo" in line and "ensamt_stratum: slå_ihop | ta_bort" in line
    # with a second area in Sjöbo the merge goes through (the other side)
    more = pd.concat([responses, pd.DataFrame({"kommun": ["Sjöbo"] * 2, "year": 2025,
                                               "stratum": ["Område 1"] * 2})])  # fmt: skip
    strata2 = pd.concat([strata, pd.DataFrame({"kommun": ["Sjöbo"], "year": 2025,
                                               "stratum": ["Område 1"], "respondents": [2],
                                               "population": [10]})])  # fmt: skip
    out, _, col = _design_strata([ok, alone], more, strata2)
    assert set(out.loc[out["kommun"] == "Sjöbo", col]) == {"Område 0 + Område 1"}
