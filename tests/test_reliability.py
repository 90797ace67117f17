"""NCHS presentation standards for proportions (Parker et al. 2017), rule by rule.

Every rule is tested on both sides of its boundary. The expected values are the rules of
Vital Health Stat 2(175), as NCHS's own R package surveytable applies them
(``.lpe_percents``: n_eff < 30 -> suppress; width <= 0.05 -> present; width >= 0.30 ->
suppress; width / p > 1.30 -> suppress; width / (1 - p) > 1.30 -> footnote only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygghet_analys.stats.estimation import korn_graubard_ci
from trygghet_analys.stats.reliability import effective_n, nchs_reliable, reliability


def _se_for(p: float, neff: float) -> float:
    return float(np.sqrt(p * (1 - p) / neff))


@pytest.mark.parametrize(("neff", "expected"), [(29.9, False), (30.0, True), (30.1, True)])
def test_effective_n_boundary_30(neff, expected):
    # width 0.04 would pass every other rule
    assert nchs_reliable(0.5, _se_for(0.5, neff), 1000, 0.48, 0.52)[()] == expected


@pytest.mark.parametrize(("n", "expected"), [(29, False), (30, True)])
def test_effective_n_is_capped_at_actual_n(n, expected):
    # se so small that p(1-p)/se^2 = 10 000: a design effect below 1 counts as 1
    se = _se_for(0.5, 10_000)
    assert effective_n(0.5, se, n)[()] == n
    assert nchs_reliable(0.5, se, n, 0.49, 0.51)[()] == expected


def test_effective_n_from_design_effect():
    # n / deff, capped at n
    assert effective_n(0.3, 0.05, 200, deff=4.0)[()] == 50.0
    assert effective_n(0.3, 0.05, 200, deff=0.5)[()] == 200.0
    assert nchs_reliable(0.3, 0.05, 100, 0.28, 0.32, deff=3.3)[()]  # 100/3.3 = 30.3
    assert not nchs_reliable(0.3, 0.05, 100, 0.28, 0.32, deff=3.5)[()]  # 100/3.5 = 28.6


@pytest.mark.parametrize(("width", "expected"), [(0.05, True), (0.0501, False)])
def test_small_absolute_width_passes_whatever_the_relative_width(width, expected):
    # p = 0.02: relative width 250 % but an absolute width of at most 5 pe passes
    p = 0.02
    assert nchs_reliable(p, _se_for(p, 500), 1000, 0.005, 0.005 + width)[()] == expected


@pytest.mark.parametrize(("high", "expected"), [(0.4999, True), (0.5, False), (0.51, False)])
def test_absolute_width_30_pe(high, expected):
    # [0.2, 0.5] is exactly 0.3 wide in floating point (0.5 - 0.2 == 0.3); p = 0.35 keeps
    # the relative width (86 %) below 130 %, so only the absolute rule decides
    p = 0.35
    assert nchs_reliable(p, _se_for(p, 40), 1000, 0.2, high)[()] == expected


@pytest.mark.parametrize(("width", "expected"), [(0.2599, True), (0.2601, False)])
def test_relative_width_130_percent(width, expected):
    p = 0.2  # 0.26 / 0.2 = 130 %
    assert nchs_reliable(p, _se_for(p, 200), 1000, 0.1, 0.1 + width)[()] == expected


@pytest.mark.parametrize(
    ("p", "n", "expected"), [(0.0, 29, False), (0.0, 30, True), (1.0, 30, True)]
)
def test_zero_and_one_use_actual_n_and_width_zero(p, n, expected):
    lo, hi = korn_graubard_ci(p, 0.0, n=n)
    assert nchs_reliable(p, 0.0, n, lo, hi)[()] == expected


def test_missing_values_are_unreliable():
    out = nchs_reliable([np.nan, 0.3], [0.01, np.nan], [100, 100], [0.2, 0.2], [0.4, 0.4])
    assert out.tolist() == [False, False]


def test_reliability_frame_details_and_complement_flag():
    e = pd.DataFrame(
        {
            "indicator": ["otrygghet_ute_sent"] * 4 + ["problemindex"] * 3,
            "estimate": [0.9, 0.30, 0.03, np.nan, 1.5, 1.5, 1.5],
            "se": [0.035, 0.02, 0.02, np.nan, 0.44, 0.46, 0.1],
            "n": [60, 500, 60, 10, 100, 100, 29],
        }
    )
    d = reliability(
        e, kinds={"otrygghet_ute_sent": "proportion", "problemindex": "mean"}, details=True
    )
    # p = 0.9, n_eff = 0.09/0.035^2 = 73.5: width passes, its complement's relative width
    # (width / 0.1) is above 130 % -> presented with a footnote
    assert d["reliable"].tolist() == [True, True, False, False, True, False, False]
    assert d["complement_flag"].tolist() == [True, False, False, False, False, False, False]
    assert d.loc[2, "reason"] == "konfidensintervallet är mer än 130 % av skattningen"
    assert d.loc[0, "reason"] == ""
    # the KG interval of the table equals scipy's beta quantiles at n_eff = p(1-p)/se^2
    neff = 0.3 * 0.7 / 0.02**2
    assert d.loc[1, "ci_low_kg"] == pytest.approx(stats.beta.ppf(0.025, neff * 0.3, neff * 0.7 + 1))
    assert d.loc[1, "ci_high_kg"] == pytest.approx(
        stats.beta.ppf(0.975, neff * 0.3 + 1, neff * 0.7)
    )
    assert reliability(e, kinds={"problemindex": "mean"}).dtype == bool


@pytest.mark.parametrize(("se", "expected"), [(0.449, True), (0.45, False)])
def test_mean_rule_rse_30_percent(se, expected):
    e = pd.DataFrame({"indicator": ["pi"], "estimate": [1.5], "se": [se], "n": [100]})
    assert reliability(e, kinds={"pi": "mean"}).iloc[0] == expected


def test_reliability_interval_for_areas_equals_r_svyciprop_beta():
    # An area is a stratum of its own: rows - 1 = its degrees of freedom, so R's factor
    # (t(rows - 1) / t(df))^2 is 1 and the table's interval is R's. R (survey 4.1.1):
    #   svyby(~y, ~stratum, des, svyciprop, method = "beta", na.rm = TRUE,
    #         vartype = c("se", "ci"))   on design A of tests/fixtures/r_survey/designs.csv
    r_ref = {
        "Landsbygd": (0.695652173913043, 0.0937534720628009, 0.476468479746921, 0.864585739015008),
        "Ovrigt": (0.294117647058824, 0.0627123445878845, 0.176756608017268, 0.435556854390452),
        "Tatort": (0.275229357798165, 0.0424401076919746, 0.194631562129347, 0.368226622724602),
    }
    e = pd.DataFrame(
        [
            {"indicator": "y", "group": g, "estimate": p, "se": se, "n": 100}
            for g, (p, se, _, _) in r_ref.items()
        ]
    )
    d = reliability(e, kinds={"y": "proportion"}, details=True)
    np.testing.assert_allclose(d["ci_low_kg"], [v[2] for v in r_ref.values()], rtol=1e-8)
    np.testing.assert_allclose(d["ci_high_kg"], [v[3] for v in r_ref.values()], rtol=1e-8)
    # Landsbygd: n_eff = 0.6957 * 0.3043 / 0.09375^2 = 24.1 < 30; the others pass
    # (n_eff 52.8, and 110.8 capped at n = 100; widths 0.26 and 0.17, relative widths
    # 88 % and 63 %)
    assert d["n_eff"].round(1).tolist() == [24.1, 52.8, 100.0]
    assert d["reliable"].tolist() == [False, True, True]
    assert d.loc[0, "reason"] == "effektivt antal svarande under 30"
