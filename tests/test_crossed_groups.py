"""Crossed domains (kön × åldersgrupp, område × kön × åldersgrupp) in estimate_indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_indicators import CATEGORIES
from trygghet_analys import design_estimate, estimate_indicators, indicator_values

FIX = Path(__file__).parent / "fixtures" / "r_survey"


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    r = pd.read_csv(FIX / "canonical_responses.csv", keep_default_na=False, na_values=[""])
    for col, cats in CATEGORIES.items():
        r[col] = pd.Categorical(r[col], categories=[*cats, "Vet ej"], ordered=True)
    r["sex"] = pd.Categorical(r["sex"], categories=["Kvinna", "Man"], ordered=True)
    ages = ["16–24", "25–44", "45–64", "65–85"]
    r["age_group"] = pd.Categorical(r["age_group"], categories=ages, ordered=True)
    return r


@pytest.fixture(scope="module")
def strata() -> pd.DataFrame:
    return pd.read_csv(FIX / "canonical_strata.csv")


@pytest.fixture(scope="module")
def crossed(responses, strata) -> pd.DataFrame:
    return estimate_indicators(
        responses,
        strata,
        indicators=["otrygghet_ute_sent"],
        min_n=0,
        group_vars=[("sex", "age_group"), ("stratum", "sex", "age_group")],
    )


def test_crossed_estimates_equal_r_svyby(crossed):
    # R (make_crossed_reference.R), per kommun x year:
    #   des <- svydesign(ids=~1, strata=~stratum, weights=~weight, fpc=~population, data=d)
    #   svyby(~y, ~sex+age_group, des, svymean, na.rm=TRUE)            (and ~stratum+sex+age_group)
    #   svyciprop(~y, subset(des, cell), method="logit", df=degf(des))  (CI on the full df)
    ref = pd.read_csv(FIX / "crossed_reference.csv", encoding="utf-8")
    key = ["kommun", "year", "group_var", "group"]
    got = crossed[crossed["group_var"] != "total"].merge(
        ref, on=key, suffixes=("", "_r"), validate="1:1", how="outer", indicator=True
    )
    assert (got["_merge"] == "both").all(), got.loc[got["_merge"] != "both", key]
    assert len(got) == len(ref) == 126
    np.testing.assert_array_equal(got["n"], got["n_r"])
    for col in ["estimate", "se"]:
        np.testing.assert_allclose(got[col], got[f"{col}_r"], rtol=1e-8, atol=1e-12)
    # svyciprop fits a glm (convergence epsilon 1e-8) and returns 1e-11..1e-9 instead of 0 at
    # p = 0; the interval therefore agrees to the glm's precision, not to the last digit
    for col in ["ci_low", "ci_high"]:
        np.testing.assert_allclose(got[col], got[f"{col}_r"], rtol=1e-7, atol=1e-8)


def test_crossed_group_labels_are_readable_and_in_category_order(crossed):
    part = crossed[
        (crossed["kommun"] == "Kommun 0")
        & (crossed["year"] == 2020)
        & (crossed["group_var"] == "sex+age_group")
    ]
    assert part["group"].tolist() == [
        f"{s}, {a}" for s in ("Kvinna", "Man") for a in ("16–24", "25–44", "45–64", "65–85")
    ]
    three = crossed[crossed["group_var"] == "stratum+sex+age_group"]["group"]
    assert three.iloc[0] == "Område 1, Kvinna, 16–24"
    assert set(crossed["group_var"]) == {"total", "sex+age_group", "stratum+sex+age_group"}


def test_crossed_rows_equal_design_estimate_by_both(crossed, responses, strata):
    d = responses[(responses["kommun"] == "Kommun 1") & (responses["year"] == 2021)]
    d = d.merge(strata, on=["kommun", "year", "stratum"])
    d["y"] = indicator_values(d, "otrygghet_ute_sent")
    ref = design_estimate(
        d,
        value="y",
        stratum="stratum",
        weight="weight",
        population="population",
        by=["sex", "age_group"],
    )
    ref = ref[ref["n"] > 0]
    got = crossed[
        (crossed["kommun"] == "Kommun 1")
        & (crossed["year"] == 2021)
        & (crossed["group_var"] == "sex+age_group")
    ]
    labels = (ref["sex"].astype(str) + ", " + ref["age_group"].astype(str)).tolist()
    assert got["group"].tolist() == labels
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12)
    np.testing.assert_array_equal(got["n"], ref["n"])


def test_a_missing_component_leaves_the_respondent_out_of_every_cell(responses, strata):
    r = responses.copy()
    first = r.index[(r["kommun"] == "Kommun 0") & (r["year"] == 2020)][0]
    r.loc[first, "age_group"] = np.nan
    out = estimate_indicators(
        r, strata, indicators=["grannsamverkan"], min_n=0, group_vars=[("sex", "age_group")]
    )
    before = estimate_indicators(
        responses, strata, indicators=["grannsamverkan"], min_n=0, group_vars=[("sex", "age_group")]
    )
    sel = (out["kommun"] == "Kommun 0") & (out["year"] == 2020) & (out["group_var"] != "total")
    counted = int(pd.notna(indicator_values(r.loc[[first]], "grannsamverkan")).iloc[0])
    assert out.loc[sel, "n"].sum() == before.loc[sel, "n"].sum() - counted


def test_crossed_cells_are_suppressed_like_any_group(responses, strata):
    out = estimate_indicators(
        responses,
        strata,
        indicators=["otrygghet_ute_sent"],
        min_n=15,
        group_vars=[("sex", "age_group")],
    )
    cells = out[out["group_var"] == "sex+age_group"]
    assert (cells["suppressed"] == (cells["n"] < 15)).all()
    assert cells["suppressed"].any() and (~cells["suppressed"]).any()
    assert cells.loc[cells["suppressed"], "estimate"].isna().all()


@pytest.mark.parametrize("bad", [("sex", "nope"), (), ("sex", 3)])
def test_unknown_crossing_is_a_value_error(responses, strata, bad):
    with pytest.raises(ValueError, match="group_vars"):
        estimate_indicators(responses, strata, indicators=["grannsamverkan"], group_vars=[bad])
