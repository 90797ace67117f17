"""Change tests against BJS's published flags; Mann–Kendall/Theil–Sen against R and scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygghet_analys.stats.trends import (
    CHANGE_COLUMNS,
    TREND_COLUMNS,
    change_test,
    compare_estimates,
    mann_kendall,
    trend_tests,
)

FIX = Path(__file__).parent / "fixtures"


# ---- change_test against a published table -------------------------------------------


@pytest.fixture(scope="module")
def bjs() -> pd.DataFrame:
    # Source: BJS, Criminal Victimization in the 22 Largest U.S. States, 2017–2019
    # (NCJ 305402), appendix table 1; see tests/fixtures/bjs/README.md
    return pd.read_csv(FIX / "bjs" / "states_violent.csv", keep_default_na=False)


@pytest.mark.parametrize(("alpha", "flags"), [(0.05, {"†"}), (0.10, {"†", "‡"})])
def test_change_test_reproduces_all_22_bjs_flags(bjs, alpha, flags):
    us = bjs.iloc[0]
    states = bjs.iloc[1:]
    assert len(states) == 22
    _, _, sig = change_test(us["estimate"], us["se"], states["estimate"], states["se"], alpha=alpha)
    expected = states["flag"].isin(flags).to_numpy()  # BJS: † 95% level, ‡ 90% level
    assert (sig == expected).all()
    assert expected.sum() == (9 if alpha == 0.05 else 10)  # 9 daggers, 1 double dagger


@pytest.mark.parametrize(
    ("args", "z_expected", "p_expected"),
    [
        # (0.36-0.30)/sqrt(0.02^2+0.02^2); R: 2*pnorm(-0.06/sqrt(0.0008)) = 0.033894853524689
        ((0.30, 0.02, 0.36, 0.02), 2.1213203435596424, 0.033894853524689),
        # R: 2*pnorm(-abs((2.5-3)/sqrt(0.1^2+0.2^2))) = 0.0253473186774682
        ((3.0, 0.1, 2.5, 0.2), -2.23606797749979, 0.0253473186774682),
    ],
)
def test_change_test_values(args, z_expected, p_expected):
    z, p, _ = change_test(*args)
    assert z == pytest.approx(z_expected, rel=1e-12)
    assert p == pytest.approx(p_expected, rel=1e-12)


def test_change_test_zero_se_is_not_significant():
    z, p, sig = change_test([0.0, 0.2], [0.0, np.nan], [0.0, 0.3], [0.0, 0.01])
    assert np.isnan(z).all() and np.isnan(p).all() and not sig.any()


# ---- Mann–Kendall / Theil–Sen ------------------------------------------------------


@pytest.fixture(scope="module")
def r_trends() -> tuple[pd.DataFrame, pd.DataFrame]:
    fix = FIX / "r_survey"
    return pd.read_csv(fix / "trend_series.csv"), pd.read_csv(fix / "trend_reference.csv")


def test_mann_kendall_matches_r_cor_test(r_trends):
    # R: cor.test(year, x, method="kendall", exact=FALSE, continuity=TRUE);
    # slope = median of outer() pairwise slopes (make_trend_reference.R)
    data, ref = r_trends
    got = mann_kendall(data, by=["series"]).set_index("series").loc[ref["series"]]
    for col in ["tau", "z", "p_value", "slope"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", ["a", "b", "c", "d", "e"])
def test_mann_kendall_matches_scipy(r_trends, name):
    data, _ = r_trends
    s = data[data["series"] == name]
    got = mann_kendall(s, by=["series"]).iloc[0]
    # scipy.stats.kendalltau(year, x, method="asymptotic"): z = S / sqrt(Var S), no
    # continuity correction, tau-b
    ref = stats.kendalltau(s["year"], s["estimate"], method="asymptotic")
    assert got["tau"] == pytest.approx(ref.statistic, rel=1e-12)
    z_nocc = got["s"] / np.sqrt(got["var_s"])
    assert 2 * stats.norm.sf(abs(z_nocc)) == pytest.approx(ref.pvalue, rel=1e-10)
    # scipy.stats.theilslopes(x, year).slope
    assert got["slope"] == pytest.approx(stats.theilslopes(s["estimate"], s["year"]).slope)


# ---- tables -------------------------------------------------------------------------


def _estimates(years, values, *, kommun="K", indicator="problemindex", se=0.02, n=100):
    return pd.DataFrame(
        {
            "kommun": kommun,
            "year": list(years),
            "indicator": indicator,
            "group_var": "total",
            "group": "Hela kommunen",
            "estimate": list(values),
            "se": se,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": n,
            "suppressed": False,
        }
    )


@pytest.fixture
def series() -> pd.DataFrame:
    years = range(2012, 2022)
    values = [2.0, 2.1, 2.2, 2.15, 2.3, 2.4, 2.5, 2.45, 2.6, 2.7]
    est = _estimates(years, values)
    est.loc[est["year"] == 2015, ["suppressed", "estimate", "se"]] = [True, np.nan, np.nan]
    return est


def test_consecutive_changes_skip_suppressed(series):
    out = compare_estimates(series)
    assert list(out.columns) == CHANGE_COLUMNS
    pairs = list(zip(out["year_from"], out["year_to"], strict=True))
    assert (2014, 2016) in pairs and (2014, 2015) not in pairs
    row = out[(out["year_from"] == 2012) & (out["year_to"] == 2013)].iloc[0]
    assert row["change"] == pytest.approx(0.1)
    assert row["se_change"] == pytest.approx(np.sqrt(2) * 0.02)
    # 2*pnorm(-0.1/sqrt(0.0008)) in R = 0.000406952017444959
    assert row["p_value"] == pytest.approx(0.000406952017444959, rel=1e-9)
    assert bool(row["significant"])


@pytest.mark.parametrize(
    ("break_var", "spans"),
    [("problem_klotter", False), ("otrygg_ute_sent", True)],
)
def test_no_change_spans_a_break(series, break_var, spans):
    # problem_klotter is one of problemindex's items: its break splits the index series
    breaks = pd.DataFrame({"kommun": ["K"], "variable": [break_var], "year": [2018]})
    out = compare_estimates(series, breaks=breaks, base_year=2013)
    crosses = (out["year_from"] < 2018) & (out["year_to"] >= 2018)
    assert crosses.any() == spans
    assert set(out["comparison"]) == {"föregående år", "basår"}


def test_base_year_comparisons(series):
    out = compare_estimates(series, base_year=2012)
    base = out[out["comparison"] == "basår"]
    assert (base["year_from"] == 2012).all()
    assert sorted(base["year_to"]) == [2013, 2014, 2016, 2017, 2018, 2019, 2020, 2021]


def test_trend_tests_latest_segment(series):
    breaks = pd.DataFrame({"kommun": ["K"], "variable": ["problem_klotter"], "year": [2016]})
    out = trend_tests(series, breaks=breaks, min_years=5)
    assert list(out.columns) == TREND_COLUMNS
    row = out.iloc[0]
    assert (row["year_from"], row["year_to"], row["n_years"]) == (2016, 2021, 6)
    seg = series[series["year"] >= 2016]
    # scipy.stats.theilslopes(estimate, year).slope over 2016-2021
    assert row["slope"] == pytest.approx(stats.theilslopes(seg["estimate"], seg["year"]).slope)
    assert row["direction"] == "ökande" and bool(row["significant"])


@pytest.mark.parametrize(("min_years", "rows"), [(5, 1), (10, 0)])
def test_trend_tests_min_years(series, min_years, rows):
    assert len(trend_tests(series, min_years=min_years)) == rows


def test_flat_series_has_no_trend():
    out = trend_tests(_estimates(range(2015, 2021), [0.3, 0.31, 0.29, 0.3, 0.31, 0.29]))
    assert out["direction"].iloc[0] == "ingen säkerställd trend"


@pytest.mark.parametrize(
    ("func", "columns"), [(compare_estimates, CHANGE_COLUMNS), (trend_tests, TREND_COLUMNS)]
)
def test_empty_estimates_give_empty_tables(series, func, columns):
    out = func(series.iloc[:0])
    assert out.empty and list(out.columns) == columns


@pytest.mark.parametrize(("n_years", "rows"), [(4, 0), (5, 1), (6, 1)])
def test_trend_needs_at_least_five_years_by_default(n_years, rows):
    """Exactly five yearly estimates are enough for a trend (≥ 5, not > 5); four are not."""
    values = [0.30, 0.32, 0.31, 0.35, 0.36, 0.38][:n_years]
    out = trend_tests(_estimates(range(2015, 2015 + n_years), values))
    assert len(out) == rows
    if rows:
        assert out["n_years"].iloc[0] == n_years


@pytest.mark.parametrize(
    ("values", "p_expected", "direction"),
    [
        # S = 10, Var(S) = 5·4·15/18 = 50/3, z = (10 − 1)/√(50/3) = 2.2045:
        # 2 * scipy.stats.norm.sf(9 / math.sqrt(50 / 3)) = 0.02749
        ([0.10, 0.20, 0.30, 0.40, 0.50], 0.02749, "ökande"),
        # S = 8, z = 7/√(50/3) = 1.7146: 2 * scipy.stats.norm.sf(7 / math.sqrt(50 / 3)) = 0.08641
        ([0.10, 0.20, 0.30, 0.50, 0.40], 0.08641, "ingen säkerställd trend"),
        ([0.50, 0.40, 0.30, 0.20, 0.10], 0.02749, "minskande"),
    ],
)
def test_trend_significance_at_five_percent_on_both_sides(values, p_expected, direction):
    out = trend_tests(_estimates(range(2019, 2024), values))
    assert out["p_value"].iloc[0] == pytest.approx(p_expected, abs=5e-6)
    assert out["direction"].iloc[0] == direction
    assert bool(out["significant"].iloc[0]) is (direction != "ingen säkerställd trend")


def _mann_kendall_by_merge(series: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The reference: :func:`mann_kendall` as it was before issue 16 vectorised the pairs
    (a self-merge of each series, ``pd.factorize`` of the key tuples and pandas' grouped
    median), for the columns it computes from the pairs."""
    d = series[[*by, "year", "estimate"]].dropna(subset=["estimate"]).reset_index(drop=True)
    sid, keys = pd.factorize(pd.MultiIndex.from_frame(d[by]), sort=True)
    d["_sid"] = sid
    d = d.sort_values(["_sid", "year"], kind="stable", ignore_index=True)
    pairs = d[["_sid", "year", "estimate"]].merge(
        d[["_sid", "year", "estimate"]], on="_sid", suffixes=("_i", "_j")
    )
    pairs = pairs[pairs["year_i"] < pairs["year_j"]]
    dx = pairs["estimate_j"].to_numpy() - pairs["estimate_i"].to_numpy()
    dt = (pairs["year_j"].to_numpy() - pairs["year_i"].to_numpy()).astype(float)
    psid = pairs["_sid"].to_numpy()
    out = keys.to_frame(index=False)
    out.columns = by
    out["s"] = np.bincount(psid, weights=np.sign(dx), minlength=len(keys))
    out["slope"] = pd.Series(dx / dt).groupby(psid).median().reindex(range(len(keys))).to_numpy()
    out["n_years"] = np.bincount(d["_sid"].to_numpy(), minlength=len(keys)).astype(np.int64)
    return out


@pytest.mark.parametrize("keys", ["text", "category"])
def test_mann_kendall_pairs_and_median_equal_the_merge_bit_for_bit(keys):
    """Series of 1–25 years with ties, a repeated year, missing values, odd and even pair
    counts; text + integer keys (grouped directly) and categorical keys (through the
    tuples): the same keys, order, S, n and Theil–Sen slope (bits) as the reference."""
    rng = np.random.default_rng(16)
    rows = []
    for k in range(300):
        n = int(rng.integers(1, 26))
        years = np.sort(rng.choice(np.arange(2000, 2030), size=n, replace=False))
        if k % 7 == 0 and n > 2:
            years[1] = years[0]  # a repeated year: no pair between the two
        values = np.round(rng.normal(0.5, 0.2, size=n), 2 if k % 3 else 1)  # ties
        if k % 5 == 0:
            values[rng.integers(0, n)] = np.nan
        for y, v in zip(years, values, strict=True):
            rows.append({"kommun": f"K{k % 13}", "w": k // 13, "year": int(y), "estimate": v})
    data = pd.DataFrame(rows).astype({"kommun": "str"})
    if keys == "category":
        data["kommun"] = pd.Categorical(data["kommun"], categories=[f"K{i}" for i in range(13)])
    by = ["kommun", "w"]
    got = mann_kendall(data, by=by)
    want = _mann_kendall_by_merge(data, by)
    for col in ["kommun", "w", "n_years"]:
        assert got[col].tolist() == want[col].tolist()
    for col in ["s", "slope"]:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert np.array_equal(a, b, equal_nan=True)
        assert np.array_equal(np.signbit(a), np.signbit(b))
    assert got["slope"].isna().sum() > 0 and (got["n_years"] % 2 == 0).any()


def _random_estimates(seed: int) -> pd.DataFrame:
    """Estimates of several kommuner (non-ASCII names), indicators and groups over years
    with gaps, suppressed rows and missing estimates, not in table order."""
    rng = np.random.default_rng(seed)
    rows = []
    for kommun in ["Åstorp", "Malmö", "K"]:
        for indicator in ["problemindex", "oro_vald", "otrygghet_ute_sent"]:
            for group_var, group in [("total", "Hela kommunen"), ("sex", "Kvinna"), ("sex", "Man")]:
                years = np.sort(
                    rng.choice(np.arange(2008, 2024), size=rng.integers(1, 12), replace=False)
                )
                for y in years:
                    suppressed = bool(rng.random() < 0.1)
                    estimate = np.nan if suppressed or rng.random() < 0.05 else rng.random()
                    rows.append(
                        (kommun, int(y), indicator, group_var, group, estimate, 0.02, suppressed)
                    )
    cols = ["kommun", "year", "indicator", "group_var", "group", "estimate", "se", "suppressed"]
    table = pd.DataFrame(rows, columns=cols).astype(
        {c: "str" for c in ["kommun", "indicator", "group_var", "group"]}
    )
    return table.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("base", [None, 2012, "mapping"])
def test_change_pairs_by_position_equal_the_merge(monkeypatch, seed, base):
    """The pairs found from row positions (:func:`_pairs_by_position`) give the table of
    the grouped shift and merge (:func:`_pairs_by_merge`): rows, order, values, types,
    with breaks and a base year per kommun (one without)."""
    from trygghet_analys.stats import trends

    est = _random_estimates(seed)
    breaks = pd.DataFrame(
        {
            "kommun": ["Malmö", "K"],
            "variable": ["problem_klotter", "oro_vald"],
            "year": [2015, 2019],
        }
    )
    base_year = {"Åstorp": 2012, "Malmö": 2010, "K": None} if base == "mapping" else base
    by_position = trends._pairs_by_position
    made = []
    monkeypatch.setattr(
        trends, "_pairs_by_position", lambda *a: made.append(by_position(*a)) or made[-1]
    )
    got = compare_estimates(est, breaks=breaks, base_year=base_year)
    assert made[0] is not None  # the positions' way, not the merge's
    monkeypatch.setattr(trends, "_pairs_by_position", lambda est, is_base: None)
    want = compare_estimates(est, breaks=breaks, base_year=base_year)
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    import pyarrow as pa

    assert pa.Table.from_pandas(got).equals(pa.Table.from_pandas(want), check_metadata=True)


@pytest.mark.parametrize(
    "case", ["one row", "two rows", "no base year", "twice the base year", "no key"]
)
def test_change_pairs_by_position_edge_cases(monkeypatch, case):
    """One row (no pair), two rows, a base year without estimates, a series with its base
    year twice and a missing series key (both left to the merge): the merge's table."""
    from trygghet_analys.stats import trends

    est = _estimates([2012, 2013], [0.3, 0.4])
    if case == "one row":
        est = est.iloc[:1]
    elif case == "twice the base year":
        est = pd.concat([est, est.iloc[:1]], ignore_index=True)
    elif case == "no key":
        est = pd.concat([est, est.assign(group=None)], ignore_index=True)
    base_year = 2000 if case == "no base year" else 2012
    got = compare_estimates(est, base_year=base_year)
    monkeypatch.setattr(trends, "_pairs_by_position", lambda est, is_base: None)
    want = compare_estimates(est, base_year=base_year)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
