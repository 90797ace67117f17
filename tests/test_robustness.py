"""Issue 17: strict YAML, the one way in for raw files, escaped messages, the safety net."""

from __future__ import annotations

import contextlib
import io

import pytest

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
