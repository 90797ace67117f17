"""Design-based estimation for a stratified simple random sample, identical to R's survey.

The survey design is the police's trygghetsmätning: a stratified simple random sample
without replacement (strata = områden), design weights ``N_h / r_h`` and a finite
population correction from the stratum population ``N_h``. The reference is R::

    des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~population, data = d)
    svymean(~y, des, na.rm = TRUE)                       # estimate and SE
    svyby(~y, ~g, des, svymean, na.rm = TRUE)            # domains
    svyciprop(~y, des, method = "logit", df = degf(des)) # proportion CI
    confint(svymean(~y, des, na.rm = TRUE), df = degf(des))  # mean CI

All arithmetic is vectorised with ``np.bincount`` over integer codes, so the same core
serves one kommun (:func:`design_estimate`) and a whole police region stacked in one table
(``indicators.estimate_indicators``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError

__all__ = ["design_estimate", "LONELY_PSU_OPTIONS"]

LONELY_PSU_OPTIONS = ("fail", "remove", "certainty")
#: R skips a stratum whose sampling fraction is (numerically) one: a census stratum.
_CENSUS_TOL = 1e-7


def _logit_ci(est: np.ndarray, se: np.ndarray, tq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit interval of ``svyciprop(method="logit")`` with t quantile ``tq``.

    For 0 < p < 1: expit(logit(p) ± t·se/(p(1−p))). At p = 0 or p = 1 the interval
    collapses onto p (R's glm then returns 1e-11-ish bounds; we return p exactly).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (est > 0) & (est < 1)
        p = np.where(inner, est, 0.5)
        half = tq * se / (p * (1 - p))
        eta = np.log(p / (1 - p))
        lo = np.where(inner, 1 / (1 + np.exp(-(eta - half))), est)
        hi = np.where(inner, 1 / (1 + np.exp(-(eta + half))), est)
    return lo, hi


def _estimate_core(
    y: np.ndarray,
    w: np.ndarray,
    stratum_code: np.ndarray,
    stratum_n: np.ndarray,
    stratum_pop: np.ndarray,
    group_code: np.ndarray,
    n_groups: int,
    group_df: np.ndarray,
    *,
    kind: str,
    lonely_psu: str = "fail",
    stratum_labels: Sequence[object] | None = None,
) -> dict[str, np.ndarray]:
    """Estimate, SE, 95% CI and n for every group; arrays indexed by group code.

    ``stratum_code`` indexes ``stratum_n`` (rows of the design in the stratum, whatever
    their value) and ``stratum_pop`` (N_h, ``inf`` for no fpc). ``group_code`` is −1 for
    rows in no group. ``group_df`` is the full design's degrees of freedom per group.
    """
    valid = ~np.isnan(y) & (group_code >= 0)
    g = group_code[valid]
    yv = y[valid]
    wv = w[valid]
    s = stratum_code[valid]

    n = np.bincount(g, minlength=n_groups)
    sw = np.bincount(g, weights=wv, minlength=n_groups)
    swy = np.bincount(g, weights=wv * yv, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(n > 0, swy / sw, np.nan)
        # influence values of the ratio estimator (Woodruff linearisation)
        u = wv * (yv - est[g]) / sw[g]

    n_strata = len(stratum_n)
    cell_key = g.astype(np.int64) * n_strata + s
    cell, cell_key_u = pd.factorize(cell_key, sort=False)
    cell_key_u = np.asarray(cell_key_u, dtype=np.int64)
    cell_g = cell_key_u // n_strata
    cell_s = cell_key_u % n_strata
    n_cells = len(cell_key_u)
    m = np.bincount(cell, minlength=n_cells)
    su = np.bincount(cell, weights=u, minlength=n_cells)
    nh = stratum_n[cell_s].astype(float)
    ubar = su / nh
    # sum over all n_h units of the stratum (zeros outside the domain) of (u - ubar)^2,
    # in the numerically stable two-pass form
    ss = np.bincount(cell, weights=(u - ubar[cell]) ** 2, minlength=n_cells) + (nh - m) * ubar**2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isinf(stratum_pop[cell_s]), 1.0, 1.0 - nh / stratum_pop[cell_s])
        scale = np.where(nh > 1, f * nh / (nh - 1), f)
    contrib = np.where(f < _CENSUS_TOL, 0.0, scale * ss)
    lonely = (nh == 1) & (f >= _CENSUS_TOL)
    if lonely.any():
        if lonely_psu == "fail":
            first = int(cell_s[np.flatnonzero(lonely)[0]])
            label = stratum_labels[first] if stratum_labels is not None else first
            raise DataError(
                "minst två svarande i varje stratum (ett stratum med en enda svarande "
                "ger ingen variansskattning; välj lonely_psu='remove' eller 'certainty')",
                column="stratum",
                value=label,
            )
        # R's "remove" and "certainty" both give a one-PSU stratum zero variance
        # in a one-stage design
        contrib = np.where(lonely, 0.0, contrib)
    var = np.bincount(cell_g, weights=contrib, minlength=n_groups)
    se = np.where(n > 0, np.sqrt(var), np.nan)

    with np.errstate(invalid="ignore"):
        tq = np.where(group_df > 0, stats.t.ppf(0.975, np.maximum(group_df, 1)), np.nan)
    if kind == "proportion":
        lo, hi = _logit_ci(est, se, tq)
    else:
        lo, hi = est - tq * se, est + tq * se
    return {"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "n": n}


def _check_columns(data: pd.DataFrame, names: dict[str, str | None]) -> None:
    for arg, col in names.items():
        if col is not None and col not in data.columns:
            raise ValueError(
                f"{arg}={col!r} is not a column of data; columns are {list(data.columns)}"
            )


def _stratum_arrays(
    data: pd.DataFrame, stratum: str, weight: str, population: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[object]]:
    """Codes, n_h, N_h and checked weights of a single design."""
    strat = data[stratum]
    if strat.isna().any():
        row = int(np.flatnonzero(strat.isna().to_numpy())[0])
        raise DataError("ett stratum (område) på varje rad", row=row + 2, column=stratum)
    codes, labels = pd.factorize(strat, sort=True)
    n_h = np.bincount(codes, minlength=len(labels))
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            "en positiv vikt (N_h / r_h)", row=i + 2, column=weight, value=data[weight].iloc[i]
        )
    if population is None:
        pop = np.full(len(labels), np.inf)
    else:
        pop_rows = pd.to_numeric(data[population], errors="coerce").to_numpy(dtype=float)
        pop = np.full(len(labels), np.nan)
        pop[codes] = pop_rows
        # one population per stratum: all rows must agree
        disagree = pop_rows != pop[codes]
        if disagree.any() or np.isnan(pop).any():
            i = int(np.flatnonzero(disagree | np.isnan(pop_rows))[0])
            raise DataError(
                "samma positiva populationsstorlek N_h på alla rader i stratumet",
                row=i + 2,
                column=population,
                value=data[population].iloc[i],
            )
        small = pop < n_h
        if small.any():
            j = int(np.flatnonzero(small)[0])
            raise DataError(
                f"en population N_h minst lika stor som antalet svarande ({n_h[j]}) "
                f"i stratum '{labels[j]}'",
                column=population,
                value=pop[j],
            )
    return codes, n_h, pop, w, list(labels)


def design_estimate(
    data: pd.DataFrame,
    *,
    value: str,
    stratum: str,
    weight: str,
    population: str | None = None,
    by: str | Sequence[str] | None = None,
    kind: Literal["proportion", "mean"] = "proportion",
    lonely_psu: Literal["fail", "remove", "certainty"] = "fail",
) -> pd.DataFrame:
    """Design-based estimate of a proportion or mean, overall or by domain.

    Parameters
    ----------
    data : DataFrame
        One row per respondent of one design (one kommun and year). Every row belongs to
        the design, also rows where ``value`` is missing.
    value : str
        Column to estimate: 0/1 (or NaN) for ``kind="proportion"``, numeric for
        ``kind="mean"``. Missing values form a domain of their own: they are excluded from
        numerator and denominator but stay in the design (R's ``na.rm=TRUE``).
    stratum, weight : str
        Stratum column and design weight column (``N_h / r_h``).
    population : str, optional
        Column with the stratum population ``N_h`` (finite population correction).
        Without it, no fpc (sampling with replacement).
    by : str or list of str, optional
        Domain columns. ``None`` estimates for the whole population. Rows with a missing
        ``by`` value belong to no domain.
    kind : {"proportion", "mean"}
        Decides the confidence interval: logit for proportions, symmetric t for means.
    lonely_psu : {"fail", "remove", "certainty"}
        What to do with a stratum holding a single respondent (and a sampling fraction
        below one). ``"fail"`` (R's default ``options(survey.lonely.psu)``) raises
        :class:`DataError`; ``"remove"`` and ``"certainty"`` give that stratum zero
        variance contribution, as R does for a one-stage design. A census stratum
        (``n_h = N_h``) always contributes zero and is never an error.

    Returns
    -------
    DataFrame
        One row per observed group of ``by`` (sorted), with columns: the ``by`` columns,
        ``estimate`` (proportion 0–1 or mean), ``se`` (standard error), ``ci_low``,
        ``ci_high`` (95% interval), ``n`` (respondents with a non-missing ``value`` in the
        group). A group with ``n = 0`` has NaN estimate, se and interval. Never suppresses.

    Raises
    ------
    ValueError
        A named column does not exist, or ``kind``/``lonely_psu`` is unknown.
    DataError
        Missing stratum, non-positive weight, population below the stratum's sample size,
        a proportion value other than 0/1, or a lonely stratum with ``lonely_psu="fail"``.

    Notes
    -----
    With domain indicator :math:`d_i` (in group and value present), the estimate is the
    ratio :math:`\\hat p = \\sum w_i d_i y_i / \\sum w_i d_i`. Its linearised variance uses
    the influence values :math:`u_i = w_i d_i (y_i - \\hat p) / \\sum w_i d_i`:

    .. math::

        \\hat V = \\sum_h (1 - n_h/N_h) \\frac{n_h}{n_h - 1} \\sum_{i \\in h} (u_i - \\bar u_h)^2

    where the inner sum runs over all :math:`n_h` respondents of stratum *h* (zeros outside
    the domain). The 95% interval uses the t quantile with the full design's degrees of
    freedom :math:`df = n - H` (all rows, all strata), also for domains. Proportions:
    :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t_{0.975,df}\\,
    \\mathrm{se}/(\\hat p(1-\\hat p)))`, equal to ``svyciprop(method="logit", df=degf(des))``;
    at :math:`\\hat p \\in \\{0, 1\\}` the interval is :math:`[\\hat p, \\hat p]`.
    Means: :math:`\\hat\\mu \\pm t_{0.975,df}\\,\\mathrm{se}`, equal to
    ``confint(svymean(...), df=degf(des))``. Reference: Lumley (2010), *Complex Surveys*,
    ch. 2; R package survey 4.1.

    Examples
    --------
    >>> d = pd.DataFrame({"h": ["a"] * 3 + ["b"] * 3, "w": [10.0] * 3 + [20.0] * 3,
    ...                   "N": [30] * 3 + [60] * 3, "y": [1, 0, 1, 0, 0, 1]})
    >>> r = design_estimate(d, value="y", stratum="h", weight="w", population="N")
    >>> round(float(r["estimate"].iloc[0]), 4)
    0.4444
    """
    if kind not in ("proportion", "mean"):
        raise ValueError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    if lonely_psu not in LONELY_PSU_OPTIONS:
        raise ValueError(f"lonely_psu must be one of {LONELY_PSU_OPTIONS}, got {lonely_psu!r}")
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    _check_columns(
        data,
        {"value": value, "stratum": stratum, "weight": weight, "population": population}
        | {f"by[{i}]": c for i, c in enumerate(by_cols)},
    )
    codes, n_h, pop, w, labels = _stratum_arrays(data, stratum, weight, population)
    y = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=float)
    wrong = data[value].notna().to_numpy() & np.isnan(y)
    if kind == "proportion":
        wrong |= ~np.isnan(y) & (y != 0) & (y != 1)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        expected = "0 eller 1 (eller tomt)" if kind == "proportion" else "ett tal (eller tomt)"
        raise DataError(expected, row=i + 2, column=value, value=data[value].iloc[i])

    df = len(data) - len(n_h)
    if by_cols:
        keys = data[by_cols]
        gcode, groups = _group_codes(keys)
    else:
        gcode = np.zeros(len(data), dtype=np.int64)
        groups = pd.DataFrame(index=range(1))
    n_groups = len(groups)
    res = _estimate_core(
        y,
        w,
        codes,
        n_h,
        pop,
        gcode,
        n_groups,
        np.full(n_groups, df),
        kind=kind,
        lonely_psu=lonely_psu,
        stratum_labels=labels,
    )
    out = groups.reset_index(drop=True).copy()
    for col in ("estimate", "se", "ci_low", "ci_high"):
        out[col] = res[col]
    out["n"] = res["n"].astype("int64")
    return out


def _group_codes(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group codes (−1 for rows with a missing key) and the sorted observed groups."""
    ok = keys.notna().all(axis=1).to_numpy()
    sub = keys[ok]
    codes = np.full(len(keys), -1, dtype=np.int64)
    if keys.shape[1] == 1:
        col = keys.columns[0]
        c, uniques = pd.factorize(sub[col], sort=True)
        groups = pd.DataFrame({col: np.asarray(uniques, dtype=object)})
    else:
        c, uniques = pd.factorize(pd.MultiIndex.from_frame(sub), sort=True)
        groups = uniques.to_frame(index=False)
        groups.columns = list(keys.columns)
    codes[ok] = c
    for col in keys.columns:
        dtype = keys[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            groups[col] = pd.Categorical(groups[col], dtype=dtype)
        else:
            groups[col] = groups[col].astype(dtype)
    return codes, groups
