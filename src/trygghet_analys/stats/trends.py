"""Change between years and multi-year trends of survey estimates, never across a break.

Two independent yearly estimates differ "statistiskt säkerställt" when the two-sided
normal test of their difference rejects at 5%. A multi-year trend is the Mann–Kendall
test over the yearly estimates with the Theil–Sen slope, within the latest series
segment (the years since the last series break of any of the indicator's variables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..vocabulary import Comparison
from ._dist import norm_sf
from ._values import per_value

__all__ = [
    "CHANGE_COLUMNS",
    "TREND_COLUMNS",
    "change_test",
    "compare_estimates",
    "mann_kendall",
    "trend_tests",
]

ALPHA = 0.05
SERIES = ["kommun", "indicator", "group_var", "group"]
CHANGE_COLUMNS = [
    "kommun",
    "indicator",
    "group_var",
    "group",
    "comparison",
    "year_from",
    "year_to",
    "estimate_from",
    "estimate_to",
    "change",
    "se_change",
    "z",
    "p_value",
    "significant",
]
TREND_COLUMNS = [
    "kommun",
    "indicator",
    "group_var",
    "group",
    "year_from",
    "year_to",
    "n_years",
    "slope",
    "tau",
    "p_value",
    "significant",
    "direction",
]


def change_test(
    est1: np.ndarray | float,
    se1: np.ndarray | float,
    est2: np.ndarray | float,
    se2: np.ndarray | float,
    *,
    alpha: float = ALPHA,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided z test of the difference between two independent estimates.

    Parameters
    ----------
    est1, se1, est2, se2 : array_like
        Estimates and standard errors (broadcast together).
    alpha : float
        Significance level (default 5%).

    Returns
    -------
    z, p, significant : ndarray
        Test statistic, two-sided p-value and ``p < alpha``. Where the combined SE is
        zero or missing, z and p are NaN and significant is False.

    Notes
    -----
    :math:`z = (\\hat p_2 - \\hat p_1) / \\sqrt{se_1^2 + se_2^2}`,
    :math:`p = 2\\,(1 - \\Phi(|z|))`. Independence holds for two yearly samples
    (separate draws).

    Examples
    --------
    >>> z, p, sig = change_test(0.30, 0.02, 0.36, 0.02)
    >>> round(float(z), 3), bool(sig)
    (2.121, True)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    e1, s1, e2, s2 = (np.asarray(a, dtype=float) for a in (est1, se1, est2, se2))
    se = np.sqrt(s1**2 + s2**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (e2 - e1) / se, np.nan)
    p = 2 * norm_sf(np.abs(z))
    significant = np.where(np.isnan(p), False, p < alpha)
    return z, p, significant


def _variables_of(indicators: pd.DataFrame | None) -> dict[str, list[str]]:
    if indicators is None:
        from ..survey.indicators import load_indicators

        indicators = load_indicators()
    return {
        row.id: [v.strip() for v in str(row.variables).split("|") if v.strip()]
        for row in indicators.itertuples(index=False)
    }


def _segments(
    est: pd.DataFrame, breaks: pd.DataFrame | None, indicators: pd.DataFrame | None
) -> np.ndarray:
    """Series segment per row: number of breaks at or before the row's year.

    A break row ``(kommun, variable, year)`` starts a new series in ``year`` for every
    indicator that reads ``variable`` (an indicator id not in the definitions is taken
    to read the variable of the same name).
    """
    if breaks is None or breaks.empty:
        return np.zeros(len(est), dtype=np.int64)
    for col in ("kommun", "variable", "year"):
        if col not in breaks.columns:
            raise ValueError(f"breaks must have the column {col!r}; has {list(breaks.columns)}")
    var_map = _variables_of(indicators)
    pairs = [(ind, var) for ind in est["indicator"].unique() for var in var_map.get(ind, [ind])]
    link = pd.DataFrame(pairs, columns=["indicator", "variable"])
    b = breaks[["kommun", "variable", "year"]].merge(link, on="variable")
    b = b[["kommun", "indicator", "year"]].drop_duplicates()
    if b.empty:
        return np.zeros(len(est), dtype=np.int64)
    left = est[["kommun", "indicator", "year"]].reset_index(drop=True)
    left["_row"] = np.arange(len(left))
    m = left.merge(b.rename(columns={"year": "break_year"}), on=["kommun", "indicator"])
    m = m[m["break_year"] <= m["year"]]
    seg = np.zeros(len(est), dtype=np.int64)
    counts = m.groupby("_row").size()
    seg[counts.index.to_numpy()] = counts.to_numpy()
    return seg


def _usable(estimates: pd.DataFrame) -> pd.DataFrame:
    need = [*SERIES, "year", "estimate", "se", "suppressed"]
    missing = [c for c in need if c not in estimates.columns]
    if missing:
        raise ValueError(f"estimates lacks the columns {missing}")
    keep = ~estimates["suppressed"].astype(bool) & estimates["estimate"].notna()
    return estimates.loc[keep, need].reset_index(drop=True)


def compare_estimates(
    estimates: pd.DataFrame,
    *,
    breaks: pd.DataFrame | None = None,
    base_year: int | Mapping[str, int | None] | None = None,
    indicators: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Changes between consecutive years and against a base year, with a z test.

    Parameters
    ----------
    estimates : DataFrame
        The estimates table (``kommun, year, indicator, group_var, group, estimate, se,
        suppressed``, ...). Suppressed rows and rows without an estimate are skipped.
    breaks : DataFrame, optional
        Series breaks ``kommun, variable, year`` (first year of a new series).
    base_year : int or mapping kommun → int or None, optional
        Also compare every other year with this year (``comparison = "basår"``); a
        mapping gives each kommun its own base year (a kommun missing from it, or mapped
        to None, gets no base-year rows), so many kommuner are compared in one call.
    indicators : DataFrame, optional
        Indicator definitions, used to map break variables to indicators; default the
        package's definitions.
    alpha : float
        Significance level.

    Returns
    -------
    DataFrame
        ``kommun, indicator, group_var, group, comparison ("föregående år" | "basår"),
        year_from, year_to, estimate_from, estimate_to, change, se_change, z, p_value,
        significant``. "föregående år" pairs each year with the latest earlier year that
        has a published estimate in the same series segment; no pair spans a break.

    Notes
    -----
    ``change = estimate_to − estimate_from``, ``se_change = √(se_from² + se_to²)``; z and
    p as :func:`change_test`.

    Examples
    --------
    >>> est = pd.DataFrame({"kommun": "K", "year": [2023, 2024], "indicator": "oro_vald",
    ...                     "group_var": "total", "group": "Hela kommunen",
    ...                     "estimate": [0.30, 0.36], "se": [0.02, 0.02], "suppressed": False})
    >>> out = compare_estimates(est)
    >>> out[["year_from", "year_to", "significant"]].values.tolist()
    [[2023, 2024, True]]
    """
    est = _usable(estimates)
    est["_seg"] = _segments(est, breaks, indicators)
    est = est.sort_values([*SERIES, "year"], kind="stable", ignore_index=True)
    is_base = None
    if base_year is not None:
        if isinstance(base_year, Mapping):
            # NaN for a kommun without a base year: equal to no year, so no pairs
            wanted = per_value(est["kommun"], base_year.get, dtype="float64")
            is_base = (est["year"] == wanted).to_numpy()
        else:
            is_base = (est["year"] == base_year).to_numpy()
    out = _pairs_by_position(est, is_base)
    if out is None:
        out = _pairs_by_merge(est, is_base)
    z, p, sig = change_test(
        out["estimate_from"], out["se_from"], out["estimate_to"], out["se_to"], alpha=alpha
    )
    out["change"] = out["estimate_to"] - out["estimate_from"]
    out["se_change"] = np.sqrt(out["se_from"] ** 2 + out["se_to"] ** 2)
    out["z"] = z
    out["p_value"] = p
    out["significant"] = sig.astype(bool)
    out = out.astype({"year_from": "int64", "year_to": "int64"})
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def _pairs_by_position(est: pd.DataFrame, is_base: np.ndarray | None) -> pd.DataFrame | None:
    """The pairs of :func:`_pairs_by_merge` (its rows, order, values and types) from row
    positions: each row's previous row in its series segment and its segment's base-year
    row found with NumPy, then every column taken once at those positions.

    The merge's way converted the four text columns to Python objects and back, and
    joined on them, for every pair (443 000 for a region: 0,4–0,8 s CPU of every build,
    new year or not). None (the merge's way is used) when a kind of pair (year on year,
    base year) has none (the merge's empty frame of Python objects can change a text
    column's type in its concatenation), for a missing value in a series key (the
    group-by leaves such rows out, the merge pairs them), or for a segment with more than
    one base-year row (the merge pairs each)."""
    keys = [*SERIES, "_seg"]
    if not len(est) or est[keys].isna().to_numpy().any():
        return None
    series = est.groupby(keys, sort=False).ngroup().to_numpy()
    # the row before each row in its series segment (table order within a segment)
    order = np.argsort(series, kind="stable")
    same = series[order[1:]] == series[order[:-1]]
    prev = np.full(len(est), -1, dtype=np.int64)
    prev[order[1:][same]] = order[:-1][same]
    to_rows = [np.flatnonzero(prev >= 0)]
    from_rows = [prev[to_rows[0]]]
    if is_base is not None:
        base_rows = np.flatnonzero(is_base)
        n_series = int(series.max()) + 1
        if np.bincount(series[base_rows], minlength=n_series).max(initial=0) > 1:
            return None
        base_of = np.full(n_series, -1, dtype=np.int64)
        base_of[series[base_rows]] = base_rows
        paired = ~is_base & (base_of[series] >= 0)
        to_rows.append(np.flatnonzero(paired))
        from_rows.append(base_of[series[to_rows[1]]])
    if not all(len(rows) for rows in to_rows):
        return None  # no pair of a kind: the merge's empty frame decides the types
    to_at, from_at = np.concatenate(to_rows), np.concatenate(from_rows)
    labels = pd.array([Comparison.PREVIOUS_YEAR, Comparison.BASE_YEAR], dtype="str")
    out = est[SERIES].take(to_at).reset_index(drop=True)
    out["comparison"] = labels.take(np.repeat(np.arange(len(to_rows)), [len(r) for r in to_rows]))
    year, value, se = (est[c].to_numpy() for c in ("year", "estimate", "se"))
    out["year_from"], out["year_to"] = year[from_at], year[to_at]
    out["estimate_from"], out["se_from"] = value[from_at], se[from_at]
    out["estimate_to"], out["se_to"] = value[to_at], se[to_at]
    return out


def _pairs_by_merge(est: pd.DataFrame, is_base: np.ndarray | None) -> pd.DataFrame:
    """The year pairs of :func:`compare_estimates` (``est`` sorted by series and year,
    with its segment ``_seg``), by a grouped shift and a merge on the series keys: the
    way they were made first, kept for the cases :func:`_pairs_by_position` leaves and
    as its reference (``tests/test_trends.py``)."""
    frames = []
    prev = est.groupby([*SERIES, "_seg"], sort=False)[["year", "estimate", "se"]].shift(1)
    ok = prev["year"].notna()
    consecutive = pd.DataFrame(
        {
            **{c: est.loc[ok, c].to_numpy() for c in SERIES},
            "comparison": Comparison.PREVIOUS_YEAR,
            "year_from": prev.loc[ok, "year"].to_numpy(),
            "year_to": est.loc[ok, "year"].to_numpy(),
            "estimate_from": prev.loc[ok, "estimate"].to_numpy(),
            "se_from": prev.loc[ok, "se"].to_numpy(),
            "estimate_to": est.loc[ok, "estimate"].to_numpy(),
            "se_to": est.loc[ok, "se"].to_numpy(),
        }
    )
    frames.append(consecutive)

    if is_base is not None:
        base = est[is_base]
        others = est[~is_base]
        pairs = others.merge(
            base[[*SERIES, "_seg", "year", "estimate", "se"]],
            on=[*SERIES, "_seg"],
            suffixes=("", "_base"),
        )
        frames.append(
            pd.DataFrame(
                {
                    **{c: pairs[c].to_numpy() for c in SERIES},
                    "comparison": Comparison.BASE_YEAR,
                    "year_from": pairs["year_base"].to_numpy(),
                    "year_to": pairs["year"].to_numpy(),
                    "estimate_from": pairs["estimate_base"].to_numpy(),
                    "se_from": pairs["se_base"].to_numpy(),
                    "estimate_to": pairs["estimate"].to_numpy(),
                    "se_to": pairs["se"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def mann_kendall(
    series: pd.DataFrame, *, by: Sequence[str], time: str = "year", value: str = "estimate"
) -> pd.DataFrame:
    """Mann–Kendall test and Theil–Sen slope for many series at once.

    Parameters
    ----------
    series : DataFrame
        Long table; one row per series and time point (no duplicate times in a series).
    by : list of str
        Columns identifying a series.
    time, value : str
        Time and value columns.

    Returns
    -------
    DataFrame
        One row per series: the ``by`` columns, ``year_from``, ``year_to``, ``n_years``,
        ``s`` (Mann–Kendall S), ``var_s``, ``z``, ``tau`` (Kendall's tau-b), ``p_value``
        (two-sided), ``slope`` (Theil–Sen, value units per time unit).

    Notes
    -----
    :math:`S = \\sum_{i<j} \\mathrm{sgn}(x_j - x_i)` over time-ordered values;
    :math:`\\mathrm{Var}(S) = [n(n-1)(2n+5) - \\sum_t t(t-1)(2t+5)]/18` with *t* the sizes
    of groups of tied values; :math:`z = (S - \\mathrm{sgn}(S))/\\sqrt{\\mathrm{Var}(S)}`
    (continuity correction), :math:`p = 2(1-\\Phi(|z|))`;
    :math:`\\tau_b = S/\\sqrt{T_0 (T_0 - \\sum_t t(t-1)/2)}`, :math:`T_0 = n(n-1)/2`.
    This equals R's ``cor.test(time, x, method="kendall", exact=FALSE,
    continuity=TRUE)`` (Mann 1945; Kendall 1975). Theil–Sen slope: the median of
    :math:`(x_j - x_i)/(t_j - t_i)` over all pairs *i < j* (Sen 1968), as
    ``scipy.stats.theilslopes``.

    Examples
    --------
    >>> d = pd.DataFrame({"s": "a", "year": [1, 2, 3, 4, 5], "estimate": [1, 3, 2, 5, 4]})
    >>> r = mann_kendall(d, by=["s"]).iloc[0]
    >>> float(r["s"]), round(float(r["tau"]), 2), float(r["slope"])
    (6.0, 0.6, 0.875)
    """
    by = list(by)
    d = series[[*by, time, value]].dropna(subset=[value]).reset_index(drop=True)
    sid, keys = _series_ids(d, by)
    d["_sid"] = sid
    d = d.sort_values(["_sid", time], kind="stable", ignore_index=True)
    sid = d["_sid"].to_numpy()
    n_series = len(keys)
    # every pair i < j within a series (rows sorted by series, then time), built from
    # positions instead of a self-merge; a pair counts when time_i < time_j
    size = np.bincount(sid, minlength=n_series)
    first = np.cumsum(size) - size
    after = size[sid] - 1 - (np.arange(len(d)) - first[sid])  # later rows of the series
    i = np.repeat(np.arange(len(d)), after)
    j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(after) - after, after))
    t_all, v_all = d[time].to_numpy(), d[value].to_numpy()
    keep = t_all[i] < t_all[j]
    i, j = i[keep], j[keep]
    dx = v_all[j] - v_all[i]
    dt = (t_all[j] - t_all[i]).astype(float)
    psid = sid[i]
    s = np.bincount(psid, weights=np.sign(dx), minlength=n_series)
    slope = _median_per_group(dx / dt, psid, n_series)
    n = size.astype(float)
    ties = d.groupby(["_sid", value]).size().rename("t").reset_index()
    t = ties["t"].to_numpy(dtype=float)
    tie_var = np.bincount(
        ties["_sid"].to_numpy(), weights=t * (t - 1) * (2 * t + 5), minlength=n_series
    )
    tie_pairs = np.bincount(ties["_sid"].to_numpy(), weights=t * (t - 1) / 2, minlength=n_series)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_var) / 18
    t0 = n * (n - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var_s > 0, (s - np.sign(s)) / np.sqrt(var_s), np.nan)
        tau = np.where(t0 - tie_pairs > 0, s / np.sqrt(t0 * (t0 - tie_pairs)), np.nan)
    p = 2 * norm_sf(np.abs(z))
    out = keys.to_frame(index=False)
    out.columns = by
    grp = d.groupby("_sid")[time]
    out["year_from"] = grp.min().reindex(range(n_series)).to_numpy()
    out["year_to"] = grp.max().reindex(range(n_series)).to_numpy()
    out["n_years"] = n.astype(np.int64)
    out["s"] = s
    out["var_s"] = var_s
    out["z"] = z
    out["tau"] = tau
    out["p_value"] = p
    out["slope"] = slope
    return out


def _series_ids(d: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.MultiIndex]:
    """Series number per row and the series' keys, numbered in sorted key order (as
    ``pd.factorize`` of the key tuples with ``sort=True``). Text and integer keys are
    grouped directly; others (categories, objects) through the tuples."""
    plain = all(
        isinstance(d[c].dtype, pd.StringDtype) or pd.api.types.is_integer_dtype(d[c].dtype)
        for c in by
    )
    if not plain or not len(d) or d[by].isna().any().any():
        return pd.factorize(pd.MultiIndex.from_frame(d[by]), sort=True)
    grouped = d.groupby(by, sort=True, observed=True)
    return grouped.ngroup().to_numpy(), grouped.size().index


def _median_per_group(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The median of ``values`` per group (``group``: 0 … n_groups-1, non-decreasing), NaN
    values left out and NaN for a group without values; for an even count (lower +
    upper) / 2, the bits ``pd.Series(values).groupby(group).median()`` gives
    (``tests/test_trends.py``). The groups are sorted as rows of a matrix padded with
    +inf: one sort along short rows instead of a sort of all values."""
    ok = ~np.isnan(values)
    values, group = values[ok], group[ok]
    cnt = np.bincount(group, minlength=n_groups)
    start = np.cumsum(cnt) - cnt
    out = np.full(n_groups, np.nan)
    has = cnt > 0
    if not has.any():
        return out
    c = cnt[has]
    width = int(cnt.max())
    if width * n_groups <= 4 * len(values) + 1024:
        grid = np.full((n_groups, width), np.inf)
        grid[group, np.arange(len(values)) - start[group]] = values
        grid.sort(axis=1)
        rows = np.flatnonzero(has)
        hi, lo = grid[rows, c // 2], grid[rows, (c - 1) // 2]
    else:
        v = values[np.lexsort((values, group))]
        hi, lo = v[start[has] + c // 2], v[start[has] + (c - 1) // 2]
    out[has] = np.where(c % 2 == 1, hi, (hi + lo) / 2)
    return out


def trend_tests(
    estimates: pd.DataFrame,
    *,
    breaks: pd.DataFrame | None = None,
    min_years: int = 5,
    indicators: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Mann–Kendall trend with Theil–Sen slope per series, in the latest unbroken segment.

    Parameters
    ----------
    estimates : DataFrame
        The estimates table; suppressed rows and rows without an estimate are skipped.
    breaks : DataFrame, optional
        Series breaks ``kommun, variable, year``.
    min_years : int
        Minimum number of yearly estimates in the segment (default 5); shorter series
        get no row.
    indicators : DataFrame, optional
        Indicator definitions (to map break variables to indicators).
    alpha : float
        Significance level.

    Returns
    -------
    DataFrame
        ``kommun, indicator, group_var, group, year_from, year_to, n_years, slope``
        (Theil–Sen, per year), ``tau`` (Kendall's tau-b), ``p_value`` (Mann–Kendall,
        two-sided, continuity corrected), ``significant`` (``p < alpha``), ``direction``
        ("ökande" | "minskande" | "ingen säkerställd trend").

    Notes
    -----
    See :func:`mann_kendall` for the formulas. The test treats the yearly estimates as
    the data; it ignores their sampling error, so it answers whether the published
    series moves monotonically, not whether each step is significant.

    Examples
    --------
    >>> est = pd.DataFrame({"kommun": "K", "year": range(2018, 2025), "indicator": "oro_vald",
    ...                     "group_var": "total", "group": "Hela kommunen",
    ...                     "estimate": [.20, .22, .21, .25, .27, .26, .30], "se": .02,
    ...                     "suppressed": False})
    >>> trend_tests(est)[["n_years", "direction"]].values.tolist()
    [[7, 'ökande']]
    """
    if not isinstance(min_years, (int, np.integer)) or min_years < 3:
        raise ValueError(f"min_years must be an int >= 3, got {min_years!r}")
    est = _usable(estimates)
    est["_seg"] = _segments(est, breaks, indicators)
    last = est.groupby(SERIES, sort=False)["_seg"].transform("max")
    est = est[est["_seg"] == last]
    counts = est.groupby(SERIES, sort=False)["year"].transform("size")
    est = est[counts >= min_years]
    if est.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    mk = mann_kendall(est, by=SERIES, time="year", value="estimate")
    mk["significant"] = np.where(mk["p_value"].isna(), False, mk["p_value"] < alpha)
    mk["direction"] = np.select(
        [mk["significant"] & (mk["s"] > 0), mk["significant"] & (mk["s"] < 0)],
        ["ökande", "minskande"],
        default="ingen säkerställd trend",
    )
    mk = mk.astype({"year_from": "int64", "year_to": "int64", "significant": bool})
    return mk[TREND_COLUMNS]
