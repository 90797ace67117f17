"""Effect estimates for place-based commitments: difference in differences over areas.

A commitment tied to an area (foot patrols in the central town) is compared with the
kommun's other areas: how much more did the indicator change in the area, from the years
before the commitment to the commitment years, than in the rest of the kommun? The
answer is an association in time and place, not proof of cause: anything else that
happened in the area at the same time is in the estimate too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._dist import norm_ppf, norm_sf

__all__ = ["DID_COLUMNS", "did_effect", "other_areas"]

ALPHA = 0.05
DID_COLUMNS = [
    "kommun",
    "indicator",
    "area",
    "pre_from",
    "pre_to",
    "post_from",
    "post_to",
    "area_pre",
    "area_post",
    "others_pre",
    "others_post",
    "change_area",
    "change_others",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "parallel_slope",
    "parallel_p",
    "parallel_ok",
    "n_years_pre",
    "n_years_post",
]


def _population(estimates: pd.DataFrame, strata: pd.DataFrame | None, kommun: str) -> pd.DataFrame:
    if strata is not None:
        need = {"kommun", "year", "stratum", "population"}
        if not need <= set(strata.columns):
            raise ValueError(f"strata needs the columns {sorted(need)}; has {list(strata)}")
        pop = strata.loc[strata["kommun"] == kommun, ["year", "stratum", "population"]]
        return pop.rename(columns={"stratum": "group"}).drop_duplicates(["year", "group"])
    if "population" in estimates.columns:
        return estimates[["year", "group", "population"]].drop_duplicates(["year", "group"])
    raise ValueError(
        "did_effect needs the population of every area to combine the other areas: pass "
        "strata= (the strata table: kommun, year, stratum, population) or a 'population' "
        "column in estimates"
    )


def other_areas(
    estimates: pd.DataFrame,
    *,
    area: str,
    population: pd.DataFrame,
) -> pd.DataFrame:
    r"""The kommun's other areas combined, per year, weighted by population.

    Parameters
    ----------
    estimates : DataFrame
        Area estimates of one kommun and indicator: ``year, group, estimate, se``.
    area : str
        The area left out.
    population : DataFrame
        ``year, group, population`` (the stratum population :math:`N_h`).

    Returns
    -------
    DataFrame
        ``year, estimate, se, n_areas``: :math:`\hat p_O = \sum_h N_h \hat p_h / \sum_h
        N_h` over the other areas *h*, with :math:`\mathrm{se}^2 = \sum_h (N_h/\sum N)^2
        \mathrm{se}_h^2` (areas are strata, sampled independently). A year where an
        other area has no estimate (suppressed) is left out.
    """
    d = estimates[estimates["group"] != area].merge(
        population, on=["year", "group"], how="left", validate="1:1"
    )
    if d["population"].isna().any():
        row = d[d["population"].isna()].iloc[0]
        raise ValueError(f"no population for area {row['group']!r} in {int(row['year'])}")
    d["_w"] = d["population"].astype(float)
    d["_wp"] = d["_w"] * d["estimate"]
    d["_w2v"] = d["_w"] ** 2 * d["se"] ** 2
    d["_bad"] = d["estimate"].isna() | d["se"].isna()
    g = d.groupby("year", sort=True)
    tot = g["_w"].sum()
    out = pd.DataFrame(
        {
            "estimate": g["_wp"].sum(min_count=1) / tot,
            "se": np.sqrt(g["_w2v"].sum()) / tot,
            "n_areas": g.size(),
            "_bad": g["_bad"].any(),
        }
    )
    out = out[~out["_bad"]].drop(columns="_bad")
    return out.reset_index()


def _slope(t: np.ndarray, d: np.ndarray, var: np.ndarray) -> tuple[float, float]:
    """OLS slope of d on t and its SE from independent yearly variances."""
    if len(t) < 2:
        return np.nan, np.nan
    c = (t - t.mean()) / ((t - t.mean()) ** 2).sum()
    return float((c * d).sum()), float(np.sqrt((c**2 * var).sum()))


def did_effect(
    estimates: pd.DataFrame,
    *,
    indicator: str,
    area: str,
    start_year: int,
    end_year: int | None = None,
    pre_years: int = 3,
    kommun: str | None = None,
    strata: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    r"""Difference-in-differences estimate of a place-based commitment.

    Parameters
    ----------
    estimates : DataFrame
        ``survey_estimates`` rows (``kommun, year, indicator, group_var, group,
        estimate, se``); the rows with ``group_var == "stratum"`` are used.
    indicator : str
        Indicator id.
    area : str
        The commitment's area (a stratum, e.g. "Älmhults tätort").
    start_year : int
        First year of the commitment period.
    end_year : int, optional
        Last year of the period; default the latest year with an estimate.
    pre_years : int
        Number of survey years before ``start_year`` in the pre-period (default 3: the
        latest three years with an estimate before the start).
    kommun : str, optional
        Needed when ``estimates`` holds several kommuner.
    strata : DataFrame, optional
        Strata table (``kommun, year, stratum, population``) for the population weights
        of the other areas; may be left out when ``estimates`` has a ``population``
        column (the area's :math:`N_h`).
    alpha : float
        1 − confidence level of the interval, and level of the parallel-trend check.

    Returns
    -------
    DataFrame
        One row: ``kommun, indicator, area, pre_from, pre_to, post_from, post_to,
        area_pre, area_post, others_pre, others_post`` (period means), ``change_area,
        change_others`` (post mean − pre mean), ``effect`` (their difference), ``se,
        ci_low, ci_high, p_value``, ``parallel_slope`` (pre-period slope of the area
        minus that of the other areas, per year), ``parallel_p``, ``parallel_ok``
        (``parallel_p >= alpha``), ``n_years_pre, n_years_post``. Proportions stay
        fractions (0.05 = 5 percentage points).

    Raises
    ------
    ValueError
        Unknown area or indicator, no year in one of the periods, several kommuner
        without ``kommun``, or no population for the weights.

    Notes
    -----
    Per year *t*, :math:`d_t = \hat p_{A,t} - \hat p_{O,t}` with :math:`\hat p_{O,t}`
    the other areas combined by population (:func:`other_areas`: areas are strata, so
    this is the design-based estimate for the rest of the kommun, and the area and the
    rest are independent samples). With :math:`\bar d` the mean over the years of a
    period,

    .. math::

        \hat\delta = \bar d_{\mathrm{post}} - \bar d_{\mathrm{pre}}
        = (\bar p_{A,\mathrm{post}} - \bar p_{A,\mathrm{pre}})
        - (\bar p_{O,\mathrm{post}} - \bar p_{O,\mathrm{pre}}),\qquad
        \widehat{\mathrm{Var}}(\hat\delta) = \sum_{t \in \mathrm{post}}
        \frac{v_t}{T_\mathrm{post}^2} + \sum_{t \in \mathrm{pre}} \frac{v_t}{T_\mathrm{pre}^2}

    with :math:`v_t = \mathrm{se}_{A,t}^2 + \mathrm{se}_{O,t}^2`: every year is an
    independent sample. Interval and p-value are normal (each yearly estimate rests on
    hundreds of respondents). The parallel-trend check is the OLS slope of
    :math:`d_t` over the pre-period years, :math:`\hat\beta = \sum_t c_t d_t`,
    :math:`c_t = (t-\bar t)/\sum (t-\bar t)^2`, with
    :math:`\mathrm{Var} = \sum_t c_t^2 v_t` and a two-sided normal test; fewer than two
    pre-period years give NaN and ``parallel_ok = False``. A non-significant slope
    does not prove parallel trends (with three years the check has little power).
    Years where the area or another area is suppressed are left out (counted in
    ``n_years_*``). The estimate assumes the area would have followed the other areas
    without the commitment: an association in time and place, not proof of cause.
    Pass estimates of one series segment (no series break between the periods).

    Examples
    --------
    >>> e = pd.DataFrame({"kommun": "K", "indicator": "x", "group_var": "stratum",
    ...     "year": [1, 1, 2, 2, 3, 3], "group": ["A", "B"] * 3,
    ...     "estimate": [0.30, 0.20, 0.30, 0.20, 0.25, 0.21], "se": 0.01,
    ...     "population": 1000})
    >>> r = did_effect(e, indicator="x", area="A", start_year=3, pre_years=2).iloc[0]
    >>> round(float(r["effect"]), 4), round(float(r["se"]), 4)
    (-0.06, 0.0173)
    """
    e = estimates[(estimates["indicator"] == indicator) & (estimates["group_var"] == "stratum")]
    if e.empty:
        raise ValueError(f"no area estimates (group_var 'stratum') for indicator {indicator!r}")
    if kommun is None:
        kommuner = e["kommun"].unique()
        if len(kommuner) > 1:
            raise ValueError(f"estimates hold several kommuner {list(kommuner)}; pass kommun=")
        kommun = str(kommuner[0])
    e = e[e["kommun"] == kommun]
    if area not in set(e["group"]):
        raise ValueError(f"area {area!r} not among {sorted(set(e['group']))} for {kommun}")
    pop = _population(e, strata, kommun)
    cols = ["year", "group", "estimate", "se"]
    a = e.loc[e["group"] == area, ["year", "estimate", "se"]].set_index("year")
    o = other_areas(e[cols], area=area, population=pop).set_index("year")
    both = a.join(o.add_suffix("_o"), how="inner").rename(
        columns={"estimate": "estimate_a", "se": "se_a"}
    )
    both = both.dropna(subset=["estimate_a", "se_a", "estimate_o", "se_o"])
    both = both.sort_index()
    if end_year is None:
        end_year = int(e["year"].max())
    pre = both[both.index < start_year].tail(int(pre_years))
    post = both[(both.index >= start_year) & (both.index <= end_year)]
    if pre.empty or post.empty:
        raise ValueError(
            f"{indicator} in {area}: no year with estimates "
            f"{'before ' + str(start_year) if pre.empty else f'in {start_year}–{end_year}'}"
        )

    def mean_var(p: pd.DataFrame) -> tuple[float, float, float, float, float]:
        d = p["estimate_a"] - p["estimate_o"]
        v = p["se_a"] ** 2 + p["se_o"] ** 2
        t = len(p)
        return (
            float(p["estimate_a"].mean()),
            float(p["estimate_o"].mean()),
            float(d.mean()),
            float(v.sum() / t**2),
            t,
        )

    a_pre, o_pre, d_pre, v_pre, t_pre = mean_var(pre)
    a_post, o_post, d_post, v_post, t_post = mean_var(post)
    effect = d_post - d_pre
    se = float(np.sqrt(v_pre + v_post))
    zq = norm_ppf(1 - alpha / 2)
    p_value = float(2 * norm_sf(abs(effect) / se)) if se > 0 else np.nan
    slope, slope_se = _slope(
        pre.index.to_numpy(dtype=float),
        (pre["estimate_a"] - pre["estimate_o"]).to_numpy(),
        (pre["se_a"] ** 2 + pre["se_o"] ** 2).to_numpy(),
    )
    parallel_p = float(2 * norm_sf(abs(slope) / slope_se)) if slope_se > 0 else np.nan
    return pd.DataFrame(
        [
            {
                "kommun": kommun,
                "indicator": indicator,
                "area": area,
                "pre_from": int(pre.index.min()),
                "pre_to": int(pre.index.max()),
                "post_from": int(post.index.min()),
                "post_to": int(post.index.max()),
                "area_pre": a_pre,
                "area_post": a_post,
                "others_pre": o_pre,
                "others_post": o_post,
                "change_area": a_post - a_pre,
                "change_others": o_post - o_pre,
                "effect": effect,
                "se": se,
                "ci_low": effect - zq * se,
                "ci_high": effect + zq * se,
                "p_value": p_value,
                "parallel_slope": slope,
                "parallel_p": parallel_p,
                "parallel_ok": bool(parallel_p >= alpha) if not np.isnan(parallel_p) else False,
                "n_years_pre": int(t_pre),
                "n_years_post": int(t_post),
            }
        ],
        columns=DID_COLUMNS,
    )
