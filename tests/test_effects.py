"""Difference in differences for place-based commitments, against a hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygghet_analys.stats.effects import DID_COLUMNS, did_effect

POP = {"Centrum": 5000, "Bruket": 2000, "Landet": 3000}
# year: (Centrum, Bruket, Landet); se 0.02, 0.03, 0.025 every year
VALUES = {
    2018: (0.40, 0.10, 0.10),  # outside the three pre-period years
    2019: (0.22, 0.12, 0.08),
    2020: (0.20, 0.10, 0.10),
    2021: (0.24, 0.14, 0.09),
    2022: (0.15, 0.11, 0.07),
    2023: (0.17, 0.13, 0.10),
}
SE = {"Centrum": 0.02, "Bruket": 0.03, "Landet": 0.025}


def _estimates(values=VALUES) -> pd.DataFrame:
    rows = []
    for year, vals in values.items():
        for area, v in zip(POP, vals, strict=True):
            rows.append(
                {"kommun": "K", "year": year, "indicator": "otrygghet_ute_sent",
                 "group_var": "stratum", "group": area, "estimate": v, "se": SE[area]}
            )  # fmt: skip
        rows.append(
            {"kommun": "K", "year": year, "indicator": "otrygghet_ute_sent",
             "group_var": "total", "group": "Hela kommunen", "estimate": 0.5, "se": 0.01}
        )  # fmt: skip
    return pd.DataFrame(rows)


def _strata() -> pd.DataFrame:
    return pd.DataFrame(
        [{"kommun": "K", "year": y, "stratum": a, "population": n}
         for y in VALUES for a, n in POP.items()]
    )  # fmt: skip


def test_did_equals_hand_computation():
    r = did_effect(
        _estimates(), indicator="otrygghet_ute_sent", area="Centrum", start_year=2022,
        strata=_strata(),
    ).iloc[0]  # fmt: skip
    # Others = (2000 Bruket + 3000 Landet) / 5000 = 0.4 B + 0.6 L:
    #   2019 0.096, 2020 0.100, 2021 0.110, 2022 0.086, 2023 0.112
    # se_O^2 = 0.4^2 0.03^2 + 0.6^2 0.025^2 = 0.000144 + 0.000225 = 0.000369
    # v_t = 0.02^2 + 0.000369 = 0.000769
    # d_t = 0.124, 0.100, 0.130 (pre); 0.064, 0.058 (post)
    # change_area = (0.15+0.17)/2 - (0.22+0.20+0.24)/3 = 0.16 - 0.22 = -0.06
    # change_others = (0.086+0.112)/2 - (0.096+0.100+0.110)/3 = 0.099 - 0.102 = -0.003
    # effect = -0.06 + 0.003 = -0.057; var = 0.000769/3 + 0.000769/2 = 0.000769 * 5/6
    assert (r["pre_from"], r["pre_to"], r["post_from"], r["post_to"]) == (2019, 2021, 2022, 2023)
    assert (r["n_years_pre"], r["n_years_post"]) == (3, 2)
    assert r["change_area"] == pytest.approx(-0.06, abs=1e-12)
    assert r["change_others"] == pytest.approx(-0.003, abs=1e-12)
    assert r["effect"] == pytest.approx(-0.057, abs=1e-12)
    se = np.sqrt(0.000769 * 5 / 6)
    assert r["se"] == pytest.approx(se, rel=1e-12)
    assert r["ci_low"] == pytest.approx(-0.057 - 1.959963984540054 * se, rel=1e-12)
    assert r["ci_high"] == pytest.approx(-0.057 + 1.959963984540054 * se, rel=1e-12)
    # scipy: 2 * norm.sf(0.057 / 0.0253147...) = 0.02435...
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(0.057 / se), rel=1e-12)
    assert 0.024 < r["p_value"] < 0.025
    # pre slope of d over 2019-2021: (0.130 - 0.124) / 2 = 0.003, var = (1/4 + 1/4) 0.000769
    assert r["parallel_slope"] == pytest.approx(0.003, abs=1e-12)
    assert r["parallel_p"] == pytest.approx(2 * stats.norm.sf(0.003 / np.sqrt(0.0003845)))
    assert bool(r["parallel_ok"]) is True
    assert list(r.index) == DID_COLUMNS


@pytest.mark.parametrize(("slope", "ok"), [(0.0392, False), (0.0376, True)])
def test_parallel_trend_check_on_both_sides_of_5_percent(slope, ok):
    # slope se = sqrt(0.0003845) = 0.019609: z = 2.00 (p 0.046) and z = 1.92 (p 0.055)
    values = dict(VALUES)
    others_2021 = 0.110
    values[2021] = (0.124 + 2 * slope + others_2021, 0.14, 0.09)
    r = did_effect(
        _estimates(values), indicator="otrygghet_ute_sent", area="Centrum", start_year=2022,
        strata=_strata(),
    ).iloc[0]  # fmt: skip
    assert r["parallel_slope"] == pytest.approx(slope, abs=1e-12)
    assert (r["parallel_p"] < 0.05) != ok
    assert bool(r["parallel_ok"]) is ok


def test_population_column_instead_of_strata_and_end_year():
    e = _estimates()
    e["population"] = e["group"].map(POP)
    r = did_effect(
        e, indicator="otrygghet_ute_sent", area="Centrum", start_year=2022, end_year=2022,
        pre_years=2,
    ).iloc[0]  # fmt: skip
    # pre 2020-2021: d 0.100, 0.130 -> 0.115; post 2022: 0.064 -> effect -0.051
    assert (r["pre_from"], r["post_to"]) == (2020, 2022)
    assert r["effect"] == pytest.approx(-0.051, abs=1e-12)
    assert r["se"] == pytest.approx(np.sqrt(0.000769 / 2 + 0.000769), rel=1e-12)


def test_suppressed_year_is_left_out_and_counted():
    e = _estimates()
    e.loc[(e["year"] == 2020) & (e["group"] == "Landet"), ["estimate", "se"]] = np.nan
    r = did_effect(
        e, indicator="otrygghet_ute_sent", area="Centrum", start_year=2022, strata=_strata()
    ).iloc[0]
    # 2020 cannot be combined: the pre-period becomes 2018, 2019, 2021
    assert (r["pre_from"], r["n_years_pre"]) == (2018, 3)


def test_errors_name_what_is_missing():
    e = _estimates()
    with pytest.raises(ValueError, match="population"):
        did_effect(e, indicator="otrygghet_ute_sent", area="Centrum", start_year=2022)
    with pytest.raises(ValueError, match="area 'Torget'"):
        did_effect(
            e, indicator="otrygghet_ute_sent", area="Torget", start_year=2022, strata=_strata()
        )
    with pytest.raises(ValueError, match="no year"):
        did_effect(
            e, indicator="otrygghet_ute_sent", area="Centrum", start_year=2030, strata=_strata()
        )
