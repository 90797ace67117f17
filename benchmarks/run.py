"""Performance benchmark at police-region scale (issue 8; docs/performance.md).

``make bench`` runs ``python benchmarks/run.py`` (region size, medians of 5). Steps, each
in fresh processes so that peak memory belongs to the step measured:

``generate``     ``trygghet-analys sample-data --kommuner N`` (once)
``floor``        read every raw survey file with the fastest reader and nothing else
                 (python_calamine for xlsx, pyarrow.csv for csv, on one thread as the
                 ingestion reads them): the floor ingestion is compared with; beside it
                 the same read with every csv column as text (no type inference, as the
                 ingestion parses them), reported but not the target's floor
``ingest``       raw files → canonical table (``pipeline.survey_stage``); its runs take
                 turns with the floor's (floor, floor as text, ingest, floor, ...), so
                 that a change of load on the machine falls on both alike
``statistics``   every indicator × kommun × year × group, changes, trends, response rates
                 (``pipeline.statistics_stage``) and ``estimate_indicators`` alone
``build``        ``trygghet-analys build --utan-cache`` for the whole data folder
``incremental``  the newest year's survey file of every kommun taken away, a build (the
                 cache then holds every other year), the files put back and ``build`` timed:
                 next year's delivery for the whole region (ratio to ``build``, issue 16)
``r``            R survey's ``svyby(~y, ~kommun+sex, design, svymean)`` for one indicator
                 on per-year designs, beside our time for the same estimates
``reports``      ``trygghet-analys report --alla`` for every kommun of the region (three
                 times, median), each between warm ``report --kommun`` runs for one kommun
                 (ratio, issue 16)
``warm-report``  ``trygghet-analys report`` on a one-kommun data folder, after a first run,
                 beside ``build`` of the same folder (ratio, issue 16)

Every measurement records wall time, CPU time (user + system of the process and the
children it waited for, from ``os.wait4``) and peak resident memory (``ru_maxrss``).
Timings *inside* a step (``seconds``) exclude interpreter start-up and imports; ``wall``
includes them. Results: ``<out>/<size>.json`` and ``<out>/<size>.md``.

Internal use: ``run.py _worker STEP --data DIR`` runs one step's timed call in this
process and prints a JSON line; the harness starts these workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLI = BIN / "trygghet-analys"
R_SCRIPT = Path(__file__).with_name("svyby.R")

SIZES = {
    "tiny": {"kommuner": 2},
    "region": {"kommuner": 58},
}
STEPS = (
    "generate", "floor", "ingest", "statistics", "build", "incremental", "r", "reports",
    "warm-report",
)  # fmt: skip
TARGETS = {
    "build_wall_s": 60.0,
    "build_peak_gb": 3.0,
    "ingest_floor_ratio": 2.0,
    "estimates_s": 10.0,
    "warm_report_s": 20.0,
    # issue 16: ratios measured in the same run (machines here differ 2–3× from day to day)
    "ingest_floor_ratio_cpu": 2.0,
    "alla_over_one": 15.0,
    "incremental_over_full": 0.25,
    "warm_report_over_build": 3.0,
}
R_INDICATOR = "otrygghet_ute_sent"
#: ``report --alla`` runs per bench (at most ``--repeats``): a median of three instead of one
#: run, which moved by ±10 % from one bench to the next on the same code.
ALLA_RUNS = 3


# --- measuring a process ----------------------------------------------------------------------
def measure(cmd: list[str], *, log: Path, env: dict | None = None) -> dict:
    """Run ``cmd``; return wall, CPU, peak memory, exit code and its last stdout line."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        # wait4 gives this child's own rusage (with its reaped descendants): per-process
        # figures even when several children run at once.
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace").strip().splitlines()
    result = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
        "rc": proc.returncode,
        "log": str(log),
    }
    if text and text[-1].startswith("{"):
        result.update(json.loads(text[-1]))
    if proc.returncode != 0:
        result["error"] = "\n".join(text[-5:])
    return result


def worker_cmd(step: str, data: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "_worker",
        step,
        "--data",
        str(data),
        *extra,
    ]


def median_of(runs: list[dict]) -> dict:
    """Medians over repeated runs of every numeric field; failed runs are reported."""
    ok = [r for r in runs if r.get("rc") == 0]
    out: dict = {"runs": len(runs), "failed": len(runs) - len(ok)}
    if not ok:
        out["error"] = runs[-1].get("error", "okänt fel") if runs else "inga körningar"
        return out
    keys = [k for k, v in ok[0].items() if isinstance(v, int | float) and k != "rc"]
    for k in keys:
        values = [r[k] for r in ok if isinstance(r.get(k), int | float)]
        out[k] = statistics.median(values)
        if len(values) > 1:
            out[k + "_min"] = min(values)
            out[k + "_max"] = max(values)
    return out


def repeat(n: int, cmd: list[str], logdir: Path, name: str) -> dict:
    runs = [measure(cmd, log=logdir / f"{name}-{i}.log") for i in range(n)]
    return median_of(runs) | {"all": runs}


# --- workers (run inside a fresh process) -----------------------------------------------------
def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - t0, time.process_time() - c0


def _worker(step: str, data: Path, out: Path | None) -> dict:
    import pandas as pd

    from trygghet_analys import pipeline
    from trygghet_analys.config import DataFolder

    folder = DataFolder.at(data)
    kommuner = folder.kommuner()
    if step == "floor":
        return _floor(kommuner)
    if step == "floor-text":
        return _floor(kommuner, as_text=True)
    if step == "ingest":
        _import_validation()
        tables, wall, cpu = _timed(lambda: pipeline.survey_stage(folder, kommuner, {}))
        return {"seconds": wall, "cpu_seconds": cpu, "rows": len(tables["survey_responses"])}
    processed = folder.processed
    tables = {
        name: pd.read_parquet(processed / f"{name}.parquet")
        for name in ("survey_responses", "survey_strata", "survey_breaks")
    }
    if step == "statistics":
        from trygghet_analys.stats.estimation import estimate_indicators
        from trygghet_analys.survey.indicators import load_indicators

        indicators = load_indicators()
        min_n = {k.name: k.min_n for k in kommuner}
        est, est_wall, est_cpu = _timed(
            lambda: estimate_indicators(
                tables["survey_responses"],
                tables["survey_strata"],
                indicators=indicators,
                min_n=min_n,
            )
        )
        stats, wall, cpu = _timed(lambda: pipeline.statistics_stage(folder, kommuner, tables))
        return {
            "estimates_seconds": est_wall,
            "estimates_cpu_seconds": est_cpu,
            "seconds": wall,
            "cpu_seconds": cpu,
            "estimate_rows": len(est),
            "change_rows": len(stats["survey_changes"]),
            "trend_rows": len(stats["survey_trends"]),
        }
    if step == "r-export":
        return _r_export(tables, out)
    raise SystemExit(f"okänt steg {step!r}")


def _import_validation() -> None:
    """pandera's imports, done before timing as the floor imports its readers before its.

    pandera imports its checking backends at a process' first check: about 110 modules
    (hypothesis among them, when installed), 0.1–0.2 s CPU whatever the size of the data.
    That is import time, which the steps' own timings leave out (docs/performance.md).
    """
    import pandas as pd

    from trygghet_analys.survey.ingest import RESPONSE_SCHEMA

    RESPONSE_SCHEMA.register_default_backends(pd.DataFrame)


def _floor(kommuner, *, as_text: bool = False) -> dict:
    """Read every survey file with the fastest reader, nothing else (the ingestion floor).

    pyarrow parses on this thread, as the ingestion does (``files/survey.py``): its thread
    pool adds CPU time of its own, which would make the floor larger and the ratio
    smaller. With ``as_text`` every csv column is read as text, without pyarrow's type
    inference (the ingestion reads text too): a stricter floor, reported beside the
    target's.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    from trygghet_analys.files.codebook import load_codebook
    from trygghet_analys.files.survey import survey_files

    jobs = []  # the codebook only tells the format and encoding; reading it is not timed
    for k in kommuner:
        codebook = load_codebook(k.survey_dir / "kodbok.yml")
        for year, path in survey_files(k.survey_dir).items():
            opts = codebook.layout_for(year).file
            jobs.append((path, opts))

    # every column as text (more names than any file has columns)
    convert = pacsv.ConvertOptions(
        column_types={f"f{i}": pa.string() for i in range(1000)} if as_text else None
    )

    def read_all() -> int:
        rows = 0
        for path, opts in jobs:
            if opts.format == "xlsx":
                wb = CalamineWorkbook.from_path(str(path))
                name = opts.sheet if opts.sheet is not None else wb.sheet_names[0]
                rows += len(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
            else:
                encoding = (
                    "utf8" if opts.encoding in ("auto", "utf-8", "utf-8-sig") else (opts.encoding)
                )
                # as text, the header row is data (autogenerate_column_names), as for calamine
                table = pacsv.read_csv(
                    path,
                    read_options=pacsv.ReadOptions(
                        encoding=encoding, skip_rows=opts.skip_rows, use_threads=False,
                        autogenerate_column_names=as_text,
                    ),
                    parse_options=pacsv.ParseOptions(delimiter=opts.delimiter),
                    convert_options=convert,
                )  # fmt: skip
                rows += table.num_rows
        return rows

    rows, wall, cpu = _timed(read_all)
    return {"seconds": wall, "cpu_seconds": cpu, "files": len(jobs), "rows": rows}


def _r_export(tables: dict, out: Path) -> dict:
    """One indicator as 0/1 with its design columns for R, and our time for the same."""
    import numpy as np
    import pandas as pd

    from trygghet_analys.stats.estimation import design_estimate, estimate_indicators
    from trygghet_analys.survey.indicators import indicator_values

    responses, strata = tables["survey_responses"], tables["survey_strata"]
    d = responses[["kommun", "year", "stratum", "sex", "weight"]].copy()
    d["y"] = indicator_values(responses, R_INDICATOR).to_numpy()
    d = d.merge(
        strata[["kommun", "year", "stratum", "population"]],
        how="left",
        on=["kommun", "year", "stratum"],
        validate="many_to_one",
    )
    # Strata are nested in kommuner: one region-wide stratum id per kommun × area.
    d["stratum_id"] = d["kommun"].astype(str) + "/" + d["stratum"].astype(str)
    d["sex"] = d["sex"].astype("string")
    d.to_csv(out, index=False, na_rep="NA")

    def ours_same_call() -> pd.DataFrame:  # the R call's exact shape: per-year designs
        parts = []
        for year, part in d.groupby("year", sort=True):
            e = design_estimate(
                part,
                value="y",
                stratum="stratum_id",
                weight="weight",
                population="population",
                by=["kommun", "sex"],
            )
            parts.append(e.assign(year=year))
        return pd.concat(parts, ignore_index=True)

    same, same_wall, same_cpu = _timed(ours_same_call)
    _, pkg_wall, pkg_cpu = _timed(
        lambda: estimate_indicators(responses, strata, indicators=[R_INDICATOR], group_vars=["sex"])
    )
    same.to_csv(out.with_name("ours_" + out.name), index=False)
    return {
        "rows": len(d),
        "ours_same_call_seconds": same_wall,
        "ours_same_call_cpu_seconds": same_cpu,
        "ours_package_seconds": pkg_wall,
        "ours_package_cpu_seconds": pkg_cpu,
        "ours_domains": int(np.asarray(len(same))),
    }


# --- the harness --------------------------------------------------------------------------------
def machine() -> dict:
    cpu = "okänd"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for name in ("pandas", "numpy", "pyarrow", "scipy", "python-calamine", "trygghet-analys"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def run_reports(data: Path, names: list[str], work: Path, logdir: Path, n: int) -> dict:
    """``report --alla`` over the whole region, and one warm ``report --kommun`` beside it.

    Both in the same run, so that their ratio (the issue's target: ≤ 15) does not depend on
    how busy the machine is that day. ``report --alla`` runs ``ALLA_RUNS`` times (median;
    one run moved by ±10 % from one bench to the next), each between two lone reports, so
    that a change of load falls on both alike.
    """
    alla = [str(CLI), "report", "--alla", "--data", str(data), "--out", str(work / "alla")]
    first = names[0]
    one = [str(CLI), "report", "--data", str(data), "--out", str(work / "en"), "--kommun", first]
    measure(one, log=logdir / "report-one-cold.log")  # warms the caches of this process' disk
    from trygghet_analys.config import DataFolder

    runs: dict[str, list[dict]] = {"one": [], "alla": []}
    for i in range(max(n, ALLA_RUNS)):
        if i < n:
            runs["one"].append(measure(one, log=logdir / f"report-one-{i}.log"))
        if i < min(n, ALLA_RUNS):
            runs["alla"].append(measure(alla, log=logdir / f"report-alla-{i}.log"))
    out = {
        "kommuner": len(DataFolder.at(data).kommuner()),
        "one": median_of(runs["one"]) | {"all": runs["one"], "kommun": first},
        "alla": median_of(runs["alla"]) | {"all": runs["alla"]},
    }
    if out["one"].get("wall_s") and out["alla"].get("wall_s"):
        out["alla_over_one"] = out["alla"]["wall_s"] / out["one"]["wall_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="region")
    p.add_argument(
        "--kommuner", type=int, default=None, help="antal kommuner (för tillväxtkurvan: 5, 15, 58)"
    )
    p.add_argument("--repeats", type=int, default=5, help="körningar per mätning (median)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="arbetsmapp för genererade data (standard: <out>/work-<size>)",
    )
    p.add_argument("--skip", default="", help=f"kommaseparerade steg att hoppa över: {STEPS}")
    p.add_argument(
        "--reuse-data", action="store_true", help="använd redan genererade data i arbetsmappen"
    )
    p.add_argument("--seed", type=int, default=None, help="slumpfrö för sample-data")
    p.add_argument("--keep", action="store_true", help="behåll arbetsmappen")
    args = p.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(STEPS)
    if unknown:
        p.error(f"okända steg: {', '.join(sorted(unknown))} (finns: {', '.join(STEPS)})")

    size = dict(SIZES[args.size])
    if args.kommuner:
        size["kommuner"] = args.kommuner
        args.size = f"{args.size}-{args.kommuner}"
    out = args.out.resolve()
    work = (args.work or out / f"work-{args.size}").resolve()
    logdir = out / f"logs-{args.size}"
    shutil.rmtree(logdir, ignore_errors=True)
    region = work / "data"
    seed = [] if args.seed is None else ["--seed", str(args.seed)]
    results: dict = {
        "size": args.size,
        "kommuner": size["kommuner"],
        "repeats": args.repeats,
        "machine": machine(),
        "versions": _versions(),
        "commit": _git_commit(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "targets": TARGETS,
        "steps": {},
    }
    steps = results["steps"]

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    # generate
    if not (args.reuse_data and (region / "raw").is_dir()):
        shutil.rmtree(region, ignore_errors=True)
        shutil.rmtree(work / "single", ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        say(f"genererar {size['kommuner']} kommuner ...")
        cmd = [
            str(CLI),
            "sample-data",
            "--out",
            str(region),
            "--kommuner",
            str(size["kommuner"]),
            *seed,
        ]
        steps["generate"] = measure(cmd, log=logdir / "generate.log")
        if steps["generate"]["rc"] != 0:
            say("sample-data misslyckades: " + steps["generate"].get("error", ""))
            return _finish(results, out, say)
        steps["generate"]["raw_mb"] = _du(region / "raw")
    n = args.repeats
    # floor and ingestion take turns, so that a change of load falls on both alike
    turns = [s for s in ("floor", "floor-text", "ingest") if s.split("-")[0] not in skip]
    if turns:
        say(f"golv och inläsning, varvade: {', '.join(turns)} ...")
        runs: dict[str, list] = {s: [] for s in turns}
        for i in range(n):
            for s in turns:
                runs[s].append(measure(worker_cmd(s, region), log=logdir / f"{s}-{i}.log"))
        for s in turns:
            steps[s] = median_of(runs[s]) | {"all": runs[s]}
    full = [str(CLI), "build", "--utan-cache", "--data", str(region)]
    if "build" not in skip:
        say("trygghet-analys build ...")
        steps["build"] = repeat(n, full, logdir, "build")
        if steps["build"].get("failed") == steps["build"]["runs"]:
            say("build misslyckades: " + steps["build"].get("error", ""))
            return _finish(results, out, say)
    elif needs := needs_processed(region, skip):
        # the build step is skipped, but later steps read processed/: one build, not timed
        # as the build step (it is not repeated, and not a ratio's denominator)
        say(f"processed/ saknas och behövs av {', '.join(needs)}: bygger en gång (mäts inte) ...")
        steps["build-once"] = measure(full, log=logdir / "build-once.log") | {"needed_by": needs}
        if steps["build-once"]["rc"] != 0:
            say("build misslyckades: " + steps["build-once"].get("error", ""))
            return _finish(results, out, say)
    if "incremental" not in skip:
        say("inkrementell build: ett nytt år för varje kommun ...")
        steps["incremental"] = _incremental(region, work, logdir, n)
    if "statistics" not in skip:
        say("skattningar, förändringar, trender ...")
        steps["statistics"] = repeat(n, worker_cmd("statistics", region), logdir, "statistics")
    if "r" not in skip:
        steps["r"] = _run_r(region, work, logdir, n, say)
    if "reports" not in skip:
        from trygghet_analys.config import DataFolder

        names = sorted(k.name for k in DataFolder.at(region).kommuner())
        say(f"report --alla för {len(names)} kommuner, och en varm report --kommun ...")
        steps["reports"] = run_reports(region, names, work, logdir, n)
    if "warm-report" not in skip:
        steps["warm-report"] = _warm_report(work, logdir, n, say, seed)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    _ratios(results)
    code = _finish(results, out, say)
    if args.work is None and not args.keep:  # never delete a folder the user named
        shutil.rmtree(work, ignore_errors=True)
    return code


def needs_processed(region: Path, skip: set[str]) -> list[str]:
    """The steps to run that read ``processed/`` when it is missing (none when it exists).

    ``statistics`` and ``r`` read its tables and ``reports`` renders from them; ``floor``,
    ``ingest``, ``incremental`` (it builds first) and ``warm-report`` (its own folder) do not.
    """
    if (region / "processed" / "survey_responses.parquet").exists():
        return []
    return [s for s in ("statistics", "r", "reports") if s not in skip]


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


def _run_r(region: Path, work: Path, logdir: Path, n: int, say) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript saknas"}
    check = subprocess.run([rscript, "-e", "library(survey)"], capture_output=True)
    if check.returncode != 0:
        return {"skipped": "R-paketet survey saknas"}
    say(f"R survey svyby för {R_INDICATOR} ...")
    csv = work / "r_indikator.csv"
    ours = repeat(n, worker_cmd("r-export", region, "--out", str(csv)), logdir, "r-ours")
    r_runs = repeat(
        n, [rscript, str(R_SCRIPT), str(csv), str(work / "r_svyby.csv")], logdir, "r-svyby"
    )
    out = {"indicator": R_INDICATOR, "ours": ours, "r": r_runs}
    try:
        out["max_abs_diff"] = _compare_r(work / "r_svyby.csv", work / ("ours_" + csv.name))
    except (OSError, ValueError, KeyError) as exc:
        out["compare_error"] = str(exc)
    return out


def _compare_r(r_file: Path, ours_file: Path) -> dict:
    import pandas as pd

    r = pd.read_csv(r_file)
    ours = pd.read_csv(ours_file)
    key = ["year", "kommun", "sex"]
    m = r.merge(
        ours.rename(columns={"group": "sex"}) if "group" in ours else ours,
        on=key,
        suffixes=("_r", "_ours"),
        validate="one_to_one",
    )
    return {
        "domains": len(m),
        "estimate": float((m["estimate_r"] - m["estimate_ours"]).abs().max()),
        "se": float((m["se_r"] - m["se_ours"]).abs().max()),
    }


def _incremental(region: Path, work: Path, logdir: Path, n: int) -> dict:
    """Next year's delivery for every kommun: ``build`` with every other year cached."""
    newest = []
    for folder in sorted(region.glob("raw/**/trygghetsmatning")):
        files = sorted(p for p in folder.iterdir() if p.stem.isdigit())
        newest.append(files[-1])
    aside = work / "aside"
    runs = []
    for i in range(n):
        shutil.rmtree(aside, ignore_errors=True)
        for j, path in enumerate(newest):
            (aside / str(j)).mkdir(parents=True)
            shutil.move(path, aside / str(j) / path.name)
        warm = subprocess.run(
            [str(CLI), "build", "--data", str(region)], capture_output=True, text=True
        )
        for j, path in enumerate(newest):
            shutil.move(aside / str(j) / path.name, path)
        if warm.returncode != 0:
            return {"error": warm.stderr, "runs": i, "failed": 1}
        runs.append(
            measure([str(CLI), "build", "--data", str(region)], log=logdir / f"incr-{i}.log")
        )
    return median_of(runs) | {"files": len(newest)}


def _warm_report(work: Path, logdir: Path, n: int, say, seed: list[str]) -> dict:
    """``report`` on a one-kommun folder: a first (cold) run, then ``n`` warm runs."""
    single = work / "single"
    if not (single / "raw").is_dir():
        subprocess.run(
            [str(CLI), "sample-data", "--out", str(single), "--kommuner", "1", *seed],
            check=True,
            capture_output=True,
        )
        subprocess.run([str(CLI), "build", "--data", str(single)], check=True, capture_output=True)
    cmd = [str(CLI), "report", "--data", str(single), "--out", str(work / "single-reports")]
    say("rapport för en kommun: första körningen ...")
    cold = measure(cmd, log=logdir / "report-single-cold.log")
    say(f"rapport för en kommun: {n} varma körningar ...")
    warm = repeat(n, cmd, logdir, "report-single-warm")
    say(f"build för samma kommun: {n} körningar ...")
    build = repeat(n, [str(CLI), "build", "--data", str(single)], logdir, "build-single")
    # the "build of the bundled data" was a full build when it was written (no cache
    # existed); shown beside the strict ratio, which keeps the cached build as denominator
    say(f"build --utan-cache för samma kommun: {n} körningar ...")
    full = repeat(
        n, [str(CLI), "build", "--data", str(single), "--utan-cache"], logdir, "build-single-full"
    )
    return {"cold": cold, "warm": warm, "build": build, "build_full": full}


def _ratios(results: dict) -> None:
    s = results["steps"]
    summary = {}
    floor = s.get("floor", {}).get("seconds")
    ingest = s.get("ingest", {}).get("seconds")
    if floor and ingest:
        summary["ingest_floor_ratio"] = ingest / floor
        # CPU time is steadier than wall time when other work shares the cores
        summary["ingest_floor_ratio_cpu"] = s["ingest"]["cpu_seconds"] / s["floor"]["cpu_seconds"]
        if s.get("floor-text", {}).get("cpu_seconds"):
            summary["ingest_floor_text_ratio_cpu"] = (
                s["ingest"]["cpu_seconds"] / s["floor-text"]["cpu_seconds"]
            )
    if s.get("build", {}).get("wall_s") is not None:
        summary["build_wall_s"] = s["build"]["wall_s"]
        summary["build_peak_gb"] = s["build"]["peak_mb"] / 1024
        if floor:
            summary["build_floor_ratio"] = s["build"]["wall_s"] / floor
    if s.get("statistics", {}).get("estimates_seconds") is not None:
        summary["estimates_s"] = s["statistics"]["estimates_seconds"]
        summary["statistics_s"] = s["statistics"]["seconds"]
    warm = s.get("warm-report", {}).get("warm", {})
    if warm.get("wall_s") is not None:
        summary["warm_report_s"] = warm["wall_s"]
        single_build = s["warm-report"].get("build", {}).get("wall_s")
        if single_build:
            summary["warm_report_over_build"] = warm["wall_s"] / single_build
        full_build = s["warm-report"].get("build_full", {}).get("wall_s")
        if full_build:
            summary["warm_report_over_full_build"] = warm["wall_s"] / full_build
    incr = s.get("incremental", {}).get("wall_s")
    if incr and s.get("build", {}).get("wall_s"):
        summary["incremental_over_full"] = incr / s["build"]["wall_s"]
        summary["incremental_over_full_cpu"] = s["incremental"]["cpu_s"] / s["build"]["cpu_s"]
    if s.get("reports", {}).get("alla_over_one") is not None:
        summary["alla_over_one"] = s["reports"]["alla_over_one"]
        summary["alla_wall_s"] = s["reports"]["alla"]["wall_s"]
    r = s.get("r", {})
    if r.get("r", {}).get("seconds") and r.get("ours", {}).get("ours_package_seconds"):
        summary["r_svyby_s"] = r["r"]["seconds"]
        summary["r_over_ours"] = r["r"]["seconds"] / r["ours"]["ours_package_seconds"]
        summary["r_over_ours_same_call"] = r["r"]["seconds"] / r["ours"]["ours_same_call_seconds"]
    results["summary"] = summary
    results["met"] = {k: (summary[k] <= TARGETS[k]) for k in TARGETS if summary.get(k) is not None}


def _finish(results: dict, out: Path, say) -> int:
    results.setdefault("summary", {})
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    size = results["size"]
    (out / f"{size}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / f"{size}.md").write_text(markdown(results), encoding="utf-8")
    say(f"resultat: {out / (size + '.json')} och {out / (size + '.md')}")
    print(markdown(results))
    failed = [k for k, v in results["steps"].items() if _failed(v)]
    if failed:
        say(f"misslyckade steg: {', '.join(failed)}")
        return 1
    return 0


def _failed(step: dict) -> bool:
    if "rc" in step:
        return step["rc"] != 0
    if step.get("failed"):
        return True
    return any(_failed(v) for v in step.values() if isinstance(v, dict))


def _f(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ").replace(".", ",")


def markdown(results: dict) -> str:
    """The results as a Markdown table (Swedish; decimal comma)."""
    s, m = results["steps"], results["machine"]
    lines = [
        f"# Prestandamätning, storlek {results['size']} ({results['kommuner']} kommuner)",
        "",
        f"Maskin: {m['nproc']} kärnor, {m['cpu']}, {_f(m['memory_gb'], 0)} GB minne; "
        f"Python {m['python']}; commit {results.get('commit')}; {results['started']}; "
        f"belastning (load average 1/5/15 min) vid start {m.get('load_average_1_5_15')}, "
        f"vid slut {m.get('load_average_at_end')}. "
        f"Median av {results['repeats']} körningar där inget annat sägs.",
        "",
        "| steg | tid i steget (s) | väggtid, process (s) | CPU (s) | toppminne (MB) |"
        " anmärkning |",
        "|---|---:|---:|---:|---:|---|",
    ]

    def row(name: str, d: dict | None, inner: str | None = "seconds", note: str = "") -> None:
        if not d:
            return
        if d.get("skipped"):
            lines.append(f"| {name} | – | – | – | – | {d['skipped']} |")
            return
        if d.get("error") and d.get("wall_s") is None:
            err = d["error"].splitlines()[-1][:120] if d["error"] else ""
            lines.append(f"| {name} | – | – | – | – | misslyckades: {err} |")
            return
        inner_v = d.get(inner) if inner else None
        lines.append(
            f"| {name} | {_f(inner_v)} | {_f(d.get('wall_s'))} | {_f(d.get('cpu_s'))} | "
            f"{_f(d.get('peak_mb'), 0)} | {note} |"
        )

    gen = s.get("generate")
    row("sample-data (en gång)", gen, None, f"{_f(gen.get('raw_mb'), 0)} MB rådata" if gen else "")

    def in_step(d: dict) -> str:
        return f"; CPU i steget {_f(d.get('cpu_seconds'), 2)} s" if d.get("cpu_seconds") else ""

    def files_note(d: dict | None) -> str:
        if not d:
            return ""
        return f"{d.get('files', 0):.0f} filer, {_f(d.get('rows'), 0)} rader" + in_step(d)

    fl = s.get("floor")
    row("golv: bara läsa rådatafilerna", fl, note=files_note(fl))
    ft = s.get("floor-text")
    row("golv med csv-kolumnerna som text (ingen typgissning)", ft, note=files_note(ft))
    ing = s.get("ingest")
    row(
        "inläsning → kanonisk tabell",
        ing,
        note=(f"{_f(ing.get('rows'), 0)} svarsrader" + in_step(ing)) if ing else "",
    )
    st = s.get("statistics")
    if st and st.get("estimates_seconds") is not None:
        lines.append(
            f"| alla indikatorer × år × grupper (estimate_indicators) | "
            f"{_f(st['estimates_seconds'])} | – | {_f(st.get('estimates_cpu_seconds'))} | – | "
            f"{_f(st.get('estimate_rows'), 0)} rader |"
        )
    row("skattningar + förändringar + trender (statistics_stage)", st)
    row("trygghet-analys build --utan-cache (full)", s.get("build"), None)
    once = s.get("build-once")
    if once:
        needed = ", ".join(once.get("needed_by", []))
        row("build --utan-cache, en gång (steget build hoppades över)", once, None,
            note=f"processed/ saknades och behövdes av {needed}; inget mål räknas på den")  # fmt: skip
    inc = s.get("incremental")
    if inc:
        row(
            "build, ett nytt år per kommun (övriga år i cachen)",
            inc,
            None,
            note=f"{inc.get('files', 0):.0f} nya filer",
        )
    r = s.get("r")
    if r and not r.get("skipped"):
        row(f"R svyby, {R_INDICATOR} (per år, ~kommun+sex)", r.get("r"))
        o = r.get("ours", {})
        if o.get("ours_package_seconds") is not None:
            lines.append(
                f"| vi, samma indikator (estimate_indicators, kön) | "
                f"{_f(o['ours_package_seconds'], 2)} | – | "
                f"{_f(o.get('ours_package_cpu_seconds'), 2)} | – | |"
            )
            lines.append(
                f"| vi, samma anrop som R (design_estimate per år, kommun+kön) | "
                f"{_f(o['ours_same_call_seconds'], 2)} | – | "
                f"{_f(o.get('ours_same_call_cpu_seconds'), 2)} | – | |"
            )
    elif r:
        row("R svyby", r)
    rep = s.get("reports")
    if rep:
        row(
            f"report --kommun {rep['one'].get('kommun')} i regionmappen, varm", rep.get("one"), None
        )
        runs = rep.get("alla", {}).get("runs", 1)
        row(
            f"report --alla ({rep['kommuner']} kommuner, "
            + ("en körning)" if runs == 1 else f"median av {runs})"),
            rep.get("alla"),
            None,
        )
    wr = s.get("warm-report")
    if wr:
        row("report, en kommun, första körningen", wr.get("cold"), None, note="en körning")
        row("report, en kommun, varm (make report)", wr.get("warm"), None)
        row("build, samma kommun (exempeldata, cachen varm)", wr.get("build"), None)
        row("build --utan-cache, samma kommun (exempeldata)", wr.get("build_full"), None)

    summ, met = results.get("summary", {}), results.get("met", {})
    lines += ["", "## Mål", "", "| mål | gräns | uppmätt | uppfyllt |", "|---|---:|---:|---|"]
    labels = {
        "build_wall_s": ("build för regionen, väggtid (s)", 1),
        "build_peak_gb": ("build för regionen, toppminne (GB)", 2),
        "ingest_floor_ratio": ("inläsning / läsgolv (väggtid i steget)", 2),
        "estimates_s": ("alla indikatorer × år × grupper (s)", 1),
        "warm_report_s": ("varm rapport för en kommun (s)", 1),
        "ingest_floor_ratio_cpu": ("inläsning / läsgolv (CPU-tid)", 2),
        "alla_over_one": ("report --alla / en varm report --kommun", 1),
        "incremental_over_full": ("build med ett nytt år per kommun / full build", 2),
        "warm_report_over_build": ("varm rapport / build, en kommun", 2),
    }
    for key, (label, digits) in labels.items():
        v = summ.get(key)
        ok = met.get(key)
        lines.append(
            f"| {label} | {_f(TARGETS[key], digits)} | {_f(v, digits)} | "
            f"{'–' if ok is None else ('ja' if ok else 'nej')} |"
        )
    if summ.get("warm_report_over_full_build") is not None:
        lines += [
            "",
            "Varm rapport / build --utan-cache, en kommun (så mättes build när issue 16 "
            f"skrevs, före byggcachen): {_f(summ['warm_report_over_full_build'], 2)}. "
            "Målet ovan räknas mot build med varm cache.",
        ]
    if summ.get("ingest_floor_ratio_cpu") is not None:
        lines += ["", f"Inläsning / läsgolv i CPU-tid: {_f(summ['ingest_floor_ratio_cpu'], 2)}."]
        if summ.get("ingest_floor_text_ratio_cpu") is not None:
            lines[-1] += (
                " Mot golvet med csv-kolumnerna som text (inget mål): "
                f"{_f(summ['ingest_floor_text_ratio_cpu'], 2)}."
            )
    if summ.get("r_over_ours") is not None:
        lines += [
            "",
            f"R svyby / vår tid för samma indikator: {_f(summ['r_over_ours'])} gånger "
            f"(mot samma anropsform som R: {_f(summ['r_over_ours_same_call'])} gånger).",
        ]
        diff = s.get("r", {}).get("max_abs_diff")
        if diff:
            lines.append(
                f"Största skillnad mot R över {diff['domains']} domäner: skattning "
                f"{diff['estimate']:.1e}, medelfel {diff['se']:.1e}."
            )
    return "\n".join(lines) + "\n"


def _worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("step")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    print(json.dumps(_worker(a.step, a.data, a.out)), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        sys.exit(_worker_main(sys.argv[2:]))
    sys.exit(main())
