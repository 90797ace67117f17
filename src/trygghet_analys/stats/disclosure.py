"""Disclosure control beyond ``min_n``: secondary suppression of complementary groups.

Primary suppression (in :func:`trygghet_analys.estimation.estimate_indicators`) hides every
estimate from fewer than ``min_n`` respondents. That is not enough on its own: the total is
a weighted mean of the groups of any one breakdown (areas, sexes, age groups), so when
exactly one group of a breakdown is hidden, it can be computed back from the published total
and the other groups. Secondary suppression hides one more group there: the one with the
fewest respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["suppress_complements"]

_KEYS = ["kommun", "year", "indicator", "group_var"]
_HIDDEN = ["estimate", "se", "ci_low", "ci_high"]


def suppress_complements(estimates: pd.DataFrame) -> pd.DataFrame:
    """Hide a second group wherever exactly one group of a breakdown is suppressed.

    Parameters
    ----------
    estimates
        The estimates table (``kommun, year, indicator, group_var, group, estimate, se,
        ci_low, ci_high, n, suppressed``) after primary suppression.

    Returns
    -------
    DataFrame
        A copy in which, for every kommun × year × indicator × breakdown (``group_var``
        other than ``total``) with exactly one suppressed group, the shown group with the
        smallest ``n`` (ties: the first group name) is suppressed too: ``suppressed`` True,
        estimate, SE and CI missing, ``n`` kept.

    Notes
    -----
    For areas the total is p = Σ_h w_h p_h / Σ_h w_h with public weights, so one hidden
    area is exactly recoverable; for domains (sex, age group) it is recoverable up to the
    published counts. Two hidden groups leave one equation with two unknowns.

    Examples
    --------
    >>> est = pd.DataFrame({
    ...     "kommun": "K", "year": 2025, "indicator": "x", "group_var": "stratum",
    ...     "group": ["A", "B", "C"], "estimate": [np.nan, 0.2, 0.3], "se": 0.01,
    ...     "ci_low": 0.1, "ci_high": 0.4, "n": [12, 80, 95],
    ...     "suppressed": [True, False, False]})
    >>> suppress_complements(est)["suppressed"].tolist()
    [True, True, False]
    """
    out = estimates.copy()
    breakdown = out[out["group_var"] != "total"]
    hidden = breakdown.groupby(_KEYS, sort=False)["suppressed"].transform("sum")
    candidates = breakdown[(hidden == 1) & ~breakdown["suppressed"].astype(bool)]
    if candidates.empty:
        return out
    pick = candidates.sort_values([*_KEYS, "n", "group"]).groupby(_KEYS, sort=False).head(1)
    out.loc[pick.index, "suppressed"] = True
    out.loc[pick.index, _HIDDEN] = np.nan
    return out
