"""Indicator definitions, per-respondent values and the estimates table (vs R survey)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.errors import DataError
from trygghet_analys.stats.estimation import (
    ESTIMATE_COLUMNS,
    design_estimate,
    estimate_indicators,
    response_rates,
)
from trygghet_analys.survey.indicators import indicator_values, indicator_variables, load_indicators

FIX = Path(__file__).parent / "fixtures" / "r_survey"

PROBLEM = ["Inget problem", "Litet problem", "Ganska stort problem", "Mycket stort problem"]
ORO = ["Inte alls orolig", "Inte särskilt orolig", "Ganska orolig", "Mycket orolig"]
CATEGORIES = {  # CONTRIBUTING.md, canonical respondent table
    "otrygg_ute_sent": [
        "Mycket trygg",
        "Ganska trygg",
        "Ganska otrygg",
        "Mycket otrygg",
        "Går inte ut av oro",
        "Går inte ut av andra skäl",
    ],
    "avstatt_aktivitet": ["Nej", "Ja"],
    "oro_inbrott": ORO,
    "oro_vald": ORO,
    "utsatt_brott": ["Nej", "Ja"],
    **{
        f"problem_{p}": PROBLEM
        for p in [
            "nedskrapning",
            "skadegorelse",
            "klotter",
            "vardslos_biltrafik",
            "buskorning",
            "ungdomsgang",
            "berusade",
            "narkotikapaverkade",
            "narkotikahandel",
            "bostadsinbrott",
            "cykelstolder",
        ]
    },
    "fortroende_polisen": ["Mycket litet", "Ganska litet", "Ganska stort", "Mycket stort"],
    "ser_polis_fots": [
        "Aldrig",
        "Mer sällan än varje månad",
        "Varje månad",
        "Varje vecka eller oftare",
    ],
    "grannsamverkan": ["Nej", "Ja"],
}
IDS = [
    "otrygghet_ute_sent",
    "avstatt_aktivitet",
    "oro_bostadsinbrott",
    "oro_vald",
    "utsatt_brott",
    *[k for k in CATEGORIES if k.startswith("problem_")],
    "problemindex",
    "fortroende_polisen",
    "ser_polis_fots",
    "grannsamverkan",
]


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


# ---- definitions ----------------------------------------------------------------------


def test_definitions_cover_exactly_the_contract_ids():
    table = load_indicators()
    assert list(table["id"]) == IDS
    assert table["label"].str.len().gt(0).all() and table["definition"].str.len().gt(0).all()
    ntu = table.set_index("id")["ntu_id"]
    assert ntu["otrygghet_ute_sent"] == "otrygg_ute_sent"
    assert ntu["fortroende_polisen"] == "fortroende_polisen"
    assert "inte polisens" in table.set_index("id").loc["problemindex", "definition"]


def test_definitions_name_only_canonical_answers():
    for row in load_indicators().itertuples(index=False):
        for var in indicator_variables(row.id):
            assert var in CATEGORIES, (row.id, var)
            for part in row.categories.split("|"):
                assert part.split("=")[0] in CATEGORIES[var], (row.id, part)


# ---- values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Mycket trygg", 0.0),
        ("Ganska otrygg", 1.0),
        ("Mycket otrygg", 1.0),
        ("Går inte ut av oro", 1.0),  # NTU: avstår av otrygghet counts as otrygg
        ("Går inte ut av andra skäl", 0.0),  # valid answer, in the denominator
        ("Vet ej", np.nan),
        (None, np.nan),
    ],
)
def test_otrygghet_follows_ntu(answer, expected):
    cats = [*CATEGORIES["otrygg_ute_sent"], "Vet ej"]
    r = pd.DataFrame({"otrygg_ute_sent": pd.Categorical([answer], categories=cats)})
    got = indicator_values(r, "otrygghet_ute_sent").iloc[0]
    assert got == expected or (np.isnan(expected) and np.isnan(got))


def test_problemindex_scores_mean_over_answered_items():
    items = indicator_variables("problemindex")
    r = pd.DataFrame(
        {v: pd.Categorical([None, None, "Vet ej"], categories=[*PROBLEM, "Vet ej"]) for v in items}
    )
    r.loc[0, items[0]] = "Mycket stort problem"  # 6
    r.loc[0, items[1]] = "Litet problem"  # 2
    r.loc[0, items[2]] = "Vet ej"  # not counted
    r.loc[1, items[3]] = "Inget problem"  # 0
    got = indicator_values(r, "problemindex")
    np.testing.assert_array_equal(got.to_numpy(), [4.0, 0.0, np.nan])


def test_plain_string_columns_work_like_categoricals(responses):
    as_str = responses[["grannsamverkan"]].astype(object)
    a = indicator_values(responses, "grannsamverkan")
    b = indicator_values(as_str, "grannsamverkan")
    pd.testing.assert_series_equal(a, b)


def test_missing_variable_is_a_data_error(responses):
    with pytest.raises(DataError, match="grannsamverkan"):
        indicator_values(responses.drop(columns="grannsamverkan"), "grannsamverkan")


def test_unknown_id_is_a_value_error(responses):
    with pytest.raises(ValueError, match="nope"):
        indicator_values(responses, "nope")


# ---- estimates table -----------------------------------------------------------------


@pytest.fixture(scope="module")
def estimates(responses, strata) -> pd.DataFrame:
    return estimate_indicators(responses, strata, min_n=0)


def test_estimates_match_r(estimates):
    # R (make_indicator_reference.R): per kommun x year
    #   svydesign(ids=~1, strata=~stratum, weights=~weight, fpc=~population)
    #   svymean(~ind, subset(des, grp == g), na.rm=TRUE)
    #   svyciprop(..., method="logit", df=degf(des)) / confint(m, df=degf(des))
    ref = pd.read_csv(FIX / "indicator_reference.csv", encoding="utf-8")
    key = ["kommun", "year", "indicator", "group_var", "group"]
    got = estimates.merge(ref, on=key, suffixes=("", "_r"), validate="1:1")
    assert len(got) == len(ref) == 80
    assert (got["n"] == got["n_r"]).all()
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(got[col], got[f"{col}_r"], rtol=1e-8)


def test_estimates_columns_and_totals(estimates, responses):
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    totals = estimates[estimates["group_var"] == "total"]
    assert (totals["group"] == "Hela kommunen").all()
    assert set(estimates["group_var"]) == {"total", "stratum", "sex", "age_group"}
    # problem_narkotikahandel is asked from 2017: all years here have it
    assert set(estimates["indicator"]) == set(IDS)
    ages = estimates[(estimates["group_var"] == "age_group")]["group"].unique().tolist()
    assert ages == ["16–24", "25–44", "45–64", "65–85"]  # category order kept


def test_each_row_equals_design_estimate_on_its_kommun_year(estimates, responses, strata):
    d = responses[(responses["kommun"] == "Kommun 1") & (responses["year"] == 2021)]
    d = d.merge(strata, on=["kommun", "year", "stratum"])
    d["y"] = indicator_values(d, "oro_vald")
    ref = design_estimate(
        d, value="y", stratum="stratum", weight="weight", population="population", by="sex"
    )
    got = estimates[
        (estimates["kommun"] == "Kommun 1")
        & (estimates["year"] == 2021)
        & (estimates["indicator"] == "oro_vald")
        & (estimates["group_var"] == "sex")
    ]
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-12)
    np.testing.assert_array_equal(got["n"], ref["n"])


@pytest.mark.parametrize(
    ("min_n", "threshold_k0", "threshold_k1"),
    [(30, 30, 30), ({"Kommun 0": 50}, 50, 30), ({"Kommun 0": 10, "Kommun 1": 40}, 10, 40)],
)
def test_suppression(responses, strata, min_n, threshold_k0, threshold_k1):
    out = estimate_indicators(responses, strata, indicators=["otrygghet_ute_sent"], min_n=min_n)
    thr = np.where(out["kommun"] == "Kommun 0", threshold_k0, threshold_k1)
    assert (out["suppressed"] == (out["n"] < thr)).all()
    assert out.loc[out["suppressed"], ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert out.loc[~out["suppressed"], "estimate"].notna().all()
    assert out["suppressed"].any() and (~out["suppressed"]).any()


def test_question_not_asked_gives_no_rows(responses, strata):
    r = responses.copy()
    r.loc[r["year"] == 2020, "problem_narkotikahandel"] = np.nan
    out = estimate_indicators(r, strata, indicators=["problem_narkotikahandel"])
    assert set(out["year"]) == {2021}


def test_missing_stratum_population_is_a_data_error(responses, strata):
    with pytest.raises(DataError, match="Område 3"):
        estimate_indicators(responses, strata[strata["stratum"] != "Område 3"])


def test_response_rates(strata):
    out = response_rates(strata)
    assert list(out.columns) == [
        "kommun",
        "year",
        "stratum",
        "sampled",
        "respondents",
        "response_rate",
    ]
    np.testing.assert_allclose(out["response_rate"], out["respondents"] / out["sampled"])
    bad = strata.assign(respondents=strata["sampled"] + 1)
    with pytest.raises(DataError, match="högst"):
        response_rates(bad)
