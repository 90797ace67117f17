"""The findings table: q-values, significance, direction words and sentences."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.formatting import fmt_number, value_pair
from trygghet_analys.stats import findings as F
from trygghet_analys.survey.indicators import load_indicators


# --------------------------------------------------------------------------- q-values
def test_bh_q_values_by_hand_within_kommun_and_year():
    # Hand computation, m = 4 tests in (K, 2025): sorted p 0.01, 0.02, 0.03, 0.5
    # q = min over j >= i of m p_(j) / j: 0.04, 0.04, 0.04, 0.5
    # (R: p.adjust(c(0.01, 0.02, 0.03, 0.5), "BH") -> 0.04 0.04 0.04 0.50).
    # The (K, 2024) group is adjusted on its own: one test, q = p. NaN stays untested.
    rows = pd.DataFrame(
        {
            "kommun": ["K"] * 5 + ["K", "L"],
            "year": [2025] * 5 + [2024, 2025],
            "p_value": [0.03, 0.5, 0.01, np.nan, 0.02, 0.03, 0.049],
        }
    )
    out = F.adjust_q_values(rows)
    np.testing.assert_allclose(
        out["q_value"].to_numpy(), [0.04, 0.5, 0.04, np.nan, 0.04, 0.03, 0.049], rtol=1e-12
    )
    assert out["significant"].tolist() == [True, False, True, False, True, True, True]


@pytest.mark.parametrize(("p", "significant"), [(0.0499, True), (0.05, False), (0.0501, False)])
def test_significant_is_q_below_005_on_both_sides(p, significant):
    out = F.adjust_q_values(pd.DataFrame({"kommun": ["K"], "year": [2025], "p_value": [p]}))
    assert bool(out["significant"].iloc[0]) is significant


# --------------------------------------------------------------------------- direction
@pytest.mark.parametrize(
    ("change", "significant", "worse_up", "word"),
    [
        (0.02, True, True, "sämre"),
        (-0.02, True, True, "bättre"),
        (0.02, True, False, "bättre"),
        (-0.02, True, False, "sämre"),
        (0.02, False, True, "oförändrad"),
        (-0.02, False, False, "oförändrad"),
        (0.0, True, True, "oförändrad"),
        (1e-9, True, True, "sämre"),
        (-1e-9, True, True, "bättre"),
    ],
)
def test_direction_rules_on_both_sides(change, significant, worse_up, word):
    assert F.direction_word(change, significant, higher_is_worse=worse_up) == word


def test_claims_significance_ignores_negations():
    assert F.claims_significance("en statistiskt säkerställd ökning")
    assert not F.claims_significance("är inte statistiskt säkerställd")
    assert not F.claims_significance("visar ingen statistiskt säkerställd trend")


# --------------------------------------------------------------------------- tables
def _est(
    values: dict[int, float],
    *,
    indicator="otrygghet_ute_sent",
    group="Hela kommunen",
    group_var="total",
    se=0.01,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kommun": "K",
            "year": list(values),
            "indicator": indicator,
            "group_var": group_var,
            "group": group,
            "estimate": list(values.values()),
            "se": se,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": 500,
            "suppressed": False,
        }
    )


def _build(est: pd.DataFrame, base_year=2021, **kw) -> pd.DataFrame:
    from trygghet_analys.stats.trends import compare_estimates

    ind = load_indicators()
    chg = compare_estimates(est, base_year=base_year, indicators=ind)
    return F.build_findings(
        kommun="K", estimates=est, changes=chg, indicators=ind, base_year=base_year, **kw
    )


def test_columns_are_exactly_the_contract():
    out = _build(_est({2019: 0.2, 2020: 0.21, 2021: 0.2, 2022: 0.22, 2023: 0.25}))
    assert list(out.columns) == F.FINDINGS_COLUMNS
    assert set(out["comparison"]) <= set(F.COMPARISONS)
    assert set(out["direction"]) <= set(F.DIRECTIONS)
    assert set(out["source"]) <= set(F.SOURCES)


def test_a_rise_of_a_bad_thing_is_worse_and_a_small_wobble_unchanged():
    est = _est({2020: 0.20, 2021: 0.20, 2022: 0.30, 2023: 0.301})
    out = _build(est)
    prev = out[(out["comparison"] == "föregående år")].set_index("to_year")
    # 2021 -> 2022: +10 pe, se_change = sqrt(2)*0.01, z = 7.07: p ~ 1.5e-12, significant
    assert prev.loc[2022, "direction"] == "sämre"
    assert prev.loc[2022, "significant"]
    # 2022 -> 2023: +0.1 pe, z = 0.07: unchanged
    assert prev.loc[2023, "direction"] == "oförändrad"
    # interval: change ± 1.959964 * se_change (scipy.stats.norm.ppf(0.975))
    r = prev.loc[2022]
    half = 1.959963984540054 * np.sqrt(2) * 0.01
    assert r["ci_low"] == pytest.approx(0.10 - half, abs=1e-12)
    assert r["ci_high"] == pytest.approx(0.10 + half, abs=1e-12)


def test_trend_over_period_and_since_start_are_separate_rows():
    est = _est({y: 0.10 + 0.01 * (y - 2010) for y in range(2010, 2026)})
    out = _build(est)
    t = out[(out["comparison"] == "trend") & (out["year"] == 2025)]
    assert sorted(t["from_year"]) == [2010, 2021]
    period = t[t["from_year"] == 2021].iloc[0]
    since = t[t["from_year"] == 2010].iloc[0]
    assert "under löftesperioden 2021–2025" in period["sentence"]
    assert "sedan mätningarna började 2010" in since["sentence"]
    # Theil–Sen slope 0.01 per year (scipy.stats.theilslopes), shown per year
    assert since["change"] == pytest.approx(0.01)
    assert since["direction"] == "sämre"


def test_a_trend_whose_end_points_disagree_is_never_called_rising():
    # mostly rising, but the last year falls below the first: Mann–Kendall S > 0
    values = {
        2010 + i: v
        for i, v in enumerate(
            [0.30, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 0.39, 0.40, 0.29]
        )
    }
    out = _build(_est(values), base_year=None)
    t = out[(out["comparison"] == "trend") & (out["year"] == 2021)].iloc[0]
    assert t["change"] > 0 and t["value_to"] < t["value_from"]
    assert t["direction"] == "oförändrad"
    assert "ökande" not in t["sentence"]


def test_activity_counts_are_never_tested_and_never_move():
    yearly = pd.DataFrame(
        {"year": [2021, 2022, 2023], "measure": "skolbesok", "value": [0.0, 13.0, 15.0]}
    )
    out = _build(
        _est({2021: 0.2, 2022: 0.2, 2023: 0.2}),
        activities=yearly,
        activity_targets={"skolbesok": 20},
        activity_labels={"skolbesok": "Polisens besök i skolor"},
    )
    a = out[out["source"] == "aktivitet"]
    assert len(a) == 3  # 2022 and 2023 against the previous year, 2023 against base 2021
    assert a["p_value"].isna().all() and a["q_value"].isna().all()
    assert not a["significant"].any()
    assert (a["direction"] == "oförändrad").all()
    assert "15 år 2023 (målet 20)" in a[a["to_year"] == 2023]["sentence"].iloc[0]


def _campaigns(means: list[float], years: list[int]) -> pd.DataFrame:
    n = len(means)
    start = pd.to_datetime([f"{y}-0{3 + 6 * (i % 2)}-01" for i, y in enumerate(years)])
    return pd.DataFrame(
        {
            "kommun": "K",
            "plant": "Verket",
            "year": years,
            "campaign": [f"c{i}" for i in range(n)],
            "substance": "kokain",
            "metabolite": "benzoylecgonine",
            "daily_mean": means,
            "n_days": 7,
            "n_below_loq": [1] + [0] * (n - 1),
            "date_from": start,
            "date_to": start + pd.Timedelta(days=6),
        }
    )


def test_wastewater_trend_on_log_campaign_means():
    from scipy import stats

    years = [2021, 2021, 2022, 2022, 2023, 2023, 2024, 2024, 2025, 2025]
    means = [61, 63, 66, 70, 72, 78, 80, 84, 88, 91]
    camp = _campaigns(means, years)
    out = _build(_est({2021: 0.2, 2022: 0.2}), wastewater_campaigns=camp)
    w = out[(out["source"] == "avloppsvatten") & (out["year"] == 2025)].iloc[0]
    # reference: scipy.stats.kendalltau on (t, log mean) has the same S; all 45 pairs
    # rise, S = 45, var = 10*9*25/18 = 125, z = 44/sqrt(125), p = 2*norm.sf(z)
    assert w["p_value"] == pytest.approx(2 * stats.norm.sf(44 / np.sqrt(125)), rel=1e-12)
    assert w["direction"] == "sämre"
    assert w["value_from"] == 61 and w["value_to"] == 91  # first and last campaign
    # the same test as the wastewater module's campaign_trend (one implementation)
    from trygghet_analys.wastewater.campaigns import campaign_trend

    assert w["p_value"] == pytest.approx(float(campaign_trend(camp)["p_value"].iloc[0]))
    # 95 % interval of the Theil-Sen slope brackets the slope, on the exp(.) - 1 scale
    assert w["ci_low"] < w["change"] < w["ci_high"]
    assert "10 kampanjer, 1 av 70 provdygn under kvantifieringsgränsen" in w["sentence"]
    few = out[(out["source"] == "avloppsvatten") & (out["year"] == 2021)].iloc[0]
    assert np.isnan(few["p_value"]) and "Otillräckligt underlag" in few["sentence"]


# --------------------------------------------------------------------------- sentences
_NUMBER = re.compile(r"−?\d[\d\u202f]*(?:,\d+)?")
_MOVES = (
    "ökade",
    "minskade",
    "ökande",
    "minskande",
    "förbättring",
    "försämring",
    "ökning",
    "minskning",
)


def check_sentence(r: pd.Series, kind: str) -> list[str]:
    """What is wrong with one findings row's sentence (empty list: nothing)."""
    s = r["sentence"]
    problems = []
    if r["source"] != "aktivitet" and F.claims_significance(s) != bool(r["significant"]):
        problems.append("säkerställd")
    if r["direction"] == "oförändrad":
        if any(w in s for w in _MOVES):
            problems.append("direction word on an unchanged row")
    else:
        up = r["change"] > 0
        if r["comparison"] == "effekt":
            if f"Skillnaden är {'+' if up else '−'}" not in s:
                problems.append("effect sign not stated")
        elif ("ökade" in s or "ökande" in s) != up or ("minskade" in s or "minskande" in s) == up:
            problems.append("up/down word against the sign")
        want = "försämring" if r["direction"] == "sämre" else "förbättring"
        if want not in s:
            problems.append(f"missing {want}")
        if r["source"] != "aktivitet" and not F.claims_significance(s):
            problems.append("moved without significance")
    if r["comparison"] == "effekt":
        lo, hi = fmt_number(100 * r["ci_low"], 1), fmt_number(100 * r["ci_high"], 1)
        if f"{lo} till {hi} procentenheter" not in s or "inget bevis" not in s:
            problems.append("effect interval or causality caveat missing")
    elif r["source"] == "enkät":
        v1, v2 = value_pair(r["value_from"], r["value_to"], kind)
        if v1 not in s or v2 not in s:
            problems.append(f"values {v1}, {v2} not in sentence")
    for y in (r["from_year"], r["to_year"]):
        if str(int(y)) not in s:
            problems.append(f"year {y} missing")
    return problems


def test_every_sentence_agrees_with_its_row_on_the_sample_data(built_data_dir):
    out = pd.read_parquet(built_data_dir / "processed" / "findings.parquet")
    assert len(out) > 100
    kinds = load_indicators().set_index("id")["kind"].to_dict()
    bad = []
    for _, r in out.iterrows():
        kind = {"enkät": "mean" if kinds.get(r["indicator"]) == "mean" else "proportion"}.get(
            r["source"], "count"
        )
        problems = check_sentence(r, kind)
        if problems:
            bad.append((r["sentence"], problems))
    assert not bad, bad[:5]
    # a significant row says so; a row that is not significant never claims it
    assert (out["significant"] == out["sentence"].map(F.claims_significance)).all()


def test_findings_csv_is_swedish(built_data_dir):
    text = (built_data_dir / "processed" / "findings.csv").read_text(encoding="utf-8-sig")
    head = text.splitlines()[0]
    assert head == ";".join(F.FINDINGS_COLUMNS)
    assert re.search(r";0,\d", text)


def test_q_values_are_bh_per_kommun_and_year_on_the_sample_data(built_data_dir):
    from scipy import stats

    out = pd.read_parquet(built_data_dir / "processed" / "findings.parquet")
    for (_, _), g in out.groupby(["kommun", "year"]):
        tested = g.dropna(subset=["p_value"])
        if len(tested):
            q = stats.false_discovery_control(tested["p_value"], method="bh")
            np.testing.assert_allclose(tested["q_value"], q, rtol=1e-12)
    assert fmt_number(0.5) == "0,5"


# --------------------------------------------------------------------------- done when
def test_sample_data_follow_up_cocaine_worse_and_counts_never_improved(built_data_dir):
    fu = pd.read_parquet(built_data_dir / "processed" / "commitment_followup.parquet")
    cocaine = fu[fu["indicator"] == "kokain"].iloc[0]
    assert cocaine["status"] == "försämrad"  # from the trend over the campaigns
    assert "kampanjer" in cocaine["sentence"]
    counts = fu[fu["indicator_kind"] == "aktivitet"]
    assert len(counts) and not counts["status"].isin(["förbättrad", "försämrad"]).any()
    assert set(counts["status"]) <= {"uppnått", "delvis", "ej uppnått", "inget mål angivet"}
    sy3 = fu[fu["commitment_id"] == "SY3"]
    # genomförande (activities against target) apart from utfall (outcome indicators)
    assert sy3["implementation"].nunique() == 1 and sy3["commitment_status"].nunique() == 1
    assert sy3["implementation"].iloc[0] in {"uppnått", "delvis", "ej uppnått"}
    assert sy3["commitment_status"].iloc[0] in {"förbättrad", "oförändrad", "försämrad"}
    # and its effect estimate with CI, from the findings table's "effekt" rows
    effect = sy3["effect"].iloc[0]
    assert effect.startswith("Effektskattning för löfte SY3") and "konfidensintervall" in effect
    found = pd.read_parquet(built_data_dir / "processed" / "findings.parquet")
    rows = found[(found["comparison"] == "effekt") & (found["year"] == found["year"].max())]
    assert (
        set(rows["group"]) == {"Älmhults tätort"}
        and rows["sentence"].isin([s for s in rows["sentence"] if s in effect]).all()
    )


def test_sample_data_summary_reaches_every_significant_finding(built_data_dir):
    from test_report import summary_coverage
    from trygghet_analys.report import charts, render

    tables = charts.load_tables(built_data_dir)
    summary = render.summary_findings(tables, 2025)
    n_sig, reached = summary_coverage(tables.findings, summary, 2025)
    assert n_sig > 10 and reached == n_sig
    # "statistiskt säkerställd" in the summary only from significant rows
    sig = set(tables.findings.query("year == 2025 and significant")["sentence"])
    for paragraph in summary:
        for sentence in tables.findings.query("year == 2025")["sentence"]:
            if sentence in paragraph and F.claims_significance(sentence):
                assert sentence in sig


@pytest.mark.slow
def test_a_world_without_change_almost_never_claims_a_finding(tmp_path):
    """Seeds 1-20 of ``--scenario oforandrad``: at most 3 reports claim a finding.

    The report for the latest year says "statistiskt säkerställd" exactly of the
    significant findings rows of that year (checked above: sentences agree with their
    rows, and every significant row reaches the summary or its count), so a report
    claims a finding exactly when a survey or wastewater row of its year has q < 0.05.
    With Benjamini-Hochberg over ~330 tests the chance of any claim under no change is
    about 5 %; benchmarks/null_claims.py measures it over 100 seeds (docs/statistik.md).
    """
    from trygghet_analys.pipeline import compute_tables
    from trygghet_analys.sample.generator import write_sample_data

    claimed = []
    for seed in range(1, 21):
        data = tmp_path / f"s{seed}"
        write_sample_data(data, seed=seed, scenario="oforandrad")
        found = compute_tables(data)["findings"]
        year = found.loc[found["source"] == "enkät", "year"].max()
        now = found[(found["year"] == year) & found["source"].isin(["enkät", "avloppsvatten"])]
        if now["significant"].any():
            claimed.append(seed)
    assert len(claimed) <= 3, claimed


def test_theil_sen_interval_equals_scipy_per_series(rng):
    """The vectorised interval equals ``scipy.stats.theilslopes(y, x, alpha=0.95)`` series
    by series, with ties in the values and series of different lengths."""
    from scipy import stats as sps

    from trygghet_analys.stats.findings import _theil_sen_ci

    rows = []
    for s in range(40):
        n = int(rng.integers(4, 22))
        years = np.arange(2005, 2005 + n)
        values = np.round(rng.normal(0.3, 0.05, n), 2)  # rounding makes ties
        rows += [
            {"k": f"s{s}", "g": s % 3, "year": t, "estimate": v}
            for t, v in zip(years, values, strict=True)
        ]
    data = pd.DataFrame(rows).sample(frac=1, random_state=1)  # any row order
    got = _theil_sen_ci(data, ["k", "g"]).set_index("k")
    for k, part in data.groupby("k"):
        part = part.sort_values("year")
        ref = sps.theilslopes(part["estimate"], part["year"], alpha=0.95)
        assert got.loc[k, "slope_low"] == pytest.approx(ref.low_slope, rel=1e-12, abs=1e-15)
        assert got.loc[k, "slope_high"] == pytest.approx(ref.high_slope, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("first_year", "period_rows", "since_rows"),
    [
        # base year 2021, report year 2024: the period 2021–2024 has 4 years (enough, ≥ 4)
        # and a series from 2020 has 5 years since it began (enough, ≥ 5)
        (2020, 1, 1),
        # from 2021 the series has 4 years only: the period trend, but no separate
        # "since the series began" row (it would be the same window)
        (2021, 1, 0),
    ],
)
def test_trend_windows_need_four_period_years_and_five_series_years(
    first_year, period_rows, since_rows
):
    est = _est({y: 0.10 + 0.02 * (y - 2020) for y in range(first_year, 2025)})
    t = _build(est, base_year=2021)
    t = t[(t["comparison"] == "trend") & (t["year"] == 2024)]
    assert (t["from_year"] == 2021).sum() == period_rows
    assert (t["from_year"] == first_year).sum() - (first_year == 2021) * period_rows == since_rows


def test_a_period_of_three_years_gives_no_period_trend():
    """Report year 2023 with base year 2021: 2021–2023 is three years (< 4): no period row;
    the series 2019–2023 (five years) still gets its since-the-start trend."""
    est = _est({y: 0.10 + 0.02 * (y - 2019) for y in range(2019, 2024)})
    t = _build(est, base_year=2021)
    t = t[(t["comparison"] == "trend") & (t["year"] == 2023)]
    assert sorted(t["from_year"]) == [2019]


def test_a_four_year_series_has_no_since_the_start_trend():
    """Without a commitment period only the since-the-start trend exists: it needs five
    yearly estimates (four give no row, five do)."""
    four = _build(_est({y: 0.1 + 0.02 * (y - 2020) for y in range(2020, 2024)}), base_year=None)
    five = _build(_est({y: 0.1 + 0.02 * (y - 2019) for y in range(2019, 2024)}), base_year=None)
    assert (four["comparison"] == "trend").sum() == 0
    assert ((five["comparison"] == "trend") & (five["year"] == 2023)).sum() == 1


def test_the_period_trend_needs_the_base_year_itself():
    """A series that starts after the base year (2022, base year 2021) has no
    commitment-period trend: its first year is not the base year."""
    est = _est({y: 0.10 + 0.02 * (y - 2022) for y in range(2022, 2027)})
    t = _build(est, base_year=2021)
    t = t[(t["comparison"] == "trend") & (t["year"] == 2026)]
    assert (t["from_year"] == 2021).sum() == 0
    assert (t["from_year"] == 2022).sum() == 0  # five years but not before the base year


@pytest.mark.parametrize("years", [None, [2024], [2019, 2024]])
def test_findings_of_several_kommuner_at_once_equal_each_kommun_alone(years):
    """build_findings_of (what ``build`` uses) gives each kommun exactly the table
    build_findings gives it alone: same rows, order, values and types."""
    from trygghet_analys.stats.trends import compare_estimates

    rng = np.random.default_rng(16)
    ind = load_indicators()
    span = range(2012, 2025)
    frames = []
    for kommun in ("Ös", "Ab", "Mitt"):  # not in name order
        for indicator in ("otrygghet_ute_sent", "oro_vald", "problemindex"):
            for group_var, group in (("total", "Hela kommunen"), ("stratum", "Norr")):
                walk = 0.3 + np.cumsum(rng.normal(0, 0.03, len(span)))
                est = _est(dict(zip(span, walk, strict=True)), indicator=indicator)
                frames.append(est.assign(kommun=kommun, group_var=group_var, group=group))
    est = pd.concat(frames, ignore_index=True)
    chg = compare_estimates(est, base_year=2019, indicators=ind)
    yearly = pd.DataFrame({"year": list(span), "measure": "skolbesok", "value": 3.0})
    campaigns = _campaigns(list(np.exp(rng.normal(0, 0.2, 8))), list(range(2017, 2025)))
    own = {
        "Ös": {"activities": yearly, "activity_targets": {"skolbesok": 4.0}, "ww": None},
        "Ab": {"activities": None, "activity_targets": {}, "ww": campaigns.assign(kommun="Ab")},
        "Mitt": {"activities": None, "activity_targets": {}, "ww": None},
    }
    labels = {"skolbesok": "Polisens besök i skolor"}
    alone = {
        k: F.build_findings(
            kommun=k,
            estimates=est,
            changes=chg,
            indicators=ind,
            base_year=2019,
            wastewater_campaigns=o["ww"],
            activities=o["activities"],
            activity_targets=o["activity_targets"],
            activity_labels=labels,
            years=years,
        )
        for k, o in own.items()
    }
    together = F.build_findings_of(
        {
            k: {
                "activities": o["activities"],
                "activity_targets": o["activity_targets"],
                "effects": None,
                "wastewater_rows": F.wastewater_findings(o["ww"], years=years),
            }
            for k, o in own.items()
        },
        estimates=est,
        changes=chg,
        indicators=ind,
        base_year=2019,
        activity_labels=labels,
        years=years,
    )
    assert list(together) == list(own)
    for k in own:
        assert len(alone[k]) > 0
        pd.testing.assert_frame_equal(together[k], alone[k], check_exact=True)
    assert (together["Ab"]["source"] == "avloppsvatten").any()
    assert (together["Ös"]["source"] == "aktivitet").any()


def test_activity_rows_follow_the_years_in_order_whatever_the_row_order():
    """Each measure's counts are read by year (rows in any order): previous year and base
    year compared with the counts of those years, and only the report years asked for."""
    yearly = pd.DataFrame(
        {
            "year": [2023, 2021, 2022, 2022, 2021],
            "measure": ["skolbesok", "skolbesok", "skolbesok", "fotpatrull", "fotpatrull"],
            "value": [15.0, 0.0, 13.0, 4.0, 6.0],
        }
    )
    out = F.activity_findings(yearly, kommun="K", base_year=2021)
    cols = ["indicator", "comparison", "from_year", "to_year", "change"]
    got = list(out[cols].itertuples(index=False, name=None))
    assert got == [
        ("fotpatrull", "föregående år", 2021, 2022, -2.0),
        ("skolbesok", "föregående år", 2021, 2022, 13.0),
        ("skolbesok", "föregående år", 2022, 2023, 2.0),
        ("skolbesok", "basår", 2021, 2023, 15.0),
    ]
    only = F.activity_findings(yearly, kommun="K", base_year=2021, years=[2023])
    assert only["to_year"].tolist() == [2023, 2023]
    assert only["value_from"].tolist() == [13.0, 0.0]


# --------------------------------------------------------------------------- effect verdicts
def _effect_row(*, significant: bool, parallel_ok: bool, change: float = -0.125):
    from types import SimpleNamespace

    return SimpleNamespace(
        source="enkät", comparison="effekt", indicator="otrygghet_ute_sent",
        group="Tätorten", commitment_id="SY3", from_year=2019, pre_to=2021,
        post_from=2022, to_year=2025, change_area=-0.152, change_others=-0.027,
        change=change, ci_low=change - 0.06, ci_high=change + 0.06,
        value_from=0.3, value_to=0.2, significant=significant, parallel_ok=parallel_ok,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("significant", "parallel_ok", "direction"),
    [(True, True, "bättre"), (True, False, "oförändrad"), (False, True, "oförändrad"),
     (False, False, "oförändrad")],
)  # fmt: skip
def test_an_effect_gets_a_verdict_only_when_significant_and_parallel_before(
    significant, parallel_ok, direction
):
    # the rule: a difference-in-differences is read as the area's change only when the
    # area and the other areas moved in parallel before the commitment
    r = _effect_row(significant=significant, parallel_ok=parallel_ok)
    r.direction = F._direction(r, higher_is_worse=True)
    assert r.direction == direction
    s = F._effect_sentence(r, {})
    assert F.claims_significance(s) is significant  # q decides "säkerställd", as everywhere
    assert ("en förbättring i området" in s) is (direction == "bättre")
    if direction == "oförändrad":
        assert not any(w in s for w in _MOVES)
    assert (" olika" in s) is (not parallel_ok)  # the failed check is always told
    assert "inget bevis för att löftet var orsaken" in s
    if significant and not parallel_ok:
        assert "går inte att läsa som en förändring i området efter löftet" in s


def test_an_effect_with_a_failed_check_and_a_missing_check_get_no_verdict():
    r = _effect_row(significant=True, parallel_ok=False)
    assert F._direction(r, higher_is_worse=True) == "oförändrad"
    r.parallel_ok = float("nan")  # a row of the concatenated table without the check
    assert F._direction(r, higher_is_worse=True) == "oförändrad"
    r.parallel_ok = np.bool_(True)
    assert F._direction(r, higher_is_worse=True) == "bättre"
    assert F._direction(r, higher_is_worse=False) == "sämre"


def test_the_effect_sentence_gives_its_three_amounts_with_one_decimal():
    r = _effect_row(significant=True, parallel_ok=True)
    r.direction = "bättre"
    s = F._effect_sentence(r, {})
    # −15,2 − (−2,7) = −12,5: the reader can do the sum
    assert "ändrades med −15,2 procentenheter" in s
    assert "övriga områden med −2,7 procentenheter" in s
    assert "Skillnaden är −12,5 procentenheter" in s
    assert F._effect_amount(0.0004, "proportion") == "0,0 procentenheter"
    assert F._effect_amount(0.125, "proportion") == "+12,5 procentenheter"


@pytest.mark.parametrize("reliable", [True, False])
def test_an_unreliable_end_point_is_told_with_its_real_reason(reliable):
    from types import SimpleNamespace

    r = SimpleNamespace(
        indicator="otrygghet_ute_sent", comparison="föregående år", group_var="total",
        group="total", from_year=2024, to_year=2025, value_from=0.03, value_to=0.12,
        change=0.09, ci_low=0.036, ci_high=0.141, significant=True, direction="sämre",
        reliable=reliable,
    )  # fmt: skip
    s = F._survey_sentence(r, {}, None)
    assert (F.UNRELIABLE_NOTE in s) is (not reliable)
    # the NCHS rules flag wide intervals for small shares as well as few answers
    assert "för få svar eller har ett intervall som är brett" in F.UNRELIABLE_NOTE
