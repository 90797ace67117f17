"""Secondary suppression: a lone hidden group must not be computable from the total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygghet_analys.stats.disclosure import suppress_complements


def _estimates(groups, n, suppressed, group_var="stratum"):
    k = len(groups)
    total = {
        "kommun": "K", "year": 2025, "indicator": "x", "group_var": "total",
        "group": "Hela kommunen", "estimate": 0.25, "se": 0.02, "ci_low": 0.21,
        "ci_high": 0.29, "n": sum(n), "suppressed": False,
    }  # fmt: skip
    rows = pd.DataFrame(
        {
            "kommun": "K", "year": 2025, "indicator": "x", "group_var": group_var,
            "group": groups, "estimate": np.where(suppressed, np.nan, np.linspace(0.1, 0.4, k)),
            "se": 0.03, "ci_low": 0.05, "ci_high": 0.5, "n": n, "suppressed": suppressed,
        }
    )  # fmt: skip
    return pd.concat([pd.DataFrame([total]), rows], ignore_index=True)


def test_lone_suppressed_area_gets_a_companion_with_the_fewest_respondents():
    est = _estimates(["A", "B", "C"], [12, 95, 80], [True, False, False])
    out = suppress_complements(est)
    hidden = out[out["suppressed"]]["group"].tolist()
    assert hidden == ["A", "C"]  # C has fewer respondents than B
    assert (
        out.loc[out["group"] == "C", ["estimate", "se", "ci_low", "ci_high"]]
        .isna()
        .to_numpy()
        .all()
    )
    assert out.loc[out["group"] == "C", "n"].item() == 80  # n stays: it is not disclosive


@pytest.mark.parametrize(
    ("suppressed", "expected"),
    [
        ([False, False, False], 0),  # nothing hidden: nothing to protect
        ([True, True, False], 2),  # two hidden already: one equation, two unknowns
        ([True, True, True], 3),
    ],
)
def test_other_patterns_are_left_alone(suppressed, expected):
    out = suppress_complements(_estimates(["A", "B", "C"], [12, 13, 80], suppressed))
    assert out["suppressed"].sum() == expected


def test_two_group_breakdown_hides_both():
    out = suppress_complements(_estimates(["Kvinna", "Man"], [25, 300], [True, False], "sex"))
    assert out[out["group_var"] == "sex"]["suppressed"].all()
    assert not out[out["group_var"] == "total"]["suppressed"].any()


def test_input_is_not_modified():
    est = _estimates(["A", "B", "C"], [12, 95, 80], [True, False, False])
    before = est.copy()
    suppress_complements(est)
    pd.testing.assert_frame_equal(est, before)
