"""Disclosure control beyond ``min_n``: secondary suppression of complementary groups.

Primary suppression (in :func:`trygghet_analys.estimation.estimate_indicators`) hides every
estimate from fewer than ``min_n`` respondents. That is not enough on its own: the total is
a weighted mean of the groups of any one breakdown (areas, sexes, age groups), so when
exactly one group of a breakdown is hidden, it can be computed back from the published total
and the other groups. Secondary suppression hides one more group there: the one with the
fewest respondents.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_MIN_N", "suppress_complements", "suppress_small"]

#: Default disclosure threshold: estimates from fewer respondents are not shown.
DEFAULT_MIN_N = 30

_KEYS = ["kommun", "year", "indicator", "group_var"]
_HIDDEN = ["estimate", "se", "ci_low", "ci_high"]


def suppress_small(estimates: pd.DataFrame, min_n: int | Mapping[str, int]) -> pd.DataFrame:
    """Primary suppression: mark and hide every estimate from fewer than ``min_n`` respondents.

    Parameters
    ----------
    estimates
        Estimates with ``kommun``, ``n``, ``estimate``, ``se``, ``ci_low``, ``ci_high``.
    min_n
        The threshold, or kommun → threshold (kommuner missing from the mapping get
        :data:`DEFAULT_MIN_N`).

    Returns
    -------
    DataFrame
        ``estimates`` with a bool column ``suppressed`` (``n < min_n``) and NaN estimate,
        se and interval on suppressed rows (``n`` is kept).

    Examples
    --------
    >>> e = pd.DataFrame({"kommun": ["A", "A"], "n": [29, 30], "estimate": [0.5, 0.4],
    ...                   "se": 0.1, "ci_low": 0.2, "ci_high": 0.6})
    >>> suppress_small(e, 30)[["n", "estimate", "suppressed"]].to_dict("list")
    {'n': [29, 30], 'estimate': [nan, 0.4], 'suppressed': [True, False]}
    """
    out = estimates.copy()
    if isinstance(min_n, Mapping):
        thresholds = out["kommun"].map(lambda k: min_n.get(k, DEFAULT_MIN_N)).to_numpy()
    else:
        if not isinstance(min_n, (int, np.integer)) or min_n < 0:
            raise ValueError(f"min_n must be a non-negative int or a mapping, got {min_n!r}")
        thresholds = np.full(len(out), int(min_n))
    out["suppressed"] = out["n"].to_numpy() < thresholds
    out.loc[out["suppressed"], _HIDDEN] = np.nan
    return out


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
