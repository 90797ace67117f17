"""Disclosure control end to end: no figure from fewer than ``min_n`` respondents leaves.

The data folder of ``test_raw_readonly.reported_folder`` has ``min_n`` raised so that most
age-group estimates are suppressed. The same raw data is estimated again with
``min_n = 1`` (nothing suppressed): the values the real run suppressed – estimates,
standard errors, confidence limits, and the changes and trends computed from them – are
the *secrets*. A secret that equals no published value must not appear in any output:
processed parquet and CSV, every cell of every xlsx workbook in ``reports/``, the text
and alt texts of the HTML pages, the text of the SVG charts, the executed notebooks and
the YAML draft.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from test_raw_readonly import reported_folder
from trygghet_analys import pipeline

KEY = ["kommun", "indicator", "group_var", "group"]
_NUMBER = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?(?![\w])")


def _key(v: float) -> float:
    """A float compared at 12 significant digits (what xlsx and CSV keep of a float64)."""
    return float(f"{v:.12g}")


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, sample_data_dir) -> dict:
    return reported_folder(tmp_path_factory, sample_data_dir)


@pytest.fixture(scope="module")
def real(e2e) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in (e2e["root"] / "processed").glob("*.parquet")}


@pytest.fixture(scope="module")
def reference(e2e, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The survey statistics of the same raw data with nothing suppressed (min_n = 1)."""
    root = tmp_path_factory.mktemp("unsuppressed") / "data"
    shutil.copytree(e2e["root"] / "raw", root / "raw")
    kommun_file = root / "raw" / "kommun.yml"
    doc = yaml.safe_load(kommun_file.read_text(encoding="utf-8"))
    doc["min_n"] = 1
    kommun_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return pipeline.compute_tables(root, stages=[pipeline.survey_stage, pipeline.statistics_stage])


@pytest.fixture(scope="module")
def secrets(real, reference) -> set[float]:
    """Values computed from fewer than min_n respondents that equal no published value."""
    est = real["survey_estimates"]
    hidden = est.loc[est["suppressed"], [*KEY, "year"]]
    assert len(hidden) > 50, "the end-to-end folder should suppress many domain estimates"
    ref = reference["survey_estimates"].merge(hidden, on=[*KEY, "year"])
    values = ref[["estimate", "se", "ci_low", "ci_high"]].to_numpy().ravel().tolist()

    # changes with a suppressed end
    chg = reference["survey_changes"]
    hid = hidden.assign(_h=True)
    for end in ("year_from", "year_to"):
        chg = chg.merge(
            hid.rename(columns={"year": end, "_h": f"_h_{end}"}), on=[*KEY, end], how="left"
        )
    leaky = chg[chg["_h_year_from"].notna() | chg["_h_year_to"].notna()]
    values += leaky[["change", "se_change", "z"]].to_numpy().ravel().tolist()

    # trends over a span with a suppressed year (the slope used the suppressed values)
    trd = reference["survey_trends"].merge(hidden, on=KEY)
    trd = trd[(trd["year"] >= trd["year_from"]) & (trd["year"] <= trd["year_to"])]
    values += trd["slope"].tolist()

    published = set()
    for table in real.values():
        for col in table.select_dtypes("number").columns:
            published.update(_key(v) for v in table[col].dropna().to_numpy(dtype=float))
    out = {_key(v) for v in values if isinstance(v, float) and math.isfinite(v)}
    return out - published - {0.0}


def _numbers_in_frame(frame: pd.DataFrame) -> set[float]:
    out: set[float] = set()
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out.update(_key(v) for v in s.dropna().to_numpy(dtype=float) if math.isfinite(v))
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            for text in s.dropna().astype(str):
                out.update(_tokens(text))
    return out


def _tokens(text: str) -> set[float]:
    out = set()
    for tok in _NUMBER.findall(text):
        try:
            out.add(_key(float(tok.replace(",", "."))))
        except ValueError:
            continue
    return out


def test_suppressed_means_no_numbers(real, e2e):
    """Every estimate from fewer than min_n respondents is marked and has no numbers."""
    est = real["survey_estimates"]
    few = est["n"] < e2e["min_n"]
    assert few.any()
    assert est.loc[few, "suppressed"].all()
    assert est.loc[est["suppressed"], ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()


def test_changes_never_use_a_suppressed_estimate(real):
    est, chg = real["survey_estimates"], real["survey_changes"]
    hidden = est.loc[est["suppressed"], [*KEY, "year"]]
    for end in ("year_from", "year_to"):
        hit = chg.merge(hidden.rename(columns={"year": end}), on=[*KEY, end])
        cols = [f"estimate_{end[5:]}", "change", "se_change", "z", "p_value"]
        assert hit[cols].isna().all().all(), hit[[*KEY, end, *cols]].head()


def test_no_secret_in_processed_tables(real, secrets):
    assert secrets
    for name, table in real.items():
        leaked = _numbers_in_frame(table) & secrets
        assert not leaked, f"processed/{name}.parquet: {sorted(leaked)[:5]}"


def test_no_secret_in_processed_csv(e2e, secrets):
    files = list((e2e["root"] / "processed").glob("*.csv"))
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8-sig")
        leaked = _tokens(text) & secrets
        assert not leaked, f"{f.name}: {sorted(leaked)[:5]}"


def _xlsx_numbers(path: Path) -> dict[str, set[float]]:
    """Every number of every sheet, in the processed tables' units: a cell in percentage
    points (format "… p.e.") holds a difference of shares × 100, compared as the share
    (a secret change stored as points must be found; a published slope in points that
    happens to equal some secret fraction is no leak)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {}
    for ws in wb.worksheets:
        found: set[float] = set()
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, bool) or v is None:
                    continue
                if isinstance(v, (int, float)):
                    if math.isfinite(v):
                        points = "p.e." in (cell.number_format or "")
                        found.add(_key(float(v) / 100 if points else float(v)))
                elif isinstance(v, str):
                    found |= _tokens(v)
        out[ws.title] = found
    wb.close()
    return out


def test_no_secret_in_any_workbook(e2e, secrets):
    books = list(e2e["reports"].rglob("*.xlsx"))
    assert books, "the report writes tabeller.xlsx"
    for book in books:
        for sheet, numbers in _xlsx_numbers(book).items():
            leaked = numbers & secrets
            assert not leaked, f"{book.name} / {sheet}: {sorted(leaked)[:5]}"


def test_workbook_rows_with_too_few_answers_are_empty(e2e):
    """Every sheet with 'Antal svar': rows under min_n show no estimate or interval."""
    book = next(e2e["reports"].rglob("tabeller.xlsx"))
    wb = openpyxl.load_workbook(book, read_only=True)
    checked = 0
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = list(next(rows, []))
        if header[:1] == ["Exempeldata – inte verkliga resultat"]:
            header = list(next(rows, []))  # the synthetic-data marking above the header
        if "Antal svar" not in header:
            continue
        n_col = header.index("Antal svar")
        value_cols = [
            i
            for i, h in enumerate(header)
            if isinstance(h, str) and (h.startswith(("Skattning", "Konfidensintervall")) or
                                       h == "Standardfel")
        ]  # fmt: skip
        for row in rows:
            n = row[n_col]
            if isinstance(n, (int, float)) and n < e2e["min_n"]:
                checked += 1
                assert all(row[i] in (None, "") for i in value_cols), (ws.title, row)
    wb.close()
    assert checked > 0


class _Text(HTMLParser):
    """Visible text, alt and title attributes of an HTML or SVG document."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _notebook_output_text(text: str) -> str:
    """What an executed notebook shows: its outputs' text and HTML (not timings, not images)."""
    nb = json.loads(text)
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", [])))
            data = out.get("data", {})
            for mime in ("text/plain", "text/markdown"):
                parts.append("".join(data.get(mime, [])))
            if "text/html" in data:
                parser = _Text()
                parser.feed("".join(data["text/html"]))
                parts.extend(parser.parts)
    return "\n".join(parts)


def _displayed(text: str) -> list[tuple[float, int]]:
    """Numbers shown in text with their decimals: '23,4 %' → (23.4, 1)."""
    out = []
    for tok in _NUMBER.findall(text):
        norm = tok.replace(",", ".").replace("\u2212", "-")
        if "e" in norm.lower():
            continue
        decimals = len(norm.split(".")[1]) if "." in norm else 0
        out.append((float(norm), decimals))
    return out


def _rounded_secrets(secrets: set[float], published: set[float], decimals: int) -> set[float]:
    """Secrets (also as percent) at the given decimals that no published value rounds to."""
    pub = {round(p, decimals) for p in published} | {round(100 * p, decimals) for p in published}
    sec = {round(s, decimals) for s in secrets} | {round(100 * s, decimals) for s in secrets}
    return sec - pub


def test_no_secret_in_html_svg_notebooks_or_yaml(e2e, real, secrets):
    """Shown numbers (≥ 1 decimal) that round like a secret and like no published value."""
    published = set()
    for table in real.values():
        published |= _numbers_in_frame(table)
    by_decimals = {d: _rounded_secrets(secrets, published, d) for d in range(1, 13)}
    files = [
        p
        for p in e2e["reports"].rglob("*")
        if p.suffix in (".html", ".svg", ".ipynb", ".yml", ".md", ".txt")
    ]
    assert any(p.suffix == ".html" for p in files)
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        if f.suffix in (".html", ".svg"):
            parser = _Text()
            parser.feed(text)
            text = "\n".join(parser.parts)
        elif f.suffix == ".ipynb":
            text = _notebook_output_text(text)
        leaked = [
            (v, d) for v, d in _displayed(text) if 1 <= d <= 12 and round(v, d) in by_decimals[d]
        ]
        assert not leaked, f"{f.relative_to(e2e['reports'])}: {leaked[:5]}"


def test_the_scan_finds_a_planted_secret(e2e, secrets, tmp_path):
    """The scanners work: a secret written into a workbook and an HTML page is found."""
    value = sorted(secrets)[len(secrets) // 2]
    wb = openpyxl.Workbook()
    wb.active.append(["Skattning", value])
    wb.save(tmp_path / "planted.xlsx")
    assert value in _xlsx_numbers(tmp_path / "planted.xlsx")["Sheet"]
    parser = _Text()
    parser.feed(f'<p>Andel</p><img alt="andelen är {100 * value:.1f} %">')
    shown = _displayed("\n".join(parser.parts))
    assert (round(100 * value, 1), 1) in [(round(v, 1), d) for v, d in shown]
    assert np.isfinite(value)


def test_no_area_estimate_recoverable_from_the_total(real, reference):
    """Secondary suppression: a lone suppressed area is not the total minus the others.

    The total is the population-weighted mean of the areas: with weights
    w_h = N_h · n_h / r_h (N_h public population, n_h the published "Antal svar", r_h the
    published respondents) p_total = Σ w_h p_h / Σ w_h. When exactly one area of an
    indicator and year is suppressed, its estimate follows exactly from the published
    total and the other areas. So at least two areas must be suppressed, or none.
    """
    est = real["survey_estimates"]
    areas = est[est["group_var"] == "stratum"]
    lone = areas.groupby(["kommun", "indicator", "year"])["suppressed"].sum()
    lone = lone[lone == 1]
    if lone.empty:
        return
    # show that it really leaks: recover one suppressed area from published figures
    kommun, indicator, year = lone.index[0]
    strata = real["survey_strata"]
    d = areas[
        (areas["kommun"] == kommun) & (areas["indicator"] == indicator) & (areas["year"] == year)
    ].merge(strata, left_on=["kommun", "year", "group"], right_on=["kommun", "year", "stratum"])
    d["w"] = d["population"] * d["n"] / d["respondents"]
    total = est[
        (est["kommun"] == kommun) & (est["indicator"] == indicator) & (est["year"] == year)
        & (est["group_var"] == "total")
    ]["estimate"].iloc[0]  # fmt: skip
    shown, hidden = d[~d["suppressed"]], d[d["suppressed"]].iloc[0]
    recovered = (total * d["w"].sum() - (shown["w"] * shown["estimate"]).sum()) / hidden["w"]
    ref = reference["survey_estimates"]
    true = ref[
        (ref["kommun"] == kommun) & (ref["indicator"] == indicator) & (ref["year"] == year)
        & (ref["group_var"] == "stratum") & (ref["group"] == hidden["group"])
    ]["estimate"].iloc[0]  # fmt: skip
    pytest.fail(
        f"{len(lone)} indikator-år har exakt ett dolt område; t.ex. {indicator} {year} "
        f"{hidden['group']} (n = {hidden['n']}): {recovered:.6f} räknas fram ur totalen och "
        f"de andra områdena (sant värde {true:.6f})"
    )
