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

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._docstrings import shared_doc
from ..errors import DataError
from ..vocabulary import standard_text
from ._dist import beta_ppf, t_ppf
from .disclosure import DEFAULT_MIN_N, suppress_small

__all__ = [
    "CROSS_SEP",
    "ESTIMATE_COLUMNS",
    "GROUP_SEP",
    "LONELY_PSU_OPTIONS",
    "TOTAL_GROUP",
    "collapse_lonely_strata",
    "design_estimate",
    "post_stratify",
    "rake",
    "estimate_indicators",
    "group_var_name",
    "korn_graubard_ci",
    "response_rates",
]
CI_METHODS = ("logit", "korn-graubard")

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


def korn_graubard_ci(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    *,
    n: np.ndarray | float,
    rows: np.ndarray | float | None = None,
    df: np.ndarray | float | None = None,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Korn–Graubard interval: Clopper–Pearson with the effective sample size.

    Parameters
    ----------
    estimate, se : array_like
        Estimated proportions (0–1) and their design-based standard errors.
    n : array_like
        Respondents with an answer behind each estimate (used only when the estimate
        is 0 or 1, see Notes).
    rows, df : array_like, optional
        Rows of the design (or domain) behind the estimate, also those with a missing
        answer, and its degrees of freedom (rows − strata). Together they give R's
        degrees-of-freedom adjustment; without them no adjustment is made.
    level : float
        Confidence level.

    Returns
    -------
    ci_low, ci_high : ndarray
        Interval limits. NaN where the SE or the degrees of freedom are missing.

    Notes
    -----
    As R's ``svyciprop(~y, design, method = "beta")`` (survey 4.1.1):
    :math:`n^* = \hat p(1-\hat p)/\widehat{\mathrm{Var}}(\hat p) \cdot
    (t_{\alpha/2,\,\mathrm{rows}-1} / t_{\alpha/2,\,df})^2`, then
    :math:`[B^{-1}_{\alpha/2}(n^*\hat p,\; n^*(1-\hat p)+1),\;
    B^{-1}_{1-\alpha/2}(n^*\hat p+1,\; n^*(1-\hat p))]` with :math:`B^{-1}` the beta
    quantile (Korn & Graubard 1998). At :math:`\hat p \in \{0, 1\}` the effective size is
    undefined (0/0; R returns NaN or a point); here, as in the NCHS standards (Parker et
    al. 2017), the actual ``n`` is used: :math:`[0,\; B^{-1}_{1-\alpha/2}(1, n)]` for 0 and
    :math:`[B^{-1}_{\alpha/2}(n, 1),\; 1]` for 1 (Clopper–Pearson with no or all events).
    A zero SE at 0 < p < 1 (a census) gives the point :math:`[\hat p, \hat p]`.

    Examples
    --------
    >>> lo, hi = korn_graubard_ci(0.3, 0.05, n=100)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2048, 0.4098)
    """
    p, s, nn = np.broadcast_arrays(
        np.asarray(estimate, dtype=float), np.asarray(se, dtype=float), np.asarray(n, dtype=float)
    )
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / s**2
        if rows is not None and df is not None:
            r = np.broadcast_to(np.asarray(rows, dtype=float), p.shape)
            d = np.broadcast_to(np.asarray(df, dtype=float), p.shape)
            ok = (r > 1) & (d > 0)
            adj = np.where(
                ok,
                t_ppf(alpha / 2, np.where(ok, r - 1, 1)) / t_ppf(alpha / 2, np.where(ok, d, 1)),
                np.nan,
            )
            n_eff = n_eff * adj**2
        edge = (p == 0) | (p == 1)
        n_eff = np.where(edge, nn, n_eff)
        x = n_eff * p
        lo = beta_ppf(alpha / 2, x, n_eff - x + 1)
        hi = beta_ppf(1 - alpha / 2, x + 1, n_eff - x)
        lo = np.where(p == 0, 0.0, lo)
        hi = np.where(p == 1, 1.0, hi)
        census = ~edge & (s == 0) & np.isfinite(p)
        lo = np.where(census, p, lo)
        hi = np.where(census, p, hi)
        if rows is not None and df is not None:
            lo = np.where(np.isnan(adj) & ~edge, np.nan, lo)
            hi = np.where(np.isnan(adj) & ~edge, np.nan, hi)
    return lo, hi


def _cells(
    group_code: np.ndarray, stratum_code: np.ndarray, n_strata: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group × stratum cell per row (−1 outside every group), and each cell's group, stratum."""
    ok = group_code >= 0
    key = group_code[ok].astype(np.int64) * n_strata + stratum_code[ok]
    code, uniq = pd.factorize(key, sort=False)
    uniq = np.asarray(uniq, dtype=np.int64)
    cell_code = np.full(len(group_code), -1, dtype=np.int64)
    cell_code[ok] = code
    return cell_code, uniq // n_strata, uniq % n_strata


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
    cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Estimate, SE, 95% CI and n for every group; arrays indexed by group code.

    ``stratum_code`` indexes ``stratum_n`` (rows of the design in the stratum, whatever
    their value) and ``stratum_pop`` (N_h, ``inf`` for no fpc). ``group_code`` is −1 for
    rows in no group. ``group_df`` is the full design's degrees of freedom per group.
    ``cells`` (from :func:`_cells`) may be passed when many values share the groups.
    """
    valid = ~np.isnan(y) & (group_code >= 0)
    g = group_code[valid]
    yv = y[valid]
    wv = w[valid]

    n = np.bincount(g, minlength=n_groups)
    sw = np.bincount(g, weights=wv, minlength=n_groups)
    swy = np.bincount(g, weights=wv * yv, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(n > 0, swy / sw, np.nan)
        # influence values of the ratio estimator (Woodruff linearisation)
        u = wv * (yv - est[g]) / sw[g]

    if cells is None:
        cells = _cells(group_code, stratum_code, len(stratum_n))
    cell_code, cell_g, cell_s = cells
    cell = cell_code[valid]
    n_cells = len(cell_g)
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
        tq = np.where(group_df > 0, t_ppf(0.975, np.maximum(group_df, 1)), np.nan)
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
    post_stratum: str | None = None,
    post_totals: Mapping[object, float] | pd.Series | None = None,
    rake_margins: Mapping[str, Mapping[object, float]] | None = None,
    ci: Literal["logit", "korn-graubard"] = "logit",
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
    post_stratum : str, optional
        Column with a post-stratum cell (e.g. sex × age group combined in one column).
        With ``post_totals`` (cell → population count), the weights are post-stratified
        as R's ``postStratify`` and the SE accounts for it (see Notes).
    post_totals : mapping or Series, optional
        Population count per post-stratum cell; required with ``post_stratum``.
    rake_margins : mapping, optional
        Column → (cell → population count) for raking to several margins (e.g. sex and
        age group), as R's ``rake(des, list(~sex, ~age_group), list(...))`` with its
        defaults (at most 10 rounds, stop when no cell total moves by 1 or more). Not
        together with ``post_stratum``.
    ci : {"logit", "korn-graubard"}
        Interval for proportions. ``"logit"`` (default) as described in Notes;
        ``"korn-graubard"`` is Clopper–Pearson with the effective sample size, equal to
        R's ``svyciprop(~y, des, method = "beta")`` for the whole population and
        ``svyby(~y, ~g, des, svyciprop, method = "beta")`` for domains (see
        :func:`korn_graubard_ci`; for a domain R uses the domain's own rows and
        degrees of freedom). Only for ``kind="proportion"`` without calibration.

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

    Post-stratification (``postStratify(des, ~ps, totals)`` in R): weights become
    :math:`w_i^* = w_i N_c / \\sum_{j \\in c} w_j` for post-stratum *c*; the estimate uses
    :math:`w^*`, and before the stratified variance formula the influence values are
    residualised within post-strata over all rows,
    :math:`x_i = u_i - w_i \\sum_{j \\in c} u_j / \\sum_{j \\in c} w_j` (the rows outside
    the domain have :math:`u_j = 0` but are still residualised). Raking repeats
    post-stratification over the margins; the variance residualises ten rounds over the
    margins of the last raking round, :math:`x_i \\leftarrow x_i - w^{(m)}_i\\,
    \\overline{x/w^{(m)}}_{c(i)}` (unweighted cell mean), as R's ``svyrecvar``.

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
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, got {ci!r}")
    if ci == "korn-graubard" and kind != "proportion":
        raise ValueError("ci='korn-graubard' is an interval for proportions; use kind='proportion'")
    if ci == "korn-graubard" and (post_stratum is not None or rake_margins is not None):
        raise ValueError(
            "ci='korn-graubard' is not implemented for calibrated designs "
            "(post_stratum, rake_margins)"
        )
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
    if post_stratum is not None and rake_margins is not None:
        raise ValueError("give post_stratum or rake_margins, not both")
    if rake_margins is not None:
        w_new, steps = _rake_steps(data, w, rake_margins)

        def residualise_rake(u: np.ndarray) -> np.ndarray:
            x = u.copy()
            for _ in range(10):  # R: for (iterations in 1:10) over the margins
                for code, psw in steps:
                    k = int(code.max()) + 1
                    count = np.bincount(code, minlength=k)
                    cell_sum = np.stack(
                        [np.bincount(code, weights=row / psw, minlength=k) for row in x]
                    )
                    x = x - psw[None, :] * (cell_sum / count)[:, code]
            return x

        calibrated = residualise_rake
    elif post_stratum is not None:
        _check_columns(data, {"post_stratum": post_stratum})
        if post_totals is None:
            raise ValueError("post_totals is required with post_stratum")
        ps_code, w_new = _post_stratify_codes(data, w, post_stratum, post_totals)

        def residualise(u: np.ndarray) -> np.ndarray:
            # R: x - rowsum(x * oldw/psw, ps)/sum(oldw) * psw, over all rows of the cell
            n_ps = int(ps_code.max()) + 1
            a = np.stack([np.bincount(ps_code, weights=row, minlength=n_ps) for row in u])
            b = np.bincount(ps_code, weights=w, minlength=n_ps)
            return u - w[None, :] * (a / b)[:, ps_code]

        calibrated = residualise
    else:
        calibrated = None
    if calibrated is not None:
        res = _poststrat_core(
            y,
            w_new,
            calibrated,
            codes,
            n_h,
            pop,
            gcode,
            n_groups,
            df,
            kind=kind,
            lonely_psu=lonely_psu,
            stratum_labels=labels,
        )
    else:
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
    if ci == "korn-graubard":
        # R evaluates svyciprop on the domain's subset: its rows (also those with a
        # missing answer) and degf = rows - strata present in the domain
        rows_g = np.bincount(gcode[gcode >= 0], minlength=n_groups)
        _, cell_g, _ = _cells(gcode, codes, len(n_h))
        df_g = rows_g - np.bincount(cell_g, minlength=n_groups)
        res["ci_low"], res["ci_high"] = korn_graubard_ci(
            res["estimate"], res["se"], n=res["n"], rows=rows_g, df=df_g
        )
    out = groups.reset_index(drop=True).copy()
    for col in ("estimate", "se", "ci_low", "ci_high"):
        out[col] = res[col]
    out["n"] = res["n"].astype("int64")
    return out


def _post_stratify_codes(
    data: pd.DataFrame,
    w: np.ndarray,
    post_stratum: str,
    post_totals: Mapping[object, float] | pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Post-stratum codes and post-stratified weights ``w N_c / sum_c w`` (R's postStratify)."""
    totals = pd.Series(post_totals, dtype=float)
    cell = data[post_stratum]
    if cell.isna().any():
        i = int(np.flatnonzero(cell.isna().to_numpy())[0])
        raise DataError("en poststratumcell på varje rad", row=i + 2, column=post_stratum)
    code, uniq = pd.factorize(cell, sort=True)
    unknown = [u for u in uniq if u not in totals.index]
    if unknown:
        raise DataError(
            "en cell som finns i populationstalen (" + ", ".join(map(str, totals.index)) + ")",
            column=post_stratum,
            value=unknown[0],
        )
    absent = [c for c in totals.index if c not in set(uniq) and totals[c] > 0]
    if absent:
        raise DataError(
            "minst en svarande i varje poststratumcell med befolkning",
            column=post_stratum,
            value=absent[0],
        )
    sums = np.bincount(code, weights=w, minlength=len(uniq))
    n_c = totals.reindex(list(uniq)).to_numpy(dtype=float)
    return np.asarray(code, dtype=np.int64), w * (n_c / sums)[code]


#: Parameter text shared by the weighting functions (see :mod:`trygghet_analys._docstrings`).
_shared_doc = shared_doc(
    {
        "data_weight": "data : DataFrame\n    One design's respondents.\nweight : str\n    Design weight column.",
        "new_weights": "Returns\n-------\nSeries\n    New weights, indexed like ``data``.",
    }
)


@_shared_doc
def post_stratify(
    data: pd.DataFrame,
    *,
    weight: str,
    post_stratum: str,
    post_totals: Mapping[object, float] | pd.Series,
) -> pd.Series:
    r"""Post-stratified weights, as R's ``weights(postStratify(des, ~ps, totals))``.

    Parameters
    ----------
    %(data_weight)s
    post_stratum : str
        Column with the post-stratum cell.
    post_totals : mapping or Series
        Population count per cell.

    %(new_weights)s

    Notes
    -----
    :math:`w_i^* = w_i N_c / \sum_{j \in c} w_j`: within each cell the weights now add up
    to the cell's population count.
    """
    _check_columns(data, {"weight": weight, "post_stratum": post_stratum})
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    _, w_new = _post_stratify_codes(data, w, post_stratum, post_totals)
    return pd.Series(w_new, index=data.index, name=weight)


def _rake_steps(
    data: pd.DataFrame,
    w: np.ndarray,
    margins: Mapping[str, Mapping[object, float]],
    *,
    maxit: int = 10,
    epsilon: float = 1.0,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """R's ``rake``: final weights and, per margin of the last round, (codes, weights)."""
    if not margins:
        raise ValueError("rake_margins must name at least one margin")
    _check_columns(data, {f"rake_margins[{c!r}]": c for c in margins})
    coded = []
    for col, totals in margins.items():
        code, _ = _post_stratify_codes(data, w, col, totals)
        n_c = pd.Series(totals, dtype=float).reindex(list(pd.factorize(data[col], sort=True)[1]))
        coded.append((code, n_c.to_numpy(dtype=float)))
    combo = np.zeros(len(w), dtype=np.int64)
    for code, n_c in coded:
        combo = combo * len(n_c) + code
    combo = pd.factorize(combo)[0]
    tol = epsilon * w.sum() if epsilon < 1 else epsilon
    old = np.bincount(combo, weights=w)
    cur = w
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(maxit):
        steps = []
        for code, n_c in coded:
            cur = cur * (n_c / np.bincount(code, weights=cur, minlength=len(n_c)))[code]
            steps.append((code, cur))
        new = np.bincount(combo, weights=cur)
        if np.max(np.abs(old - new)) < tol:
            break
        old = new
    else:
        warnings.warn(
            f"Rakningen konvergerade inte efter {maxit} varv", RuntimeWarning, stacklevel=3
        )
    return cur, steps


@_shared_doc
def rake(
    data: pd.DataFrame,
    *,
    weight: str,
    margins: Mapping[str, Mapping[object, float]],
    maxit: int = 10,
    epsilon: float = 1.0,
) -> pd.Series:
    r"""Raked weights, as R's ``weights(rake(des, sample.margins, population.margins))``.

    Parameters
    ----------
    %(data_weight)s
    margins : mapping
        Column → (cell → population count), e.g. ``{"sex": {...}, "age_group": {...}}``.
    maxit, epsilon : int, float
        R's ``control``: at most ``maxit`` rounds; stop when no cell of the full cross
        table of the margins changes by ``epsilon`` or more (a fraction of the total
        weight when ``epsilon < 1``).

    %(new_weights)s

    Notes
    -----
    Iterative proportional fitting: each round post-stratifies to every margin in turn,
    :math:`w_i \leftarrow w_i N_c / \sum_{j \in c} w_j`.
    """
    _check_columns(data, {"weight": weight})
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    w_new, _ = _rake_steps(data, w, margins, maxit=maxit, epsilon=epsilon)
    return pd.Series(w_new, index=data.index, name=weight)


def _poststrat_core(
    y: np.ndarray,
    w_new: np.ndarray,
    residualise: Callable[[np.ndarray], np.ndarray],
    stratum_code: np.ndarray,
    stratum_n: np.ndarray,
    stratum_pop: np.ndarray,
    group_code: np.ndarray,
    n_groups: int,
    df: int,
    *,
    kind: str,
    lonely_psu: str,
    stratum_labels: Sequence[object],
) -> dict[str, np.ndarray]:
    """Like :func:`_estimate_core` for a calibrated design (dense over groups × rows).

    ``residualise`` maps the influence values (groups × rows) to their residuals from
    the calibration (post-stratification or raking), as R's ``svyrecvar`` does.
    """
    n_rows = len(y)
    valid = ~np.isnan(y) & (group_code >= 0)
    g = group_code[valid]
    yv, wv = y[valid], w_new[valid]
    n = np.bincount(g, minlength=n_groups)
    sw = np.bincount(g, weights=wv, minlength=n_groups)
    swy = np.bincount(g, weights=wv * yv, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(n > 0, swy / sw, np.nan)
        u = np.zeros((n_groups, n_rows))
        u[g, np.flatnonzero(valid)] = wv * (yv - est[g]) / sw[g]
    x = residualise(u)
    n_strata = len(stratum_n)
    sx = np.stack([np.bincount(stratum_code, weights=row, minlength=n_strata) for row in x])
    xbar = sx / stratum_n[None, :]
    dev = x - xbar[:, stratum_code]
    ss = np.stack([np.bincount(stratum_code, weights=row**2, minlength=n_strata) for row in dev])
    nh = stratum_n.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isinf(stratum_pop), 1.0, 1.0 - nh / stratum_pop)
        scale = np.where(nh > 1, f * nh / (nh - 1), f)
    lonely = (nh == 1) & (f >= _CENSUS_TOL)
    if lonely.any() and lonely_psu == "fail":
        raise DataError(
            "minst två svarande i varje stratum (ett stratum med en enda svarande "
            "ger ingen variansskattning; välj lonely_psu='remove' eller 'certainty')",
            column="stratum",
            value=stratum_labels[int(np.flatnonzero(lonely)[0])],
        )
    scale = np.where((f < _CENSUS_TOL) | lonely, 0.0, scale)
    se = np.where(n > 0, np.sqrt(ss @ scale), np.nan)
    tq = t_ppf(0.975, df) if df > 0 else np.nan
    if kind == "proportion":
        lo, hi = _logit_ci(est, se, np.full(n_groups, tq))
    else:
        lo, hi = est - tq * se, est + tq * se
    return {"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "n": n}


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


TOTAL_GROUP = standard_text("hela_kommunen")
GROUP_VARS = ("stratum", "sex", "age_group")
ESTIMATE_COLUMNS = [
    "kommun",
    "year",
    "indicator",
    "group_var",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
]


def _column_codes(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (−1 = missing) and labels; categorical order kept, else sorted."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64), [str(c) for c in col.cat.categories]
    codes, uniques = pd.factorize(col, sort=True)
    return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]


#: Joins the columns of a crossed domain in ``group_var`` ("sex+age_group", as R's
#: ``~sex+age_group``) and their values in ``group`` ("Kvinna, 16–24").
CROSS_SEP = "+"
GROUP_SEP = ", "


def group_var_name(columns: str | Sequence[str]) -> str:
    """The ``group_var`` of a domain: the column, or crossed columns joined by ``+``.

    Examples
    --------
    >>> group_var_name(("sex", "age_group"))
    'sex+age_group'
    """
    if isinstance(columns, str):
        return columns
    return CROSS_SEP.join(columns)


def _crossed_codes(responses: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes and labels of crossed columns: the product of their categories, first column
    slowest ("Kvinna, 16–24", "Kvinna, 25–44", …); −1 where any column is missing."""
    codes = np.zeros(len(responses), dtype=np.int64)
    labels = [""]
    missing = np.zeros(len(responses), dtype=bool)
    for j, col in enumerate(columns):
        c, cats = _column_codes(responses[col])
        missing |= c < 0
        codes = codes * max(len(cats), 1) + np.where(c < 0, 0, c)
        labels = [f"{a}{GROUP_SEP if j else ''}{b}" for a in labels for b in cats]
    codes[missing] = -1
    return codes, labels


def _design_frame(
    responses: pd.DataFrame, strata: pd.DataFrame, design_stratum: str = "stratum"
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Design (kommun × year) and stratum codes of a stacked respondent table.

    ``design_stratum`` is the column of ``responses`` holding the variance strata (the
    ``stratum`` of the strata table); normally the area itself.

    Returns design codes per row, the design keys (kommun, year), stratum codes per row,
    n_h and N_h per stratum code, degrees of freedom per design, stratum labels.
    """
    if design_stratum != "stratum":
        responses = responses.drop(columns="stratum").rename(columns={design_stratum: "stratum"})
    for col in ("kommun", "year", "stratum", "weight"):
        if col not in responses.columns:
            raise DataError(f"kolumnen '{col}' i svarstabellen", column=col)
    for col in ("kommun", "year", "stratum", "population"):
        if col not in strata.columns:
            raise DataError(f"kolumnen '{col}' i strata-tabellen", column=col)
    if responses["stratum"].isna().any():
        row = int(np.flatnonzero(responses["stratum"].isna().to_numpy())[0])
        raise DataError("ett område (stratum) på varje rad", row=row + 2, column="stratum")
    # combine per-column integer codes: far faster than factorizing a MultiIndex
    k_code, k_uniq = pd.factorize(responses["kommun"], sort=True)
    y_code, y_uniq = pd.factorize(responses["year"], sort=True)
    h_code, h_uniq = pd.factorize(responses["stratum"], sort=True)
    d_code, d_uniq = pd.factorize(k_code.astype(np.int64) * len(y_uniq) + y_code, sort=True)
    d_uniq = np.asarray(d_uniq, dtype=np.int64)
    d_keys = pd.DataFrame(
        {
            "kommun": np.asarray(k_uniq, dtype=object)[d_uniq // len(y_uniq)],
            "year": np.asarray(y_uniq)[d_uniq % len(y_uniq)],
        }
    )
    s_code, s_uniq = pd.factorize(d_code.astype(np.int64) * len(h_uniq) + h_code, sort=True)
    s_uniq = np.asarray(s_uniq, dtype=np.int64)
    s_keys = pd.DataFrame(
        {
            "design": s_uniq // len(h_uniq),
            "stratum": np.asarray(h_uniq, dtype=object)[s_uniq % len(h_uniq)],
        }
    )
    s_keys["kommun"] = d_keys["kommun"].to_numpy()[s_keys["design"].to_numpy()]
    s_keys["year"] = d_keys["year"].to_numpy()[s_keys["design"].to_numpy()]
    pop = strata[["kommun", "year", "stratum", "population"]].drop_duplicates(
        ["kommun", "year", "stratum"]
    )
    s_keys = s_keys.merge(pop, on=["kommun", "year", "stratum"], how="left", validate="m:1")
    n_h = np.bincount(s_code, minlength=len(s_keys))
    pop_h = pd.to_numeric(s_keys["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(pop_h) | (pop_h < n_h)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"en population N_h (minst {n_h[j]}) för område '{s_keys['stratum'][j]}' "
            f"år {s_keys['year'][j]} i {s_keys['kommun'][j]} i strata-tabellen",
            column="population",
            value=s_keys["population"][j],
        )
    rows_d = np.bincount(d_code, minlength=len(d_keys))
    strata_d = np.bincount(s_keys["design"].to_numpy(), minlength=len(d_keys))
    df_d = rows_d - strata_d
    labels = [f"{k} {y} {s}" for k, y, s in s_keys[["kommun", "year", "stratum"]].itertuples(False)]
    return (
        np.asarray(d_code, dtype=np.int64),
        d_keys,
        np.asarray(s_code, dtype=np.int64),
        n_h,
        pop_h,
        df_d,
        labels,
    )


def estimate_indicators(
    responses: pd.DataFrame,
    strata: pd.DataFrame,
    *,
    indicators: pd.DataFrame | Sequence[str] | None = None,
    min_n: int | Mapping[str, int] = DEFAULT_MIN_N,
    group_vars: Sequence[str | Sequence[str]] = GROUP_VARS,
    lonely_psu: Literal["fail", "remove", "certainty"] = "fail",
    design_stratum: str = "stratum",
) -> pd.DataFrame:
    """Every indicator × kommun × year, for the whole kommun and by each group variable.

    Parameters
    ----------
    responses : DataFrame
        Canonical respondent table (``kommun, year, stratum, weight, sex, age_group``
        and the question columns); may stack many kommuner and years.
    strata : DataFrame
        Strata table with ``kommun, year, stratum, population`` (N_h for the fpc).
    indicators : DataFrame or list of str, optional
        Definitions (rows of :func:`~trygghet_analys.indicators.load_indicators`) or ids;
        default all.
    min_n : int or mapping kommun → int
        Disclosure threshold: rows with ``n < min_n`` are suppressed. Kommuner missing
        from a mapping get the default (30).
    group_vars : sequence of str or tuple of str
        Domains besides the whole kommun: a column (``"sex"``), or a tuple of columns for
        their crossing (``("sex", "age_group")``: women 16–24, women 25–44, …). A
        crossed domain's ``group_var`` names its columns joined by ``+``
        (``"sex+age_group"``) and its ``group`` their values joined by a comma and a
        space (``"Kvinna, 16–24"``), first column slowest. A respondent missing any of
        the columns belongs to no group of the crossing.
    lonely_psu : {"fail", "remove", "certainty"}
        See :func:`design_estimate`.
    design_stratum : str
        The column of ``responses`` that holds the variance strata, whose ``population``
        the strata table gives under ``stratum`` (default the area itself). With
        :func:`collapse_lonely_strata` an area with one respondent is estimated in a
        stratum merged with its neighbour, while ``group_var`` ``stratum`` still
        reports every area on its own.

    Returns
    -------
    DataFrame
        ``kommun, year, indicator, group_var, group, estimate, se, ci_low, ci_high, n,
        suppressed``. ``group_var`` is ``total`` (group ``Hela kommunen``) or one of
        ``group_vars`` (crossed ones as :func:`group_var_name`). Rows with ``n = 0`` (a
        question not asked that year, an empty domain) are left out. Suppressed rows keep ``n`` and have NaN estimate, se, CI.
        Sorted by kommun, year, indicator (definition order), group_var, group
        (category order).

    Notes
    -----
    Each kommun × year is its own design (stratified SRS, weights ``weight``, fpc from
    ``population``); the estimator, SE and CI are those of :func:`design_estimate`, with
    df = respondents − strata of that kommun and year. All kommuner, years and groups
    are computed at once with integer codes; the only loops are over indicators and
    group variables. A crossed domain is a domain like any other: its rows equal
    ``design_estimate(..., by=["sex", "age_group"])`` and R's
    ``svyby(~y, ~sex+age_group, des, svymean, na.rm=TRUE)``.

    Examples
    --------
    >>> r = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a"] * 4 + ["b"] * 4,
    ...     "weight": 10.0, "sex": ["Kvinna", "Man"] * 4,
    ...     "age_group": ["16–24"] * 4 + ["25–44"] * 4,
    ...     "grannsamverkan": ["Ja", "Nej", "Ja", "Ja", "Nej", "Nej", "Ja", "Nej"]})
    >>> s = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b"],
    ...     "population": 40})
    >>> out = estimate_indicators(r, s, indicators=["grannsamverkan"], min_n=0,
    ...     group_vars=[("sex", "age_group")])
    >>> out.loc[1, "group_var"], out.loc[1, "group"], float(out.loc[1, "estimate"])
    ('sex+age_group', 'Kvinna, 16–24', 1.0)
    """
    from ..survey.indicators import indicator_values, load_indicators

    if isinstance(indicators, pd.DataFrame):
        defs = indicators
    else:
        defs = load_indicators()
        if indicators is not None:
            wanted = list(indicators)
            unknown = [i for i in wanted if i not in set(defs["id"])]
            if unknown:
                raise ValueError(f"indicators: unknown ids {unknown}; known: {list(defs['id'])}")
            defs = defs.set_index("id").loc[wanted].reset_index()
    domains: list[tuple[str, ...]] = []
    for gv in group_vars:
        cols = (gv,) if isinstance(gv, str) else tuple(gv)
        if not cols or not all(isinstance(c, str) for c in cols):
            raise ValueError(f"group_vars: {gv!r} is neither a column nor a tuple of columns")
        for col in cols:
            if col not in responses.columns:
                raise ValueError(f"group_vars: {col!r} is not a column of responses")
        domains.append(cols)
    if lonely_psu not in LONELY_PSU_OPTIONS:
        raise ValueError(f"lonely_psu must be one of {LONELY_PSU_OPTIONS}, got {lonely_psu!r}")

    d_code, d_keys, s_code, n_h, pop_h, df_d, labels = _design_frame(
        responses, strata, design_stratum
    )
    w = pd.to_numeric(responses["weight"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            "en positiv vikt", row=i + 2, column="weight", value=responses["weight"].iloc[i]
        )
    n_designs = len(d_keys)

    # group codes per group variable: computed once, reused for every indicator
    groupings = []
    for gi, cols in enumerate([("total",), *domains]):
        gv = group_var_name(cols)
        if gi == 0:
            codes = d_code
            g_design = np.arange(n_designs)
            g_label = np.full(n_designs, TOTAL_GROUP, dtype=object)
            g_order = np.zeros(n_designs, dtype=np.int64)
        else:
            if len(cols) == 1:
                c, cats = _column_codes(responses[cols[0]])
            else:
                c, cats = _crossed_codes(responses, cols)
            ok = c >= 0
            sub_codes, uniq = pd.factorize(d_code[ok] * (len(cats) + 1) + c[ok], sort=True)
            codes = np.full(len(c), -1, dtype=np.int64)
            codes[ok] = sub_codes
            uniq = np.asarray(uniq, dtype=np.int64)
            g_design = uniq // (len(cats) + 1)
            g_order = uniq % (len(cats) + 1)
            g_label = np.asarray(cats, dtype=object)[g_order] if len(cats) else np.array([])
        cells = _cells(codes, s_code, len(n_h))
        groupings.append((gi, gv, codes, g_design, g_label, g_order, cells))

    frames = []
    for ii, ind in enumerate(defs.itertuples(index=False)):
        row = pd.Series(ind._asdict())
        y = indicator_values(responses, row).to_numpy(dtype=float)
        for gi, gv, codes, g_design, g_label, g_order, cells in groupings:
            res = _estimate_core(
                y,
                w,
                s_code,
                n_h,
                pop_h,
                codes,
                len(g_design),
                df_d[g_design],
                kind=row["kind"],
                lonely_psu=lonely_psu,
                stratum_labels=labels,
                cells=cells,
            )
            frame = pd.DataFrame(
                {
                    "_design": g_design,
                    "indicator": row["id"],
                    "group_var": gv,
                    "group": g_label,
                    "estimate": res["estimate"],
                    "se": res["se"],
                    "ci_low": res["ci_low"],
                    "ci_high": res["ci_high"],
                    "n": res["n"].astype(np.int64),
                    "_i": ii,
                    "_gv": gi,
                    "_g": g_order,
                }
            )
            frames.append(frame[frame["n"] > 0])
    if frames:
        out = pd.concat(frames, ignore_index=True)
    else:
        # kommun and year are inserted from the design below, suppressed by suppress_small
        computed = [c for c in ESTIMATE_COLUMNS if c not in ("kommun", "year", "suppressed")]
        out = pd.DataFrame(columns=["_design", *computed, "_i", "_gv", "_g"])
    out = out.sort_values(["_design", "_i", "_gv", "_g"], kind="stable", ignore_index=True)
    design = out["_design"].to_numpy(dtype=np.int64)
    out.insert(0, "kommun", d_keys["kommun"].to_numpy()[design])
    out.insert(1, "year", d_keys["year"].to_numpy()[design].astype(np.int64))
    out = suppress_small(out, min_n)[ESTIMATE_COLUMNS]
    out = out.astype(
        {"kommun": "str", "indicator": "str", "group_var": "str", "group": "str", "n": "int64"}
    )
    return out


def response_rates(strata: pd.DataFrame) -> pd.DataFrame:
    """Response rate per kommun, year and stratum.

    Parameters
    ----------
    strata : DataFrame
        Strata table with ``kommun, year, stratum, sampled, respondents``.

    Returns
    -------
    DataFrame
        ``kommun, year, stratum, sampled, respondents, response_rate`` sorted by kommun,
        year and stratum; ``response_rate = respondents / sampled`` (0–1, NaN when
        nothing was sampled).

    Raises
    ------
    DataError
        A column is missing, or respondents exceed the sampled count.

    Examples
    --------
    >>> s = pd.DataFrame({"kommun": ["A"], "year": [2024], "stratum": ["x"],
    ...                   "population": [900], "sampled": [300], "respondents": [192]})
    >>> float(response_rates(s)["response_rate"].iloc[0])
    0.64
    """
    cols = ["kommun", "year", "stratum", "sampled", "respondents"]
    for col in cols:
        if col not in strata.columns:
            raise DataError(f"kolumnen '{col}' i strata-tabellen", column=col)
    out = strata[cols].copy()
    sampled = pd.to_numeric(out["sampled"], errors="coerce").to_numpy(dtype=float)
    resp = pd.to_numeric(out["respondents"], errors="coerce").to_numpy(dtype=float)
    over = resp > sampled
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DataError(
            f"högst {out['sampled'].iloc[i]} svarande (antalet i urvalet) i område "
            f"'{out['stratum'].iloc[i]}' år {out['year'].iloc[i]}",
            column="respondents",
            value=out["respondents"].iloc[i],
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["response_rate"] = np.where(sampled > 0, resp / sampled, np.nan)
    return out.sort_values(["kommun", "year", "stratum"], ignore_index=True)


def collapse_lonely_strata(
    responses: pd.DataFrame,
    strata: pd.DataFrame,
    *,
    order: Mapping[str, Sequence[str]] | None = None,
    kommuner: Sequence[str] | None = None,
    column: str = "design_stratum",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge every area with a single respondent into its neighbour (collapsed strata).

    The rule (``kommun.yml: ensamt_stratum: slå_ihop``, documented in ``docs/statistik.md``):
    within one kommun and year, the areas that have respondents are taken in the order of
    ``kommun.yml: omraden`` (``order``; areas not listed follow in alphabetical order). An
    area with one respondent is merged with the next area in that order, the last one with
    the one before it; chains merge (two lonely neighbours end in one stratum). The merged
    stratum's population is the sum of its areas' ``N_h``; each respondent keeps the weight
    of their own area. This is the classical collapsed-strata variance (Cochran 1977,
    §5A.12; Wolter 2007, §2.5), which errs on the safe side: it overstates the variance
    when the merged areas differ. R equivalent: the same merge written as a stratum column,
    then ``svydesign(ids=~1, strata=~design_stratum, weights=~weight, fpc=~population)``.

    Parameters
    ----------
    responses, strata
        Canonical respondent and strata tables (``kommun, year, stratum`` and, in the
        strata table, ``population``).
    order
        kommun → its areas in ``kommun.yml`` order.
    kommuner
        The kommuner whose lonely areas are merged (default all); the others keep one
        stratum per area.
    column
        Name of the new column of ``responses``.

    Returns
    -------
    (responses, design_strata)
        ``responses`` with ``column`` (the merged label ``"A + B"``, or the area itself);
        ``design_strata`` with ``kommun, year, stratum, population`` per variance stratum,
        to pass to :func:`estimate_indicators` with ``design_stratum=column``.

    Raises
    ------
    DataError
        A kommun and year with a lonely area and no other area to merge it with.

    Examples
    --------
    >>> r = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b", "b", "c", "c"]})
    >>> s = pd.DataFrame({"kommun": "K", "year": 2025, "stratum": ["a", "b", "c"],
    ...     "population": [10, 20, 30]})
    >>> out, design = collapse_lonely_strata(r, s, order={"K": ["a", "b", "c"]})
    >>> list(out["design_stratum"]), design["population"].tolist()
    (['a + b', 'a + b', 'a + b', 'c', 'c'], [30, 30])
    """
    order = dict(order or {})
    chosen = None if kommuner is None else set(kommuner)
    counts = responses.groupby(["kommun", "year", "stratum"], sort=False).size()
    label: dict[tuple[object, object, object], str] = {}
    for (kommun, year), sizes in counts.groupby(level=[0, 1], sort=False):
        sizes = sizes.droplevel([0, 1])
        listed = [a for a in dict.fromkeys(order.get(kommun, ())) if a in sizes.index]
        areas = listed + sorted(a for a in sizes.index if a not in set(listed))
        lonely = [i for i, a in enumerate(areas) if sizes[a] == 1]
        if not lonely or (chosen is not None and kommun not in chosen):
            continue
        if len(areas) < 2:
            raise DataError(
                f"minst två områden med svarande år {year} i {kommun} för att slå ihop "
                "området som har en enda svarande (kommun.yml: ensamt_stratum: slå_ihop | "
                "ta_bort)",
                column="stratum",
                value=areas[0],
            )
        parent = list(range(len(areas)))

        def find(i: int, parent: list[int] = parent) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for i in lonely:
            j = i + 1 if i + 1 < len(areas) else i - 1
            a, b = sorted((find(i), find(j)))
            parent[b] = a
        groups: dict[int, list[str]] = {}
        for i, area in enumerate(areas):
            groups.setdefault(find(i), []).append(area)
        for members in groups.values():
            for area in members:
                label[(kommun, year, area)] = " + ".join(members)
    out = responses.copy()
    keys = list(zip(out["kommun"], out["year"], out["stratum"], strict=True))
    out[column] = [label.get(k, k[2]) for k in keys]
    design = strata[["kommun", "year", "stratum", "population"]].drop_duplicates(
        ["kommun", "year", "stratum"]
    )
    design = design.assign(
        stratum=[
            label.get(k, k[2])
            for k in zip(design["kommun"], design["year"], design["stratum"], strict=True)
        ]
    )
    design = design.groupby(["kommun", "year", "stratum"], as_index=False, sort=False)[
        "population"
    ].sum(min_count=1)
    return out, design.reset_index(drop=True)
