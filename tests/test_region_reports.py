"""Region scale: every kommun's report in one run (``report --alla``), progress lines."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from trygghet_analys import cli, pipeline
from trygghet_analys.config import load_kommuner
from trygghet_analys.progress import Progress
from trygghet_analys.report import render


@pytest.fixture(scope="module")
def region(tmp_path_factory, region_data_dir) -> Path:
    """A built copy of the three-kommun sample region."""
    data = tmp_path_factory.mktemp("region") / "data"
    shutil.copytree(region_data_dir, data)
    pipeline.build(data)
    return data


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_report_alla_equals_one_report_per_kommun_byte_for_byte(region, tmp_path):
    kommuner = load_kommuner(region / "raw")
    assert len(kommuner) == 3
    finals = render.run_all(data=region, out=tmp_path / "alla", workers=2, progress=False)
    assert [f.parent.name for f in finals] == [k.slug for k in kommuner]
    one = kommuner[1]
    single = render.run(data=region, out=tmp_path / "en", kommun=one.name)
    # a region folder: each kommun in its own folder, also for a single report
    assert single == (tmp_path / "en" / one.slug / single.name).resolve()
    assert finals[1] == (tmp_path / "alla" / one.slug / single.name).resolve()
    got, want = _tree(finals[1]), _tree(single)
    assert sorted(got) == sorted(want) and "rapport.html" in got
    assert [name for name in got if got[name] != want[name]] == []
    assert not (single / "notebooks").exists()  # notebooks only with --notebooks
    # every kommun has a register, so every kommun gets its underlag page, and it passes
    from trygghet_analys.report import granska

    for final in finals:
        assert (final / "underlag_medborgarlofte.html").is_file(), final
        assert granska.check_report(final) == [], final


def test_cli_report_alla_and_kommun_are_exclusive(region, tmp_path, capsys):
    code = cli.main(["report", "--alla", "--kommun", "x", "--data", str(region)])
    assert code == 2
    assert capsys.readouterr().err.strip() == "fel: välj antingen --alla eller --kommun, inte båda"


def test_progress_plain_lines_off_a_terminal():
    out = io.StringIO()
    with Progress(3, "Rapporter", "kommuner", stream=out) as p:
        for name in ("Ystad", "Lund", "Åstorp"):
            p.step(name)
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "Rapporter: 1/3 kommuner klara – Ystad",
        "Rapporter: 2/3 kommuner klara – Lund",
        "Rapporter: 3/3 kommuner klara – Åstorp",
    ]
    assert all(" s, kvar ca " in line for line in lines)


def test_progress_disabled_writes_nothing():
    out = io.StringIO()
    with Progress(2, "Bygger", "kommuner", stream=out, enabled=False) as p:
        p.step("Ystad")
    assert out.getvalue() == ""
