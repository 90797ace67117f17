"""The bad-input corpus (``tests/data/bad/cases.yml``): every case gets exactly its outcome.

Each case copies one small, valid data folder (the sample-data generator's, cut to three
survey years: one per codebook layout), applies the case's mutation (``ops``) and runs
the part of the package that reads that input:

``build``       ``trygghet-analys build --data DIR`` (survey, codebook, population, kommun.yml)
``wastewater``  :func:`trygghet_analys.pipeline.build_wastewater` (lab, flow, plants, campaigns)
``registers``   :func:`trygghet_analys.files.registers.load_registers`
``activities``  :func:`trygghet_analys.files.registers.load_activities`

Outcomes: ``ok`` (read correctly; optional ``checks`` on the result), ``ledger`` (the run
succeeds and the given rows are in the ledger with the given rule; rows in = rows kept +
rows in the ledger), ``stop`` (a :class:`DataError` whose one Swedish line is exactly the
one built from ``file, sheet, row, column, value, expected``; through the CLI: exit code 2,
one line ``fel: ...`` on stderr, no traceback, ``processed/`` byte-identical).

Every stop case also runs through ``trygghet-analys build``; the stage that reads the
input must be wired into ``pipeline.build`` (a build that stops writing the stage's table
fails the test). No case may reach the CLI's safety net (exit 3, "internt fel").
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from trygghet_analys import cli, pipeline
from trygghet_analys.commitments.followup import registers_frame
from trygghet_analys.errors import DataError, TrygghetError
from trygghet_analys.files import registers

HERE = Path(__file__).parent
MANIFEST = HERE / "data" / "bad" / "cases.yml"
#: cases.yml (issue 7) and the further manifests beside it (cases_17.yml: issue 17)
MANIFESTS = sorted(MANIFEST.parent.glob("cases*.yml"))
CASES = [c for m in MANIFESTS for c in yaml.safe_load(m.read_text(encoding="utf-8"))]
SURVEY_YEARS = ("2011", "2019", "2025")  # one file per codebook layout
SURVEY_ROWS = 80  # respondent rows kept per file: enough for every rule, fast to build
KOMMUN = "Älmhult"


# --- the base folder -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def bad_base(tmp_path_factory, sample_data_dir) -> Path:
    """A small valid data folder, built once: the generator's raw/ cut to three survey
    years of SURVEY_ROWS rows each, and processed/ from ``build``."""
    root = tmp_path_factory.mktemp("bad_base") / "data"
    shutil.copytree(sample_data_dir, root)
    survey = root / "raw" / "trygghetsmatning"
    for f in survey.iterdir():
        if f.name[:4].isdigit() and f.stem not in SURVEY_YEARS:
            f.unlink()
        elif f.name[:4].isdigit():
            _apply({"op": "keep_rows", "file": f"trygghetsmatning/{f.name}", "n": SURVEY_ROWS},
                   root)  # fmt: skip
    err = io.StringIO()
    rc = _run_cli(["build", "--data", str(root)], err)
    assert rc == 0, err.getvalue()
    return root


def _run_cli(argv: list[str], err: io.StringIO) -> int:
    with contextlib.redirect_stderr(err):
        return cli.main(argv)


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path → digest)."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def case_dir(bad_base, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the base folder; the working directory is the copy (short paths)."""
    d = tmp_path / "data"
    shutil.copytree(bad_base, d)
    monkeypatch.chdir(d)
    return d


# --- mutations -------------------------------------------------------------------------------
class _Text:
    """A delimited text file read and written back in its own encoding and line ending."""

    def __init__(self, path: Path):
        raw = path.read_bytes()
        self.bom = raw.startswith(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8-sig")
            self.encoding = "utf-8"
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
            self.encoding = "cp1252"
        self.newline = "\r\n" if "\r\n" in text else "\n"
        first = text.split("\n", 1)[0]
        self.delimiter = max((";", ",", "\t"), key=first.count)
        self.rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter))
        self.path = path

    def col(self, name: str) -> int:
        return self.rows[0].index(name)

    def save(self) -> None:
        out = io.StringIO()
        w = csv.writer(out, delimiter=self.delimiter, lineterminator=self.newline)
        w.writerows(self.rows)
        data = out.getvalue().encode(self.encoding)
        self.path.write_bytes((b"\xef\xbb\xbf" if self.bom else b"") + data)


class _Book:
    """An xlsx file edited with openpyxl (first sheet unless ``sheet`` is given)."""

    def __init__(self, path: Path, sheet: str | None = None):
        self.path = path
        self.wb = openpyxl.load_workbook(path)
        self.ws = self.wb[sheet] if sheet else self.wb.worksheets[0]
        self.header_row = 1
        for i, row in enumerate(self.ws.iter_rows(min_row=1, max_row=20, values_only=True), 1):
            if sum(v is not None and str(v).strip() != "" for v in row) >= 3:
                self.header_row = i
                break

    def col(self, name: str) -> int:
        header = [c.value for c in self.ws[self.header_row]]
        return header.index(name) + 1

    def save(self) -> None:
        self.wb.save(self.path)


def _row_values(header: list, spec: dict, template: list | None) -> list:
    values = list(template) if template is not None else [""] * len(header)
    for k, v in (spec or {}).items():
        values[header.index(k)] = v
    return values


def _apply(op: dict, root: Path) -> None:
    kind = op["op"]
    path = root / "raw" / op["file"]
    if kind == "delete":
        path.unlink()
    elif kind in ("make_dir", "symlink", "fifo"):
        _replace_entry(op, path, root)
    elif kind == "make_file":
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        path.write_text(op.get("text", "x\n"), encoding="utf-8")
    elif kind == "chmod":
        os.chmod(path, int(str(op["mode"]), 8))
    elif kind == "copy":
        shutil.copy(path, root / "raw" / op["to"])
    elif kind == "write_text":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(op["text"].encode(op.get("encoding", "utf-8")))
    elif kind == "write_bytes":
        path.write_bytes(bytes.fromhex(op.get("hex", "")))
    elif kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * op.get("fraction", 0.5))])
    elif kind == "reencode":
        text = path.read_bytes().decode("utf-8-sig")
        path.write_bytes((b"\xef\xbb\xbf" if op.get("bom") else b"") + text.encode(op["encoding"]))
    elif kind == "replace_text":
        text = path.read_bytes().decode("utf-8")
        assert op["old"] in text, f"{op['old']!r} not in {path}"
        path.write_bytes(text.replace(op["old"], op["new"], op.get("count", 1)).encode("utf-8"))
    elif kind == "yaml_set":
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        node = doc
        for key in op["key"][:-1]:
            node = node[key]
        if op.get("delete"):
            del node[op["key"][-1]]
        else:
            node[op["key"][-1]] = op["value"]
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif path.suffix == ".xlsx":
        _apply_xlsx(op, path)
    else:
        _apply_text(op, path)


def _replace_entry(op: dict, path: Path, root: Path) -> None:
    """Put a folder, a symbolic link or a named pipe where a file (or folder) stood.

    ``symlink``: ``to`` is the link's target as written (dangling when it does not exist);
    ``to: OUTSIDE`` links to a copy of the file placed beside the data folder (outside it).
    """
    kind = op["op"]
    original = path.read_bytes() if path.is_file() else None
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if kind == "make_dir":
        path.mkdir()
        (path / (op.get("inner") or "inne.csv")).write_bytes(original or b"x\n")
    elif kind == "fifo":
        os.mkfifo(path)
    elif op["to"] == "OUTSIDE":
        outside = root.parent / ("utanfor_" + path.name)
        outside.write_bytes(original or b"")
        path.symlink_to(outside)
    else:
        path.symlink_to(op["to"])


def _apply_text(op: dict, path: Path) -> None:
    t = _Text(path)
    kind = op["op"]
    if kind == "set_cell":
        row = t.rows[op["row"] - 1]
        assert row and row[0], f"row {op['row']} of {path} is not a respondent row"
        row[t.col(op["column"])] = op["value"]
    elif kind == "drop_column":
        j = t.col(op["column"])
        t.rows = [r[:j] + r[j + 1 :] if len(r) > j else r for r in t.rows]
    elif kind == "add_column":
        t.rows = [r + ([op["column"]] if i == 0 else [op.get("value", "")]) for i, r in
                  enumerate(t.rows)]  # fmt: skip
    elif kind == "rename_column":
        t.rows[0][t.col(op["column"])] = op["to"]
    elif kind in ("append_row", "insert_row"):
        template = t.rows[op["copy_row"] - 1] if "copy_row" in op else None
        values = _row_values(t.rows[0], op.get("values"), template)
        if "raw" in op:
            values = op["raw"]
        if kind == "append_row":
            t.rows.append(values)
        else:
            t.rows.insert(op["before"] - 1, values)
    elif kind == "keep_rows":
        t.rows = t.rows[: 1 + op["n"]]
    else:
        raise ValueError(f"unknown op {kind} for {path}")
    t.save()


def _apply_xlsx(op: dict, path: Path) -> None:
    kind = op["op"]
    if kind == "xlsx_bomb":
        path.write_bytes(xlsx_bomb_bytes(path.read_bytes(), op.get("part")))
        return
    b = _Book(path)
    ws = b.ws
    if kind == "set_cell":
        ws.cell(op["row"], b.col(op["column"])).value = op["value"]
    elif kind == "rename_sheet":
        ws.title = op["to"]
    elif kind == "rename_column":
        ws.cell(b.header_row, b.col(op["column"])).value = op["to"]
    elif kind == "merge_header":
        j = b.col(op["column"])
        ws.insert_cols(j + 1)
        ws.cell(b.header_row, j + 1).value = None
        for r in range(b.header_row + 1, ws.max_row + 1):
            ws.cell(r, j + 1).value = op.get("value", "x")
        ws.merge_cells(start_row=b.header_row, start_column=j, end_row=b.header_row,
                       end_column=j + 1)  # fmt: skip
    elif kind == "merge_cells":  # e.g. "C3:C4": an answer shared by two respondents
        ws.merge_cells(op["range"])
    elif kind in ("append_row", "insert_row"):
        header = [c.value for c in ws[b.header_row]]
        template = [c.value for c in ws[op["copy_row"]]] if "copy_row" in op else None
        values = _row_values(header, op.get("values"), template)
        if kind == "append_row":
            r = ws.max_row + 1
        else:
            r = op["before"]
            ws.insert_rows(r)
        for j, v in enumerate(values, 1):
            ws.cell(r, j).value = None if v == "" else v
    elif kind == "keep_rows":
        ws.delete_rows(b.header_row + 1 + op["n"], ws.max_row)
    else:
        raise ValueError(f"unknown op {kind} for {path}")
    b.save()


def xlsx_bomb_bytes(xlsx: bytes, part: str | None = None, levels: int = 9) -> bytes:
    """The workbook with a "billion laughs" DTD in one XML part and the entity in a cell.

    Expanded, ``&lol9;`` is 10**9 × "lol" (3 GB): a parser that expands entities hangs
    or runs out of memory; a safe one refuses the DTD or the undefined entity.
    """
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    names = src.namelist()
    target = part or next(n for n in names if n.startswith("xl/worksheets/sheet"))
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "' + (f"&lol{i - 1};" if i > 1 else "&lol;") * 10 + '">'
        for i in range(1, levels + 1)
    ]
    dtd = "<!DOCTYPE lolz [" + "".join(ents) + "]>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == target:
                text = data.decode("utf-8")
                if text.startswith("<?xml"):
                    head, rest = text.split("?>", 1)
                    text = head + "?>" + dtd + rest
                else:
                    text = dtd + text
                # the entity in the first cell value / shared string
                for tag in ("<t>", '<t xml:space="preserve">', "<v>"):
                    if tag in text:
                        i = text.index(tag) + len(tag)
                        j = text.index("<", i)
                        text = text[:i] + f"&lol{levels};" + text[j:]
                        break
                data = text.encode("utf-8")
            z.writestr(info, data)
    return out.getvalue()


# --- expectations ----------------------------------------------------------------------------
def _last_row(path: Path) -> int:
    """The Excel row number of a file's last row (header = row 1)."""
    return _rows_in(path) + 1


def expected_line(case: dict, root: Path) -> str:
    """The one Swedish line a stop case must produce (errors.DataError's documented format)."""
    if "message" in case:
        return case["message"]
    if case.get("row") == "last":
        case = {**case, "row": _last_row(root / case["file"])}
    parts = []
    if "file" in case:
        parts.append(f"fil '{case['file']}'")
    if "sheet" in case:
        parts.append(f"blad '{case['sheet']}'")
    if "row" in case:
        parts.append(f"rad {case['row']}")
    if "column" in case:
        parts.append(f"kolumn '{case['column']}'")
    if "key" in case:
        parts.append(f"nyckel '{case['key']}'")
    where = f"Fel i data ({', '.join(parts)}): " if parts else "Fel i data: "
    what = f"värdet '{case['value']}': " if "value" in case else ""
    return f"{where}{what}förväntade {case['expected']}"


def _assert_line(lines: list[str], case: dict, root: Path, prefix: str = "") -> None:
    """Exactly one line, equal to the case's expected line (or its start and end).

    A case whose input has more than one problem lists the further lines under ``also``;
    all of them are reported in one run, then a closing count (issue 12).
    """
    also = case.get("also") or []
    if also:
        count = f"{1 + len(also)} problem i 1 fil; inget skrevs."
        assert lines[1:] == [prefix + a for a in also] + [count], lines
        lines = lines[:1]
    assert len(lines) == 1, lines
    if "message_startswith" in case:
        assert lines[0].startswith(prefix + case["message_startswith"]), lines[0]
        if "message_endswith" in case:
            assert lines[0].endswith(case["message_endswith"]), lines[0]
        else:
            assert lines[0].endswith("förväntade " + case["expected"]), lines[0]
    else:
        assert lines[0] == prefix + expected_line(case, root)


def _run_via(case: dict, root: Path):
    """Run the reader of the case's input; return its result (tables) or raise."""
    via = case["via"]
    raw = Path("raw")
    if via == "build":
        err = io.StringIO()
        rc = _run_cli(["build", "--data", "."], err)
        return rc, err.getvalue()
    if via == "wastewater":
        return pipeline.build_wastewater(raw, KOMMUN)
    if via == "registers":
        return {"registers": registers_frame(
            registers.load_registers(raw / "medborgarloften"))}  # fmt: skip
    if via == "activities":
        return {"activities": registers.load_activities(raw / "medborgarloften/aktiviteter.csv")}
    raise ValueError(via)


def _tables_after_build(root: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in (root / "processed").glob("*.parquet")}


def _check(tables: dict[str, pd.DataFrame], check: dict, base: Path) -> None:
    if check.get("rows") == "base":
        check = {**check, "rows": len(_filter(_tables_after_build(base)[check["table"]], check))}
    t = _filter(tables[check["table"]], check)
    if "rows" in check:
        assert len(t) == check["rows"], check
    if "column" in check:
        assert len(t) >= 1, f"no row matches {check}"
        got = t[check["column"]].iloc[0]
        want = check["equals"]
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-9), check
        else:
            assert str(got) == str(want), check


def _filter(t: pd.DataFrame, check: dict) -> pd.DataFrame:
    for col, val in (check.get("where") or {}).items():
        if col == "date":
            t = t[t[col] == pd.Timestamp(val)]
        else:
            t = t[t[col].astype(str) == str(val)]
    return t


def _rows_in(path: Path) -> int:
    """Data rows of a survey file as ingestion sees them (header excluded)."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        return len(wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)) - 1
    return len(_Text(path).rows) - 1


def _stage_tables(via: str) -> tuple[str, ...]:
    return {
        "build": ("survey_responses",),
        "wastewater": ("wastewater_loads",),
        "registers": ("commitment_indicators", "commitment_followup"),
        "activities": ("commitment_followup",),
    }[via]


IDS = [c["id"] for c in CASES]


def test_manifest_is_complete():
    """At least 40 cases, unique ids, every input kind and outcome covered."""
    assert len(CASES) >= 40
    assert len(set(IDS)) == len(IDS)
    inputs = {c["input"] for c in CASES}
    assert {"enkät", "kodbok", "population", "labb", "flöde", "reningsverk", "kampanjer",
            "medborgarlöfte", "aktiviteter"} <= inputs  # fmt: skip
    assert {c["outcome"] for c in CASES} == {"ok", "ledger", "stop"}
    for c in CASES:
        assert c["via"] in ("build", "wastewater", "registers", "activities"), c["id"]
        if c["outcome"] == "stop":
            assert "message" in c or "expected" in c or "message_endswith" in c, c["id"]


#: Longest a case may take (issue 17: no hang); a FIFO that blocks would exceed it.
CASE_SECONDS = 30


@contextlib.contextmanager
def _deadline(seconds: int = CASE_SECONDS):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def _hang(signum, frame):
        raise AssertionError(f"the case ran longer than {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _run_as_nobody(case: dict, case_dir: Path) -> None:
    """Run ``build`` on a copy owned by the unprivileged user ``nobody`` (``setpriv``).

    Permission cases mean nothing to root, who may read everything: the copy (made with
    the case's modes) is chowned to nobody, who then runs the CLI in a subprocess.
    """
    import pwd

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root (to become the unprivileged user 'nobody') and setpriv")
    nobody = pwd.getpwnam("nobody")
    top = Path(tempfile.mkdtemp(prefix="bad-nobody-", dir="/tmp"))
    try:
        os.chmod(top, 0o755)
        root = top / "data"
        shutil.copytree(case_dir, root, symlinks=True)
        for p in [root, *root.rglob("*")]:
            os.chown(p, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
        (top / "mpl").mkdir()
        os.chown(top / "mpl", nobody.pw_uid, nobody.pw_gid)
        before = tree_hashes(root / "processed")
        env = {**os.environ, "HOME": str(top), "MPLCONFIGDIR": str(top / "mpl")}
        cmd = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
               "--clear-groups", "--", sys.executable, "-m", "trygghet_analys.cli",
               "build", "--data", "."]  # fmt: skip
        proc = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=CASE_SECONDS * 4
        )
        err = proc.stderr
        assert "Traceback" not in err, err
        assert proc.returncode != cli.INTERNAL_ERROR, f"the case reached the safety net: {err!r}"
        if case["outcome"] == "stop":
            assert proc.returncode == 2, f"build accepted the input (exit {proc.returncode}): {err}"
            _assert_line(err.splitlines(), case, root, prefix="fel: ")
            assert tree_hashes(root / "processed") == before
        else:
            assert proc.returncode == 0, err
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case(case, case_dir, bad_base):
    """The case's reader gives exactly the case's outcome, within CASE_SECONDS."""
    for op in case.get("ops", []):
        _apply(op, case_dir)
    if case.get("run_as") == "nobody":
        _run_as_nobody(case, case_dir)
        return
    with _deadline():
        _run_case(case, case_dir, bad_base)


def _run_case(case: dict, case_dir: Path, bad_base: Path) -> None:
    before = tree_hashes(case_dir / "processed")
    raw_before = tree_hashes(case_dir / "raw")
    outcome = case["outcome"]
    if case["via"] == "build":
        rc, err = _run_via(case, case_dir)
        assert "Traceback" not in err
        assert rc != cli.INTERNAL_ERROR, f"the case reached the safety net: {err!r}"
        if outcome == "stop":
            assert rc == 2, f"build accepted the input (exit {rc}); stderr: {err!r}"
            _assert_line(err.splitlines(), case, case_dir, prefix="fel: ")
            assert tree_hashes(case_dir / "processed") == before
            assert tree_hashes(case_dir / "raw") == raw_before
            return
        assert rc == 0, err
        tables = _tables_after_build(case_dir)
    else:
        if outcome == "stop":
            with pytest.raises(DataError) as info:
                _run_via(case, case_dir)
            _assert_line(info.value.swedish().split("\n"), case, case_dir)
            assert tree_hashes(case_dir / "raw") == raw_before
            return
        tables = _run_via(case, case_dir)
    assert tree_hashes(case_dir / "raw") == raw_before
    for check in case.get("checks", []):
        _check(tables, check, bad_base)
    if outcome == "ledger":
        ledger = tables["ledger"]
        for want in case["ledger"]:
            if want["row"] == "last":
                want = {**want, "row": _last_row(case_dir / "raw" / want["file"])}
            hit = ledger[(ledger["file"] == want["file"]) & (ledger["row"] == want["row"])]
            assert list(hit["rule"]) == [want["rule"]], (want, hit)
        # no row lost: rows in = rows kept + rows in the ledger, per file
        responses = tables["survey_responses"]
        for want in case["ledger"]:
            year = int(Path(want["file"]).stem)
            kept = int((responses["year"] == year).sum())
            rejected = int((ledger["file"] == want["file"]).sum())
            assert kept + rejected == _rows_in(case_dir / "raw" / want["file"])


# Build cases already run through the CLI in test_case. Of the others (whose reader
# test_case calls directly) the CLI runs the first stop case of each input, and every
# case marked ``cli: true``: the whole pipeline per case would make the corpus slow.
STOP_CASES = [
    c
    for i, c in enumerate(CASES)
    if c["outcome"] == "stop"
    and c["via"] != "build"
    and not c.get("run_as")
    and (c.get("cli") or not any(
        d["input"] == c["input"] and d["outcome"] == "stop" for d in CASES[:i]))
]  # fmt: skip


@pytest.mark.parametrize("case", STOP_CASES, ids=[c["id"] for c in STOP_CASES])
def test_case_stops_the_build(case, case_dir, bad_base):
    """Through the CLI: exit 2, one line ``fel: ...``, no traceback, processed/ unchanged."""
    built = {p.stem for p in (bad_base / "processed").glob("*.parquet")}
    missing = [t for t in _stage_tables(case["via"]) if t not in built]
    # every stage is wired: a build that stops writing a table is a regression, not an xfail
    assert not missing, f"pipeline.build no longer writes {missing} (the input is not checked)"
    for op in case.get("ops", []):
        _apply(op, case_dir)
    before = tree_hashes(case_dir / "processed")
    err = io.StringIO()
    with _deadline():
        rc = _run_cli(["build", "--data", "."], err)
    lines = err.getvalue().splitlines()
    assert rc != cli.INTERNAL_ERROR, f"the case reached the safety net: {err.getvalue()!r}"
    assert rc == 2, f"build accepted the input (exit {rc})"
    assert "Traceback" not in err.getvalue()
    _assert_line(lines, case, case_dir, prefix="fel: ")
    assert tree_hashes(case_dir / "processed") == before


def test_debug_shows_the_traceback(case_dir):
    """``--debug`` before the subcommand re-raises instead of printing one line."""
    (case_dir / "raw" / "trygghetsmatning" / "kodbok.yml").unlink()
    with pytest.raises(TrygghetError):
        cli.main(["--debug", "build", "--data", "."])
