"""design_estimate against R's survey package (fixtures from tests/fixtures/r_survey/).

Reference calls (see make_reference.R beside the CSV files, survey 4.1.1):
    des <- svydesign(ids=~1, strata=~stratum, weights=~weight, fpc=~population, data=d)
    svymean(~y, des, na.rm=TRUE); svyby(~y, ~g, des, svymean, na.rm=TRUE)
    attr(svyciprop(~y, subset(des, g == gg), method="logit", df=degf(des)), "ci")
    confint(svymean(~score, des, na.rm=TRUE), df=degf(des))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trygghet_analys.errors import DataError
from trygghet_analys.stats.estimation import design_estimate, post_stratify, rake

FIX = Path(__file__).parent / "fixtures" / "r_survey"


@pytest.fixture(scope="module")
def designs() -> pd.DataFrame:
    return pd.read_csv(FIX / "designs.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    ref = pd.read_csv(FIX / "reference.csv", keep_default_na=False, na_values=[""])
    ref["by"] = ref["by"].fillna("")
    ref["group"] = ref["group"].fillna("")
    return ref


CASES = [
    (design, lonely, value, kind, by)
    for design, lonely in [("A", "fail"), ("B", "remove"), ("B", "certainty"), ("C", "fail")]
    for value, kind in [("y", "proportion"), ("score", "mean")]
    for by in ["", "g"]
]


@pytest.mark.parametrize(("design", "lonely", "value", "kind", "by"), CASES)
def test_matches_r_survey(designs, reference, design, lonely, value, kind, by):
    data = designs[designs["design"] == design]
    ref = reference[
        (reference["design"] == design)
        & (reference["lonely_psu"] == lonely)
        & (reference["value"] == value)
        & (reference["by"] == by)
    ].set_index("group")
    out = design_estimate(
        data,
        value=value,
        stratum="stratum",
        weight="weight",
        population=None if design == "C" else "population",  # design C: no fpc
        by=by or None,
        kind=kind,
        lonely_psu=lonely,
    )
    out = out.set_index(by) if by else out.set_axis([""])
    out = out.reindex(ref.index)
    assert (out["n"].to_numpy() == ref["n"].to_numpy()).all()
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        got, want = out[col].to_numpy(float), ref[col].to_numpy(float)
        # Degenerate domains (p = 0 or 1): R's glm stops at ~1e-11 and its SE at ~1e-17;
        # we return the exact limits, hence the small absolute tolerance.
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-9, equal_nan=True)


def test_all_missing_domain_is_nan_with_n_zero(designs):
    # R: svyby(~y, ~g, des, svymean, na.rm=TRUE) returns 0 (se 0) for the all-missing
    # domain "tom", an artefact of 0/0 on an empty design; we return NaN and n = 0.
    data = designs[designs["design"] == "A"]
    out = design_estimate(
        data, value="y", stratum="stratum", weight="weight", population="population", by="g"
    ).set_index("g")
    assert out.loc["tom", "n"] == 0
    assert out.loc["tom", ["estimate", "se", "ci_low", "ci_high"]].isna().all()


def test_lonely_stratum_fails_like_r(designs):
    # R, options(survey.lonely.psu="fail") (the default): svymean(~y, des, na.rm=TRUE)
    # stops with "Stratum (Ensam) has only one PSU at stage 1".
    assert "Ensam" in (FIX / "lonely_fail_message.txt").read_text(encoding="utf-8")
    data = designs[designs["design"] == "B"]
    with pytest.raises(DataError, match="Ensam"):
        design_estimate(
            data, value="y", stratum="stratum", weight="weight", population="population"
        )


def test_census_stratum_alone_is_no_error():
    # one respondent in a stratum of one person: n_h = N_h, zero variance, no error
    d = pd.DataFrame(
        {
            "h": ["a", "a", "a", "b"],
            "w": [5.0, 5.0, 5.0, 1.0],
            "N": [15, 15, 15, 1],
            "y": [1, 0, 1, 1],
        }
    )
    out = design_estimate(d, value="y", stratum="h", weight="w", population="N")
    assert out["n"].iloc[0] == 4
    assert np.isfinite(out["se"].iloc[0])


def test_by_list_and_categorical_keeps_dtype(designs):
    data = designs[designs["design"] == "A"].copy()
    data["k"] = pd.Categorical(data["stratum"], categories=["Tatort", "Ovrigt", "Landsbygd"])
    out = design_estimate(
        data,
        value="y",
        stratum="stratum",
        weight="weight",
        population="population",
        by=["k", "g"],
    )
    assert isinstance(out["k"].dtype, pd.CategoricalDtype)
    assert list(out.columns[:2]) == ["k", "g"]
    # each (k, g) domain of a two-way by equals the one-way by on the crossed column
    data["kg"] = data["stratum"] + "/" + data["g"]
    one = design_estimate(
        data, value="y", stratum="stratum", weight="weight", population="population", by="kg"
    ).set_index("kg")
    key = out["k"].astype(str) + "/" + out["g"]
    np.testing.assert_allclose(out["se"], one.loc[key, "se"], rtol=1e-12)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"weight": 0.0}, "positiv vikt"),
        ({"y": 2}, "0 eller 1"),
        ({"population": 3.0}, "minst lika stor"),
    ],
)
def test_bad_data_raise_data_error(designs, change, match):
    data = designs[designs["design"] == "A"].copy()
    col, val = next(iter(change.items()))
    if col == "population":  # the whole stratum must agree on N_h
        data.loc[data["stratum"] == "Landsbygd", col] = val
    else:
        data.loc[data.index[0], col] = val
    with pytest.raises(DataError, match=match):
        design_estimate(
            data, value="y", stratum="stratum", weight="weight", population="population"
        )


@pytest.mark.parametrize(
    "kwargs",
    [{"value": "nope"}, {"kind": "median"}, {"lonely_psu": "adjust"}, {"by": ["g", "zz"]}],
)
def test_programming_errors_raise_value_error(designs, kwargs):
    args = {"value": "y", "stratum": "stratum", "weight": "weight"} | kwargs
    with pytest.raises(ValueError):
        design_estimate(designs[designs["design"] == "A"], **args)


# ---- post-stratification (make_poststrat_reference.R) --------------------------------


@pytest.fixture(scope="module")
def poststrat(designs) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    data = designs[designs["design"] == "A"].reset_index(drop=True)
    data["ps"] = pd.read_csv(FIX / "poststrat_cells.csv")["ps"]
    totals = pd.read_csv(FIX / "poststrat_totals.csv").set_index("ps")["Freq"]
    ref = pd.read_csv(FIX / "poststrat_reference.csv", keep_default_na=False, na_values=[""])
    ref["group"] = ref["group"].fillna("")
    return data, totals, ref


def test_post_stratify_weights_match_r(poststrat):
    # R: weights(postStratify(des, ~ps, data.frame(ps=c("Kvinna","Man"), Freq=c(3300,3200))))
    data, totals, _ = poststrat
    got = post_stratify(data, weight="weight", post_stratum="ps", post_totals=totals)
    want = pd.read_csv(FIX / "poststrat_weights.csv")["w"]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got.groupby(data["ps"]).sum().to_dict() == pytest.approx({"Kvinna": 3300, "Man": 3200})


@pytest.mark.parametrize(("value", "kind"), [("y", "proportion"), ("score", "mean")])
@pytest.mark.parametrize("by", [None, "g"])
def test_post_stratified_estimates_match_r(poststrat, value, kind, by):
    # R: svymean(~y, ps, na.rm=TRUE); svyby(~y, ~g, ps, svymean, na.rm=TRUE);
    # svyciprop(~y, subset(ps, g == gg), method="logit", df=degf(des))
    data, totals, ref = poststrat
    ref = ref[(ref["value"] == value) & ((ref["group"] != "") == (by is not None))]
    ref = ref.set_index("group")
    out = design_estimate(
        data,
        value=value,
        stratum="stratum",
        weight="weight",
        population="population",
        by=by,
        kind=kind,
        post_stratum="ps",
        post_totals=totals,
    )
    out = (out.set_index(by) if by else out.set_axis([""])).reindex(ref.index)
    for col in ["estimate", "se"]:
        np.testing.assert_allclose(out[col], ref[col], rtol=1e-10)
    for col in ["ci_low", "ci_high"]:
        np.testing.assert_allclose(out[col], ref[f"{col}_exact"], rtol=1e-10)
        # svyciprop itself (IRLS tolerance of svyglm)
        np.testing.assert_allclose(out[col], ref[col], rtol=5e-8)


def test_post_stratum_missing_from_totals_is_a_data_error(poststrat):
    data, totals, _ = poststrat
    with pytest.raises(DataError, match="Kvinna"):
        post_stratify(data, weight="weight", post_stratum="ps", post_totals=totals.drop("Kvinna"))


# ---- raking (make_rake_reference.R) ----------------------------------------------------


@pytest.fixture(scope="module")
def raking(designs) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    data = designs[designs["design"] == "A"].reset_index(drop=True)
    data[["ps", "ag"]] = pd.read_csv(FIX / "rake_cells.csv")
    totals = pd.read_csv(FIX / "rake_totals.csv")
    margins = {
        m: dict(zip(g["cell"], g["Freq"], strict=True))
        for m, g in totals.groupby("margin", sort=False)
    }
    ref = pd.read_csv(FIX / "rake_reference.csv", keep_default_na=False, na_values=[""])
    ref["group"] = ref["group"].fillna("")
    return data, margins, ref


def test_rake_weights_match_r(raking):
    # R: weights(rake(des, list(~ps, ~ag), list(ps_tot, ag_tot)))
    data, margins, _ = raking
    got = rake(data, weight="weight", margins=margins)
    np.testing.assert_allclose(got, pd.read_csv(FIX / "rake_weights.csv")["w"], rtol=1e-12)


@pytest.mark.parametrize(("value", "kind"), [("y", "proportion"), ("score", "mean")])
@pytest.mark.parametrize("by", [None, "g"])
def test_raked_estimates_match_r(raking, value, kind, by):
    # R: svymean(~y, rk, na.rm=TRUE); svyby(~y, ~g, rk, svymean, na.rm=TRUE);
    # CI: logit/t interval on degf(des) from those estimates and SEs
    data, margins, ref = raking
    ref = ref[(ref["value"] == value) & ((ref["group"] != "") == (by is not None))]
    ref = ref.set_index("group")
    out = design_estimate(
        data,
        value=value,
        stratum="stratum",
        weight="weight",
        population="population",
        by=by,
        kind=kind,
        rake_margins=margins,
    )
    out = (out.set_index(by) if by else out.set_axis([""])).reindex(ref.index)
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(out[col], ref[col], rtol=1e-10)


def test_post_stratum_and_rake_are_exclusive(raking):
    data, margins, _ = raking
    with pytest.raises(ValueError, match="not both"):
        design_estimate(
            data,
            value="y",
            stratum="stratum",
            weight="weight",
            post_stratum="ps",
            post_totals=margins["ps"],
            rake_margins=margins,
        )


# ---- properties ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.01, 100.0),
)
def test_invariant_to_row_order_and_weight_scale_of_estimate(seed, scale):
    rng = np.random.default_rng(seed)
    n = 60
    d = pd.DataFrame(
        {
            "h": rng.choice(["a", "b", "c"], n),
            "y": rng.integers(0, 2, n).astype(float),
            "g": rng.choice(["x", "y"], n),
        }
    )
    d["w"] = d["h"].map({"a": 10.0, "b": 20.0, "c": 5.0})
    d.loc[rng.random(n) < 0.1, "y"] = np.nan
    if (d.groupby("h").size() < 2).any():
        return
    base = design_estimate(d, value="y", stratum="h", weight="w", by="g")
    shuffled = d.sample(frac=1.0, random_state=int(seed % 2**31))
    again = design_estimate(shuffled, value="y", stratum="h", weight="w", by="g")
    pd.testing.assert_frame_equal(base, again, rtol=1e-10)
    # the ratio estimator and its linearised SE do not depend on the weights' scale
    scaled = design_estimate(d.assign(w=d["w"] * scale), value="y", stratum="h", weight="w", by="g")
    np.testing.assert_allclose(scaled["estimate"], base["estimate"], rtol=1e-10)
    np.testing.assert_allclose(scaled["se"], base["se"], rtol=1e-8)


# --- Korn–Graubard interval (issue 11) ---------------------------------------------------
# Reference: tests/fixtures/r_survey/make_kg_reference.R (survey 4.1.1)
#     svyciprop(~y, des, method = "beta", na.rm = TRUE)
#     svyby(~y, ~g, des, svyciprop, method = "beta", na.rm = TRUE, vartype = "ci")
@pytest.fixture(scope="module")
def kg_reference() -> pd.DataFrame:
    ref = pd.read_csv(FIX / "kg_reference.csv", keep_default_na=False, na_values=[""])
    ref["group"] = ref["group"].fillna("")
    return ref


@pytest.mark.parametrize(
    ("design", "lonely"), [("A", "fail"), ("B", "remove"), ("B", "certainty"), ("C", "fail")]
)
@pytest.mark.parametrize("by", ["", "g"])
def test_korn_graubard_matches_r_svyciprop_beta(designs, kg_reference, design, lonely, by):
    data = designs[designs["design"] == design]
    ref = kg_reference[(kg_reference["design"] == design) & (kg_reference["lonely_psu"] == lonely)]
    ref = ref[(ref["group"] == "") if not by else (ref["group"] != "")]
    # p = 0 and p = 1: R gives NaN or the point [1, 1]; we give Clopper-Pearson with the
    # actual n (tested below), so those domains are not compared with R
    ref = ref[(ref["estimate"] > 0) & (ref["estimate"] < 1)].set_index("group")
    out = design_estimate(
        data,
        value="y",
        stratum="stratum",
        weight="weight",
        population=None if design == "C" else "population",
        by=by or None,
        lonely_psu=lonely,
        ci="korn-graubard",
    )
    out = (out.set_index(by) if by else out.set_axis([""])).reindex(ref.index)
    assert len(ref) >= 1
    for col in ["estimate", "ci_low", "ci_high"]:
        np.testing.assert_allclose(
            out[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-8, equal_nan=True
        )


def test_korn_graubard_domain_without_df_is_nan_like_r(designs):
    # "liten": 3 rows in 3 strata, degf = 0 -> R: qt(0.025, 0) is NaN, so is the interval
    data = designs[designs["design"] == "A"]
    out = design_estimate(
        data,
        value="y",
        stratum="stratum",
        weight="weight",
        population="population",
        by="g",
        ci="korn-graubard",
    ).set_index("g")
    assert np.isnan(out.loc["liten", "ci_low"]) and np.isnan(out.loc["liten", "ci_high"])
    assert 0 < out.loc["liten", "estimate"] < 1


def test_korn_graubard_at_zero_and_one_is_clopper_pearson_with_n(designs):
    from scipy import stats

    data = designs[designs["design"] == "A"]
    out = design_estimate(
        data,
        value="y",
        stratum="stratum",
        weight="weight",
        population="population",
        by="g",
        ci="korn-graubard",
    ).set_index("g")
    n0, n1 = int(out.loc["noll", "n"]), int(out.loc["ett", "n"])
    assert (n0, n1) == (8, 7)
    # R: binom.test(0, 8)$conf.int = 0, 0.3694166476; binom.test(7, 7)$conf.int = 0.5903836028, 1
    assert out.loc["noll", "ci_low"] == 0.0
    assert out.loc["noll", "ci_high"] == pytest.approx(stats.beta.ppf(0.975, 1, 8), rel=1e-12)
    assert out.loc["noll", "ci_high"] == pytest.approx(0.3694166, abs=1e-7)
    assert out.loc["ett", "ci_low"] == pytest.approx(0.5903836, abs=1e-7)
    assert out.loc["ett", "ci_high"] == 1.0


def test_korn_graubard_refused_for_means_and_calibration(designs):
    data = designs[designs["design"] == "A"]
    args = {"stratum": "stratum", "weight": "weight", "ci": "korn-graubard"}
    with pytest.raises(ValueError, match="proportions"):
        design_estimate(data, value="score", kind="mean", **args)
    with pytest.raises(ValueError, match="ci must be"):
        design_estimate(data, value="y", stratum="stratum", weight="weight", ci="wald")


# --- ensamt_stratum: slå_ihop (collapsed strata) ---------------------------------------


def _lonely_fixture() -> tuple[pd.DataFrame, pd.DataFrame]:
    r = pd.read_csv(FIX / "lonely_responses.csv", encoding="utf-8", keep_default_na=False,
                    na_values=[""])  # fmt: skip
    s = pd.read_csv(FIX / "lonely_strata.csv", encoding="utf-8")
    return r, s


def test_collapsed_strata_match_r_survey():
    # R (make_collapsed_reference.R), per year, with the merge written out by hand:
    #   des <- svydesign(ids=~1, strata=~design_stratum, weights=~weight,
    #                    fpc=~design_population, data=d)
    #   svymean(~y, des, na.rm=TRUE); svyby(~y, ~sex, des, svymean, na.rm=TRUE)
    #   attr(svyciprop(~y, subset(des, ...), method="logit", df=degf(des)), "ci")
    from trygghet_analys.stats.estimation import collapse_lonely_strata, estimate_indicators

    r, s = _lonely_fixture()
    order = {"Kommun 0": ["Område 1", "Område 2", "Område 3"]}
    merged, design = collapse_lonely_strata(r, s, order=order)
    # 2020: the lonely Område 2 joins the next area; 2021: the last area joins the one before
    want = {2020: "Område 2 + Område 3", 2021: "Område 2 + Område 3"}
    for year, label in want.items():
        rows = merged[(merged["year"] == year) & merged["stratum"].isin(["Område 2", "Område 3"])]
        assert set(rows["design_stratum"]) == {label}
        pop = design[(design["year"] == year) & (design["stratum"] == label)]["population"]
        assert pop.tolist() == [1200 + 1000]
    out = estimate_indicators(
        merged, design, indicators=["otrygghet_ute_sent"], min_n=0,
        group_vars=["stratum", "sex"], design_stratum="design_stratum",
    )  # fmt: skip
    ref = pd.read_csv(FIX / "collapsed_reference.csv", encoding="utf-8")
    got = out.merge(ref, on=["year", "group_var", "group"], suffixes=("", "_r"))
    assert len(got) == len(ref) == 12
    assert (got["n"] == got["n_r"]).all()
    # the area itself is still reported on its own (n = 1), not as the merged stratum
    assert set(out[out["group_var"] == "stratum"]["group"]) == {"Område 1", "Område 2", "Område 3"}
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        # the lonely area's own domain (p = 0 or 1): R's glm stops at ~1e-9, we return
        # the exact limit, hence the small absolute tolerance
        np.testing.assert_allclose(got[col], got[f"{col}_r"], rtol=1e-8, atol=1e-8)


def test_ta_bort_matches_r_remove_and_differs_from_the_merge():
    # R (make_collapsed_reference.R, lonely_alternatives.csv):
    #   options(survey.lonely.psu = "remove"); svymean(~y, des, na.rm=TRUE)
    # on the unmerged design gives 2020 SE 0.0381152698389431 and 2021 SE
    # 0.0365659739890311, against 0.109153405018208 and 0.151881341851301 for the merged
    # design (collapsed_reference.csv): the lonely respondent, weighted 1200, adds no
    # variance at all under ta_bort.
    from trygghet_analys.stats.estimation import collapse_lonely_strata, estimate_indicators

    r, s = _lonely_fixture()
    alt = pd.read_csv(FIX / "lonely_alternatives.csv")
    remove = alt[alt["lonely_psu"] == "remove"].set_index("year")
    kw = {"indicators": ["otrygghet_ute_sent"], "min_n": 0, "group_vars": []}
    b = estimate_indicators(r, s, lonely_psu="remove", **kw).set_index("year")
    np.testing.assert_allclose(b["se"], remove.loc[b.index, "se"], rtol=1e-8)
    np.testing.assert_allclose(b["estimate"], remove.loc[b.index, "estimate"], rtol=1e-8)
    order = {"Kommun 0": list(dict.fromkeys(s["stratum"]))}
    merged, design = collapse_lonely_strata(r, s, order=order)
    a = estimate_indicators(merged, design, design_stratum="design_stratum", **kw)
    a = a.set_index("year")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)  # same estimate
    assert (a["se"] > 2 * b["se"]).all()  # 0.109 vs 0.038 and 0.152 vs 0.037


def test_collapse_neighbour_follows_kommun_yml_order():
    # hand computation: order c, a, b; a (lonely, middle) joins b (next); b (lonely, last)
    # joins a (before) -> one stratum a + b; then c stays alone
    from trygghet_analys.stats.estimation import collapse_lonely_strata

    r = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b", "c", "c"]})
    s = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b", "c"],
                      "population": [5, 6, 7]})  # fmt: skip
    out, design = collapse_lonely_strata(r, s, order={"K": ["c", "a", "b"]})
    assert out["design_stratum"].tolist() == ["a + b", "a + b", "c", "c"]
    assert dict(zip(design["stratum"], design["population"], strict=True)) == {"a + b": 11, "c": 7}
    # two respondents is not lonely: nothing merged (the boundary's other side)
    r2 = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "a", "b", "b", "c", "c"]})
    out2, _ = collapse_lonely_strata(r2, s, order={"K": ["c", "a", "b"]})
    assert out2["design_stratum"].tolist() == out2["stratum"].tolist()
    # a chain: c lonely (first) joins a; a lonely joins b -> all three in one stratum
    r3 = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b", "b", "c"]})
    out3, _ = collapse_lonely_strata(r3, s, order={"K": ["c", "a", "b"]})
    assert set(out3["design_stratum"]) == {"c + a + b"}


def test_collapse_with_a_single_area_names_the_setting():
    from trygghet_analys.stats.estimation import collapse_lonely_strata

    r = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a"]})
    s = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a"], "population": [5]})
    with pytest.raises(DataError, match="ensamt_stratum: slå_ihop | ta_bort"):
        collapse_lonely_strata(r, s)
