"""End to end: raw data is never written, and a failed run changes nothing.

One generated data folder (``kommun.yml: min_n`` raised to :data:`E2E_MIN_N`, so that
many domain estimates are suppressed – ``test_disclosure.py`` scans the same outputs)
goes through ``trygghet-analys build`` and ``trygghet-analys report`` once per session
(:func:`reported_folder`). ``data/raw`` is hashed before, between and after.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from trygghet_analys import cli

#: Disclosure threshold of the end-to-end folder: high enough that the age groups are
#: suppressed (about 70–130 respondents each), low enough that totals and areas are not.
E2E_MIN_N = 150
REPORT_YEAR = None  # the latest year

#: Put before the first commitment's text of the latest register: test_security checks
#: that no exported spreadsheet turns it into a formula.
INJECTED_TEXT = '=HYPERLINK("http://example.invalid";"klicka här") '

_E2E: dict | None = None

# --- a write spy: an audit hook (PEP 578) records every write-like call under a folder ---
_WATCH: dict = {"root": None, "hits": []}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.rename": (0, 1), "os.replace": (0, 1), "os.remove": (0,), "os.rmdir": (0,),
    "os.mkdir": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
    "os.truncate": (0,), "os.link": (0, 1), "os.symlink": (0, 1), "shutil.rmtree": (0,),
    "shutil.move": (0, 1), "shutil.copyfile": (1,), "shutil.copytree": (1,),
}  # fmt: skip


def _under_watch(path: object) -> bool:
    root = _WATCH["root"]
    if root is None or isinstance(path, int) or path is None:
        return False
    try:
        return os.path.abspath(os.fsdecode(path)).startswith(root)
    except (TypeError, ValueError):
        return False


def _audit(event: str, args: tuple) -> None:
    if _WATCH["root"] is None or (event != "open" and event not in _PATH_EVENTS):
        return
    if event == "open":
        path, mode, flags = (list(args) + [None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and _under_watch(path):
            _WATCH["hits"].append((event, os.fsdecode(path)))
    elif event in _PATH_EVENTS:
        for i in _PATH_EVENTS[event]:
            if i < len(args) and _under_watch(args[i]):
                _WATCH["hits"].append((event, os.fsdecode(args[i])))


sys.addaudithook(_audit)


@contextlib.contextmanager
def watch_writes(folder: Path):
    """Record every write, rename, removal or chmod below ``folder`` in this process."""
    _WATCH["root"], _WATCH["hits"] = os.path.abspath(folder), []
    try:
        yield _WATCH["hits"]
    finally:
        _WATCH["root"] = None


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path → digest), plus its mode bits."""
    if not folder.exists():
        return {}
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in-process; return (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main([str(a) for a in argv])
    return rc, err.getvalue()


def reported_folder(tmp_path_factory, sample_data_dir: Path) -> dict:
    """Build and report one data folder per session; return paths and raw hashes.

    Returns
    -------
    dict
        ``root`` (the data folder), ``reports`` (``root/reports``), ``raw_before``,
        ``raw_after_build``, ``raw_after_report`` (hashes of ``raw/``), ``min_n``.
    """
    global _E2E
    if _E2E is None:
        root = tmp_path_factory.mktemp("e2e") / "data"
        shutil.copytree(sample_data_dir, root)
        kommun_file = root / "raw" / "kommun.yml"
        doc = yaml.safe_load(kommun_file.read_text(encoding="utf-8"))
        doc["min_n"] = E2E_MIN_N
        kommun_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        register = max((root / "raw" / "medborgarloften").glob("20*.yml"))
        reg = yaml.safe_load(register.read_text(encoding="utf-8"))
        reg["commitments"][0]["text"] = INJECTED_TEXT + reg["commitments"][0]["text"]
        register.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), "utf-8")
        raw_before = tree_hashes(root / "raw")
        mtimes_before = {p: p.stat().st_mtime_ns for p in (root / "raw").rglob("*")}
        with watch_writes(root / "raw") as build_writes:
            rc, err = run_cli(["build", "--data", root])
        assert rc == 0, err
        raw_after_build = tree_hashes(root / "raw")
        reports = root / "reports"
        argv = ["report", "--data", root, "--out", reports]
        if REPORT_YEAR is not None:
            argv += ["--year", REPORT_YEAR]
        with watch_writes(root / "raw") as report_writes:
            rc, err = run_cli(argv)
        assert rc == 0, err
        _E2E = {
            "raw_writes": list(build_writes) + list(report_writes),
            "root": root,
            "reports": reports,
            "raw_before": raw_before,
            "raw_after_build": raw_after_build,
            "raw_after_report": tree_hashes(root / "raw"),
            "raw_mtimes_before": mtimes_before,
            "min_n": E2E_MIN_N,
        }
    return _E2E


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, sample_data_dir) -> dict:
    return reported_folder(tmp_path_factory, sample_data_dir)


def test_build_never_writes_raw(e2e):
    assert e2e["raw_after_build"] == e2e["raw_before"]


def test_report_never_writes_raw(e2e):
    assert e2e["raw_after_report"] == e2e["raw_before"]


def test_nothing_new_and_nothing_touched_in_raw(e2e):
    """No file created, removed or even rewritten with the same bytes (mtime kept)."""
    raw = e2e["root"] / "raw"
    now = {p: p.stat().st_mtime_ns for p in raw.rglob("*")}
    assert set(now) == set(e2e["raw_mtimes_before"])
    assert {p: t for p, t in now.items() if p.is_file()} == {
        p: t for p, t in e2e["raw_mtimes_before"].items() if p.is_file()
    }


def test_no_write_call_under_raw(e2e):
    """Not even a temporary file: no open-for-writing, rename, removal or chmod under raw/
    during build and report (in this process; the notebooks' kernels are covered by the
    hashes above)."""
    assert e2e["raw_writes"] == []


def test_the_write_spy_sees_writes(tmp_path):
    """The spy itself works: a write under the watched folder is recorded."""
    with watch_writes(tmp_path) as hits:
        (tmp_path / "x.txt").write_text("x")
        os.replace(tmp_path / "x.txt", tmp_path / "y.txt")
    assert [e for e, _ in hits][:1] == ["open"]
    assert "os.rename" in [e for e, _ in hits]  # os.replace audits as os.rename


def _one_error_line(err: str) -> None:
    """Progress lines may come first; the run ends with exactly one line ``fel: ...``."""
    lines = err.splitlines()
    assert "Traceback" not in err
    assert [ln for ln in lines if ln.startswith("fel:")] == lines[-1:], err
    assert lines and lines[-1].startswith("fel: ")


def _copy(e2e, tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(e2e["root"], root)
    return root


def test_failed_build_leaves_processed_and_reports_unchanged(e2e, tmp_path):
    root = _copy(e2e, tmp_path)
    before = (tree_hashes(root / "processed"), tree_hashes(root / "reports"))
    latest = max((root / "raw" / "trygghetsmatning").glob("20*.csv"))
    text = latest.read_text(encoding="utf-8-sig").splitlines()
    text.append(";".join(["x"] * (text[0].count(";") + 3)))  # a ragged last row
    latest.write_text("\n".join(text) + "\n", encoding="utf-8-sig")
    rc, err = run_cli(["build", "--data", root])
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("fel: ")
    assert "Traceback" not in err
    assert (tree_hashes(root / "processed"), tree_hashes(root / "reports")) == before


def test_failed_build_late_stage_leaves_processed_unchanged(e2e, tmp_path):
    """A bad file read by the last stage (commitments): the survey tables are not written either."""
    root = _copy(e2e, tmp_path)
    before = tree_hashes(root / "processed")
    activities = root / "raw" / "medborgarloften" / "aktiviteter.csv"
    activities.write_text("period,measure,value,unit\n2025,okänt_mått,1,antal\n", encoding="utf-8")
    rc, err = run_cli(["build", "--data", root])
    assert rc == 2, err
    assert err.startswith("fel: ") and len(err.splitlines()) == 1
    assert tree_hashes(root / "processed") == before


def test_failed_report_leaves_reports_unchanged(e2e, tmp_path):
    root = _copy(e2e, tmp_path)
    before = (tree_hashes(root / "processed"), tree_hashes(root / "reports"))
    rc, err = run_cli(["report", "--data", root, "--out", root / "reports", "--year", "1990"])
    assert rc == 2, err
    _one_error_line(err)
    assert (tree_hashes(root / "processed"), tree_hashes(root / "reports")) == before


def test_report_on_bad_raw_leaves_reports_unchanged(e2e, tmp_path):
    """report rebuilds a stale processed/ first; a bad raw file stops it before any output."""
    root = _copy(e2e, tmp_path)
    before = (tree_hashes(root / "processed"), tree_hashes(root / "reports"))
    codebook = root / "raw" / "trygghetsmatning" / "kodbok.yml"
    codebook.write_text(codebook.read_text(encoding="utf-8") + "\nokand_nyckel: 1\n", "utf-8")
    rc, err = run_cli(["report", "--data", root, "--out", root / "reports"])
    assert rc == 2, err
    _one_error_line(err)
    assert (tree_hashes(root / "processed"), tree_hashes(root / "reports")) == before
