"""Wastewater tested with the campaign as the unit (issue 11), against R and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygghet_analys.schemas import DETECTABLE_COLUMNS, processed_schemas
from trygghet_analys.wastewater.campaigns import (
    CAMPAIGN_CHANGE_COLUMNS,
    CAMPAIGN_TREND_COLUMNS,
    between_campaign_cv,
    campaign_change,
    campaign_trend,
    detectable_change,
    detectable_changes,
)

STARTS = ["2022-04-06", "2022-10-05", "2023-04-05", "2023-10-04",
          "2024-04-03", "2024-10-02", "2025-04-02", "2025-10-01"]  # fmt: skip
MEANS = [61.0, 58, 70, 66, 75, 84, 80, 91]
T = [2022.2683093771388, 2022.766598220397, 2023.2655715263518, 2023.7638603696098,
     2024.2628336755647, 2024.7611225188227, 2025.2573579739903, 2025.7556468172484]  # fmt: skip


def _campaigns(means=MEANS, starts=STARTS, substance="kokain") -> pd.DataFrame:
    d = pd.DataFrame(
        {
            "kommun": "Exempelby",
            "plant": "Exempelby reningsverk",
            "campaign": [f"c{i}" for i in range(len(means))],
            "substance": substance,
            "metabolite": "bensoylekgonin",
            "daily_mean": means,
            "n_days": 7,
            "n_below_loq": [0, 1, 0, 0, 2, 0, 0, 1][: len(means)],
            "date_from": pd.to_datetime(starts),
        }
    )
    d["date_to"] = d["date_from"] + pd.Timedelta(days=6)
    d["year"] = d["date_from"].dt.year
    return d


def test_campaign_trend_matches_r_and_scipy():
    r = campaign_trend(_campaigns()).iloc[0]
    assert list(r.index) == CAMPAIGN_TREND_COLUMNS
    # R: cor.test(t, log(x), method = "kendall", exact = FALSE, continuity = TRUE)
    #    p.value 0.00937476845943489, tau 0.785714285714286
    assert r["p_value"] == pytest.approx(0.00937476845943489, rel=1e-10)
    assert r["tau"] == pytest.approx(0.785714285714286, rel=1e-12)
    # scipy.stats.theilslopes(log(x), t): median pairwise slope of the log means
    slope = stats.theilslopes(np.log(MEANS), T).slope
    assert r["slope_log"] == pytest.approx(slope, rel=1e-10)
    assert r["change_per_year"] == pytest.approx(np.exp(slope) - 1, rel=1e-10)
    assert (r["n_campaigns"], r["n_days"], r["n_below_loq"]) == (8, 56, 4)
    assert (r["value_first"], r["value_last"], r["year_from"], r["year_to"]) == (
        61.0, 91.0, 2022, 2025,
    )  # fmt: skip
    assert r["direction"] == "ökande" and r["significant"] and r["sufficient"]


def test_campaign_trend_falling_series_is_minskande():
    r = campaign_trend(_campaigns(means=MEANS[::-1])).iloc[0]
    assert r["direction"] == "minskande" and r["slope_log"] < 0


@pytest.mark.parametrize(("n", "sufficient"), [(5, False), (6, True)])
def test_campaign_trend_minimum_six_campaigns(n, sufficient):
    r = campaign_trend(_campaigns(MEANS[:n], STARTS[:n])).iloc[0]
    assert bool(r["sufficient"]) is sufficient
    assert r["n_campaigns"] == n
    if sufficient:
        assert not np.isnan(r["p_value"])
    else:
        assert r["direction"] == "otillräckligt underlag"
        assert np.isnan(r["p_value"]) and not r["significant"]


def test_campaign_trend_years_and_zero_mean():
    d = _campaigns()
    d.loc[0, "daily_mean"] = 0.0  # every day below LOQ counted as 0: no logarithm
    r = campaign_trend(d, years=range(2022, 2026)).iloc[0]
    assert r["n_campaigns"] == 7 and r["value_first"] == 58.0
    r = campaign_trend(d, years=[2024, 2025]).iloc[0]
    assert (r["year_from"], r["n_campaigns"], r["direction"]) == (
        2024, 4, "otillräckligt underlag",
    )  # fmt: skip


def test_campaign_change_welch_on_log_means_matches_r():
    r = campaign_change(_campaigns(), from_years=[2022, 2023], to_years=[2024, 2025]).iloc[0]
    assert list(r.index) == CAMPAIGN_CHANGE_COLUMNS
    # R: a <- log(c(61, 58, 70, 66)); b <- log(c(75, 84, 80, 91)); t.test(b, a)
    #    t 4.42623209862111899, df 5.99735271464290154, p 0.00444577465044826
    #    exp(conf.int) - 1: 0.122239473212536 0.492624349146350
    assert r["t"] == pytest.approx(4.42623209862111899, rel=1e-10)
    assert r["df"] == pytest.approx(5.99735271464290154, rel=1e-10)
    assert r["p_value"] == pytest.approx(0.00444577465044826, rel=1e-8)
    assert r["ci_low"] == pytest.approx(0.122239473212536, rel=1e-8)
    assert r["ci_high"] == pytest.approx(0.492624349146350, rel=1e-8)
    gm1 = stats.gmean([61, 58, 70, 66])
    gm2 = stats.gmean([75, 84, 80, 91])
    assert r["geomean_from"] == pytest.approx(gm1) and r["geomean_to"] == pytest.approx(gm2)
    assert r["change"] == pytest.approx(gm2 / gm1 - 1)
    assert (r["from_years"], r["to_years"], r["n_from"], r["n_to"]) == (
        "2022–2023", "2024–2025", 4, 4,
    )  # fmt: skip
    assert (r["n_below_loq_from"], r["n_below_loq_to"]) == (1, 3)
    assert r["direction"] == "ökning"


def test_campaign_change_one_year_against_the_next_is_weak():
    # R: t.test(log(c(80, 91)), log(c(61, 58))): t 5.2154726832523206,
    #    df 1.2994265780929193, p 0.0793828131949811 -> a 40 % rise is not significant
    r = campaign_change(_campaigns(), from_years=2022, to_years=2025).iloc[0]
    assert r["p_value"] == pytest.approx(0.0793828131949811, rel=1e-8)
    assert r["direction"] == "ingen säkerställd förändring"


@pytest.mark.parametrize(("n_to", "sufficient"), [(1, False), (2, True)])
def test_campaign_change_needs_two_campaigns_per_period(n_to, sufficient):
    d = _campaigns().iloc[: 6 + n_to]
    r = campaign_change(d, from_years=2022, to_years=2025).iloc[0]
    assert bool(r["sufficient"]) is sufficient
    assert (r["direction"] == "otillräckligt underlag") is not sufficient


@pytest.mark.parametrize(
    ("per_year", "cv", "years", "r_delta"),
    [
        # R: power.t.test(n = per_year * years, sd = sqrt(log(1 + cv^2)), sig.level = 0.05,
        #                 power = 0.8, strict = TRUE, tol = 1e-12)$delta
        (2, 0.3, 1, 1.65964045283473),
        (2, 0.3, 3, 0.527099673540267),
        (4, 0.25, 2, 0.370964499683382),
    ],
)
def test_detectable_change_matches_r_power_t_test(per_year, cv, years, r_delta):
    r = detectable_change(per_year, cv, years).iloc[0]
    assert r["delta_log"] == pytest.approx(r_delta, rel=1e-8)
    assert r["increase"] == pytest.approx(np.exp(r_delta) - 1, rel=1e-8)
    assert r["decrease"] == pytest.approx(1 - np.exp(-r_delta), rel=1e-8)


def test_detectable_change_refuses_a_plan_without_variance():
    with pytest.raises(ValueError, match="two campaigns"):
        detectable_change(1, 0.3, 1)


def test_between_campaign_cv_pools_within_year_variance():
    r = between_campaign_cv(_campaigns()).iloc[0]
    x = np.log(MEANS).reshape(4, 2)
    ss = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum()
    assert r["df"] == 4 and r["n_campaigns"] == 8
    assert r["sd_log"] == pytest.approx(np.sqrt(ss / 4))
    assert r["cv"] == pytest.approx(np.sqrt(np.exp(ss / 4) - 1))


def _plan(means_by_year: dict[int, list[float]], kommun: str = "Exempelby") -> pd.DataFrame:
    starts, means = [], []
    for year, values in means_by_year.items():
        for i, v in enumerate(values):
            starts.append(f"{year}-{4 + 6 * i:02d}-01")
            means.append(v)
    d = _campaigns(means=means, starts=starts)
    return d.assign(kommun=kommun)


def test_detectable_changes_per_year_matches_r_power_t_test():
    # 2023 one campaign, 2024 and 2025 two (100 and 200 mg/dygn/1000 inv.).
    # Up to 2024 the typical plan is median(1, 2) = 1.5 -> 1 campaign a year: no row.
    # Up to 2025: median(1, 2, 2) = 2 campaigns; the pooled within-year variance of the
    # logs is 2 * 2 * (log(2)/2)^2 / (5 - 3) = log(2)^2 / 2, so
    # cv = sqrt(exp(log(2)^2 / 2) - 1) = 0.521092246837 (hand computation) and
    # R: power.t.test(n = 2, sd = log(2) / sqrt(2), power = 0.8, strict = TRUE,
    #                 tol = 1e-12)$delta = 2.7709394460985
    d = detectable_changes(_plan({2023: [150.0], 2024: [100.0, 200.0], 2025: [100.0, 200.0]}))
    assert list(d.columns) == DETECTABLE_COLUMNS
    assert d["year"].tolist() == [2025]
    r = d.iloc[0]
    assert r["n_campaigns_per_year"] == 2
    assert r["cv_between_campaigns"] == pytest.approx(0.521092246837, rel=1e-10)
    assert r["increase"] == pytest.approx(np.expm1(2.7709394460985), rel=1e-8)
    assert r["decrease"] == pytest.approx(-np.expm1(-2.7709394460985), rel=1e-8)
    processed_schemas()["wastewater_detectable"].validate(d)


def test_detectable_changes_needs_variation_and_keeps_kommuner_apart():
    two = pd.concat(
        [
            _plan({2024: [100.0, 200.0]}, kommun="A"),
            _plan({2024: [100.0, 100.0]}, kommun="B"),  # no variation: no row
            _plan({2024: [100.0], 2025: [120.0]}, kommun="C"),  # one a year: no row
        ],
        ignore_index=True,
    )
    d = detectable_changes(two)
    assert d[["kommun", "year"]].values.tolist() == [["A", 2024]]
    # alone, A's numbers are the same as beside the others
    pd.testing.assert_frame_equal(d, detectable_changes(two[two["kommun"] == "A"]))
    empty = detectable_changes(two.iloc[0:0])
    assert list(empty.columns) == DETECTABLE_COLUMNS and empty.empty
    processed_schemas()["wastewater_detectable"].validate(empty)
