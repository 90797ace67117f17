"""The yearly report: outputs, summary, HTML, xlsx, byte-reproducibility, failed runs."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.report import charts
from trygghet_analys.report import render as report

YEARS = list(range(2015, 2026))
STRATA = ["Älmhults tätort", "Övriga tätorter", "Landsbygd"]
INDICATORS = [
    "otrygghet_ute_sent",
    "fortroende_polisen",
    "ser_polis_fots",
    "problemindex",
    "problem_nedskrapning",
    "problem_klotter",
    "problem_narkotikahandel",
]


def _estimates(rng: np.random.Generator, kommun: str) -> pd.DataFrame:
    rows = []
    groups = [("total", "Hela kommunen")] + [("stratum", s) for s in STRATA]
    groups += [("sex", "Kvinna"), ("sex", "Man"), ("age_group", "16–24"), ("age_group", "65–85")]
    for ind in INDICATORS:
        level = 2.0 if ind == "problemindex" else rng.uniform(0.1, 0.5)
        for gv, g in groups:
            for y in YEARS:
                if ind == "problem_narkotikahandel" and y < 2017:
                    continue
                est = level + rng.normal(0, 0.02) + 0.005 * (y - 2015)
                se = 0.05 if ind == "problemindex" else 0.02
                n = 25 if (gv == "age_group" and y == 2016) else 300
                sup = n < 30
                rows.append(
                    {
                        "kommun": kommun,
                        "year": y,
                        "indicator": ind,
                        "group_var": gv,
                        "group": g,
                        "estimate": np.nan if sup else est,
                        "se": np.nan if sup else se,
                        "ci_low": np.nan if sup else est - 2 * se,
                        "ci_high": np.nan if sup else est + 2 * se,
                        "n": n,
                        "suppressed": sup,
                    }
                )
    return pd.DataFrame(rows)


def _changes(est: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (ind, gv, g), part in est.groupby(["indicator", "group_var", "group"], sort=True):
        part = part.sort_values("year")
        for a, b in zip(part.iloc[:-1].itertuples(), part.iloc[1:].itertuples(), strict=True):
            change = b.estimate - a.estimate
            se = float(np.hypot(a.se, b.se))
            z = change / se if se else np.nan
            rows.append(
                {
                    "kommun": b.kommun,
                    "indicator": ind,
                    "group_var": gv,
                    "group": g,
                    "comparison": "föregående år",
                    "year_from": a.year,
                    "year_to": b.year,
                    "estimate_from": a.estimate,
                    "estimate_to": b.estimate,
                    "change": change,
                    "se_change": se,
                    "z": z,
                    "p_value": 0.01 if abs(z) > 1.96 else 0.5,
                    "significant": bool(abs(z) > 1.96),
                }
            )
    return pd.DataFrame(rows)


def make_fake_data(root: Path, *, kommun: str = "Älmhult", synthetic: bool = True) -> Path:
    """A data folder with small tables in exactly the contract columns (CONTRIBUTING.md)."""
    rng = np.random.default_rng(20220223)
    raw = root / "raw"
    (raw / "medborgarloften").mkdir(parents=True, exist_ok=True)
    (raw / "kommun.yml").write_text(
        f"kommun: {kommun}\nomraden: [{', '.join(STRATA)}]\nexempeldata: {str(synthetic).lower()}\n",
        encoding="utf-8",
    )
    proc = root / "processed"
    proc.mkdir(parents=True, exist_ok=True)
    est = _estimates(rng, kommun)
    chg = _changes(est.dropna(subset=["estimate"]))
    trends = pd.DataFrame(
        {
            "kommun": kommun,
            "indicator": INDICATORS,
            "group_var": "total",
            "group": "Hela kommunen",
            "year_from": 2015,
            "year_to": 2025,
            "n_years": 11,
            "slope": 0.005,
            "tau": 0.4,
            "p_value": 0.04,
            "significant": True,
            "direction": "ökande",
        }
    )
    rates = pd.DataFrame(
        [
            {
                "kommun": kommun,
                "year": y,
                "stratum": s,
                "sampled": 300,
                "respondents": 190 - (y - 2015),
                "response_rate": (190 - (y - 2015)) / 300,
            }
            for y in YEARS
            for s in STRATA
        ]
    )
    strata = rates.assign(population=4000)[
        ["kommun", "year", "stratum", "population", "sampled", "respondents", "response_rate"]
    ]
    breaks = pd.DataFrame(
        {
            "kommun": [kommun],
            "variable": ["otrygg_ute_sent"],
            "year": [2019],
            "reason": ["webbenkät"],
        }
    )
    days = pd.date_range("2024-03-05", periods=7, freq="D")
    loads = []
    for camp, start in (("2024-1", "2024-03-05"), ("2025-1", "2025-03-04")):
        for i, d in enumerate(pd.date_range(start, periods=7, freq="D")):
            for sub, met in (("amfetamin", "amphetamine"), ("kokain", "cocaine")):
                val = 30 + 5 * i if sub == "amfetamin" else (0.0 if i == 2 else 12.0 + i)
                loads.append(
                    {
                        "kommun": kommun,
                        "plant": "Älmhults ARV",
                        "campaign": camp,
                        "date": d,
                        "weekday": d.day_name(),
                        "substance": sub,
                        "metabolite": met,
                        "concentration_ng_l": val * 2,
                        "loq_ng_l": 1.0,
                        "below_loq": bool(val == 0.0),
                        "flow_m3_day": 4000.0,
                        "population": 10000,
                        "load_mg_day": val * 10,
                        "load_mg_day_1000": val,
                    }
                )
    del days
    loads = pd.DataFrame(loads)
    camps = (
        loads.assign(year=loads["date"].dt.year)
        .groupby(["kommun", "plant", "year", "campaign", "substance", "metabolite"], as_index=False)
        .agg(
            daily_mean=("load_mg_day_1000", "mean"),
            n_days=("date", "size"),
            n_below_loq=("below_loq", "sum"),
            date_from=("date", "min"),
            date_to=("date", "max"),
        )
    )
    camps["weekday_mean"] = camps["daily_mean"]
    camps["weekend_mean"] = camps["daily_mean"]
    camps = camps[
        [
            "kommun",
            "plant",
            "year",
            "campaign",
            "substance",
            "metabolite",
            "daily_mean",
            "weekday_mean",
            "weekend_mean",
            "n_days",
            "n_below_loq",
            "date_from",
            "date_to",
        ]
    ]
    from trygghet_analys.commitments import followup as commitments
    from trygghet_analys.files.registers import load_activities, load_registers
    from trygghet_analys.sample._commitments import write_sample_commitments

    write_sample_commitments(raw, kommun=kommun, rng=rng, years=[2024, 2025])
    followup = commitments.follow_up(
        load_registers(raw / "medborgarloften"),
        estimates=est,
        changes=chg,
        trends=trends,
        activities=load_activities(raw / "medborgarloften" / "aktiviteter.csv"),
        year=2025,
    )
    followup.loc[0, "text"] = "=Tryggare centrum"
    from trygghet_analys.stats.findings import build_findings
    from trygghet_analys.survey.indicators import load_indicators

    findings = build_findings(
        kommun=kommun,
        estimates=est,
        changes=chg,
        indicators=load_indicators(),
        breaks=breaks,
        base_year=2023,
        wastewater_campaigns=camps,
    )
    underlag = commitments.underlag_by_year(
        est, chg, indicators=load_indicators(), ntu=commitments.load_ntu(), kommun=kommun,
        findings=findings,
    )  # fmt: skip
    responses = pd.DataFrame({"kommun": [kommun], "year": [2025], "respondent_id": ["1"]})
    registers = load_registers(raw / "medborgarloften")  # as build reads them
    for name, frame in {
        "survey_responses": responses,
        "survey_estimates": est,
        "survey_changes": chg,
        "survey_trends": trends,
        "survey_response_rates": rates,
        "survey_strata": strata,
        "survey_breaks": breaks,
        "wastewater_loads": loads,
        "wastewater_campaigns": camps,
        "commitment_followup": followup,
        "findings": findings,
        "underlag": underlag,
        "commitment_registers": commitments.registers_table(registers, kommun=kommun),
        "commitment_draft": commitments.draft_table(
            registers, underlag, kommun=kommun, followup=followup
        ),
    }.items():
        frame.to_parquet(proc / f"{name}.parquet", index=False)
    return root


@pytest.fixture
def fake_data(tmp_path: Path) -> Path:
    return make_fake_data(tmp_path / "data")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One report (without notebooks) shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("rapport")
    data = make_fake_data(root / "data")
    return data, report.run(data=data, out=root / "ut", notebooks=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "notebooks" not in p.parts
    }


def test_report_writes_every_output(built: tuple[Path, Path]) -> None:
    fake_data, out = built
    assert out == fake_data.parent / "ut" / "2025"
    for name in ("diagram.pdf", "rapport.html", "tabeller.xlsx"):
        assert (out / name).stat().st_size > 1000
    tables = charts.load_tables(fake_data)
    names = [c.name for c in charts.available_charts(tables, 2025)]
    assert len(names) >= 8
    for name in names:
        for suffix in ("png", "svg", "pdf"):
            assert (out / "figurer" / f"{name}.{suffix}").is_file(), (name, suffix)
    # no temporary folders left beside the report
    assert sorted(p.name for p in out.parent.iterdir()) == ["2025"]


def test_report_is_byte_reproducible_across_folders(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    fake_data, a = built
    b = report.run(data=fake_data, out=tmp_path / "b" / "djupare", notebooks=False)
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    differing = [name for name in fa if fa[name] != fb[name]]
    assert differing == []
    for name, content in fa.items():
        if name.endswith((".svg", ".html", ".yml")):
            text = content.decode("utf-8")
            assert str(tmp_path) not in text and str(a.parent) not in text, name


def test_html_report(built: tuple[Path, Path]) -> None:
    _data, out = built
    text = (out / "rapport.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in text
    assert "Exempeldata – inte verkliga resultat" in text
    n_img = text.count("<img ")
    assert n_img == len(list((out / "figurer").glob("*.png")))
    assert text.count('src="data:image/png;base64,') == n_img
    assert 'alt=""' not in text
    assert "<script" not in text and "http" not in text.split("<body>")[1]
    assert "EUDA-data saknas" in text  # no EUDA file in the fake data folder
    assert '<th scope="col">' in text


def test_xlsx_sheets_and_neutralised_text(built: tuple[Path, Path]) -> None:
    from openpyxl import load_workbook

    _data, out = built
    wb = load_workbook(out / "tabeller.xlsx")
    for sheet in (
        "Skattningar",
        "Förändringar",
        "Trender",
        "Svarsfrekvens",
        "Avloppsvatten kampanjer",
        "Uppföljning",
    ):
        assert sheet in wb.sheetnames
    # synthetic data: the marking above the header on every sheet
    for ws in wb.worksheets:
        assert ws["A1"].value == "Exempeldata – inte verkliga resultat", ws.title
    header = [c.value for c in wb["Skattningar"][2]]
    assert header[:4] == ["Kommun", "År", "Indikator-id", "Indikator"]
    texts = [c.value for row in wb["Uppföljning"].iter_rows() for c in row]
    assert "'=Tryggare centrum" in texts
    assert "=Tryggare centrum" not in texts
    with zipfile.ZipFile(out / "tabeller.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_summary_findings_have_numbers(fake_data: Path) -> None:
    tables = charts.load_tables(fake_data)
    findings = report.summary_findings(tables, 2025)
    assert findings[0].startswith(
        report.fmt_percent(
            float(
                tables.estimates.query(
                    "indicator == 'otrygghet_ute_sent' and group_var == 'total' and year == 2025"
                )["estimate"].iloc[0]
            )
        )
    )
    assert any(f.startswith("Narkotika:") and "avloppsvattnet" in f for f in findings)
    for area in ("Samverkan", "Synlighet", "Trygghet"):
        assert any(f.startswith(f"{area}: ") for f in findings)
    lines = [f for f in findings if "Löfte " in f]
    assert len(lines) == tables.followup["commitment_id"].nunique() > 0
    assert all("genomförande: " in f and "; utfall: " in f for f in lines)
    # an outcome without a significant change reads as such, never as "oförändrad"
    shown = {"förbättrat", "försämrat", "ingen säkerställd förändring", "otillräckligt underlag"}
    assert all(f.rsplit("; utfall: ", 1)[1].split(".")[0] in shown for f in lines)
    assert not any("utfall: oförändrad" in f for f in lines)
    # each commitment told once, under its own focus area, in follow-up order
    first = tables.followup.drop_duplicates("commitment_id")
    for area in ("Samverkan", "Synlighet", "Trygghet"):
        mine = first.loc[first["focus_area"] == area, "commitment_id"].tolist()
        told = [f for f in lines if f.startswith(f"{area}: Löfte ")]
        assert [f.split()[2] for f in told] == [str(c) for c in mine]
    tested = tables.findings.query("year == 2025")["p_value"].notna().sum()
    assert any(f.startswith(f"{tested} jämförelser testades för 2025") for f in findings)
    assert any("svarade 2025" in f for f in findings)


def summary_coverage(findings: pd.DataFrame, summary: list[str], year: int) -> tuple[int, int]:
    """(significant findings of ``year``, those shown in the summary + those counted)."""
    import re

    sig = findings[(findings["year"] == year) & findings["significant"]]
    text = " ".join(summary)
    shown = sum(s in text for s in sig["sentence"])
    counted = sum(
        int(n) for n in re.findall(r"Och (\d+) till i tabeller\.xlsx, bladet Fynd\.", text)
    )
    return len(sig), shown + counted


def test_every_significant_finding_reaches_the_summary_or_its_count(fake_data: Path) -> None:
    tables = charts.load_tables(fake_data)
    summary = report.summary_findings(tables, 2025)
    n_sig, reached = summary_coverage(tables.findings, summary, 2025)
    assert reached == n_sig
    # no instructions for analysts on the council's page
    text = " ".join(summary)
    assert "trygghet-analys" not in text and "fetch-euda" not in text and "data/" not in text


def test_failed_run_leaves_previous_report(fake_data: Path, tmp_path: Path, monkeypatch) -> None:
    out = report.run(data=fake_data, out=tmp_path / "ut", notebooks=False)
    before = _files(out)

    def broken(tables, year, folder):
        raise RuntimeError("avsiktligt fel")

    monkeypatch.setattr(report, "EXTRA_WRITERS", [broken])
    with pytest.raises(RuntimeError):
        report.run(data=fake_data, out=tmp_path / "ut", notebooks=False)
    assert _files(out) == before
    assert sorted(p.name for p in (tmp_path / "ut").iterdir()) == ["2025"]


def test_extra_writers_hook(fake_data: Path, tmp_path: Path, monkeypatch) -> None:
    def underlag(tables, year, folder):
        (folder / "underlag.txt").write_text(f"{tables.kommun.name} {year}", encoding="utf-8")

    monkeypatch.setattr(report, "EXTRA_WRITERS", [underlag])
    out = report.run(data=fake_data, out=tmp_path / "ut", notebooks=False)
    assert (out / "underlag.txt").read_text(encoding="utf-8") == "Älmhult 2025"


def test_unknown_year_is_a_swedish_error(fake_data: Path, tmp_path: Path) -> None:
    from trygghet_analys.errors import ConfigError

    with pytest.raises(ConfigError, match="År 1999 finns inte"):
        report.run(year=1999, data=fake_data, out=tmp_path / "ut", notebooks=False)


def test_without_wastewater_and_followup(fake_data: Path, tmp_path: Path) -> None:
    import shutil

    # as build leaves processed/ for a kommun without registers: no follow-up, no
    # register table and no draft (the report reads no register file itself)
    gone = ("wastewater_loads", "wastewater_campaigns", "commitment_followup")
    for name in (*gone, "commitment_registers", "commitment_draft"):
        (fake_data / "processed" / f"{name}.parquet").unlink()
    shutil.rmtree(fake_data / "raw" / "medborgarloften")
    out = report.run(data=fake_data, out=tmp_path / "ut", notebooks=False)
    names = {p.stem for p in (out / "figurer").glob("*.png")}
    assert not any(n.startswith("avloppsvatten_") for n in names)
    assert "medborgarlofte_uppfoljning" not in names
    assert "otrygghet_trend" in names
    text = (out / "rapport.html").read_text(encoding="utf-8")
    assert "Avloppsvattendata saknas" in text
    assert not list(out.glob("medborgarlofte_*_utkast.yml"))  # no registers, no draft


def test_stale_processed_is_detected(fake_data: Path) -> None:
    from trygghet_analys.config import DataFolder

    folder = DataFolder.at(fake_data)
    import os
    import time

    old = time.time() - 100
    for p in folder.processed.iterdir():
        os.utime(p, (old, old))
    assert report.is_stale(folder)  # kommun.yml is newer than processed
    new = time.time() + 100
    for p in folder.processed.iterdir():
        os.utime(p, (new, new))
    assert not report.is_stale(folder)
    # an EUDA file fetched into external/ after the build is read by the next build
    folder.external.mkdir(exist_ok=True)
    euda = folder.external / "ww2025-all-data.csv"
    euda.write_text("x\n", encoding="utf-8")
    newer = time.time() + 200
    os.utime(euda, (newer, newer))
    assert report.is_stale(folder)
    euda.unlink()
    assert not report.is_stale(folder)
    (folder.processed / "survey_responses.parquet").unlink()
    assert report.is_stale(folder)


def test_github_workflow_runs_tests_and_report() -> None:
    import yaml

    path = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "report.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = doc.get("on", doc.get(True))
    assert {"push", "workflow_dispatch"} <= set(triggers)
    job = doc["jobs"]["rapport"]
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    runs = [s.get("run") for s in steps if "run" in s]
    assert runs == ["make test", "make report"]
    python = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "reports/"


def test_commitment_outputs(built: tuple[Path, Path]) -> None:
    from openpyxl import load_workbook

    _data, out = built
    page = (out / "underlag_medborgarlofte.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in page
    draft = (out / "medborgarlofte_2026_utkast.yml").read_text(encoding="utf-8")
    assert "2026" in draft
    assert "Underlag nästa år" in load_workbook(out / "tabeller.xlsx", read_only=True).sheetnames


def test_chart_registry(fake_data: Path) -> None:
    import matplotlib.pyplot as plt

    from trygghet_analys.formatting import fmt_percent

    names = charts.chart_names()
    assert len(names) >= 8 and len(set(names)) == len(names)
    assert all(n.isascii() and n.replace("_", "").isalnum() for n in names)
    tables = charts.load_tables(fake_data)
    chart = charts.get_chart("otrygghet_trend")
    fig = chart.draw(tables, 2025)
    texts = [t.get_text() for t in fig.texts]
    assert "Exempeldata – inte verkliga resultat" in texts
    assert any(t.startswith("Källa: trygghetsmätningen Älmhult 2015–2025") for t in texts)
    latest = tables.estimates.query(
        "indicator == 'otrygghet_ute_sent' and group_var == 'total' and year == 2025"
    )["estimate"].iloc[0]
    assert fmt_percent(latest) in chart.alt(fig)
    data = chart.data(tables, 2025)
    assert {"År", "Skattning", "Riket enligt NTU (%)"} <= set(data.columns)
    plt.close(fig)
    # a chart whose data is missing is not drawn
    assert charts.show("avloppsvatten_mdma", tables, 2025) is None
    with pytest.raises(ValueError, match="unknown chart"):
        charts.get_chart("finns_inte")


def test_marked_changes_are_made_once_per_findings_table_and_year(fake_data: Path) -> None:
    tables = charts.load_tables(fake_data)
    assert len(tables.findings)
    first = charts._marked_changes(tables, 2025)
    assert len(first) and (first["year_to"] <= 2025).all()
    # the same frame for every chart of the report, equal to one made anew
    assert charts._marked_changes(tables, 2025) is first
    pd.testing.assert_frame_equal(first, charts._changes_to_mark(tables.findings, 2025))
    earlier = charts._marked_changes(tables, 2020)
    assert earlier is not first and len(earlier) < len(first)
    pd.testing.assert_frame_equal(earlier, charts._changes_to_mark(tables.findings, 2020))
    # another findings table is read anew
    tables.findings = tables.findings[tables.findings["indicator"] == "otrygghet_ute_sent"]
    fewer = charts._marked_changes(tables, 2025)
    assert set(fewer["indicator"]) == {"otrygghet_ute_sent"} and len(fewer) < len(first)
    tables.findings = pd.DataFrame()
    assert charts._marked_changes(tables, 2025).empty


def test_commitment_periods() -> None:
    from types import SimpleNamespace as R

    regs = [R(year=2022), R(year=2023), R(year=2025), R(year=2026, draft=True)]
    assert charts.commitment_periods(regs) == [
        (2022, 2023, "Medborgarlöfte 2022–2023"),
        (2025, 2025, "Medborgarlöfte 2025"),
    ]


def test_region_folder_needs_and_uses_kommun(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from trygghet_analys.errors import ConfigError

    a = make_fake_data(tmp_path / "a", kommun="Älmhult")
    b = make_fake_data(tmp_path / "b", kommun="Ljungby", synthetic=False)
    region = tmp_path / "region"
    (region / "processed").mkdir(parents=True)
    for src, slug in ((a, "almhult"), (b, "ljungby")):
        target = region / "raw" / "kommuner" / slug
        target.parent.mkdir(parents=True, exist_ok=True)
        (src / "raw").rename(target)
    for p in sorted((a / "processed").glob("*.parquet")):
        both = pd.concat([pd.read_parquet(p), pd.read_parquet(b / "processed" / p.name)])
        both.to_parquet(region / "processed" / p.name, index=False)
    with pytest.raises(ConfigError, match="välj en med --kommun"):
        report.run(data=region, out=tmp_path / "ut", notebooks=False, build=False)
    out = report.run(
        data=region, out=tmp_path / "ut", kommun="Ljungby", notebooks=False, build=False
    )
    html_text = (out / "rapport.html").read_text(encoding="utf-8")
    assert "Trygghet i Ljungby 2025" in html_text
    assert "Exempeldata – inte verkliga resultat" not in html_text
    ws = load_workbook(out / "tabeller.xlsx", read_only=True)["Skattningar"]
    kommuner = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert kommuner == {"Ljungby"}


@pytest.mark.parametrize("synthetic", [True, False])
def test_chart_book_summary_page_says_exempeldata_exactly_when_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic: bool
) -> None:
    """The chart book's first page (the summary the council reads first) carries the
    sample-data banner when the data are synthetic, and never otherwise."""
    from matplotlib.text import Text

    from trygghet_analys.files import export

    data = make_fake_data(tmp_path / "data", synthetic=synthetic)
    pages: list[list[str]] = []
    real = export.write_pdf_book

    def spy(path, figures, **kwargs):
        def seen():
            for fig in figures:
                # a chart page is a header with the chart drawn on it (export.BookPage)
                shown = [fig.header, fig.chart] if isinstance(fig, export.BookPage) else [fig]
                pages.append([t.get_text() for f in shown for t in f.findobj(Text)])
                yield fig

        return real(path, seen(), **kwargs)

    monkeypatch.setattr(export, "write_pdf_book", spy)
    report.run(data=data, out=tmp_path / "ut", notebooks=False)
    assert len(pages) > 1
    assert ("Exempeldata – inte verkliga resultat" in pages[0]) is synthetic


def test_the_report_path_imports_scipy_only_when_a_statistic_is_computed() -> None:
    """scipy.stats (about half a second) is imported at the first statistic that needs
    it, not by the modules a report imports for their constants (``trygghet_analys._lazy``);
    the q-values a build computes need only ``scipy.special`` (``stats/_dist.py``), the
    noncentral *t* of a campaign's detectable change needs ``scipy.stats``."""
    import subprocess

    code = (
        "import sys\n"
        "from trygghet_analys.report import render\n"
        "from trygghet_analys.files import registers\n"
        "print('scipy.stats' in sys.modules)\n"
        "from trygghet_analys.stats.findings import adjust_q_values\n"
        "import pandas as pd\n"
        "adjust_q_values(pd.DataFrame({'p_value': [0.01, 0.04], 'kommun': 'A', 'year': 2025}))\n"
        "print('scipy.stats' in sys.modules)\n"
        "from trygghet_analys.wastewater.campaigns import detectable_change\n"
        "detectable_change(2, 0.3, 3)\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False", "True"]


def test_detectable_sentence_reads_the_latest_row_up_to_the_report_year():
    from types import SimpleNamespace

    table = pd.DataFrame(
        {
            "kommun": "K",
            "year": [2023, 2025],
            "n_campaigns_per_year": [2, 4],
            "cv_between_campaigns": [0.30, 0.25],
            "increase": [4.251, 0.6149],
            "decrease": [0.8096, 0.3808],
        }
    )
    tables = SimpleNamespace(wastewater_detectable=table)
    # before the first row: nothing to say
    assert report._detectable(tables, 2022) == ""
    # 2024 reads 2023's row (the latest up to the year), 2025 its own
    text = report._detectable(tables, 2024)
    assert "Med 2 mätkampanjer om året" in text and "+425 %" in text and "−81 %" in text
    assert "kampanjer 30 %" in text
    text = report._detectable(tables, 2025)
    assert "Med 4 mätkampanjer om året" in text and "+61 %" in text and "−38 %" in text
    assert report._detectable(SimpleNamespace(wastewater_detectable=pd.DataFrame()), 2025) == ""


def test_every_column_of_tabeller_xlsx_has_a_format_rule(built: tuple[Path, Path]) -> None:
    from openpyxl import load_workbook

    from trygghet_analys.report import tableformat

    _data, out = built
    wb = load_workbook(out / "tabeller.xlsx", read_only=True)
    missing = {}
    for ws in wb.worksheets:
        header = [str(c) for c in next(ws.iter_rows(min_row=2, max_row=2, values_only=True))]
        keys = tableformat.column_keys(header)
        lacking = [h for h in header if keys[h] not in tableformat.COLUMN_FORMATS]
        if lacking:
            missing[ws.title] = lacking
    assert missing == {}


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {
                "a": [None, None],
                "b": [1.0, np.nan],
                "c": pd.Series([None, None], dtype="str"),
                "d": pd.Categorical([None, None]),
                "e": pd.Series([pd.NA, pd.NA], dtype="Int64"),
                "f": pd.to_datetime([None, "2024-01-01"]),
                "g": [True, False],
            }
        ),
        pd.DataFrame([[1, None, "x"], [2, None, None]], columns=["x", "x", "y"]),  # repeated
        pd.DataFrame({"a": [1.0], "b": ["t"]}),  # nothing to drop
        pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype="str")}),
        pd.DataFrame(index=[3, 4]),
        pd.DataFrame(),
    ],
)
def test_without_empty_columns_is_dropna_of_all_empty_columns(frame: pd.DataFrame) -> None:
    """The sheets' and chart tables' empty columns go as ``dropna(axis=1, how="all")``
    drops them: the same columns, dtypes and index."""
    want = frame.dropna(axis=1, how="all")
    got = report._without_empty_columns(frame)
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns) == list(want.columns)
