"""``report``'s quiet setting is per call: a quiet run leaves the next call's lines alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygghet_analys.errors import ConfigError
from trygghet_analys.report import charts, render

DRAFT = "Utkastet till nästa års medborgarlöfte kunde inte tas fram"


@pytest.fixture
def no_charts(monkeypatch):
    """A report without charts (the plumbing under test does not depend on them)."""
    monkeypatch.setattr(charts, "available_charts", lambda tables, year: [])


def test_a_quiet_run_leaves_the_next_runs_lines(built_data_dir, tmp_path, no_charts, capsys):
    """2010 has an underlag but no register in force: the draft cannot be made, which the
    report says on stderr – not in the quiet run, but in the ordinary run after it."""
    render.run(data=built_data_dir, out=tmp_path / "a", year=2010, build=False, quiet=True)
    assert capsys.readouterr().err == ""
    # the report's parts called on their own (as a notebook does) say their lines
    (tmp_path / "c").mkdir()
    render.write_commitment_outputs(charts.load_tables(built_data_dir), 2010, tmp_path / "c")
    assert DRAFT in capsys.readouterr().err
    render.run(data=built_data_dir, out=tmp_path / "b", year=2010, build=False)
    err = capsys.readouterr().err
    assert "Läser tabeller för" in err
    assert DRAFT in err
    assert "Klart: " in err


def test_a_failed_quiet_run_leaves_the_next_runs_lines(built_data_dir, tmp_path, capsys):
    with pytest.raises(ConfigError, match="År 1900 finns inte"):
        render.run(data=built_data_dir, out=tmp_path, year=1900, build=False, quiet=True)
    assert capsys.readouterr().err == ""
    (tmp_path / "c").mkdir()
    render.write_commitment_outputs(charts.load_tables(built_data_dir), 2010, tmp_path / "c")
    assert DRAFT in capsys.readouterr().err
    with pytest.raises(ConfigError, match="År 1900 finns inte"):
        render.run(data=built_data_dir, out=tmp_path, year=1900, build=False)
    assert "Läser tabeller för" in capsys.readouterr().err


def test_report_alla_in_one_process_says_its_closing_line(
    built_data_dir, tmp_path, no_charts, capsys
):
    """``report --alla`` with one worker runs each kommun's report quietly in its own
    process: the kommun's progress lines stay out, the closing line is said."""
    done = render.run_all(
        data=built_data_dir, out=tmp_path, year=2010, build=False, workers=1, progress=False
    )
    assert [p.name for p in done] == ["2010"]
    err = capsys.readouterr().err
    assert "Läser tabeller för" not in err
    assert DRAFT not in err
    assert f"Klart: 1 rapporter i {Path(tmp_path).resolve()}" in err
