"""Reliability of small or rare estimates: the NCHS presentation standards for proportions.

An estimate that fails the standards is still shown, but marked as uncertain and never
used as a headline (``reliable = False`` in the findings table). Reference: Parker JD,
Talih M, Malec DJ, et al. *National Center for Health Statistics Data Presentation
Standards for Proportions*. Vital Health Stat 2(175), 2017.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._values import per_value
from .estimation import korn_graubard_ci

__all__ = [
    "MIN_EFFECTIVE_N",
    "MAX_CI_WIDTH",
    "SMALL_CI_WIDTH",
    "MAX_RELATIVE_WIDTH",
    "MAX_RSE_MEAN",
    "effective_n",
    "nchs_reliable",
    "reliability",
]

MIN_EFFECTIVE_N = 30
MAX_CI_WIDTH = 0.30
SMALL_CI_WIDTH = 0.05
MAX_RELATIVE_WIDTH = 1.30
#: means (the problemindex): no NCHS interval standard; the older NCHS rule RSE < 30 %
MAX_RSE_MEAN = 0.30


def effective_n(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    n: np.ndarray | float,
    *,
    deff: np.ndarray | float | None = None,
) -> np.ndarray:
    r"""Effective sample size as the NCHS standards define it.

    :math:`n_{\mathrm{eff}} = n / \mathrm{deff}` with the design effect
    :math:`\mathrm{deff} = \widehat{\mathrm{Var}}(\hat p) / (\hat p(1-\hat p)/n)`, i.e.
    :math:`\hat p(1-\hat p)/\mathrm{se}^2` when ``deff`` is not given; never above the
    actual ``n`` (a design effect below 1 counts as 1), and equal to ``n`` when
    :math:`\hat p` is 0 or 1 (no variance to compare with).

    Examples
    --------
    >>> round(float(effective_n(0.2, 0.04, 200)), 6)
    100.0
    """
    p, s, nn = np.broadcast_arrays(
        np.asarray(estimate, dtype=float), np.asarray(se, dtype=float), np.asarray(n, dtype=float)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        if deff is None:
            neff = p * (1 - p) / s**2
        else:
            neff = nn / np.broadcast_to(np.asarray(deff, dtype=float), p.shape)
    neff = np.where((p == 0) | (p == 1), nn, neff)
    return np.minimum(neff, nn)


def nchs_reliable(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    n: np.ndarray | float,
    ci_low_kg: np.ndarray | float,
    ci_high_kg: np.ndarray | float,
    *,
    deff: np.ndarray | float | None = None,
) -> np.ndarray:
    r"""Whether proportions meet the NCHS presentation standards (Parker et al. 2017).

    Parameters
    ----------
    estimate, se, n : array_like
        Proportion (0–1), its standard error and the number of respondents behind it.
    ci_low_kg, ci_high_kg : array_like
        The Korn–Graubard 95 % interval (``design_estimate(..., ci="korn-graubard")`` or
        :func:`~trygghet_analys.stats.estimation.korn_graubard_ci`).
    deff : array_like, optional
        Design effect; default :math:`\mathrm{se}^2 / (\hat p(1-\hat p)/n)`.

    Returns
    -------
    ndarray of bool
        ``True`` where the estimate may be presented as reliable.

    Notes
    -----
    The rules, applied in this order (the first that applies decides):

    1. effective sample size :math:`n_{\mathrm{eff}} < 30` → unreliable
       (:func:`effective_n`: capped at *n*, equal to *n* at 0 % and 100 %);
    2. absolute width of the Korn–Graubard interval :math:`\le 0.05` → reliable;
    3. absolute width :math:`\ge 0.30` → unreliable;
    4. relative width, width / :math:`\hat p`, :math:`> 1.30` (130 %) → unreliable;
    5. otherwise reliable.

    An estimate of exactly 0 or 1 has width 0 by the standard's convention (rule 2) once
    :math:`n \ge 30`. The complement: the standard judges :math:`\hat p` itself; a large
    relative width of the complement, width / :math:`(1-\hat p) > 1.30`, only asks for a
    footnote and does not make the estimate unreliable (``reliability(...,
    details=True)`` reports it as ``complement_flag``). Missing estimate, SE or interval
    (suppressed rows) → unreliable. The standard's further "review" cases (degrees of
    freedom below 8) are not applied: every design here has hundreds of degrees of
    freedom per year.

    Examples
    --------
    >>> nchs_reliable([0.3, 0.02], [0.03, 0.01], [300, 40], [0.24, 0.003], [0.36, 0.09])
    array([ True, False])
    """
    p = np.asarray(estimate, dtype=float)
    neff = effective_n(p, se, n, deff=deff)
    lo, hi = np.broadcast_arrays(np.asarray(ci_low_kg, dtype=float), np.asarray(ci_high_kg, float))
    width = np.where((p == 0) | (p == 1), 0.0, hi - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = width / p
    missing = np.isnan(p) | np.isnan(neff) | np.isnan(width)
    ok = np.where(
        neff < MIN_EFFECTIVE_N,
        False,
        np.where(
            width <= SMALL_CI_WIDTH,
            True,
            np.where(width >= MAX_CI_WIDTH, False, ~(relative > MAX_RELATIVE_WIDTH)),
        ),
    )
    return np.asarray(ok & ~missing, dtype=bool)


_REASONS = {
    "neff": "effektivt antal svarande under 30",
    "width": "konfidensintervallet är 30 procentenheter brett eller mer",
    "relative": "konfidensintervallet är mer än 130 % av skattningen",
    "rse": "medelfelet är 30 % av skattningen eller mer",
    "n": "färre än 30 svarande",
    "missing": "ingen skattning (undertryckt eller saknas)",
}


def reliability(
    estimates: pd.DataFrame,
    *,
    kinds: Mapping[str, str] | None = None,
    details: bool = False,
) -> pd.Series | pd.DataFrame:
    """NCHS reliability of every row of a survey estimates table.

    Parameters
    ----------
    estimates : DataFrame
        ``survey_estimates`` rows: ``indicator, estimate, se, n`` (other columns kept).
    kinds : mapping, optional
        Indicator id → ``"proportion"`` or ``"mean"``; default from ``indikatorer.csv``
        (ids not found count as proportions).
    details : bool
        Return the working columns as well.

    Returns
    -------
    Series of bool (index of ``estimates``), or with ``details=True`` a DataFrame with
    ``n_eff, ci_low_kg, ci_high_kg, ci_width, relative_width, complement_flag, reliable,
    reason`` (Swedish text, empty when reliable).

    Notes
    -----
    Proportions: :func:`nchs_reliable` with the Korn–Graubard interval computed from
    ``estimate, se, n`` by :func:`~trygghet_analys.stats.estimation.korn_graubard_ci`
    without R's degrees-of-freedom factor (the table has no design rows; with hundreds
    of respondents the factor :math:`(t_{rows-1}/t_{df})^2` differs from 1 by less than
    0.1 %; for an area, a stratum of its own, it is exactly 1). Means (the problemindex
    0–6), for which NCHS has no interval standard: reliable when ``n >= 30`` and the
    relative standard error se / estimate is below 30 %.

    Examples
    --------
    >>> e = pd.DataFrame({"indicator": ["otrygghet_ute_sent"] * 2, "estimate": [0.3, 0.03],
    ...                   "se": [0.02, 0.02], "n": [500, 60]})
    >>> reliability(e).tolist()
    [True, False]
    """
    for col in ("indicator", "estimate", "se", "n"):
        if col not in estimates.columns:
            raise ValueError(f"estimates has no column {col!r}; columns are {list(estimates)}")
    if kinds is None:
        from ..survey.indicators import load_indicators

        defs = load_indicators()
        kinds = dict(zip(defs["id"], defs["kind"], strict=True))
    kind = per_value(estimates["indicator"], lambda i: kinds.get(i, "proportion"), dtype=object)
    p = estimates["estimate"].to_numpy(dtype=float)
    se = estimates["se"].to_numpy(dtype=float)
    n = estimates["n"].to_numpy(dtype=float)
    prop = kind == "proportion"
    lo, hi = korn_graubard_ci(np.where(prop, p, np.nan), se, n=n)
    neff = effective_n(p, se, n)
    ok_prop = nchs_reliable(p, se, n, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        rse = se / np.abs(p)
        width = np.where((p == 0) | (p == 1), 0.0, hi - lo)
        relative = width / p
        comp = width / (1 - p) > MAX_RELATIVE_WIDTH
    ok_mean = (n >= MIN_EFFECTIVE_N) & (rse < MAX_RSE_MEAN) & ~np.isnan(p)
    ok = np.where(prop, ok_prop, ok_mean)
    if not details:
        return pd.Series(ok, index=estimates.index, name="reliable", dtype=bool)
    reason = np.select(
        [
            np.isnan(p) | np.isnan(se),
            prop & (neff < MIN_EFFECTIVE_N),
            prop & (width > SMALL_CI_WIDTH) & (width >= MAX_CI_WIDTH),
            prop & (width > SMALL_CI_WIDTH) & (relative > MAX_RELATIVE_WIDTH),
            ~prop & (n < MIN_EFFECTIVE_N),
            ~prop & ~(rse < MAX_RSE_MEAN),
        ],
        [_REASONS[k] for k in ("missing", "neff", "width", "relative", "n", "rse")],
        default="",
    )
    return pd.DataFrame(
        {
            "n_eff": np.where(prop, neff, np.nan),
            "ci_low_kg": lo,
            "ci_high_kg": hi,
            "ci_width": np.where(prop, width, np.nan),
            "relative_width": np.where(prop, relative, np.nan),
            "complement_flag": prop & ok_prop & ~(width <= SMALL_CI_WIDTH) & comp,
            "reliable": ok.astype(bool),
            "reason": np.where(ok, "", reason),
        },
        index=estimates.index,
    )
