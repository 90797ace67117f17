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


def test_preloaded_rows_count_each_kommuns_rows(region):
    """The size ``report --alla`` orders by: every row of the report's tables, per kommun."""
    import pandas as pd

    from trygghet_analys.report import charts

    want: dict[str, int] = {}  # counted here straight from the parquet files
    for stem in charts._TABLE_FILES.values():
        path = region / "processed" / f"{stem}.parquet"
        if path.is_file():
            frame = pd.read_parquet(path)
            if "kommun" in frame.columns:
                for name, n in frame["kommun"].astype(str).value_counts().items():
                    want[name] = want.get(name, 0) + n
    charts.preload(region)
    try:
        assert charts.preloaded_rows() == want
    finally:
        charts.release()
    assert len(want) == 3 and min(want.values()) > 1000


def test_preloaded_tables_give_each_kommun_the_same_frames_as_reading_alone(region):
    """A worker of ``report --alla`` takes its kommun's rows by kept positions; the frames
    must equal what a lone ``report --kommun`` selects row by row (values, dtypes, index)."""
    import pandas as pd

    from trygghet_analys.report import charts

    alone = {name: charts.load_tables(region, name) for name in ("Helsingborg", "Malmö", "Älmhult")}
    charts.preload(region)
    try:
        for name, tables in alone.items():
            kept = charts.load_tables(region, name)
            for attr in ("estimates", "changes", "trends", "findings", "followup", "strata"):
                pd.testing.assert_frame_equal(getattr(kept, attr), getattr(tables, attr))
        assert charts._KOMMUN_ROWS  # the positions were used, not the row-by-row selection
    finally:
        charts.release()


@pytest.mark.parametrize("dtype", ["category", "string", "object"])
def test_kommun_rows_take_the_rows_selection_by_name_takes(dtype):
    """Same rows, same order, as ``kommun == name``; a missing kommun is in no group."""
    import pandas as pd

    from trygghet_analys.report.charts import kommun_rows

    frame = pd.DataFrame(
        {"kommun": pd.Series(["Lund", "Malmö", None, "Lund", "Ystad"], dtype=dtype), "x": range(5)}
    )
    rows = kommun_rows(frame)
    assert sorted(rows) == ["Lund", "Malmö", "Ystad"]
    for name, at in rows.items():
        want = frame[frame["kommun"].astype("string") == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame.take(at).reset_index(drop=True), want)


@pytest.mark.parametrize("at", [[0, 1, 2], [2, 3, 4, 5], [1, 3], [0, 5], [4], []])
def test_kommun_rows_taken_as_a_slice_equal_the_taken_rows(at):
    """A kommun's rows in one run are sliced instead of taken: the same frame (values,
    dtypes, Arrow text split over chunks), and altering it leaves the kept table as it was."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from trygghet_analys.report.charts import _rows_at

    text = pd.arrays.ArrowStringArray(pa.chunked_array([["a", "b", "c"], ["d", None, "f"]]))
    frame = pd.DataFrame(
        {
            "kommun": pd.Series(list("LLLMMM"), dtype="category"),
            "text": text,
            "x": np.arange(6.0),
            "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        }
    )
    kept = frame.copy(deep=True)
    positions = np.array(at, dtype=np.intp)
    got = _rows_at(frame, positions).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, frame.take(positions).reset_index(drop=True))
    if len(got):
        got.loc[0, "x"] = -1.0
        got["text"] = got["text"].str.upper()
    pd.testing.assert_frame_equal(frame, kept)


def test_report_alla_starts_the_largest_kommun_first(region, tmp_path, monkeypatch):
    from trygghet_analys.report import charts

    names = [k.name for k in load_kommuner(region / "raw")]
    sizes = dict(zip(names, (1, 3, 2), strict=True))  # the middle one largest
    monkeypatch.setattr(charts, "preloaded_rows", lambda: sizes)
    started: list[str] = []

    def one(job: dict) -> tuple[str, str, None]:
        started.append(job["kommun"])
        return job["kommun"], str(tmp_path / job["kommun"]), None

    monkeypatch.setattr(render, "_one_kommun", one)
    finals = render.run_all(data=region, out=tmp_path, workers=1, progress=False, build=False)
    assert started == [names[1], names[2], names[0]]
    assert [f.name for f in finals] == names  # results still in the kommuner's order


def test_pool_size_is_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(render.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(render.os, "cpu_count", lambda: 64)
    assert render.usable_cores() == 2
    monkeypatch.delattr(render.os, "sched_getaffinity", raising=False)  # not on Linux
    assert render.usable_cores() == 64


def test_a_report_draws_collecting_rarely(region, tmp_path, monkeypatch):
    """``report`` draws with the collector's youngest threshold raised
    (``_gc.collecting_rarely``) and puts Python's back when it is done."""
    import gc

    from trygghet_analys._gc import DRAWING_THRESHOLD

    seen: list[tuple[int, int, int]] = []

    def render_(*args: object, **kwargs: object) -> Path:
        seen.append(gc.get_threshold())
        return tmp_path

    before = gc.get_threshold()
    monkeypatch.setattr(render, "_render", render_)
    name = load_kommuner(region / "raw")[0].name
    render.run(data=region, out=tmp_path, kommun=name, build=False, quiet=True)
    assert seen == [(DRAWING_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def test_a_pool_worker_frees_each_kommuns_cycles_before_the_next(tmp_path, monkeypatch):
    """``report --alla``'s worker collects after each kommun: a reference cycle the
    kommun's report left behind is gone when the worker takes the next kommun, even when
    no collection would otherwise have run."""
    import gc
    import weakref

    class Node:
        pass

    left: list[weakref.ref] = []

    def run(**job: object) -> Path:
        node = Node()
        node.self = node  # a cycle only the collector frees
        left.append(weakref.ref(node))
        return tmp_path

    monkeypatch.setattr(render, "run", run)
    before = gc.get_threshold()
    gc.set_threshold(10**9)  # no collection but the worker's own
    try:
        name, final, error = render._one_kommun({"kommun": "Alvesta"})
    finally:
        gc.set_threshold(*before)
    assert (name, final, error) == ("Alvesta", str(tmp_path), None)
    assert left and left[0]() is None
