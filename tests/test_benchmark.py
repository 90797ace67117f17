"""The benchmark harness (``benchmarks/run.py``) works at a tiny size.

Never a timing assertion: CI machines differ. The region-scale figures are in
``docs/performance.md`` and come from ``make bench``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygghet_analys import pipeline
from trygghet_analys.sample.generator import write_sample_data

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A benchmark work folder whose ``data/`` is one generated and built kommun."""
    work = tmp_path_factory.mktemp("bench") / "work"
    write_sample_data(work / "data", kommuner=1)
    pipeline.build(work / "data")
    return work


def test_measure_reads_usage_and_last_json_line(bench, tmp_path):
    code = "print('log'); print('{\"seconds\": 0.5, \"rows\": 3}')"
    result = bench.measure([sys.executable, "-c", code], log=tmp_path / "x.log")
    assert result["rc"] == 0
    assert result["seconds"] == 0.5 and result["rows"] == 3
    assert result["wall_s"] > 0 and result["cpu_s"] >= 0 and result["peak_mb"] > 0


def test_measure_reports_a_failing_command(bench, tmp_path):
    code = "import sys; print('fel: något'); sys.exit(2)"
    result = bench.measure([sys.executable, "-c", code], log=tmp_path / "x.log")
    assert result["rc"] == 2
    assert "fel: något" in result["error"]
    assert bench.median_of([result])["failed"] == 1


def test_median_of_runs(bench):
    runs = [{"rc": 0, "wall_s": w, "peak_mb": 10.0} for w in (3.0, 1.0, 2.0)]
    out = bench.median_of(runs)
    assert out["wall_s"] == 2.0 and out["wall_s_min"] == 1.0 and out["wall_s_max"] == 3.0


def test_floor_and_ingestion_read_the_same_files(bench, work):
    floor = bench._worker("floor", work / "data", None)
    text = bench._worker("floor-text", work / "data", None)
    ingest = bench._worker("ingest", work / "data", None)
    for result in (floor, text, ingest):
        assert result["seconds"] > 0 and result["cpu_seconds"] >= 0
    assert floor["files"] == text["files"] == 21  # one file per year 2005–2025
    # header rows are data to the floor reader; ledgered rows are not in the canonical table
    assert floor["rows"] >= ingest["rows"] > 0.9 * floor["rows"]
    # as text, a csv file's header row is one row more (xlsx: data already)
    csv_files = len(list((work / "data" / "raw").rglob("20[0-9][0-9].csv")))
    assert text["rows"] == floor["rows"] + csv_files


def test_floor_and_ingestion_take_turns(bench, work, tmp_path, monkeypatch):
    """floor, floor as text and ingest run in turns (a change of load falls on all three)."""
    order = []

    def fake_measure(cmd, *, log, env=None):
        order.append(cmd[3])
        return {"rc": 0, "wall_s": 1.0, "cpu_s": 1.0, "seconds": 1.0, "cpu_seconds": 1.0}

    monkeypatch.setattr(bench, "measure", fake_measure)
    skip = "build,incremental,statistics,r,reports,warm-report"
    args = ["--size", "tiny", "--repeats", "2", "--out", str(tmp_path), "--work", str(work)]
    assert bench.main([*args, "--reuse-data", "--skip", skip]) == 0
    assert order == ["floor", "floor-text", "ingest"] * 2


def test_report_alla_runs_three_times_between_lone_reports(bench, work, tmp_path, monkeypatch):
    """``report --alla`` is a median of ``ALLA_RUNS`` runs, each after a lone report, and
    the ratio is the median of the one over the median of the other."""
    order, walls = (
        [],
        {"one": iter([10.0, 12.0, 11.0, 13.0, 9.0]), "alla": iter([150.0, 170.0, 160.0])},
    )

    def fake_measure(cmd, *, log, env=None):
        kind = "alla" if "--alla" in cmd else "one"
        order.append(kind)
        wall = 10.0 if log.name == "report-one-cold.log" else next(walls[kind])
        return {"rc": 0, "wall_s": wall, "cpu_s": wall}

    monkeypatch.setattr(bench, "measure", fake_measure)
    out = bench.run_reports(work / "data", ["alvesta"], tmp_path, tmp_path, 5)
    assert bench.ALLA_RUNS == 3
    assert order == ["one", "one", "alla", "one", "alla", "one", "alla", "one", "one"]
    assert out["alla"]["runs"] == 3 and out["alla"]["wall_s"] == 160.0
    assert out["one"]["runs"] == 5 and out["one"]["wall_s"] == 11.0
    assert out["alla_over_one"] == 160.0 / 11.0


R_SVYBY = Path(__file__).parent / "fixtures" / "r_survey" / "bench_svyby_otrygghet_ute_sent.csv"


def test_r_export_matches_our_estimates(bench, work, tmp_path):
    """The benchmark's own call shape (per-year designs, domains kommun × sex) equals R.

    Reference, produced once on this very data (``write_sample_data(kommuner=1)``, default
    seed) and committed: ``Rscript benchmarks/svyby.R r.csv bench_svyby_otrygghet_ute_sent.csv``,
    i.e. per year ``svydesign(ids=~1, strata=~stratum_id, weights=~weight, fpc=~population,
    data=d)`` then ``svyby(~y, ~kommun+sex, design, svymean, na.rm=TRUE)`` (R 4, survey 4.1.1).
    """
    csv = tmp_path / "r.csv"
    result = bench._worker("r-export", work / "data", csv)
    assert result["rows"] == 12048  # every respondent of 2005–2025 goes to R
    ours = pd.read_csv(tmp_path / "ours_r.csv").sort_values(["year", "sex"], ignore_index=True)
    ref = pd.read_csv(R_SVYBY).sort_values(["year", "sex"], ignore_index=True)
    assert len(ours) == len(ref) == 42  # 21 years × 2 sexes
    assert (
        ours[["year", "kommun", "sex"]].to_numpy() == ref[["year", "kommun", "sex"]].to_numpy()
    ).all()
    np.testing.assert_allclose(ours["estimate"], ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(ours["se"], ref["se"], rtol=1e-12)


def test_harness_writes_json_and_markdown(bench, work, tmp_path):
    out = tmp_path / "out"
    skip = "floor,ingest,build,incremental,r,reports,warm-report"
    args = ["--size", "tiny", "--repeats", "1", "--out", str(out), "--work", str(work)]
    code = bench.main([*args, "--reuse-data", "--skip", skip])
    assert code == 0
    results = json.loads((out / "tiny.json").read_text())
    stats = results["steps"]["statistics"]
    assert stats["failed"] == 0 and stats["estimate_rows"] > 0
    assert results["summary"]["estimates_s"] > 0
    assert results["machine"]["nproc"] >= 1
    markdown = (out / "tiny.md").read_text(encoding="utf-8")
    assert "## Mål" in markdown and "estimate_indicators" in markdown
    assert (work / "data" / "raw").is_dir()  # a folder named with --work is never deleted


def test_unknown_step_is_refused(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--size", "tiny", "--out", str(tmp_path), "--skip", "nonsense"])


@pytest.mark.parametrize(
    ("skip", "builds"),
    [
        # build skipped, processed/ missing, statistics needs it: one build, not five
        ("floor,ingest,build,incremental,r,reports,warm-report", 1),
        # build skipped and nothing later reads processed/: no build at all
        ("floor,ingest,build,statistics,incremental,r,reports,warm-report", 0),
        # build not skipped: the timed step, repeated
        ("floor,ingest,statistics,incremental,r,reports,warm-report", 3),
    ],
)
def test_skipped_build_builds_once_when_processed_is_missing(
    bench, tmp_path, monkeypatch, skip, builds
):
    work = tmp_path / "work"
    (work / "data" / "raw").mkdir(parents=True)  # generated data, never built
    calls = []

    def fake_measure(cmd, *, log, env=None):
        calls.append(cmd)
        return {"rc": 0, "wall_s": 1.0, "cpu_s": 1.0, "peak_mb": 1.0, "seconds": 1.0}

    monkeypatch.setattr(bench, "measure", fake_measure)
    args = ["--size", "tiny", "--repeats", "3", "--out", str(tmp_path / "out"), "--work", str(work)]
    assert bench.main([*args, "--reuse-data", "--skip", skip]) == 0
    assert sum("build" in cmd for cmd in calls) == builds
    results = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert ("build-once" in results["steps"]) == (builds == 1)
    assert ("build" in results["steps"]) == (builds == 3)
    if builds == 1:
        assert results["steps"]["build-once"]["needed_by"] == ["statistics"]
        assert "build_wall_s" not in results["summary"]  # no target computed on it


ANATOMY_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "report_anatomy.py"


def test_report_anatomy_splits_a_real_report_and_puts_the_functions_back(built_data_dir):
    """benchmarks/report_anatomy.py (docs/performance.md quotes it): every step it names
    exists and is reached by a real report, the timed steps add up to the total, and the
    report's own functions are back in place afterwards."""
    spec = importlib.util.spec_from_file_location("report_anatomy", ANATOMY_PY)
    anatomy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(anatomy)
    before = {(id(owner), name): getattr(owner, name) for owner, name, _ in anatomy.STEPS}

    [(name, total, steps)] = anatomy.anatomy(built_data_dir, ["Älmhult"])

    assert name == "Älmhult" and total > 0
    labels = [label for _, _, label in anatomy.STEPS]
    assert set(steps) == {*labels, anatomy.REST}
    # every step was reached (a renamed function would leave its step at nothing)
    assert all(steps[label] > 0 for label in labels), steps
    outer = sum(v for k, v in steps.items() if k not in anatomy.NESTED)
    assert outer == pytest.approx(total)
    assert steps[anatomy.REST] >= steps["tight_layout (del av uppbyggnaden)"]
    after = {(id(owner), name): getattr(owner, name) for owner, name, _ in anatomy.STEPS}
    assert after == before
