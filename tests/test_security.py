"""Security: XML bombs, formula injection, notebook outputs in git, size and row limits.

- openpyxl runs with defusedxml and refuses an entity bomb quickly; our own xlsx readers
  (calamine) refuse it or read it without expanding anything, equally fast. "Quickly" is a
  ratio against the same reader on the same file without the bomb, never seconds.
- ``_limits.check_file`` refuses a DTD in any xlsx part, zip bombs and oversized files;
  ``check_rows`` refuses too many rows; both in one Swedish line.
- No exported xlsx holds a formula, and no text cell of an exported xlsx or CSV starts
  with ``=``, ``+``, ``-`` or ``@``, even when raw text (a commitment's wording) does.
- Notebooks committed to git carry no outputs (microdata cannot leak through a commit).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from test_bad_inputs import xlsx_bomb_bytes
from test_raw_readonly import INJECTED_TEXT, reported_folder
from trygghet_analys import pipeline
from trygghet_analys.errors import DataError
from trygghet_analys.files import _limits, wastewater
from trygghet_analys.files.export import write_xlsx
from trygghet_analys.files.survey import read_raw_file
from trygghet_analys.survey.codebook import FileOptions, Layout

REPO = Path(__file__).resolve().parents[1]
#: A bomb must be refused in at most this many times the time the same reader takes for the
#: same workbook without the bomb (a ratio, not seconds: CI machines differ 2–3× from day to
#: day). An expanded billion-laughs takes minutes and gigabytes, i.e. >10 000×.
BOMB_RATIO = 200
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- xlsx fixtures -----------------------------------------------------------------------------
def _plain_xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Svar"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """Billion-laughs workbooks: the entity in a text cell, and in a number cell; "plain" is
    the same workbook without the bomb (the time reference)."""
    d = tmp_path_factory.mktemp("bombs")
    base = _plain_xlsx([["id", "omrade", "alder"], ["a1", "Landsbygd", 44]])
    out = {"plain": d / "plain.xlsx"}
    out["plain"].write_bytes(base)
    for name, tag_first in (("text", True), ("number", False)):
        data = xlsx_bomb_bytes(base) if tag_first else _bomb_in_number(base)
        out[name] = d / f"bomb_{name}.xlsx"
        out[name].write_bytes(data)
    return out


def _bomb_in_number(xlsx: bytes) -> bytes:
    """Like xlsx_bomb_bytes but with the entity in a numeric cell's <v>."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    bomb = zipfile.ZipFile(io.BytesIO(xlsx_bomb_bytes(xlsx)))
    sheet = next(n for n in src.namelist() if n.startswith("xl/worksheets/sheet"))
    text = src.read(sheet).decode()
    dtd = bomb.read(sheet).decode().split("]>", 1)[0] + "]>"
    text = dtd + re.sub(r"<v>44</v>", "<v>&lol9;</v>", text, count=1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, text.encode() if info.filename == sheet else src.read(info))
    return out.getvalue()


def _timed(fn, repeats: int = 3):
    """(result, exception, seconds): the fastest of ``repeats`` calls (robust to load)."""
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        try:
            out = (fn(), None)
        except Exception as exc:
            out = (None, exc)
        seconds = time.perf_counter() - t0
        best = seconds if best is None else min(best, seconds)
    return out[0], out[1], best


def _quick(bomb_seconds: float, plain) -> None:
    """The bomb was refused within BOMB_RATIO × the time ``plain`` (no bomb) takes."""
    _, exc, plain_seconds = _timed(plain)
    assert exc is None, repr(exc)
    assert bomb_seconds < BOMB_RATIO * max(plain_seconds, 1e-3), (bomb_seconds, plain_seconds)


# --- XML bombs -----------------------------------------------------------------------------------
def test_openpyxl_uses_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "defusedxml must be installed for openpyxl"


@pytest.mark.parametrize("where", ["text", "number"])
def test_openpyxl_refuses_the_bomb_quickly(bombs, where):
    _, exc, seconds = _timed(lambda: openpyxl.load_workbook(bombs[where]))
    _quick(seconds, lambda: openpyxl.load_workbook(bombs["plain"]))
    assert exc is not None
    chain, e = [], exc
    while e is not None:
        chain.append(type(e).__name__)
        e = e.__cause__ or e.__context__
    assert {"EntitiesForbidden", "DTDForbidden"} & set(chain), chain


@pytest.mark.parametrize("where", ["text", "number"])
def test_calamine_never_expands_the_bomb(bombs, where):
    """calamine does not expand entities: it refuses, or leaves the cell empty – fast."""
    from python_calamine import CalamineWorkbook

    def read(path):
        wb = CalamineWorkbook.from_path(str(path))
        return wb.get_sheet_by_name(wb.sheet_names[0]).to_python()

    grid, exc, seconds = _timed(lambda: read(bombs[where]))
    _quick(seconds, lambda: read(bombs["plain"]))
    if exc is None:
        assert not any("lol" in str(c) for row in grid for c in row)


def test_survey_reader_refuses_the_bomb(bombs):
    layout = Layout("x", frozenset({2025}), FileOptions(format="xlsx"), (), {})
    _, exc, seconds = _timed(lambda: read_raw_file(bombs["text"], layout))
    _quick(seconds, lambda: read_raw_file(bombs["plain"], layout))
    assert isinstance(exc, DataError), exc


def test_lab_reader_refuses_the_bomb(bombs):
    _, exc, seconds = _timed(lambda: wastewater.read_lab_file(bombs["text"]))
    _quick(seconds, lambda: openpyxl.load_workbook(bombs["plain"]))  # a lab file's read floor
    assert isinstance(exc, DataError), repr(exc)


# --- limits -------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["text", "number"])
def test_limits_refuse_any_dtd_in_xlsx(bombs, where):
    with pytest.raises(DataError, match="XML-bomb"):
        _limits.check_file(bombs[where])


def test_limits_refuse_a_zip_bomb(tmp_path):
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b"0" * 5_000_000 + b"</a>")
    assert path.stat().st_size * _limits.MAX_XLSX_RATIO < 5_000_000
    with pytest.raises(DataError, match="zip-bomb") as info:
        _limits.check_file(path)
    assert "\n" not in str(info.value)


def test_limits_refuse_a_large_file(tmp_path):
    path = tmp_path / "2025.csv"
    path.write_bytes(b"x" * 3000)
    _limits.check_file(path, max_bytes=3000)
    with pytest.raises(DataError) as info:
        _limits.check_file(path, max_bytes=2999)
    line = str(info.value)
    assert line.startswith("Fel i data (fil '") and "förväntade en fil på högst" in line


def test_limits_default_values_are_documented_numbers():
    assert _limits.MAX_FILE_BYTES == 200 * 1024**2
    assert _limits.MAX_ROWS == 2_000_000


def test_limits_refuse_too_many_rows():
    _limits.check_rows(2_000_000, file="2025.csv")
    with pytest.raises(DataError) as info:
        _limits.check_rows(2_000_001, file="2025.csv", sheet="Svar")
    assert str(info.value) == (
        "Fel i data (fil '2025.csv', blad 'Svar'): förväntade högst 2 000 000 rader per fil "
        "(filen har 2 000 001 rader; dela upp filen, eller kontrollera att det är rätt fil)"
    )


def test_limits_pass_ordinary_files(sample_data_dir, tmp_path):
    """No false alarm on the generated xlsx files, a truncated file or a missing one."""
    files = list((sample_data_dir / "raw").rglob("*.xlsx"))
    assert files
    for f in files:
        _limits.check_file(f)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(files[0].read_bytes()[:500])
    _limits.check_file(broken)
    _limits.check_file(tmp_path / "missing.xlsx")


# --- formulas in exports ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def e2e(tmp_path_factory, sample_data_dir) -> dict:
    return reported_folder(tmp_path_factory, sample_data_dir)


def _formula_parts(path: Path) -> list[str]:
    """Sheet XML parts of an xlsx that contain a formula element."""
    with zipfile.ZipFile(path) as z:
        return [
            n
            for n in z.namelist()
            if n.startswith("xl/worksheets/") and re.search(rb"<f[ >/]", z.read(n))
        ]


def _text_cells(path: Path):
    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    yield ws.title, v
    wb.close()


def test_writer_neutralises_formulas(tmp_path):
    frame = pd.DataFrame(
        {"text": ["=1+1", "+46 470 123", "-x", "@SUMMA(A1)", "\t=1", "vanlig text"],
         "value": [1.0, -2.5, 3.0, 4.0, 5.0, 6.0]}
    )  # fmt: skip
    path = write_xlsx(tmp_path / "t.xlsx", {"Blad": frame.rename(columns={"text": "=rubrik"})})
    assert _formula_parts(path) == []
    texts = [v for _, v in _text_cells(path)]
    assert not [v for v in texts if v.startswith(_FORMULA_START)], texts
    assert "'=1+1" in texts and "vanlig text" in texts
    wb = openpyxl.load_workbook(path, read_only=True)
    assert [r[1] for r in wb["Blad"].iter_rows(min_row=2, values_only=True)][1] == -2.5


def test_swedish_csv_neutralises_formulas(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "@x", "ok"], "value": [-0.5, 1.25, 2.0]})
    pipeline.write_swedish_csv(frame, tmp_path / "t.csv")
    _assert_csv_safe(tmp_path / "t.csv")
    assert "-0,5" in (tmp_path / "t.csv").read_text(encoding="utf-8-sig")


def _assert_csv_safe(path: Path) -> None:
    import csv

    text = path.read_text(encoding="utf-8-sig")
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        for field in row:
            if field.startswith(_FORMULA_START):
                assert re.fullmatch(r"-?\d+(,\d+)?([eE][-+]?\d+)?", field), (path.name, field)


def test_report_workbooks_hold_no_formula(e2e):
    books = list(e2e["reports"].rglob("*.xlsx"))
    assert books
    injected_seen = False
    for book in books:
        assert _formula_parts(book) == [], book.name
        for sheet, v in _text_cells(book):
            assert not v.startswith(_FORMULA_START), (book.name, sheet, v[:40])
            injected_seen |= "HYPERLINK" in v
    assert injected_seen, f"the injected register text {INJECTED_TEXT!r} should be in a workbook"


def test_processed_csv_hold_no_formula(e2e):
    files = list((e2e["root"] / "processed").glob("*.csv"))
    assert files
    for f in files:
        _assert_csv_safe(f)


def test_processed_tables_keep_the_raw_text(e2e):
    """Neutralising is for spreadsheets only: parquet keeps the analyst's text as written."""
    follow = pd.read_parquet(e2e["root"] / "processed" / "commitment_followup.parquet")
    text_cols = [c for c in follow.columns if follow[c].astype(str).str.contains("HYPERLINK").any()]
    assert text_cols


# --- notebooks in git ---------------------------------------------------------------------------
def _committed_notebooks() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        return [REPO / p for p in out]
    except (OSError, subprocess.CalledProcessError):
        return sorted((REPO / "notebooks").glob("*.ipynb"))


def test_notebooks_in_git_have_no_outputs():
    notebooks = _committed_notebooks()
    assert notebooks, "the repository has notebooks"
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} was executed"
        meta = nb.get("metadata", {})
        assert "widgets" not in meta, f"{path.name} stores widget state"


# --- YAML alias bombs ---------------------------------------------------------------------------
def _alias_bomb(levels: int = 9) -> str:
    lines = ["l0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_refused_quickly():
    bomb = _alias_bomb()
    _, exc, seconds = _timed(lambda: _limits.check_yaml(bomb, file="kodbok.yml"))
    plain = bomb.replace("*", "")  # the same text, every alias a plain scalar
    _quick(seconds, lambda: _limits.check_yaml(plain, file="kodbok.yml"))
    assert isinstance(exc, DataError) and "alias-bomb" in str(exc)


def test_yaml_limits_pass_ordinary_and_recursive_documents(sample_data_dir):
    for f in (sample_data_dir / "raw").rglob("*.yml"):
        _limits.check_yaml(f.read_text(encoding="utf-8"), file=f)
    _limits.check_yaml("a: &a [1, *a]\n", file="x.yml")  # recursive: counted once, no hang
    _limits.check_yaml("a: [\n", file="x.yml")  # invalid YAML: the reader reports it
