"""Tests for commitments: registers, activities, follow-up, underlag, draft, HTML."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import reference_file
from trygghet_analys.commitments import followup as cm
from trygghet_analys.errors import DataError
from trygghet_analys.files import registers as rf
from trygghet_analys.report.underlag import render_underlag_html
from trygghet_analys.sample._commitments import write_sample_commitments
from trygghet_analys.schemas import processed_schemas
from trygghet_analys.vocabulary import column_headers

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "medborgarlofte-almhult-2022.txt"
NTU_REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ntu" / "ntu_riket.csv"
KOMMUN = "Testby"

EST_COLS = [
    "kommun", "year", "indicator", "group_var", "group", "estimate", "se", "ci_low",
    "ci_high", "n", "suppressed",
]  # fmt: skip
CHG_COLS = [
    "kommun", "indicator", "group_var", "group", "comparison", "year_from", "year_to",
    "estimate_from", "estimate_to", "change", "se_change", "z", "p_value", "significant",
]  # fmt: skip
TRD_COLS = [
    "kommun", "indicator", "group_var", "group", "year_from", "year_to", "n_years", "slope",
    "tau", "p_value", "significant", "direction",
]  # fmt: skip


# ----------------------------------------------------------------------------- helpers
def _est(indicator, series, *, group_var="total", group="Hela kommunen", se=0.015, n=300):
    """Estimate rows; a value of None is a suppressed estimate (n = 12)."""
    rows = []
    for year, value in series.items():
        sup = value is None
        rows.append(
            {
                "kommun": KOMMUN, "year": year, "indicator": indicator,
                "group_var": group_var, "group": group,
                "estimate": np.nan if sup else value, "se": np.nan if sup else se,
                "ci_low": np.nan if sup else value - 1.96 * se,
                "ci_high": np.nan if sup else value + 1.96 * se,
                "n": 12 if sup else n, "suppressed": sup,
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=EST_COLS)


def _changes(est: pd.DataFrame, comparison: str = "föregående år") -> pd.DataFrame:
    """Year-on-year changes with the z-test computed independently of the package:
    z = (p2 - p1) / sqrt(se1^2 + se2^2), p = erfc(|z| / sqrt(2)) (= R 2*pnorm(-abs(z)))."""
    rows = []
    for (ind, gv, g), d in est.groupby(["indicator", "group_var", "group"]):
        d = d.sort_values("year").reset_index(drop=True)
        for i in range(1, len(d)):
            a, b = d.iloc[i - 1], d.iloc[i]
            if a["suppressed"] or b["suppressed"]:
                continue
            se = math.sqrt(a["se"] ** 2 + b["se"] ** 2)
            z = (b["estimate"] - a["estimate"]) / se
            p = math.erfc(abs(z) / math.sqrt(2))
            rows.append(
                [KOMMUN, ind, gv, g, comparison, a["year"], b["year"], a["estimate"],
                 b["estimate"], b["estimate"] - a["estimate"], se, z, p, p < 0.05]
            )  # fmt: skip
    return pd.DataFrame(rows, columns=CHG_COLS)


def _indicators() -> pd.DataFrame:
    rows = [
        ("otrygghet_ute_sent", "Otrygghet ute sent en kväll", "proportion", "higher_is_worse", "Trygghet", "otrygg_ute_sent"),
        ("fortroende_polisen", "Förtroende för polisen", "proportion", "higher_is_better", "Synlighet", "fortroende_polisen"),
        ("ser_polis_fots", "Ser polis till fots", "proportion", "higher_is_better", "Synlighet", ""),
        ("problemindex", "Problemindex", "mean", "higher_is_worse", "Trygghet", ""),
        ("problem_narkotikahandel", "Öppen narkotikahandel", "proportion", "higher_is_worse", "Samverkan", ""),
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=["id", "label", "kind", "direction", "focus_area", "ntu_id"])
    out["definition"] = "test"
    out["variables"] = out["id"]
    out["categories"] = ""
    out["unit"] = np.where(out["kind"] == "mean", "index", "andel")
    out["ntu_id"] = out["ntu_id"].replace("", np.nan)
    return out


@pytest.fixture
def world():
    """Seven survey years for a small kommun with known findings for 2024."""
    years = range(2018, 2025)
    est = pd.concat(
        [
            _est("otrygghet_ute_sent", dict(zip(years, [0.20, 0.21, 0.19, 0.20, 0.18, 0.22, 0.30], strict=True))),
            _est("otrygghet_ute_sent", dict(zip(years, [0.20, 0.19, 0.18, 0.17, 0.19, 0.18, 0.24], strict=True)), group_var="stratum", group="Centrum", se=0.02),
            _est("otrygghet_ute_sent", dict(zip(years, [0.25, 0.30, 0.28, 0.27, 0.26, 0.20, None], strict=True)), group_var="stratum", group="Landsbygd", se=0.04),
            _est("fortroende_polisen", dict(zip(years, [0.50, 0.48, 0.47, 0.45, 0.44, 0.43, 0.40], strict=True)), se=0.02),
            _est("ser_polis_fots", dict(zip(years, [0.30, 0.31, 0.29, 0.30, 0.31, 0.30, 0.31], strict=True))),
            _est("problemindex", dict(zip(years, [1.02, 1.10, 1.21, 1.30, 1.41, 1.55, 1.62], strict=True)), se=0.08),
            _est("problem_narkotikahandel", dict(zip(years, [0.05, 0.06, 0.05, 0.07, 0.06, 0.07, 0.09], strict=True)), se=0.012),
        ],
        ignore_index=True,
    )  # fmt: skip
    chg = _changes(est)
    trd = pd.DataFrame(
        [
            [KOMMUN, "problemindex", "total", "Hela kommunen", 2018, 2024, 7, 0.1, 1.0, 0.0004, True, "ökande"],
            [KOMMUN, "problem_narkotikahandel", "total", "Hela kommunen", 2018, 2024, 7, 0.005, 0.5, 0.13, False, "ingen säkerställd trend"],
        ],
        columns=TRD_COLS,
    )  # fmt: skip
    return est, chg, trd


REGISTER_YAML = """\
kommun: Testby
year: 2022
signed: 2022-02-23
signatories:
- name: Anna Andersson
  role: kommunstyrelsens ordförande
focus_areas: [Synlighet, Trygghet]
commitments:
- id: SY1
  focus_area: Synlighet
  text: Polisen ska fotpatrullera i Centrum.
  responsible: polis
  activities:
  - measure: fotpatrull_timmar
    unit: timmar
    target: 300
  indicators:
  - id: otrygghet_ute_sent
    direction: minska
    group: Centrum
  - id: ser_polis_fots
    direction: öka
  - id: fotpatrull_timmar
    direction: öka
- id: TR1
  focus_area: Trygghet
  text: Kommunen ska mäta narkotika i avloppsvatten.
  responsible: kommun
  activities: []
  indicators:
  - id: cannabis
    direction: minska
"""


@pytest.fixture
def register_file(tmp_path) -> Path:
    path = tmp_path / "2022.yml"
    path.write_text(REGISTER_YAML, encoding="utf-8")
    return path


@pytest.fixture
def activities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["2021", "2024-H1", "2024-H2", "2023"],
            "year": [2021, 2024, 2024, 2023],
            "measure": ["fotpatrull_timmar"] * 4,
            "value": [160.0, 120.0, 130.0, 200.0],
            "unit": ["timmar"] * 4,
        }
    )


# ----------------------------------------------------------------------------- registers
def test_load_register_reads_every_key(register_file):
    reg = rf.load_register(register_file)
    assert reg.kommun == KOMMUN and reg.year == 2022 and str(reg.signed) == "2022-02-23"
    assert reg.signatories == (cm.Signatory("Anna Andersson", "kommunstyrelsens ordförande"),)
    sy1 = reg.commitments[0]
    assert sy1.activities == (cm.ActivityTarget("fotpatrull_timmar", "timmar", 300.0),)
    assert sy1.indicators[0] == cm.IndicatorLink(
        "otrygghet_ute_sent", "enkät", "minska", "stratum", "Centrum"
    )
    assert [i.kind for i in sy1.indicators] == ["enkät", "enkät", "aktivitet"]
    assert reg.commitments[1].indicators[0].kind == "avloppsvatten"
    frame = reg.to_frame()
    assert len(frame) == 4
    assert frame["commitment_id"].tolist() == ["SY1", "SY1", "SY1", "TR1"]


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        ("  - id: ser_polis_fots", "  - id: ser_polis_bil", 21, "id"),
        ("  focus_area: Trygghet\n  text: Kommunen", "  focus_area: Samverkan\n  text: Kommunen", 26, "focus_area"),
        ("  - measure: fotpatrull_timmar", "  - measure: bilpatrull_timmar", 14, "measure"),
        ("    direction: öka\n  - id: fotpatrull", "    direction: upp\n  - id: fotpatrull", 22, "direction"),
        ("  responsible: polis", "  responsible: regionen", 12, "responsible"),
        ("    unit: timmar", "    unit: minuter", 15, "unit"),
        ("kommun: Testby", "kommun: Testby\nvisare: 1", 2, "visare"),
    ],
)  # fmt: skip
def test_register_errors_name_file_and_line(tmp_path, old, new, line, column):
    assert old in REGISTER_YAML
    path = tmp_path / "2022.yml"
    path.write_text(REGISTER_YAML.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        rf.load_register(path)
    err = info.value
    assert Path(err.file) == path
    assert err.row == line
    # the typed shape (files/_models.py) names an unknown key by its key path
    assert column in (err.column, err.key)
    assert f"rad {line}" in str(err) and "\n" not in str(err)


def test_register_bad_yaml_names_line(tmp_path):
    path = tmp_path / "2022.yml"
    path.write_text("kommun: Testby\nyear: [2022\n", encoding="utf-8")
    with pytest.raises(DataError, match="giltig YAML"):
        rf.load_register(path)


def test_known_indicators_override(register_file):
    with pytest.raises(DataError) as info:
        rf.load_register(register_file, known_indicators={"ser_polis_fots": "enkät"})
    assert info.value.value == "otrygghet_ute_sent"


def test_load_registers_checks_file_name_year(tmp_path, register_file):
    (tmp_path / "2023.yml").write_text(REGISTER_YAML, encoding="utf-8")
    with pytest.raises(DataError, match="2023"):
        rf.load_registers(tmp_path)
    assert rf.load_registers(tmp_path / "saknas") == []


# ----------------------------------------------------------------------------- activities
def test_load_activities_semicolon_decimal_comma_and_aggregation(tmp_path):
    path = tmp_path / "aktiviteter.csv"
    path.write_text(
        "period;measure;value;unit\n2024-Q1;fotpatrull_timmar;10,5;timmar\n"
        "2024-Q2;fotpatrull_timmar;20;timmar\n2024-03;grannsamverkan_hushall;900;hushåll\n"
        "2024-11;grannsamverkan_hushall;950;hushåll\n",
        encoding="cp1252",
    )
    act = rf.load_activities(path)
    assert act["value"].tolist() == [10.5, 20.0, 900.0, 950.0]
    assert act["year"].tolist() == [2024] * 4
    yearly = cm.yearly_activities(act).set_index("measure")["value"]
    assert yearly["fotpatrull_timmar"] == 30.5  # summa: 10.5 + 20
    assert yearly["grannsamverkan_hushall"] == 950.0  # senaste: the November stock


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("2024,fotpatrull,3,timmar", "measure", "fotpatrull"),
        ("2024,fotpatrull_timmar,tre,timmar", "value", "tre"),
        ("2024-Q5,fotpatrull_timmar,3,timmar", "period", "2024-Q5"),
        ("24,fotpatrull_timmar,3,timmar", "period", "24"),
        ("2024,fotpatrull_timmar,3,antal", "unit", "antal"),
    ],
)
def test_load_activities_errors(tmp_path, row, column, value):
    path = tmp_path / "aktiviteter.csv"
    path.write_text(f"period,measure,value,unit\n2023,skolbesok,4,antal\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        rf.load_activities(path)
    assert (info.value.row, info.value.column, info.value.value) == (3, column, value)


def test_activity_follow_up_against_target(register_file, activities):
    reg = rf.load_register(register_file)
    out = cm.activity_follow_up([reg], activities, year=2024)
    row = out.iloc[0]
    assert (row["delivered"], row["target"]) == (250.0, 300.0)
    assert row["share"] == pytest.approx(250 / 300)
    assert not row["met"]


# ----------------------------------------------------------------------------- statistics
def test_base_year_change_matches_normal_reference(tmp_path):
    # R: z <- (0.24 - 0.18) / sqrt(0.02^2 + 0.025^2); 2 * pnorm(-abs(z))  -> 0.06091869
    reg = _register(tmp_path, "minska")
    est = pd.concat(
        [
            _est("ser_polis_fots", {2021: 0.18}, se=0.02),
            _est("ser_polis_fots", {2024: 0.24}, se=0.025),
        ]
    )
    out = cm.follow_up(
        [reg], estimates=est, changes=EMPTY_CHG, trends=EMPTY_TRD, activities=EMPTY_ACT, year=2024
    )
    row = out.iloc[0]
    assert row["change_base"] == pytest.approx(0.06)
    assert row["p_value_base"] == pytest.approx(0.06091869, rel=1e-6)
    assert not row["significant_base"] and row["status"] == "oförändrad"


# ----------------------------------------------------------------------------- follow-up
def _two_year(indicator, v_base, v_last, se, *, last_suppressed=False):
    return _est(indicator, {2021: v_base, 2024: None if last_suppressed else v_last}, se=se)


def _register(tmp_path, direction, indicator="ser_polis_fots"):
    text = f"""\
kommun: Testby
year: 2022
focus_areas: [Trygghet]
commitments:
- id: T1
  focus_area: Trygghet
  text: Ett löfte.
  responsible: båda
  indicators:
  - id: {indicator}
    direction: {direction}
"""
    path = tmp_path / "2022.yml"
    path.write_text(text, encoding="utf-8")
    return rf.load_register(path)


EMPTY_CHG = pd.DataFrame(columns=CHG_COLS)
EMPTY_TRD = pd.DataFrame(columns=TRD_COLS)
EMPTY_ACT = pd.DataFrame(columns=["period", "year", "measure", "value", "unit"])


@pytest.mark.parametrize(
    ("v_base", "v_last", "direction", "suppressed", "status"),
    [
        (0.20, 0.30, "minska", False, "försämrad"),  # z = 3.5
        (0.20, 0.30, "öka", False, "förbättrad"),
        (0.20, 0.21, "minska", False, "oförändrad"),  # z = 0.35
        (0.30, 0.20, "minska", False, "förbättrad"),
        (0.20, 0.30, "minska", True, "otillräckligt underlag"),
        (None, 0.30, "minska", False, "otillräckligt underlag"),
    ],
)
def test_follow_up_status_moves_only_on_supported_change(
    tmp_path, v_base, v_last, direction, suppressed, status
):
    reg = _register(tmp_path, direction)
    est = _two_year("ser_polis_fots", v_base, v_last, 0.02, last_suppressed=suppressed)
    out = cm.follow_up(
        [reg], estimates=est, changes=EMPTY_CHG, trends=EMPTY_TRD, activities=EMPTY_ACT,
        year=2024,
    )  # fmt: skip
    assert out["status"].tolist() == [status]
    assert out["commitment_status"].tolist() == [status]
    if status != "otillräckligt underlag":
        assert out["base_year"].iloc[0] == 2021
        assert out["change_base"].iloc[0] == pytest.approx(v_last - v_base)


def test_follow_up_reads_the_findings_and_respects_breaks(tmp_path):
    reg = _register(tmp_path, "minska")
    est = _two_year("ser_polis_fots", 0.20, 0.30, 0.02)
    row = {
        "kommun": KOMMUN, "year": 2024, "source": "enkät", "indicator": "ser_polis_fots",
        "group_var": "total", "group": "Hela kommunen", "comparison": "basår",
        "from_year": 2021, "to_year": 2024, "value_from": 0.20, "value_to": 0.30,
        "change": 0.10, "ci_low": 0.0, "ci_high": 0.2, "p_value": 0.001, "q_value": 0.2,
        "significant": False, "direction": "oförändrad", "reliable": True,
        "sentence": "En mening.",
    }  # fmt: skip
    out = cm.follow_up([reg], findings=pd.DataFrame([row]), activities=EMPTY_ACT, year=2024)
    assert out["status"].iloc[0] == "oförändrad"  # the findings row wins, never a new test
    assert out["sentence"].iloc[0] == "En mening."
    # the indicator counts a rise as "bättre"; this register wants less: försämrad
    worse = dict(row, q_value=0.01, significant=True, direction="bättre")
    out = cm.follow_up([reg], findings=pd.DataFrame([worse]), activities=EMPTY_ACT, year=2024)
    assert out["status"].iloc[0] == "försämrad"
    breaks = pd.DataFrame(
        {"kommun": [KOMMUN], "variable": ["ser_polis_fots"], "year": [2023], "reason": ["ny fråga"]}
    )
    out = cm.follow_up(
        [reg], estimates=est, changes=EMPTY_CHG, trends=EMPTY_TRD, activities=EMPTY_ACT,
        breaks=breaks, year=2024,
    )  # fmt: skip
    assert out["status"].iloc[0] == "otillräckligt underlag"  # never across a break


def test_follow_up_full(register_file, world, activities):
    est, chg, trd = world
    est = pd.concat([est, _est("fortroende_polisen", {2016: 0.5}).iloc[0:0]], ignore_index=True)
    reg = rf.load_register(register_file)
    out = cm.follow_up(
        [reg], estimates=est, changes=chg, trends=trd, activities=activities,
        indicators=_indicators(), year=2024,
    )  # fmt: skip
    for col in (
        "commitment_id",
        "focus_area",
        "text",
        "indicator",
        "label",
        "latest_value",
        "status",
    ):
        assert col in out.columns
    sy1 = out[out["commitment_id"] == "SY1"].set_index("indicator")
    # Centrum: 0.17 (2021) -> 0.24 (2024), z = 0.07 / sqrt(2 * 0.02^2) = 2.47, p = 0.0134;
    # but among all of 2024's tests (Benjamini-Hochberg) q > 0.05: not säkerställd
    assert sy1.at["otrygghet_ute_sent", "latest_value"] == 0.24
    assert sy1.at["otrygghet_ute_sent", "base_value"] == 0.17
    assert sy1.at["otrygghet_ute_sent", "p_value_base"] == pytest.approx(0.013328, rel=1e-4)
    assert not sy1.at["otrygghet_ute_sent", "significant_base"]
    assert sy1.at["otrygghet_ute_sent", "status"] == "oförändrad"
    assert "inte statistiskt säkerställd" in sy1.at["otrygghet_ute_sent", "sentence"]
    assert sy1.at["ser_polis_fots", "status"] == "oförändrad"
    # activity counts: 250 hours of the target 300 -> genomförande "delvis", never an outcome
    assert sy1.at["fotpatrull_timmar", "latest_value"] == 250.0
    assert sy1.at["fotpatrull_timmar", "status"] == "delvis"
    assert set(sy1["implementation"]) == {"delvis"}
    assert set(sy1["commitment_status"]) == {"oförändrad"}
    assert "250 av målet 300 timmar" in sy1["activities_delivered"].iloc[0]
    tr1 = out[out["commitment_id"] == "TR1"]
    assert tr1["status"].tolist() == ["otillräckligt underlag"]  # no wastewater data
    summary = cm.summarise_follow_up(out).set_index("commitment_id")
    assert summary.at["SY1", "n_unchanged"] == 2  # the two survey indicators, not the count
    assert summary.at["SY1", "implementation"] == "delvis"


@pytest.mark.parametrize(
    ("means", "status"),
    [
        ([10.0, 11.0, 12.5, 13.0, 14.5, 16.0], "försämrad"),  # every pair rises
        ([10.0, 11.0, 12.5], "otillräckligt underlag"),  # three campaigns: no test
        ([12.0, 11.0, 12.5, 11.5, 12.0, 11.8], "oförändrad"),
    ],
)
def test_follow_up_wastewater_from_the_campaign_trend(register_file, means, status):
    # The campaign is the unit, never the day. Reference for the rising case: all 15
    # pairs of 6 campaigns rise, S = 15, Var(S) = 6*5*17/18 = 28.33, z = 14/sqrt(28.33),
    # p = 2*norm.sf(z) = 0.0086 (R: cor.test(t, log(x), method="kendall", exact=FALSE,
    # continuity=TRUE)); the only test of the year, so q = p < 0.05.
    reg = rf.load_register(register_file)
    years = [2021, 2021, 2022, 2022, 2023, 2024][: len(means)]
    start = pd.to_datetime([f"{y}-0{3 + 6 * (i % 2)}-01" for i, y in enumerate(years)])
    camp = pd.DataFrame(
        {"kommun": KOMMUN, "plant": "Verket", "year": years,
         "campaign": [f"v{i}" for i in range(len(means))], "substance": "cannabis",
         "metabolite": "THC-COOH", "daily_mean": means, "weekday_mean": np.nan,
         "weekend_mean": np.nan, "n_days": 7, "n_below_loq": 0, "date_from": start,
         "date_to": start + pd.Timedelta(days=6)}
    )  # fmt: skip
    out = cm.follow_up(
        [reg], estimates=_est("x", {}), changes=EMPTY_CHG, trends=EMPTY_TRD,
        activities=EMPTY_ACT, wastewater_campaigns=camp, year=max(years),
    )  # fmt: skip
    row = out[out["indicator"] == "cannabis"].iloc[0]
    assert row["status"] == status
    assert row["latest_value"] == pytest.approx(means[-1])  # the last campaign
    assert f"{len(means)} kampanjer" in row["sentence"]


# ----------------------------------------------------------------------------- underlag
@pytest.fixture
def found(world):
    est, chg, trd = world
    return cm.underlag(
        est, chg, trd, indicators=_indicators(), ntu=cm.load_ntu(), kommun=KOMMUN, year=2024
    )


def _shown(est_value: float, token: str, percent: bool) -> str:
    decimals = len(token.split(",")[1]) if "," in token else 0
    value = est_value * 100 if percent else est_value
    return f"{value:.{decimals}f}".replace(".", ",")


def _assert_numbers_from_estimates(est: pd.DataFrame, found: pd.DataFrame) -> None:
    """Every number in every sentence is an estimate (rounded as shown) or its year."""
    shown = est[~est["suppressed"].astype(bool)]
    for row in found.itertuples():
        d = shown[(shown["indicator"] == row.indicator) & (shown["group"] == row.group)]
        years = {str(y) for y in d["year"]}
        # changes, their intervals and trend slopes are differences, not estimates
        text = re.sub(r"\([+−][^)]*enhet[^)]*\)", "", row.sentence)
        text = re.sub(r"; i genomsnitt [^)]*per år", "", text)
        for m in re.finditer(r"(\d+(?:,\d+)?)(\u00a0%)?", text):
            token, percent = m.group(1), m.group(2) is not None
            if not percent and token in years:
                continue
            ok = any(_shown(v, token, percent) == token for v in d["estimate"])
            assert ok, f"{token!r} in {row.sentence!r} is not in the estimates table"


def test_every_number_in_every_sentence_is_in_the_estimates_table(world, found):
    assert len(found) >= 4
    _assert_numbers_from_estimates(world[0], found)


def test_statistiskt_sakerstalld_exactly_where_supported(found):
    assert found["significant"].any() and not found["significant"].all()
    for row in found.itertuples():
        assert ("statistiskt säkerställd" in row.sentence) == row.significant


def test_underlag_findings(found):
    by = found.set_index(["indicator", "group"])
    # 22 % -> 30 %: z = 0.08 / (0.015 * sqrt(2)) = 3.77, p = 1.6e-4, q < 0.05 among all
    # of 2024's tests (Benjamini-Hochberg); the sentence is the findings row's
    assert by.at[("otrygghet_ute_sent", "Hela kommunen"), "sentence"].startswith(
        "Andelen som känner sig otrygga ute sent en kväll i hela kommunen ökade från 22\u00a0% "
        "år 2023 (föregående mätning) till 30\u00a0% år 2024 (+8 procentenheter"
    )
    assert by.at[("problemindex", "Hela kommunen"), "sentence"].startswith(
        "Problemindex i hela kommunen visar en statistiskt säkerställd ökande trend "
        "sedan mätningarna började 2018 (1,0 år 2018, 1,6 år 2024"
    )
    # Centrum 18 % -> 24 %: z = 2.12, p = 0.034, but q > 0.05: only the highest level
    centrum = by.loc[("otrygghet_ute_sent", "Centrum")]
    assert centrum["reason"] == "högsta nivån i den egna serien" and not centrum["significant"]
    # ranked by strength of evidence: q-value first
    sig = found[found["significant"]].sort_values("evidence_rank")
    assert sig["q_value"].is_monotonic_increasing
    # förtroende 40 % (CI 36–44 %) against Brå's 54 % (NTU 2023): lower than the country
    trust = by.loc[("fortroende_polisen", "Hela kommunen")]
    assert trust["reason"] in {"lägre än riket (NTU)", "säkerställd försämrande trend"}
    assert "lägre än riket (NTU)" in trust["reasons"]
    assert (trust["ntu_percent"], trust["ntu_year"]) == (54.0, 2023)
    assert trust["ntu_source"] == "Brå, NTU 2023 (bra.se)"
    assert "54" not in trust["sentence"]
    drug = by.loc[("problem_narkotikahandel", "Hela kommunen")]
    assert drug["reason"] == "högsta nivån i den egna serien" and not drug["significant"]
    assert ("ser_polis_fots", "Hela kommunen") not in by.index  # nothing to report


def test_underlag_never_mentions_suppressed(found):
    assert "Landsbygd" not in set(found["group"])
    assert not found["sentence"].str.contains("Landsbygd").any()


def test_underlag_grouped_by_focus_area_and_ranked(found):
    areas = list(dict.fromkeys(found["focus_area"]))
    assert areas == [a for a in ["Trygghet", "Synlighet", "Samverkan"] if a in areas]
    for _, g in found.groupby("focus_area"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
    trygghet = found[found["focus_area"] == "Trygghet"]
    assert trygghet["reason"].iloc[0].startswith("säkerställd försämring mot föregående år")


def test_load_ntu_keeps_brå_facts():
    ntu = cm.load_ntu()
    assert list(ntu.columns) == ["indicator", "year", "percent", "source"]
    assert ntu.set_index(["indicator", "year"]).at[("otrygg_ute_sent", 2022), "percent"] == 27
    ref = pd.read_csv(reference_file(NTU_REF, what="Brås NTU-tabell"))
    pd.testing.assert_frame_equal(ntu, ref.astype({"percent": float}), check_dtype=False)


# ----------------------------------------------------------------------------- draft
def test_draft_register_round_trips(tmp_path, register_file, found):
    reg = rf.load_register(register_file)
    doc = cm.draft_register([reg], found, year=2024)
    assert doc["year"] == 2025 and doc["utkast"] and doc["signed"] is None
    text = rf.dump_register(doc)
    assert text.startswith("# Utkast till medborgarlöfte Testby 2025")
    path = tmp_path / "utkast" / "2025.yml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    back = rf.load_register(path)
    assert back.draft and back.year == 2025
    assert [c.id for c in back.commitments[:2]] == ["SY1", "TR1"]
    proposals = [c for c in back.commitments if c.proposal]
    assert proposals and all(c.text.startswith("FÖRSLAG") for c in proposals)
    linked = {(i.id, i.group) for c in proposals for i in c.indicators}
    assert ("otrygghet_ute_sent", "Centrum") not in linked  # already followed by SY1
    assert ("problemindex", "Hela kommunen") in linked
    assert rf.dump_register(back.to_dict()) == text


# ----------------------------------------------------------------------------- HTML
class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("synthetic", [True, False])
def test_render_underlag_html(register_file, world, activities, found, synthetic):
    est, chg, trd = world
    fu = cm.follow_up(
        [rf.load_register(register_file)], estimates=est, changes=chg, trends=trd,
        activities=activities, indicators=_indicators(), year=2024,
    )  # fmt: skip
    page = render_underlag_html(found, fu, kommun=KOMMUN, year=2024, synthetic=synthetic)
    parser = _Collector()
    parser.feed(page)
    tags = parser.tags
    text = "".join(parser.text)
    assert ("html", {"lang": "sv"}) in tags
    assert ("Exempeldata – inte verkliga resultat" in text) == synthetic
    assert any(t == "caption" for t, _ in tags)
    ths = [a for t, a in tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "row") for a in ths)
    assert "Brå, NTU 2023 (bra.se)" in text
    assert "<script" not in page and "http" not in page and ">nan<" not in page
    for sentence in found["sentence"]:
        assert sentence in text
    # each commitment's outcome and who answers for it, as a reader says them
    firsts = fu.drop_duplicates("commitment_id")
    for r in firsts.itertuples():
        want = (
            {"förbättrad": "förbättrat", "försämrad": "försämrat"}.get(
                r.commitment_status, "ingen säkerställd förändring"
            )
            if r.commitment_status != "otillräckligt underlag"
            else "otillräckligt underlag"
        )
        who = {"kommun": "kommunen", "polis": "polisen", "båda": "kommun och polis"}
        assert f"Utfall: {want}. Ansvar: {who[r.responsible]}." in text
    assert "Utfall: oförändrad" not in text and "Ansvar: båda" not in text
    assert "Effektskattning: Effektskattning" not in text
    cells = [c for c in parser.text if c.strip()]
    assert "oförändrad" not in cells  # an indicator without a significant change says so
    if (fu["status"] == "oförändrad").any():
        assert "ingen säkerställd förändring" in cells


# ----------------------------------------------------------------------------- sample data
def test_sample_2022_register_is_the_seed_article(tmp_path):
    write_sample_commitments(tmp_path, kommun="Älmhult", rng=np.random.default_rng(7))
    reg = rf.load_register(tmp_path / "medborgarloften" / "2022.yml")
    assert not reg.example
    assert str(reg.signed) == "2022-02-23"
    assert [s.name for s in reg.signatories] == ["Gusten Mårtensson (C)", "Roger Olsson"]
    assert reg.signatories[0].role == "kommunstyrelsens ordförande"
    assert reg.signatories[1].role.startswith("lokalpolisområdeschef")
    assert reg.focus_areas == ("Samverkan", "Synlighet", "Trygghet")
    assert [c.focus_area for c in reg.commitments] == ["Samverkan"] * 3 + ["Synlighet"] * 3 + [
        "Trygghet"
    ] * 2
    fots = {(i.id, i.group) for i in reg.commitments[5].indicators}
    assert {
        ("ser_polis_fots", "Älmhults tätort"),
        ("otrygghet_ute_sent", "Älmhults tätort"),
    } <= fots
    seed = reference_file(SEED, what="artikeln om Älmhults medborgarlöfte 2022")
    bullets = [
        line.strip().removeprefix("•").strip()
        for line in seed.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("•")
    ]
    assert [c.text for c in reg.commitments] == bullets


@pytest.mark.parametrize("kommun", ["Älmhult", "Ljungby"])
def test_sample_is_deterministic_and_loads(tmp_path, kommun):
    for sub in ("a", "b"):
        write_sample_commitments(tmp_path / sub, kommun=kommun, rng=np.random.default_rng(3))
    files = sorted(p.name for p in (tmp_path / "a" / "medborgarloften").iterdir())
    assert files == ["2022.yml", "2023.yml", "2024.yml", "2025.yml", "aktiviteter.csv"]
    for name in files:
        a = (tmp_path / "a" / "medborgarloften" / name).read_bytes()
        assert a == (tmp_path / "b" / "medborgarloften" / name).read_bytes()
    regs = rf.load_registers(tmp_path / "a" / "medborgarloften")
    assert [r.example for r in regs] == [kommun != "Älmhult", True, True, True]
    assert all(r.kommun == kommun for r in regs)
    text = (tmp_path / "a" / "medborgarloften" / "2023.yml").read_text(encoding="utf-8")
    assert text.startswith("# EXEMPEL")
    act = rf.load_activities(tmp_path / "a" / "medborgarloften" / "aktiviteter.csv")
    assert sorted(act["year"].unique()) == [2021, 2022, 2023, 2024, 2025]
    assert set(act["measure"]) == set(cm.load_activity_measures()["id"])


def test_sample_registers_follow_up_end_to_end(tmp_path):
    write_sample_commitments(tmp_path, kommun="Älmhult", rng=np.random.default_rng(11))
    folder = tmp_path / "medborgarloften"
    regs = rf.load_registers(folder)
    act = rf.load_activities(folder / "aktiviteter.csv")
    est = _est(
        "ser_polis_fots", {2021: 0.20, 2025: 0.30}, group_var="stratum", group="Älmhults tätort"
    )
    est["kommun"] = "Älmhult"
    out = cm.follow_up(
        regs, estimates=est, changes=EMPTY_CHG, trends=EMPTY_TRD, activities=act, year=2025
    )
    assert out["commitment_id"].unique().tolist() == [
        "SA1",
        "SA2",
        "SA3",
        "SY1",
        "SY2",
        "SY3",
        "TR1",
        "TR2",
    ]
    assert set(out["base_year"].dropna()) == {2021}  # the commitments began in 2022
    fots = out[(out["commitment_id"] == "SY3") & (out["indicator"] == "ser_polis_fots")].iloc[0]
    assert fots["status"] == "förbättrad"  # 20 % -> 30 %, z = 0.10 / (0.015 * sqrt(2)) = 4.7
    delivered = act[(act["year"] == 2025) & (act["measure"] == "fotpatrull_timmar")]["value"].iloc[
        0
    ]
    assert fots["activities_delivered"].startswith(
        f"Timmar uniformerad fotpatrullering: {delivered:.0f} av målet 300 timmar"
    )


def test_known_indicators_as_survey_ids(register_file):
    with pytest.raises(DataError) as info:
        rf.load_register(register_file, known_indicators=["otrygghet_ute_sent"])
    assert (info.value.value, info.value.row) == ("ser_polis_fots", 21)
    reg = rf.load_register(register_file, known_indicators=["otrygghet_ute_sent", "ser_polis_fots"])
    assert reg.commitments[1].indicators[0].kind == "avloppsvatten"


@pytest.mark.parametrize(
    ("link", "column"),
    [
        ("  - id: cannabis\n    direction: minska\n    group: Centrum\n", "group"),
        ("  - id: ser_polis_fots\n    direction: öka\n    group_var: sex\n", "group_var"),
        (
            "  - id: ser_polis_fots\n    direction: öka\n    group_var: kommun\n    group: X\n",
            "group_var",
        ),
    ],
)
def test_register_group_errors(tmp_path, link, column):
    text = REGISTER_YAML.replace("  - id: cannabis\n    direction: minska\n", link)
    path = tmp_path / "2022.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        rf.load_register(path)
    assert (info.value.row, info.value.column) == (33, column)  # the offending key's line


def test_draft_register_without_findings_or_register(register_file, found):
    reg = rf.load_register(register_file)
    empty = found.iloc[0:0]
    doc = cm.draft_register([reg], empty, year=2024, kommun=KOMMUN)
    assert [c["id"] for c in doc["commitments"]] == ["SY1", "TR1"]  # continued only
    with pytest.raises(DataError, match="medborgarlöfte för år 2021"):
        cm.draft_register([reg], empty, year=2021, kommun=KOMMUN)


def test_swedish_headers_cover_every_output_column(register_file, world, activities, found):
    est, chg, trd = world
    reg = rf.load_register(register_file)
    fu = cm.follow_up(
        [reg], estimates=est, changes=chg, trends=trd, activities=activities, year=2024
    )
    tables = [fu, found, cm.activity_follow_up([reg], activities, year=2024)]
    tables.append(cm.summarise_follow_up(fu))
    for table in tables:
        missing = set(table.columns) - set(column_headers())
        assert not missing


def test_with_the_package_statistics(tmp_path):
    """Estimates, changes and trends from the package's own modules feed the underlag."""
    from trygghet_analys.stats.estimation import estimate_indicators
    from trygghet_analys.stats.trends import compare_estimates, trend_tests
    from trygghet_analys.survey.indicators import load_indicators

    rng = np.random.default_rng(5)
    otr = ["Mycket trygg", "Ganska trygg", "Ganska otrygg", "Mycket otrygg", "Går inte ut av oro",
           "Går inte ut av andra skäl", "Vet ej"]  # fmt: skip
    rows, strata = [], []
    for year in range(2018, 2025):
        for stratum, n, big in (("Älmhults tätort", 150, 9000), ("Landsbygd", 100, 6000)):
            p = 0.30 if (year == 2024 and stratum == "Älmhults tätort") else 0.15
            answers = rng.choice(
                otr, size=n, p=[0.5 - p / 2, 0.48 - p / 2, 0.6 * p, 0.4 * p, 0, 0.01, 0.01]
            )
            rows += [
                {"kommun": "Älmhult", "year": year, "respondent_id": f"{year}-{stratum}-{i}",
                 "stratum": stratum, "weight": big / n, "sex": "Kvinna", "age_group": "25–44",
                 "otrygg_ute_sent": a}
                for i, a in enumerate(answers)
            ]  # fmt: skip
            strata.append({"kommun": "Älmhult", "year": year, "stratum": stratum,
                           "population": big, "sampled": 2 * n, "respondents": n,
                           "response_rate": 0.5})  # fmt: skip
    resp = pd.DataFrame(rows)
    resp["otrygg_ute_sent"] = pd.Categorical(resp["otrygg_ute_sent"], categories=otr, ordered=True)
    resp["sex"] = pd.Categorical(resp["sex"], categories=["Kvinna", "Man"], ordered=True)
    resp["age_group"] = pd.Categorical(
        resp["age_group"], categories=["16–24", "25–44", "45–64", "65–85"], ordered=True
    )
    ind = load_indicators()
    est = estimate_indicators(
        resp, pd.DataFrame(strata), indicators=["otrygghet_ute_sent"], group_vars=["stratum"]
    )
    chg = compare_estimates(est, base_year=2018, indicators=ind)
    trd = trend_tests(est, indicators=ind)
    found = cm.underlag(
        est, chg, trd, indicators=ind, ntu=cm.load_ntu(), kommun="Älmhult", year=2024
    )
    assert "Älmhults tätort" in set(found["group"])
    _assert_numbers_from_estimates(est, found)
    for row in found.itertuples():
        assert ("statistiskt säkerställd" in row.sentence) == row.significant

    write_sample_commitments(tmp_path, kommun="Älmhult", rng=np.random.default_rng(1))
    regs = rf.load_registers(tmp_path / "medborgarloften")
    act = rf.load_activities(tmp_path / "medborgarloften" / "aktiviteter.csv")
    fu = cm.follow_up(regs, estimates=est, changes=chg, trends=trd, activities=act, year=2024)
    sy3 = fu[(fu["commitment_id"] == "SY3") & (fu["indicator"] == "otrygghet_ute_sent")].iloc[0]
    assert sy3["group"] == "Älmhults tätort" and sy3["base_year"] == 2021
    assert sy3["status"] == "försämrad" and sy3["commitment_status"] == "försämrad"


def test_processed_tables_pass_their_schemas(register_file, world, activities):
    est, chg, trd = world
    reg = rf.load_register(register_file)
    schemas = processed_schemas()
    fu = cm.follow_up(
        [reg], estimates=est, changes=chg, trends=trd, activities=activities, year=2024
    )
    schemas["commitment_followup"].validate(fu)
    schemas["commitment_indicators"].validate(cm.registers_frame([reg]))
    bad = fu.assign(status="bättre")
    with pytest.raises(Exception, match="isin"):
        schemas["commitment_followup"].validate(bad)


@pytest.mark.parametrize(
    ("rows", "text"),
    [
        ([("2024", 250.0)], "Timmar uniformerad fotpatrullering: 250 av målet 300 timmar"),
        ([("2023", 200.0)], "Timmar uniformerad fotpatrullering: ingen uppgift (målet 300 timmar)"),
    ],
)
def test_activities_delivered_text(register_file, rows, text):
    act = pd.DataFrame(
        {"period": [p for p, _ in rows], "year": [int(p[:4]) for p, _ in rows],
         "measure": "fotpatrull_timmar", "value": [v for _, v in rows], "unit": "timmar"}
    )  # fmt: skip
    reg = rf.load_register(register_file)
    out = cm.follow_up(
        [reg], estimates=_est("x", {}), changes=EMPTY_CHG, trends=EMPTY_TRD, activities=act,
        year=2024,
    )  # fmt: skip
    assert out["activities_delivered"].iloc[0] == text


def test_follow_up_region_keeps_kommuner_apart(tmp_path):
    regs, acts = [], []
    for kommun in ("Älmhult", "Ljungby"):
        write_sample_commitments(tmp_path / kommun, kommun=kommun, rng=np.random.default_rng(2))
        folder = tmp_path / kommun / "medborgarloften"
        regs += rf.load_registers(folder)
        act = rf.load_activities(folder / "aktiviteter.csv").assign(kommun=kommun)
        acts.append(act.assign(value=act["value"] * (1 if kommun == "Älmhult" else 10)))
    out = cm.follow_up(
        regs, estimates=_est("x", {}), changes=EMPTY_CHG, trends=EMPTY_TRD,
        activities=pd.concat(acts, ignore_index=True), year=2024,
    )  # fmt: skip
    hours = out[out["indicator"] == "fotpatrull_timmar"].set_index("kommun")["latest_value"]
    assert hours["Ljungby"] == 10 * hours["Älmhult"]


# ----------------------------------------------------------------------------- draft rules
def _fu_rows(implementation, outcome, statuses=("oförändrad",), effect=None):
    return pd.DataFrame(
        {
            "commitment_id": "T1", "implementation": implementation,
            "commitment_status": outcome, "activities_delivered": "Möten: 3 av målet 4",
            "indicator_kind": "enkät", "indicator": [f"i{k}" for k in range(len(statuses))],
            "group_var": "total", "group": "Hela kommunen", "status": list(statuses),
            "sentence": [f"Mening {k}." for k in range(len(statuses))], "effect": effect,
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("implementation", "outcome", "statuses", "word"),
    [
        ("uppnått", "försämrad", ("försämrad",), "justera"),
        ("uppnått", "oförändrad", ("oförändrad",), "behåll"),
        ("ej uppnått", "oförändrad", ("oförändrad",), "justera"),
        ("delvis", "oförändrad", ("oförändrad",), "behåll"),
        ("uppnått", "förbättrad", ("förbättrad",), "behåll"),
        ("ej uppnått", "förbättrad", ("förbättrad",), "justera"),
        ("inget mål angivet", "otillräckligt underlag", ("otillräckligt underlag",), "avsluta"),
        ("uppnått", "otillräckligt underlag", ("otillräckligt underlag",), "behåll"),
    ],
)
def test_suggest_rules_on_both_sides(implementation, outcome, statuses, word):
    forslag, motivering = cm.suggest(_fu_rows(implementation, outcome, statuses))
    assert forslag == word
    if outcome in ("förbättrad", "försämrad"):
        assert "Mening 0." in motivering  # quotes the finding that moved


def test_draft_register_carries_forslag_and_motivering(tmp_path, register_file, world, found):
    est, chg, trd = world
    reg = rf.load_register(register_file)
    fu = cm.follow_up(
        [reg], estimates=est, changes=chg, trends=trd, activities=EMPTY_ACT, year=2024
    )
    doc = cm.draft_register([reg], found, year=2024, followup=fu)
    continued = [c for c in doc["commitments"] if c.get("forslag") is not True]
    assert continued and all(c["forslag"] in cm.SUGGESTIONS for c in continued)
    assert all(c["motivering"] for c in continued)
    text = rf.dump_register(doc)
    path = tmp_path / "2025.yml"
    path.write_text(text, encoding="utf-8")
    back = rf.load_register(path)
    assert [c.suggestion for c in back.commitments if not c.proposal] == [
        c["forslag"] for c in continued
    ]
    assert rf.dump_register(back.to_dict()) == text
    bad = text.replace("forslag: " + continued[0]["forslag"], "forslag: kanske", 1)
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataError, match="forslag"):
        rf.load_register(path)


@pytest.mark.parametrize(
    ("delivered", "target", "word"),
    [
        (300, 300, "uppnått"),  # exactly the target is reached (≥, not >)
        (301, 300, "uppnått"),
        (299, 300, "delvis"),
        (0.5, 300, "delvis"),  # anything delivered is at least "delvis"
        (0, 300, "ej uppnått"),  # nothing delivered
        (None, 300, "ej uppnått"),  # nothing reported
        (12, None, "inget mål angivet"),
    ],
)
def test_implementation_status_on_both_sides_of_each_boundary(delivered, target, word):
    assert cm.implementation_status(delivered, target) == word


@pytest.mark.parametrize(
    ("statuses", "word"),
    [
        (["förbättrad", "försämrad"], "oförändrad"),  # a tie is no movement
        (["förbättrad", "förbättrad", "försämrad"], "förbättrad"),
        (["försämrad", "oförändrad"], "försämrad"),
        (["oförändrad"], "oförändrad"),
        (["otillräckligt underlag"], "otillräckligt underlag"),
    ],
)
def test_commitment_outcome_counts_directions(statuses, word):
    assert cm.commitment_outcome(statuses) == word
